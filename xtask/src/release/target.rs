//! What a release build is for: the Rust target triple (its OS and architecture as the Tauri
//! updater names them) and the installer formats Tauri's bundler makes.

/// An operating system the release ships for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Os {
    /// Linux (AppImage, .deb, .rpm).
    Linux,
    /// Windows (.msi, NSIS .exe).
    Windows,
    /// macOS (.app, .dmg).
    Darwin,
}

/// A Rust target triple the release builds, e.g. `aarch64-apple-darwin`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    triple: String,
    os: Os,
}

impl Target {
    /// Parses a triple of one of the three desktop systems.
    pub fn parse(triple: &str) -> Result<Target, String> {
        let os = if triple.contains("-linux-") {
            Os::Linux
        } else if triple.contains("-windows-") {
            Os::Windows
        } else if triple.ends_with("-apple-darwin") {
            Os::Darwin
        } else {
            return Err(format!("{triple}: not a Linux, Windows or macOS target"));
        };
        Ok(Target {
            triple: triple.to_owned(),
            os,
        })
    }

    /// The triple itself.
    pub fn triple(&self) -> &str {
        &self.triple
    }

    /// The operating system.
    pub fn os(&self) -> Os {
        self.os
    }

    /// The CPU architecture as Rust and the updater name it (`x86_64`, `aarch64`).
    pub fn arch(&self) -> &str {
        self.triple.split('-').next().unwrap_or_default()
    }

    /// The updater's platform key, `{os}-{arch}` (`linux-x86_64`, `darwin-aarch64`): the names
    /// tauri-plugin-updater looks up (`updater.rs`, `get_urls`).
    pub fn updater_platform(&self) -> String {
        let os = match self.os {
            Os::Linux => "linux",
            Os::Windows => "windows",
            Os::Darwin => "darwin",
        };
        format!("{os}-{}", self.arch())
    }

    /// The architecture as Tauri writes it in macOS and Windows file names (`x64`, `aarch64`).
    pub fn file_arch(&self) -> &str {
        match self.arch() {
            "x86_64" => "x64",
            other => other,
        }
    }
}

/// An installer format of Tauri's bundler (the `--bundles` names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Installer {
    /// Linux AppImage.
    AppImage,
    /// Debian package.
    Deb,
    /// RPM package.
    Rpm,
    /// Windows Installer package (one per WiX language).
    Msi,
    /// NSIS setup program.
    Nsis,
    /// macOS application bundle (shipped inside the .dmg; its `.app.tar.gz` is the update).
    App,
    /// macOS disk image.
    Dmg,
}

impl Installer {
    /// Every format, in the order the bare `{os}-{arch}` updater key prefers them: an install
    /// whose format the app cannot tell falls back to that key. Windows prefers NSIS (it
    /// installs per user, without an elevation prompt).
    pub const ALL: [Installer; 7] = [
        Installer::AppImage,
        Installer::Nsis,
        Installer::App,
        Installer::Msi,
        Installer::Deb,
        Installer::Rpm,
        Installer::Dmg,
    ];

    /// The bundler's name for the format (`--bundles`, and the updater's installer suffix).
    pub fn name(self) -> &'static str {
        match self {
            Installer::AppImage => "appimage",
            Installer::Deb => "deb",
            Installer::Rpm => "rpm",
            Installer::Msi => "msi",
            Installer::Nsis => "nsis",
            Installer::App => "app",
            Installer::Dmg => "dmg",
        }
    }

    /// The format the bundler calls `name`.
    pub fn from_name(name: &str) -> Result<Installer, String> {
        Installer::ALL
            .into_iter()
            .find(|installer| installer.name() == name)
            .ok_or_else(|| format!("unknown bundle format {name:?}"))
    }

    /// Parses a `--bundles` list such as `appimage,deb,rpm`.
    pub fn parse_list(list: &str) -> Result<Vec<Installer>, String> {
        list.split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .map(Installer::from_name)
            .collect()
    }

    /// The folder under `bundle/` the bundler writes it to.
    pub fn folder(self) -> &'static str {
        match self {
            Installer::App => "macos",
            other => other.name(),
        }
    }

    /// How the shipped file's name ends.
    pub fn suffix(self) -> &'static str {
        match self {
            Installer::AppImage => ".AppImage",
            Installer::Deb => ".deb",
            Installer::Rpm => ".rpm",
            Installer::Msi => ".msi",
            Installer::Nsis => "-setup.exe",
            Installer::App => ".app.tar.gz",
            Installer::Dmg => ".dmg",
        }
    }

    /// True for a format the updater can install (a `.dmg` is only for first installs).
    pub fn updatable(self) -> bool {
        self != Installer::Dmg
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn triples_map_to_the_updaters_platform_keys() {
        let cases = [
            ("x86_64-unknown-linux-gnu", "linux-x86_64", "x64"),
            ("aarch64-unknown-linux-gnu", "linux-aarch64", "aarch64"),
            ("x86_64-pc-windows-msvc", "windows-x86_64", "x64"),
            ("aarch64-pc-windows-msvc", "windows-aarch64", "aarch64"),
            ("x86_64-apple-darwin", "darwin-x86_64", "x64"),
            ("aarch64-apple-darwin", "darwin-aarch64", "aarch64"),
        ];
        for (triple, platform, file_arch) in cases {
            let target = Target::parse(triple).unwrap();
            assert_eq!(target.updater_platform(), platform);
            assert_eq!(target.file_arch(), file_arch);
        }
        assert!(Target::parse("wasm32-unknown-unknown").is_err());
    }

    #[test]
    fn bundle_lists_parse_and_unknown_formats_are_refused() {
        assert_eq!(
            Installer::parse_list("appimage,deb, rpm").unwrap(),
            [Installer::AppImage, Installer::Deb, Installer::Rpm]
        );
        assert!(Installer::parse_list("msi,zip")
            .unwrap_err()
            .contains("zip"));
    }
}
