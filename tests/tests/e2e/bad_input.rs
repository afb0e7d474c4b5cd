//! Bad input gets a clear error (and a close where that is right) while others keep chatting.

use flint_proto::wire::{self, frame, request, response};
use flint_proto::ErrorCode;
use flint_tests::raw::{login, request_frame, Incoming};
use flint_tests::server::test_config;
use flint_tests::users::PASSWORD;
use flint_tests::{RawSocket, TestClient, TestServer};
use prost::Message as _;
use tempfile::TempDir;

use crate::{assert_sequence, wait_for_count, Pair};

const DEVICE: &str = "raw-device";

fn error_of(result: response::Result) -> wire::Error {
    match result {
        response::Result::Error(error) => error,
        other => panic!("expected an error, got {other:?}"),
    }
}

async fn connection_error(socket: &mut RawSocket) -> wire::Error {
    let response = socket.next_response().await;
    assert_eq!(
        response.request_id, 0,
        "connection-level errors carry request id 0"
    );
    error_of(response.result.unwrap())
}

fn text_content(body: &str) -> Vec<u8> {
    wire::MessageContent {
        kind: Some(wire::message_content::Kind::Text(wire::Text {
            body: body.into(),
            ..Default::default()
        })),
    }
    .encode_to_vec()
}

async fn mallory(pair: &Pair) -> (flint_proto::api::LoginResponse, TestClient) {
    let client = TestClient::register(&pair.server.url(), "mallory").await;
    let session = login(&pair.server.url(), "mallory", PASSWORD, DEVICE).await;
    (session, client)
}

