//! The real desktop app under Xvfb, driven through `tauri-driver` + `WebKitWebDriver`: one
//! instance per `App`, each with its own profile folder and its own driver. Used by the UI
//! suites and the desktop figures.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;

use crate::server::free_addr;
use crate::users::PASSWORD;
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use tempfile::TempDir;
use tokio::process::{Child, Command};
use url::Url;

/// How long the UI may take to show something.
pub const UI_PATIENCE: Duration = Duration::from_secs(30);

/// The X display every app of this test binary draws on.
pub struct Display {
    name: String,
    _xvfb: std::process::Child,
}

impl Display {
    /// Its name, for `DISPLAY`.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Starts Xvfb once for the whole binary.
pub fn display() -> &'static Display {
    static DISPLAY: OnceLock<Display> = OnceLock::new();
    DISPLAY.get_or_init(|| {
        let number = 90 + std::process::id() % 100;
        let name = format!(":{number}");
        let xvfb = std::process::Command::new("Xvfb")
            .args([&name, "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb starts (apt-get install xvfb)");
        std::thread::sleep(Duration::from_millis(500));
        Display { name, _xvfb: xvfb }
    })
}

/// The desktop binary, built with the UI embedded by `cargo xtask test`.
pub fn app_binary() -> PathBuf {
    PathBuf::from(std::env::var("FLINT_DESKTOP_BIN").expect(
        "FLINT_DESKTOP_BIN names the built desktop app; run the UI suites through `cargo xtask test`",
    ))
}

/// Where screenshots go.
pub fn screenshot_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../test-output/screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A running app driven over WebDriver.
pub struct App {
    /// The WebDriver session.
    pub client: Client,
    profile: Option<TempDir>,
    driver: Child,
}

impl App {
    /// Launches the app with a fresh profile.
    pub async fn launch() -> Self {
        Self::launch_with_env(&[]).await
    }

    /// Launches the app with a fresh profile and extra environment variables.
    pub async fn launch_with_env(env: &[(&str, &str)]) -> Self {
        Self::launch_binary(&app_binary(), TempDir::new().unwrap(), env).await
    }

    /// Launches `binary` (any Tauri app) with `profile` as its Flint profile folder.
    pub async fn launch_binary(binary: &Path, profile: TempDir, env: &[(&str, &str)]) -> Self {
        Self::start(binary, profile, env, &[]).await
    }

    /// Launches the app on `profile` with command-line arguments (e.g. a `flint://` link).
    pub async fn launch_with_args(profile: TempDir, args: &[&str]) -> Self {
        Self::start(&app_binary(), profile, &[], args).await
    }

