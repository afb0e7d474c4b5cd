//! What every handler shares: the store, the hub, the configuration, the hashing threads and
//! the brakes, and the server's life (shutdown, open sockets, a failed store).

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::calls::Calls;
use crate::config::Config;
use crate::error::AppError;
use crate::files::Files;
use crate::hub::Hub;
use crate::passwords::Hasher;
use crate::store::{SqliteStore, Store, StoreError, UserId, WriterHealth};
use crate::throttle::{Buckets, Penalties, PenaltyRule};

/// The server's shared state; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    /// Persistence.
    pub store: Arc<dyn Store>,
    /// Connected devices.
    pub hub: Arc<Hub>,
    /// The configuration in force.
    pub config: Arc<Config>,
    /// Password hashing threads.
    pub hasher: Hasher,
    /// Brakes on guessing, sign-ups and sends.
    pub guards: Arc<Guards>,
    /// Cancelled when the server shuts down; open sockets close with "going away".
    pub shutdown: CancellationToken,
    /// Cancelled when the store can no longer write: the server stops and exits non-zero.
    pub failed: CancellationToken,
    /// Every live socket task, so shutdown can wait for them.
    pub sockets: TaskTracker,
    /// Uploads in progress and stored content.
    pub files: Arc<Files>,
    /// Calls ringing or in progress.
    pub calls: Arc<Calls>,
}

/// The brakes, keyed by account, client address or user.
pub struct Guards {
    /// Wrong passwords per account (a digest of the lower-cased username).
    pub account_failures: Penalties<[u8; 16]>,
    /// Failed sign-ins per client address.
    pub address_failures: Penalties<IpAddr>,
    /// Accounts created per client address.
    pub registrations: Buckets<IpAddr>,
    /// Messages sent per user, over all their connections.
    pub sends: Buckets<UserId>,
}

impl Guards {
    fn new(config: &Config) -> Self {
        let throttle = &config.throttle;
        let rule = |free_failures| PenaltyRule {
            free_failures,
            base: Duration::from_millis(throttle.delay_base_ms),
            max: Duration::from_millis(throttle.delay_max_ms),
        };
        let limits = &config.limits;
        Self {
            account_failures: Penalties::new(rule(throttle.account_free_failures)),
            address_failures: Penalties::new(rule(throttle.address_free_failures)),
            registrations: Buckets::new(
                f64::from(throttle.registrations_per_hour) / 3600.0,
                throttle.registrations_per_hour,
            ),
            sends: Buckets::new(
                f64::from(limits.user_sends_per_second),
                limits.user_send_burst,
            ),
        }
    }
}

impl AppState {
    /// Opens the SQLite store in `config.data_dir` (a folder private to its owner) and wires
    /// it to a fresh hub and hashing threads.
    pub fn open(config: Config) -> Result<Self, AppError> {
        config
            .validate()
            .map_err(|e| AppError::Internal(e.to_string()))?;
        make_private_dir(&config.data_dir)?;
        let hub = Arc::new(Hub::default());
        let failed = CancellationToken::new();
        let health = {
            let failed = failed.clone();
            Arc::new(WriterHealth::new(move || failed.cancel()))
        };
        let store = SqliteStore::open(
            &config.database_path(),
            hub.clone(),
            config.limits.max_group_members,
            health,
        )?;
        let files = Files::open(&config).map_err(crate::files::io_error)?;
        let store: Arc<dyn Store> = Arc::new(store);
        let calls = Calls::new(hub.clone(), store.clone(), config.calls.clone());
        Ok(Self {
            files: Arc::new(files),
            calls: Arc::new(calls),
            store,
            hub,
            hasher: Hasher::start(config.throttle.hashing_threads)?,
            guards: Arc::new(Guards::new(&config)),
            config: Arc::new(config),
            shutdown: CancellationToken::new(),
            failed,
            sockets: TaskTracker::new(),
        })
    }
}

/// Creates the data folder with mode 0700, or narrows an existing one to it.
fn make_private_dir(dir: &std::path::Path) -> Result<(), AppError> {
    let failed = |e: std::io::Error| {
        AppError::Store(StoreError::Task(format!(
            "data folder {}: {e}",
            dir.display()
        )))
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(failed)?;
        let mode = std::fs::metadata(dir).map_err(failed)?.permissions().mode();
        if mode & 0o077 != 0 {
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
                .map_err(failed)?;
        }
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir).map_err(failed)?;
    Ok(())
}
