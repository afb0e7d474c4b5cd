//! Flint's benchmark figures, printed (never asserted). Each runs a real `flint-server`
//! process on loopback with its own SQLite file; see `docs/BENCHMARKS.md`.
//!
//! `flint-bench [latency|throughput|ingest|idle|all|files]` (`files` writes ~7 GB of temporary
//! files, so `all` leaves it out)

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use flint_core::{Client, ClientConfig, ConnectionState};
use flint_proto::api::LoginResponse;
use flint_proto::wire::{self, frame, push, request};
use flint_tests::raw::{login, request_frame, Incoming};
use flint_tests::seed::{open_direct, register, send_body};
use flint_tests::server::free_addr;
use flint_tests::users::PASSWORD;
use flint_tests::{RawSocket, ServerProcess};
use hdrhistogram::Histogram;
use tempfile::TempDir;
use url::Url;

/// A server process with limits lifted for load (rate limits would measure themselves).
struct BenchServer {
    process: ServerProcess,
    _data: TempDir,
}

impl BenchServer {
    async fn start() -> Self {
        let data = TempDir::new().unwrap();
        let config = data.path().join("bench.toml");
        std::fs::write(
            &config,
            "[limits]\nrequests_per_second = 10000000\nrequest_burst = 10000000\n\
             user_sends_per_second = 10000000\nuser_send_burst = 10000000\n\
             [throttle]\nregistrations_per_hour = 10000000\n",
        )
        .unwrap();
        let binary = sibling_binary("flint-server-process");
        let process =
            ServerProcess::start_with_config(&binary, free_addr(), data.path(), &config).await;
        Self {
            process,
            _data: data,
        }
    }

    fn url(&self) -> Url {
        self.process.url()
    }
}

fn sibling_binary(name: &str) -> PathBuf {
    let me = std::env::current_exe().unwrap();
    me.with_file_name(format!("{name}{}", std::env::consts::EXE_SUFFIX))
}

async fn signed_in(url: &Url, username: &str) -> (RawSocket, LoginResponse) {
    let device = format!("bench-{username}");
    let session = login(url, username, PASSWORD, &device).await;
    (RawSocket::signed_in(url, &session, &device).await, session)
}

fn inbox_push(incoming: Incoming) -> Option<wire::InboxEntry> {
    match incoming {
        Incoming::Frame(wire::Frame {
            kind:
                Some(frame::Kind::Push(wire::Push {
                    body: Some(push::Body::Inbox(entry)),
                })),
        }) => Some(entry),
        _ => None,
    }
}

/// A sender/receiver pair on raw sockets in one direct conversation.
async fn raw_pair(url: &Url, tag: &str) -> (RawSocket, RawSocket, i64) {
    let (a, b) = (format!("a{tag}"), format!("b{tag}"));
    register(url, &a).await;
    let bob_id = register(url, &b).await;
    let (mut sender, _) = signed_in(url, &a).await;
    let (receiver, _) = signed_in(url, &b).await;
    let conversation = open_direct(&mut sender, bob_id).await;
    (sender, receiver, conversation)
}

/// Send→receive latency at a fixed rate: the time from writing a `Send` on alice's socket to
/// reading its push on bob's.
async fn latency(rate: u32, seconds: u32) {
    let server = BenchServer::start().await;
    let (mut sender, mut receiver, conversation) = raw_pair(&server.url(), "lat").await;
    let sent_at: Arc<Mutex<HashMap<String, Instant>>> = Arc::default();
    let total = rate * seconds;
    let (times, mut sender_rx) = (Arc::clone(&sent_at), tokio::sync::mpsc::channel::<()>(1));
    let reader = tokio::spawn(async move {
        let mut histogram = Histogram::<u64>::new(3).unwrap();
        let mut seen = 0;
        while seen < total {
            let Some(entry) = inbox_push(receiver.next().await) else {
                continue;
            };
            let key = format!("{:?}", entry.message.unwrap().client_id);
            if let Some(start) = times.lock().unwrap().remove(&key) {
                histogram
                    .record(start.elapsed().as_micros() as u64)
                    .unwrap();
                seen += 1;
            }
        }
        histogram
    });
    let writer = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1) / rate);
        for i in 0..total {
            tick.tick().await;
            let body = send_body(conversation, &format!("latency {i}"));
            let request::Body::Send(send) = &body else {
                unreachable!()
            };
            let key = format!("{:?}", send.client_id);
            sent_at.lock().unwrap().insert(key, Instant::now());
            sender.send_request(body).await;
        }
        // Keep the socket (and its unread answers) alive until the reader is done.
        let _ = sender_rx.1.recv().await;
        drop(sender);
    });
    let histogram = reader.await.unwrap();
    drop(sender_rx.0);
    let _ = writer.await;
    println!(
        "latency: {total} msgs at {rate}/s  p50 {:.2} ms  p99 {:.2} ms  p99.9 {:.2} ms  max {:.2} ms",
        histogram.value_at_quantile(0.50) as f64 / 1000.0,
        histogram.value_at_quantile(0.99) as f64 / 1000.0,
        histogram.value_at_quantile(0.999) as f64 / 1000.0,
        histogram.max() as f64 / 1000.0,
    );
}

