//! OS notifications: a private D-Bus session with a recording notification server stands in for
//! the desktop's notification daemon.

use std::collections::HashMap;
use std::process::Stdio;
use std::time::Duration;

use fantoccini::Locator;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::mpsc;

use flint_proto::ipc::{CallKind, CallOutcome, CallPhase};
use flint_tests::desktop::Scene;

/// The id the recorder gives every notification.
const NOTIFICATION_ID: u32 = 7;

/// What one `Notify` call raised: summary, body, and the actions' keys.
type Raised = (String, String, Vec<String>);

/// Records every `Notify` call.
struct Recorder {
    calls: mpsc::UnboundedSender<Raised>,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl Recorder {
    #[allow(clippy::too_many_arguments)]
    async fn notify(
        &self,
        _app_name: String,
        _replaces_id: u32,
        _app_icon: String,
        summary: String,
        body: String,
        actions: Vec<String>,
        _hints: HashMap<String, zbus::OwnedVariant>,
        _expire_timeout: i32,
    ) -> u32 {
        // Actions come as key, label, key, label, …
        let keys = actions.into_iter().step_by(2).collect();
        let _ = self.calls.send((summary, body, keys));
        NOTIFICATION_ID
    }

    async fn get_capabilities(&self) -> Vec<String> {
        vec!["body".into()]
    }

    async fn get_server_information(&self) -> (String, String, String, String) {
        (
            "flint-test".into(),
            "flint".into(),
            "1".into(),
            "1.2".into(),
        )
    }
}

/// A private session bus; the daemon dies with the test.
async fn session_bus() -> (tokio::process::Child, String) {
    let mut daemon = tokio::process::Command::new("dbus-daemon")
        .args(["--session", "--nofork", "--print-address=1"])
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("dbus-daemon starts");
    let stdout = daemon.stdout.take().unwrap();
    let mut address = String::new();
    BufReader::new(stdout)
        .read_line(&mut address)
        .await
        .unwrap();
    (daemon, address.trim().to_owned())
}

/// The recorder on a private bus, and the app started on that bus.
async fn scene_with_notifications() -> (
    Scene,
    zbus::Connection,
    mpsc::UnboundedReceiver<Raised>,
    tokio::process::Child,
) {
    let (scene, bus, recorded, daemon, _address) = scene_on_private_bus(&[]).await;
    (scene, bus, recorded, daemon)
}

/// Like [`scene_with_notifications`], with `env` for the app too, and the bus address (to
/// start the app again on it).
async fn scene_on_private_bus(
    env: &[(&str, &str)],
) -> (
    Scene,
    zbus::Connection,
    mpsc::UnboundedReceiver<Raised>,
    tokio::process::Child,
    String,
) {
    let (daemon, address) = session_bus().await;
    let (calls, recorded) = mpsc::unbounded_channel();
    let bus = zbus::connection::Builder::address(address.as_str())
        .name("org.freedesktop.Notifications")
        .serve_at("/org/freedesktop/Notifications", Recorder { calls })
        .build()
        .await
        .unwrap();
    let mut env = env.to_vec();
    env.push(("DBUS_SESSION_BUS_ADDRESS", &address));
    let scene = Scene::start(&env).await;
    (scene, bus, recorded, daemon, address)
}

/// Invokes `action` on the notification again and again (the app subscribes to the signal
/// just after `Notify` returns); never ends.
async fn click(bus: &zbus::Connection, action: &str) {
    loop {
        bus.emit_signal(
            None::<()>,
            "/org/freedesktop/Notifications",
            "org.freedesktop.Notifications",
            "ActionInvoked",
            &(NOTIFICATION_ID, action),
        )
        .await
        .unwrap();
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

async fn next_notification(recorded: &mut mpsc::UnboundedReceiver<Raised>) -> Raised {
    tokio::time::timeout(Duration::from_secs(30), recorded.recv())
        .await
        .expect("a Notify call within 30 s")
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_message_raises_a_notification_with_sender_and_text() {
    let (scene, _bus, mut recorded, _daemon) = scene_with_notifications().await;
    scene.bob_says("ping 通知").await;
    let (summary, body, _) = next_notification(&mut recorded).await;
    assert_eq!(summary, "bob");
    assert_eq!(body, "ping 通知");
    scene.app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clicking_the_notification_opens_its_conversation() {
    let (scene, bus, mut recorded, _daemon) = scene_with_notifications().await;
    scene.bob_says("click me").await;
    next_notification(&mut recorded).await;
    assert!(scene
        .app
        .client
        .find(Locator::Css(".chat-title"))
        .await
        .is_err());
    // A notification waiting for its click must not hold up the events behind it.
    scene.bob_says("and another").await;
    scene
        .app
        .find_text(".row .row-preview", "and another")
        .await;
    next_notification(&mut recorded).await;
    // The app subscribes to the click signal just after `Notify` returns: click until it opens.
    tokio::select! {
        _ = click(&bus, "default") => unreachable!(),
        _ = scene.app.find_text(".chat-title", "bob") => {}
    }
    scene.app.find_text(".message .bubble", "click me").await;
    scene.app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_catch_up_brings_is_one_summary_notification() {
    let (scene, _bus, mut recorded, _daemon, address) = scene_on_private_bus(&[]).await;
    scene.bob_says("first").await;
    next_notification(&mut recorded).await;
    // Alice's app is away while bob writes twelve messages; it comes back on the same profile.
    let profile = scene.app.close().await;
    for i in 0..12 {
        let text = format!("while away {i}");
        scene
            .bob
            .send_text(scene.conversation_id, &text)
            .await
            .unwrap();
    }
    let env = [("DBUS_SESSION_BUS_ADDRESS", address.as_str())];
    let binary = flint_tests::desktop::app_binary();
    let again = flint_tests::desktop::App::launch_binary(&binary, profile, &env).await;
    let (summary, body, _) = next_notification(&mut recorded).await;
    assert_eq!(summary, "Flint");
    assert!(body.starts_with("12 new messages"), "{body}");
    again.find_text(".row .row-preview", "while away 11").await;
    // Nothing else was raised for them.
    assert!(
        recorded.try_recv().is_err(),
        "one notification for the catch-up"
    );
    again.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incoming_call_raises_a_notification_whose_accept_answers_it() {
    // A call rings as a notification only while the window is behind others.
    let (scene, bus, mut recorded, _daemon, _) =
        scene_on_private_bus(&[("FLINT_TEST_WINDOW_BEHIND", "1")]).await;
    let call = scene
        .bob
        .start_call(scene.conversation_id, CallKind::Audio)
        .await
        .unwrap();
    let (summary, body, actions) = next_notification(&mut recorded).await;
    assert_eq!(summary, "bob");
    assert_eq!(body, "Incoming voice call · 语音来电");
    assert_eq!(actions, ["default", "accept", "decline"]);
    let answered = flint_tests::until(&scene.bob, "alice to answer", || async {
        scene
            .bob
            .call()
            .filter(|c| c.phase != CallPhase::Ringing)
            .map(|c| c.phase)
    });
    tokio::select! {
        _ = click(&bus, "accept") => unreachable!(),
        phase = answered => assert_ne!(phase, CallPhase::Ended { outcome: CallOutcome::Declined }),
    }
    scene.bob.hang_up(&call.call_id).await.unwrap();
    scene.app.close().await;
}
