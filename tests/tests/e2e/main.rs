//! End-to-end suites: real servers on loopback, real clients with their own SQLite files.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod abuse;
mod bad_input;
mod budgets;
mod calls;
mod chat;
mod devices;
mod durability;
mod files;
mod groups;
mod hangs;
mod outbox;
mod sessions;
mod stickers;
mod tls;
mod voice;

use flint_tests::server::test_config;
use flint_tests::{TestClient, TestServer};
use tempfile::TempDir;

/// A server in a fresh data folder, with alice and bob signed in and their direct
/// conversation open on both sides.
pub struct Pair {
    /// The server.
    pub server: TestServer,
    /// Its data folder.
    pub data: TempDir,
    /// The first user.
    pub alice: TestClient,
    /// The second user.
    pub bob: TestClient,
    /// Their direct conversation.
    pub conversation_id: i64,
}

impl Pair {
    /// Starts the server and signs both users in.
    pub async fn start() -> Self {
        let data = TempDir::new().unwrap();
        let server = TestServer::start(test_config(data.path())).await;
        Self::with_server(server, data).await
    }

    /// Bob on another device, once it knows the pair's conversation.
    pub async fn bob_elsewhere(&self) -> TestClient {
        let bob2 = TestClient::another_device(&self.server.url(), "bob").await;
        flint_tests::until(
            &bob2,
            "bob's second device to know the conversation",
            || async {
                bob2.conversation(self.conversation_id)
                    .await
                    .unwrap()
                    .map(|_| ())
            },
        )
        .await;
        bob2
    }

    /// Signs both users in on `server` (whose data folder is `data`).
    pub async fn with_server(server: TestServer, data: TempDir) -> Self {
        let alice = TestClient::register(&server.url(), "alice").await;
        let bob = TestClient::register(&server.url(), "bob").await;
        let conversation = alice.open_direct(bob.me().id).await.unwrap();
        flint_tests::until(&bob, "bob to learn the conversation", || async {
            bob.conversation(conversation.id).await.unwrap().map(|_| ())
        })
        .await;
        Self {
            server,
            data,
            alice,
            bob,
            conversation_id: conversation.id,
        }
    }
}

/// Waits until `client` holds exactly `count` messages in the conversation and returns them.
pub async fn wait_for_count(
    client: &TestClient,
    conversation_id: i64,
    count: usize,
) -> Vec<flint_core::MessageView> {
    flint_tests::until(client, &format!("{count} messages"), || async {
        let all = client.all_messages(conversation_id).await;
        (all.len() >= count).then_some(all)
    })
    .await
}

/// Queues `prefix 0 .. prefix n-1` from `client`, in order (what `assert_sequence` expects).
pub async fn send_sequence(
    client: &flint_core::Client,
    conversation_id: i64,
    prefix: &str,
    n: usize,
) {
    for i in 0..n {
        client
            .send_text(conversation_id, &format!("{prefix} {i}"))
            .await
            .expect("the message is queued");
    }
}

/// Waits until `client`'s outbox is empty.
pub async fn drained(client: &flint_core::Client) {
    flint_tests::until(client, "the outbox to drain", || async {
        (client.outbox_len().await.unwrap() == 0).then_some(())
    })
    .await;
}

/// Waits until `client` holds exactly the texts `expected` (in any order, each once) in the
/// conversation, with nothing left to send.
pub async fn holds_each_once(client: &TestClient, conversation_id: i64, expected: &[String]) {
    let mut expected = expected.to_vec();
    expected.sort();
    flint_tests::until(client, "every message once", || async {
        let mut texts = flint_tests::texts(&client.all_messages(conversation_id).await);
        texts.sort();
        let drained = client.outbox_len().await.unwrap() == 0;
        (drained && texts == expected).then_some(())
    })
    .await;
}

/// Asserts the messages are `prefix 0 .. prefix n-1`, in order, each once.
pub fn assert_sequence(messages: &[flint_core::MessageView], prefix: &str, n: usize) {
    let expected: Vec<String> = (0..n).map(|i| format!("{prefix} {i}")).collect();
    assert_eq!(flint_tests::texts(messages), expected);
    let mut ids: Vec<_> = messages.iter().map(|m| m.server_id).collect();
    ids.dedup();
    assert_eq!(ids.len(), n, "every message has its own server id");
}

/// A `Send` of a text message with a fresh client id.
pub fn send_text_body(conversation_id: i64, text: &str) -> flint_proto::wire::request::Body {
    flint_tests::seed::send_body(conversation_id, text)
}
