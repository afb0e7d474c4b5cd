//! Chatting through the UI.

use fantoccini::Locator;
use flint_tests::server::test_config;
use flint_tests::{texts, until, TestClient, TestServer};
use tempfile::TempDir;

use crate::App;

/// WebDriver's Enter key.
const ENTER: &str = "\u{E007}";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_receive_and_reply_in_the_ui() {
    let data = TempDir::new().unwrap();
    let server = TestServer::start(test_config(data.path())).await;
    let bob = TestClient::register(&server.url(), "bob").await;
    let app = App::launch().await;
    app.find("#username").await;
    app.screenshot("sign-in").await;
    app.register(&server.url(), "alice").await;

    let alice = bob.search_users("alice").await.unwrap().remove(0);
    let conversation = bob.open_direct(alice.id).await.unwrap();
    bob.send_text(conversation.id, "hello from bob 你好")
        .await
        .unwrap();

    let badge = app.find(".row .unread-badge").await;
    assert_eq!(badge.text().await.unwrap(), "1");
    app.screenshot("main-window").await;
    app.click(".row").await;
    app.find_text(".message .bubble", "hello from bob 你好")
        .await;

    app.type_into("#composer", &format!("hi bob{ENTER}")).await;
    let got = until(&bob, "alice's reply", || async {
        let all = bob.all_messages(conversation.id).await;
        (all.len() == 2).then_some(all)
    })
    .await;
    assert_eq!(texts(&got), ["hello from bob 你好", "hi bob"]);
    app.find(".message.own[data-status='read'], .message.own[data-status='delivered'], .message.own[data-status='sent']")
        .await;
    app.screenshot("chat-light").await;
    app.click("#toggle-theme").await;
    app.screenshot("chat-dark").await;
    app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn markup_in_a_message_is_shown_as_text() {
    let data = TempDir::new().unwrap();
    let server = TestServer::start(test_config(data.path())).await;
    let bob = TestClient::register(&server.url(), "bob").await;
    let app = App::launch().await;
    app.register(&server.url(), "alice").await;
    let alice = bob.search_users("alice").await.unwrap().remove(0);
    let conversation = bob.open_direct(alice.id).await.unwrap();
    let hostile = "<img src=x onerror=alert(1)>";
    bob.send_text(conversation.id, hostile).await.unwrap();
    app.click(".row").await;
    app.find_text(".message .bubble", hostile).await;
    let injected = app
        .client
        .find_all(Locator::Css(".messages img"))
        .await
        .unwrap();
    assert!(
        injected.is_empty(),
        "the markup was not turned into elements"
    );
    app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_sent_offline_is_delivered_once_when_the_server_returns() {
    let data = TempDir::new().unwrap();
    let server = TestServer::start(test_config(data.path())).await;
    let bob = TestClient::register(&server.url(), "bob").await;
    let app = App::launch().await;
    app.register(&server.url(), "alice").await;
    let alice = bob.search_users("alice").await.unwrap().remove(0);
    let conversation = bob.open_direct(alice.id).await.unwrap();
    bob.send_text(conversation.id, "are you there?")
        .await
        .unwrap();
    app.click(".row").await;
    app.find_text(".message .bubble", "are you there?").await;

    let config = server.stop().await;
    app.find("#connection-banner").await;
    app.type_into("#composer", &format!("written offline{ENTER}"))
        .await;
    app.find(".message.own[data-status='sending']").await;
    let _server = TestServer::start(config).await;
    app.find(".message.own[data-status='sent'], .message.own[data-status='delivered'], .message.own[data-status='read']")
        .await;
    let got = until(&bob, "the offline message", || async {
        let all = bob.all_messages(conversation.id).await;
        (all.len() >= 2).then_some(all)
    })
    .await;
    assert_eq!(texts(&got), ["are you there?", "written offline"]);
    app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_app_instances_chat_with_each_other() {
    let data = TempDir::new().unwrap();
    let server = TestServer::start(test_config(data.path())).await;
    let first = App::launch().await;
    let second = App::launch().await;
    first.register(&server.url(), "carol").await;
    second.register(&server.url(), "dave").await;

    first.click("#new-chat").await;
    first.fill("#user-search", "dave").await;
    first
        .click(".user-result[data-username='dave'] .person")
        .await;
    first
        .type_into("#composer", &format!("hi dave, carol here{ENTER}"))
        .await;

    second.click(".row").await;
    second
        .find_text(".message .bubble", "hi dave, carol here")
        .await;
    second
        .type_into("#composer", &format!("hello carol{ENTER}"))
        .await;
    first.find_text(".message .bubble", "hello carol").await;
    first.close().await;
    second.close().await;
}
