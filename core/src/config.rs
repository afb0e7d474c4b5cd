//! How a client is set up.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use url::Url;

use crate::error::{Error, Result};
use crate::rules::outbox::RetryPolicy;
use crate::secrets::CredentialStore;

/// Where the server is, where data lives, how the connection is secured, and the timing of
/// reconnects.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The server's base URL, e.g. `https://chat.example.com`.
    pub server_url: Url,
    /// The folder for this profile's databases (one per account).
    pub data_dir: PathBuf,
    /// Accept a plain `http://` server on another machine (passwords and messages then cross
    /// the network unencrypted). Loopback is always allowed.
    pub allow_insecure: bool,
    /// PEM CA certificates to trust besides the system's (a company's private CA).
    pub extra_roots_pem: Vec<u8>,
    /// Where the session token is kept.
    pub credential_store: CredentialStore,
    /// What this device is called in the user's device list.
    pub device_name: String,
    /// First reconnect delay; doubles per attempt (with jitter).
    pub reconnect_min: Duration,
    /// Longest reconnect delay.
    pub reconnect_max: Duration,
    /// How long a request may wait for its answer (also each REST call's whole time).
    pub request_timeout: Duration,
    /// Bytes the media folder (downloads, thumbnails) may hold before the least recently
    /// used files go.
    pub media_cache_bytes: u64,
    /// Interval of WebSocket pings; a socket silent for three intervals is dropped.
    pub heartbeat: Duration,
    /// How the outbox retries a send that failed for a passing reason.
    pub outbox_retry: RetryPolicy,
    /// How long an answered call may take to get its media up before it fails (a lost
    /// offer, no route, no media engine).
    pub call_connect_timeout: Duration,
}

impl ClientConfig {
    /// Defaults for a server and folder.
    pub fn new(server_url: Url, data_dir: impl Into<PathBuf>) -> Self {
        Self {
            server_url,
            data_dir: data_dir.into(),
            allow_insecure: false,
            extra_roots_pem: Vec::new(),
            credential_store: CredentialStore::System,
            device_name: String::new(),
            reconnect_min: Duration::from_millis(300),
            reconnect_max: Duration::from_secs(30),
            request_timeout: Duration::from_secs(15),
            media_cache_bytes: 2 << 30,
            heartbeat: Duration::from_secs(15),
            outbox_retry: RetryPolicy::default(),
            call_connect_timeout: Duration::from_secs(30),
        }
    }

    /// Refuses a plain-text server on another machine unless `allow_insecure` is set.
    pub fn check_transport(&self) -> Result<()> {
        match self.server_url.scheme() {
            "https" => Ok(()),
            "http" if self.allow_insecure || is_loopback(&self.server_url) => Ok(()),
            "http" => Err(Error::InsecureTransport),
            other => Err(Error::Invalid(format!(
                "server address must start with https:// (not {other}://)"
            ))),
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

/// True for `localhost` and loopback addresses (127.0.0.0/8, ::1): traffic to them never
/// leaves the machine. (Not `*.localhost`: some resolvers send those to DNS.)
fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(url: &str, allow_insecure: bool) -> Result<()> {
        let mut config = ClientConfig::new(Url::parse(url).unwrap(), "/tmp/x");
        config.allow_insecure = allow_insecure;
        config.check_transport()
    }

    #[test]
    fn plain_http_is_only_for_this_machine_unless_allowed() {
        for ok in [
            "https://chat.example.com",
            "http://127.0.0.1:7800",
            "http://127.8.9.1",
            "http://localhost:7800",
            "http://[::1]:7800",
        ] {
            assert!(check(ok, false).is_ok(), "{ok}");
        }
        for insecure in [
            "http://chat.example.com",
            "http://192.168.1.20:7800",
            "http://[fe80::1]",
        ] {
            assert!(
                matches!(check(insecure, false), Err(Error::InsecureTransport)),
                "{insecure}"
            );
            assert!(check(insecure, true).is_ok(), "{insecure}");
        }
        assert!(matches!(check("ftp://x", true), Err(Error::Invalid(_))));
    }
}
