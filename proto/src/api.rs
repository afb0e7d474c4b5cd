//! JSON bodies of the REST API under `/api/v1`. Errors are [`crate::ErrorBody`].

use serde::{Deserialize, Serialize};

use crate::Secret;

/// `POST /api/v1/register`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RegisterRequest {
    /// Login name (see the README for the rules): letters, digits, `_`, `.` or `-`, compared
    /// after Unicode NFKC normalisation and refused when it looks like an existing name.
    pub username: String,
    /// 8–128 characters.
    pub password: Secret,
    /// Shown to others; defaults to the username when empty.
    #[serde(default)]
    pub display_name: String,
}

/// `POST /api/v1/login`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoginRequest {
    /// Login name.
    pub username: String,
    /// Password.
    pub password: Secret,
    /// The device the session is for; one session per device.
    pub device_id: String,
    /// What the user calls the device ("Flint on LAPTOP-7 (Windows)"), for the device list.
    #[serde(default)]
    pub device_name: String,
}

/// Answer to a successful login.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoginResponse {
    /// Bearer token for REST and the WebSocket `Auth` frame.
    pub token: Secret,
    /// The signed-in user.
    pub user: User,
}

/// A user's public profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Server-assigned id.
    pub id: i64,
    /// Login name.
    pub username: String,
    /// Shown to others.
    pub display_name: String,
}

/// One signed-in device of the caller (`GET /api/v1/sessions`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    /// The device's id (what `DELETE /api/v1/sessions/{device_id}` takes).
    pub device_id: String,
    /// Its name as it signed in.
    pub device_name: String,
    /// When it signed in, ms since the epoch.
    pub created_at_ms: i64,
    /// When it last connected, ms since the epoch.
    pub last_seen_ms: i64,
    /// True for the device asking.
    pub current: bool,
}

/// A picture the caller keeps as a sticker, to send again from the sticker panel
/// (`GET /api/v1/stickers` lists them, newest first).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sticker {
    /// The picture's file: what a sticker message names.
    pub file_id: String,
    /// Size in bytes.
    pub size: u64,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Its type as the server sniffed it (a GIF animates).
    pub mime: String,
}

/// `POST /api/v1/stickers`: keeps a picture the caller may download (their own, or one sent
/// to a conversation they belong to) as a sticker; keeping one again moves it to the front.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AddSticker {
    /// The picture's file.
    pub file_id: String,
}

/// `GET /health`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Health {
    /// `"ok"` when the store answers and its writer runs.
    pub status: String,
    /// The server's version.
    pub version: String,
}
