//! `cargo xtask run`: a local server and the desktop app, ready to chat.

use std::path::{Path, PathBuf};
use std::process::{Child, Command};

use crate::{exec, tools};

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

/// The desktop app's folder for a `--profile` (Tauri's app data folder on Linux); `None`
/// elsewhere, where the demo users sign in by hand.
fn app_profile_dir(profile: &str) -> Option<PathBuf> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let base = std::env::var_os("XDG_DATA_HOME")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))?;
    Some(base.join("im.flint.desktop/profiles").join(profile))
}

/// Signs a demo user in on an app profile once, so the app opens straight to the chats.
fn sign_in_demo(profile: &str, username: &str, password: &str) -> Result<(), String> {
    let Some(dir) = app_profile_dir(profile) else {
        println!("Sign in as {username} / {password}");
        return Ok(());
    };
    if dir.join("last-account").exists() {
        return Ok(());
    }
    exec(
        Command::new(tools::binary("release", "flint-cli"))
            .args(["--server", SERVER, "--user", username, "--sign-in-only"])
            .arg("--data-dir")
            .arg(&dir)
            .env("FLINT_PASSWORD", password),
    )
}

/// Where `cargo xtask run` serves.
const SERVER: &str = "http://127.0.0.1:7800";

/// Builds everything, starts the server (unless `--second`) and opens the app.
pub fn run(args: &[String]) -> Result<(), String> {
    let second = args.iter().any(|a| a == "--second");
    tools::ensure_all()?;
    tools::build_ui()?;
    crate::release_build(&["-p", "flint-server", "-p", "flint-core"])?;
    let app = tools::build_desktop(true)?;
    let profile = if second { "demo-2" } else { "demo-1" };
    let (username, _, password) = DEMO_ACCOUNTS[usize::from(second)];
    if second {
        sign_in_demo(profile, username, password)?;
        println!("\nSecond Flint window: {username} (password {password})\n");
        return exec(Command::new(&app).args(["--profile", profile]));
    }
    let data_dir = data_home()?.join("server");
    std::fs::create_dir_all(&data_dir)
        .map_err(|e| format!("creating {}: {e}", data_dir.display()))?;
    let server = tools::binary("release", "flint-server");
    create_demo_accounts(&server, &data_dir)?;
    let mut server_process = start_server(&server, &data_dir)?;
    println!("\nFlint server: {SERVER} (data in {})", data_dir.display());
    wait_for_server()?;
    sign_in_demo(profile, username, password)?;
    println!(
        "Signed in as {username} ({password}). A second window as bob: cargo xtask run --second\n"
    );
    let result = exec(Command::new(&app).args(["--profile", profile]));
    let _ = server_process.kill();
    let _ = server_process.wait();
    result
}

/// Waits until the server accepts connections (at most ten seconds).
fn wait_for_server() -> Result<(), String> {
    for _ in 0..100 {
        if std::net::TcpStream::connect("127.0.0.1:7800").is_ok() {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    Err(format!("the server did not start listening on {SERVER}"))
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
