//! SQL for the outbox: own messages waiting for the server, oldest first.

use rusqlite::{params, Connection, OptionalExtension};

use crate::error::Result;

/// One message to send.
#[derive(Debug, Clone)]
pub struct Pending {
    /// Its local id.
    pub local_id: i64,
    /// The target conversation.
    pub conversation_id: i64,
    /// Its UUID v7.
    pub client_id: Vec<u8>,
    /// Encoded content.
    pub content: Vec<u8>,
}

/// Queues a message (already in `messages`).
pub fn enqueue(conn: &Connection, local_id: i64) -> Result<()> {
    conn.prepare_cached("INSERT OR IGNORE INTO outbox (local_id) VALUES (?1)")?
        .execute([local_id])?;
    Ok(())
}

/// The oldest queued message.
pub fn next(conn: &Connection) -> Result<Option<Pending>> {
    Ok(conn
        .prepare_cached(
            "SELECT m.local_id, m.conversation_id, m.client_id, m.content
             FROM outbox o JOIN messages m ON m.local_id = o.local_id
             ORDER BY o.local_id LIMIT 1",
        )?
        .query_row([], |row| {
            Ok(Pending {
                local_id: row.get(0)?,
                conversation_id: row.get(1)?,
                client_id: row.get(2)?,
                content: row.get(3)?,
            })
        })
        .optional()?)
}

/// Takes a message off the queue.
pub fn remove(conn: &Connection, local_id: i64) -> Result<()> {
    conn.prepare_cached("DELETE FROM outbox WHERE local_id = ?1")?
        .execute([local_id])?;
    Ok(())
}

/// Notes a failed attempt.
pub fn record_attempt(conn: &Connection, local_id: i64, error: &str) -> Result<()> {
    conn.prepare_cached(
        "UPDATE outbox SET attempts = attempts + 1, last_error = ?2 WHERE local_id = ?1",
    )?
    .execute(params![local_id, error])?;
    Ok(())
}

/// Messages waiting.
pub fn len(conn: &Connection) -> Result<u64> {
    Ok(conn.query_row("SELECT COUNT(*) FROM outbox", [], |row| {
        row.get::<_, i64>(0)
    })? as u64)
}
