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

    /// Reads until the server closes; returns the close code.
    pub async fn close_code(&mut self) -> Option<u16> {
        loop {
            if let Incoming::Closed(frame) = self.next().await {
                return frame.map(|f| f.code.into());
            }
        }
    }
}
