//! SQL for conversations, members, read markers and drafts.

use flint_proto::api::User;
use std::collections::HashSet;

use flint_proto::ipc::{ConversationKind, ConversationView, MemberView, Role};
use flint_proto::wire::{self, MemberRole};
use rusqlite::{params, Connection, OptionalExtension};

use super::messages::{self, PENDING_BASE};
use crate::error::{Error, Result};
use crate::rules::receipts::Markers;

/// Records a conversation the server described, with its members.
pub fn upsert(conn: &Connection, conversation: &wire::Conversation, me: i64) -> Result<()> {
    let is_member = conversation.members.iter().any(|m| m.user_id == me);
    conn.prepare_cached(
        "INSERT INTO conversations (id, kind, name, is_member, last_activity_ms, needs_refresh)
         VALUES (?1, ?2, ?3, ?4, ?5, 0)
         ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, name = excluded.name,
             is_member = excluded.is_member, needs_refresh = 0,
             last_activity_ms = MAX(last_activity_ms, excluded.last_activity_ms)",
    )?
    .execute(params![
        conversation.id,
        conversation.kind,
        conversation.name,
        is_member,
        conversation.created_at_ms
    ])?;
    conn.prepare_cached("DELETE FROM members WHERE conversation_id = ?1")?
        .execute([conversation.id])?;
    let mut member = conn.prepare_cached(
        "INSERT INTO members (conversation_id, user_id, role, delivered_up_to, read_up_to)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    let mut user = conn.prepare_cached(
        "INSERT INTO users (id, username, display_name) VALUES (?1, ?2, ?3)
         ON CONFLICT (id) DO UPDATE SET username = excluded.username,
             display_name = excluded.display_name",
    )?;
    for m in &conversation.members {
        member.execute(params![
            conversation.id,
            m.user_id,
            m.role,
            m.delivered_up_to,
            m.read_up_to
        ])?;
        user.execute(params![m.user_id, m.username, m.display_name])?;
        if m.user_id == me {
            confirm_read(conn, conversation.id, m.read_up_to, me)?;
        }
    }
    Ok(())
}

/// Notes activity in a conversation, creating a placeholder for one not known yet.
pub fn touch(conn: &Connection, conversation_id: i64, at_ms: i64) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO conversations (id, last_activity_ms, needs_refresh) VALUES (?1, ?2, 1)
         ON CONFLICT (id) DO UPDATE
             SET last_activity_ms = MAX(last_activity_ms, excluded.last_activity_ms)",
    )?
    .execute(params![conversation_id, at_ms])?;
    Ok(())
}

/// Asks for the conversation's metadata to be fetched again.
pub fn mark_needs_refresh(conn: &Connection, conversation_id: i64) -> Result<()> {
    conn.prepare_cached("UPDATE conversations SET needs_refresh = 1 WHERE id = ?1")?
        .execute([conversation_id])?;
    Ok(())
}

/// Conversations whose metadata must be fetched.
pub fn needing_refresh(conn: &Connection) -> Result<Vec<i64>> {
    let mut stmt = conn
        .prepare_cached("SELECT id FROM conversations WHERE needs_refresh = 1 AND is_member = 1")?;
    let ids = stmt
        .query_map([], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(ids)
}

/// The largest conversation id known here (0 for none).
pub fn newest_id(conn: &Connection) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT COALESCE(MAX(id), 0) FROM conversations")?
        .query_row([], |row| row.get(0))?)
}

