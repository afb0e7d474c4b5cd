//! The outbox keeps every conversation moving: a message that keeps failing for a passing
//! reason backs off (capped), turns failed after its attempts, and never holds up the other
//! conversations. Against a scripted server, since the real one fails on demand only by
//! refusing (which fails a message at once).

use std::time::Duration;

use flint_core::rules::outbox::RetryPolicy;
use flint_core::{Client, ErrorCode, MessageStatus};
use flint_tests::scripted::{Script, ScriptedServer};
use flint_tests::until;
use flint_tests::users::{client_config, PASSWORD};
use tempfile::TempDir;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_message_backs_off_fails_and_holds_up_only_its_conversation() {
    let (stuck, fine) = (10, 20);
    let server = ScriptedServer::start(Script {
        conversations: vec![stuck, fine],
        failing: [stuck].into(),
        ..Script::default()
    })
    .await;
    let dir = TempDir::new().unwrap();
    let mut config = client_config(&server.url(), &dir);
    config.outbox_retry = RetryPolicy {
        first: Duration::from_millis(50),
        max: Duration::from_millis(200),
        max_attempts: 4,
    };
    let client = Client::login(config, "me", PASSWORD).await.unwrap();
    until(&client, "the conversations", || async {
        (client.conversations().await.unwrap().len() == 2).then_some(())
    })
    .await;
    let bad = client.send_text(stuck, "will not go").await.unwrap();
    for i in 0..3 {
        client.send_text(fine, &format!("goes {i}")).await.unwrap();
    }
    // The other conversation is not held up by the failing one.
    until(
        &client,
        "the other conversation's messages sent",
        || async {
            let page = client.messages(fine, None, 10).await.unwrap();
            page.iter()
                .all(|m| m.status == MessageStatus::Sent)
                .then_some(())
        },
    )
    .await;
    // The failing one turns failed, with its reason, after its attempts.
    let failed = until(&client, "the failing message marked failed", || async {
        let message = client.message(bad.local_id).await.unwrap()?;
        (message.status == MessageStatus::Failed).then_some(message)
    })
    .await;
    assert_eq!(failed.failure, Some(ErrorCode::Internal));
    let tries = server.attempted().iter().filter(|&&c| c == stuck).count();
    assert_eq!(tries, 4, "four attempts, then it gave up");
    assert_eq!(client.outbox_len().await.unwrap(), 0);

    // The user deletes it; it is gone.
    client.delete_failed(bad.local_id).await.unwrap();
    assert!(client.message(bad.local_id).await.unwrap().is_none());
    client.shutdown().await;
}
