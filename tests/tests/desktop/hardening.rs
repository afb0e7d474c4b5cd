//! What a real deployment hits first, in the real app: signing out and in as someone else,
//! a message the server refuses, the device list, and an unencrypted server address.

use flint_tests::desktop::Scene;
use flint_tests::users::PASSWORD;
use flint_tests::{texts, until, TestClient};

/// WebDriver's Enter key.
const ENTER: &str = "\u{E007}";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_and_in_as_someone_else_keeps_the_window_working() {
    let scene = Scene::start(&[]).await;
    let app = &scene.app;
    app.watch_console().await;
    scene.bob_says("for alice").await;
    app.find_text(".row .row-preview", "for alice").await;
    app.click("#sign-out").await;
    app.find("#username").await;
    app.register(&scene.url(), "carol").await;
    let carol = scene.bob.search_users("carol").await.unwrap().remove(0);
    let chat = scene.bob.open_direct(carol.id).await.unwrap().id;
    scene.bob.send_text(chat, "hello carol 你好").await.unwrap();
    app.find_text(".row .row-preview", "hello carol 你好").await;
    app.click(".row").await;
    app.find_text(".message .bubble", "hello carol 你好").await;
    assert_eq!(app.console_errors().await, Vec::<String>::new());
    scene.app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_the_server_refuses_says_why_and_can_be_retried_or_deleted() {
    let mut scene = Scene::start(&[]).await;
    scene.bob_says("hi").await;
    scene.app.click(".row").await;
    scene.app.find_text(".message .bubble", "hi").await;
    // Written while the server is away; it comes back allowing only 40 characters.
    scene.stop_server().await;
    scene.app.find("#connection-banner").await;
    let long = "这条消息比服务器现在允许的长度更长，一共超过四十个字符，所以会被拒绝。".repeat(2);
    scene
        .app
        .type_into("#composer", &format!("{long}{ENTER}"))
        .await;
    scene.app.find(".message.own[data-status='sending']").await;
    scene
        .restart_server_with(|config| config.limits.max_text_chars = 40)
        .await;
    scene
        .app
        .find(".message.own[data-status='failed'] .failed-note")
        .await;
    scene
        .app
        .find_text(
            ".failed-note span",
            "⚠ Not sent: the message is too long for the server.",
        )
        .await;
    scene.app.screenshot("failed-message").await;
    // Retrying fails the same way; a short message after it goes through regardless.
    scene.app.click(".failed-note .retry").await;
    scene
        .app
        .find(".message.own[data-status='failed'] .failed-note")
        .await;
    scene
        .app
        .type_into("#composer", &format!("short one{ENTER}"))
        .await;
    until(&scene.bob, "the short message", || async {
        let got = texts(&scene.bob.all_messages(scene.conversation_id).await);
        (got == ["hi", "short one"]).then_some(())
    })
    .await;
    scene.app.click(".failed-note .delete").await;
    until(&scene.bob, "the failed message gone", || async {
        let failed = scene
            .app
            .client
            .find_all(fantoccini::Locator::Css(".failed-note"))
            .await
            .unwrap();
        failed.is_empty().then_some(())
    })
    .await;
    scene.app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn my_devices_lists_this_one_and_signs_another_out() {
    let scene = Scene::start(&[]).await;
    let phone = TestClient::another_device(&scene.url(), "alice").await;
    until(&phone, "the phone online", || async {
        (*phone.connection().borrow() == flint_core::ConnectionState::Online).then_some(())
    })
    .await;
    scene.app.click("#open-profile").await;
    scene.app.find("#devices .device .role").await;
    let others = ".device .sign-out-device";
    scene.app.find(others).await;
    scene.app.screenshot("my-devices").await;
    scene.app.click(others).await;
    until(&phone, "the phone signed out", || async {
        (*phone.connection().borrow() == flint_core::ConnectionState::SignedOut).then_some(())
    })
    .await;
    scene.app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unencrypted_address_to_another_machine_asks_before_connecting() {
    let app = flint_tests::desktop::App::launch().await;
    app.find("#username").await;
    app.fill("#server", "http://chat.example.invalid:7800")
        .await;
    app.fill("#username", "alice").await;
    app.fill("#password", PASSWORD).await;
    app.click("#submit").await;
    app.find("#signin-error").await;
    let error = app.text_of("#signin-error").await;
    assert!(error.contains("not encrypted"), "{error}");
    app.find("#allow-insecure").await;
    app.screenshot("sign-in-insecure").await;
    app.close().await;
}