/// Marks departed every conversation this account is a member of locally, with an id up to
/// `known_up_to`, that the server did not list (`listed`: every id of the server's full list).
/// Returns those it marked.
pub fn mark_unlisted_departed(
    conn: &Connection,
    listed: &HashSet<i64>,
    known_up_to: i64,
) -> Result<Vec<i64>> {
    let local: Vec<i64> = conn
        .prepare_cached("SELECT id FROM conversations WHERE is_member = 1 AND id <= ?1")?
        .query_map([known_up_to], |row| row.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let gone: Vec<i64> = local
        .into_iter()
        .filter(|id| !listed.contains(id))
        .collect();
    for &id in &gone {
        mark_departed(conn, id)?;
    }
    Ok(gone)
}

/// Records that this account is no longer a member.
pub fn mark_departed(conn: &Connection, conversation_id: i64) -> Result<()> {
    conn.prepare_cached("UPDATE conversations SET is_member = 0, needs_refresh = 0 WHERE id = ?1")?
        .execute([conversation_id])?;
    Ok(())
}

/// Counts a message from someone else as unread unless the read marker covers it.
pub fn count_unread(conn: &Connection, conversation_id: i64, server_id: i64) -> Result<()> {
    conn.prepare_cached(
        "UPDATE conversations SET unread = unread + 1 WHERE id = ?1 AND read_up_to < ?2",
    )?
    .execute(params![conversation_id, server_id])?;
    Ok(())
}

/// Recounts the unread messages after the read marker moved (cheap: it counts only what is
/// after the marker).
pub fn recount_unread(conn: &Connection, conversation_id: i64, me: i64) -> Result<()> {
    conn.prepare_cached(
        "UPDATE conversations SET unread =
            (SELECT COUNT(*) FROM messages x
              WHERE x.conversation_id = ?1 AND x.sort_key > conversations.read_up_to
                AND x.sort_key < ?3 AND x.sender_id NOT IN (?2, 0))
         WHERE id = ?1",
    )?
    .execute(params![conversation_id, me, PENDING_BASE])?;
    Ok(())
}

/// Moves the local read marker to the newest stored message; returns it if it moved.
pub fn mark_read_locally(conn: &Connection, conversation_id: i64, me: i64) -> Result<Option<i64>> {
    let newest: i64 = conn
        .prepare_cached(
            "SELECT COALESCE(MAX(server_id), 0) FROM messages WHERE conversation_id = ?1",
        )?
        .query_row([conversation_id], |row| row.get(0))?;
    let moved = conn
        .prepare_cached(
            "UPDATE conversations SET read_up_to = ?2 WHERE id = ?1 AND read_up_to < ?2",
        )?
        .execute(params![conversation_id, newest])?;
    recount_unread(conn, conversation_id, me)?;
    Ok((moved > 0).then_some(newest))
}

/// Records what the server confirmed of the own read marker (and adopts a newer one from
/// another device).
pub fn confirm_read(conn: &Connection, conversation_id: i64, up_to: i64, me: i64) -> Result<()> {
    let moved = conn
        .prepare_cached(
            "UPDATE conversations SET read_synced_up_to = MAX(read_synced_up_to, ?2),
                                      read_up_to = MAX(read_up_to, ?2)
             WHERE id = ?1 AND (read_synced_up_to < ?2 OR read_up_to < ?2)",
        )?
        .execute(params![conversation_id, up_to])?;
    if moved > 0 {
        recount_unread(conn, conversation_id, me)?;
    }
    Ok(())
}

/// Read markers moved locally that the server has not confirmed.
pub fn unsynced_read_markers(conn: &Connection) -> Result<Vec<(i64, i64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, read_up_to FROM conversations
         WHERE read_up_to > read_synced_up_to AND is_member = 1",
    )?;
    let rows = stmt
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Applies another member's markers; returns the aggregate before and after.
pub fn apply_receipt(
    conn: &Connection,
    receipt: &wire::Receipt,
    me: i64,
) -> Result<(Markers, Markers)> {
    let before = messages::markers(conn, receipt.conversation_id, me)?;
    conn.prepare_cached(
        "UPDATE members SET delivered_up_to = MAX(delivered_up_to, ?3),
                            read_up_to = MAX(read_up_to, ?4)
         WHERE conversation_id = ?1 AND user_id = ?2",
    )?
    .execute(params![
        receipt.conversation_id,
        receipt.user_id,
        receipt.delivered_up_to,
        receipt.read_up_to
    ])?;
    let after = messages::markers(conn, receipt.conversation_id, me)?;
    Ok((before, after))
}

const VIEW_SQL: &str = "
    SELECT c.id, c.kind, c.name, c.is_member, c.last_activity_ms, c.pinned, c.muted, d.text,
           (SELECT COUNT(*) FROM members m WHERE m.conversation_id = c.id),
           c.unread,
           (SELECT u.display_name FROM members m JOIN users u ON u.id = m.user_id
             WHERE m.conversation_id = c.id ORDER BY m.user_id = ?1 LIMIT 1)
    FROM conversations c LEFT JOIN drafts d ON d.conversation_id = c.id";

fn view_from_row(conn: &Connection, row: &rusqlite::Row<'_>, me: i64) -> Result<ConversationView> {
    let id: i64 = row.get(0)?;
    let kind = if row.get::<_, i32>(1)? == wire::ConversationKind::Group as i32 {
        ConversationKind::Group
    } else {
        ConversationKind::Direct
    };
    let name: String = row.get(2)?;
    let peer_name: Option<String> = row.get(10)?;
    let title = match kind {
        ConversationKind::Group => name,
        ConversationKind::Direct => peer_name.unwrap_or_default(),
    };
    Ok(ConversationView {
        id,
        kind,
        title,
        member_count: row.get(8)?,
        last_message: messages::latest(conn, id, me)?,
        last_activity_ms: row.get(4)?,
        unread: row.get(9)?,
        pinned: row.get(5)?,
        muted: row.get(6)?,
        draft: row.get(7)?,
        is_member: row.get(3)?,
    })
}

/// Every conversation, in list order ([`ConversationView::list_order`]).
pub fn list(conn: &Connection, me: i64) -> Result<Vec<ConversationView>> {
    let mut stmt = conn.prepare_cached(VIEW_SQL)?;
    let mut rows = stmt.query(params![me])?;
    let mut views = Vec::new();
    while let Some(row) = rows.next()? {
        views.push(view_from_row(conn, row, me)?);
    }
    views.sort_by(ConversationView::list_order);
    Ok(views)
}

/// One conversation.
pub fn view(conn: &Connection, conversation_id: i64, me: i64) -> Result<Option<ConversationView>> {
    let sql = format!("{VIEW_SQL} WHERE c.id = ?2");
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(params![me, conversation_id])?;
    match rows.next()? {
        Some(row) => Ok(Some(view_from_row(conn, row, me)?)),
        None => Ok(None),
    }
}

/// The members of a conversation.
pub fn members(conn: &Connection, conversation_id: i64) -> Result<Vec<MemberView>> {
    let mut stmt = conn.prepare_cached(
        "SELECT u.id, u.username, u.display_name, m.role
         FROM members m JOIN users u ON u.id = m.user_id
         WHERE m.conversation_id = ?1 ORDER BY m.role DESC, u.id",
    )?;
    let members = stmt
        .query_map([conversation_id], |row| {
            let role = MemberRole::try_from(row.get::<_, i32>(3)?).unwrap_or(MemberRole::Member);
            Ok(MemberView {
                user: User {
                    id: row.get(0)?,
                    username: row.get(1)?,
                    display_name: row.get(2)?,
                },
                role: Role::from(role),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(members)
}

/// Saves (or, when empty, clears) the composer draft.
pub fn set_draft(conn: &Connection, conversation_id: i64, text: &str, now_ms: i64) -> Result<()> {
    if text.is_empty() {
        conn.prepare_cached("DELETE FROM drafts WHERE conversation_id = ?1")?
            .execute([conversation_id])?;
    } else {
        conn.prepare_cached(
            "INSERT INTO drafts (conversation_id, text, updated_at_ms) VALUES (?1, ?2, ?3)
             ON CONFLICT (conversation_id) DO UPDATE
                 SET text = excluded.text, updated_at_ms = excluded.updated_at_ms",
        )?
        .execute(params![conversation_id, text, now_ms])?;
    }
    Ok(())
}

/// A per-device switch on a conversation.
#[derive(Debug, Clone, Copy)]
pub enum Flag {
    /// Listed first.
    Pinned,
    /// No notifications; not in the unread total.
    Muted,
}

/// Turns a per-device switch on or off; an unknown conversation is an error.
pub fn set_flag(conn: &Connection, conversation_id: i64, flag: Flag, on: bool) -> Result<()> {
    let sql = match flag {
        Flag::Pinned => "UPDATE conversations SET pinned = ?2 WHERE id = ?1",
        Flag::Muted => "UPDATE conversations SET muted = ?2 WHERE id = ?1",
    };
    match conn
        .prepare_cached(sql)?
        .execute(params![conversation_id, on])?
    {
        0 => Err(Error::NotFound("conversation")),
        _ => Ok(()),
    }
}

/// The composer draft of a conversation.
pub fn draft(conn: &Connection, conversation_id: i64) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT text FROM drafts WHERE conversation_id = ?1")?
        .query_row([conversation_id], |row| row.get(0))
        .optional()?)
}

/// Whether the conversation is known locally and the account is a member.
pub fn is_member(conn: &Connection, conversation_id: i64) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT is_member FROM conversations WHERE id = ?1")?
        .query_row([conversation_id], |row| row.get(0))
        .optional()?
        .unwrap_or(false))
}

/// The other member of the direct conversation `conversation_id` (`None` for a group, or a
/// conversation not known here).
pub fn direct_peer(conn: &Connection, conversation_id: i64, me: i64) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached(
            "SELECT m.user_id FROM conversations c JOIN members m ON m.conversation_id = c.id
             WHERE c.id = ?1 AND c.kind = ?2 AND c.is_member AND m.user_id != ?3",
        )?
        .query_row(
            params![conversation_id, wire::ConversationKind::Direct as i32, me],
            |row| row.get(0),
        )
        .optional()?)
}
