//! A UDP relay that loses packets on purpose, for calls over a bad network: it stands in front
//! of a UDP server (a TURN relay), forwards each client's datagrams to it from a socket of
//! that client's own and the answers back, and drops every `nth` datagram a client sends that
//! is at least `min_len` bytes long (media, not the relay's small control messages). The
//! relay stops with the value.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::net::UdpSocket;
use tokio::task::{JoinHandle, JoinSet};

/// Largest datagram relayed.
const MAX_DATAGRAM: usize = 65_536;

/// A running lossy relay.
pub struct LossyUdp {
    /// Where clients send to, on 127.0.0.1.
    pub addr: SocketAddr,
    dropped: Arc<AtomicUsize>,
    task: JoinHandle<()>,
}

impl LossyUdp {
    /// Starts relaying to `upstream`, dropping every `nth` client datagram of `min_len` bytes
    /// or more.
    pub async fn start(upstream: SocketAddr, nth: usize, min_len: usize) -> Self {
        assert!(nth > 0, "drop every nth datagram: nth is at least 1");
        let listener = Arc::new(UdpSocket::bind("127.0.0.1:0").await.unwrap());
        let addr = listener.local_addr().unwrap();
        let dropped = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&dropped);
        let task = tokio::spawn(async move {
            let mut answers = JoinSet::new();
            let mut clients: HashMap<SocketAddr, Arc<UdpSocket>> = HashMap::new();
            let mut buf = vec![0; MAX_DATAGRAM];
            let mut long = 0;
            while let Ok((len, from)) = listener.recv_from(&mut buf).await {
                let socket = match clients.get(&from) {
                    Some(socket) => Arc::clone(socket),
                    None => {
                        let Some(socket) = connect(upstream).await else {
                            continue;
                        };
                        answers.spawn(relay_answers(
                            Arc::clone(&socket),
                            Arc::clone(&listener),
                            from,
                        ));
                        clients.insert(from, Arc::clone(&socket));
                        socket
                    }
                };
                if len >= min_len {
                    long += 1;
                    if long % nth == 0 {
                        counted.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                }
                let _ = socket.send(&buf[..len]).await;
            }
        });
        Self {
            addr,
            dropped,
            task,
        }
    }

    /// The TURN address of the relay (for a server's `turn_urls`).
    pub fn turn_url(&self) -> String {
        format!("turn:{}?transport=udp", self.addr)
    }

    /// Datagrams dropped so far.
    pub fn dropped(&self) -> usize {
        self.dropped.load(Ordering::Relaxed)
    }
}

impl Drop for LossyUdp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// A socket of its own for one client, sending to `upstream`.
async fn connect(upstream: SocketAddr) -> Option<Arc<UdpSocket>> {
    let socket = UdpSocket::bind("127.0.0.1:0").await.ok()?;
    socket.connect(upstream).await.ok()?;
    Some(Arc::new(socket))
}

/// Hands what the server answers on `socket` back to `client` through `listener`.
async fn relay_answers(socket: Arc<UdpSocket>, listener: Arc<UdpSocket>, client: SocketAddr) {
    let mut buf = vec![0; MAX_DATAGRAM];
    while let Ok(len) = socket.recv(&mut buf).await {
        let _ = listener.send_to(&buf[..len], client).await;
    }
}
