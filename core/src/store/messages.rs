//! SQL for messages: local echoes, ingesting synced entries, windows of history.

use flint_proto::ipc::{ContentView, MessageStatus, MessageView, Toward};
use flint_proto::wire::{self, message_content::Kind};
use flint_proto::ErrorCode;
use prost::Message as _;
use rusqlite::{params, Connection, OptionalExtension, Row};
use uuid::Uuid;

use crate::error::Result;
use crate::rules::receipts::Markers;
use crate::rules::sync::{after_rollback, AfterRollback, Fingerprint};

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
            kind: notice.kind().into(),
            actor_id: notice.actor_id,
            targets: notice.targets,
            name: notice.name,
        },
        Some(Kind::Image(image)) => ContentView::Image {
            width: image.width,
            height: image.height,
            size: image.size,
            animated: image.mime == "image/gif",
        },
        Some(Kind::File(file)) => ContentView::File {
            file_id: file.file_id,
            name: file.name,
            size: file.size,
        },
        Some(Kind::Voice(voice)) => ContentView::Voice {
            duration_ms: voice.duration_ms,
            waveform: voice.waveform,
        },
        Some(Kind::Video(video)) => ContentView::Video {
            width: video.width,
            height: video.height,
            duration_ms: video.duration_ms,
            size: video.size,
        },
        Some(Kind::CallLog(log)) => ContentView::Call {
            kind: log.media().into(),
            outcome: log.outcome().into(),
            duration_ms: log.duration_ms,
        },
        Some(Kind::Sticker(sticker)) => ContentView::Sticker {
            width: sticker.width,
            height: sticker.height,
            animated: sticker.mime == "image/gif",
        },
        Some(Kind::Card(_)) => unsupported("card"),
        Some(Kind::MergedForward(_)) => unsupported("merged_forward"),
        Some(Kind::Recall(_)) => unsupported("recall"),
        None => unsupported("unknown"),
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

const VIEW_COLUMNS: &str = "local_id, server_id, conversation_id, sender_id, client_id, \
                            created_at_ms, content, state, failure";

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
        failure: row
            .get::<_, Option<i32>>(8)?
            .map(|code| ErrorCode::try_from(code).unwrap_or(ErrorCode::Internal)),
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

/// Stores a message the server has, merging it with its local echo if there is one. `seq` is
/// the inbox entry it came in (`None` for the answer to a send).
pub fn store_server_message(
    conn: &Connection,
    message: &wire::Message,
    seq: Option<u64>,
) -> Result<Stored> {
    let seq = seq.map(seq_param);
    let existing: Option<(i64, Option<i64>)> = conn
        .prepare_cached(
            "SELECT local_id, server_id FROM messages WHERE sender_id = ?1 AND client_id = ?2",
        )?
        .query_row(params![message.sender_id, message.client_id], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })
        .optional()?;
    match existing {
        Some((local_id, Some(_))) => {
            if seq.is_some() {
                conn.prepare_cached("UPDATE messages SET seq = ?2 WHERE local_id = ?1")?
                    .execute(params![local_id, seq])?;
            }
            Ok(Stored::Known)
        }
        Some((local_id, None)) => {
            conn.prepare_cached(
                "UPDATE messages SET server_id = ?2, sort_key = ?2, created_at_ms = ?3, state = ?4,
                                     seq = ?5, failure = NULL
                 WHERE local_id = ?1",
            )?
            .execute(params![
                local_id,
                message.id,
                message.created_at_ms,
                STATE_SENT,
                seq
            ])?;
            conn.prepare_cached("DELETE FROM outbox WHERE local_id = ?1")?
                .execute([local_id])?;
            Ok(Stored::Confirmed(local_id))
        }
        None => {
            conn.prepare_cached(
                "INSERT INTO messages (conversation_id, server_id, sender_id, client_id, sort_key,
                                       created_at_ms, content, state, seq)
                 VALUES (?1, ?2, ?3, ?4, ?2, ?5, ?6, ?7, ?8)",
            )?
            .execute(params![
                message.conversation_id,
                message.id,
                message.sender_id,
                message.client_id,
                message.created_at_ms,
                message.content,
                STATE_SENT,
                seq
            ])?;
            Ok(Stored::Added(conn.last_insert_rowid()))
        }
    }
}

/// Marks an own message failed, with the reason.
pub fn mark_failed(conn: &Connection, local_id: i64, reason: ErrorCode) -> Result<()> {
    conn.prepare_cached("UPDATE messages SET state = ?2, failure = ?3 WHERE local_id = ?1")?
        .execute(params![local_id, STATE_FAILED, reason as i32])?;
    Ok(())
}

