//! The downloads under way: one download per file at a time (a thumbnail and the viewer may
//! ask together), a few files at once (a screenful of pictures asks for every original at
//! once; a few at a time keeps memory bounded and brings the first ones sooner), and each one
//! cancellable by the message that asked for it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::{Semaphore, SemaphorePermit};
use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};

/// Downloads of originals running at once.
pub const PARALLEL: usize = 3;

/// The registry of downloads, by message and by file.
pub struct Downloads {
    /// The cancel token of each message's download, with how many requests share it.
    running: Mutex<HashMap<i64, (CancellationToken, usize)>>,
    /// One lock per file being fetched (dropped once nobody holds it).
    files: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Turns to fetch.
    turns: Semaphore,
}

impl Default for Downloads {
    fn default() -> Self {
        Self {
            running: Mutex::default(),
            files: Mutex::default(),
            turns: Semaphore::new(PARALLEL),
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

/// A lock whose holder panicked still guards plain maps.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;

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
