//! `cargo xtask dist` builds the Linux installers here (.deb, .rpm) with Tauri's CLI and makes
//! the .deb one Debian's `lintian` accepts; `cargo xtask verify-dist` installs that .deb,
//! starts the installed app under Xvfb, checks the sign-in screen and runs lintian.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::exec;
use crate::tools::{self, absolute, binary};

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

/// The one file with `extension` in `dir`.
pub fn only_file(dir: &Path, extension: &str) -> Result<PathBuf, String> {
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
        tools::tauri_cli()?
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

/// What Tauri's .deb leaves for Debian policy, fixed after the fact: the changelog goes to
/// the package's own doc folder (Tauri uses the product name's), the extended description is
/// wrapped, and a manual page is added. Everything else (copyright, maintainer, libc
/// dependency, stripped binary, the desktop entry's main category) comes from the bundle config.
/// Also checks the packaged binary knows it was installed from a .deb.
pub fn polish_deb(deb: &Path) -> Result<(), String> {
    let work = deb.with_extension("unpacked");
    let _ = std::fs::remove_dir_all(&work);
    exec(Command::new("dpkg-deb").arg("-R").arg(deb).arg(&work))?;
    check_bundle_type(&work.join("usr/bin/flint"), b"DEB")?;
    let docs = work.join("usr/share/doc");
    let product_docs = docs.join("Flint");
    if product_docs.join("changelog.gz").exists() {
        rename(
            &product_docs.join("changelog.gz"),
            &docs.join("flint/changelog.gz"),
        )?;
        std::fs::remove_dir(&product_docs).map_err(|e| e.to_string())?;
    }
    let man = work.join("usr/share/man/man1");
    std::fs::create_dir_all(&man).map_err(|e| e.to_string())?;
    std::fs::copy("packaging/linux/flint.1", man.join("flint.1")).map_err(|e| e.to_string())?;
    exec(Command::new("gzip").args(["-9n"]).arg(man.join("flint.1")))?;
    wrap_description(&work.join("DEBIAN/control"))?;
    exec(
        Command::new("chmod")
            .args(["-R", "go-w,a-x+X"])
            .arg(work.join("usr/share")),
    )?;
    exec(
        Command::new("sh")
            .args([
                "-c",
                "find usr -type f -print0 | sort -z | xargs -0 md5sum > DEBIAN/md5sums",
            ])
            .current_dir(&work),
    )?;
    exec(
        Command::new("dpkg-deb")
            .args(["--root-owner-group", "-Zxz", "--build"])
            .arg(&work)
            .arg(deb),
    )?;
    std::fs::remove_dir_all(&work).map_err(|e| e.to_string())
}

/// Tauri's bundler marks the binary it packages with the package format, replacing the
/// placeholder `__TAURI_BUNDLE_TYPE_VAR_UNK` (since CLI 2.10 by string search, so it works on
/// stripped binaries: tauri#14186, fixed by #14521); the updater reads it to choose
/// `linux-<arch>-deb` over the AppImage. Fails when the marker is not `kind`.
pub fn check_bundle_type(binary: &Path, kind: &[u8; 3]) -> Result<(), String> {
    let bytes = std::fs::read(binary).map_err(|e| format!("{}: {e}", binary.display()))?;
    let marker = [b"__TAURI_BUNDLE_TYPE_VAR_".as_slice(), kind].concat();
    if bytes.windows(marker.len()).any(|w| w == marker) {
        return Ok(());
    }
    Err(format!(
        "{} does not carry {}: the updater could not tell how it was installed",
        binary.display(),
        String::from_utf8_lossy(&marker)
    ))
}

fn rename(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::rename(from, to).map_err(|e| format!("{} → {}: {e}", from.display(), to.display()))
}

/// Wraps the extended description of a control file at 72 columns (Tauri writes one line).
fn wrap_description(control: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(control).map_err(|e| e.to_string())?;
    let mut out = String::new();
    for line in text.lines() {
        match line.strip_prefix(' ') {
            Some(extended) if extended.len() > 72 => out.push_str(&wrap(extended, 72)),
            _ => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    std::fs::write(control, out).map_err(|e| e.to_string())
}

/// `text` as control-file continuation lines of at most `width` characters.
fn wrap(text: &str, width: usize) -> String {
    let mut lines = vec![String::new()];
    for word in text.split_whitespace() {
        let current = lines.last_mut().map_or(0, |l| l.chars().count());
        if current > 0 && current + 1 + word.chars().count() > width {
            lines.push(String::new());
        }
        if let Some(line) = lines.last_mut() {
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    lines.iter().map(|line| format!(" {line}\n")).collect()
}

/// Installs the .deb, checks the installed app starts to its sign-in screen, runs lintian.
pub fn verify_dist() -> Result<(), String> {
    let installers = dist()?;
    exec(Command::new("dpkg").arg("-i").arg(&installers.deb)).or_else(|_| {
        // Missing dependencies leave the package half-configured; apt completes it.
        exec(Command::new("apt-get").args(["-f", "install", "-y", "-q"]))
    })?;
    exec(Command::new("dpkg").args(["-s", "flint"]))?;
    crate::release_build(&[
        "-p",
        "flint-tests",
        "--features",
        "desktop",
        "--bin",
        "flint-dist-check",
    ])?;
    exec(Command::new(binary("release", "flint-dist-check")).arg("/usr/bin/flint"))?;
    lintian(&installers.deb)
}

/// Runs lintian on a .deb: any error fails, `LINTIAN_ACCEPTED` tags are set aside.
pub fn lintian(deb: &Path) -> Result<(), String> {
    exec(
        Command::new("lintian")
            .args(["--fail-on", "error", "--info", "--suppress-tags"])
            .arg(LINTIAN_ACCEPTED.join(","))
            .arg(deb),
    )
}

/// Lintian tags accepted on purpose (informational only; errors always fail): Rust's std is not
/// built with FORTIFY_SOURCE, and the linker's `.comment` section.
const LINTIAN_ACCEPTED: &[&str] = &[
    "hardening-no-fortify-functions",
    "binary-has-unneeded-section",
];

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn the_bundle_type_marker_is_found_only_when_patched() {
        let path = std::env::temp_dir().join(format!("flint-marker-{}", std::process::id()));
        std::fs::write(&path, b"\0__TAURI_BUNDLE_TYPE_VAR_DEB\0").unwrap();
        assert!(check_bundle_type(&path, b"DEB").is_ok());
        std::fs::write(&path, b"\0__TAURI_BUNDLE_TYPE_VAR_UNK\0").unwrap();
        assert!(check_bundle_type(&path, b"DEB")
            .unwrap_err()
            .contains("VAR_DEB"));
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn long_descriptions_wrap_into_continuation_lines() {
        let wrapped = wrap("one two three four five six", 9);
        assert_eq!(wrapped, " one two\n three\n four five\n six\n");
        assert!(wrapped.lines().all(|l| l.len() <= 10 && l.starts_with(' ')));
    }
}
