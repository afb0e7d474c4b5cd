//! The send queue.
//!
//! Design (after matrix-sdk's send queue): a message is written to `messages` (as a local
//! echo with state "sending") and to `outbox` in one transaction *before* anything touches
//! the network, and `MessageAdded` is emitted at once. This task sends the oldest queued
//! message whenever a link is up, one at a time so the server stores them in send order.
//!
//! - The server deduplicates on (sender, client id), so resending after a lost answer, a
//!   reconnect, a crash or a restart never makes a second message.
//! - An answer (or the message's own inbox entry, whichever comes first) confirms the echo:
//!   the row gets its server id, leaves the outbox, and `MessageStatusChanged(Sent)` fires.
//! - Refusals that cannot change (forbidden, too large, invalid) mark the message failed and
//!   take it off the queue; `Client::retry` puts it back. Rate limits wait as the server
//!   says; other failures wait for the next link or a short pause.

use std::sync::Arc;
use std::time::Duration;

use flint_proto::ipc::{Event, MessageStatus};
use flint_proto::wire::{self, request, response};
use flint_proto::ErrorCode;

use crate::error::{Error, Result};
use crate::link::{unexpected, Link};
use crate::shared::Shared;
use crate::store::{messages, outbox};
use crate::sync::{self, Ingested};

/// Pause after a failure that is neither permanent nor a lost link.
const RETRY_PAUSE: Duration = Duration::from_secs(1);

/// Why draining stopped.
enum Stop {
    /// Nothing left to send.
    Empty,
    /// The link is gone; wait for the next.
    LinkLost,
}

/// Runs until shutdown.
pub async fn run(shared: Arc<Shared>) {
    let mut links = shared.link.subscribe();
    loop {
        let current = links.borrow_and_update().clone();
        let wait_for_work = match current {
            Some(link) => match drain(&shared, &link).await {
                Ok(Stop::Empty) => true,
                Ok(Stop::LinkLost) => false,
                Err(error) => {
                    tracing::error!(%error, "outbox failed; pausing");
                    tokio::select! {
                        _ = shared.shutdown.cancelled() => return,
                        _ = tokio::time::sleep(RETRY_PAUSE) => {}
                    }
                    continue;
                }
            },
            None => false,
        };
        tokio::select! {
            _ = shared.shutdown.cancelled() => return,
            changed = links.changed() => if changed.is_err() { return },
            _ = shared.outbox_wake.notified(), if wait_for_work => {}
        }
    }
}

async fn drain(shared: &Shared, link: &Link) -> Result<Stop> {
    loop {
        if shared.shutdown.is_cancelled() {
            return Ok(Stop::LinkLost);
        }
        let Some(pending) = shared.store.call(|conn| outbox::next(conn)).await? else {
            return Ok(Stop::Empty);
        };
        let local_id = pending.local_id;
        let body = request::Body::Send(wire::SendMessage {
            client_id: pending.client_id,
            conversation_id: pending.conversation_id,
            content: pending.content,
        });
        match link.request(body).await {
            Ok(response::Result::SendOk(ok)) => match ok.message {
                Some(message) => confirm(shared, message).await?,
                None => return Err(Error::Protocol("SendOk without a message".into())),
            },
            Ok(other) => return Err(unexpected(&other)),
            Err(error) => {
                if let Some(stop) = handle_failure(shared, link, local_id, error).await? {
                    return Ok(stop);
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
            sync::store_message(conn, &message, me, &mut out)?;
            Ok(out)
        })
        .await?;
    sync::announce(shared, ingested).await
}

/// Decides what a failed send means; `Some` stops draining.
async fn handle_failure(
    shared: &Shared,
    link: &Link,
    local_id: i64,
    error: Error,
) -> Result<Option<Stop>> {
    let text = error.to_string();
    if error.is_permanent() {
        tracing::warn!(local_id, %error, "message refused");
        let conversation_id = shared
            .store
            .call(move |conn| {
                messages::mark_failed(conn, local_id)?;
                outbox::record_attempt(conn, local_id, &text)?;
                outbox::remove(conn, local_id)?;
                Ok(messages::view(conn, local_id, 0)?.map(|m| m.conversation_id))
            })
            .await?;
        shared.emit(Event::MessageStatusChanged {
            conversation_id: conversation_id.unwrap_or_default(),
            local_id,
            server_id: None,
            status: MessageStatus::Failed,
        });
        return Ok(None);
    }
    shared
        .store
        .call(move |conn| outbox::record_attempt(conn, local_id, &text))
        .await?;
    let pause = match &error {
        Error::Server {
            code: ErrorCode::RateLimited,
            retry_after_ms,
            ..
        } => Duration::from_millis(u64::from(*retry_after_ms).max(10)),
        Error::Offline | Error::Connection(_) => return Ok(Some(Stop::LinkLost)),
        _ => RETRY_PAUSE,
    };
    tokio::select! {
        _ = link.closed() => Ok(Some(Stop::LinkLost)),
        _ = tokio::time::sleep(pause) => Ok(None),
    }
}
