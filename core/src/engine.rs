//! The session loop: connect, authenticate, catch up, then apply pushes until the link drops;
//! reconnect with exponential backoff and jitter (reset only by a connection that stayed up);
//! stop for good when the session is revoked.

use std::sync::Arc;
use std::time::Instant;

use flint_proto::ipc::{ConnectionState, Event};
use flint_proto::wire::{self, push};
use flint_proto::ErrorCode;
use tokio::sync::mpsc;

use crate::calls;
use crate::error::Result;
use crate::link::Link;
use crate::rules::receipts;
use crate::rules::reconnect::{backoff, next_attempt};
use crate::shared::Shared;
use crate::store::{conversations, messages};
use crate::sync;

/// Pushes applied together at most.
const PUSH_BATCH: usize = 512;

/// Runs until the client shuts down or the session is revoked.
pub async fn run(shared: Arc<Shared>) {
    let mut attempt = 0u32;
    while !shared.shutdown.is_cancelled() {
        shared.set_state(ConnectionState::Connecting);
        let connected = tokio::select! {
            _ = shared.shutdown.cancelled() => break,
            connected = Link::connect(&shared.params) => connected,
        };
        let mut online_for = None;
        let outcome = match connected {
            Ok((link, pushes, greeting)) => {
                let since = Instant::now();
                let outcome = session(&shared, &link, pushes, greeting).await;
                online_for = Some(since.elapsed());
                shared.link.send_replace(None);
                link.close();
                outcome
            }
            Err(error) => Err(error),
        };
        if let Err(error) = outcome {
            if error.code() == ErrorCode::Unauthenticated {
                tracing::warn!("session revoked; signing out");
                shared.set_state(ConnectionState::SignedOut);
                return;
            }
            tracing::info!(%error, "connection ended");
        }
        attempt = next_attempt(attempt, online_for);
        let delay = backoff(
            attempt,
            shared.config.reconnect_min,
            shared.config.reconnect_max,
            rand::random_range(0.5..=1.0),
        );
        shared.set_state(ConnectionState::Reconnecting {
            attempt,
            retry_in_ms: delay.as_millis() as u64,
        });
        tokio::select! {
            _ = shared.shutdown.cancelled() => break,
            _ = tokio::time::sleep(delay) => {}
        }
    }
    shared.link.send_replace(None);
}

async fn session(
    shared: &Arc<Shared>,
    link: &Arc<Link>,
    mut pushes: mpsc::Receiver<wire::Push>,
    greeting: wire::AuthOk,
) -> Result<()> {
    shared.max_text_chars.store(
        greeting.max_text_chars,
        std::sync::atomic::Ordering::Relaxed,
    );
    shared.set_state(ConnectionState::Syncing);
    sync::verify(shared, link, greeting.head_seq).await?;
    shared.link.send_replace(Some(Arc::clone(link)));
    shared.outbox_wake.notify_one();
    sync::refresh_all(shared, link).await?;
    sync::flush_read_markers(shared, link).await?;
    sync::catch_up(shared, link).await?;
    shared.set_state(ConnectionState::Online);
    loop {
        let first = tokio::select! {
            _ = shared.shutdown.cancelled() => return Ok(()),
            _ = link.closed() => return Ok(()),
            push = pushes.recv() => push,
        };
        let Some(first) = first else {
            return Ok(());
        };
        let mut batch = vec![first];
        while batch.len() < PUSH_BATCH {
            match pushes.try_recv() {
                Ok(push) => batch.push(push),
                Err(_) => break,
            }
        }
        apply_pushes(shared, link, batch).await?;
    }
}

/// Applies a batch of pushes: inbox entries together (in order), the rest one by one.
async fn apply_pushes(shared: &Arc<Shared>, link: &Link, batch: Vec<wire::Push>) -> Result<()> {
    let mut entries = Vec::new();
    for push in batch {
        match push.body {
            Some(push::Body::Inbox(entry)) => entries.push(entry),
            Some(push::Body::Receipt(receipt)) => apply_receipt(shared, receipt).await?,
            Some(push::Body::Typing(typing)) => shared.emit(Event::Typing {
                conversation_id: typing.conversation_id,
                user_id: typing.user_id,
            }),
            Some(push::Body::Conversation(conversation)) => {
                let (id, me) = (conversation.id, shared.me_id());
                shared
                    .store
                    .call(move |conn| conversations::upsert(conn, &conversation, me))
                    .await?;
                shared.emit_conversations(vec![id]).await?;
            }
            Some(push::Body::Call(update)) => calls::apply(shared, update),
            None => tracing::debug!("ignoring an empty push"),
        }
    }
    if entries.is_empty() {
        return Ok(());
    }
    sync::ingest_pushed(shared, link, entries).await
}

/// Applies a member's markers and emits the status of every own message they move.
async fn apply_receipt(shared: &Shared, receipt: wire::Receipt) -> Result<()> {
    let me = shared.me_id();
    let conversation_id = receipt.conversation_id;
    if receipt.user_id == me {
        shared
            .store
            .call(move |conn| {
                conversations::confirm_read(conn, conversation_id, receipt.read_up_to, me)
            })
            .await?;
        return shared.emit_conversations(vec![conversation_id]).await;
    }
    let changes = shared
        .store
        .call(move |conn| {
            let (before, after) = conversations::apply_receipt(conn, &receipt, me)?;
            let (low, high) = before.moved_range(&after);
            let own = messages::own_in_range(conn, conversation_id, me, low, high)?;
            Ok(receipts::changed(&before, &after, &own))
        })
        .await?;
    for (local_id, server_id, status) in changes {
        shared.emit(Event::MessageStatusChanged {
            conversation_id,
            local_id,
            server_id: Some(server_id),
            status,
            failure: None,
        });
    }
    Ok(())
}
