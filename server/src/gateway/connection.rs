//! One device's socket: authenticate, then read requests in order and answer each, while a
//! writer task sends answers, pushes and pings from the device's queue. A socket ends when
//! either side closes it, the server shuts down, the device's session ends, it falls too far
//! behind, or it stays silent past the idle timeout (a half-open connection).

use std::time::Duration;

use axum::extract::ws::{close_code, CloseFrame, Message, WebSocket};
use bytes::Bytes;
use flint_proto::wire::{self, frame, request, response};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use prost::Message as _;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::dispatch::Dispatcher;
use crate::credentials::token_hash;
use crate::error::AppError;
use crate::hub::DEVICE_QUEUE;
use crate::sessions::idle_since_ms;
use crate::state::AppState;
use crate::store::Session;

/// How long a new socket has to authenticate.
const AUTH_TIMEOUT: Duration = Duration::from_secs(10);
/// How long to wait for the peer to acknowledge a close.
const CLOSE_GRACE: Duration = Duration::from_secs(2);
/// How long one frame may take to leave before the peer counts as gone.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// How often a connected session's last use is recorded (it must not expire while in use).
const TOUCH_EVERY: Duration = Duration::from_secs(3600);

/// Serves one socket until either side closes it or the server shuts down.
pub async fn run(socket: WebSocket, state: AppState) {
    let (sink, mut stream) = socket.split();
    let (frames, queue) = mpsc::channel(DEVICE_QUEUE);
    let (close_tx, close_rx) = oneshot::channel();
    let ping_every = state.config.limits.idle_timeout() / 3;
    let writer = tokio::spawn(write_loop(sink, queue, close_rx, ping_every));
    let close = read_loop(&mut stream, frames, &state).await;
    tracing::debug!(code = close.code, reason = %close.reason, "closing socket");
    let _ = close_tx.send(close);
    // Keep reading until the peer answers the close (or a grace period ends): closing a TCP
    // socket with unread input resets it, and the peer would never see the close frame.
    let drain = async { while let Some(Ok(_)) = stream.next().await {} };
    let _ = tokio::time::timeout(CLOSE_GRACE, drain).await;
    let _ = writer.await;
}

fn close_frame(code: u16, reason: &'static str) -> CloseFrame {
    CloseFrame {
        code,
        reason: reason.into(),
    }
}

/// Sends queued frames and a ping every `ping_every` (so a silent peer is noticed); a frame
/// that cannot be written ends the socket, and says why in the log.
async fn write_loop(
    mut sink: SplitSink<WebSocket, Message>,
    mut queue: mpsc::Receiver<Bytes>,
    close: oneshot::Receiver<CloseFrame>,
    ping_every: Duration,
) {
    let mut pings = tokio::time::interval_at(Instant::now() + ping_every, ping_every);
    loop {
        let message = tokio::select! {
            frame = queue.recv() => match frame {
                Some(frame) => Message::Binary(frame),
                None => break,
            },
            _ = pings.tick() => Message::Ping(Bytes::new()),
        };
        let size = match &message {
            Message::Binary(frame) => frame.len(),
            _ => 0,
        };
        match tokio::time::timeout(SEND_TIMEOUT, sink.send(message)).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => {
                tracing::warn!(%error, size, "socket write failed; closing");
                return;
            }
            Err(_) => {
                tracing::info!(size, "peer did not take a frame in time; closing");
                return;
            }
        }
    }
    if let Ok(frame) = close.await {
        let _ = tokio::time::timeout(SEND_TIMEOUT, sink.send(Message::Close(Some(frame)))).await;
    }
}

/// Encodes a response frame.
pub(super) fn response_frame(request_id: u64, result: response::Result) -> Bytes {
    let frame = wire::Frame {
        kind: Some(frame::Kind::Response(wire::Response {
            request_id,
            result: Some(result),
        })),
    };
    Bytes::from(frame.encode_to_vec())
}

fn error_frame(request_id: u64, error: &AppError) -> Bytes {
    response_frame(request_id, response::Result::Error(error.to_wire()))
}

/// The result of reading one frame from the socket.
enum Incoming {
    Request(wire::Request),
    Close(CloseFrame),
    Ignore,
}

/// Reads one frame; malformed, textual or oversized input is answered with an error and a
/// close, never a panic.
async fn next_request(
    stream: &mut SplitStream<WebSocket>,
    frames: &mpsc::Sender<Bytes>,
    max_frame_bytes: usize,
) -> Incoming {
    let reject = |error: AppError, code: u16, reason: &'static str| async move {
        let _ = frames.send(error_frame(0, &error)).await;
        Incoming::Close(close_frame(code, reason))
    };
    match stream.next().await {
        None | Some(Ok(Message::Close(_))) => Incoming::Close(close_frame(close_code::NORMAL, "")),
        Some(Err(error)) => {
            tracing::debug!(%error, "socket read failed");
            Incoming::Close(close_frame(close_code::PROTOCOL, "unreadable frame"))
        }
        Some(Ok(Message::Ping(_) | Message::Pong(_))) => Incoming::Ignore,
        Some(Ok(Message::Text(_))) => {
            let error = AppError::BadRequest("frames must be binary protobuf".into());
            reject(error, close_code::UNSUPPORTED, "binary frames only").await
        }
        Some(Ok(Message::Binary(bytes))) if bytes.len() > max_frame_bytes => {
            let error = AppError::TooLarge(format!(
                "frame is {} bytes; the limit is {max_frame_bytes}",
                bytes.len()
            ));
            reject(error, close_code::SIZE, "frame too large").await
        }
        Some(Ok(Message::Binary(bytes))) => match wire::Frame::decode(bytes) {
            Ok(wire::Frame {
                kind: Some(frame::Kind::Request(request)),
            }) => Incoming::Request(request),
            _ => {
                let error = AppError::BadRequest("malformed frame: expected a Request".into());
                reject(error, close_code::INVALID, "malformed frame").await
            }
        },
    }
}