/// Messages persisted and delivered per second with `pairs` sender/receiver pairs, each
/// sender keeping a window of sends in flight.
async fn throughput(pairs: usize, per_pair: usize) {
    let server = BenchServer::start().await;
    let url = server.url();
    let mut setups = Vec::new();
    for p in 0..pairs {
        setups.push(raw_pair(&url, &format!("tp{p}")).await);
    }
    let start = Instant::now();
    let mut tasks = Vec::new();
    for (mut sender, mut receiver, conversation) in setups {
        tasks.push(tokio::spawn(async move {
            const WINDOW: usize = 32;
            let mut next_id = 1u64;
            let mut acked = 0usize;
            while acked < per_pair {
                while (next_id as usize) <= per_pair && (next_id as usize) - acked <= WINDOW {
                    let frame = request_frame(next_id, send_body(conversation, "throughput"));
                    sender.send_bytes(frame).await;
                    next_id += 1;
                }
                let response = sender.next_response().await;
                assert!(
                    matches!(response.result, Some(wire::response::Result::SendOk(_))),
                    "send refused: {response:?}"
                );
                acked += 1;
            }
            sender
        }));
        tasks.push(tokio::spawn(async move {
            let mut delivered = 0;
            while delivered < per_pair {
                if let Some(entry) = inbox_push(receiver.next().await) {
                    delivered += 1;
                    if delivered % 256 == 0 || delivered == per_pair {
                        let ack = request::Body::Ack(wire::Ack {
                            up_to_seq: entry.seq,
                        });
                        receiver.send_request(ack).await;
                    }
                }
            }
            receiver
        }));
    }
    let mut sockets = Vec::new();
    for task in tasks {
        sockets.push(task.await.unwrap());
    }
    let elapsed = start.elapsed().as_secs_f64();
    let total = pairs * per_pair;
    println!(
        "throughput: {pairs} pairs × {per_pair} = {total} msgs persisted and delivered in {elapsed:.2} s \
         = {:.0} msgs/s",
        total as f64 / elapsed
    );
}

