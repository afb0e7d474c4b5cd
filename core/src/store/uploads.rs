//! SQL for uploads: files of own messages that must reach the server before the message
//! enters the outbox.

use std::path::PathBuf;

use rusqlite::{params, Connection, OptionalExtension};
use url::Url;

use crate::error::Result;
use crate::transfer::Resume;

/// An upload waiting or running.
#[derive(Debug, Clone)]
pub struct PendingUpload {
    /// The message it belongs to.
    pub local_id: i64,
    /// Its conversation.
    pub conversation_id: i64,
    /// The file on this device.
    pub path: PathBuf,
    /// Where it stands on the server.
    pub resume: Resume,
    /// Failed transient attempts.
    pub attempts: u32,
}

/// Records the upload of a message's file (the message is already in `messages`).
pub fn insert(conn: &Connection, local_id: i64, path: &str) -> Result<()> {
    conn.prepare_cached("INSERT INTO uploads (local_id, path) VALUES (?1, ?2)")?
        .execute(params![local_id, path])?;
    Ok(())
}

/// Active uploads whose time has come, oldest first.
pub fn due(conn: &Connection, now_ms: i64) -> Result<Vec<PendingUpload>> {
    let mut stmt = conn.prepare_cached(
        "SELECT u.local_id, m.conversation_id, u.path, u.sha256, u.location, u.bytes_sent,
                u.attempts
         FROM uploads u JOIN messages m ON m.local_id = u.local_id
         WHERE u.active = 1 AND u.not_before_ms <= ?1 ORDER BY u.local_id",
    )?;
    let rows = stmt.query_map([now_ms], |row| {
        let sha256: Option<Vec<u8>> = row.get(3)?;
        let location: Option<String> = row.get(4)?;
        Ok(PendingUpload {
            local_id: row.get(0)?,
            conversation_id: row.get(1)?,
            path: PathBuf::from(row.get::<_, String>(2)?),
            resume: Resume {
                sha256: sha256.and_then(|s| <[u8; 32]>::try_from(s).ok()),
                location: location.and_then(|l| Url::parse(&l).ok()),
                bytes_sent: row.get::<_, i64>(5)?.max(0) as u64,
            },
            attempts: row.get(6)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The earliest time an active upload waits for, if any waits.
pub fn next_due(conn: &Connection) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT MIN(not_before_ms) FROM uploads WHERE active = 1")?
        .query_row([], |row| row.get(0))
        .optional()?
        .flatten())
}

/// Saves where an upload stands.
pub fn save(conn: &Connection, local_id: i64, resume: &Resume) -> Result<()> {
    conn.prepare_cached(
        "UPDATE uploads SET sha256 = ?2, location = ?3, bytes_sent = ?4 WHERE local_id = ?1",
    )?
    .execute(params![
        local_id,
        resume.sha256.map(|s| s.to_vec()),
        resume.location.as_ref().map(Url::as_str),
        i64::try_from(resume.bytes_sent).unwrap_or(i64::MAX)
    ])?;
    Ok(())
}

/// Notes a transient failure: try again at `not_before_ms`.
pub fn postpone(conn: &Connection, local_id: i64, not_before_ms: i64) -> Result<()> {
    conn.prepare_cached(
        "UPDATE uploads SET attempts = attempts + 1, not_before_ms = ?2 WHERE local_id = ?1",
    )?
    .execute(params![local_id, not_before_ms])?;
    Ok(())
}

/// Stops an active upload for good (until a retry); `forget` also drops where it stood (the
/// file changed, or the user cancelled). False when there was no active upload.
pub fn deactivate(conn: &Connection, local_id: i64, forget: bool) -> Result<bool> {
    let changed = conn
        .prepare_cached(
            "UPDATE uploads SET active = 0,
                sha256 = CASE WHEN ?2 THEN NULL ELSE sha256 END,
                location = CASE WHEN ?2 THEN NULL ELSE location END
         WHERE local_id = ?1 AND active = 1",
        )?
        .execute(params![local_id, forget])?;
    Ok(changed > 0)
}

/// Re-arms a stopped upload; false when the message has none.
pub fn reactivate(conn: &Connection, local_id: i64) -> Result<bool> {
    let changed = conn
        .prepare_cached(
            "UPDATE uploads SET active = 1, attempts = 0, not_before_ms = 0 WHERE local_id = ?1",
        )?
        .execute([local_id])?;
    Ok(changed > 0)
}

/// The upload is done.
pub fn remove(conn: &Connection, local_id: i64) -> Result<()> {
    conn.prepare_cached("DELETE FROM uploads WHERE local_id = ?1")?
        .execute([local_id])?;
    Ok(())
}
