//! The send queue.
//!
//! Design (after matrix-sdk's send queue): a message is written to `messages` (as a local
//! echo with state "sending") and to `outbox` in one transaction *before* anything touches
//! the network, and `MessageAdded` is emitted at once. This task sends queued messages one at
//! a time whenever a link is up; [`crate::rules::outbox`] decides which goes next and what a
//! failure means.
//!
//! - Order is kept per conversation: a message never overtakes an older one of its own
//!   conversation, and one message waiting out a backoff holds up only its conversation.
//! - The server deduplicates on (sender, client id), so resending after a lost answer, a
//!   reconnect, a crash or a restart never makes a second message.
//! - An answer (or the message's own inbox entry, whichever comes first) confirms the echo:
//!   the row gets its server id, leaves the outbox, and `MessageStatusChanged(Sent)` fires.
//! - A refusal that cannot change (forbidden, too large, invalid), or a transient failure
//!   repeated as often as the [`RetryPolicy`](crate::rules::outbox::RetryPolicy) allows, marks the message
//!   failed with its reason and takes it off the queue; `Client::retry` puts it back and
//!   `Client::delete_failed` drops it. Transient failures back off exponentially (capped);
//!   a rate limit holds every send as long as the server asks; a lost link waits for the next.

use std::sync::Arc;
use std::time::Duration;

use flint_proto::ipc::{Event, MessageStatus};
use flint_proto::wire::{self, request, response};
use tokio::time::Instant;

use crate::error::{Error, Result};
use crate::link::{unexpected, Link};
use crate::rules::outbox::{after_failure, pick, Decision, Failure, Pick};
use crate::shared::Shared;
use crate::store::outbox::Pending;
use crate::store::{messages, now_ms, outbox};
use crate::sync::{self, Ingested};

/// Pause after the outbox itself failed (its database), before trying again.
const PAUSE_AFTER_ERROR: Duration = Duration::from_secs(1);

/// Why draining stopped.
enum Stop {
    /// Nothing left to send.
    Empty,
    /// Every queued message waits until this time (ms since the epoch).
    Until(i64),
    /// The link is gone; wait for the next.
    LinkLost,
}

/// What to do after a failed send.
enum Next {
    /// Go on with the queue.
    Continue,
    /// Stop until the next link.
    LinkLost,
}

/// The tokio instant at `ms` since the epoch.
fn instant_at(ms: i64) -> Instant {
    let wait = u64::try_from(ms.saturating_sub(now_ms())).unwrap_or(0);
    Instant::now() + Duration::from_millis(wait)
}

/// Runs until shutdown.
pub async fn run(shared: Arc<Shared>) {
    let mut links = shared.link.subscribe();
    loop {
        let current = links.borrow_and_update().clone();
        let stop = match current {
            Some(link) => match drain(&shared, &link).await {
                Ok(stop) => stop,
                Err(error) => {
                    tracing::error!(%error, "outbox failed; pausing");
                    tokio::select! {
                        _ = shared.shutdown.cancelled() => return,
                        _ = tokio::time::sleep(PAUSE_AFTER_ERROR) => {}
                    }
                    continue;
                }
            },
            None => Stop::LinkLost,
        };
        let wait_for_work = !matches!(stop, Stop::LinkLost);
        let until = match stop {
            Stop::Until(ms) => Some(instant_at(ms)),
            _ => None,
        };
        tokio::select! {
            _ = shared.shutdown.cancelled() => return,
            changed = links.changed() => if changed.is_err() { return },
            _ = shared.outbox_wake.notified(), if wait_for_work => {}
            _ = tokio::time::sleep_until(until.unwrap_or_else(Instant::now)), if until.is_some() => {}
        }
    }
}

async fn drain(shared: &Shared, link: &Link) -> Result<Stop> {
    loop {
        if shared.shutdown.is_cancelled() || link.is_closed() {
            return Ok(Stop::LinkLost);
        }
        let heads = shared.store.call(|conn| outbox::heads(conn)).await?;
        let local_id = match pick(&heads, now_ms()) {
            Pick::Idle => return Ok(Stop::Empty),
            Pick::WaitUntil(ms) => return Ok(Stop::Until(ms)),
            Pick::Send(local_id) => local_id,
        };
        let Some(pending) = shared
            .store
            .call(move |conn| outbox::pending(conn, local_id))
            .await?
        else {
            continue;
        };
        let body = request::Body::Send(wire::SendMessage {
            client_id: pending.client_id.clone(),
            conversation_id: pending.conversation_id,
            content: pending.content.clone(),
        });
        match link.request(body).await {
            Ok(response::Result::SendOk(ok)) => match ok.message {
                Some(message) => confirm(shared, message).await?,
                None => return Err(Error::Protocol("SendOk without a message".into())),
            },
            Ok(other) => return Err(unexpected(&other)),
            Err(error) => {
                if let Next::LinkLost = handle_failure(shared, link, &pending, error).await? {
                    return Ok(Stop::LinkLost);
                }
            }
        }
    }
}

/// Records the stored message; the echo becomes "sent".
async fn confirm(shared: &Shared, message: wire::Message) -> Result<()> {
    let me = shared.me_id();
    let ingested = shared
        .store
        .call(move |conn| {
            let mut out = Ingested::default();
            sync::store_message(conn, &message, None, me, &mut out)?;
            Ok(out)
        })
        .await?;
    sync::announce(shared, ingested).await
}

/// Carries out the rules' decision about a failed send.
async fn handle_failure(
    shared: &Shared,
    link: &Link,
    pending: &Pending,
    error: Error,
) -> Result<Next> {
    let (local_id, conversation_id) = (pending.local_id, pending.conversation_id);
    let text = error.to_string();
    let policy = &shared.config.outbox_retry;
    match after_failure(policy, pending.attempts + 1, Failure::of(&error)) {
        Decision::Fail(reason) => {
            tracing::warn!(local_id, %error, "message failed");
            shared
                .store
                .call(move |conn| {
                    let tx = conn.transaction()?;
                    messages::mark_failed(&tx, local_id, reason)?;
                    outbox::remove(&tx, local_id)?;
                    tx.commit()?;
                    Ok(())
                })
                .await?;
            shared.emit(Event::MessageStatusChanged {
                conversation_id,
                local_id,
                server_id: None,
                status: MessageStatus::Failed,
                failure: Some(reason),
            });
            shared.emit_conversations(vec![conversation_id]).await?;
            Ok(Next::Continue)
        }
        Decision::RetryIn(wait) => {
            tracing::info!(local_id, %error, ?wait, "send failed; retrying later");
            let not_before = now_ms() + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX);
            shared
                .store
                .call(move |conn| outbox::record_attempt(conn, local_id, &text, not_before))
                .await?;
            Ok(Next::Continue)
        }
        Decision::PauseAll(wait) => {
            tokio::select! {
                _ = link.closed() => Ok(Next::LinkLost),
                _ = tokio::time::sleep(wait) => Ok(Next::Continue),
            }
        }
        Decision::WaitForLink => Ok(Next::LinkLost),
    }
}
