//! Test harness: real `flint-server`s on loopback ports (in-process or as a process), real
//! `flint-core` clients with their own SQLite files, and a raw protocol socket for abuse.

// A test harness fails loudly on purpose: a panic is how it reports a broken expectation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[cfg(feature = "browser")]
pub mod browser;
#[cfg(feature = "desktop")]
pub mod desktop;
pub mod files;
pub mod lossy;
pub mod raw;
pub mod scripted;
pub mod seed;
pub mod server;
pub mod sound;
pub mod throttle;
pub mod turn;
pub mod users;

pub use raw::RawSocket;
pub use server::{ServerProcess, TestServer};
pub use users::{texts, until, TestClient};
