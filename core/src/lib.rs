//! Flint's client engine, shared by every front end (desktop app, CLI, bots, tests).
//!
//! A [`Client`] owns one WebSocket to the server and one SQLite database per account. Its
//! methods read snapshots from the database or queue intents; everything that changes is
//! announced on one stream of [`flint_proto::ipc::Event`]s. No Tauri, no UI.
//!
//! Layers: `rules` (pure decisions, no I/O) and `store` (SQL only) ← `sync`/`outbox` (carry
//! the rules out) ← `engine` (session loop over a `link`) ← [`Client`] (public API).
//! Around them: `http` (REST), `tls`, `secrets` (the session token in the credential store),
//! `profile` and `files` (what a profile folder keeps, private to its owner); `calls` (the
//! device's call: signalling over the socket, media behind `calls::MediaEngine`).

mod attachment;
pub mod calls;
mod client;
mod config;
pub mod devices;
mod downloads;
mod engine;
mod error;
mod files;
mod http;
pub mod library;
mod link;
mod locks;
pub mod media;
mod outbox;
pub mod pictures;
pub mod preferences;
mod profile;
pub mod rules;
mod secrets;
mod shared;
mod stickers;
mod store;
mod sync;
mod tls;
pub mod transfer;
mod uploads;
pub mod video;
pub mod voice;

pub use client::Client;
pub use config::ClientConfig;
pub use error::{Error, Result};
pub use flint_proto::api::{Device, User};
pub use flint_proto::ipc::{
    ConnectionState, ContentView, ConversationKind, ConversationView, Event, MemberView,
    MessageStatus, MessageView, NoticeKind, Preferences, Role,
};
pub use flint_proto::ErrorCode;
pub use secrets::CredentialStore;
