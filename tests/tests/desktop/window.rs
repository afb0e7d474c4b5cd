//! The message window of a long conversation, and the per-conversation and profile switches.

use std::time::Duration;

use serde_json::json;

use flint_tests::desktop::{Scene, UI_PATIENCE};

/// The most message rows the chat keeps in the DOM (`MAX_IN_DOM` in ui/src/components/chat.rs).
const MAX_ROWS: u64 = 300;
/// Messages in the long conversation.
const LONG: usize = 1_000;

/// What the message list shows after scrolling it to one end.
struct Seen {
    rows: u64,
    first: String,
    last: String,
}

/// `i` of a message "m i".
fn index(text: &str) -> Option<usize> {
    text.strip_prefix("m ")?.parse().ok()
}

async fn scroll_messages(scene: &Scene, to_top: bool) -> Seen {
    let script = "const list = document.querySelector('.messages');
        list.scrollTop = arguments[0] ? 0 : list.scrollHeight;
        const bubbles = list.querySelectorAll('.message .bubble');
        return [bubbles.length, bubbles[0]?.textContent ?? '',
                bubbles[bubbles.length - 1]?.textContent ?? ''];";
    let value = scene
        .app
        .client
        .execute(script, vec![json!(to_top)])
        .await
        .unwrap();
    Seen {
        rows: value[0].as_u64().unwrap(),
        first: value[1].as_str().unwrap().to_owned(),
        last: value[2].as_str().unwrap().to_owned(),
    }
}

/// Scrolls to one end until `done`, checking the DOM bound on every step.
async fn scroll_until(scene: &Scene, to_top: bool, done: impl Fn(&Seen) -> bool) -> u64 {
    let deadline = tokio::time::Instant::now() + UI_PATIENCE;
    let mut most = 0;
    loop {
        let seen = scroll_messages(scene, to_top).await;
        most = most.max(seen.rows);
        assert!(seen.rows <= MAX_ROWS, "{} rows in the DOM", seen.rows);
        if done(&seen) {
            return most;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "scrolling never reached the end ({} … {})",
            seen.first,
            seen.last
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_conversation_scrolls_end_to_end_with_a_bounded_dom() {
    let scene = Scene::start(&[]).await;
    for i in 0..LONG {
        scene.bob_says(&format!("m {i}")).await;
    }
    let newest = format!("m {}", LONG - 1);
    // Opened once the list has caught up: a click on a row being redrawn can be lost.
    scene.app.find_text(".row .row-preview", &newest).await;
    scene.app.click(".row").await;
    scene.app.find_text(".message .bubble", &newest).await;

    let most = scroll_until(&scene, true, |seen| seen.first == "m 0").await;
    assert_eq!(most, MAX_ROWS, "the window filled up and then slid");
    // While reading old history a new message only shows as a pill; it opens the newest.
    scene.bob_says("just now").await;
    scene.app.find("#new-messages").await;
    scene.app.click("#new-messages").await;
    scene.app.find_text(".message .bubble", "just now").await;

    // Far enough up that the newest messages left the window, then back down to them.
    scroll_until(&scene, true, |seen| index(&seen.first) <= Some(600)).await;
    scroll_until(&scene, false, |seen| seen.last == "just now").await;
    scene.app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pin_and_mute_change_the_row() {
    let scene = Scene::start(&[]).await;
    scene.bob_says("pin me").await;
    scene.app.click(".row").await;
    scene.app.click("#pin-toggle").await;
    scene.app.find(".row.pinned").await;
    scene.app.click("#mute-toggle").await;
    scene.app.find(".row.pinned.muted .row-flag").await;
    scene.app.click("#mute-toggle").await;
    scene.app.find(".row.pinned:not(.muted)").await;
    scene.app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_profile_panel_shows_me_and_saves_its_switches() {
    let scene = Scene::start(&[]).await;
    scene.app.click("#open-profile").await;
    scene.app.find_text("#profile-username", "@alice").await;
    for (switch, default) in [
        ("#close-to-tray", "true"),
        ("#hardware-acceleration", "false"),
    ] {
        let checkbox = scene.app.find(&format!("{switch}:not([disabled])")).await;
        assert_eq!(
            checkbox.prop("checked").await.unwrap().as_deref(),
            Some(default),
            "{switch} by default"
        );
        scene.app.click(switch).await;
    }
    let saved = scene.app.profile().join("preferences.json");
    let deadline = tokio::time::Instant::now() + UI_PATIENCE;
    loop {
        let text = std::fs::read_to_string(&saved).unwrap_or_default();
        if text.contains("\"close_to_tray\": false")
            && text.contains("\"hardware_acceleration\": true")
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "preferences not saved: {text}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    scene.app.screenshot("profile").await;
    scene.app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_conversation_list_renders_only_the_rows_in_view() {
    let scene = Scene::start(&[]).await;
    let alice = scene.bob.search_users("alice").await.unwrap().remove(0);
    let count = 60;
    // Kept alive until the end: a message is only queued until its sender's outbox sends it.
    let mut peers = Vec::new();
    for i in 0..count {
        let peer = flint_tests::TestClient::register(&scene.url(), &format!("peer{i:02}")).await;
        peer.connection()
            .wait_for(|state| *state == flint_core::ConnectionState::Online)
            .await
            .unwrap();
        let conversation = peer.open_direct(alice.id).await.unwrap();
        peer.send_text(conversation.id, &format!("hello from {i}"))
            .await
            .unwrap();
        peers.push(peer);
    }
    scene
        .app
        .find_text(".row .row-preview", "hello from 59")
        .await;
    let script = "const list = document.querySelector('.rows');
        list.scrollTop = arguments[0] ? list.scrollHeight : 0;
        return document.querySelectorAll('.rows .row').length;";
    let rows = scene
        .app
        .client
        .execute(script, vec![json!(false)])
        .await
        .unwrap();
    assert!(
        rows.as_u64().unwrap() < 30,
        "{rows} rows rendered for {count} conversations"
    );
    // The oldest (bob's chat, then peer00) is reachable at the bottom.
    scene
        .app
        .client
        .execute(script, vec![json!(true)])
        .await
        .unwrap();
    scene
        .app
        .find_text(".row .row-preview", "hello from 0")
        .await;
    scene.app.close().await;
}
