//! Nothing is lost or duplicated across offline periods, server restarts, client restarts
//! and a server killed with SIGKILL mid-burst.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use flint_tests::server::free_addr;
use flint_tests::{until, ServerProcess, TestClient, TestServer};
use tempfile::TempDir;

use crate::{assert_sequence, send_sequence, wait_for_count, Pair};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offline_messages_arrive_once_in_order() {
    let mut pair = Pair::start().await;
    pair.bob.stop().await;
    send_sequence(&pair.alice, pair.conversation_id, "offline", 500).await;
    until(&pair.alice, "alice's outbox to drain", || async {
        (pair.alice.outbox_len().await.unwrap() == 0).then_some(())
    })
    .await;
    pair.bob.restart().await;
    let got = wait_for_count(&pair.bob, pair.conversation_id, 500).await;
    assert_eq!(got.len(), 500);
    assert_sequence(&got, "offline", 500);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbox_survives_server_downtime_and_client_restart() {
    let mut pair = Pair::start().await;
    let config = pair.server.stop().await;
    send_sequence(&pair.alice, pair.conversation_id, "queued", 100).await;
    assert_eq!(pair.alice.outbox_len().await.unwrap(), 100);
    // The app quits and starts again while the server is still down.
    pair.alice.restart().await;
    assert_eq!(pair.alice.outbox_len().await.unwrap(), 100);
    let _server = TestServer::start(config).await;
    let got = wait_for_count(&pair.bob, pair.conversation_id, 100).await;
    assert_sequence(&got, "queued", 100);
    until(&pair.alice, "alice's outbox to drain", || async {
        (pair.alice.outbox_len().await.unwrap() == 0).then_some(())
    })
    .await;
    let on_alice = pair.alice.all_messages(pair.conversation_id).await;
    assert_sequence(&on_alice, "queued", 100);
    assert!(on_alice.iter().all(|m| m.server_id.is_some()));
}

/// Sends `count` messages in a burst, interrupts the server process with `interrupt` once
/// bob has some of them, restarts it on the same port and data, and checks that everything
/// arrives exactly once, in order, with alice's outbox drained.
async fn burst_survives_interruption(
    count: usize,
    prefix: &str,
    interrupt: impl AsyncFnOnce(ServerProcess) -> (SocketAddr, PathBuf),
) {
    let binary = Path::new(env!("CARGO_BIN_EXE_flint-server-process"));
    let data = TempDir::new().unwrap();
    let server = ServerProcess::start(binary, free_addr(), data.path()).await;
    let url = server.url();
    let alice = TestClient::register(&url, "alice").await;
    let bob = TestClient::register(&url, "bob").await;
    let conversation_id = alice.open_direct(bob.me().id).await.unwrap().id;
    send_sequence(&alice, conversation_id, prefix, count).await;
    until(&bob, "part of the burst", || async {
        let received = bob
            .messages(conversation_id, None, 500)
            .await
            .unwrap()
            .len();
        (received >= count / 10).then_some(())
    })
    .await;
    let (addr, dir) = interrupt(server).await;
    assert!(
        alice.outbox_len().await.unwrap() > 0,
        "the interruption lands mid-burst"
    );
    let _server = ServerProcess::start(binary, addr, &dir).await;
    let got = wait_for_count(&bob, conversation_id, count).await;
    assert_eq!(got.len(), count);
    assert_sequence(&got, prefix, count);
    until(&alice, "alice's outbox to drain", || async {
        (alice.outbox_len().await.unwrap() == 0).then_some(())
    })
    .await;
    assert_sequence(&alice.all_messages(conversation_id).await, prefix, count);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_killed_mid_burst_loses_and_duplicates_nothing() {
    burst_survives_interruption(2000, "burst", async |server| server.kill_9().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_burst_shuts_down_cleanly_and_loses_nothing() {
    burst_survives_interruption(1000, "term", async |server| {
        let (clean, addr, dir) = server.terminate().await;
        assert!(clean, "SIGTERM ends the server with exit status 0");
        (addr, dir)
    })
    .await;
}
