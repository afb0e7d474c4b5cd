//! SQL for conversations, members and group changes.

use flint_proto::wire::{self, ConversationKind, MemberRole, NoticeKind};
use prost::Message as _;
use rusqlite::{params, Connection, OptionalExtension};

use super::messages::insert_message;
use super::writer::WriteContext;
use crate::store::{now_ms, ConversationId, NewMessage, StoreError, UserId};

/// Fails with `Forbidden` unless `user_id` belongs to the conversation.
pub(super) fn require_member(
    conn: &Connection,
    conversation_id: ConversationId,
    user_id: UserId,
) -> Result<MemberRole, StoreError> {
    conn.prepare_cached("SELECT role FROM members WHERE conversation_id = ?1 AND user_id = ?2")?
        .query_row([conversation_id, user_id], |row| row.get::<_, i32>(0))
        .optional()?
        .map(|role| MemberRole::try_from(role).unwrap_or(MemberRole::Member))
        .ok_or(StoreError::Forbidden("not a member of this conversation"))
}

pub(super) fn member_ids(
    conn: &Connection,
    conversation_id: ConversationId,
) -> Result<Vec<UserId>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT user_id FROM members WHERE conversation_id = ?1")?;
    let ids = stmt
        .query_map([conversation_id], |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    Ok(ids)
}

fn require_users_exist(conn: &Connection, user_ids: &[UserId]) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached("SELECT 1 FROM users WHERE id = ?1")?;
    for &id in user_ids {
        if !stmt.exists([id])? {
            return Err(StoreError::NotFound("user"));
        }
    }
    Ok(())
}

/// A conversation with its members, as `user_id` may see it.
pub(super) fn load(
    conn: &Connection,
    user_id: UserId,
    conversation_id: ConversationId,
) -> Result<wire::Conversation, StoreError> {
    require_member(conn, conversation_id, user_id)?;
    load_unchecked(conn, conversation_id)
}