/// Puts a failed message back to sending; false if it was not failed.
pub fn mark_sending(conn: &Connection, local_id: i64) -> Result<bool> {
    let changed = conn
        .prepare_cached(
            "UPDATE messages SET state = ?2, failure = NULL WHERE local_id = ?1 AND state = ?3",
        )?
        .execute(params![local_id, STATE_SENDING, STATE_FAILED])?;
    Ok(changed > 0)
}

/// Deletes an own message the server never stored (a failed one); returns its conversation,
/// or `None` when there is no such message.
pub fn delete_unsent(conn: &Connection, local_id: i64, me: i64) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached(
            "DELETE FROM messages WHERE local_id = ?1 AND sender_id = ?2 AND server_id IS NULL
                                     AND state = ?3
             RETURNING conversation_id",
        )?
        .query_row(params![local_id, me, STATE_FAILED], |row| row.get(0))
        .optional()?)
}

/// What a rollback changed.
#[derive(Debug, Default)]
pub struct RolledBack {
    /// Own messages put back in the outbox (local ids).
    pub resent: Vec<i64>,
    /// Conversations whose history changed.
    pub conversations: std::collections::BTreeSet<i64>,
}

/// A seq as SQLite's integer (seqs past `i64::MAX` clamp to it).
fn seq_param(seq: u64) -> i64 {
    i64::try_from(seq).unwrap_or(i64::MAX)
}

