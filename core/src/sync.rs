//! Catching up with the server: ingesting inbox entries in seq order (never skipping, never
//! storing twice), acknowledging them, and refreshing conversation metadata.
//!
//! The invariant: `kv.last_seq` and the messages it covers are written in one transaction,
//! so after a crash the next sync starts exactly where the stored messages end.

use std::collections::{BTreeSet, HashMap};

use flint_proto::ipc::{Event, MessageStatus, MessageView};
use flint_proto::wire::{self, request, response, NoticeKind};
use rusqlite::Connection;
use uuid::Uuid;

use crate::error::{Error, Result};
use crate::link::{unexpected, Link};
use crate::shared::Shared;
use crate::store::messages::{self, decode_content, Stored};
use crate::store::{conversations, kv};

/// Entries asked for per sync request.
const SYNC_PAGE: u32 = 500;

/// What ingesting a batch of entries did.
#[derive(Debug, Default)]
pub struct Ingested {
    /// Messages new to this device.
    pub added: Vec<MessageView>,
    /// Own local echoes the server has now stored: (conversation, local id, server id).
    pub confirmed: Vec<(i64, i64, i64)>,
    /// Conversations that changed.
    pub conversations: BTreeSet<i64>,
    /// The newest seq stored.
    pub last_seq: u64,
    /// True when the batch skipped ahead of `last_seq + 1` (the rest was not stored).
    pub gap: bool,
}

fn view_of(local_id: i64, message: &wire::Message, me: i64) -> MessageView {
    MessageView {
        local_id,
        server_id: Some(message.id),
        conversation_id: message.conversation_id,
        sender_id: message.sender_id,
        client_id: Uuid::from_slice(&message.client_id)
            .map(|id| id.to_string())
            .unwrap_or_default(),
        created_at_ms: message.created_at_ms,
        content: decode_content(&message.content),
        status: MessageStatus::Sent,
        is_own: message.sender_id == me,
    }
}

/// Stores entries that continue the stored sequence, in one transaction.
pub fn ingest(conn: &mut Connection, entries: &[wire::InboxEntry], me: i64) -> Result<Ingested> {
    let tx = conn.transaction()?;
    let mut out = Ingested {
        last_seq: kv::last_seq(&tx)?,
        ..Ingested::default()
    };
    for entry in entries {
        if entry.seq <= out.last_seq {
            continue;
        }
        if entry.seq != out.last_seq + 1 {
            out.gap = true;
            break;
        }
        out.last_seq = entry.seq;
        let Some(message) = &entry.message else {
            continue;
        };
        store_message(&tx, message, me, &mut out)?;
    }
    kv::set(&tx, kv::LAST_SEQ, &out.last_seq.to_string())?;
    tx.commit()?;
    Ok(out)
}

/// Stores one server message (also used for the outbox's send acknowledgements).
pub fn store_message(
    conn: &Connection,
    message: &wire::Message,
    me: i64,
    out: &mut Ingested,
) -> Result<()> {
    match messages::store_server_message(conn, message)? {
        Stored::Added(local_id) => out.added.push(view_of(local_id, message, me)),
        Stored::Confirmed(local_id) => {
            out.confirmed
                .push((message.conversation_id, local_id, message.id))
        }
        Stored::Known => return Ok(()),
    }
    conversations::touch(conn, message.conversation_id, message.created_at_ms)?;
    if message.sender_id != me && message.sender_id != 0 {
        conversations::count_unread(conn, message.conversation_id, message.id)?;
    }
    if let Some(notice) = messages::system_notice(&message.content) {
        apply_notice(conn, message.conversation_id, &notice, me)?;
    }
    out.conversations.insert(message.conversation_id);
    Ok(())
}

fn apply_notice(
    conn: &Connection,
    conversation_id: i64,
    notice: &wire::SystemNotice,
    me: i64,
) -> Result<()> {
    let removed_me = notice.kind() == NoticeKind::MembersRemoved && notice.targets.contains(&me);
    let left_me = notice.kind() == NoticeKind::MemberLeft && notice.actor_id == me;
    if removed_me || left_me {
        conversations::mark_departed(conn, conversation_id)
    } else {
        conversations::mark_needs_refresh(conn, conversation_id)
    }
}

/// Tells front ends what an ingest did.
pub async fn announce(shared: &Shared, ingested: Ingested) -> Result<()> {
    for message in ingested.added {
        shared.emit(Event::MessageAdded { message });
    }
    for (conversation_id, local_id, server_id) in ingested.confirmed {
        shared.emit(Event::MessageStatusChanged {
            conversation_id,
            local_id,
            server_id: Some(server_id),
            status: MessageStatus::Sent,
        });
    }
    shared
        .emit_conversations(ingested.conversations.into_iter().collect())
        .await
}

/// Ingests pushed entries; on a gap, pulls what is missing. Returns the newest seq stored.
pub async fn ingest_pushed(
    shared: &Shared,
    link: &Link,
    entries: Vec<wire::InboxEntry>,
) -> Result<()> {
    let me = shared.me_id();
    let ingested = shared
        .store
        .call(move |conn| ingest(conn, &entries, me))
        .await?;
    let (gap, last_seq) = (ingested.gap, ingested.last_seq);
    announce(shared, ingested).await?;
    if gap {
        catch_up(shared, link).await
    } else {
        acknowledge(link, last_seq).await?;
        refresh_flagged(shared, link).await
    }
}

