//! An empty Tauri 2 window with the same window size and CSP as Flint, and nothing else: the
//! baseline for cold start and memory in `flint-desktop-bench`.

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    if let Err(error) = tauri::Builder::default().run(tauri::generate_context!()) {
        eprintln!("flint-bare-window: {error}");
        std::process::exit(1);
    }
}
