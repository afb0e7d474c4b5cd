//! Catching up with the server: ingesting inbox entries in seq order (never skipping, never
//! storing twice), acknowledging them, and refreshing conversation metadata.
//!
//! The invariant: `kv.last_seq` and the messages it covers are written in one transaction,
//! so after a crash the next sync starts exactly where the stored messages end.

use std::collections::{BTreeSet, HashMap, HashSet};

use flint_proto::ipc::{Event, MessageStatus, MessageView};
use flint_proto::wire::{self, request, response, NoticeKind};
use rusqlite::Connection;
use uuid::Uuid;

use crate::attachment;
use crate::error::{Error, Result};
use crate::link::{unexpected, Link};
use crate::rules::sync::{divergence, resume, step, Divergence, Fingerprint, Resume, Step};
use crate::shared::Shared;
use crate::store::messages::{self, decode_content, Stored};
use crate::store::{conversations, downloads, kv, outbox};

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
    /// True when a new message's file was queued for download (a voice message).
    pub queued_downloads: bool,
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
        failure: None,
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
        match step(out.last_seq, entry.seq) {
            Step::Skip => continue,
            Step::Gap => {
                out.gap = true;
                break;
            }
            Step::Store => {}
        }
        out.last_seq = entry.seq;
        let Some(message) = &entry.message else {
            continue;
        };
        store_message(&tx, message, Some(entry.seq), me, &mut out)?;
    }
    kv::set_last_seq(&tx, out.last_seq)?;
    tx.commit()?;
    Ok(out)
}

