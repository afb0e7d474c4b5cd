//! SQL for the outbox: own messages waiting for the server.

use rusqlite::{params, Connection, OptionalExtension};

use crate::error::Result;
use crate::rules::outbox::Head;

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
    /// Failed attempts so far.
    pub attempts: u32,
}

/// Queues a message (already in `messages`).
pub fn enqueue(conn: &Connection, local_id: i64) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO outbox (local_id) VALUES (?1)
         ON CONFLICT (local_id) DO UPDATE SET attempts = 0, not_before_ms = 0",
    )?
    .execute([local_id])?;
    Ok(())
}

/// The oldest queued message of each conversation.
pub fn heads(conn: &Connection) -> Result<Vec<Head>> {
    let mut stmt = conn.prepare_cached(
        "SELECT o.local_id, o.not_before_ms FROM outbox o
         WHERE o.local_id IN (SELECT MIN(o2.local_id) FROM outbox o2
                              JOIN messages m2 ON m2.local_id = o2.local_id
                              GROUP BY m2.conversation_id)",
    )?;
    let heads = stmt
        .query_map([], |row| {
            Ok(Head {
                local_id: row.get(0)?,
                not_before_ms: row.get(1)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(heads)
}

/// A queued message.
pub fn pending(conn: &Connection, local_id: i64) -> Result<Option<Pending>> {
    Ok(conn
        .prepare_cached(
            "SELECT m.local_id, m.conversation_id, m.client_id, m.content, o.attempts
             FROM outbox o JOIN messages m ON m.local_id = o.local_id WHERE o.local_id = ?1",
        )?
        .query_row([local_id], |row| {
            Ok(Pending {
                local_id: row.get(0)?,
                conversation_id: row.get(1)?,
                client_id: row.get(2)?,
                content: row.get(3)?,
                attempts: row.get(4)?,
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

/// Notes a failed attempt; the message waits until `not_before_ms`.
pub fn record_attempt(
    conn: &Connection,
    local_id: i64,
    error: &str,
    not_before_ms: i64,
) -> Result<()> {
    conn.prepare_cached(
        "UPDATE outbox SET attempts = attempts + 1, last_error = ?2, not_before_ms = ?3
         WHERE local_id = ?1",
    )?
    .execute(params![local_id, error, not_before_ms])?;
    Ok(())
}

/// Messages waiting.
pub fn len(conn: &Connection) -> Result<u64> {
    Ok(conn.query_row("SELECT COUNT(*) FROM outbox", [], |row| {
        row.get::<_, i64>(0)
    })? as u64)
}
