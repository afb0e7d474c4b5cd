//! Gathers one build's installers from Tauri's `bundle/` folders into the folder the workflow
//! uploads, named so no two targets collide on one release, with the updater fragment.

use std::path::{Path, PathBuf};

use super::manifest::{self, Entry};
use super::target::{Installer, Target};
use super::VERSION;

/// The MSI language the updater installs (both languages ship; the `-msi` key holds one).
const UPDATE_MSI_LANGUAGE: &str = "en-US";

/// The files directly in `dir`, sorted.
pub fn files_in(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    Ok(files)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The asset name of a bundle file: Tauri names the macOS update archive `<App>.app.tar.gz`
/// on both architectures, so it gets the version and architecture the .dmg has.
pub fn shipped_name(name: &str, installer: Installer, target: &Target) -> String {
    match name.strip_suffix(Installer::App.suffix()) {
        Some(app) if installer == Installer::App => format!(
            "{app}_{VERSION}_{}{}",
            target.file_arch(),
            Installer::App.suffix()
        ),
        _ => name.to_owned(),
    }
}

/// True when a signed file of `installer` is the one `latest.json` points the updater at.
fn updates_with(name: &str, installer: Installer) -> bool {
    match installer {
        Installer::Msi => name.ends_with(&format!("_{UPDATE_MSI_LANGUAGE}.msi")),
        other => other.updatable(),
    }
}

fn copy(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| format!("{} → {}: {e}", from.display(), to.display()))
}

/// The files of `installer` the bundler wrote under `bundle`.
fn bundle_files(bundle: &Path, installer: Installer) -> Vec<PathBuf> {
    files_in(&bundle.join(installer.folder()))
        .unwrap_or_default()
        .into_iter()
        .filter(|p| file_name(p).ends_with(installer.suffix()))
        .collect()
}

/// Copies one bundle file (and its signature) into `out`; returns the copies and, for the file
/// the updater installs, its entry. A signed build must have signed every updatable file.
fn ship(
    file: &Path,
    installer: Installer,
    target: &Target,
    out: &Path,
    signed: bool,
) -> Result<(Vec<PathBuf>, Option<Entry>), String> {
    let name = shipped_name(&file_name(file), installer, target);
    copy(file, &out.join(&name))?;
    let sig = PathBuf::from(format!("{}.sig", file.display()));
    if !sig.exists() {
        if signed && installer.updatable() {
            return Err(format!("{} has no updater signature", file.display()));
        }
        return Ok((vec![out.join(&name)], None));
    }
    let shipped_sig = out.join(format!("{name}.sig"));
    copy(&sig, &shipped_sig)?;
    let entry = if updates_with(&name, installer) {
        Some(Entry {
            platform: target.updater_platform(),
            installer,
            signature: std::fs::read_to_string(&sig).map_err(|e| e.to_string())?,
            file: name.clone(),
        })
    } else {
        None
    };
    Ok((vec![out.join(&name), shipped_sig], entry))
}

/// Copies the installers (and their `.sig` files) of `installers` from `bundle` into `out`
/// and writes the updater fragment. Fails when a format produced nothing (the macOS update
/// archive exists only in `signed` builds, which must also have signed every updatable file).
pub fn collect(
    bundle: &Path,
    target: &Target,
    installers: &[Installer],
    out: &Path,
    signed: bool,
) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut shipped = Vec::new();
    let mut entries = Vec::new();
    for &installer in installers {
        let files = bundle_files(bundle, installer);
        if files.is_empty() && (installer != Installer::App || signed) {
            return Err(format!("no {} in {}", installer.suffix(), bundle.display()));
        }
        for file in files {
            let (copies, entry) = ship(&file, installer, target, out, signed)?;
            shipped.extend(copies);
            entries.extend(entry);
        }
    }
    if !entries.is_empty() {
        manifest::write_fragment(out, &target.updater_platform(), &entries)?;
    }
    Ok(shipped)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn both_macos_update_archives_get_distinct_names() {
        let intel = Target::parse("x86_64-apple-darwin").unwrap();
        let arm = Target::parse("aarch64-apple-darwin").unwrap();
        assert_eq!(
            shipped_name("Flint.app.tar.gz", Installer::App, &intel),
            format!("Flint_{VERSION}_x64.app.tar.gz")
        );
        assert_eq!(
            shipped_name("Flint.app.tar.gz", Installer::App, &arm),
            format!("Flint_{VERSION}_aarch64.app.tar.gz")
        );
        let dmg = format!("Flint_{VERSION}_aarch64.dmg");
        assert_eq!(shipped_name(&dmg, Installer::Dmg, &arm), dmg);
    }

    #[test]
    fn signed_windows_bundles_make_one_updater_entry_per_format() {
        let root = std::env::temp_dir().join(format!("flint-assets-{}", std::process::id()));
        let bundle = root.join("bundle");
        for (folder, name) in [
            ("msi", "Flint_0.1.0_x64_en-US.msi"),
            ("msi", "Flint_0.1.0_x64_zh-CN.msi"),
            ("nsis", "Flint_0.1.0_x64-setup.exe"),
        ] {
            std::fs::create_dir_all(bundle.join(folder)).unwrap();
            let path = bundle.join(folder).join(name);
            std::fs::write(&path, b"installer").unwrap();
            std::fs::write(format!("{}.sig", path.display()), name).unwrap();
        }
        let target = Target::parse("x86_64-pc-windows-msvc").unwrap();
        let out = root.join("out");
        let both = [Installer::Msi, Installer::Nsis];
        let shipped = collect(&bundle, &target, &both, &out, true).unwrap();
        assert_eq!(shipped.len(), 6, "{shipped:?}");
        let entries = manifest::read_fragments(&out).unwrap();
        let files: Vec<&str> = entries.iter().map(|e| e.file.as_str()).collect();
        assert_eq!(
            files,
            ["Flint_0.1.0_x64_en-US.msi", "Flint_0.1.0_x64-setup.exe"]
        );
        assert!(collect(&bundle, &target, &[Installer::Dmg], &out, false).is_err());
        std::fs::remove_file(bundle.join("nsis/Flint_0.1.0_x64-setup.exe.sig")).unwrap();
        let unsigned = collect(&bundle, &target, &both, &out, true).unwrap_err();
        assert!(unsigned.contains("no updater signature"), "{unsigned}");
        std::fs::remove_dir_all(&root).unwrap();
    }
}
