//! Encrypted transport: the server speaks HTTPS/WSS itself with a certificate from a private
//! CA; a client told to trust that CA chats, one that is not refuses; plain http to another
//! machine is refused before anything is sent.

use flint_core::{Client, Error};
use flint_tests::server::test_config;
use flint_tests::users::{client_config, PASSWORD};
use flint_tests::{until, TestServer};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use tempfile::TempDir;
use url::Url;

/// A private CA and a server certificate it signed for this machine: (CA PEM, cert, key).
fn private_ca() -> (String, String, String) {
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "Example Corp Internal CA");
    let ca_key = KeyPair::generate().unwrap();
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let server =
        CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = server.signed_by(&key, &ca_cert, &ca_key).unwrap();
    (ca_cert.pem(), cert.pem(), key.serialize_pem())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_trusting_the_private_ca_chat_over_tls_and_others_refuse() {
    let (ca, cert, key) = private_ca();
    let data = TempDir::new().unwrap();
    let (cert_path, key_path) = (data.path().join("cert.pem"), data.path().join("key.pem"));
    std::fs::write(&cert_path, cert).unwrap();
    std::fs::write(&key_path, key).unwrap();
    let mut config = test_config(&data.path().join("data"));
    config.tls_cert = Some(cert_path);
    config.tls_key = Some(key_path);
    let server = TestServer::start(config).await;
    let url = Url::parse(&format!("https://localhost:{}", server.addr.port())).unwrap();

    let (dir_a, dir_b, dir_c) = (
        TempDir::new().unwrap(),
        TempDir::new().unwrap(),
        TempDir::new().unwrap(),
    );
    let trusting = |dir: &TempDir| {
        let mut config = client_config(&url, dir);
        config.extra_roots_pem = ca.clone().into_bytes();
        config
    };
    Client::register(&trusting(&dir_a), "alice", PASSWORD, "")
        .await
        .unwrap();
    Client::register(&trusting(&dir_b), "bob", PASSWORD, "")
        .await
        .unwrap();
    let alice = Client::login(trusting(&dir_a), "alice", PASSWORD)
        .await
        .unwrap();
    let bob = Client::login(trusting(&dir_b), "bob", PASSWORD)
        .await
        .unwrap();
    let conversation = alice.open_direct(bob.me().id).await.unwrap().id;
    alice
        .send_text(conversation, "over TLS 加密")
        .await
        .unwrap();
    until(&bob, "the message over wss", || async {
        let page = bob.messages(conversation, None, 10).await.unwrap();
        (flint_tests::texts(&page) == ["over TLS 加密"]).then_some(())
    })
    .await;

    // Without the CA the certificate is not trusted: nothing is sent.
    let untrusting = client_config(&url, &dir_c);
    match Client::login(untrusting, "alice", PASSWORD).await {
        Err(Error::Connection(message)) => assert!(
            message.contains("certificate") || message.contains("error sending request"),
            "{message}"
        ),
        other => panic!("expected a TLS failure, got {:?}", other.err()),
    }
    alice.shutdown().await;
    bob.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_http_to_another_machine_is_refused_before_anything_is_sent() {
    let dir = TempDir::new().unwrap();
    let url = Url::parse("http://chat.example.invalid:7800").unwrap();
    let config = client_config(&url, &dir);
    let refused = Client::login(config.clone(), "alice", PASSWORD).await;
    assert!(
        matches!(refused, Err(Error::InsecureTransport)),
        "{:?}",
        refused.err()
    );
    assert_eq!(
        Error::InsecureTransport.code(),
        flint_proto::ErrorCode::InsecureTransport
    );
    let registered = Client::register(&config, "alice", PASSWORD, "").await;
    assert!(matches!(registered, Err(Error::InsecureTransport)));
}
