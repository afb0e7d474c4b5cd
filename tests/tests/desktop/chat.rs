//! Chatting through the UI.

use fantoccini::Locator;
use flint_tests::server::test_config;
use flint_tests::{texts, until, TestServer};
use tempfile::TempDir;

use flint_tests::desktop::{App, Scene};

/// WebDriver's Enter key.
const ENTER: &str = "\u{E007}";
/// Any status an own message has once the server stored it.
const STORED: &str = ".message.own[data-status='sent'], .message.own[data-status='delivered'], \
                      .message.own[data-status='read']";

/// Waits until bob holds `texts` in the conversation, in order.
async fn bob_sees(scene: &Scene, expected: &[&str]) {
    let got = until(&scene.bob, "bob's messages", || async {
        let all = scene.bob.all_messages(scene.conversation_id).await;
        (all.len() >= expected.len()).then_some(all)
    })
    .await;
    assert_eq!(texts(&got), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_receive_and_reply_in_the_ui() {
    let scene = Scene::start(&[]).await;
    let app = &scene.app;
    scene.bob_says("hello from bob 你好").await;
    assert_eq!(app.text_of(".row .unread-badge").await, "1");
    app.screenshot("main-window").await;
    app.click(".row").await;
    app.find_text(".message .bubble", "hello from bob 你好")
        .await;
    app.type_into("#composer", &format!("hi bob{ENTER}")).await;
    bob_sees(&scene, &["hello from bob 你好", "hi bob"]).await;
    app.find(STORED).await;
    app.screenshot("chat-light").await;
    app.click("#toggle-theme").await;
    app.screenshot("chat-dark").await;
    scene.app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn markup_in_a_message_is_shown_as_text() {
    let scene = Scene::start(&[]).await;
    let hostile = "<img src=x onerror=alert(1)>";
    scene.bob_says(hostile).await;
    scene.app.click(".row").await;
    scene.app.find_text(".message .bubble", hostile).await;
    let injected = scene
        .app
        .client
        .find_all(Locator::Css(".messages img"))
        .await
        .unwrap();
    assert!(
        injected.is_empty(),
        "the markup was not turned into elements"
    );
    scene.app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_sent_offline_is_delivered_once_when_the_server_returns() {
    let mut scene = Scene::start(&[]).await;
    scene.bob_says("are you there?").await;
    scene.app.click(".row").await;
    scene
        .app
        .find_text(".message .bubble", "are you there?")
        .await;

    scene.stop_server().await;
    scene.app.find("#connection-banner").await;
    scene
        .app
        .type_into("#composer", &format!("written offline{ENTER}"))
        .await;
    scene.app.find(".message.own[data-status='sending']").await;
    scene.restart_server().await;
    scene.app.find(STORED).await;
    bob_sees(&scene, &["are you there?", "written offline"]).await;
    scene.app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_app_instances_chat_with_each_other() {
    let data = TempDir::new().unwrap();
    let server = TestServer::start(test_config(data.path())).await;
    let first = App::launch().await;
    let second = App::launch().await;
    first.find("#username").await;
    first.screenshot("sign-in").await;
    first.register(&server.url(), "carol").await;
    second.register(&server.url(), "dave").await;

    first.start_chat_with("dave").await;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_info_drawer_lists_a_groups_members() {
    let scene = Scene::start(&[]).await;
    let carol = flint_tests::TestClient::register(&scene.url(), "carol").await;
    let alice = scene.bob.search_users("alice").await.unwrap().remove(0);
    let group = scene
        .bob
        .create_group("周末爬山 Hiking", &[alice.id, carol.me().id])
        .await
        .unwrap();
    scene.bob.send_text(group.id, "周六见").await.unwrap();
    scene.app.open_chat(group.id, "周末爬山 Hiking").await;
    scene.app.click("#members-toggle").await;
    for username in ["alice", "bob", "carol"] {
        scene
            .app
            .find(&format!(".member[data-username='{username}']"))
            .await;
    }
    scene
        .app
        .find_text(".member[data-username='bob'] .role", "owner")
        .await;
    scene.app.screenshot("group-members").await;
    scene.app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_out_returns_to_sign_in_and_forgets_the_session() {
    let scene = Scene::start(&[]).await;
    let last_account = scene.app.profile().join("last-account");
    assert!(
        last_account.exists(),
        "signing up keeps the session for the next launch"
    );
    scene.app.click("#sign-out").await;
    scene.app.find("#username").await;
    until(&scene.bob, "the session to be forgotten", || async {
        (!last_account.exists()).then_some(())
    })
    .await;
    scene.app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kept_session_reopens_to_the_conversation_list() {
    let scene = Scene::start(&[]).await;
    scene.bob_says("still there?").await;
    scene.app.find(".row").await;
    let profile = scene.app.close().await;
    let again = App::launch_binary(&flint_tests::desktop::app_binary(), profile, &[]).await;
    // Straight to the list: the kept session opens without the sign-in screen.
    again.find_text(".row .row-preview", "still there?").await;
    again.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flint_link_opens_its_conversation() {
    let scene = Scene::start(&[]).await;
    scene.bob_says("follow the link").await;
    scene.app.find(".row").await;
    let profile = scene.app.close().await;
    let link = format!("flint://conversation/{}", scene.conversation_id);
    let again = App::launch_with_args(profile, &[&link]).await;
    again.find_text(".message .bubble", "follow the link").await;
    again.close().await;
}
