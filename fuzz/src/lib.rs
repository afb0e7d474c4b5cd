//! What both fuzz targets set up once per process: a runtime, and a server's state over a real
//! SQLite store in /dev/shm (so fsync costs nothing) with the brakes set for fuzzing.

use flint_server::{AppState, Config};

/// A server's state and the runtime it runs on; the data folder lives as long as it does.
pub struct Harness {
    /// A single-threaded runtime for the target's calls.
    pub runtime: tokio::runtime::Runtime,
    /// The server's state.
    pub state: AppState,
    _data: tempfile::TempDir,
}

impl Harness {
    /// A fresh store; `configure` adjusts the configuration first.
    pub fn new(configure: impl FnOnce(&mut Config)) -> Self {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let data = tempfile::Builder::new()
            .prefix("flint-fuzz-")
            .tempdir_in("/dev/shm")
            .or_else(|_| tempfile::tempdir())
            .expect("data folder");
        let mut config = Config {
            data_dir: data.path().to_owned(),
            ..Config::default()
        };
        config.throttle.hashing_threads = 1;
        configure(&mut config);
        let state = runtime.block_on(async { AppState::open(config).expect("state") });
        Self {
            runtime,
            state,
            _data: data,
        }
    }
}
