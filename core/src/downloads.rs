//! The downloads under way: one download per file at a time (a thumbnail and the viewer may
//! ask together), a few files at once (a screenful of pictures asks for every original at
//! once; a few at a time keeps memory bounded and brings the first ones sooner), and each one
//! cancellable by the message that asked for it.
//!
//! Every download is also a row of the `downloads` table from its start to its end, and
//! [`run`] carries on those cut off: after a restart, or after a transient failure once its
//! backoff is over (or at once when the connection comes back). A download the user asked for
//! keeps trying while the server is away; any other failure gives up after the usual attempts,
//! and completion, a cancel, a refusal or a local disk error ends it at once
//! ([`crate::rules::transfer::after_failure`] decides).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use flint_proto::ipc::ConnectionState;
use flint_proto::ErrorCode;
use tokio::sync::{Notify, Semaphore, SemaphorePermit};
use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};
use crate::library::{self, Want};
use crate::locks::lock;
use crate::rules::outbox::RetryPolicy;
use crate::rules::transfer::{after_failure, Decision};
use crate::shared::Shared;
use crate::store::{downloads, now_ms};

/// Downloads of originals running at once.
pub const PARALLEL: usize = 3;
/// Longest sleep between looks at the recorded downloads.
const IDLE: Duration = Duration::from_secs(60);

/// The registry of downloads, by message and by file.
pub struct Downloads {
    /// The cancel token of each message's download, with how many requests share it.
    running: Mutex<HashMap<i64, (CancellationToken, usize)>>,
    /// One lock per file being fetched (dropped once nobody holds it).
    files: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Turns to fetch.
    turns: Semaphore,
    /// Rung when a download is postponed.
    wake: Notify,
}

impl Default for Downloads {
    fn default() -> Self {
        Self {
            running: Mutex::default(),
            files: Mutex::default(),
            turns: Semaphore::new(PARALLEL),
            wake: Notify::new(),
        }
    }
}

/// A request for a message's file; the download it is part of stays cancellable while it
/// lives.
pub struct Ticket<'a> {
    downloads: &'a Downloads,
    local_id: i64,
    /// Cancelled when the user cancels this message's download or the client shuts down.
    pub cancel: CancellationToken,
}

impl Downloads {
    /// Starts a request for the file of message `local_id`; requests for the same message
    /// share one token, so a cancel stops them all.
    pub fn begin(&self, local_id: i64, shutdown: &CancellationToken) -> Ticket<'_> {
        let mut running = lock(&self.running);
        let (token, requests) = running
            .entry(local_id)
            .or_insert_with(|| (shutdown.child_token(), 0));
        *requests += 1;
        Ticket {
            downloads: self,
            local_id,
            cancel: token.clone(),
        }
    }

    /// Cancels the download of a message's file; false when none is under way.
    pub fn cancel(&self, local_id: i64) -> bool {
        match lock(&self.running).get(&local_id) {
            Some((token, _)) => {
                token.cancel();
                true
            }
            None => false,
        }
    }

    /// Has the recorded downloads looked at now (one was postponed, or added with a message).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Whether a request for the file of message `local_id` is under way.
    fn is_running(&self, local_id: i64) -> bool {
        lock(&self.running).contains_key(&local_id)
    }

    /// The lock of one file's download.
    pub fn file_lock(&self, file_id: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut files = lock(&self.files);
        files.retain(|_, held| Arc::strong_count(held) > 1);
        Arc::clone(files.entry(file_id.to_owned()).or_default())
    }

    /// Waits for a turn to fetch, or for `cancel`.
    pub async fn turn(&self, cancel: &CancellationToken) -> Result<SemaphorePermit<'_>> {
        tokio::select! {
            turn = self.turns.acquire() => turn.map_err(|_| Error::Closed),
            () = cancel.cancelled() => Err(Error::Cancelled),
        }
    }
}

impl Drop for Ticket<'_> {
    fn drop(&mut self) {
        let mut running = lock(&self.downloads.running);
        if let Some((_, requests)) = running.get_mut(&self.local_id) {
            *requests -= 1;
            if *requests == 0 {
                running.remove(&self.local_id);
            }
        }
    }
}

/// Records that the file of message `local_id` is being fetched, so that it carries on if
/// cut off.
pub async fn track(shared: &Shared, local_id: i64) -> Result<()> {
    shared
        .store
        .call(move |conn| downloads::want(conn, local_id))
        .await
}

/// Records how an attempt at the file of message `local_id` ended: done, over for good, or
/// to be tried again (nothing changes when the client is shutting down: the next start
/// carries on).
pub async fn settle(shared: &Shared, local_id: i64, outcome: &Result<()>) {
    if outcome.is_err() && shared.shutdown.is_cancelled() {
        return;
    }
    if let Err(error) = record(shared, local_id, outcome).await {
        tracing::warn!(%error, local_id, "could not record a download's outcome");
    }
    shared.downloads.wake();
}

async fn record(shared: &Shared, local_id: i64, outcome: &Result<()>) -> Result<()> {
    let store = &shared.store;
    let Err(error) = outcome else {
        return forget(shared, local_id).await.map(drop);
    };
    let attempts = store.call(move |c| downloads::failed(c, local_id)).await?;
    let policy = if link_lost(error) {
        patient(shared.config.outbox_retry)
    } else {
        shared.config.outbox_retry
    };
    match after_failure(&policy, attempts, error) {
        Decision::RetryIn(wait) => {
            let at = now_ms().saturating_add(wait.as_millis() as i64);
            tracing::info!(%error, local_id, ?wait, "download attempt failed; trying again");
            store
                .call(move |c| downloads::postpone(c, local_id, at))
                .await
        }
        Decision::Fail { .. } => forget(shared, local_id).await.map(drop),
    }
}

