//! SQL for messages: local echoes, ingesting synced entries, windows of history.

use flint_proto::ipc::{ContentView, MessageStatus, MessageView};
use flint_proto::wire::{self, message_content::Kind, NoticeKind};
use prost::Message as _;
use rusqlite::{params, Connection, OptionalExtension, Row};
use uuid::Uuid;

use crate::error::Result;

/// Sort keys at or above this belong to messages still sending (shared with front ends).
pub const PENDING_BASE: i64 = flint_proto::ipc::PENDING_SORT_BASE;

/// `state` column values.
const STATE_SENDING: i64 = 0;
const STATE_SENT: i64 = 1;
const STATE_FAILED: i64 = 2;

/// Decodes stored content for display; unknown kinds stay visible as "unsupported".
pub fn decode_content(bytes: &[u8]) -> ContentView {
    let unsupported = |kind: &str| ContentView::Unsupported { kind: kind.into() };
    let Ok(content) = wire::MessageContent::decode(bytes) else {
        return unsupported("unknown");
    };
    match content.kind {
        Some(Kind::Text(text)) => ContentView::Text {
            body: text.body,
            mentions: text.mentions,
        },
        Some(Kind::System(notice)) => ContentView::System {
            kind: notice_name(notice.kind()).into(),
            actor_id: notice.actor_id,
            targets: notice.targets,
            name: notice.name,
        },
        Some(Kind::Image(_)) => unsupported("image"),
        Some(Kind::File(_)) => unsupported("file"),
        Some(Kind::Voice(_)) => unsupported("voice"),
        Some(Kind::Video(_)) => unsupported("video"),
        Some(Kind::Sticker(_)) => unsupported("sticker"),
        Some(Kind::Card(_)) => unsupported("card"),
        Some(Kind::MergedForward(_)) => unsupported("merged_forward"),
        Some(Kind::Recall(_)) => unsupported("recall"),
        None => unsupported("unknown"),
    }
}

fn notice_name(kind: NoticeKind) -> &'static str {
    match kind {
        NoticeKind::GroupCreated => "group_created",
        NoticeKind::MembersAdded => "members_added",
        NoticeKind::MembersRemoved => "members_removed",
        NoticeKind::MemberLeft => "member_left",
        NoticeKind::GroupRenamed => "group_renamed",
        NoticeKind::Unspecified => "unknown",
    }
}

/// The delivery and read markers every other member has reached in a conversation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Markers {
    /// Lowest `delivered_up_to` among the other members.
    pub delivered: i64,
    /// Lowest `read_up_to` among the other members.
    pub read: i64,
}

impl Markers {
    /// The status of an own message with this server id.
    pub fn status_of(&self, server_id: i64) -> MessageStatus {
        if server_id <= self.read {
            MessageStatus::Read
        } else if server_id <= self.delivered {
            MessageStatus::Delivered
        } else {
            MessageStatus::Sent
        }
    }
}

/// The markers of the members other than `me`.
pub fn markers(conn: &Connection, conversation_id: i64, me: i64) -> Result<Markers> {
    Ok(conn
        .prepare_cached(
            "SELECT COALESCE(MIN(delivered_up_to), 0), COALESCE(MIN(read_up_to), 0)
             FROM members WHERE conversation_id = ?1 AND user_id != ?2",
        )?
        .query_row([conversation_id, me], |row| {
            Ok(Markers {
                delivered: row.get(0)?,
                read: row.get(1)?,
            })
        })?)
}

const VIEW_COLUMNS: &str =
    "local_id, server_id, conversation_id, sender_id, client_id, created_at_ms, content, state";

fn view_from_row(row: &Row<'_>, me: i64, markers: &Markers) -> rusqlite::Result<MessageView> {
    let server_id: Option<i64> = row.get(1)?;
    let sender_id: i64 = row.get(3)?;
    let client_id: Vec<u8> = row.get(4)?;
    let content: Vec<u8> = row.get(6)?;
    let state: i64 = row.get(7)?;
    let is_own = sender_id == me;
    let status = match (state, server_id) {
        (STATE_FAILED, _) => MessageStatus::Failed,
        (_, None) => MessageStatus::Sending,
        (_, Some(id)) if is_own => markers.status_of(id),
        (_, Some(_)) => MessageStatus::Sent,
    };
    Ok(MessageView {
        local_id: row.get(0)?,
        server_id,
        conversation_id: row.get(2)?,
        sender_id,
        client_id: Uuid::from_slice(&client_id)
            .map(|id| id.to_string())
            .unwrap_or_default(),
        created_at_ms: row.get(5)?,
        content: decode_content(&content),
        status,
        is_own,
    })
}

/// One message by local id.
pub fn view(conn: &Connection, local_id: i64, me: i64) -> Result<Option<MessageView>> {
    let conversation_id: Option<i64> = conn
        .prepare_cached("SELECT conversation_id FROM messages WHERE local_id = ?1")?
        .query_row([local_id], |row| row.get(0))
        .optional()?;
    let Some(conversation_id) = conversation_id else {
        return Ok(None);
    };
    let markers = markers(conn, conversation_id, me)?;
    let sql = format!("SELECT {VIEW_COLUMNS} FROM messages WHERE local_id = ?1");
    Ok(conn
        .prepare_cached(&sql)?
        .query_row([local_id], |row| view_from_row(row, me, &markers))
        .optional()?)
}

/// Which end of a history window a page reads from.
#[derive(Debug, Clone, Copy)]
pub enum Page {
    /// The newest messages.
    Latest,
    /// Messages before this sort key.
    Before(i64),
    /// Messages after this sort key.
    After(i64),
}

