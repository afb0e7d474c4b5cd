//! One authenticated WebSocket to the server: numbered requests with answers, a stream of
//! pushes, and a heartbeat that notices a dead peer. A `Link` never reconnects; the engine
//! makes a new one.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use flint_proto::wire::{self, frame, request, response};
use flint_proto::Secret;
use futures_util::stream::SplitStream;
use futures_util::{SinkExt, StreamExt};
use prost::Message as _;
use tokio::net::TcpStream;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{Connector, MaybeTlsStream, WebSocketStream};
use tokio_util::sync::CancellationToken;
use url::Url;

use crate::error::{Error, Result};

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;
type Waiters = Arc<Mutex<HashMap<u64, oneshot::Sender<response::Result>>>>;

/// Pushes waiting for the engine before the socket stops being read.
const PUSH_QUEUE: usize = 4096;
/// Largest frame accepted from the server.
const MAX_INCOMING_FRAME: usize = 16 * 1024 * 1024;

/// Who is connecting, and how patient to be.
#[derive(Debug, Clone)]
pub struct LinkParams {
    /// `ws[s]://host/ws`.
    pub url: Url,
    /// TLS settings for `wss://`.
    pub tls: Arc<rustls::ClientConfig>,
    /// Session token.
    pub token: Secret,
    /// The device the token belongs to.
    pub device_id: String,
    /// How long a request waits for its answer.
    pub request_timeout: Duration,
    /// Ping interval; three silent intervals drop the link.
    pub heartbeat: Duration,
}

/// A live, authenticated connection.
pub struct Link {
    outgoing: mpsc::Sender<Message>,
    waiters: Waiters,
    next_id: AtomicU64,
    closed: CancellationToken,
    request_timeout: Duration,
}

impl Link {
    /// Connects and authenticates; returns the link, its pushes and the server's greeting.
    pub async fn connect(
        params: &LinkParams,
    ) -> Result<(Arc<Self>, mpsc::Receiver<wire::Push>, wire::AuthOk)> {
        let mut config = WebSocketConfig::default();
        config.max_message_size = Some(MAX_INCOMING_FRAME);
        config.max_frame_size = Some(MAX_INCOMING_FRAME);
        let connecting = tokio_tungstenite::connect_async_tls_with_config(
            params.url.as_str(),
            Some(config),
            true,
            Some(Connector::Rustls(Arc::clone(&params.tls))),
        );
        let (socket, _) = tokio::time::timeout(params.request_timeout, connecting)
            .await
            .map_err(|_| Error::Timeout)?
            .map_err(|e| Error::Connection(e.to_string()))?;
        let (link, pushes) = Self::start(socket, params);
        let auth = request::Body::Auth(wire::Auth {
            token: params.token.expose().to_owned(),
            device_id: params.device_id.clone(),
            protocol_version: flint_proto::PROTOCOL_VERSION,
        });
        match link.request(auth).await {
            Ok(response::Result::AuthOk(ok)) => Ok((link, pushes, ok)),
            Ok(other) => Err(unexpected(&other)),
            Err(error) => Err(error),
        }
    }

    fn start(socket: Socket, params: &LinkParams) -> (Arc<Self>, mpsc::Receiver<wire::Push>) {
        let (mut sink, stream) = socket.split();
        let (outgoing, mut queue) = mpsc::channel::<Message>(256);
        let (push_tx, pushes) = mpsc::channel(PUSH_QUEUE);
        let closed = CancellationToken::new();
        let link = Arc::new(Self {
            outgoing,
            waiters: Waiters::default(),
            next_id: AtomicU64::new(1),
            closed: closed.clone(),
            request_timeout: params.request_timeout,
        });
        let writer_closed = closed.clone();
        tokio::spawn(async move {
            loop {
                let message = tokio::select! {
                    _ = writer_closed.cancelled() => break,
                    message = queue.recv() => message,
                };
                let Some(message) = message else { break };
                if sink.send(message).await.is_err() {
                    break;
                }
            }
            let _ = sink.close().await;
            writer_closed.cancel();
        });
        tokio::spawn(read_loop(
            stream,
            Arc::clone(&link.waiters),
            push_tx,
            closed.clone(),
            params.heartbeat,
            link.outgoing.clone(),
        ));
        (link, pushes)
    }

