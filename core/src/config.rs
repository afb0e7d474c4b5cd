//! How a client is set up.

use std::path::PathBuf;
use std::time::Duration;

use url::Url;

/// Where the server is, where data lives, and the timing of reconnects.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The server's base URL, e.g. `http://127.0.0.1:7800`.
    pub server_url: Url,
    /// The folder for this profile's databases (one per account).
    pub data_dir: PathBuf,
    /// First reconnect delay; doubles per attempt (with jitter).
    pub reconnect_min: Duration,
    /// Longest reconnect delay.
    pub reconnect_max: Duration,
    /// How long a request may wait for its answer.
    pub request_timeout: Duration,
    /// Interval of WebSocket pings; a socket silent for three intervals is dropped.
    pub heartbeat: Duration,
}

impl ClientConfig {
    /// Defaults for a server and folder.
    pub fn new(server_url: Url, data_dir: impl Into<PathBuf>) -> Self {
        Self {
            server_url,
            data_dir: data_dir.into(),
            reconnect_min: Duration::from_millis(300),
            reconnect_max: Duration::from_secs(30),
            request_timeout: Duration::from_secs(15),
            heartbeat: Duration::from_secs(15),
        }
    }

    /// The WebSocket URL (`ws[s]://…/ws`).
    pub fn socket_url(&self) -> Url {
        let mut url = self.server_url.clone();
        let scheme = if url.scheme() == "https" { "wss" } else { "ws" };
        // Both schemes are special, so switching between them always succeeds.
        let _ = url.set_scheme(scheme);
        url.set_path("/ws");
        url
    }

    /// The folder for one account's database on this server.
    pub fn account_dir(&self, user_id: i64) -> PathBuf {
        let host = self.server_url.host_str().unwrap_or("server");
        let port = self.server_url.port_or_known_default().unwrap_or(0);
        self.data_dir
            .join(format!("{host}_{port}"))
            .join(user_id.to_string())
    }
}