/// A fresh client syncing `count` messages into its SQLite cache.
async fn ingest(count: usize) {
    let server = BenchServer::start().await;
    let url = server.url();
    let (mut sender, receiver, conversation) = raw_pair(&url, "ing").await;
    // Bob is offline while the history piles up.
    drop(receiver);
    let preload = Instant::now();
    let mut next_id = 1u64;
    let mut acked = 0usize;
    while acked < count {
        while (next_id as usize) <= count && (next_id as usize) - acked <= 64 {
            let frame = request_frame(
                next_id,
                send_body(conversation, &format!("history {next_id}")),
            );
            sender.send_bytes(frame).await;
            next_id += 1;
        }
        sender.next_response().await;
        acked += 1;
    }
    println!(
        "ingest: preloaded {count} msgs in {:.2} s",
        preload.elapsed().as_secs_f64()
    );
    let (mut receiver, _) = signed_in(&url, "bing").await;
    let raw = Instant::now();
    let mut since_seq = 0;
    loop {
        let sync = request::Body::Sync(wire::SyncRequest {
            since_seq,
            limit: 500,
        });
        let wire::response::Result::SyncPage(page) = receiver.request(sync).await else {
            panic!("sync refused")
        };
        since_seq = page.entries.last().map_or(since_seq, |e| e.seq);
        if !page.has_more {
            break;
        }
    }
    println!(
        "ingest: the server serves {since_seq} inbox entries in pages of 500 at {:.0} entries/s",
        since_seq as f64 / raw.elapsed().as_secs_f64()
    );
    drop(receiver);
    let dir = TempDir::new().unwrap();
    let start = Instant::now();
    let client = Client::login(ClientConfig::new(url.clone(), dir.path()), "bing", PASSWORD)
        .await
        .unwrap();
    let mut state = client.connection();
    state
        .wait_for(|s| *s == ConnectionState::Online)
        .await
        .unwrap();
    let elapsed = start.elapsed().as_secs_f64();
    let stored = client.messages(conversation, None, 1).await.unwrap();
    assert_eq!(stored.len(), 1);
    println!(
        "ingest: {count} msgs synced into a fresh client cache in {elapsed:.2} s = {:.0} msgs/s",
        count as f64 / elapsed
    );
    client.shutdown().await;
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Server memory per idle authenticated connection.
async fn idle(connections: usize) {
    let server = BenchServer::start().await;
    let url = server.url();
    register(&url, "idle").await;
    let session = login(&url, "idle", PASSWORD, "idle-device").await;
    let pid = server.process.pid();
    // Warm up allocator arenas and the store with a few connections first.
    let mut sockets = Vec::new();
    for _ in 0..20 {
        sockets.push(RawSocket::signed_in(&url, &session, "idle-device").await);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let before = rss_kib(pid);
    for _ in 0..connections {
        sockets.push(RawSocket::signed_in(&url, &session, "idle-device").await);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = rss_kib(pid);
    println!(
        "idle: {connections} authenticated idle connections cost the server {:.1} MiB RSS = {:.1} KiB each",
        (after.saturating_sub(before)) as f64 / 1024.0,
        (after.saturating_sub(before)) as f64 / connections as f64
    );
}

/// Upload and download of one large file on loopback against `cp` of it, then the server's
/// memory while `clients` upload `each` bytes at once.
async fn files(size: u64, clients: usize, each: u64) {
    use flint_core::transfer::{self, Resume};
    use flint_tests::files::{random_file, FileUser};
    use tokio_util::sync::CancellationToken;

    let server = BenchServer::start().await;
    let url = server.url();
    let dir = TempDir::new().unwrap();
    let source = dir.path().join("source");
    random_file(&source, size, 1);
    let copy = dir.path().join("copy");
    let started = Instant::now();
    let copied = std::process::Command::new("cp")
        .arg(&source)
        .arg(&copy)
        .status()
        .unwrap();
    assert!(copied.success());
    let cp_secs = started.elapsed().as_secs_f64();
    std::fs::remove_file(&copy).unwrap();

    let user = FileUser::register(&url, "files").await;
    let cancel = CancellationToken::new();
    let started = Instant::now();
    let uploaded = transfer::upload(
        &user.service,
        &source,
        "big",
        &mut Resume::default(),
        &mut |_, _, _| {},
        &cancel,
    )
    .await
    .unwrap();
    let up_secs = started.elapsed().as_secs_f64();
    let back = dir.path().join("back");
    let started = Instant::now();
    transfer::download(
        &user.service,
        &uploaded.file_id,
        size,
        &back,
        &mut |_, _| {},
        &cancel,
    )
    .await
    .unwrap();
    let down_secs = started.elapsed().as_secs_f64();
    std::fs::remove_file(&back).unwrap();
    let mib = size as f64 / (1 << 20) as f64;
    println!(
        "files: {mib:.0} MiB — cp {:.0} MiB/s; upload {:.0} MiB/s = {:.2}× cp (hash included); download {:.0} MiB/s = {:.2}× cp",
        mib / cp_secs,
        mib / up_secs,
        cp_secs / up_secs,
        mib / down_secs,
        cp_secs / down_secs
    );

    thumbnail_time(dir.path());

    let pid = server.process.pid();
    let idle = rss_kib(pid);
    let mut users = Vec::new();
    for n in 0..clients {
        let path = dir.path().join(format!("each-{n}"));
        random_file(&path, each, 100 + n as u64);
        users.push((
            FileUser::register(&url, &format!("uploader{n}")).await,
            path,
        ));
    }
    let peak = Arc::new(Mutex::new(idle));
    let watching = {
        let peak = Arc::clone(&peak);
        tokio::spawn(async move {
            loop {
                let now = rss_kib(pid);
                {
                    let mut peak = peak.lock().unwrap();
                    *peak = (*peak).max(now);
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
    };
    let uploads = users.iter().map(|(user, path)| {
        let cancel = cancel.clone();
        async move {
            transfer::upload(
                &user.service,
                path,
                "each",
                &mut Resume::default(),
                &mut |_, _, _| {},
                &cancel,
            )
            .await
            .unwrap()
        }
    });
    futures_util::future::join_all(uploads).await;
    watching.abort();
    let peak = *peak.lock().unwrap();
    println!(
        "files: {clients} clients uploading {:.0} MiB each at once: server RSS {:.1} MiB idle, peak {:.1} MiB (+{:.1} MiB)",
        each as f64 / (1 << 20) as f64,
        idle as f64 / 1024.0,
        peak as f64 / 1024.0,
        peak.saturating_sub(idle) as f64 / 1024.0
    );
}

/// Time from a dropped 10 MB photo to its thumbnail: what the shell does for the sheet
/// (sniff, decode with EXIF orientation, scale, encode), the median of five.
fn thumbnail_time(dir: &std::path::Path) {
    let photo = dir.join("photo.jpg");
    let size = flint_tests::files::photo(&photo);
    let mut times: Vec<f64> = (0..5)
        .map(|_| {
            let started = Instant::now();
            flint_core::media::picture(&photo).unwrap().unwrap();
            started.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    times.sort_by(f64::total_cmp);
    println!(
        "files: a {:.1} MB 3000×2000 JPEG → size, preview and thumbnail in {:.0} ms (median of 5)",
        size as f64 / 1e6,
        times[2]
    );
}

#[tokio::main]
async fn main() {
    let which = std::env::args().nth(1).unwrap_or_else(|| "all".into());
    let all = which == "all";
    if all || which == "latency" {
        latency(1000, 10).await;
    }
    if all || which == "throughput" {
        throughput(100, 2000).await;
    }
    if all || which == "ingest" {
        ingest(100_000).await;
    }
    if all || which == "idle" {
        idle(2000).await;
    }
    if which == "files" {
        files(1 << 30, 10, 500 << 20).await;
    }
}
