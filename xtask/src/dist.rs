//! `cargo xtask dist` builds the Linux installers here (.deb, .rpm) with Tauri's CLI and makes
//! the .deb one Debian's `lintian` accepts; `cargo xtask verify-dist` installs that .deb,
//! starts the installed app under Xvfb, checks the sign-in screen and runs lintian.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::tools::{self, absolute, binary};
use crate::{cargo, exec};

/// System packages the checks use.
const APT_DIST: &[&str] = &["lintian", "rpm", "xvfb", "webkit2gtk-driver"];

/// The installers of this build: (format, path).
pub struct Installers {
    /// The Debian package.
    pub deb: PathBuf,
    /// The RPM package.
    pub rpm: PathBuf,
}

fn bundle_dir(format: &str) -> PathBuf {
    binary("release", "bundle").join(format)
}

fn only_file(dir: &Path, extension: &str) -> Result<PathBuf, String> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|e| e == extension))
        .collect();
    match found.len() {
        1 => Ok(found.remove(0)),
        n => Err(format!(
            "expected one .{extension} in {}, found {n}",
            dir.display()
        )),
    }
}

/// Builds the .deb and .rpm, polishes the .deb and prints both sizes.
pub fn dist() -> Result<Installers, String> {
    tools::ensure_all()?;
    tools::apt_install(APT_DIST)?;
    tools::build_ui()?;
    for format in ["deb", "rpm"] {
        let _ = std::fs::remove_dir_all(bundle_dir(format));
    }
    exec(
        Command::new(tools::tauri_cli()?)
            .args(["build", "--ci", "--bundles", "deb,rpm"])
            .env("CARGO_TARGET_DIR", absolute(&tools::target_dir())),
    )?;
    let installers = Installers {
        deb: only_file(&bundle_dir("deb"), "deb")?,
        rpm: only_file(&bundle_dir("rpm"), "rpm")?,
    };
    polish_deb(&installers.deb)?;
    for path in [&installers.deb, &installers.rpm] {
        let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        println!(
            "installer: {} {:.1} MiB",
            path.display(),
            bytes as f64 / (1024.0 * 1024.0)
        );
    }
    Ok(installers)
}

/// What Tauri's .deb leaves for Debian policy: the changelog under the name lintian expects,
/// and documentation files that must not be executable. Everything else (copyright,
/// maintainer, libc dependency, stripped binary, the desktop entry's main category) comes from
/// the bundle config.
fn polish_deb(deb: &Path) -> Result<(), String> {
    let work = deb.with_extension("unpacked");
    let _ = std::fs::remove_dir_all(&work);
    exec(Command::new("dpkg-deb").arg("-R").arg(deb).arg(&work))?;
    let doc = work.join("usr/share/doc/flint");
    let tauri_changelog = doc.join("changelog.gz");
    if tauri_changelog.exists() {
        std::fs::rename(&tauri_changelog, doc.join("changelog.Debian.gz"))
            .map_err(|e| e.to_string())?;
    }
    exec(
        Command::new("chmod")
            .args(["-R", "go-w,a-x+X"])
            .arg(work.join("usr/share")),
    )?;
    exec(
        Command::new("dpkg-deb")
            .args(["--root-owner-group", "-Zxz", "--build"])
            .arg(&work)
            .arg(deb),
    )?;
    std::fs::remove_dir_all(&work).map_err(|e| e.to_string())
}

/// Installs the .deb, checks the installed app starts to its sign-in screen, runs lintian.
pub fn verify_dist() -> Result<(), String> {
    let installers = dist()?;
    exec(Command::new("dpkg").arg("-i").arg(&installers.deb)).or_else(|_| {
        // Missing dependencies leave the package half-configured; apt completes it.
        exec(Command::new("apt-get").args(["-f", "install", "-y", "-q"]))
    })?;
    exec(Command::new("dpkg").args(["-s", "flint"]))?;
    exec(&mut cargo(&[
        "build",
        "--release",
        "--locked",
        "-p",
        "flint-tests",
        "--features",
        "desktop",
        "--bin",
        "flint-dist-check",
    ]))?;
    exec(Command::new(binary("release", "flint-dist-check")).arg("/usr/bin/flint"))?;
    exec(
        Command::new("lintian")
            .args(["--fail-on", "error", "--info", "--suppress-tags"])
            .arg(LINTIAN_ACCEPTED.join(","))
            .arg(&installers.deb),
    )
}

/// Lintian tags accepted on purpose, each a warning at most (errors always fail):
/// a GUI app without a man page, and Tauri's generated file layout that cannot be changed from
/// the bundle config.
const LINTIAN_ACCEPTED: &[&str] = &["no-manual-page"];
