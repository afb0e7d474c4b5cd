//! A real Chromium, headless, driven through `chromedriver` (both from Debian, installed by
//! `cargo xtask test`): the other end of the interoperability tests, where Flint's call
//! engine meets a browser's own WebRTC. The camera is Chromium's fake one; the page runs
//! only the scripts a test hands it.

use std::time::Duration;

use fantoccini::{Client, ClientBuilder};
use serde_json::{json, Value};
use tokio::process::{Child, Command};

use crate::server::free_addr;

/// A headless Chromium session.
pub struct Chromium {
    /// The WebDriver session.
    pub client: Client,
    _driver: Child,
    _page: tempfile::TempDir,
}

impl Chromium {
    /// Starts `chromedriver` and a headless Chromium on a blank page, with fake media devices,
    /// WebRTC allowed on loopback and real addresses in its candidates (no mDNS names).
    pub async fn start() -> Self {
        let port = free_addr().port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("chromedriver starts (apt-get install chromium-driver)");
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("browserName".into(), json!("chrome"));
        capabilities.insert(
            "goog:chromeOptions".into(),
            json!({ "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--use-fake-device-for-media-stream",
                "--use-fake-ui-for-media-stream",
                "--autoplay-policy=no-user-gesture-required",
                "--allow-loopback-in-peer-connection",
                "--disable-features=WebRtcHideLocalIpsWithMdns",
            ]}),
        );
        let url = format!("http://127.0.0.1:{port}");
        let mut last_error = String::new();
        for _ in 0..100 {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => {
                    // A page from a file is a secure context (camera and WebRTC allowed).
                    let page = tempfile::tempdir().expect("a folder for the page");
                    let path = page.path().join("blank.html");
                    std::fs::write(&path, "<!doctype html><title>Flint interop</title>")
                        .expect("the page is written");
                    client
                        .goto(&format!("file://{}", path.display()))
                        .await
                        .expect("the page opens");
                    return Self {
                        client,
                        _driver: driver,
                        _page: page,
                    };
                }
                Err(error) => last_error = error.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("no Chromium session: {last_error}");
    }

    /// Runs `script` (an async function body: it may `await`, and what it returns comes
    /// back) with `args` as `arguments`.
    pub async fn run(&self, script: &str, args: Vec<Value>) -> Value {
        let wrapped = format!(
            "const done = arguments[arguments.length - 1];\
             (async (...arguments) => {{ {script} }})(...Array.from(arguments).slice(0, -1))\
             .then(v => done({{ ok: v === undefined ? null : v }}), e => done({{ error: String(e) }}));"
        );
        let outcome = self
            .client
            .execute_async(&wrapped, args)
            .await
            .expect("the script runs");
        if let Some(error) = outcome.get("error") {
            panic!("the page's script failed: {error}");
        }
        outcome.get("ok").cloned().unwrap_or(Value::Null)
    }

    /// Ends the browser session.
    pub async fn close(self) {
        let _ = self.client.close().await;
    }
}
