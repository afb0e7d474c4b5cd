//! Flint's developer tasks, run as `cargo xtask <task>`:
//!
//! - `run [--second]` — install what is missing, build, start a local `flint-server` (SQLite in
//!   the user's data folder, two demo accounts on first run) and open the desktop app;
//!   `--second` opens another app instance against the running server.
//! - `test`  — formatting, clippy (workspace and ui/), every test of the workspace, actionlint on the workflows,
//!   then the UI suites in the real app under Xvfb (what CI runs).
//! - `bench [which]` — the benchmark figures recorded in `docs/BENCHMARKS.md`; `desktop` runs
//!   the desktop app's figures beside a bare Tauri window.

mod run;
mod tools;

use std::process::{Command, ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => run::run(&args[1..]),
        Some("test") => test(),
        Some("bench") => bench(&args[1..]),
        _ => {
            eprintln!(
                "usage: cargo xtask <run [--second]|test|bench [latency|throughput|ingest|idle|desktop]>"
            );
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
    exec(&mut cargo(&[
        "fmt",
        "--manifest-path",
        "ui/Cargo.toml",
        "--check",
    ]))?;
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

/// The desktop figures: release builds of the app, a bare Tauri window and the bench driver.
fn bench_desktop() -> Result<(), String> {
    tools::ensure_all()?;
    tools::build_ui()?;
    exec(&mut cargo(&[
        "build",
        "--release",
        "--locked",
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
    ]))?;
    exec(
        Command::new(tools::binary("release", "flint-desktop-bench"))
            .env("FLINT_DESKTOP_BIN", tools::binary("release", "flint"))
            .env(
                "FLINT_BARE_WINDOW_BIN",
                tools::binary("release", "flint-bare-window"),
            ),
    )
}

fn bench(args: &[String]) -> Result<(), String> {
    if args.first().map(String::as_str) == Some("desktop") {
        return bench_desktop();
    }
    // The bench starts `flint-server-process` from beside its own binary.
    exec(&mut cargo(&[
        "build",
        "--release",
        "--locked",
        "-p",
        "flint-tests",
        "--bins",
    ]))?;
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