/// Up to `limit` messages of a page, oldest first.
pub fn window(
    conn: &Connection,
    conversation_id: i64,
    page: Page,
    limit: u32,
    me: i64,
) -> Result<Vec<MessageView>> {
    let markers = markers(conn, conversation_id, me)?;
    let (condition, key) = match page {
        Page::Latest => ("sort_key < ?2 ORDER BY sort_key DESC", i64::MAX),
        Page::Before(key) => ("sort_key < ?2 ORDER BY sort_key DESC", key),
        Page::After(key) => ("sort_key > ?2 ORDER BY sort_key ASC", key),
    };
    let sql = format!(
        "SELECT {VIEW_COLUMNS} FROM messages WHERE conversation_id = ?1 AND {condition} LIMIT ?3"
    );
    let mut views: Vec<MessageView> = conn
        .prepare_cached(&sql)?
        .query_map(params![conversation_id, key, limit], |row| {
            view_from_row(row, me, &markers)
        })?
        .collect::<rusqlite::Result<_>>()?;
    if !matches!(page, Page::After(_)) {
        views.reverse();
    }
    Ok(views)
}

/// The sort key of a message, for paging before it.
pub fn sort_key(conn: &Connection, local_id: i64) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT sort_key FROM messages WHERE local_id = ?1")?
        .query_row([local_id], |row| row.get(0))
        .optional()?)
}

/// The newest message of a conversation.
pub fn latest(conn: &Connection, conversation_id: i64, me: i64) -> Result<Option<MessageView>> {
    Ok(window(conn, conversation_id, Page::Latest, 1, me)?.pop())
}

/// Stores a message this device is about to send; returns its local id.
pub fn insert_local(
    conn: &Connection,
    conversation_id: i64,
    me: i64,
    client_id: &[u8],
    content: &[u8],
    now_ms: i64,
) -> Result<i64> {
    conn.prepare_cached(
        "INSERT INTO messages (conversation_id, sender_id, client_id, sort_key, created_at_ms,
                               content, state)
         VALUES (?1, ?2, ?3, 0, ?4, ?5, ?6)",
    )?
    .execute(params![
        conversation_id,
        me,
        client_id,
        now_ms,
        content,
        STATE_SENDING
    ])?;
    let local_id = conn.last_insert_rowid();
    conn.prepare_cached("UPDATE messages SET sort_key = ?2 WHERE local_id = ?1")?
        .execute(params![local_id, PENDING_BASE + local_id])?;
    Ok(local_id)
}

/// What storing one server message did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stored {
    /// A message new to this device.
    Added(i64),
    /// A local echo the server has now stored.
    Confirmed(i64),
    /// Known already.
    Known,
}

/// Stores a message the server has, merging it with its local echo if there is one.
pub fn store_server_message(conn: &Connection, message: &wire::Message) -> Result<Stored> {
    let existing: Option<(i64, Option<i64>)> = conn
        .prepare_cached(
            "SELECT local_id, server_id FROM messages WHERE sender_id = ?1 AND client_id = ?2",
        )?
        .query_row(params![message.sender_id, message.client_id], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .optional()?;
    match existing {
        Some((_, Some(_))) => Ok(Stored::Known),
        Some((local_id, None)) => {
            conn.prepare_cached(
                "UPDATE messages SET server_id = ?2, sort_key = ?2, created_at_ms = ?3, state = ?4
                 WHERE local_id = ?1",
            )?
            .execute(params![
                local_id,
                message.id,
                message.created_at_ms,
                STATE_SENT
            ])?;
            conn.prepare_cached("DELETE FROM outbox WHERE local_id = ?1")?
                .execute([local_id])?;
            Ok(Stored::Confirmed(local_id))
        }
        None => {
            conn.prepare_cached(
                "INSERT INTO messages (conversation_id, server_id, sender_id, client_id, sort_key,
                                       created_at_ms, content, state)
                 VALUES (?1, ?2, ?3, ?4, ?2, ?5, ?6, ?7)",
            )?
            .execute(params![
                message.conversation_id,
                message.id,
                message.sender_id,
                message.client_id,
                message.created_at_ms,
                message.content,
                STATE_SENT
            ])?;
            Ok(Stored::Added(conn.last_insert_rowid()))
        }
    }
}

/// Marks an own message refused.
pub fn mark_failed(conn: &Connection, local_id: i64) -> Result<()> {
    conn.prepare_cached("UPDATE messages SET state = ?2 WHERE local_id = ?1")?
        .execute(params![local_id, STATE_FAILED])?;
    Ok(())
}

/// Puts a failed message back to sending; false if it was not failed.
pub fn mark_sending(conn: &Connection, local_id: i64) -> Result<bool> {
    let changed = conn
        .prepare_cached("UPDATE messages SET state = ?2 WHERE local_id = ?1 AND state = ?3")?
        .execute(params![local_id, STATE_SENDING, STATE_FAILED])?;
    Ok(changed > 0)
}

/// The system notice in `content`, if it is one.
pub fn system_notice(content: &[u8]) -> Option<wire::SystemNotice> {
    match wire::MessageContent::decode(content).ok()?.kind {
        Some(Kind::System(notice)) => Some(notice),
        _ => None,
    }
}

/// Own messages whose server id is in `(after, up_to]`, for status events.
pub fn own_in_range(
    conn: &Connection,
    conversation_id: i64,
    me: i64,
    after: i64,
    up_to: i64,
) -> Result<Vec<(i64, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT local_id, server_id FROM messages
         WHERE conversation_id = ?1 AND sender_id = ?2 AND server_id > ?3 AND server_id <= ?4
         ORDER BY server_id LIMIT 1000",
    )?;
    let rows = stmt
        .query_map(params![conversation_id, me, after, up_to], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}