/// Pulls pages until the inbox is drained, storing and acknowledging each.
pub async fn catch_up(shared: &Shared, link: &Link) -> Result<()> {
    let me = shared.me_id();
    loop {
        let since_seq = shared.store.call(|conn| kv::last_seq(conn)).await?;
        let body = request::Body::Sync(wire::SyncRequest {
            since_seq,
            limit: SYNC_PAGE,
        });
        let page = match link.request(body).await? {
            response::Result::SyncPage(page) => page,
            other => return Err(unexpected(&other)),
        };
        let has_more = page.has_more;
        let ingested = shared
            .store
            .call(move |conn| ingest(conn, &page.entries, me))
            .await?;
        let last_seq = ingested.last_seq;
        announce(shared, ingested).await?;
        acknowledge(link, last_seq).await?;
        if !has_more {
            break;
        }
    }
    refresh_flagged(shared, link).await
}

async fn acknowledge(link: &Link, up_to_seq: u64) -> Result<()> {
    if up_to_seq > 0 {
        link.request(request::Body::Ack(wire::Ack { up_to_seq }))
            .await?;
    }
    Ok(())
}

/// Fetches metadata of conversations flagged by new messages or notices.
pub async fn refresh_flagged(shared: &Shared, link: &Link) -> Result<()> {
    let ids = shared
        .store
        .call(|conn| conversations::needing_refresh(conn))
        .await?;
    for id in ids {
        refresh_one(shared, link, id).await?;
    }
    Ok(())
}

/// Fetches one conversation's metadata (marking it departed if the server says so).
pub async fn refresh_one(shared: &Shared, link: &Link, conversation_id: i64) -> Result<()> {
    let me = shared.me_id();
    let body = request::Body::GetConversation(wire::GetConversation { conversation_id });
    match link.request(body).await {
        Ok(response::Result::Conversation(conversation)) => {
            shared
                .store
                .call(move |conn| conversations::upsert(conn, &conversation, me))
                .await?
        }
        Ok(other) => return Err(unexpected(&other)),
        Err(Error::Server { code, .. })
            if code == flint_proto::ErrorCode::Forbidden
                || code == flint_proto::ErrorCode::NotFound =>
        {
            shared
                .store
                .call(move |conn| conversations::mark_departed(conn, conversation_id))
                .await?
        }
        Err(error) => return Err(error),
    }
    shared.emit_conversations(vec![conversation_id]).await
}

/// Replaces every conversation's metadata with the server's list (run on each connect, so
/// markers and memberships that changed while offline are current).
pub async fn refresh_all(shared: &Shared, link: &Link) -> Result<()> {
    let me = shared.me_id();
    let list = match link
        .request(request::Body::ListConversations(wire::ListConversations {}))
        .await?
    {
        response::Result::Conversations(list) => list.conversations,
        other => return Err(unexpected(&other)),
    };
    // Only what changed is announced: a reconnect with 1,000 quiet conversations emits nothing.
    let changed = shared
        .store
        .call(move |conn| {
            let tx = conn.transaction()?;
            let before: HashMap<i64, _> = conversations::list(&tx, me)?
                .into_iter()
                .map(|view| (view.id, view))
                .collect();
            for conversation in &list {
                conversations::upsert(&tx, conversation, me)?;
            }
            let after = conversations::list(&tx, me)?;
            tx.commit()?;
            Ok(after
                .into_iter()
                .filter(|view| before.get(&view.id) != Some(view))
                .collect::<Vec<_>>())
        })
        .await?;
    for conversation in changed {
        shared.emit(Event::ConversationUpdated { conversation });
    }
    Ok(())
}

/// Sends read markers moved while offline.
pub async fn flush_read_markers(shared: &Shared, link: &Link) -> Result<()> {
    let pending = shared
        .store
        .call(|conn| conversations::unsynced_read_markers(conn))
        .await?;
    for (conversation_id, up_to) in pending {
        send_read_marker(shared, link, conversation_id, up_to).await?;
    }
    Ok(())
}

/// Sends one read marker and records the server's confirmation.
pub async fn send_read_marker(
    shared: &Shared,
    link: &Link,
    conversation_id: i64,
    up_to_message_id: i64,
) -> Result<()> {
    let me = shared.me_id();
    let body = request::Body::MarkRead(wire::MarkRead {
        conversation_id,
        up_to_message_id,
    });
    match link.request(body).await {
        Ok(_) => {}
        // A marker the server will never take (e.g. the conversation was left) is settled
        // locally so it is not resent on every connect.
        Err(error) if error.is_permanent() => {
            tracing::warn!(%error, conversation_id, "read marker refused");
        }
        Err(error) => return Err(error),
    }
    shared
        .store
        .call(move |conn| conversations::confirm_read(conn, conversation_id, up_to_message_id, me))
        .await
}
