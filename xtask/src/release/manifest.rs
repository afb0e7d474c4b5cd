//! The updater's `latest.json`, assembled once from every build's signed installers (each
//! build job leaves a fragment, `updater-<platform>.json`, beside its files).
//!
//! Format (tauri-docs `plugin/updater.mdx`, "Static JSON File"): `version`, `notes` and
//! `platforms`, each platform with `url` and `signature` (the `.sig` file's content); every
//! entry must be complete or the updater rejects the file. tauri-plugin-updater looks up
//! `{os}-{arch}-{installer}` first, then `{os}-{arch}` (`updater.rs`, `get_urls`), so both are
//! written; the bare key takes the format `Installer::ALL` ranks first.

use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use super::target::Installer;

/// How a build's fragment file is named: `updater-<platform>.json`.
const FRAGMENT_PREFIX: &str = "updater-";

/// One signed installer the updater can fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// `{os}-{arch}`, e.g. `windows-aarch64`.
    pub platform: String,
    /// Its format.
    pub installer: Installer,
    /// The release asset's file name.
    pub file: String,
    /// The content of its `.sig` file.
    pub signature: String,
}

impl Entry {
    fn to_json(&self) -> Value {
        json!({
            "platform": self.platform,
            "installer": self.installer.name(),
            "file": self.file,
            "signature": self.signature,
        })
    }

    fn from_json(value: &Value) -> Result<Entry, String> {
        let field = |name: &str| {
            value[name]
                .as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("updater fragment entry without {name}: {value}"))
        };
        let installer = Installer::parse_list(&field("installer")?)?;
        Ok(Entry {
            platform: field("platform")?,
            installer: *installer
                .first()
                .ok_or("updater fragment entry without installer")?,
            file: field("file")?,
            signature: field("signature")?,
        })
    }
}

/// True for a build's fragment (it is read, not uploaded).
pub fn is_fragment(path: &Path) -> bool {
    path.file_name()
        .and_then(|name| name.to_str())
        .is_some_and(|name| name.starts_with(FRAGMENT_PREFIX) && name.ends_with(".json"))
}

/// Writes one build's entries beside its files.
pub fn write_fragment(dir: &Path, platform: &str, entries: &[Entry]) -> Result<PathBuf, String> {
    let path = dir.join(format!("{FRAGMENT_PREFIX}{platform}.json"));
    let list: Vec<Value> = entries.iter().map(Entry::to_json).collect();
    std::fs::write(&path, Value::Array(list).to_string())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}

/// Reads every fragment in `dir`.
pub fn read_fragments(dir: &Path) -> Result<Vec<Entry>, String> {
    let mut entries = Vec::new();
    for path in super::assets::files_in(dir)?
        .into_iter()
        .filter(|p| is_fragment(p))
    {
        let text =
            std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let list: Value =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        for value in list.as_array().map(Vec::as_slice).unwrap_or_default() {
            entries.push(Entry::from_json(value)?);
        }
    }
    Ok(entries)
}

/// `latest.json` for `version`, its files downloaded from `download_base` (the release's
/// `…/releases/download/<tag>` address).
pub fn latest_json(version: &str, download_base: &str, entries: &[Entry]) -> Result<Value, String> {
    let mut platforms = Map::new();
    let platform_entry = |entry: &Entry| {
        json!({
            "signature": entry.signature.trim(),
            "url": format!("{download_base}/{}", entry.file),
        })
    };
    for entry in entries {
        let key = format!("{}-{}", entry.platform, entry.installer.name());
        if platforms
            .insert(key.clone(), platform_entry(entry))
            .is_some()
        {
            return Err(format!("two updater files for {key}"));
        }
    }
    for installer in Installer::ALL.iter().rev() {
        for entry in entries.iter().filter(|e| e.installer == *installer) {
            platforms.insert(entry.platform.clone(), platform_entry(entry));
        }
    }
    Ok(json!({
        "version": version,
        "notes": format!("Flint {version}"),
        "platforms": platforms,
    }))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn entry(platform: &str, installer: Installer, file: &str) -> Entry {
        Entry {
            platform: platform.into(),
            installer,
            file: file.into(),
            signature: format!("sig of {file}\n"),
        }
    }

    fn every_platform() -> Vec<Entry> {
        vec![
            entry("linux-x86_64", Installer::Deb, "Flint_0.1.0_amd64.deb"),
            entry(
                "linux-x86_64",
                Installer::AppImage,
                "Flint_0.1.0_amd64.AppImage",
            ),
            entry("linux-x86_64", Installer::Rpm, "Flint-0.1.0-1.x86_64.rpm"),
            entry(
                "windows-aarch64",
                Installer::Msi,
                "Flint_0.1.0_arm64_en-US.msi",
            ),
            entry(
                "windows-aarch64",
                Installer::Nsis,
                "Flint_0.1.0_arm64-setup.exe",
            ),
            entry(
                "darwin-aarch64",
                Installer::App,
                "Flint_0.1.0_aarch64.app.tar.gz",
            ),
        ]
    }

    #[test]
    fn every_installer_gets_its_own_key_and_each_platform_a_fallback() {
        let base = "https://github.com/acme/flint/releases/download/v0.1.0";
        let json = latest_json("0.1.0", base, &every_platform()).unwrap();
        let platforms = json["platforms"].as_object().unwrap();
        assert_eq!(json["version"], "0.1.0");
        assert_eq!(
            platforms["linux-x86_64-deb"]["url"],
            format!("{base}/Flint_0.1.0_amd64.deb")
        );
        assert_eq!(
            platforms["linux-x86_64-rpm"]["signature"],
            "sig of Flint-0.1.0-1.x86_64.rpm"
        );
        assert_eq!(
            platforms["linux-x86_64"]["url"],
            format!("{base}/Flint_0.1.0_amd64.AppImage")
        );
        assert_eq!(
            platforms["windows-aarch64"]["url"],
            format!("{base}/Flint_0.1.0_arm64-setup.exe")
        );
        assert!(platforms.contains_key("windows-aarch64-msi"));
        assert!(platforms.contains_key("darwin-aarch64-app"));
        assert!(platforms.contains_key("darwin-aarch64"));
        assert_eq!(platforms.len(), 9);
    }

    #[test]
    fn two_files_for_one_key_are_refused() {
        let mut entries = every_platform();
        entries.push(entry("linux-x86_64", Installer::Deb, "other.deb"));
        assert!(latest_json("0.1.0", "b", &entries)
            .unwrap_err()
            .contains("linux-x86_64-deb"));
    }

    #[test]
    fn fragments_round_trip_through_their_files() {
        let dir = std::env::temp_dir().join(format!("flint-fragments-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let entries = every_platform();
        let path = write_fragment(&dir, "linux-x86_64", &entries).unwrap();
        assert!(is_fragment(&path));
        assert_eq!(read_fragments(&dir).unwrap(), entries);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