    /// Sends a request and waits for its answer; server refusals become `Error::Server`.
    pub async fn request(&self, body: request::Body) -> Result<response::Result> {
        if self.closed.is_cancelled() {
            return Err(Error::Offline);
        }
        let request_id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (reply, answer) = oneshot::channel();
        if let Ok(mut waiters) = self.waiters.lock() {
            waiters.insert(request_id, reply);
        }
        let frame = wire::Frame {
            kind: Some(frame::Kind::Request(wire::Request {
                request_id,
                body: Some(body),
            })),
        };
        let sent = self
            .outgoing
            .send(Message::Binary(frame.encode_to_vec().into()))
            .await;
        if sent.is_err() {
            self.forget(request_id);
            return Err(Error::Offline);
        }
        let outcome = tokio::select! {
            _ = self.closed.cancelled() => Err(Error::Connection("connection lost".into())),
            answer = tokio::time::timeout(self.request_timeout, answer) => match answer {
                Ok(Ok(result)) => Ok(result),
                Ok(Err(_)) => Err(Error::Connection("connection lost".into())),
                Err(_) => Err(Error::Timeout),
            },
        };
        self.forget(request_id);
        match outcome? {
            response::Result::Error(error) => Err(Error::from_wire(error)),
            result => Ok(result),
        }
    }

    fn forget(&self, request_id: u64) {
        if let Ok(mut waiters) = self.waiters.lock() {
            waiters.remove(&request_id);
        }
    }

    /// True once the link is gone.
    pub fn is_closed(&self) -> bool {
        self.closed.is_cancelled()
    }

    /// Resolves when the link is gone.
    pub async fn closed(&self) {
        self.closed.cancelled().await;
    }

    /// Closes the link.
    pub fn close(&self) {
        self.closed.cancel();
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        self.closed.cancel();
    }
}

/// The error for an answer of the wrong kind.
pub fn unexpected(result: &response::Result) -> Error {
    Error::Protocol(format!("unexpected answer {result:?}"))
}

async fn read_loop(
    mut stream: SplitStream<Socket>,
    waiters: Waiters,
    pushes: mpsc::Sender<wire::Push>,
    closed: CancellationToken,
    heartbeat: Duration,
    outgoing: mpsc::Sender<Message>,
) {
    let mut silent_ticks = 0u32;
    let mut ticker = tokio::time::interval(heartbeat);
    ticker.tick().await;
    loop {
        let message = tokio::select! {
            _ = closed.cancelled() => break,
            _ = ticker.tick() => {
                silent_ticks += 1;
                if silent_ticks >= 3 {
                    tracing::info!("server silent for three heartbeats; dropping the link");
                    break;
                }
                let _ = outgoing.try_send(Message::Ping(Vec::new().into()));
                continue;
            }
            message = stream.next() => message,
        };
        silent_ticks = 0;
        match message {
            Some(Ok(Message::Binary(bytes))) => {
                if !route(&bytes, &waiters, &pushes).await {
                    break;
                }
            }
            Some(Ok(Message::Close(frame))) => {
                tracing::info!(?frame, "server closed the link");
                break;
            }
            Some(Ok(_)) => {}
            Some(Err(error)) => {
                tracing::info!(%error, "link read failed");
                break;
            }
            None => break,
        }
    }
    closed.cancel();
    if let Ok(mut waiters) = waiters.lock() {
        waiters.clear();
    }
}

/// Hands a frame to its waiter or the push queue; false when the engine is gone.
async fn route(bytes: &[u8], waiters: &Waiters, pushes: &mpsc::Sender<wire::Push>) -> bool {
    match wire::Frame::decode(bytes) {
        Ok(wire::Frame {
            kind: Some(frame::Kind::Response(response)),
        }) => {
            let waiter = waiters
                .lock()
                .ok()
                .and_then(|mut w| w.remove(&response.request_id));
            match (waiter, response.result) {
                (Some(waiter), Some(result)) => {
                    let _ = waiter.send(result);
                }
                (None, Some(response::Result::Error(error))) => {
                    tracing::warn!(code = ?error.code(), message = %error.message, "server error");
                }
                _ => {}
            }
            true
        }
        Ok(wire::Frame {
            kind: Some(frame::Kind::Push(push)),
        }) => pushes.send(push).await.is_ok(),
        _ => {
            tracing::warn!("ignoring a frame this client cannot read");
            true
        }
    }
}
