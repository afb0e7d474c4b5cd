//! `flint-server admin …` and configuration errors, run as the real binary.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

fn server() -> Command {
    Command::new(env!("CARGO_BIN_EXE_flint-server"))
}

#[test]
fn admin_creates_lists_and_resets_users() {
    let data = tempfile::tempdir().unwrap();
    let dir = data.path().to_str().unwrap();
    let created = server()
        .args([
            "--data-dir",
            dir,
            "admin",
            "create-user",
            "wang",
            "--display-name",
            "王芳",
        ])
        .env("FLINT_PASSWORD", "first password")
        .output()
        .unwrap();
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );

    let listed = server()
        .args(["--data-dir", dir, "admin", "list-users"])
        .output()
        .unwrap();
    let listing = String::from_utf8(listed.stdout).unwrap();
    assert!(listing.contains("wang\t王芳"), "{listing}");

    let short = server()
        .args(["--data-dir", dir, "admin", "reset-password", "wang"])
        .env("FLINT_PASSWORD", "short")
        .output()
        .unwrap();
    assert!(!short.status.success(), "a too-short password is refused");
    let missing = server()
        .args(["--data-dir", dir, "admin", "reset-password", "nobody"])
        .env("FLINT_PASSWORD", "second password")
        .output()
        .unwrap();
    assert!(!missing.status.success(), "an unknown user is reported");
}

#[test]
fn unknown_configuration_keys_stop_the_server() {
    let data = tempfile::tempdir().unwrap();
    let config = data.path().join("flint.toml");
    std::fs::write(&config, "lisen = \"127.0.0.1:1\"\n").unwrap();
    let output = server()
        .args(["--config", config.to_str().unwrap(), "--data-dir"])
        .arg(data.path())
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("invalid configuration"));
}
