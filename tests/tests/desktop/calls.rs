//! A call between two real app instances: the caller's header button rings the other app,
//! which shows the incoming call and accepts it; both apps' WebRTC engines connect, and a
//! hang-up ends it on both, leaving a call-log bubble in the chat.

use flint_tests::desktop::App;
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
