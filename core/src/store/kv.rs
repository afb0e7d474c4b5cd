//! Small named facts about the account.

use rusqlite::{params, Connection, OptionalExtension};

use crate::error::Result;

/// The session token, as databases written before the credential store kept it. Read once,
/// moved to the credential store, and deleted.
pub const LEGACY_TOKEN: &str = "session_token";
/// The signed-in user (JSON `api::User`).
pub const USER: &str = "user";
/// The device id the session is bound to.
pub const DEVICE_ID: &str = "device_id";
/// The newest inbox seq stored here.
pub const LAST_SEQ: &str = "last_seq";
/// Messages with a local id up to this were stored before seqs were kept (they have none).
pub const SEQ_TRACKED_AFTER: &str = "seq_tracked_after";

/// The value of `key`.
pub fn get(conn: &Connection, key: &str) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT value FROM kv WHERE key = ?1")?
        .query_row([key], |row| row.get(0))
        .optional()?)
}

/// Deletes `key`.
pub fn delete(conn: &Connection, key: &str) -> Result<()> {
    conn.prepare_cached("DELETE FROM kv WHERE key = ?1")?
        .execute([key])?;
    Ok(())
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

/// Sets the newest synced seq.
pub fn set_last_seq(conn: &Connection, seq: u64) -> Result<()> {
    set(conn, LAST_SEQ, &seq.to_string())
}

/// The local id after which every message received through the inbox has its seq.
pub fn seq_tracked_after(conn: &Connection) -> Result<i64> {
    Ok(get(conn, SEQ_TRACKED_AFTER)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}

/// The newest synced seq (0 before the first sync).
pub fn last_seq(conn: &Connection) -> Result<u64> {
    Ok(get(conn, LAST_SEQ)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}