fn load_unchecked(
    conn: &Connection,
    conversation_id: ConversationId,
) -> Result<wire::Conversation, StoreError> {
    let (kind, name, created_at_ms) = conn
        .prepare_cached("SELECT kind, name, created_at_ms FROM conversations WHERE id = ?1")?
        .query_row([conversation_id], |row| {
            Ok((row.get::<_, i32>(0)?, row.get::<_, String>(1)?, row.get(2)?))
        })
        .optional()?
        .ok_or(StoreError::NotFound("conversation"))?;
    let mut stmt = conn.prepare_cached(
        "SELECT u.id, u.username, u.display_name, m.role, m.delivered_up_to, m.read_up_to
         FROM members m JOIN users u ON u.id = m.user_id
         WHERE m.conversation_id = ?1 ORDER BY m.role DESC, u.id",
    )?;
    let members = stmt
        .query_map([conversation_id], |row| {
            Ok(wire::Member {
                user_id: row.get(0)?,
                username: row.get(1)?,
                display_name: row.get(2)?,
                role: row.get(3)?,
                delivered_up_to: row.get(4)?,
                read_up_to: row.get(5)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(wire::Conversation {
        id: conversation_id,
        kind,
        name,
        members,
        created_at_ms,
    })
}

/// Up to `limit` conversations of `user_id` with ids after `after_id`, in id order, stopping
/// early before their encoded size passes `max_bytes` (a page always holds at least one).
pub(super) fn page(
    conn: &Connection,
    user_id: UserId,
    after_id: ConversationId,
    limit: u32,
    max_bytes: usize,
) -> Result<wire::ConversationList, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT conversation_id FROM members WHERE user_id = ?1 AND conversation_id > ?2
         ORDER BY conversation_id LIMIT ?3",
    )?;
    let ids: Vec<ConversationId> = stmt
        .query_map(params![user_id, after_id, i64::from(limit) + 1], |row| {
            row.get(0)
        })?
        .collect::<Result<_, _>>()?;
    let mut conversations = Vec::new();
    let mut bytes = 0usize;
    for &id in ids.iter().take(limit as usize) {
        let conversation = load_unchecked(conn, id)?;
        let size = conversation.encoded_len() + 4;
        if !conversations.is_empty() && bytes + size > max_bytes {
            break;
        }
        bytes += size;
        conversations.push(conversation);
    }
    Ok(wire::ConversationList {
        has_more: conversations.len() < ids.len(),
        conversations,
    })
}

fn insert_conversation(
    conn: &Connection,
    kind: ConversationKind,
    name: &str,
) -> Result<ConversationId, StoreError> {
    conn.prepare_cached(
        "INSERT INTO conversations (kind, name, created_at_ms) VALUES (?1, ?2, ?3)",
    )?
    .execute(params![kind as i32, name, now_ms()])?;
    Ok(conn.last_insert_rowid())
}

fn insert_member(
    conn: &Connection,
    conversation_id: ConversationId,
    user_id: UserId,
    role: MemberRole,
) -> Result<bool, StoreError> {
    let inserted = conn
        .prepare_cached(
            "INSERT INTO members (conversation_id, user_id, role) VALUES (?1, ?2, ?3)
             ON CONFLICT DO NOTHING",
        )?
        .execute(params![conversation_id, user_id, role as i32])?;
    Ok(inserted > 0)
}

pub(super) fn open_direct(
    ctx: &mut WriteContext<'_>,
    user_id: UserId,
    peer_id: UserId,
) -> Result<wire::Conversation, StoreError> {
    require_users_exist(ctx.conn, &[peer_id])?;
    let (low, high) = (user_id.min(peer_id), user_id.max(peer_id));
    let existing: Option<ConversationId> = ctx
        .conn
        .prepare_cached(
            "SELECT conversation_id FROM direct_pairs WHERE low_user_id = ?1 AND high_user_id = ?2",
        )?
        .query_row([low, high], |row| row.get(0))
        .optional()?;
    let conversation_id = match existing {
        Some(id) => id,
        None => {
            let id = insert_conversation(ctx.conn, ConversationKind::Direct, "")?;
            ctx.conn.execute(
                "INSERT INTO direct_pairs (low_user_id, high_user_id, conversation_id)
                 VALUES (?1, ?2, ?3)",
                params![low, high, id],
            )?;
            for member in [low, high] {
                insert_member(ctx.conn, id, member, MemberRole::Member)?;
            }
            id
        }
    };
    load_unchecked(ctx.conn, conversation_id)
}

/// Writes a system notice into the conversation, delivered to its members and `also`.
fn notice(
    ctx: &mut WriteContext<'_>,
    conversation_id: ConversationId,
    notice: wire::SystemNotice,
    also: &[UserId],
) -> Result<(), StoreError> {
    let content = wire::MessageContent {
        kind: Some(wire::message_content::Kind::System(notice)),
    }
    .encode_to_vec();
    let mut recipients = member_ids(ctx.conn, conversation_id)?;
    recipients.extend_from_slice(also);
    let new = NewMessage {
        sender_id: 0,
        conversation_id,
        client_id: uuid_like_id(),
        content,
        recalls: None,
        files: Vec::new(),
    };
    insert_message(ctx, new, &recipients)?;
    Ok(())
}

/// A random 16-byte id for server-written messages (they are never resent).
fn uuid_like_id() -> Vec<u8> {
    rand::random::<[u8; 16]>().to_vec()
}

fn require_group(conn: &Connection, conversation_id: ConversationId) -> Result<(), StoreError> {
    let kind: Option<i32> = conn
        .prepare_cached("SELECT kind FROM conversations WHERE id = ?1")?
        .query_row([conversation_id], |row| row.get(0))
        .optional()?;
    match kind {
        Some(k) if k == ConversationKind::Group as i32 => Ok(()),
        Some(_) => Err(StoreError::Invalid("not a group".into())),
        None => Err(StoreError::NotFound("conversation")),
    }
}

/// Membership first, then the kind: an outsider learns nothing about the conversation, not
/// even that it exists or that it is not a group.
fn require_manager(
    conn: &Connection,
    conversation_id: ConversationId,
    actor_id: UserId,
) -> Result<(), StoreError> {
    let role = require_member(conn, conversation_id, actor_id)?;
    require_group(conn, conversation_id)?;
    match role {
        MemberRole::Owner | MemberRole::Admin => Ok(()),
        MemberRole::Member => Err(StoreError::Forbidden(
            "only the owner or an admin may do this",
        )),
    }
}

fn check_group_size(
    conn: &Connection,
    conversation_id: ConversationId,
    max_members: usize,
) -> Result<(), StoreError> {
    if member_ids(conn, conversation_id)?.len() > max_members {
        return Err(StoreError::Invalid(format!(
            "a group holds at most {max_members} members"
        )));
    }
    Ok(())
}

pub(super) fn create_group(
    ctx: &mut WriteContext<'_>,
    owner_id: UserId,
    name: &str,
    member_ids: &[UserId],
    max_members: usize,
) -> Result<wire::Conversation, StoreError> {
    require_users_exist(ctx.conn, member_ids)?;
    let id = insert_conversation(ctx.conn, ConversationKind::Group, name)?;
    insert_member(ctx.conn, id, owner_id, MemberRole::Owner)?;
    let mut added = Vec::new();
    for &member in member_ids {
        if insert_member(ctx.conn, id, member, MemberRole::Member)? {
            added.push(member);
        }
    }
    check_group_size(ctx.conn, id, max_members)?;
    let created = wire::SystemNotice {
        kind: NoticeKind::GroupCreated as i32,
        actor_id: owner_id,
        targets: added,
        name: name.to_owned(),
    };
    notice(ctx, id, created, &[])?;
    load_unchecked(ctx.conn, id)
}

pub(super) fn add_members(
    ctx: &mut WriteContext<'_>,
    actor_id: UserId,
    conversation_id: ConversationId,
    user_ids: &[UserId],
    max_members: usize,
) -> Result<wire::Conversation, StoreError> {
    require_manager(ctx.conn, conversation_id, actor_id)?;
    require_users_exist(ctx.conn, user_ids)?;
    let mut added = Vec::new();
    for &user in user_ids {
        if insert_member(ctx.conn, conversation_id, user, MemberRole::Member)? {
            added.push(user);
        }
    }
    check_group_size(ctx.conn, conversation_id, max_members)?;
    if !added.is_empty() {
        let notice_body = wire::SystemNotice {
            kind: NoticeKind::MembersAdded as i32,
            actor_id,
            targets: added,
            name: String::new(),
        };
        notice(ctx, conversation_id, notice_body, &[])?;
    }
    load_unchecked(ctx.conn, conversation_id)
}

fn delete_members(
    conn: &Connection,
    conversation_id: ConversationId,
    user_ids: &[UserId],
) -> Result<Vec<UserId>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "DELETE FROM members WHERE conversation_id = ?1 AND user_id = ?2 AND role != ?3",
    )?;
    let mut removed = Vec::new();
    for &user in user_ids {
        if stmt.execute(params![conversation_id, user, MemberRole::Owner as i32])? > 0 {
            removed.push(user);
        }
    }
    Ok(removed)
}