/// After the abuse, alice and bob still chat.
async fn still_chatting(pair: &Pair) {
    pair.alice
        .send_text(pair.conversation_id, "still here 0")
        .await
        .unwrap();
    let got = wait_for_count(&pair.bob, pair.conversation_id, 1).await;
    assert_sequence(&got, "still here", 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_frames_get_an_error_and_a_close() {
    let pair = Pair::start().await;
    let (session, _client) = mallory(&pair).await;
    let mut socket = RawSocket::signed_in(&pair.server.url(), &session, DEVICE).await;
    socket.send_bytes(vec![0xff, 0xff, 0xff, 0x01, 0x02]).await;
    assert_eq!(
        connection_error(&mut socket).await.code(),
        ErrorCode::BadRequest
    );
    assert_eq!(socket.close_code().await, Some(1007));

    let mut socket = RawSocket::signed_in(&pair.server.url(), &session, DEVICE).await;
    socket.send_text("{\"hello\": 1}").await;
    assert_eq!(
        connection_error(&mut socket).await.code(),
        ErrorCode::BadRequest
    );
    assert_eq!(socket.close_code().await, Some(1003));
    still_chatting(&pair).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oversized_frames_are_refused() {
    let pair = Pair::start().await;
    let (session, _client) = mallory(&pair).await;
    let mut socket = RawSocket::signed_in(&pair.server.url(), &session, DEVICE).await;
    let limit = pair.server.config.limits.max_frame_bytes;
    socket.send_bytes(vec![0u8; limit + 100]).await;
    let error = connection_error(&mut socket).await;
    assert_eq!(error.code(), ErrorCode::TooLarge);
    assert!(error.message.contains("limit"), "{}", error.message);
    assert_eq!(socket.close_code().await, Some(1009));
    still_chatting(&pair).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_before_auth_and_bad_tokens_are_refused() {
    let pair = Pair::start().await;
    let mut socket = RawSocket::connect(&pair.server.url()).await;
    let sync = request::Body::Sync(wire::SyncRequest {
        since_seq: 0,
        limit: 10,
    });
    let result = socket.request(sync).await;
    assert_eq!(error_of(result).code(), ErrorCode::Unauthenticated);
    assert_eq!(socket.close_code().await, Some(1008));

    let mut socket = RawSocket::connect(&pair.server.url()).await;
    let auth = request::Body::Auth(wire::Auth {
        token: "forged".into(),
        device_id: DEVICE.into(),
        protocol_version: flint_proto::PROTOCOL_VERSION,
    });
    assert_eq!(
        error_of(socket.request(auth).await).code(),
        ErrorCode::Unauthenticated
    );
    assert_eq!(socket.close_code().await, Some(1008));

    let (session, _client) = mallory(&pair).await;
    let mut socket = RawSocket::connect(&pair.server.url()).await;
    let future_version = request::Body::Auth(wire::Auth {
        token: session.token.expose().to_owned(),
        device_id: DEVICE.into(),
        protocol_version: 99,
    });
    let result = socket.request(future_version).await;
    assert_eq!(error_of(result).code(), ErrorCode::UnsupportedVersion);
    still_chatting(&pair).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outsiders_cannot_send_read_or_inspect_a_conversation() {
    let pair = Pair::start().await;
    let (session, _client) = mallory(&pair).await;
    let mut socket = RawSocket::signed_in(&pair.server.url(), &session, DEVICE).await;
    let conversation_id = pair.conversation_id;
    let send = request::Body::Send(wire::SendMessage {
        client_id: uuid::Uuid::now_v7().as_bytes().to_vec(),
        conversation_id,
        content: text_content("let me in"),
    });
    assert_eq!(
        error_of(socket.request(send).await).code(),
        ErrorCode::Forbidden
    );
    let get = request::Body::GetConversation(wire::GetConversation { conversation_id });
    assert_eq!(
        error_of(socket.request(get).await).code(),
        ErrorCode::Forbidden
    );
    let read = request::Body::MarkRead(wire::MarkRead {
        conversation_id,
        up_to_message_id: 1,
    });
    assert_eq!(
        error_of(socket.request(read).await).code(),
        ErrorCode::Forbidden
    );
    let typing = request::Body::Typing(wire::Typing { conversation_id });
    assert_eq!(
        error_of(socket.request(typing).await).code(),
        ErrorCode::Forbidden
    );
    let bad_id = request::Body::Send(wire::SendMessage {
        client_id: vec![1, 2, 3],
        conversation_id,
        content: text_content("x"),
    });
    assert_eq!(
        error_of(socket.request(bad_id).await).code(),
        ErrorCode::BadRequest
    );
    // The connection stays usable after refusals.
    let list = request::Body::ListConversations(wire::ListConversations::default());
    match socket.request(list).await {
        response::Result::Conversations(list) => assert!(list.conversations.is_empty()),
        other => panic!("expected the (empty) list, got {other:?}"),
    }
    still_chatting(&pair).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_is_rate_limited_then_disconnected() {
    let data = TempDir::new().unwrap();
    let mut config = test_config(data.path());
    config.limits.requests_per_second = 5;
    config.limits.request_burst = 10;
    config.limits.max_rate_violations = 20;
    let server = TestServer::start(config).await;
    let url = server.url();
    let _mallory = TestClient::register(&url, "mallory").await;
    let session = login(&url, "mallory", PASSWORD, DEVICE).await;
    let mut socket = RawSocket::signed_in(&url, &session, DEVICE).await;
    let list = || request::Body::ListConversations(wire::ListConversations::default());
    for id in 1..=200u64 {
        socket.send_bytes(request_frame(id, list())).await;
    }
    let (mut answered, mut limited) = (0, 0);
    let close = loop {
        match socket.next().await {
            Incoming::Frame(wire::Frame {
                kind: Some(frame::Kind::Response(response)),
            }) => match response.result.unwrap() {
                response::Result::Error(error) => {
                    assert_eq!(error.code(), ErrorCode::RateLimited);
                    assert!(error.retry_after_ms > 0);
                    limited += 1;
                }
                _ => answered += 1,
            },
            Incoming::Frame(_) => {}
            Incoming::Closed(frame) => break frame.map(|f| u16::from(f.code)),
        }
    };
    assert!(answered >= 10, "the burst is served ({answered})");
    assert!(limited > 0, "then requests are refused");
    assert_eq!(
        close,
        Some(1008),
        "and a client that ignores the refusals is cut off"
    );

    // Another user on the same server is unaffected.
    let alice = TestClient::register(&url, "alice").await;
    let bob = TestClient::register(&url, "bob").await;
    let conversation = alice.open_direct(bob.me().id).await.unwrap();
    alice.send_text(conversation.id, "calm 0").await.unwrap();
    assert_sequence(&wait_for_count(&bob, conversation.id, 1).await, "calm", 1);
}

fn recall(message_id: i64, conversation_id: i64) -> request::Body {
    let content = wire::MessageContent {
        kind: Some(wire::message_content::Kind::Recall(wire::Recall {
            message_id,
        })),
    };
    request::Body::Send(wire::SendMessage {
        client_id: uuid::Uuid::now_v7().as_bytes().to_vec(),
        conversation_id,
        content: content.encode_to_vec(),
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recall_must_name_the_callers_own_message() {
    let pair = Pair::start().await;
    pair.bob
        .send_text(pair.conversation_id, "bob's words 0")
        .await
        .unwrap();
    let bobs = wait_for_count(&pair.alice, pair.conversation_id, 1).await[0]
        .server_id
        .unwrap();
    let url = pair.server.url();
    let session = login(&url, "alice", PASSWORD, DEVICE).await;
    let mut socket = RawSocket::signed_in(&url, &session, DEVICE).await;
    let others = error_of(socket.request(recall(bobs, pair.conversation_id)).await);
    let missing = error_of(
        socket
            .request(recall(9_999_999, pair.conversation_id))
            .await,
    );
    assert_eq!(others.code(), ErrorCode::NotFound);
    assert_eq!(
        others, missing,
        "someone else's message looks like a missing one"
    );
    let own = match socket
        .request(crate::send_text_body(pair.conversation_id, "mine"))
        .await
    {
        response::Result::SendOk(ok) => ok.message.unwrap().id,
        other => panic!("{other:?}"),
    };
    let recalled = socket.request(recall(own, pair.conversation_id)).await;
    assert!(
        matches!(recalled, response::Result::SendOk(_)),
        "{recalled:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_past_the_head_returns_nothing() {
    let pair = Pair::start().await;
    pair.alice
        .send_text(pair.conversation_id, "one")
        .await
        .unwrap();
    wait_for_count(&pair.bob, pair.conversation_id, 1).await;
    let url = pair.server.url();
    let session = login(&url, "bob", PASSWORD, DEVICE).await;
    let mut socket = RawSocket::signed_in(&url, &session, DEVICE).await;
    for since_seq in [1u64 << 63, u64::MAX, (1u64 << 63) - 1, 1_000] {
        let sync = request::Body::Sync(wire::SyncRequest {
            since_seq,
            limit: 10,
        });
        match socket.request(sync).await {
            response::Result::SyncPage(page) => {
                assert!(page.entries.is_empty(), "since {since_seq}: {page:?}");
                assert!(!page.has_more);
            }
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_outsider_learns_nothing_about_a_direct_conversation() {
    let pair = Pair::start().await;
    let (session, _client) = mallory(&pair).await;
    let mut socket = RawSocket::signed_in(&pair.server.url(), &session, DEVICE).await;
    let add = |conversation_id| {
        request::Body::AddMembers(wire::AddMembers {
            conversation_id,
            user_ids: vec![session.user.id],
        })
    };
    let existing = error_of(socket.request(add(pair.conversation_id)).await);
    let missing = error_of(socket.request(add(9_999_999)).await);
    assert_eq!(existing.code(), ErrorCode::Forbidden);
    assert_eq!(
        existing, missing,
        "an existing direct chat answers like a missing one"
    );
    let leave = request::Body::LeaveGroup(wire::LeaveGroup {
        conversation_id: pair.conversation_id,
    });
    assert_eq!(error_of(socket.request(leave).await), existing);
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_keeps_its_files_private() {
    use std::os::unix::fs::PermissionsExt;
    let root = TempDir::new().unwrap();
    let data = root.path().join("fresh");
    let server = TestServer::start(test_config(&data)).await;
    let _alice = TestClient::register(&server.url(), "alice").await;
    let mode =
        |path: &std::path::Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o700);
    for name in ["flint.db", "flint.db-wal", "flint.db-shm"] {
        assert_eq!(mode(&data.join(name)), 0o600, "{name}");
    }
}

/// Writes raw bytes to the server's HTTP port and reads its whole answer.
async fn raw_http(addr: std::net::SocketAddr, request: &[u8]) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    let read = stream.read_to_end(&mut answer);
    tokio::time::timeout(std::time::Duration::from_secs(10), read)
        .await
        .expect("the server answers and closes")
        .unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_http_itself_cannot_parse_get_the_error_shape_too() {
    let data = TempDir::new().unwrap();
    let server = TestServer::start(test_config(data.path())).await;
    let huge_uri = format!(
        "GET /api/v1/users?q={} HTTP/1.1\r\nhost: x\r\n\r\n",
        "a".repeat(70_000)
    );
    let cases: [(&[u8], &str, &str); 2] = [
        (huge_uri.as_bytes(), "HTTP/1.1 414", "too_large"),
        (b"NOT HTTP AT ALL\r\n\r\n", "HTTP/1.1 400", "bad_request"),
    ];
    for (request, status, code) in cases {
        let answer = raw_http(server.addr, request).await;
        assert!(answer.starts_with(status), "{answer}");
        let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
        let error: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(error["code"], code, "{answer}");
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
}
