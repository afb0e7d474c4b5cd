//! Quick ways to fill a server for benchmarks: accounts, direct conversations and messages
//! over raw sockets (no client cache in between).

use flint_core::{Client, ClientConfig};
use flint_proto::wire::{self, request};
use prost::Message as _;
use url::Url;

use crate::raw::{login, request_frame};
use crate::users::PASSWORD;
use crate::RawSocket;

/// Registers `username` (password [`PASSWORD`]); returns the user id.
pub async fn register(url: &Url, username: &str) -> i64 {
    let config = ClientConfig::new(url.clone(), std::env::temp_dir());
    Client::register(&config, username, PASSWORD, "")
        .await
        .unwrap()
        .id
}

/// A raw socket signed in as `username` on a device of its own.
pub async fn signed_in_socket(url: &Url, username: &str) -> RawSocket {
    let device = format!("bench-{username}");
    let session = login(url, username, PASSWORD, &device).await;
    RawSocket::signed_in(url, &session, &device).await
}

/// Opens (or finds) the direct conversation with `peer`; returns its id.
pub async fn open_direct(socket: &mut RawSocket, peer: i64) -> i64 {
    match socket
        .request(request::Body::OpenDirect(wire::OpenDirect {
            user_id: peer,
        }))
        .await
    {
        wire::response::Result::Conversation(c) => c.id,
        other => panic!("open_direct: {other:?}"),
    }
}

/// A `Send` of a text message.
pub fn send_body(conversation_id: i64, text: &str) -> request::Body {
    let content = wire::MessageContent {
        kind: Some(wire::message_content::Kind::Text(wire::Text {
            body: text.into(),
            ..Default::default()
        })),
    };
    request::Body::Send(wire::SendMessage {
        client_id: uuid::Uuid::now_v7().as_bytes().to_vec(),
        conversation_id,
        content: content.encode_to_vec(),
    })
}

/// Sends `count` messages "`label` 1" … "`label` count" on one socket, 64 in flight.
pub async fn pipeline(socket: &mut RawSocket, conversation_id: i64, count: usize, label: &str) {
    let (mut sent, mut acked) = (0usize, 0usize);
    while acked < count {
        while sent < count && sent - acked < 64 {
            sent += 1;
            let text = format!("{label} {sent}");
            let frame = request_frame(sent as u64, send_body(conversation_id, &text));
            socket.send_bytes(frame).await;
        }
        socket.next_response().await;
        acked += 1;
    }
}
