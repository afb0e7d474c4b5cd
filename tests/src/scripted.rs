//! A scripted Flint server: real HTTP and WebSocket on loopback, but with answers the test
//! chooses — for faults the real server never produces on demand (a send that keeps failing
//! with an internal error while other conversations work).

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::ws::{Message, WebSocket};
use axum::extract::{State, WebSocketUpgrade};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use flint_proto::api::{LoginResponse, User};
use flint_proto::wire::{self, frame, request, response, ConversationKind, ErrorCode};
use futures_util::StreamExt;
use prost::Message as _;
use url::Url;

/// The user every client of the scripted server is.
pub const ME: i64 = 1;
/// The other member of every conversation.
const PEER: i64 = 2;

/// What the scripted server does, and what it saw.
#[derive(Default)]
pub struct Script {
    /// Conversations the user is in (direct, with the peer).
    pub conversations: Vec<i64>,
    /// Sends to these conversations fail with `INTERNAL`.
    pub failing: HashSet<i64>,
    /// Attempts to send to each conversation (conversation, client id), in arrival order.
    pub attempts: Mutex<Vec<(i64, Vec<u8>)>>,
    /// The last message id handed out.
    pub next_id: AtomicI64,
    /// The inbox head the server reports.
    pub seq: AtomicU64,
}

/// A running scripted server.
pub struct ScriptedServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its script and record.
    pub script: Arc<Script>,
}

impl ScriptedServer {
    /// Starts serving `script` on a free loopback port.
    pub async fn start(script: Script) -> Self {
        let script = Arc::new(script);
        let router = Router::new()
            .route("/api/v1/login", post(login))
            .route("/ws", get(upgrade))
            .with_state(Arc::clone(&script));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self { addr, script }
    }

    /// The base URL clients use.
    pub fn url(&self) -> Url {
        Url::parse(&format!("http://{}", self.addr)).unwrap()
    }

    /// The conversations of the send attempts so far, in order.
    pub fn attempted(&self) -> Vec<i64> {
        self.script
            .attempts
            .lock()
            .unwrap()
            .iter()
            .map(|(c, _)| *c)
            .collect()
    }
}

async fn login() -> Json<LoginResponse> {
    Json(LoginResponse {
        token: "scripted".into(),
        user: User {
            id: ME,
            username: "me".into(),
            display_name: "Me".into(),
        },
    })
}

async fn upgrade(State(script): State<Arc<Script>>, ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(move |socket| serve(socket, script))
}

async fn serve(mut socket: WebSocket, script: Arc<Script>) {
    while let Some(Ok(message)) = socket.next().await {
        let Message::Binary(bytes) = message else {
            continue;
        };
        let Ok(wire::Frame {
            kind: Some(frame::Kind::Request(request)),
        }) = wire::Frame::decode(bytes)
        else {
            return;
        };
        let result = answer(&script, request.body);
        let frame = wire::Frame {
            kind: Some(frame::Kind::Response(wire::Response {
                request_id: request.request_id,
                result: Some(result),
            })),
        };
        if socket
            .send(Message::Binary(frame.encode_to_vec().into()))
            .await
            .is_err()
        {
            return;
        }
    }
}

fn conversation(id: i64) -> wire::Conversation {
    let member = |user_id: i64| wire::Member {
        user_id,
        username: format!("user{user_id}"),
        display_name: format!("User {user_id}"),
        ..Default::default()
    };
    wire::Conversation {
        id,
        kind: ConversationKind::Direct as i32,
        name: String::new(),
        members: vec![member(ME), member(PEER)],
        created_at_ms: 1,
    }
}

fn answer(script: &Script, body: Option<request::Body>) -> response::Result {
    match body {
        Some(request::Body::Auth(_)) => response::Result::AuthOk(wire::AuthOk {
            user_id: ME,
            head_seq: script.seq.load(Ordering::SeqCst),
            max_frame_bytes: 65536,
            max_text_chars: 8000,
            server_version: "scripted".into(),
        }),
        Some(request::Body::ListConversations(_)) => {
            response::Result::Conversations(wire::ConversationList {
                conversations: script
                    .conversations
                    .iter()
                    .map(|&id| conversation(id))
                    .collect(),
                has_more: false,
            })
        }
        Some(request::Body::Sync(_)) => response::Result::SyncPage(wire::SyncPage {
            entries: Vec::new(),
            has_more: false,
            head_seq: script.seq.load(Ordering::SeqCst),
        }),
        Some(request::Body::GetConversation(get)) => {
            response::Result::Conversation(conversation(get.conversation_id))
        }
        Some(request::Body::Send(send)) => {
            script
                .attempts
                .lock()
                .unwrap()
                .push((send.conversation_id, send.client_id.clone()));
            if script.failing.contains(&send.conversation_id) {
                return response::Result::Error(wire::Error {
                    code: ErrorCode::Internal as i32,
                    message: "scripted failure".into(),
                    retry_after_ms: 0,
                });
            }
            let id = script.next_id.fetch_add(1, Ordering::SeqCst) + 1;
            response::Result::SendOk(wire::SendOk {
                message: Some(wire::Message {
                    id,
                    conversation_id: send.conversation_id,
                    sender_id: ME,
                    client_id: send.client_id,
                    created_at_ms: id,
                    content: send.content,
                }),
                duplicate: false,
            })
        }
        _ => response::Result::Ok(wire::Empty {}),
    }
}
