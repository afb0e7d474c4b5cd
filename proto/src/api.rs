//! JSON bodies of the REST API under `/api/v1`. Errors are [`crate::ErrorBody`].

use serde::{Deserialize, Serialize};

/// `POST /api/v1/register`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RegisterRequest {
    /// Login name: 3–32 characters, letters, digits, `_`, `.` or `-`.
    pub username: String,
    /// At least 8 characters.
    pub password: String,
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
    pub password: String,
    /// The device the session is for; one session per device.
    pub device_id: String,
}

/// Answer to a successful login.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoginResponse {
    /// Bearer token for REST and the WebSocket `Auth` frame.
    pub token: String,
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

/// `GET /health`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Health {
    /// `"ok"` when the store answers.
    pub status: String,
    /// The server's version.
    pub version: String,
}
