//! Nothing waits forever: a server that accepts and never answers fails sign-in in time, and
//! the server drops a socket that went silent after authenticating.

use std::time::Duration;

use flint_core::{Client, Error};
use flint_tests::raw::login;
use flint_tests::server::test_config;
use flint_tests::users::{client_config, PASSWORD};
use flint_tests::{RawSocket, TestClient, TestServer};
use tempfile::TempDir;
use url::Url;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_gives_up_on_a_server_that_never_answers() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // Accepts connections and reads nothing, answers nothing.
    let _silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let dir = TempDir::new().unwrap();
    let url = Url::parse(&format!("http://{addr}")).unwrap();
    let mut config = client_config(&url, &dir);
    config.request_timeout = Duration::from_secs(1);
    let attempt = Client::login(config, "alice", PASSWORD);
    let outcome = tokio::time::timeout(Duration::from_secs(20), attempt)
        .await
        .expect("sign-in returns instead of hanging");
    assert!(
        matches!(outcome, Err(Error::Timeout)),
        "{:?}",
        outcome.err()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_silent_socket_is_dropped_after_the_idle_timeout() {
    let data = TempDir::new().unwrap();
    let mut config = test_config(data.path());
    config.limits.idle_timeout_secs = 1;
    let server = TestServer::start(config).await;
    let url = server.url();
    let _mallory = TestClient::register(&url, "mallory").await;
    let session = login(&url, "mallory", PASSWORD, "half-open").await;
    let mut socket = RawSocket::signed_in(&url, &session, "half-open").await;
    // Neither read nor answer pings: to the server this is a peer that vanished.
    tokio::time::timeout(Duration::from_secs(10), socket.wait_for_unread_close())
        .await
        .expect("the server sent a close frame");
    let close = tokio::time::timeout(Duration::from_secs(10), socket.close_code())
        .await
        .expect("the server closed the socket");
    assert_eq!(close, Some(1001));
}
