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
    crate::drained(&pair.alice).await;
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
    crate::drained(&pair.alice).await;
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
    crate::drained(&alice).await;
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

/// Copies the server's database files (after a clean stop) to `backup`.
fn copy_database(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for name in ["flint.db", "flint.db-wal", "flint.db-shm"] {
        let _ = std::fs::remove_file(to.join(name));
        if from.join(name).exists() {
            std::fs::copy(from.join(name), to.join(name)).unwrap();
        }
    }
}

/// The texts `prefix 0 .. prefix n-1` for each prefix.
fn numbered(prefixes: &[(&str, usize)]) -> Vec<String> {
    prefixes
        .iter()
        .flat_map(|&(prefix, n)| (0..n).map(move |i| format!("{prefix} {i}")))
        .collect()
}

/// Alice and bob chat "before 0..4"; the server's database is copied to `backup`; then
/// "after 0..4" (alice) and "reply 0..4" (bob) are written, seen by both and sent. The server
/// is left stopped; its configuration comes back to start it again on the restored copy.
async fn written_after_a_backup(pair: Pair, backup: &Path) -> (Restored, flint_server::Config) {
    let Pair {
        server,
        data,
        alice,
        bob,
        conversation_id,
    } = pair;
    send_sequence(&alice, conversation_id, "before", 5).await;
    wait_for_count(&bob, conversation_id, 5).await;
    let config = server.stop().await;
    copy_database(data.path(), backup);
    let server = TestServer::start(config).await;
    send_sequence(&alice, conversation_id, "after", 5).await;
    send_sequence(&bob, conversation_id, "reply", 5).await;
    for client in [&alice, &bob] {
        wait_for_count(client, conversation_id, 15).await;
        crate::drained(client).await;
    }
    let config = server.stop().await;
    let restored = Restored {
        data,
        alice,
        bob,
        conversation_id,
    };
    (restored, config)
}

/// What [`written_after_a_backup`] leaves: the clients and the server's data folder.
struct Restored {
    data: TempDir,
    alice: TestClient,
    bob: TestClient,
    conversation_id: i64,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_restored_from_an_older_copy_loses_and_duplicates_nothing() {
    let backup = TempDir::new().unwrap();
    let (scene, config) = written_after_a_backup(Pair::start().await, backup.path()).await;
    copy_database(backup.path(), scene.data.path());
    let server = TestServer::start(config).await;

    // Both clients see the server behind them, resend their own lost messages and drop the
    // other side's until it comes back: in the end everyone holds each message once.
    let expected = numbered(&[("before", 5), ("after", 5), ("reply", 5)]);
    for client in [&scene.alice, &scene.bob] {
        crate::holds_each_once(client, scene.conversation_id, &expected).await;
    }
    // The server holds them once too: a new device syncs exactly these.
    let fresh = TestClient::another_device(&server.url(), "bob").await;
    crate::holds_each_once(&fresh, scene.conversation_id, &expected).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_away_while_others_refill_a_restored_server_still_converges() {
    let backup = TempDir::new().unwrap();
    let (mut scene, config) = written_after_a_backup(Pair::start().await, backup.path()).await;
    scene.bob.stop().await;
    copy_database(backup.path(), scene.data.path());
    let _server = TestServer::start(config).await;

    // While bob is away, alice resends what the restore lost and writes more: the server's
    // inbox for bob passes bob's own newest seq with entries bob has never seen.
    wait_for_count(&scene.alice, scene.conversation_id, 15).await;
    send_sequence(&scene.alice, scene.conversation_id, "later", 15).await;
    crate::drained(&scene.alice).await;
    scene.bob.restart().await;
    let expected = numbered(&[("before", 5), ("after", 5), ("reply", 5), ("later", 15)]);
    for client in [&scene.alice, &scene.bob] {
        crate::holds_each_once(client, scene.conversation_id, &expected).await;
    }
}

/// The account database under a client's data folder.
fn account_database(dir: &Path) -> PathBuf {
    let mut stack = vec![dir.to_owned()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.file_name().is_some_and(|n| n == "flint.db") {
                return path;
            }
        }
    }
    panic!("no account database under {}", dir.display());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_own_message_confirmed_then_lost_in_a_restore_is_sent_again() {
    let Pair {
        server,
        data,
        mut alice,
        bob,
        conversation_id,
    } = Pair::start().await;
    send_sequence(&alice, conversation_id, "early", 1).await;
    send_sequence(&bob, conversation_id, "reply", 1).await;
    wait_for_count(&alice, conversation_id, 2).await;
    let backup = TempDir::new().unwrap();
    let config = server.stop().await;
    copy_database(data.path(), backup.path());
    let server = TestServer::start(config).await;
    send_sequence(&alice, conversation_id, "confirmed", 1).await;
    crate::drained(&alice).await;
    wait_for_count(&alice, conversation_id, 3).await;
    wait_for_count(&bob, conversation_id, 3).await;
    alice.stop().await;
    // As if alice's device had dropped between the server's answer and the message's inbox
    // entry: confirmed, but not seen in the inbox; its newest seq is the one before.
    let conn = rusqlite::Connection::open(account_database(alice.dir.path())).unwrap();
    conn.execute_batch(
        "UPDATE messages SET seq = NULL WHERE seq = (SELECT MAX(seq) FROM messages);
         UPDATE kv SET value = CAST(value - 1 AS TEXT) WHERE key = 'last_seq';",
    )
    .unwrap();
    drop(conn);
    // The server comes back from the backup taken before that message: alice's newest seq
    // is still on it, unchanged, so nothing looks rolled back — but the message is gone.
    let config = server.stop().await;
    copy_database(backup.path(), data.path());
    let server = TestServer::start(config).await;
    alice.restart().await;
    let expected = numbered(&[("early", 1), ("reply", 1), ("confirmed", 1)]);
    for client in [&alice, &bob] {
        crate::holds_each_once(client, conversation_id, &expected).await;
    }
    let fresh = TestClient::another_device(&server.url(), "bob").await;
    crate::holds_each_once(&fresh, conversation_id, &expected).await;
}
