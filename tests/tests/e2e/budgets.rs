//! Answers bigger than one frame: history and conversation lists are paged by bytes, so a
//! fresh device gets everything instead of a socket that dies on the first large answer.

use flint_proto::wire::{self, request, response};
use flint_tests::raw::login;
use flint_tests::server::test_config;
use flint_tests::users::PASSWORD;
use flint_tests::{until, RawSocket, TestClient, TestServer};
use tempfile::TempDir;

use crate::{wait_for_count, Pair};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_device_syncs_history_far_larger_than_a_frame() {
    let pair = Pair::start().await;
    // 60 messages of ~8,000 CJK characters: ~1.4 MB of history, each ~24 KB on the wire.
    let long: String = "汉".repeat(7_990);
    for i in 0..60 {
        pair.alice
            .send_text(pair.conversation_id, &format!("{i:02}{long}"))
            .await
            .unwrap();
    }
    crate::drained(&pair.alice).await;

    // One page of a first sync is bounded in bytes and says there is more.
    let url = pair.server.url();
    let session = login(&url, "bob", PASSWORD, "raw-bob").await;
    let mut socket = RawSocket::signed_in(&url, &session, "raw-bob").await;
    let first = request::Body::Sync(wire::SyncRequest {
        since_seq: 0,
        limit: 500,
    });
    let page = match socket.request(first).await {
        response::Result::SyncPage(page) => page,
        other => panic!("expected a page, got {other:?}"),
    };
    let budget = pair.server.config.limits.max_response_bytes;
    let size: usize = page.entries.iter().map(prost::Message::encoded_len).sum();
    assert!(!page.entries.is_empty() && page.entries.len() < 60);
    assert!(size <= budget, "page of {size} bytes, budget {budget}");
    assert!(page.has_more);

    // A new device of bob's gets all of it, in order.
    let fresh = TestClient::another_device(&url, "bob").await;
    let got = wait_for_count(&fresh, pair.conversation_id, 60).await;
    let prefixes: Vec<String> = flint_tests::texts(&got)
        .iter()
        .map(|t| t.chars().take(2).collect())
        .collect();
    let expected: Vec<String> = (0..60).map(|i| format!("{i:02}")).collect();
    assert_eq!(prefixes, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_device_lists_thirty_groups_of_five_hundred() {
    let data = TempDir::new().unwrap();
    let server = TestServer::start(test_config(data.path())).await;
    let url = server.url();
    let owner = TestClient::register(&url, "owner").await;
    // 499 members with 20-character Chinese display names: each group is ~45 KB on the wire,
    // the whole list ~1.3 MB.
    let name: String = "成员显示名称".repeat(4).chars().take(20).collect();
    let mut members = Vec::new();
    for chunk in (0..499).collect::<Vec<_>>().chunks(16) {
        let made = chunk.iter().map(|i| {
            let (url, name) = (url.clone(), name.clone());
            async move {
                let config = flint_core::ClientConfig::new(url, std::env::temp_dir());
                flint_core::Client::register(&config, &format!("member{i:03}"), PASSWORD, &name)
                    .await
                    .unwrap()
                    .id
            }
        });
        members.extend(futures_util::future::join_all(made).await);
    }
    for g in 0..30 {
        owner
            .create_group(&format!("部门 {g}"), &members)
            .await
            .unwrap();
    }
    let fresh = TestClient::another_device(&url, "owner").await;
    let listed = until(&fresh, "thirty groups on the new device", || async {
        let list = fresh.conversations().await.unwrap();
        (list.len() == 30).then_some(list)
    })
    .await;
    assert!(listed.iter().all(|c| c.member_count == 500));
}
