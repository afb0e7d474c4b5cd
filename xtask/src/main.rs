//! Flint's developer tasks, run as `cargo xtask <task>` (`USAGE` lists them). `test` is what
//! CI runs: formatting, clippy (workspace and ui/), every workspace test, the UI's native unit
//! tests, actionlint and zizmor on the workflows, then the UI suites in the real app under
//! Xvfb. Every task installs the tools it needs first (Debian packages as root or through
//! `sudo -n`, cargo, npm and PyPI tools at pinned versions).

mod dist;
mod fuzz;
mod release;
mod run;
mod tools;

use std::process::{Command, ExitCode};

const USAGE: &str = "  run [--second]     local server + demo accounts + the app (a second window)
  test               everything CI runs
  bench [which]      latency|throughput|ingest|idle|files|desktop [photos] (default: the server's four)
  fuzz [secs] [name] the libFuzzer targets (or one), each for [secs] (default 300)
  build-ui           the UI into ui/dist
  icons              every platform icon from icons/flint.png
  dist               the .deb and .rpm here, with their sizes
  verify-dist        dist, then install the .deb, start it, run lintian
  release-plan       (release workflow) the version, tag and whether this run publishes
  release-build      (release workflow, CI) --target T --bundles B: one target's installers
  release-publish    (release workflow) --dir D: every file and latest.json on the draft";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => run::run(&args[1..]),
        Some("test") => test(),
        Some("bench") => bench(&args[1..]),
        Some("fuzz") => fuzz::fuzz(&args[1..]),
        Some("build-ui") => tools::build_ui(),
        Some("icons") => icons(),
        Some("dist") => dist::dist().map(|_| ()),
        Some("verify-dist") => dist::verify_dist(),
        Some("release-plan") => release::plan(),
        Some("release-build") => release::build(&args[1..]),
        Some("release-publish") => release::publish(&args[1..]),
        _ => {
            eprintln!("usage: cargo xtask <task>\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Runs a command to completion, failing with a message naming it.
pub fn exec(command: &mut Command) -> Result<(), String> {
    println!("+ {command:?}");
    let status = command
        .status()
        .map_err(|e| format!("cannot start {:?}: {e}", command.get_program()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{command:?} failed ({status})"))
    }
}

/// `cargo build --release --locked` with `args`.
pub fn release_build(args: &[&str]) -> Result<(), String> {
    let mut all = vec!["build", "--release", "--locked"];
    all.extend_from_slice(args);
    exec(&mut cargo(&all))
}

/// `cargo` with `args`.
pub fn cargo(args: &[&str]) -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.args(args);
    command
}

fn test() -> Result<(), String> {
    tools::ensure_all()?;
    tools::build_ui()?;
    exec(&mut cargo(&["fmt", "--all", "--check"]))?;
    for manifest in ["ui/Cargo.toml", "fuzz/Cargo.toml"] {
        exec(&mut cargo(&["fmt", "--manifest-path", manifest, "--check"]))?;
    }
    exec(&mut cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--all-features",
        "--locked",
        "--",
        "-D",
        "warnings",
    ]))?;
    tools::clippy_ui()?;
    exec(&mut cargo(&["test", "--workspace", "--locked"]))?;
    exec(&mut cargo(&[
        "test",
        "--locked",
        "-p",
        "flint-tests",
        "--features",
        "browser",
        "--test",
        "browser",
    ]))?;
    tools::test_ui()?;
    tools::lint_workflows()?;
    let app = tools::build_desktop(false)?;
    exec(
        cargo(&[
            "test",
            "--locked",
            "-p",
            "flint-tests",
            "--features",
            "desktop",
            "--test",
            "desktop",
        ])
        .env("FLINT_DESKTOP_BIN", &app),
    )
}

/// Regenerates `src-tauri/icons` from the one source image (mobile icons are not kept).
fn icons() -> Result<(), String> {
    exec(tools::tauri_cli()?.args(["icon", "icons/flint.png", "-o", "src-tauri/icons"]))?;
    for mobile in ["src-tauri/icons/android", "src-tauri/icons/ios"] {
        let _ = std::fs::remove_dir_all(mobile);
    }
    Ok(())
}

/// The desktop figures: release builds of the app, a bare Tauri window and the bench driver
/// (`args` go to the driver: `photos` for the picture chat's figure).
fn bench_desktop(args: &[String]) -> Result<(), String> {
    tools::ensure_all()?;
    tools::build_ui()?;
    release_build(&[
        "-p",
        "flint-desktop",
        "-p",
        "flint-bare-window",
        "-p",
        "flint-tests",
        "--features",
        "flint-desktop/custom-protocol,flint-bare-window/custom-protocol,flint-tests/desktop",
        "--bin",
        "flint",
        "--bin",
        "flint-bare-window",
        "--bin",
        "flint-desktop-bench",
    ])?;
    exec(
        Command::new(tools::binary("release", "flint-desktop-bench"))
            .args(args)
            .env("FLINT_DESKTOP_BIN", tools::binary("release", "flint"))
            .env(
                "FLINT_BARE_WINDOW_BIN",
                tools::binary("release", "flint-bare-window"),
            ),
    )
}

fn bench(args: &[String]) -> Result<(), String> {
    if args.first().map(String::as_str) == Some("desktop") {
        return bench_desktop(&args[1..]);
    }
    // The bench starts `flint-server-process` from beside its own binary.
    release_build(&["-p", "flint-tests", "--bins"])?;
    let mut all = vec![
        "run",
        "--release",
        "--locked",
        "-p",
        "flint-tests",
        "--bin",
        "flint-bench",
        "--",
    ];
    all.extend(args.iter().map(String::as_str));
    exec(&mut cargo(&all))
}