    async fn start(binary: &Path, profile: TempDir, env: &[(&str, &str)], args: &[&str]) -> Self {
        let display = display();
        let (port, native_port) = (free_addr().port(), free_addr().port());
        let driver = Command::new("tauri-driver")
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native_port.to_string(),
            ])
            .env("DISPLAY", &display.name)
            .env("FLINT_PROFILE_DIR", profile.path())
            .envs(env.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("tauri-driver starts (cargo install tauri-driver)");
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), json!("wry"));
        capabilities.insert(
            "tauri:options".into(),
            json!({ "application": binary.to_string_lossy(), "args": args }),
        );
        let url = format!("http://127.0.0.1:{port}");
        let mut last_error = String::new();
        for _ in 0..100 {
            // The driver is on loopback and speaks plain HTTP.
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            let builder = ClientBuilder::new(connector)
                .capabilities(capabilities.clone())
                .connect(&url)
                .await;
            match builder {
                Ok(client) => {
                    return Self {
                        client,
                        profile: Some(profile),
                        driver,
                    };
                }
                Err(error) => last_error = error.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("no WebDriver session: {last_error}");
    }

    /// Waits for an element (the UI may re-render it meanwhile, so lookups are retried); on
    /// failure saves a screenshot and the page source.
    pub async fn find(&self, css: &str) -> Element {
        let deadline = tokio::time::Instant::now() + UI_PATIENCE;
        let mut last_error = String::from("not found");
        while tokio::time::Instant::now() < deadline {
            match self.client.find(Locator::Css(css)).await {
                Ok(element) => return element,
                Err(error) => last_error = error.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.fail(&format!("no element {css}: {last_error}")).await
    }

    /// Saves a screenshot and the page source, then fails the test with `why`.
    async fn fail(&self, why: &str) -> ! {
        self.screenshot("failure").await;
        let source = self.client.source().await.unwrap_or_default();
        std::fs::write(screenshot_dir().join("failure.html"), &source).unwrap();
        panic!("{why}; page saved to test-output/screenshots/failure.*")
    }

    /// Clicks an element, finding it again if the UI re-rendered it in between.
    pub async fn click(&self, css: &str) {
        for _ in 0..100 {
            if self.find(css).await.click().await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css} could not be clicked");
    }

    /// Types into an element, finding it again if the UI re-rendered it in between.
    pub async fn type_into(&self, css: &str, text: &str) {
        for _ in 0..20 {
            if self.find(css).await.send_keys(text).await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("could not type into {css}");
    }

    /// Opens a conversation from the list and waits for its title. A row replaced by a new
    /// message between the press and the release of a click loses the click (as it would for
    /// a person), so the click is repeated until the chat opens.
    pub async fn open_chat(&self, conversation_id: i64, title: &str) {
        let row = format!(".row[data-id='{conversation_id}']");
        let deadline = tokio::time::Instant::now() + UI_PATIENCE;
        loop {
            self.click(&row).await;
            let titles = self
                .client
                .find_all(Locator::Css(".chat-title"))
                .await
                .unwrap_or_default();
            for element in titles {
                if element.text().await.is_ok_and(|t| t == title) {
                    return;
                }
            }
            if tokio::time::Instant::now() >= deadline {
                self.fail(&format!("conversation {conversation_id} never opened"))
                    .await;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }

    /// Starts a chat with `username` from the new-chat panel.
    pub async fn start_chat_with(&self, username: &str) {
        self.click("#new-chat").await;
        self.fill("#user-search", username).await;
        self.click(&format!(".user-result[data-username='{username}'] .person"))
            .await;
    }

    /// The text of an element, found again if the UI re-rendered it between the lookup and
    /// the read (a bubble is replaced when its message is confirmed).
    pub async fn text_of(&self, css: &str) -> String {
        for _ in 0..100 {
            if let Ok(text) = self.find(css).await.text().await {
                return text;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the text of {css} could not be read");
    }

    /// Waits until an element's text equals `text`.
    pub async fn find_text(&self, css: &str, text: &str) -> Element {
        let deadline = tokio::time::Instant::now() + UI_PATIENCE;
        loop {
            for element in self
                .client
                .find_all(Locator::Css(css))
                .await
                .unwrap_or_default()
            {
                if element.text().await.map(|t| t == text).unwrap_or(false) {
                    return element;
                }
            }
            if tokio::time::Instant::now() >= deadline {
                self.fail(&format!("no {css} with text {text:?}")).await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Replaces the value of an input.
    pub async fn fill(&self, css: &str, value: &str) {
        let input = self.find(css).await;
        input.clear().await.unwrap();
        input.send_keys(value).await.unwrap();
    }

    /// Registers an account through the sign-in screen and waits for the main window.
    pub async fn register(&self, server: &Url, username: &str) {
        self.find("#username").await;
        self.click("#toggle-mode").await;
        self.fill("#server", server.as_str()).await;
        self.fill("#username", username).await;
        self.fill("#password", PASSWORD).await;
        self.click("#submit").await;
        self.find(".shell").await;
    }

    /// Starts recording what the page writes to `console.error` (a Rust panic in the UI lands
    /// there): read it with [`App::console_errors`].
    pub async fn watch_console(&self) {
        let hook = "window.__flintErrors = [];
            const original = console.error.bind(console);
            console.error = (...args) => {
                window.__flintErrors.push(args.map(String).join(' '));
                original(...args);
            };";
        self.client.execute(hook, vec![]).await.unwrap();
    }

    /// What the page wrote to `console.error` since [`App::watch_console`].
    pub async fn console_errors(&self) -> Vec<String> {
        let errors = self
            .client
            .execute("return window.__flintErrors || [];", vec![])
            .await
            .unwrap();
        serde_json::from_value(errors).unwrap_or_default()
    }

    /// Saves a PNG of the window.
    pub async fn screenshot(&self, name: &str) {
        // WebKitWebDriver takes the picture after the page's next drawing, and an idle page
        // drawn without GPU compositing (Flint's default) does not draw again by itself: ask
        // for one repaint just after the request.
        let repaint = "setTimeout(() => {
            document.body.style.outline = '1px solid transparent';
            requestAnimationFrame(() => { document.body.style.outline = ''; });
        }, 200);";
        let _ = self.client.execute(repaint, vec![]).await;
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(screenshot_dir().join(format!("{name}.png")), png).unwrap();
    }

    /// The driver's process id: the app and its web processes descend from it.
    pub fn driver_pid(&self) -> Option<u32> {
        self.driver.id()
    }

    /// The app's profile folder.
    pub fn profile(&self) -> &Path {
        self.profile
            .as_ref()
            .map_or(Path::new(""), |dir| dir.path())
    }

    /// Ends the session and the app (which may be hiding in the tray rather than quitting);
    /// returns the profile folder.
    pub async fn close(mut self) -> TempDir {
        let _ = self.client.clone().close().await;
        self.stop_processes();
        self.profile.take().expect("the profile is only taken here")
    }

    fn stop_processes(&mut self) {
        if let Some(driver) = self.driver.id() {
            kill_tree(driver);
        }
        let _ = self.driver.start_kill();
    }
}

impl Drop for App {
    /// A failed test never reaches `close`: stop the app, its web processes and the driver.
    fn drop(&mut self) {
        self.stop_processes();
    }
}

/// Every process below `root` (children, their children…), `root` excluded.
pub fn descendants(root: u32) -> Vec<u32> {
    let parents: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|entry| {
                    let pid = entry.file_name().to_string_lossy().parse::<u32>().ok()?;
                    let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
                    // "pid (comm) state ppid …": comm may hold spaces; split after the last ')'.
                    let ppid = stat
                        .rsplit_once(')')?
                        .1
                        .split_whitespace()
                        .nth(1)?
                        .parse()
                        .ok()?;
                    Some((pid, ppid))
                })
                .collect()
        })
        .unwrap_or_default();
    let mut found = vec![root];
    let mut i = 0;
    while i < found.len() {
        let parent = found[i];
        found.extend(
            parents
                .iter()
                .filter(|(_, p)| *p == parent)
                .map(|(c, _)| *c),
        );
        i += 1;
    }
    found.remove(0);
    found
}

/// Kills every process below `root` (SIGKILL).
fn kill_tree(root: u32) {
    let pids: Vec<String> = descendants(root).iter().map(u32::to_string).collect();
    if !pids.is_empty() {
        let _ = std::process::Command::new("kill")
            .arg("-9")
            .args(&pids)
            .stderr(Stdio::null())
            .status();
    }
}

/// A server, bob on a core client, alice signed up in a fresh app, and their direct chat.
pub struct Scene {
    server: Option<crate::TestServer>,
    /// Bob, on a `flint-core` client.
    pub bob: crate::TestClient,
    /// Alice's app.
    pub app: App,
    /// Their direct conversation.
    pub conversation_id: i64,
    stopped: Option<flint_server::Config>,
    _data: TempDir,
}

impl Scene {
    /// Sets the scene; `env` goes to the app's process.
    pub async fn start(env: &[(&str, &str)]) -> Self {
        let data = TempDir::new().unwrap();
        let config = crate::server::test_config(data.path());
        let server = crate::TestServer::start(config).await;
        let bob = crate::TestClient::register(&server.url(), "bob").await;
        let app = App::launch_with_env(env).await;
        app.register(&server.url(), "alice").await;
        let alice = bob.search_users("alice").await.unwrap().remove(0);
        let conversation_id = bob.open_direct(alice.id).await.unwrap().id;
        Self {
            server: Some(server),
            bob,
            app,
            conversation_id,
            stopped: None,
            _data: data,
        }
    }

    /// Stops the server gracefully.
    pub async fn stop_server(&mut self) {
        if let Some(server) = self.server.take() {
            let config = server.stop().await;
            self.stopped = Some(config);
        }
    }

    /// Starts the server again on the same port and data.
    pub async fn restart_server(&mut self) {
        self.restart_server_with(|_| {}).await;
    }

    /// Starts the server again on the same port and data, with `change` made to its
    /// configuration.
    pub async fn restart_server_with(&mut self, change: impl FnOnce(&mut flint_server::Config)) {
        if let Some(mut config) = self.stopped.take() {
            change(&mut config);
            self.server = Some(crate::TestServer::start(config).await);
        }
    }

    /// The running server's address.
    pub fn url(&self) -> Url {
        self.server
            .as_ref()
            .map(|s| s.url())
            .expect("the server is running")
    }

    /// Bob sends `text` to alice.
    pub async fn bob_says(&self, text: &str) {
        self.bob
            .send_text(self.conversation_id, text)
            .await
            .unwrap();
    }
}
