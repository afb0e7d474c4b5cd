//! Server configuration: built-in defaults, then an optional TOML file, then flags and
//! `FLINT_*` environment variables.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// Everything the server can be told.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Address to serve REST and `/ws` on.
    pub listen: SocketAddr,
    /// Folder holding `flint.db`.
    pub data_dir: PathBuf,
    /// Who may create accounts.
    pub registration: Registration,
    /// Input bounds.
    pub limits: Limits,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 7800)),
            data_dir: PathBuf::from("flint-data"),
            registration: Registration::Open,
            limits: Limits::default(),
        }
    }
}

impl Config {
    /// Reads a TOML file; fields it leaves out keep their defaults.
    pub fn from_toml_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        toml::from_str(&text).map_err(|source| ConfigError::Parse {
            path: path.to_owned(),
            source,
        })
    }

    /// The database file inside the data folder.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join("flint.db")
    }
}

/// Who may create accounts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Registration {
    /// Anyone who reaches the server may register.
    Open,
    /// Only `flint-server admin create-user` creates accounts.
    Closed,
}

/// Bounds on every input.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Largest WebSocket frame accepted, in bytes.
    pub max_frame_bytes: usize,
    /// Longest text message, in characters.
    pub max_text_chars: usize,
    /// Largest members of one group.
    pub max_group_members: usize,
    /// Largest sync page returned.
    pub max_sync_page: u32,
    /// Sustained requests per second per connection.
    pub requests_per_second: u32,
    /// Requests a connection may make in a burst above the sustained rate.
    pub request_burst: u32,
    /// Rate-limited requests in a row after which the connection is closed.
    pub max_rate_violations: u32,
    /// Largest REST body, in bytes.
    pub max_body_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_frame_bytes: 64 * 1024,
            max_text_chars: 8_000,
            max_group_members: 500,
            max_sync_page: 500,
            requests_per_second: 200,
            request_burst: 500,
            max_rate_violations: 100,
            max_body_bytes: 16 * 1024,
        }
    }
}

/// Why the configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid configuration.
    #[error("invalid configuration in {path}: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        source: toml::de::Error,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partial_toml_keeps_defaults() {
        let config: Config =
            toml::from_str("registration = \"closed\"\n[limits]\nmax_text_chars = 10\n").unwrap();
        assert_eq!(config.registration, Registration::Closed);
        assert_eq!(config.limits.max_text_chars, 10);
        assert_eq!(
            config.limits.max_frame_bytes,
            Limits::default().max_frame_bytes
        );
        assert_eq!(config.listen, Config::default().listen);
    }

    #[test]
    fn unknown_keys_are_rejected() {
        assert!(toml::from_str::<Config>("lisen = \"127.0.0.1:1\"").is_err());
    }
}
