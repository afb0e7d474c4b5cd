//! A TCP proxy in front of a test server that slows the bytes going through it, both ways,
//! so a test can watch a transfer's progress and cancel it midway. The rate can change while
//! connections run (0: full speed).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use url::Url;

/// Bytes read at once by each direction of each connection.
const CHUNK: usize = 16 * 1024;

/// The proxy; stops when dropped.
pub struct Throttle {
    addr: SocketAddr,
    rate: Arc<AtomicU64>,
    task: JoinHandle<()>,
}

impl Throttle {
    /// Listens on a loopback port and forwards each connection to `target`, each direction
    /// at most `bytes_per_second`.
    pub async fn start(target: SocketAddr, bytes_per_second: u64) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let rate = Arc::new(AtomicU64::new(bytes_per_second));
        let shared = Arc::clone(&rate);
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let rate = Arc::clone(&shared);
                tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(target).await {
                        forward(client, server, rate).await;
                    }
                });
            }
        });
        Self { addr, rate, task }
    }

    /// The base URL clients use to reach the server through the proxy.
    pub fn url(&self) -> Url {
        Url::parse(&format!("http://{}", self.addr)).unwrap()
    }

    /// Changes the rate of every connection, running ones included (0: full speed).
    pub fn set_rate(&self, bytes_per_second: u64) {
        self.rate.store(bytes_per_second, Ordering::Relaxed);
    }
}

impl Drop for Throttle {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn forward(client: TcpStream, server: TcpStream, rate: Arc<AtomicU64>) {
    let _ = client.set_nodelay(true);
    let _ = server.set_nodelay(true);
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    tokio::select! {
        () = pipe(client_read, server_write, Arc::clone(&rate)) => {}
        () = pipe(server_read, client_write, rate) => {}
    }
}

/// Copies until either end closes, sleeping after each chunk as the rate says.
async fn pipe(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    rate: Arc<AtomicU64>,
) {
    let mut buffer = vec![0u8; CHUNK];
    loop {
        let read = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(read) => read,
        };
        if to.write_all(&buffer[..read]).await.is_err() {
            return;
        }
        let per_second = rate.load(Ordering::Relaxed);
        if let Some(nanos) = (read as u64 * 1_000_000_000).checked_div(per_second) {
            tokio::time::sleep(Duration::from_nanos(nanos)).await;
        }
    }
}
