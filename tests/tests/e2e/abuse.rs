//! Floods from outside: sign-in guessing from many addresses, and sends that try to dodge the
//! rate limit by reconnecting. The server stays within its memory bound, chat keeps flowing,
//! and the limits hold across connections.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::time::Instant;

use flint_proto::api::LoginRequest;
use flint_proto::wire::{response, ErrorCode};
use flint_tests::raw::login;
use flint_tests::seed::send_body;
use flint_tests::server::{free_addr, test_config};
use flint_tests::users::PASSWORD;
use flint_tests::{RawSocket, ServerProcess, TestClient, TestServer};
use futures_util::StreamExt;
use tempfile::TempDir;

use crate::{assert_sequence, send_sequence, wait_for_count};

/// The peak resident memory of a process, in MiB (`VmHWM`).
fn peak_rss_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kib / 1024
}

/// The bound the server's peak memory stays within under a sign-in flood: its base, plus one
/// 19 MiB argon2 buffer per hashing thread (two here), plus room.
const FLOOD_RSS_BOUND_MIB: u64 = 160;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_flood_from_many_addresses_neither_bloats_the_server_nor_stops_chat() {
    let binary = Path::new(env!("CARGO_BIN_EXE_flint-server-process"));
    let data = TempDir::new().unwrap();
    let config = data.path().join("flint.toml");
    std::fs::write(&config, "[throttle]\nregistrations_per_hour = 1000\n").unwrap();
    let server = ServerProcess::start_with_config(binary, free_addr(), data.path(), &config).await;
    let url = server.url();
    let alice = TestClient::register(&url, "alice").await;
    let bob = TestClient::register(&url, "bob").await;
    let conversation = alice.open_direct(bob.me().id).await.unwrap().id;

    // 320 wrong sign-ins, 64 at a time, from 64 loopback addresses (5 each: below the
    // per-address brake, so every one of them reaches argon2).
    let target = url.clone();
    let attempts = (0..320u32).map(move |i| {
        let url = target.clone();
        async move {
            let source = IpAddr::V4(Ipv4Addr::new(127, 0, 1, (i % 64) as u8 + 2));
            let client = reqwest::Client::builder()
                .local_address(source)
                .build()
                .unwrap();
            let request = LoginRequest {
                username: format!("nobody{i}"),
                password: "wrong password".into(),
                device_id: "flood".into(),
                device_name: String::new(),
            };
            client
                .post(url.join("/api/v1/login").unwrap())
                .json(&request)
                .send()
                .await
                .map(|r| r.status().as_u16())
        }
    });
    let flood = tokio::spawn(
        futures_util::stream::iter(attempts)
            .buffer_unordered(64)
            .collect::<Vec<_>>(),
    );
    // Chat goes on meanwhile.
    send_sequence(&alice, conversation, "during", 20).await;
    assert_sequence(&wait_for_count(&bob, conversation, 20).await, "during", 20);
    let answers = flood.await.unwrap();
    assert!(
        answers.iter().all(|a| matches!(a, Ok(401) | Ok(429))),
        "every attempt is refused cleanly: {answers:?}"
    );
    let peak = peak_rss_mib(server.pid());
    println!("server peak RSS during the flood: {peak} MiB");
    assert!(
        peak < FLOOD_RSS_BOUND_MIB,
        "peak RSS {peak} MiB, bound {FLOOD_RSS_BOUND_MIB} MiB"
    );
    // The right password still works (alice's account was never the target).
    let again = TestClient::another_device(&url, "alice").await;
    assert_eq!(again.me().id, alice.me().id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnecting_does_not_buy_a_fresh_send_allowance() {
    let data = TempDir::new().unwrap();
    let mut config = test_config(data.path());
    config.limits.user_sends_per_second = 20;
    config.limits.user_send_burst = 40;
    let server = TestServer::start(config).await;
    let url = server.url();
    let _mallory = TestClient::register(&url, "mallory").await;
    let victim = TestClient::register(&url, "victim").await;
    let session = login(&url, "mallory", PASSWORD, "loop").await;
    let started = Instant::now();
    let (mut stored, mut refused) = (0u32, 0u32);
    // connect → auth → 100 sends → close, five times over.
    for _ in 0..5 {
        let mut socket = RawSocket::signed_in(&url, &session, "loop").await;
        let conversation = flint_tests::seed::open_direct(&mut socket, victim.me().id).await;
        for _ in 0..100 {
            match socket.request(send_body(conversation, "spam")).await {
                response::Result::SendOk(_) => stored += 1,
                response::Result::Error(error) => {
                    assert_eq!(error.code(), ErrorCode::RateLimited);
                    assert!(error.retry_after_ms > 0);
                    refused += 1;
                }
                other => panic!("unexpected answer {other:?}"),
            }
        }
    }
    let allowed = 40.0 + 20.0 * started.elapsed().as_secs_f64() + 2.0;
    assert!(refused > 0, "the limit holds across connections");
    assert!(
        f64::from(stored) <= allowed,
        "{stored} stored; the limit allows {allowed:.0}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_per_user_are_capped() {
    let data = TempDir::new().unwrap();
    let mut config = test_config(data.path());
    config.sessions.max_per_user = 3;
    let server = TestServer::start(config).await;
    let url = server.url();
    let first = TestClient::register(&url, "alice").await;
    for device in 0..3 {
        login(&url, "alice", PASSWORD, &format!("extra{device}")).await;
    }
    // The first device's session was the least recently used: it has ended.
    flint_tests::until(&first, "the oldest session to end", || async {
        let state = first.connection().borrow().clone();
        (state == flint_core::ConnectionState::SignedOut).then_some(())
    })
    .await;
}
