//! Generates Tauri's context (config, capabilities, the command permission manifest).

fn main() {
    // The manifest wants 'static names; a build script may leak them.
    let list: &'static str = include_str!("commands.txt");
    let commands: &'static [&'static str] = Vec::leak(
        list.lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .collect(),
    );
    let manifest = tauri_build::AppManifest::new().commands(commands);
    if let Err(error) =
        tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest))
    {
        panic!("tauri build step failed: {error}");
    }
}
