//! Tauri commands: each is one call into `flint-core`. The list of names lives in
//! `commands.txt`, which feeds the permission manifest (build.rs) and the capability file;
//! a test checks that `generate_handler!` names the same commands.

pub mod calls;
pub mod chat;
pub mod files;
pub mod session;
pub mod stickers;
pub mod voice;
