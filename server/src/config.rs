//! Server configuration: built-in defaults, then an optional TOML file, then flags and
//! `FLINT_*` environment variables.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

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
    /// PEM certificate chain: with `tls_key`, the server speaks HTTPS/WSS itself.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of `tls_cert`.
    pub tls_key: Option<PathBuf>,
    /// Take the client's address from the last `X-Forwarded-For` entry (set this only behind
    /// a reverse proxy that writes it; otherwise clients could pick their own address).
    pub trust_forwarded_for: bool,
    /// Input bounds.
    pub limits: Limits,
    /// How sessions end.
    pub sessions: Sessions,
    /// Brakes on signing in and signing up.
    pub throttle: Throttle,
    /// Bounds on files and how long unused ones are kept.
    pub files: FileLimits,
    /// How calls ring, and the STUN/TURN servers handed to clients.
    pub calls: CallSettings,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 7800)),
            data_dir: PathBuf::from("flint-data"),
            registration: Registration::Open,
            tls_cert: None,
            tls_key: None,
            trust_forwarded_for: false,
            limits: Limits::default(),
            sessions: Sessions::default(),
            throttle: Throttle::default(),
            files: FileLimits::default(),
            calls: CallSettings::default(),
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

    /// The folder of uploads in progress (bytes received so far, one file per upload).
    pub fn staging_dir(&self) -> PathBuf {
        self.data_dir.join("uploads")
    }

    /// The folder of the local blob store (content by SHA-256).
    pub fn blobs_dir(&self) -> PathBuf {
        self.data_dir.join("blobs")
    }

    /// Checks what the types cannot: both or neither TLS file, rates above zero, and times
    /// within a day (beyond that they are mistakes, and would overflow clocks).
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |what: &str| Err(ConfigError::Invalid(what.to_owned()));
        if self.tls_cert.is_some() != self.tls_key.is_some() {
            return invalid("tls_cert and tls_key go together");
        }
        let (limits, throttle) = (&self.limits, &self.throttle);
        let rates = [
            limits.requests_per_second,
            limits.user_sends_per_second,
            throttle.registrations_per_hour,
        ];
        if rates.contains(&0) {
            return invalid(
                "requests_per_second, user_sends_per_second and registrations_per_hour must be \
                 at least 1 (close registration with registration = \"closed\")",
            );
        }
        const DAY_SECS: u64 = 86_400;
        if limits.idle_timeout_secs > DAY_SECS
            || throttle.delay_base_ms > DAY_SECS * 1000
            || throttle.delay_max_ms > DAY_SECS * 1000
            || self.sessions.idle_days > 3650
        {
            return invalid("idle_timeout_secs and the throttle's delays are at most a day, idle_days at most 3650");
        }
        self.files.validate()?;
        self.calls.validate()
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
    /// Byte budget of one answer (a sync page, a page of conversations): a page stops early
    /// and says `has_more` rather than grow past it.
    pub max_response_bytes: usize,
    /// Sustained messages per second one user may send, over all their connections.
    pub user_sends_per_second: u32,
    /// Messages a user may send in a burst above the sustained rate.
    pub user_send_burst: u32,
    /// Seconds a connection may stay silent (the server pings it at a third of this) before
    /// it is dropped as gone.
    pub idle_timeout_secs: u64,
}

/// Encoded size of the largest member entry of a conversation: ids, a 32-character username
/// and a 64-character display name of 4-byte characters, role and markers, with tags.
const MAX_MEMBER_WIRE_BYTES: usize = 440;
/// Room for a frame's envelope around its payload (tags, lengths, request id).
const ENVELOPE_BYTES: usize = 1024;

impl Limits {
    /// The largest frame the server can write: a budgeted page, or a page holding one item
    /// larger than the budget (a message as big as the largest frame accepted, or the largest
    /// group with every member). The socket's write buffer is sized from this.
    pub fn largest_outgoing_frame(&self) -> usize {
        let largest_group = self.max_group_members.saturating_mul(MAX_MEMBER_WIRE_BYTES);
        self.max_response_bytes
            .max(self.max_frame_bytes)
            .max(largest_group)
            .saturating_add(ENVELOPE_BYTES)
    }

