//! A bare protocol socket for tests and benchmarks that need to speak (or abuse) the wire
//! protocol directly.

use std::time::Duration;

use flint_proto::api::{LoginRequest, LoginResponse};
use flint_proto::wire::{self, frame, request, response};
use futures_util::{SinkExt, StreamExt};
use prost::Message as _;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use url::Url;

/// A raw WebSocket to `/ws`.
pub struct RawSocket {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
    next_id: u64,
}

/// What the server sent next.
#[derive(Debug)]
pub enum Incoming {
    /// A protobuf frame.
    Frame(wire::Frame),
    /// The server closed the socket.
    Closed(Option<CloseFrame>),
}

/// Signs in over REST and returns the token.
pub async fn login(url: &Url, username: &str, password: &str, device_id: &str) -> LoginResponse {
    reqwest::Client::new()
        .post(url.join("/api/v1/login").expect("url"))
        .json(&LoginRequest {
            username: username.into(),
            password: password.into(),
            device_id: device_id.into(),
            device_name: "raw".into(),
        })
        .send()
        .await
        .expect("login request")
        .error_for_status()
        .expect("login accepted")
        .json()
        .await
        .expect("login body")
}

/// Encodes a request frame.
pub fn request_frame(request_id: u64, body: request::Body) -> Vec<u8> {
    wire::Frame {
        kind: Some(frame::Kind::Request(wire::Request {
            request_id,
            body: Some(body),
        })),
    }
    .encode_to_vec()
}

impl RawSocket {
    /// Opens a socket (not yet authenticated).
    pub async fn connect(url: &Url) -> Self {
        let mut ws_url = url.clone();
        ws_url.set_scheme("ws").expect("ws scheme");
        ws_url.set_path("/ws");
        let (ws, _) = tokio_tungstenite::connect_async(ws_url.as_str())
            .await
            .expect("socket opens");
        Self { ws, next_id: 1 }
    }

    /// Opens a socket and authenticates it.
    pub async fn signed_in(url: &Url, session: &LoginResponse, device_id: &str) -> Self {
        let mut socket = Self::connect(url).await;
        let auth = request::Body::Auth(wire::Auth {
            token: session.token.expose().to_owned(),
            device_id: device_id.into(),
            protocol_version: flint_proto::PROTOCOL_VERSION,
        });
        match socket.request(auth).await {
            response::Result::AuthOk(_) => socket,
            other => panic!("auth refused: {other:?}"),
        }
    }

    /// Sends raw bytes as one binary frame.
    pub async fn send_bytes(&mut self, bytes: Vec<u8>) {
        self.ws
            .send(Message::Binary(bytes.into()))
            .await
            .expect("frame sent");
    }

    /// Sends a text frame.
    pub async fn send_text(&mut self, text: &str) {
        self.ws
            .send(Message::Text(text.into()))
            .await
            .expect("frame sent");
    }

    /// Sends a request without waiting; returns its id.
    pub async fn send_request(&mut self, body: request::Body) -> u64 {
        let id = self.next_id;
        self.next_id += 1;
        self.send_bytes(request_frame(id, body)).await;
        id
    }

    /// The next frame or close (fails the test after 10 s of silence).
    pub async fn next(&mut self) -> Incoming {
        loop {
            let message = tokio::time::timeout(Duration::from_secs(10), self.ws.next())
                .await
                .expect("server answers within 10 s");
            match message {
                Some(Ok(Message::Binary(bytes))) => {
                    return Incoming::Frame(wire::Frame::decode(bytes).expect("valid frame"))
                }
                Some(Ok(Message::Close(frame))) => return Incoming::Closed(frame),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return Incoming::Closed(None),
            }
        }
    }

    /// The next response (pushes are skipped).
    pub async fn next_response(&mut self) -> wire::Response {
        loop {
            match self.next().await {
                Incoming::Frame(wire::Frame {
                    kind: Some(frame::Kind::Response(response)),
                }) => return response,
                Incoming::Frame(_) => continue,
                Incoming::Closed(frame) => panic!("socket closed before a response: {frame:?}"),
            }
        }
    }

    /// Sends a request and returns its result.
    pub async fn request(&mut self, body: request::Body) -> response::Result {
        let id = self.send_request(body).await;
        let response = self.next_response().await;
        assert_eq!(response.request_id, id, "answers come in request order");
        response.result.expect("response has a result")
    }

    /// Waits until the server's close frame has arrived without reading anything, so this
    /// socket stays silent (no pong is sent): it peeks at the unread bytes on the TCP stream.
    /// Reading after the server has also dropped the connection would race its reset, which
    /// discards unread data; reading just after the close frame arrived leaves the server's
    /// close grace period to answer in.
    pub async fn wait_for_unread_close(&self) {
        let MaybeTlsStream::Plain(tcp) = self.ws.get_ref() else {
            panic!("peeking needs a plain TCP socket");
        };
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = tcp.peek(&mut buf).await.expect("socket peek");
            if n == 0 || holds_close_frame(&buf[..n]) {
                return;
            }
            // Nothing new until the next frame lands; peek returns at once while data waits.
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Reads until the server closes; returns the close code.
    pub async fn close_code(&mut self) -> Option<u16> {
        loop {
            if let Incoming::Closed(frame) = self.next().await {
                return frame.map(|f| f.code.into());
            }
        }
    }
}

/// Whether unmasked server frames in `bytes` include a close frame (opcode 8).
fn holds_close_frame(bytes: &[u8]) -> bool {
    let mut at = 0;
    while at + 2 <= bytes.len() {
        let (opcode, short) = (bytes[at] & 0x0f, usize::from(bytes[at + 1] & 0x7f));
        if opcode == 8 {
            return true;
        }
        let (header, len) = match short {
            126 if at + 4 <= bytes.len() => (
                4,
                usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]])),
            ),
            127 if at + 10 <= bytes.len() => {
                let mut wide = [0u8; 8];
                wide.copy_from_slice(&bytes[at + 2..at + 10]);
                (
                    10,
                    usize::try_from(u64::from_be_bytes(wide)).unwrap_or(usize::MAX),
                )
            }
            126 | 127 => return false,
            len => (2, len),
        };
        at = at.saturating_add(header).saturating_add(len);
    }
    false
}
