//! SQL for messages, inboxes and receipts.

use flint_proto::wire;
use rusqlite::{params, Connection, OptionalExtension, Row};

use super::conversations::require_member;
use super::writer::WriteContext;
use crate::store::{now_ms, ConversationId, Fanout, NewMessage, SendOutcome, StoreError, UserId};

const MESSAGE_COLUMNS: &str =
    "m.id, m.conversation_id, m.sender_id, m.client_id, m.created_at_ms, m.content";

fn message_from_row(row: &Row<'_>, offset: usize) -> rusqlite::Result<wire::Message> {
    Ok(wire::Message {
        id: row.get(offset)?,
        conversation_id: row.get(offset + 1)?,
        sender_id: row.get(offset + 2)?,
        client_id: row.get(offset + 3)?,
        created_at_ms: row.get(offset + 4)?,
        content: row.get(offset + 5)?,
    })
}

fn stored_duplicate(
    conn: &Connection,
    sender_id: UserId,
    client_id: &[u8],
) -> Result<Option<wire::Message>, StoreError> {
    let sql = format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages m WHERE m.sender_id = ?1 AND m.client_id = ?2"
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(params![sender_id, client_id], |row| {
            message_from_row(row, 0)
        })
        .optional()?)
}

/// Stores `new` unless its (sender, client id) is stored already, and appends it to every
/// member's inbox.
pub(super) fn send(ctx: &mut WriteContext<'_>, new: NewMessage) -> Result<SendOutcome, StoreError> {
    if let Some(message) = stored_duplicate(ctx.conn, new.sender_id, &new.client_id)? {
        return Ok(SendOutcome {
            message,
            duplicate: true,
        });
    }
    require_member(ctx.conn, new.conversation_id, new.sender_id)?;
    let recipients = super::conversations::member_ids(ctx.conn, new.conversation_id)?;
    let message = insert_message(ctx, new, &recipients)?;
    Ok(SendOutcome {
        message,
        duplicate: false,
    })
}

/// Inserts a message and appends it to the inboxes of `recipients`.
pub(super) fn insert_message(
    ctx: &mut WriteContext<'_>,
    new: NewMessage,
    recipients: &[UserId],
) -> Result<wire::Message, StoreError> {
    let created_at_ms = now_ms();
    ctx.conn
        .prepare_cached(
            "INSERT INTO messages (conversation_id, sender_id, client_id, created_at_ms, content)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![
            new.conversation_id,
            new.sender_id,
            new.client_id,
            created_at_ms,
            new.content
        ])?;
    let message = wire::Message {
        id: ctx.conn.last_insert_rowid(),
        conversation_id: new.conversation_id,
        sender_id: new.sender_id,
        client_id: new.client_id,
        created_at_ms,
        content: new.content,
    };
    let mut append = ctx
        .conn
        .prepare_cached("INSERT INTO inbox (user_id, seq, message_id) VALUES (?1, ?2, ?3)")?;
    let mut delivered = Vec::with_capacity(recipients.len());
    for &user in recipients {
        let seq = ctx.seqs.next(ctx.conn, user)?;
        append.execute(params![user, seq as i64, message.id])?;
        delivered.push((user, seq));
    }
    ctx.fanouts.push(Fanout {
        message: message.clone(),
        recipients: delivered,
    });
    Ok(message)
}

pub(super) fn sync(
    conn: &Connection,
    user_id: UserId,
    since_seq: u64,
    limit: u32,
) -> Result<wire::SyncPage, StoreError> {
    let sql = format!(
        "SELECT i.seq, {MESSAGE_COLUMNS} FROM inbox i JOIN messages m ON m.id = i.message_id
         WHERE i.user_id = ?1 AND i.seq > ?2 ORDER BY i.seq LIMIT ?3"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let entries: Vec<wire::InboxEntry> = stmt
        .query_map(params![user_id, since_seq as i64, limit + 1], |row| {
            Ok(wire::InboxEntry {
                seq: row.get::<_, i64>(0)? as u64,
                message: Some(message_from_row(row, 1)?),
            })
        })?
        .collect::<Result<_, _>>()?;
    let head_seq = head_seq(conn, user_id)?;
    let has_more = entries.len() > limit as usize;
    let entries = entries.into_iter().take(limit as usize).collect();
    Ok(wire::SyncPage {
        entries,
        has_more,
        head_seq,
    })
}

pub(super) fn head_seq(conn: &Connection, user_id: UserId) -> Result<u64, StoreError> {
    Ok(conn
        .prepare_cached("SELECT COALESCE(MAX(seq), 0) FROM inbox WHERE user_id = ?1")?
        .query_row([user_id], |row| row.get::<_, i64>(0))? as u64)
}

/// Moves the delivery markers of every conversation with entries in (acked, up_to].
pub(super) fn ack(
    conn: &Connection,
    user_id: UserId,
    up_to_seq: u64,
) -> Result<Vec<wire::Receipt>, StoreError> {
    let acked: i64 = conn
        .prepare_cached("SELECT acked_seq FROM users WHERE id = ?1")?
        .query_row([user_id], |row| row.get(0))
        .optional()?
        .ok_or(StoreError::NotFound("user"))?;
    let up_to = (up_to_seq as i64).min(head_seq(conn, user_id)? as i64);
    if up_to <= acked {
        return Ok(Vec::new());
    }
    conn.prepare_cached("UPDATE users SET acked_seq = ?2 WHERE id = ?1")?
        .execute(params![user_id, up_to])?;
    let mut stmt = conn.prepare_cached(
        "UPDATE members SET delivered_up_to = latest.id
         FROM (SELECT m.conversation_id AS conversation_id, MAX(m.id) AS id
               FROM inbox i JOIN messages m ON m.id = i.message_id
               WHERE i.user_id = ?1 AND i.seq > ?2 AND i.seq <= ?3
               GROUP BY m.conversation_id) AS latest
         WHERE members.conversation_id = latest.conversation_id AND members.user_id = ?1
           AND members.delivered_up_to < latest.id
         RETURNING members.conversation_id, members.delivered_up_to, members.read_up_to",
    )?;
    let receipts = stmt
        .query_map(params![user_id, acked, up_to], |row| {
            Ok(wire::Receipt {
                conversation_id: row.get(0)?,
                user_id,
                delivered_up_to: row.get(1)?,
                read_up_to: row.get(2)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(receipts)
}

/// Moves the read marker (and the delivery marker with it: what is read was delivered).
pub(super) fn mark_read(
    conn: &Connection,
    user_id: UserId,
    conversation_id: ConversationId,
    up_to_message_id: i64,
) -> Result<wire::Receipt, StoreError> {
    require_member(conn, conversation_id, user_id)?;
    let newest: i64 = conn
        .prepare_cached("SELECT COALESCE(MAX(id), 0) FROM messages WHERE conversation_id = ?1")?
        .query_row([conversation_id], |row| row.get(0))?;
    let up_to = up_to_message_id.min(newest);
    let (delivered_up_to, read_up_to) = conn
        .prepare_cached(
            "UPDATE members SET read_up_to = MAX(read_up_to, ?3),
                                delivered_up_to = MAX(delivered_up_to, ?3)
             WHERE conversation_id = ?1 AND user_id = ?2
             RETURNING delivered_up_to, read_up_to",
        )?
        .query_row(params![conversation_id, user_id, up_to], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })?;
    Ok(wire::Receipt {
        conversation_id,
        user_id,
        delivered_up_to,
        read_up_to,
    })
}