    /// How long a silent connection is kept.
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(self.idle_timeout_secs.max(1))
    }
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
            max_response_bytes: 256 * 1024,
            user_sends_per_second: 200,
            user_send_burst: 500,
            idle_timeout_secs: 90,
        }
    }
}

/// When sessions end on their own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Sessions {
    /// A session unused for this many days ends (the device signs in again).
    pub idle_days: u32,
    /// Signed-in devices per user; signing in on one more ends the least recently used.
    pub max_per_user: u32,
}

impl Default for Sessions {
    fn default() -> Self {
        Self {
            idle_days: 30,
            max_per_user: 20,
        }
    }
}

impl Sessions {
    /// How long an unused session lasts.
    pub fn idle_timeout(&self) -> Duration {
        Duration::from_secs(u64::from(self.idle_days.max(1)) * 24 * 3600)
    }
}

/// Brakes on password guessing and mass sign-ups. After the free failures, each further
/// failure doubles the wait before the next attempt, from `delay_base_ms` up to
/// `delay_max_ms`; failures are forgotten an hour after the last one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Throttle {
    /// Wrong passwords for one account before it must wait.
    pub account_free_failures: u32,
    /// Failed sign-ins from one client address before it must wait.
    pub address_free_failures: u32,
    /// The first wait.
    pub delay_base_ms: u64,
    /// The longest wait.
    pub delay_max_ms: u64,
    /// Accounts one client address may create per hour (in a burst of as many).
    pub registrations_per_hour: u32,
    /// Threads hashing passwords (argon2id, 19 MiB each); 0 for one per core.
    pub hashing_threads: usize,
}

impl Default for Throttle {
    fn default() -> Self {
        Self {
            account_free_failures: 5,
            address_free_failures: 20,
            delay_base_ms: 1_000,
            delay_max_ms: 15 * 60 * 1_000,
            registrations_per_hour: 20,
            hashing_threads: 0,
        }
    }
}

/// Bounds on files, and how long files nobody sent are kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FileLimits {
    /// Largest file, in bytes.
    pub max_file_bytes: u64,
    /// Bytes one user's files and unfinished uploads may take (a file sent by several users
    /// counts for each, though the server stores it once).
    pub quota_bytes: u64,
    /// Types accepted, as decided from the content: `*/*`, `image/*` or `application/pdf`.
    /// Content no type is recognised for is `application/octet-stream`.
    pub allowed_types: Vec<String>,
    /// Unfinished uploads one user may have at once.
    pub max_pending_uploads: u32,
    /// Most pixels (width × height) an image may claim: a small file claiming more is a
    /// decompression bomb.
    pub max_image_pixels: u64,
    /// Seconds an unfinished upload is kept.
    pub upload_expiry_secs: u64,
    /// Seconds a finished upload no message refers to is kept.
    pub unsent_expiry_secs: u64,
    /// Seconds between collections of expired uploads and files.
    pub collect_interval_secs: u64,
}

impl Default for FileLimits {
    fn default() -> Self {
        Self {
            max_file_bytes: 2 << 30,
            quota_bytes: 20 << 30,
            allowed_types: vec!["*/*".into()],
            max_pending_uploads: 100,
            max_image_pixels: 200_000_000,
            upload_expiry_secs: 24 * 3600,
            unsent_expiry_secs: 24 * 3600,
            collect_interval_secs: 600,
        }
    }
}

impl FileLimits {
    /// Whether content of type `mime` is accepted.
    pub fn allows(&self, mime: &str) -> bool {
        let family = mime.split('/').next().unwrap_or_default();
        self.allowed_types.iter().any(|pattern| {
            pattern == "*/*"
                || pattern.eq_ignore_ascii_case(mime)
                || pattern
                    .strip_suffix("/*")
                    .is_some_and(|f| f.eq_ignore_ascii_case(family))
        })
    }

    fn validate(&self) -> Result<(), ConfigError> {
        const YEAR_SECS: u64 = 366 * 86_400;
        let times = [
            self.upload_expiry_secs,
            self.unsent_expiry_secs,
            self.collect_interval_secs,
        ];
        if self.max_file_bytes == 0 || times.iter().any(|&t| t == 0 || t > YEAR_SECS) {
            return Err(ConfigError::Invalid(
                "files: max_file_bytes must be at least 1, and the expiry and collection times \
                 between a second and a year"
                    .into(),
            ));
        }
        Ok(())
    }
}

