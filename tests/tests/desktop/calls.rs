//! A call between two real app instances: the caller's header button rings the other app,
//! which shows the incoming call and accepts it; both apps' WebRTC engines connect, the
//! call's length counts up, the network shows good, and a hang-up ends it on both, leaving a
//! call-log bubble in the chat; a call the server refuses is told; a video call shows the
//! caller's camera in the callee's window.

use flint_proto::ipc::CallKind;
use flint_tests::desktop::{App, Scene};
use flint_tests::server::test_config;
use flint_tests::TestServer;
use tempfile::TempDir;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_rings_the_other_app_is_answered_and_hung_up_on_both() {
    let data = TempDir::new().unwrap();
    let server = TestServer::start(test_config(data.path())).await;
    let url = server.url();
    let caller = App::launch().await;
    let callee = App::launch().await;
    caller.register(&url, "erin").await;
    callee.register(&url, "frank").await;
    caller.start_chat_with("frank").await;
    caller.watch_console().await;
    callee.watch_console().await;

    caller.click("#call-audio").await;
    caller.find("#call-overlay[data-phase='ringing']").await;
    callee
        .find("#call-overlay[data-phase='ringing'] #call-accept")
        .await;
    callee.screenshot("call-incoming").await;
    callee.click("#call-accept").await;
    // The apps' own engine sets the media up (no sound devices here: silence both ways).
    callee
        .find("#call-overlay[data-phase='connected'] #call-hang-up")
        .await;
    caller.find("#call-overlay[data-phase='connected']").await;
    // The call's length counts up while it lasts.
    callee.find_text("#call-clock", "0:02").await;
    callee.find_text("#call-clock", "0:03").await;
    // The other app's reports say nothing is lost on loopback: three bars.
    callee.find("#call-quality[data-quality='3']").await;
    caller.find("#call-quality[data-quality='3']").await;
    caller.screenshot("call-answered").await;

    caller.click("#call-hang-up").await;
    caller.find("#call-overlay[data-phase='ended']").await;
    callee.find("#call-overlay[data-phase='ended']").await;
    caller.find(".bubble.call-log").await;
    caller.screenshot("call-ended").await;
    callee.click("#call-dismiss").await;
    assert!(caller.console_errors().await.is_empty());
    assert!(callee.console_errors().await.is_empty());
    caller.close().await;
    callee.close().await;
}

/// Calling someone already in another call is refused by the server: the app says they are
/// busy (rather than doing nothing) and the chat gets its "busy" call-log bubble.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calling_someone_in_another_call_says_they_are_busy() {
    let scene = Scene::start(&[]).await;
    let carol = flint_tests::TestClient::register(&scene.url(), "carol").await;
    let with_carol = scene.bob.open_direct(carol.me().id).await.unwrap().id;
    scene
        .bob
        .start_call(with_carol, CallKind::Audio)
        .await
        .unwrap();
    scene.bob_says("in a call").await;
    let app = &scene.app;
    app.open_chat(scene.conversation_id, "bob").await;
    app.click("#call-audio").await;
    app.find_text(
        ".problem .problem-text",
        "They are in another call. Try again later.",
    )
    .await;
    app.find(".bubble.call-log").await;
    app.screenshot("call-busy").await;
    scene.app.close().await;
}

/// What the callee's window draws of the caller's video: a checksum of its pixels and how
/// many are brighter than black (fetched as the `<img>` shows it and painted into a canvas by
/// the page).
const PICTURE_PIXELS: &str = "
    const done = arguments[arguments.length - 1];
    const img = document.querySelector('#call-remote-video');
    if (!img || !img.src) { done(null); return; }
    fetch(img.src).then(r => r.blob()).then(createImageBitmap).then(bitmap => {
        const canvas = document.createElement('canvas');
        canvas.width = bitmap.width;
        canvas.height = bitmap.height;
        const context = canvas.getContext('2d');
        context.drawImage(bitmap, 0, 0);
        const data = context.getImageData(0, 0, canvas.width, canvas.height).data;
        let sum = 0, lit = 0;
        for (let i = 0; i < data.length; i += 4) {
            sum = (sum * 31 + data[i]) % 1000000007;
            if (data[i] + data[i + 1] + data[i + 2] > 120) lit++;
        }
        done([sum, lit, canvas.width, canvas.height]);
    }, () => done(null));";

