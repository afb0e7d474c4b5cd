//! SQL for messages, inboxes and receipts.

use flint_proto::wire;
use prost::Message as _;
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
    if let Some(target) = new.recalls {
        require_own_message(ctx.conn, new.sender_id, new.conversation_id, target)?;
    }
    super::files::attach(ctx, new.sender_id, new.conversation_id, &new.files)?;
    let recipients = super::conversations::member_ids(ctx.conn, new.conversation_id)?;
    let message = insert_message(ctx, new, &recipients)?;
    Ok(SendOutcome {
        message,
        duplicate: false,
    })
}

/// A recall may only name the sender's own message in the same conversation; anything else
/// gets the answer a missing message gets, so it tells nothing about other people's messages.
fn require_own_message(
    conn: &Connection,
    sender_id: UserId,
    conversation_id: ConversationId,
    message_id: i64,
) -> Result<(), StoreError> {
    let own = conn
        .prepare_cached(
            "SELECT 1 FROM messages WHERE id = ?1 AND sender_id = ?2 AND conversation_id = ?3",
        )?
        .exists(params![message_id, sender_id, conversation_id])?;
    if own {
        Ok(())
    } else {
        Err(StoreError::NotFound("message"))
    }
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

/// A seq from the wire as SQLite's integer: seqs past `i64::MAX` are past every head.
fn seq_param(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

/// Up to `limit` entries after `since_seq`, stopping early (with `has_more`) before the
/// encoded entries pass `max_bytes`; a page always holds at least one entry.
pub(super) fn sync(
    conn: &Connection,
    user_id: UserId,
    since_seq: u64,
    limit: u32,
    max_bytes: usize,
) -> Result<wire::SyncPage, StoreError> {
    let sql = format!(
        "SELECT i.seq, {MESSAGE_COLUMNS} FROM inbox i JOIN messages m ON m.id = i.message_id
         WHERE i.user_id = ?1 AND i.seq > ?2 ORDER BY i.seq LIMIT ?3"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params![user_id, seq_param(since_seq), limit])?;
    let mut entries = Vec::new();
    let mut bytes = 0usize;
    let mut stopped_early = false;
    while let Some(row) = rows.next()? {
        let entry = wire::InboxEntry {
            seq: row.get::<_, i64>(0)? as u64,
            message: Some(message_from_row(row, 1)?),
        };
        let size = entry.encoded_len() + 4;
        if !entries.is_empty() && bytes + size > max_bytes {
            stopped_early = true;
            break;
        }
        bytes += size;
        entries.push(entry);
    }
    let head_seq = head_seq(conn, user_id)?;
    let last = entries.last().map_or(since_seq, |e| e.seq);
    Ok(wire::SyncPage {
        has_more: stopped_early || last < head_seq,
        entries,
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
    let up_to = seq_param(up_to_seq).min(head_seq(conn, user_id)? as i64);
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

/// Whether the message is in the conversation: a lookup by primary key. (Finding the newest
/// message of a conversation instead scanned every newer message of the server — ~100 ms per
/// 2 M rows on the writer — and an index to avoid that cost every message's insert ~15 %.)
pub(super) const MESSAGE_IN_CONVERSATION: &str =
    "SELECT 1 FROM messages WHERE id = ?1 AND conversation_id = ?2";

/// Moves the read marker (and the delivery marker with it: what is read was delivered) up to
/// a message of the conversation; a marker naming no message of it moves nothing.
pub(super) fn mark_read(
    conn: &Connection,
    user_id: UserId,
    conversation_id: ConversationId,
    up_to_message_id: i64,
) -> Result<wire::Receipt, StoreError> {
    require_member(conn, conversation_id, user_id)?;
    let exists = conn
        .prepare_cached(MESSAGE_IN_CONVERSATION)?
        .exists(params![up_to_message_id, conversation_id])?;
    let up_to = if exists { up_to_message_id } else { 0 };
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