/// Drops the record of a download (done, refused or cancelled); whether there was one.
pub async fn forget(shared: &Shared, local_id: i64) -> Result<bool> {
    shared
        .store
        .call(move |c| downloads::remove(c, local_id))
        .await
}

/// Whether an attempt failed because the server could not be reached: only then does a
/// download wait as long as it takes (anything else gives up after the usual attempts).
fn link_lost(error: &Error) -> bool {
    matches!(
        error,
        Error::Offline | Error::Timeout | Error::Connection(_) | Error::Closed
    ) || matches!(error.code(), ErrorCode::Unavailable)
}

/// The backoff of `policy` without its limit on attempts: a download waits for the server as
/// long as it takes.
fn patient(policy: RetryPolicy) -> RetryPolicy {
    RetryPolicy {
        max_attempts: u32::MAX,
        ..policy
    }
}

/// Carries on the recorded downloads until the client shuts down.
pub async fn run(shared: Arc<Shared>) {
    let mut state = shared.state.subscribe();
    loop {
        let wait = match start_due(&shared).await {
            Ok(wait) => wait,
            Err(error) => {
                tracing::warn!(%error, "download queue failed; trying again");
                Duration::from_secs(1)
            }
        };
        tokio::select! {
            () = shared.shutdown.cancelled() => return,
            () = shared.downloads.wake.notified() => {}
            () = tokio::time::sleep(wait) => {}
            changed = state.changed() => {
                if changed.is_err() {
                    return;
                }
                let online = *state.borrow_and_update() == ConnectionState::Online;
                if online {
                    if let Err(error) = shared.store.call(|c| downloads::rearm(c)).await {
                        tracing::warn!(%error, "could not re-arm the downloads");
                    }
                }
            }
        }
    }
}

/// Starts the recorded downloads whose time has come and that nothing runs yet; returns how
/// long to sleep before looking again.
async fn start_due(shared: &Arc<Shared>) -> Result<Duration> {
    let now = now_ms();
    let (due, next) = shared
        .store
        .call(move |conn| Ok((downloads::due(conn, now)?, downloads::next_due(conn, now)?)))
        .await?;
    for local_id in due {
        if shared.downloads.is_running(local_id) {
            continue;
        }
        let shared = Arc::clone(shared);
        tokio::spawn(async move {
            // Registered as under way before the row is read again: a cancel from here on
            // reaches this attempt, and one that came between the read above and now has
            // removed the row (which `media` would otherwise record again and fetch).
            let _ticket = shared.downloads.begin(local_id, &shared.shutdown);
            let recorded = shared
                .store
                .call(move |conn| downloads::is_recorded(conn, local_id))
                .await;
            if !matches!(recorded, Ok(true)) {
                return;
            }
            match library::media(&shared, local_id, Want::Original).await {
                // Done before (the file was there already): nothing is left to carry on.
                Ok(_) => settle(&shared, local_id, &Ok(())).await,
                Err(error) => tracing::debug!(%error, local_id, "a download carried on failed"),
            }
        });
    }
    let wait = next.map_or(IDLE, |at| Duration::from_millis((at - now) as u64));
    Ok(wait.min(IDLE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_an_unreachable_server_makes_a_download_wait_as_long_as_it_takes() {
        let server = |code| Error::Server {
            code,
            message: String::new(),
            retry_after_ms: 0,
        };
        for lost in [
            Error::Offline,
            Error::Timeout,
            Error::Connection("reset".into()),
            server(ErrorCode::Unavailable),
        ] {
            assert!(link_lost(&lost), "{lost:?}");
        }
        for other in [
            Error::Protocol("longer than its message says".into()),
            server(ErrorCode::Internal),
            server(ErrorCode::Unauthenticated),
        ] {
            assert!(!link_lost(&other), "{other:?}");
        }
    }

    #[test]
    fn a_cancel_reaches_every_request_of_the_message_and_ends_with_them() {
        let downloads = Downloads::default();
        let shutdown = CancellationToken::new();
        let first = downloads.begin(7, &shutdown);
        let second = downloads.begin(7, &shutdown);
        let other = downloads.begin(8, &shutdown);
        assert!(downloads.cancel(7));
        assert!(first.cancel.is_cancelled() && second.cancel.is_cancelled());
        assert!(!other.cancel.is_cancelled());
        drop(first);
        assert!(downloads.cancel(7), "the second request still runs");
        drop(second);
        assert!(!downloads.cancel(7), "nothing left to cancel");
        let again = downloads.begin(7, &shutdown);
        assert!(!again.cancel.is_cancelled(), "a new request starts afresh");
    }

    #[test]
    fn shutting_down_cancels_every_download() {
        let downloads = Downloads::default();
        let shutdown = CancellationToken::new();
        let ticket = downloads.begin(1, &shutdown);
        shutdown.cancel();
        assert!(ticket.cancel.is_cancelled());
    }

    #[tokio::test]
    async fn a_request_waiting_for_its_turn_can_be_cancelled() {
        let downloads = Downloads::default();
        let idle = CancellationToken::new();
        let mut held = Vec::new();
        for _ in 0..PARALLEL {
            held.push(downloads.turn(&idle).await.ok());
        }
        let cancel = CancellationToken::new();
        cancel.cancel();
        assert!(matches!(
            downloads.turn(&cancel).await,
            Err(Error::Cancelled)
        ));
        held.clear();
        assert!(downloads.turn(&idle).await.is_ok());
    }
}
