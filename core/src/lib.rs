//! Flint's client engine, shared by every front end (desktop app, CLI, bots, tests).
//!
//! A [`Client`] owns one WebSocket to the server and one SQLite database per account. Its
//! methods read snapshots from the database or queue intents; everything that changes is
//! announced on one stream of [`flint_proto::ipc::Event`]s. No Tauri, no UI.
//!
//! Layers: `store` (SQL only) ← `sync`/`outbox` (rules) ← `engine` (session loop over a
//! `link`) ← [`Client`] (public API).

mod client;
mod config;
mod engine;
mod error;
mod http;
mod link;
mod outbox;
pub mod preferences;
mod shared;
mod store;
mod sync;

pub use client::Client;
pub use config::ClientConfig;
pub use error::{Error, Result};
pub use flint_proto::api::User;
pub use flint_proto::ipc::{
    ConnectionState, ContentView, ConversationKind, ConversationView, Event, MemberView,
    MessageStatus, MessageView, Preferences,
};