/// Calls: how long they ring, and the ICE servers clients gather candidates with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CallSettings {
    /// Seconds a call rings before it counts as missed.
    pub ring_timeout_secs: u64,
    /// Seconds an answered call survives a participant without a socket (an IM reconnect
    /// must not end a call whose media still flow) before it ends as connection lost.
    pub reconnect_grace_secs: u64,
    /// STUN servers, e.g. `["stun:turn.example.com:3478"]`.
    pub stun_urls: Vec<String>,
    /// TURN servers, e.g. `["turn:turn.example.com:3478?transport=udp"]`; they need
    /// `turn_secret`.
    pub turn_urls: Vec<String>,
    /// The secret shared with coturn (`static-auth-secret`, with `use-auth-secret`): each call
    /// gets credentials derived from it that expire after `turn_ttl_secs`.
    pub turn_secret: Option<flint_proto::Secret>,
    /// Seconds TURN credentials stay valid.
    pub turn_ttl_secs: u64,
}

impl Default for CallSettings {
    fn default() -> Self {
        Self {
            ring_timeout_secs: 45,
            reconnect_grace_secs: 30,
            stun_urls: Vec::new(),
            turn_urls: Vec::new(),
            turn_secret: None,
            turn_ttl_secs: 3600,
        }
    }
}

impl CallSettings {
    /// How long a call rings.
    pub fn ring_timeout(&self) -> Duration {
        Duration::from_secs(self.ring_timeout_secs)
    }

    /// How long an answered call waits for a participant to reconnect.
    pub fn reconnect_grace(&self) -> Duration {
        Duration::from_secs(self.reconnect_grace_secs)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |what: &str| Err(ConfigError::Invalid(format!("calls: {what}")));
        if !(1..=600).contains(&self.ring_timeout_secs)
            || !(1..=3600).contains(&self.reconnect_grace_secs)
            || !(60..=86_400).contains(&self.turn_ttl_secs)
        {
            return invalid(
                "ring_timeout_secs is 1–600, reconnect_grace_secs 1–3600, turn_ttl_secs 60–86400",
            );
        }
        if !self.turn_urls.is_empty() && self.turn_secret.is_none() {
            return invalid("turn_urls need turn_secret (coturn's static-auth-secret)");
        }
        let scheme = |url: &String, schemes: &[&str]| {
            schemes.iter().any(|s| {
                url.strip_prefix(s)
                    .is_some_and(|rest| rest.starts_with(':'))
            })
        };
        if !self.stun_urls.iter().all(|u| scheme(u, &["stun", "stuns"]))
            || !self.turn_urls.iter().all(|u| scheme(u, &["turn", "turns"]))
        {
            return invalid("stun_urls start with stun: or stuns:, turn_urls with turn: or turns:");
        }
        Ok(())
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
    /// The settings contradict each other.
    #[error("invalid configuration: {0}")]
    Invalid(String),
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
    fn the_write_buffer_bound_covers_the_largest_group() {
        let limits = Limits {
            max_group_members: 5_000,
            ..Limits::default()
        };
        assert!(limits.largest_outgoing_frame() > 5_000 * 400);
        let small = Limits::default();
        assert!(small.largest_outgoing_frame() > small.max_response_bytes);
    }

    #[test]
    fn rates_of_zero_and_absurd_times_are_refused() {
        let mut config = Config::default();
        assert!(config.validate().is_ok());
        config.throttle.registrations_per_hour = 0;
        assert!(config.validate().is_err());
        let mut config = Config::default();
        config.limits.idle_timeout_secs = u64::MAX;
        assert!(config.validate().is_err());
    }

    #[test]
    fn file_types_match_exactly_by_family_or_all() {
        let limits = FileLimits {
            allowed_types: vec!["image/*".into(), "application/pdf".into()],
            ..FileLimits::default()
        };
        assert!(limits.allows("image/png"));
        assert!(limits.allows("application/pdf"));
        assert!(!limits.allows("application/zip"));
        assert!(!limits.allows("imagex/png"));
        assert!(FileLimits::default().allows("application/x-executable"));
    }

    #[test]
    fn unknown_keys_are_rejected() {
        assert!(toml::from_str::<Config>("lisen = \"127.0.0.1:1\"").is_err());
    }
}
