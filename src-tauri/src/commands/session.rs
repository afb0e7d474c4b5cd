//! Signing in and out.

use std::sync::Arc;

use flint_core::calls::video::{NoCamera, VideoSource};
use flint_core::calls::webrtc::{Network, VideoDevices, WebRtc};
use flint_core::{devices, Client, ConnectionState, Device, Preferences};
use flint_proto::api::User;
use flint_proto::ErrorBody;
use tauri::{AppHandle, State};

use crate::events;
use crate::state::{ipc, Desktop};

/// The server address the sign-in form starts with: the last one used in this profile, else
/// the build's default (a company build sets `FLINT_DEFAULT_SERVER` at compile time).
#[tauri::command]
pub fn default_server_url(desktop: State<'_, Desktop>) -> String {
    Client::last_server(&desktop.data_dir).map_or_else(
        || {
            option_env!("FLINT_DEFAULT_SERVER")
                .unwrap_or("http://127.0.0.1:7800")
                .to_owned()
        },
        |url| url.to_string(),
    )
}

/// A video call's camera: none yet (the other side's pictures still show). A debug build run
/// with `FLINT_TEST_CAMERA=1` films a moving test pattern instead (the UI tests' camera).
fn camera() -> Box<dyn VideoSource> {
    #[cfg(debug_assertions)]
    if std::env::var_os("FLINT_TEST_CAMERA").is_some() {
        if let Ok(pattern) = flint_core::calls::video::TestPattern::new(640, 480) {
            return Box::new(pattern);
        }
    }
    Box::new(NoCamera)
}

async fn start(app: &AppHandle, desktop: &Desktop, client: Client) -> User {
    client.set_microphone(Arc::new(devices::microphone));
    let screen = client.call_screen();
    let video: VideoDevices = Arc::new(move || (camera(), Box::new(screen.clone())));
    let engine = WebRtc::new(Arc::new(devices::call_devices), Network::default()).with_video(video);
    client.set_media_engine(Arc::new(engine));
    client.set_ring_speaker(Arc::new(devices::speaker));
    let client = Arc::new(client);
    let me = client.me().clone();
    events::forward(app.clone(), &client);
    desktop.set_client(Some(client)).await;
    me
}

/// Reopens the last session of this profile, if it is kept.
#[tauri::command]
pub async fn resume(
    app: AppHandle,
    desktop: State<'_, Desktop>,
    server_url: String,
) -> Result<Option<User>, ErrorBody> {
    match ipc(Client::resume(desktop.config(&server_url, false)?).await)? {
        Some(client) => Ok(Some(start(&app, &desktop, client).await)),
        None => Ok(None),
    }
}

/// Signs in (`allow_insecure`: the user accepted plain http to another machine).
#[tauri::command]
pub async fn sign_in(
    app: AppHandle,
    desktop: State<'_, Desktop>,
    server_url: String,
    username: String,
    password: String,
    allow_insecure: bool,
) -> Result<User, ErrorBody> {
    let config = desktop.config(&server_url, allow_insecure)?;
    let client = ipc(Client::login(config, &username, &password).await)?;
    Ok(start(&app, &desktop, client).await)
}

/// Creates an account, then signs in.
#[tauri::command]
pub async fn register(
    app: AppHandle,
    desktop: State<'_, Desktop>,
    server_url: String,
    username: String,
    password: String,
    display_name: String,
    allow_insecure: bool,
) -> Result<User, ErrorBody> {
    let config = desktop.config(&server_url, allow_insecure)?;
    ipc(Client::register(&config, &username, &password, &display_name).await)?;
    let client = ipc(Client::login(config, &username, &password).await)?;
    Ok(start(&app, &desktop, client).await)
}

/// Signs out and forgets the session.
#[tauri::command]
pub async fn sign_out(desktop: State<'_, Desktop>) -> Result<(), ErrorBody> {
    match desktop.set_client(None).await {
        Some(client) => ipc(client.logout().await),
        None => Ok(()),
    }
}

/// The devices signed in to this account.
#[tauri::command]
pub async fn devices(desktop: State<'_, Desktop>) -> Result<Vec<Device>, ErrorBody> {
    ipc(desktop.client().await?.devices().await)
}

/// Signs another device of this account out.
#[tauri::command]
pub async fn sign_out_device(
    desktop: State<'_, Desktop>,
    device_id: String,
) -> Result<(), ErrorBody> {
    ipc(desktop.client().await?.sign_out_device(&device_id).await)
}

/// The connection state now (the UI then follows `ConnectionChanged` events).
#[tauri::command]
pub async fn connection_state(desktop: State<'_, Desktop>) -> Result<ConnectionState, ErrorBody> {
    Ok(desktop.client().await?.connection().borrow().clone())
}

/// This profile's preferences.
#[tauri::command]
pub fn preferences(desktop: State<'_, Desktop>) -> Preferences {
    desktop.preferences()
}

/// Changes this profile's preferences.
#[tauri::command]
pub fn set_preferences(
    desktop: State<'_, Desktop>,
    preferences: Preferences,
) -> Result<(), ErrorBody> {
    desktop.set_preferences(preferences)
}
