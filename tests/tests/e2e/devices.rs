//! One account on two devices sees everything on both.

use flint_tests::{texts, until, TestClient};

use crate::{assert_sequence, send_sequence, wait_for_count, Pair};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_devices_receive_and_own_sends_appear_on_the_other() {
    let pair = Pair::start().await;
    let bob2 = pair.bob_elsewhere().await;
    send_sequence(&pair.alice, pair.conversation_id, "to bob", 10).await;
    assert_sequence(
        &wait_for_count(&pair.bob, pair.conversation_id, 10).await,
        "to bob",
        10,
    );
    assert_sequence(
        &wait_for_count(&bob2, pair.conversation_id, 10).await,
        "to bob",
        10,
    );

    pair.bob
        .send_text(pair.conversation_id, "from device 1")
        .await
        .unwrap();
    let on_device_2 = wait_for_count(&bob2, pair.conversation_id, 11).await;
    let last = on_device_2.last().unwrap();
    assert_eq!(texts(std::slice::from_ref(last)), ["from device 1"]);
    assert!(last.is_own, "device 2 knows bob sent it");
    let on_alice = wait_for_count(&pair.alice, pair.conversation_id, 11).await;
    assert_eq!(texts(&on_alice[10..]), ["from device 1"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reading_on_one_device_clears_unread_on_the_other() {
    let pair = Pair::start().await;
    let bob2 = TestClient::another_device(&pair.server.url(), "bob").await;
    pair.alice
        .send_text(pair.conversation_id, "read me")
        .await
        .unwrap();
    until(&bob2, "unread on device 2", || async {
        let view = bob2.conversation(pair.conversation_id).await.unwrap()?;
        (view.unread == 1).then_some(())
    })
    .await;
    wait_for_count(&pair.bob, pair.conversation_id, 1).await;
    pair.bob.mark_read(pair.conversation_id).await.unwrap();
    until(&bob2, "unread cleared on device 2", || async {
        let view = bob2.conversation(pair.conversation_id).await.unwrap()?;
        (view.unread == 0).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_session_reopens_on_its_own_server_whatever_the_default() {
    let pair = Pair::start().await;
    let mut alice = pair.alice;
    alice.stop().await;
    let elsewhere = url::Url::parse("http://127.0.0.1:9").unwrap();
    assert_eq!(
        flint_core::Client::last_server(alice.dir.path()).map(|u| u.origin()),
        Some(pair.server.url().origin())
    );
    let resumed =
        flint_core::Client::resume(flint_tests::users::client_config(&elsewhere, &alice.dir))
            .await
            .unwrap()
            .expect("the kept session");
    pair.bob
        .send_text(pair.conversation_id, "found you")
        .await
        .unwrap();
    let got = until(&resumed, "the message on the resumed client", || async {
        let page = resumed
            .messages(pair.conversation_id, None, 10)
            .await
            .unwrap();
        (!page.is_empty()).then_some(page)
    })
    .await;
    assert_eq!(texts(&got), ["found you"]);
    resumed.shutdown().await;
}
