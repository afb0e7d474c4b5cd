//! `flint-dist-check /usr/bin/flint`: starts an installed Flint under Xvfb with a fresh profile
//! and checks over WebDriver that the sign-in screen appears (used by `cargo xtask verify-dist`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use flint_tests::desktop::{screenshot_dir, App};
use tempfile::TempDir;

#[tokio::main]
async fn main() {
    let binary = PathBuf::from(
        std::env::args()
            .nth(1)
            .expect("usage: flint-dist-check <path to the installed flint>"),
    );
    let app = App::launch_binary(&binary, TempDir::new().unwrap(), &[]).await;
    for field in ["#server", "#username", "#password", "#submit"] {
        app.find(field).await;
    }
    app.screenshot("installed-sign-in").await;
    app.close().await;
    println!(
        "dist check: {} starts to the sign-in screen (screenshot: {}/installed-sign-in.png)",
        binary.display(),
        screenshot_dir().display()
    );
}
