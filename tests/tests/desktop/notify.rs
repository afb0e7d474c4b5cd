//! OS notifications: a private D-Bus session with a recording notification server stands in for
//! the desktop's notification daemon.

use std::collections::HashMap;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::mpsc;

use crate::app::Scene;

/// Records every `Notify` call as (summary, body).
struct Recorder {
    calls: mpsc::UnboundedSender<(String, String)>,
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
        _actions: Vec<String>,
        _hints: HashMap<String, zbus::OwnedVariant>,
        _expire_timeout: i32,
    ) -> u32 {
        let _ = self.calls.send((summary, body));
        1
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_message_raises_a_notification_with_sender_and_text() {
    let (_daemon, address) = session_bus().await;
    let (calls, mut recorded) = mpsc::unbounded_channel();
    let _bus = zbus::connection::Builder::address(address.as_str())
        .name("org.freedesktop.Notifications")
        .serve_at("/org/freedesktop/Notifications", Recorder { calls })
        .build()
        .await
        .unwrap();
    let scene = Scene::start(&[("DBUS_SESSION_BUS_ADDRESS", &address)]).await;
    scene.bob_says("ping 通知").await;
    let (summary, body) = tokio::time::timeout(Duration::from_secs(30), recorded.recv())
        .await
        .expect("a Notify call within 30 s")
        .unwrap();
    assert_eq!(summary, "bob");
    assert_eq!(body, "ping 通知");
    scene.app.close().await;
}