pub(super) fn remove_members(
    ctx: &mut WriteContext<'_>,
    actor_id: UserId,
    conversation_id: ConversationId,
    user_ids: &[UserId],
) -> Result<wire::Conversation, StoreError> {
    require_manager(ctx.conn, conversation_id, actor_id)?;
    let removed = delete_members(ctx.conn, conversation_id, user_ids)?;
    if !removed.is_empty() {
        let notice_body = wire::SystemNotice {
            kind: NoticeKind::MembersRemoved as i32,
            actor_id,
            targets: removed.clone(),
            name: String::new(),
        };
        notice(ctx, conversation_id, notice_body, &removed)?;
    }
    load_unchecked(ctx.conn, conversation_id)
}

pub(super) fn leave_group(
    ctx: &mut WriteContext<'_>,
    user_id: UserId,
    conversation_id: ConversationId,
) -> Result<wire::Conversation, StoreError> {
    let role = require_member(ctx.conn, conversation_id, user_id)?;
    require_group(ctx.conn, conversation_id)?;
    if role == MemberRole::Owner {
        return Err(StoreError::Invalid(
            "the owner cannot leave the group".into(),
        ));
    }
    let removed = delete_members(ctx.conn, conversation_id, &[user_id])?;
    let notice_body = wire::SystemNotice {
        kind: NoticeKind::MemberLeft as i32,
        actor_id: user_id,
        targets: Vec::new(),
        name: String::new(),
    };
    notice(ctx, conversation_id, notice_body, &removed)?;
    load_unchecked(ctx.conn, conversation_id)
}