/// Who the messages stored under inbox seqs `(after, up_to]` are, by seq.
pub fn fingerprints(
    conn: &Connection,
    after: u64,
    up_to: u64,
) -> Result<std::collections::HashMap<u64, Fingerprint>> {
    let seq = seq_param;
    let mut stmt = conn.prepare_cached(
        "SELECT seq, server_id, sender_id, client_id FROM messages
         WHERE seq > ?1 AND seq <= ?2 AND server_id IS NOT NULL",
    )?;
    let rows = stmt
        .query_map(params![seq(after), seq(up_to)], |row| {
            Ok((
                u64::try_from(row.get::<_, i64>(0)?).unwrap_or(0),
                Fingerprint {
                    id: row.get(1)?,
                    sender_id: row.get(2)?,
                    client_id: row.get(3)?,
                },
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Applies a rollback: the server agrees with this device only up to seq `kept` (see
/// [`crate::rules::sync::after_rollback`]). Own messages it may have lost become unsent again
/// (the caller queues them); other people's are dropped.
pub fn roll_back(conn: &Connection, kept: u64, me: i64) -> Result<RolledBack> {
    let tracked = super::kv::seq_tracked_after(conn)?;
    let candidates: Vec<(i64, i64, i64, Option<i64>)> = conn
        .prepare_cached(
            "SELECT local_id, conversation_id, sender_id, seq FROM messages
             WHERE server_id IS NOT NULL
               AND (seq > ?1 OR (seq IS NULL AND sender_id = ?2 AND local_id > ?3))",
        )?
        .query_map(params![seq_param(kept), me, tracked], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = RolledBack::default();
    for (local_id, conversation_id, sender_id, seq) in candidates {
        let seq = seq.map(|s| u64::try_from(s).unwrap_or(0));
        match after_rollback(kept, sender_id == me, seq, true) {
            AfterRollback::Keep => continue,
            AfterRollback::Resend => {
                conn.prepare_cached(
                    "UPDATE messages SET server_id = NULL, seq = NULL, sort_key = ?2, state = ?3
                     WHERE local_id = ?1",
                )?
                .execute(params![
                    local_id,
                    PENDING_BASE + local_id,
                    STATE_SENDING
                ])?;
                out.resent.push(local_id);
            }
            AfterRollback::Drop => {
                conn.prepare_cached("DELETE FROM messages WHERE local_id = ?1")?
                    .execute([local_id])?;
            }
        }
        out.conversations.insert(conversation_id);
    }
    Ok(out)
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

/// Makes a confirmed own message unsent again (the caller queues it): the server no longer has
/// it, so its server id means nothing.
pub fn unconfirm(conn: &Connection, local_id: i64) -> Result<()> {
    conn.prepare_cached(
        "UPDATE messages SET server_id = NULL, seq = NULL, sort_key = ?2, state = ?3
         WHERE local_id = ?1",
    )?
    .execute(params![local_id, PENDING_BASE + local_id, STATE_SENDING])?;
    Ok(())
}

/// Own messages the server confirmed that have not come back through the inbox yet (local
/// id, conversation). After a catch-up to the server's head, any of these that were already
/// unseen before it are lost on the server.
pub fn unseen_own(conn: &Connection, me: i64) -> Result<Vec<(i64, i64)>> {
    let tracked = super::kv::seq_tracked_after(conn)?;
    let mut stmt = conn.prepare_cached(
        "SELECT local_id, conversation_id FROM messages
         WHERE sender_id = ?1 AND seq IS NULL AND server_id IS NOT NULL AND local_id > ?2",
    )?;
    let rows = stmt
        .query_map(params![me, tracked], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// The stored content of a message.
pub fn content(conn: &Connection, local_id: i64) -> Result<Option<Vec<u8>>> {
    Ok(conn
        .prepare_cached("SELECT content FROM messages WHERE local_id = ?1")?
        .query_row([local_id], |row| row.get(0))
        .optional()?)
}

/// The conversation and stored content of a message.
pub fn located(conn: &Connection, local_id: i64) -> Result<Option<(i64, Vec<u8>)>> {
    Ok(conn
        .prepare_cached("SELECT conversation_id, content FROM messages WHERE local_id = ?1")?
        .query_row([local_id], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?)
}

/// The picture next to `local_id` in its conversation, loaded in a window or not.
pub fn neighbour_picture(conn: &Connection, local_id: i64, toward: Toward) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached(&neighbour_sql(toward))?
        .query_row([local_id], |row| row.get(0))
        .optional()?)
}

/// The query behind [`neighbour_picture`]. Every encoded picture starts with 0x12
/// (`MessageContent.image` is field 2, length-delimited; a unit test holds the proto to it);
/// the term is spelled as in the `messages_pictures` index (migration 004) so SQLite uses it.
fn neighbour_sql(toward: Toward) -> String {
    let (condition, order) = match toward {
        Toward::Older => ("<", "DESC"),
        Toward::Newer => (">", "ASC"),
    };
    format!(
        "SELECT m.local_id FROM messages AS here, messages AS m
         WHERE here.local_id = ?1 AND m.conversation_id = here.conversation_id
           AND substr(m.content, 1, 1) = x'12' AND m.sort_key {condition} here.sort_key
         ORDER BY m.sort_key {order} LIMIT 1"
    )
}

/// Replaces the content of an own message not yet sent (its file got its server id).
pub fn set_unsent_content(conn: &Connection, local_id: i64, content: &[u8]) -> Result<()> {
    conn.prepare_cached(
        "UPDATE messages SET content = ?2 WHERE local_id = ?1 AND server_id IS NULL",
    )?
    .execute(params![local_id, content])?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn encoded(kind: Kind) -> Vec<u8> {
        wire::MessageContent { kind: Some(kind) }.encode_to_vec()
    }

    fn picture() -> Vec<u8> {
        encoded(Kind::Image(wire::Image {
            file_id: "f".into(),
            ..Default::default()
        }))
    }

    fn text() -> Vec<u8> {
        encoded(Kind::Text(wire::Text {
            body: "hi".into(),
            ..Default::default()
        }))
    }

    /// Stores a server message `id` of conversation `conversation_id`; returns its local id.
    fn stored(conn: &Connection, id: i64, conversation_id: i64, content: Vec<u8>) -> i64 {
        let message = wire::Message {
            id,
            conversation_id,
            sender_id: 2,
            client_id: Uuid::now_v7().as_bytes().to_vec(),
            created_at_ms: id,
            content,
        };
        match store_server_message(conn, &message, None).unwrap() {
            Stored::Added(local_id) => local_id,
            other => panic!("not added: {other:?}"),
        }
    }

    #[test]
    fn every_encoded_picture_starts_with_the_indexed_tag() {
        assert_eq!(picture()[0], 0x12);
        assert_ne!(text()[0], 0x12);
        let file = encoded(Kind::File(wire::File::default()));
        assert_ne!(file.first(), Some(&0x12));
    }

    #[test]
    fn the_viewer_steps_through_every_picture_of_the_conversation_only() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("a.db")).unwrap();
        let conn = store.conn.lock().unwrap();
        let first = stored(&conn, 10, 1, picture());
        stored(&conn, 11, 1, text());
        stored(&conn, 12, 2, picture());
        let second = stored(&conn, 13, 1, picture());
        let between = stored(&conn, 14, 1, text());
        let step = |id, toward| neighbour_picture(&conn, id, toward).unwrap();
        assert_eq!(step(first, Toward::Newer), Some(second));
        assert_eq!(step(second, Toward::Older), Some(first));
        assert_eq!(step(first, Toward::Older), None);
        assert_eq!(step(second, Toward::Newer), None);
        assert_eq!(step(between, Toward::Older), Some(second));
        assert_eq!(step(999, Toward::Newer), None);
    }

    #[test]
    fn stepping_uses_the_picture_index() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("a.db")).unwrap();
        let conn = store.conn.lock().unwrap();
        let plan: Vec<String> = conn
            .prepare(&format!(
                "EXPLAIN QUERY PLAN {}",
                neighbour_sql(Toward::Newer)
            ))
            .unwrap()
            .query_map([1], |row| row.get(3))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert!(
            plan.iter().any(|step| step.contains("messages_pictures")),
            "{plan:?}"
        );
    }
}
