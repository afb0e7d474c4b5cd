//! Real `flint-core` clients, each with its own data folder, and waits driven by events.

use std::future::Future;
use std::ops::Deref;
use std::time::Duration;

use flint_core::{Client, ClientConfig, ContentView, CredentialStore, MessageView};
use tempfile::TempDir;
use url::Url;

/// The password every test account uses.
pub const PASSWORD: &str = "correct horse battery";
/// How long any wait may take before the test fails.
pub const PATIENCE: Duration = Duration::from_secs(60);

/// A signed-in client and the folder holding its database.
pub struct TestClient {
    client: Option<Client>,
    /// The client's data folder (kept so the client can be restarted on it).
    pub dir: TempDir,
    url: Url,
}

impl Deref for TestClient {
    type Target = Client;
    fn deref(&self) -> &Client {
        self.client.as_ref().expect("client is running")
    }
}

/// A configuration for tests: fast reconnects, the token in a private file (never in the
/// developer's own credential store).
pub fn client_config(url: &Url, dir: impl AsRef<std::path::Path>) -> ClientConfig {
    let mut config = ClientConfig::new(url.clone(), dir.as_ref());
    config.reconnect_min = Duration::from_millis(50);
    config.reconnect_max = Duration::from_millis(500);
    config.credential_store = CredentialStore::File;
    config.device_name = "test".into();
    config
}

impl TestClient {
    /// Registers `username` and signs in on a fresh device.
    pub async fn register(url: &Url, username: &str) -> Self {
        let dir = TempDir::new().expect("temp dir");
        Client::register(&client_config(url, &dir), username, PASSWORD, "")
            .await
            .expect("registration succeeds");
        Self::login_in(url, username, dir).await
    }

    /// Signs an existing user in on another fresh device.
    pub async fn another_device(url: &Url, username: &str) -> Self {
        Self::login_in(url, username, TempDir::new().expect("temp dir")).await
    }

    async fn login_in(url: &Url, username: &str, dir: TempDir) -> Self {
        let client = Client::login(client_config(url, &dir), username, PASSWORD)
            .await
            .expect("login succeeds");
        Self {
            client: Some(client),
            dir,
            url: url.clone(),
        }
    }

    /// Stops the client (as when the app quits); its database stays.
    pub async fn stop(&mut self) {
        if let Some(client) = self.client.take() {
            client.shutdown().await;
        }
    }

    /// Starts the client again on its database, as the app does on launch.
    pub async fn restart(&mut self) {
        self.stop().await;
        let client = Client::resume(client_config(&self.url, &self.dir))
            .await
            .expect("resume works")
            .expect("a saved session");
        self.client = Some(client);
    }

    /// Every message of a conversation, oldest first.
    pub async fn all_messages(&self, conversation_id: i64) -> Vec<MessageView> {
        let mut all = Vec::new();
        let mut before = None;
        loop {
            let page = self
                .messages(conversation_id, before, 500)
                .await
                .expect("history reads");
            let Some(first) = page.first() else { break };
            before = Some(first.local_id);
            all.splice(0..0, page);
        }
        all
    }
}

/// The text bodies of messages (non-text shown as `[kind]`).
pub fn texts(messages: &[MessageView]) -> Vec<String> {
    messages
        .iter()
        .map(|m| match &m.content {
            ContentView::Text { body, .. } => body.clone(),
            ContentView::System { kind, .. } => {
                let name = serde_json::to_value(kind).expect("notice kinds serialise");
                format!("[{}]", name.as_str().unwrap_or_default())
            }
            ContentView::File { name, .. } => format!("[file {name}]"),
            ContentView::Image { .. } => "[image]".into(),
            ContentView::Sticker { .. } => "[sticker]".into(),
            ContentView::Voice { .. } => "[voice]".into(),
            ContentView::Video { .. } => "[video]".into(),
            ContentView::Call { outcome, .. } => {
                let name = serde_json::to_value(outcome).expect("outcomes serialise");
                format!("[call {}]", name.as_str().unwrap_or_default())
            }
            ContentView::Unsupported { kind } => format!("[unsupported {kind}]"),
        })
        .collect()
}

/// Waits until `check` returns `Some`, re-checking after each event of `client` (and at
/// least every 200 ms); fails the test after [`PATIENCE`].
pub async fn until<T, F, Fut>(client: &Client, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let mut events = client.events();
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        let wait = tokio::time::timeout_at(deadline, async {
            let _ = tokio::time::timeout(Duration::from_millis(200), events.recv()).await;
        });
        if wait.await.is_err() {
            panic!("timed out waiting for {what}");
        }
    }
}
