//! `cargo xtask run`: a local server and the desktop app, ready to chat.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};

use crate::{cargo, exec, tools};

/// The demo accounts: (username, display name, password).
const DEMO_ACCOUNTS: [(&str, &str, &str); 2] = [
    ("alice", "Alice 爱丽丝", "flint-demo-alice"),
    ("bob", "Bob 鲍勃", "flint-demo-bob"),
];

/// The folder for local data: `$XDG_DATA_HOME/flint` or `~/.local/share/flint`.
fn data_home() -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("XDG_DATA_HOME").filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir).join("flint"));
    }
    let home = std::env::var_os("HOME").ok_or("HOME is not set")?;
    Ok(PathBuf::from(home).join(".local/share/flint"))
}

fn release_binary(name: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("target"));
    tools::absolute(
        &target
            .join("release")
            .join(format!("{name}{}", std::env::consts::EXE_SUFFIX)),
    )
}

/// Builds everything, starts the server (unless `--second`) and opens the app.
pub fn run(args: &[String]) -> Result<(), String> {
    let second = args.iter().any(|a| a == "--second");
    tools::ensure_all()?;
    tools::build_ui()?;
    exec(&mut cargo(&[
        "build",
        "--release",
        "--locked",
        "-p",
        "flint-server",
        "-p",
        "flint-core",
    ]))?;
    let app = tools::build_desktop(true)?;
    let profile = if second { "demo-2" } else { "demo-1" };
    let (username, _, password) = DEMO_ACCOUNTS[usize::from(second)];
    if second {
        println!("\nSecond Flint window: sign in as {username} / {password}\n");
        return exec(Command::new(&app).args(["--profile", profile]));
    }
    let data_dir = data_home()?.join("server");
    std::fs::create_dir_all(&data_dir)
        .map_err(|e| format!("creating {}: {e}", data_dir.display()))?;
    let server = release_binary("flint-server");
    create_demo_accounts(&server, &data_dir)?;
    let mut server_process = start_server(&server, &data_dir)?;
    println!(
        "\nFlint server: http://127.0.0.1:7800 (data in {})",
        data_dir.display()
    );
    println!("Sign in as {username} / {password}. For a second window: cargo xtask run --second");
    println!("(bob's password is {})\n", DEMO_ACCOUNTS[1].2);
    let result = exec(Command::new(&app).args(["--profile", profile]));
    let _ = server_process.kill();
    let _ = server_process.wait();
    result
}

fn start_server(server: &Path, data_dir: &Path) -> Result<Child, String> {
    Command::new(server)
        .arg("--data-dir")
        .arg(data_dir)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", server.display()))
}

/// Creates the demo accounts once per data folder.
fn create_demo_accounts(server: &Path, data_dir: &Path) -> Result<(), String> {
    let marker = data_dir.join(".demo-accounts");
    if marker.exists() {
        return Ok(());
    }
    for (username, display_name, password) in DEMO_ACCOUNTS {
        exec(
            Command::new(server)
                .arg("--data-dir")
                .arg(data_dir)
                .args([
                    "admin",
                    "create-user",
                    username,
                    "--display-name",
                    display_name,
                ])
                .env("FLINT_PASSWORD", password),
        )?;
    }
    std::fs::write(&marker, "created\n").map_err(|e| format!("writing {}: {e}", marker.display()))
}