/// Stores one server message: from the inbox entry `seq`, or (`None`) from the answer to an
/// own send.
pub fn store_message(
    conn: &Connection,
    message: &wire::Message,
    seq: Option<u64>,
    me: i64,
    out: &mut Ingested,
) -> Result<()> {
    match messages::store_server_message(conn, message, seq)? {
        Stored::Added(local_id) => {
            if fetched_on_arrival(&message.content) {
                downloads::want(conn, local_id)?;
                out.queued_downloads = true;
            }
            out.added.push(view_of(local_id, message, me));
        }
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

/// Whether a new message's file is downloaded without waiting to be asked for.
fn fetched_on_arrival(content: &[u8]) -> bool {
    attachment::of(content)
        .is_some_and(|found| found.shown.fetched_on_arrival() && !found.file_id.is_empty())
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
    if ingested.queued_downloads {
        shared.downloads.wake();
    }
    for message in ingested.added {
        shared.emit(Event::MessageAdded { message });
    }
    for (conversation_id, local_id, server_id) in ingested.confirmed {
        shared.emit(Event::MessageStatusChanged {
            conversation_id,
            local_id,
            server_id: Some(server_id),
            status: MessageStatus::Sent,
            failure: None,
        });
    }
    shared
        .emit_conversations(ingested.conversations.into_iter().collect())
        .await
}

/// Ingests pushed entries; on a gap, pulls what is missing.
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

/// Pulls pages until the inbox is drained, storing and acknowledging each. An own message the
/// server confirmed before the pull and that the pull, reaching the head, did not bring back
/// is lost on the server (restored from a backup since): it goes back into the outbox.
pub async fn catch_up(shared: &Shared, link: &Link) -> Result<()> {
    let me = shared.me_id();
    let unseen = shared
        .store
        .call(move |conn| messages::unseen_own(conn, me))
        .await?;
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
    resend_lost(shared, unseen).await?;
    refresh_flagged(shared, link).await
}

/// Puts back in the outbox those of `unseen` (own messages the server had confirmed) that are
/// still not in the inbox after a full pull.
async fn resend_lost(shared: &Shared, unseen: Vec<(i64, i64)>) -> Result<()> {
    if unseen.is_empty() {
        return Ok(());
    }
    let me = shared.me_id();
    let lost = shared
        .store
        .call(move |conn| {
            let still: HashSet<i64> = messages::unseen_own(conn, me)?
                .into_iter()
                .map(|(local_id, _)| local_id)
                .collect();
            let lost: Vec<(i64, i64)> = unseen
                .into_iter()
                .filter(|(local_id, _)| still.contains(local_id))
                .collect();
            let tx = conn.transaction()?;
            for &(local_id, _) in &lost {
                messages::unconfirm(&tx, local_id)?;
                outbox::enqueue(&tx, local_id)?;
            }
            tx.commit()?;
            Ok(lost)
        })
        .await?;
    if lost.is_empty() {
        return Ok(());
    }
    tracing::warn!(
        count = lost.len(),
        "the server lost own messages it had confirmed; resending"
    );
    for &(local_id, conversation_id) in &lost {
        shared.emit(Event::MessageStatusChanged {
            conversation_id,
            local_id,
            server_id: None,
            status: MessageStatus::Sending,
            failure: None,
        });
    }
    shared.outbox_wake.notify_one();
    Ok(())
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

/// Every conversation the server lists for this account, page by page.
async fn list_all(link: &Link) -> Result<Vec<wire::Conversation>> {
    let mut all = Vec::new();
    loop {
        let after_id = all.last().map_or(0, |c: &wire::Conversation| c.id);
        let body = request::Body::ListConversations(wire::ListConversations { after_id, limit: 0 });
        let page = match link.request(body).await? {
            response::Result::Conversations(page) => page,
            other => return Err(unexpected(&other)),
        };
        let more = page.has_more && !page.conversations.is_empty();
        all.extend(page.conversations);
        if !more {
            return Ok(all);
        }
    }
}

/// Replaces every conversation's metadata with the server's list (run on each connect, so
/// markers and memberships that changed while offline are current).
pub async fn refresh_all(shared: &Shared, link: &Link) -> Result<()> {
    let me = shared.me_id();
    // Conversations known here before the list was asked for; one created meanwhile has a
    // larger id and may be missing from the list without having been left.
    let known_up_to = shared
        .store
        .call(|conn| conversations::newest_id(conn))
        .await?;
    let list = list_all(link).await?;
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
            let listed: HashSet<i64> = list.iter().map(|c| c.id).collect();
            conversations::mark_unlisted_departed(&tx, &listed, known_up_to)?;
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

/// The server's entries under seqs `(after, up_to]`, by seq.
async fn server_entries(link: &Link, after: u64, up_to: u64) -> Result<HashMap<u64, Fingerprint>> {
    let mut found = HashMap::new();
    let mut since = after;
    while since < up_to {
        let body = request::Body::Sync(wire::SyncRequest {
            since_seq: since,
            limit: u32::try_from(up_to - since)
                .unwrap_or(SYNC_PAGE)
                .min(SYNC_PAGE),
        });
        let page = match link.request(body).await? {
            response::Result::SyncPage(page) => page,
            other => return Err(unexpected(&other)),
        };
        let Some(last) = page.entries.last().map(|e| e.seq) else {
            break;
        };
        for entry in page.entries {
            if let (true, Some(m)) = (entry.seq <= up_to, entry.message) {
                found.insert(
                    entry.seq,
                    Fingerprint {
                        id: m.id,
                        sender_id: m.sender_id,
                        client_id: m.client_id,
                    },
                );
            }
        }
        since = last;
    }
    Ok(found)
}

/// The seq where the server and this device part ways, at or below `up_to`: windows of seqs
/// growing backwards from `up_to` until one starts on common ground.
async fn find_divergence(shared: &Shared, link: &Link, up_to: u64) -> Result<u64> {
    let mut window = 128u64;
    loop {
        let after = up_to.saturating_sub(window);
        let server = server_entries(link, after, up_to).await?;
        let local = shared
            .store
            .call(move |conn| messages::fingerprints(conn, after, up_to))
            .await?;
        match divergence(
            after,
            up_to,
            |s| local.get(&s).cloned(),
            |s| server.get(&s).cloned(),
        ) {
            Divergence::None => return Ok(up_to + 1),
            Divergence::At(seq) => return Ok(seq),
            Divergence::BeforeWindow => window = window.saturating_mul(4),
        }
    }
}

/// Checks, on each connect, that the server still holds what this device stored (the entry
/// under the newest seq here). When it does not — the server lost writes, restored from a
/// backup, and may have written other entries under the same seqs since — finds where the
/// two part ways and rolls back to there: own messages the server lost go back into the
/// outbox, other people's are dropped (their senders' outboxes send them again), and sync
/// continues from the common point. Front ends are told to read history again.
pub async fn verify(shared: &Shared, link: &Link, head_seq: u64) -> Result<()> {
    let last = shared.store.call(|conn| kv::last_seq(conn)).await?;
    if last == 0 {
        return Ok(());
    }
    let local_tip = shared
        .store
        .call(move |conn| messages::fingerprints(conn, last - 1, last))
        .await?
        .remove(&last);
    let server_tip = if head_seq >= last {
        server_entries(link, last - 1, last).await?.remove(&last)
    } else {
        None
    };
    if resume(last, head_seq, local_tip.as_ref(), server_tip.as_ref()) == Resume::CatchUp {
        return Ok(());
    }
    let parted_at = find_divergence(shared, link, last.min(head_seq)).await?;
    roll_back(shared, parted_at.saturating_sub(1)).await
}

/// Rolls this device back to seq `kept` (see [`verify`]).
async fn roll_back(shared: &Shared, kept: u64) -> Result<()> {
    let me = shared.me_id();
    let rolled = shared
        .store
        .call(move |conn| {
            let tx = conn.transaction()?;
            let rolled = messages::roll_back(&tx, kept, me)?;
            for &local_id in &rolled.resent {
                outbox::enqueue(&tx, local_id)?;
            }
            for &conversation_id in &rolled.conversations {
                conversations::recount_unread(&tx, conversation_id, me)?;
            }
            kv::set_last_seq(&tx, kept)?;
            tx.commit()?;
            Ok(rolled)
        })
        .await?;
    tracing::warn!(
        kept,
        resent = rolled.resent.len(),
        "the server lost recent messages (restored from a backup?); resending ours"
    );
    shared.outbox_wake.notify_one();
    shared.emit(Event::Reload);
    shared
        .emit_conversations(rolled.conversations.into_iter().collect())
        .await
}

#[cfg(test)]
mod tests {
    use flint_proto::wire::message_content::Kind;
    use prost::Message as _;

    use super::*;
    use crate::attachment::{self as files, Look};
    use crate::store::Store;

    /// Inbox entry `seq`: message `seq` from user 2 in conversation 1, of `kind`.
    pub(super) fn arriving(seq: u64, kind: Kind) -> wire::InboxEntry {
        let content = wire::MessageContent { kind: Some(kind) }.encode_to_vec();
        wire::InboxEntry {
            seq,
            message: Some(wire::Message {
                id: seq as i64,
                conversation_id: 1,
                sender_id: 2,
                client_id: u128::from(seq).to_le_bytes().to_vec(),
                created_at_ms: seq as i64,
                content,
            }),
        }
    }

    fn sent_file(look: &Look) -> Kind {
        let content = files::content("a".into(), 4, "audio/ogg".into(), look);
        let content = files::with_file_id(&content, "f").unwrap();
        wire::MessageContent::decode(&content[..])
            .unwrap()
            .kind
            .unwrap()
    }

    #[tokio::test]
    async fn a_voice_message_is_queued_for_download_with_the_message_itself() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("flint.db")).unwrap();
        let voice = Look::Voice {
            duration_ms: 1_000,
            waveform: vec![9; 48],
        };
        let entries = vec![
            arriving(1, sent_file(&voice)),
            arriving(2, sent_file(&Look::File)),
            arriving(3, Kind::Text(wire::Text::default())),
        ];
        let (ingested, due) = store
            .call(move |conn| Ok((ingest(conn, &entries, 1)?, downloads::due(conn, i64::MAX)?)))
            .await
            .unwrap();
        assert!(ingested.queued_downloads);
        assert_eq!(
            due,
            vec![ingested.added[0].local_id],
            "the voice message only"
        );
    }
}

#[cfg(test)]
mod properties {
    use flint_proto::wire;
    use proptest::prelude::*;

    use super::*;
    use crate::store::Store;

    fn entry(seq: u64) -> wire::InboxEntry {
        let text = wire::message_content::Kind::Text(wire::Text {
            body: format!("m{seq}"),
            ..Default::default()
        });
        super::tests::arriving(seq, text)
    }

    /// The seqs stored, in order, and the recorded newest seq.
    fn stored(conn: &Connection) -> (Vec<u64>, u64) {
        let seqs = conn
            .prepare("SELECT seq FROM messages ORDER BY seq")
            .and_then(|mut s| {
                s.query_map([], |r| r.get::<_, i64>(0))?
                    .collect::<rusqlite::Result<Vec<_>>>()
            })
            .unwrap_or_default();
        let last = kv::last_seq(conn).unwrap_or(0);
        (seqs.into_iter().map(|s| s as u64).collect(), last)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// However pushes and pages interleave (out of order, repeated, with holes), what is
        /// stored is always 1..=last_seq, each once; and once everything has come, all of it.
        #[test]
        fn ingest_stores_a_gap_free_prefix_exactly_once(
            batches in proptest::collection::vec(proptest::collection::vec(1u64..=40, 0..15), 1..12),
        ) {
            let runtime = tokio::runtime::Builder::new_current_thread().build().unwrap();
            let dir = tempfile::tempdir().unwrap();
            let store = Store::open(&dir.path().join("flint.db")).unwrap();
            let check = |batch: Vec<u64>| {
                runtime.block_on(store.call(move |conn| {
                    let entries: Vec<_> = batch.into_iter().map(entry).collect();
                    ingest(conn, &entries, 1)?;
                    Ok(stored(conn))
                }))
            };
            for batch in batches {
                let (seqs, last) = check(batch).unwrap();
                prop_assert_eq!(seqs, (1..=last).collect::<Vec<_>>());
            }
            let (seqs, last) = check((1..=40).collect()).unwrap();
            prop_assert_eq!(last, 40);
            prop_assert_eq!(seqs, (1..=40).collect::<Vec<_>>());
        }
    }
}
