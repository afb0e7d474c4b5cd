//! UI suites in the real desktop app: the built `flint` binary under Xvfb, driven through
//! `tauri-driver` + `WebKitWebDriver`, against a real `flint-server` on loopback.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod calls;
mod chat;
mod files;
mod hardening;
mod notify;
mod stickers;
mod voice;
mod window;
