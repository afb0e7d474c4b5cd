//! Flint's IM server: a REST API for accounts, a WebSocket gateway for messaging, and a store
//! that appends every message to each recipient's gap-free inbox.
//!
//! [`app::Server`] runs it (tests bind port 0 in-process); [`cli::Cli`] is the binary's
//! command line.

pub mod app;
pub mod cli;
pub mod config;
pub mod credentials;
pub mod error;
mod gateway;
pub mod hub;
mod rest;
pub mod store;
mod validate;

pub use app::{app, AppState, Server};
pub use config::{Config, Limits, Registration};