/// Counts the pictures the callee's `<img>` loads in three seconds.
const SHOWN_IN_THREE_SECONDS: &str = "
    const done = arguments[arguments.length - 1];
    const img = document.querySelector('#call-remote-video');
    let loads = 0;
    const count = () => loads++;
    img.addEventListener('load', count);
    setTimeout(() => { img.removeEventListener('load', count); done(loads); }, 3000);";

/// Waits until nothing in `app`'s page matches `css`.
async fn until_gone(app: &App, css: &str) {
    let script = format!("return document.querySelector(\"{css}\") === null");
    for _ in 0..200 {
        if app.client.execute(&script, vec![]).await.unwrap().as_bool() == Some(true) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{css} stayed on the page");
}

/// A video call between two apps: the caller's camera (a debug build's test pattern) reaches
/// the callee's window as moving, lit pictures at the camera's size; turning it off is told.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_video_call_shows_the_callers_moving_picture_in_the_callees_window() {
    let data = TempDir::new().unwrap();
    let server = TestServer::start(test_config(data.path())).await;
    let url = server.url();
    let caller = App::launch_with_env(&[("FLINT_TEST_CAMERA", "1")]).await;
    let callee = App::launch().await;
    caller.register(&url, "kate").await;
    callee.register(&url, "liam").await;
    caller.start_chat_with("liam").await;
    caller.click("#call-video").await;
    callee
        .find("#call-overlay[data-phase='ringing'] #call-accept")
        .await;
    callee.click("#call-accept").await;
    callee.find("#call-overlay[data-phase='connected']").await;
    callee.find("#call-remote-video").await;
    let mut sums = std::collections::HashSet::new();
    for _ in 0..200 {
        let drawn = callee
            .client
            .execute_async(PICTURE_PIXELS, vec![])
            .await
            .unwrap();
        if let Some([sum, lit, width, height]) = drawn.as_array().map(|a| {
            let n = |i: usize| a.get(i).and_then(|v| v.as_u64()).unwrap_or(0);
            [n(0), n(1), n(2), n(3)]
        }) {
            assert_eq!((width, height), (640, 480), "the camera's size");
            assert!(lit > 640 * 480 / 4, "lit, not black: {lit} pixels");
            sums.insert(sum);
            if sums.len() >= 3 {
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        sums.len() >= 3,
        "the picture moves: {} different",
        sums.len()
    );
    callee.screenshot("call-video").await;
    // Printed for docs/BENCHMARKS.md: pictures the callee's `<img>` loaded in three seconds
    // (none, when each new address replaced the last before it loaded).
    let loads = callee
        .client
        .execute_async(SHOWN_IN_THREE_SECONDS, vec![])
        .await
        .unwrap();
    let shown = loads.as_f64().unwrap_or(0.0) / 3.0;
    println!("pictures shown in the webview: {shown:.1} a second");
    assert!(
        shown >= 1.0,
        "the picture keeps being shown as it changes: {shown:.1} a second"
    );

    // The caller turns the camera off: the callee is told, and the picture goes.
    caller.click("#call-camera").await;
    caller.find("#call-camera[aria-pressed='true']").await;
    callee.find("#call-remote-camera-off").await;
    until_gone(&callee, "#call-remote-video").await;
    callee.click("#call-hang-up").await;
    caller.find("#call-overlay[data-phase='ended']").await;
    caller.close().await;
    callee.close().await;
}
