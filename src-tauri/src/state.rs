//! The desktop's session: which profile folder, which signed-in `Client`, which conversation is
//! on screen.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use flint_core::{preferences, Client, ClientConfig, Preferences};
use flint_proto::{ErrorBody, ErrorCode};
use tokio::sync::RwLock;
use url::Url;

use crate::clipboard::Clipboard;
use crate::staging::Staging;

/// Shared by every command.
pub struct Desktop {
    /// This profile's data folder.
    pub data_dir: PathBuf,
    /// The signed-in client, if any.
    client: RwLock<Option<Arc<Client>>>,
    /// The conversation the user is looking at (no notifications for it).
    pub focused: Mutex<Option<i64>>,
    /// This profile's preferences.
    preferences: Mutex<Preferences>,
    /// A conversation asked for (link, notification) that the UI has not opened yet.
    pending_open: Mutex<Option<i64>>,
    /// What this computer is called in the user's device list.
    device_name: String,
    /// Files chosen to send, not sent yet.
    pub staging: Staging,
    /// The system clipboard.
    pub clipboard: Clipboard,
}

/// The error for commands that need a signed-in user.
fn signed_out() -> ErrorBody {
    ErrorBody::new(ErrorCode::Unauthenticated, "not signed in")
}

impl Desktop {
    /// A desktop session over a profile folder.
    pub fn new(data_dir: PathBuf) -> Self {
        Self {
            preferences: Mutex::new(preferences::load(&data_dir)),
            data_dir,
            client: RwLock::new(None),
            focused: Mutex::new(None),
            pending_open: Mutex::new(None),
            device_name: device_name(),
            staging: Staging::default(),
            clipboard: Clipboard::default(),
        }
    }

    /// Remembers a conversation to open, for a UI that is not listening yet.
    pub fn request_open(&self, conversation_id: i64) {
        if let Ok(mut pending) = self.pending_open.lock() {
            *pending = Some(conversation_id);
        }
    }

    /// The conversation asked for and not opened yet, forgetting it.
    pub fn take_pending_open(&self) -> Option<i64> {
        self.pending_open.lock().ok().and_then(|mut p| p.take())
    }

    /// This profile's preferences.
    pub fn preferences(&self) -> Preferences {
        self.preferences
            .lock()
            .map(|preferences| *preferences)
            .unwrap_or_default()
    }

    /// Changes and saves this profile's preferences.
    pub fn set_preferences(&self, changed: Preferences) -> Result<(), ErrorBody> {
        // Held while saving: concurrent changes reach the file and the memory in one order.
        let mut preferences = self
            .preferences
            .lock()
            .map_err(|_| ErrorBody::new(ErrorCode::Internal, "preferences unavailable"))?;
        ipc(preferences::save(&self.data_dir, &changed))?;
        *preferences = changed;
        Ok(())
    }

    /// The client configuration for a server; `allow_insecure` accepts plain http to another
    /// machine (the user ticked "allow insecure connection").
    pub fn config(
        &self,
        server_url: &str,
        allow_insecure: bool,
    ) -> Result<ClientConfig, ErrorBody> {
        let url = Url::parse(server_url.trim())
            .map_err(|e| ErrorBody::new(ErrorCode::BadRequest, format!("server address: {e}")))?;
        let mut config = ClientConfig::new(url, self.data_dir.clone());
        config.allow_insecure = allow_insecure;
        config.device_name = self.device_name.clone();
        Ok(config)
    }

    /// The signed-in client.
    pub async fn client(&self) -> Result<Arc<Client>, ErrorBody> {
        self.client.read().await.clone().ok_or_else(signed_out)
    }

    /// Makes `client` the signed-in one; returns the previous one, already stopped.
    pub async fn set_client(&self, client: Option<Arc<Client>>) -> Option<Arc<Client>> {
        let previous = std::mem::replace(&mut *self.client.write().await, client);
        if let Some(previous) = &previous {
            previous.shutdown().await;
        }
        previous
    }
}

/// What this computer is called in the user's device list: "Flint · HOST (OS)".
fn device_name() -> String {
    let host = std::env::var("COMPUTERNAME")
        .or_else(|_| std::env::var("HOSTNAME"))
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty());
    match host {
        Some(host) => format!("Flint · {host} ({})", std::env::consts::OS),
        None => format!("Flint ({})", std::env::consts::OS),
    }
}

/// Maps a core result into the IPC error shape.
pub fn ipc<T>(result: flint_core::Result<T>) -> Result<T, ErrorBody> {
    result.map_err(|error| error.to_body())
}
