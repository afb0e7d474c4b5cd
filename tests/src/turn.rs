//! A real TURN relay for call tests: Debian's `coturn` (`turnserver`), on loopback, with the
//! shared-secret scheme Flint's server hands out credentials for. The process ends with the
//! value.

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::server::free_addr;

/// A running `turnserver`.
pub struct Coturn {
    /// Its UDP and TCP port on 127.0.0.1.
    pub port: u16,
    child: Child,
}

impl Coturn {
    /// Starts `turnserver` with `secret` as its `static-auth-secret`, relaying on loopback;
    /// waits until it listens. Fails the test when coturn is not installed (`cargo xtask
    /// test` installs it).
    pub fn start(secret: &str) -> Self {
        let port = free_addr().port();
        let relays = free_addr().port().saturating_sub(20).max(20_000);
        let child = Command::new("turnserver")
            .args(["-n", "--no-cli", "--no-tls", "--no-dtls", "--fingerprint"])
            .args(["--listening-ip", "127.0.0.1", "--relay-ip", "127.0.0.1"])
            .args(["--listening-port", &port.to_string()])
            .args(["--min-port", &relays.to_string()])
            .args(["--max-port", &(relays + 19).to_string()])
            .args(["--allow-loopback-peers", "--use-auth-secret"])
            .args(["--static-auth-secret", secret, "--realm", "flint.test"])
            .args(["--no-stdout-log", "--log-file", "stdout"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("turnserver starts (apt-get install coturn)");
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "turnserver listens on {port}");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { port, child }
    }

    /// The URL clients relay through.
    pub fn url(&self) -> String {
        format!("turn:127.0.0.1:{}?transport=udp", self.port)
    }
}

impl Drop for Coturn {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
