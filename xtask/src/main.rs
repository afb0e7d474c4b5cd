//! Flint's developer tasks, run as `cargo xtask <task>`:
//!
//! - `run`   — build and start a local `flint-server` (SQLite in the user's data folder) with
//!   two demo accounts created on first run.
//! - `test`  — formatting, clippy, and every test of the workspace (what CI runs).
//! - `bench` — the benchmark figures recorded in `docs/BENCHMARKS.md`.

use std::path::PathBuf;
use std::process::{Command, ExitCode};

/// The demo accounts `run` creates: (username, display name, password).
const DEMO_ACCOUNTS: [(&str, &str, &str); 2] = [
    ("alice", "Alice 爱丽丝", "flint-demo-alice"),
    ("bob", "Bob 鲍勃", "flint-demo-bob"),
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => run(&args[1..]),
        Some("test") => test(),
        Some("bench") => bench(&args[1..]),
        _ => {
            eprintln!("usage: cargo xtask <run|test|bench> [args]");
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

/// Runs `cargo` with `args`, failing with a message naming the step.
fn cargo(args: &[&str]) -> Result<(), String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    println!("+ cargo {}", args.join(" "));
    let status = Command::new(cargo)
        .args(args)
        .status()
        .map_err(|e| format!("cannot start cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`cargo {}` failed ({status})", args.join(" ")))
    }
}

fn test() -> Result<(), String> {
    cargo(&["fmt", "--all", "--check"])?;
    cargo(&[
        "clippy",
        "--workspace",
        "--all-targets",
        "--locked",
        "--",
        "-D",
        "warnings",
    ])?;
    cargo(&["test", "--workspace", "--locked"])
}

fn bench(args: &[String]) -> Result<(), String> {
    // The bench starts `flint-server-process` from beside its own binary.
    cargo(&[
        "build",
        "--release",
        "--locked",
        "-p",
        "flint-tests",
        "--bins",
    ])?;
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
    cargo(&all)
}

/// The folder for the local server's data: `$XDG_DATA_HOME/flint` or `~/.local/share/flint`.
fn data_home() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir).join("flint"));
    }
    let home = std::env::var_os("HOME").ok_or("HOME is not set")?;
    Ok(PathBuf::from(home).join(".local/share/flint"))
}

fn server_binary() -> Result<PathBuf, String> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target"));
    Ok(target
        .join("release")
        .join(format!("flint-server{}", std::env::consts::EXE_SUFFIX)))
}

fn run(args: &[String]) -> Result<(), String> {
    cargo(&[
        "build",
        "--release",
        "--locked",
        "-p",
        "flint-server",
        "-p",
        "flint-core",
    ])?;
    let data_dir = data_home()?.join("server");
    std::fs::create_dir_all(&data_dir)
        .map_err(|e| format!("creating {}: {e}", data_dir.display()))?;
    let server = server_binary()?;
    create_demo_accounts(&server, &data_dir)?;
    println!(
        "\nFlint server: http://127.0.0.1:7800  (data in {})",
        data_dir.display()
    );
    println!("Chat from two terminals:");
    for (username, _, password) in DEMO_ACCOUNTS {
        println!("  FLINT_PASSWORD={password} target/release/flint-cli --user {username}");
    }
    println!();
    let status = Command::new(&server)
        .arg("--data-dir")
        .arg(&data_dir)
        .args(args)
        .status()
        .map_err(|e| format!("cannot start {}: {e}", server.display()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("flint-server exited with {status}"))
    }
}

/// Creates the demo accounts once per data folder.
fn create_demo_accounts(server: &PathBuf, data_dir: &PathBuf) -> Result<(), String> {
    let marker = data_dir.join(".demo-accounts");
    if marker.exists() {
        return Ok(());
    }
    for (username, display_name, password) in DEMO_ACCOUNTS {
        let status = Command::new(server)
            .arg("--data-dir")
            .arg(data_dir)
            .args([
                "admin",
                "create-user",
                username,
                "--display-name",
                display_name,
            ])
            .env("FLINT_PASSWORD", password)
            .status()
            .map_err(|e| format!("cannot run {}: {e}", server.display()))?;
        if !status.success() {
            return Err(format!("creating demo account {username} failed"));
        }
    }
    std::fs::write(&marker, "created\n").map_err(|e| format!("writing {}: {e}", marker.display()))
}
