//! Servers for tests: in-process on port 0, or a child process that can be killed.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use flint_server::{Config, Server};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use url::Url;

/// A server running inside the test process.
pub struct TestServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its configuration.
    pub config: Config,
    shutdown: CancellationToken,
    task: JoinHandle<()>,
}

/// Default test configuration: loopback port 0, data in `data_dir`, and room for the many
/// accounts a test creates from one address (the sign-up brake is tested on its own).
pub fn test_config(data_dir: &Path) -> Config {
    let mut config = Config {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        data_dir: data_dir.to_owned(),
        ..Config::default()
    };
    config.throttle.registrations_per_hour = 100_000;
    config
}

/// A configuration with every brake lifted, for load (the brakes would measure themselves).
pub fn unbraked(mut config: Config) -> Config {
    config.limits.requests_per_second = 10_000_000;
    config.limits.request_burst = 10_000_000;
    config.limits.user_sends_per_second = 10_000_000;
    config.limits.user_send_burst = 10_000_000;
    config.throttle.registrations_per_hour = 10_000_000;
    config
}

impl TestServer {
    /// Starts a server with `config`.
    pub async fn start(config: Config) -> Self {
        let server = Server::bind(config.clone()).await.expect("server binds");
        let addr = server.local_addr().expect("bound address");
        let shutdown = server.shutdown_token();
        let task = tokio::spawn(async move {
            server.run().await.expect("server runs");
        });
        Self {
            addr,
            config: Config {
                listen: addr,
                ..config
            },
            shutdown,
            task,
        }
    }

    /// The base URL clients use.
    pub fn url(&self) -> Url {
        Url::parse(&format!("http://{}", self.addr)).expect("valid url")
    }

    /// Shuts down gracefully and waits; returns the configuration to start it again on the
    /// same port and data.
    pub async fn stop(self) -> Config {
        self.shutdown.cancel();
        self.task.await.expect("server task ends");
        self.config
    }
}

/// A `flint-server` child process.
pub struct ServerProcess {
    /// Where it listens.
    pub addr: SocketAddr,
    data_dir: PathBuf,
    child: tokio::process::Child,
}

impl ServerProcess {
    /// Starts the server binary on `addr` (port 0 is not allowed: the port must be known to
    /// restart on it) and waits until it answers `/health`.
    pub async fn start(binary: &Path, addr: SocketAddr, data_dir: &Path) -> Self {
        Self::spawn(binary, addr, data_dir, None).await
    }

    /// Like [`ServerProcess::start`], with a TOML configuration file.
    pub async fn start_with_config(
        binary: &Path,
        addr: SocketAddr,
        data_dir: &Path,
        config: &Path,
    ) -> Self {
        Self::spawn(binary, addr, data_dir, Some(config)).await
    }

    async fn spawn(
        binary: &Path,
        addr: SocketAddr,
        data_dir: &Path,
        config: Option<&Path>,
    ) -> Self {
        let mut command = tokio::process::Command::new(binary);
        if let Some(config) = config {
            command.arg("--config").arg(config);
        }
        let child = command
            .arg("--listen")
            .arg(addr.to_string())
            .arg("--data-dir")
            .arg(data_dir)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("server process starts");
        let process = Self {
            addr,
            data_dir: data_dir.to_owned(),
            child,
        };
        process.wait_healthy().await;
        process
    }

    async fn wait_healthy(&self) {
        let url = format!("http://{}/health", self.addr);
        let client = reqwest::Client::new();
        for _ in 0..400 {
            if let Ok(response) = client.get(&url).send().await {
                if response.status().is_success() {
                    return;
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("server at {} never became healthy", self.addr);
    }

    /// The base URL clients use.
    pub fn url(&self) -> Url {
        Url::parse(&format!("http://{}", self.addr)).expect("valid url")
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id().unwrap_or(0)
    }

    /// Sends SIGTERM and waits for the process to exit; returns whether it exited cleanly.
    pub async fn terminate(mut self) -> (bool, SocketAddr, PathBuf) {
        let pid = self.pid().to_string();
        let sent = tokio::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .await
            .expect("kill runs");
        assert!(sent.success(), "SIGTERM delivered");
        let status = tokio::time::timeout(std::time::Duration::from_secs(20), self.child.wait())
            .await
            .expect("the server exits within 20 s of SIGTERM")
            .expect("process reaped");
        (status.success(), self.addr, self.data_dir)
    }

    /// SIGKILLs the process: no shutdown path runs.
    pub async fn kill_9(mut self) -> (SocketAddr, PathBuf) {
        self.child.start_kill().expect("kill sent");
        self.child.wait().await.expect("process reaped");
        (self.addr, self.data_dir)
    }
}

/// A loopback address with a port that was free a moment ago.
pub fn free_addr() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind port 0");
    listener.local_addr().expect("address")
}