async fn read_loop(
    stream: &mut SplitStream<WebSocket>,
    frames: mpsc::Sender<Bytes>,
    state: &AppState,
) -> CloseFrame {
    let limits = &state.config.limits;
    let (max_frame, idle_timeout) = (limits.max_frame_bytes, limits.idle_timeout());
    let (session, token_hash) =
        match tokio::time::timeout(AUTH_TIMEOUT, authenticate(stream, &frames, state)).await {
            Ok(Ok(authenticated)) => authenticated,
            Ok(Err(close)) => return close,
            Err(_) => return close_frame(close_code::POLICY, "authentication timed out"),
        };
    let online = state.hub.register(
        session.user_id,
        &session.device_id,
        &token_hash,
        frames.clone(),
    );
    // A session ended between the check and the registration was revoked while no socket of
    // it was in the hub: look once more now that this one is.
    match state
        .store
        .session(token_hash.clone(), idle_since_ms(state))
        .await
    {
        Ok(Some(_)) => {}
        _ => return close_frame(close_code::POLICY, "session ended"),
    }
    state.calls.connected(session.user_id, &session.device_id);
    let mut dispatcher = Dispatcher::new(session, state.clone());
    let mut heard = Instant::now();
    let mut touched = Instant::now();
    // One timer for the idle timeout, armed for the last sign of life it knew of: when it goes
    // off, a peer heard from since gets it re-armed; a silent one is dropped. (Re-arming on
    // every frame would touch the timer wheel once per request.)
    let idle = tokio::time::sleep(idle_timeout);
    tokio::pin!(idle);
    loop {
        let incoming = tokio::select! {
            _ = state.shutdown.cancelled() => {
                return close_frame(close_code::AWAY, "server shutting down");
            }
            _ = online.too_slow.cancelled() => {
                return close_frame(close_code::POLICY, "too slow; reconnect and sync");
            }
            _ = online.ended.cancelled() => {
                return close_frame(close_code::POLICY, "session ended");
            }
            () = &mut idle => {
                if heard.elapsed() >= idle_timeout {
                    tracing::debug!("socket silent past the idle timeout");
                    return close_frame(close_code::AWAY, "idle timeout");
                }
                idle.as_mut().reset(heard + idle_timeout);
                continue;
            }
            incoming = next_request(stream, &frames, max_frame) => incoming,
        };
        heard = Instant::now();
        if touched.elapsed() >= TOUCH_EVERY {
            touched = Instant::now();
            if let Err(error) = state.store.touch_session(token_hash.clone()).await {
                tracing::warn!(%error, "cannot record the session's use");
            }
        }
        let request = match incoming {
            Incoming::Request(request) => request,
            Incoming::Close(close) => return close,
            Incoming::Ignore => continue,
        };
        let request_id = request.request_id;
        let answer = match dispatcher.handle(request).await {
            Ok(result) => response_frame(request_id, result),
            Err(error) => error_frame(request_id, &error),
        };
        if frames.send(answer).await.is_err() {
            return close_frame(close_code::ERROR, "");
        }
        if dispatcher.over_rate_limit() {
            return close_frame(close_code::POLICY, "rate limit exceeded");
        }
    }
}

/// Reads the `Auth` request and checks the token, answering `AuthOk` or an error. Returns the
/// session and its token hash.
async fn authenticate(
    stream: &mut SplitStream<WebSocket>,
    frames: &mpsc::Sender<Bytes>,
    state: &AppState,
) -> Result<(Session, Vec<u8>), CloseFrame> {
    let request = loop {
        match next_request(stream, frames, state.config.limits.max_frame_bytes).await {
            Incoming::Request(request) => break request,
            Incoming::Close(close) => return Err(close),
            Incoming::Ignore => continue,
        }
    };
    let request_id = request.request_id;
    match check_auth(request, state).await {
        Ok((session, token_hash, ok)) => {
            let _ = frames
                .send(response_frame(request_id, response::Result::AuthOk(ok)))
                .await;
            Ok((session, token_hash))
        }
        Err(error) => {
            let _ = frames.send(error_frame(request_id, &error)).await;
            Err(close_frame(close_code::POLICY, "authentication failed"))
        }
    }
}

async fn check_auth(
    request: wire::Request,
    state: &AppState,
) -> Result<(Session, Vec<u8>, wire::AuthOk), AppError> {
    let Some(request::Body::Auth(auth)) = request.body else {
        return Err(AppError::Unauthenticated);
    };
    if auth.protocol_version != flint_proto::PROTOCOL_VERSION {
        return Err(AppError::UnsupportedVersion(auth.protocol_version));
    }
    let hash = token_hash(&auth.token);
    let session = state
        .store
        .session(hash.clone(), idle_since_ms(state))
        .await?
        .filter(|session| session.device_id == auth.device_id)
        .ok_or(AppError::Unauthenticated)?;
    state.store.touch_session(hash.clone()).await?;
    let limits = &state.config.limits;
    let ok = wire::AuthOk {
        user_id: session.user_id,
        head_seq: state.store.head_seq(session.user_id).await?,
        max_frame_bytes: limits.max_frame_bytes as u32,
        max_text_chars: limits.max_text_chars as u32,
        server_version: env!("CARGO_PKG_VERSION").into(),
    };
    Ok((session, hash, ok))
}
