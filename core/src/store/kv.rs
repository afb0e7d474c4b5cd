//! Small named facts about the account.

use rusqlite::{params, Connection, OptionalExtension};

use crate::error::Result;

/// The session token.
pub const TOKEN: &str = "session_token";
/// The signed-in user (JSON `api::User`).
pub const USER: &str = "user";
/// The device id the session is bound to.
pub const DEVICE_ID: &str = "device_id";
/// The newest inbox seq stored here.
pub const LAST_SEQ: &str = "last_seq";

/// The value of `key`.
pub fn get(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT value FROM kv WHERE key = ?1")?
        .query_row([key], |row| row.get(0))
        .optional()?)
}

/// Sets `key`.
pub fn set(conn: &Connection, key: &str, value: &str) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO kv (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute(params![key, value])?;
    Ok(())
}

/// The newest synced seq (0 before the first sync).
pub fn last_seq(conn: &Connection) -> Result<u64> {
    Ok(get(conn, LAST_SEQ)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}
