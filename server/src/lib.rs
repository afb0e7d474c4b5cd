//! Flint's IM server: a REST API for accounts, a WebSocket gateway for messaging, and a store
//! that appends every message to each recipient's gap-free inbox.
//!
//! [`app::Server`] runs it (tests bind port 0 in-process); [`cli::Cli`] is the binary's
//! command line. Modules: `state` (what handlers share), `accounts` (sign-up, sign-in,
//! passwords), `passwords` (argon2 threads), `throttle` (brakes), `sessions` (ended sessions
//! close their sockets), `rest`, `gateway`, `hub`, `calls` (call state and signalling), `store`, `tls`,
//! `validate`.

pub mod accounts;
pub mod app;
pub mod calls;
pub mod cli;
pub mod config;
pub mod credentials;
pub mod error;
pub mod files;
#[cfg(fuzzing)]
pub mod fuzzing;
mod gateway;
pub mod hub;
mod passwords;
pub mod rest;
mod sessions;
pub mod state;
pub mod stickers;
pub mod store;
mod throttle;
mod tls;
mod unparsable;
mod validate;

pub use app::{app, Server};
pub use config::{Config, Limits, Registration};
pub use state::AppState;
