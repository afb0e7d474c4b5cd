//! The upload queue: files of own messages on their way to the server.
//!
//! `Client::send_file` writes the message (state "sending", its file without a server id)
//! and an `uploads` row in one transaction; nothing is in the outbox yet. This task runs up
//! to [`PARALLEL`] uploads at once. Each resumes from where the server stopped (the row keeps
//! the upload's location and hash, saved as they become known), reports progress at most ten
//! times a second, and when the file is stored (and a video's poster after it) puts its id
//! into the message and the message into the outbox — in one transaction. A failure is decided by
//! [`crate::rules::transfer::after_failure`]: a lost connection retries with backoff, a refusal
//! or a cancel marks the message failed (`Client::retry` re-arms the upload).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use flint_proto::ipc::{Event, MessageStatus};
use flint_proto::ErrorCode;
use tokio::sync::{watch, Notify};
use tokio_util::sync::CancellationToken;

use crate::attachment::{self, Shown};
use crate::error::{Error, Result};
use crate::library;
use crate::rules::progress::report_due;
use crate::rules::transfer::{after_failure, Decision};
use crate::shared::Shared;
use crate::store::uploads::{self, PendingUpload};
use crate::store::{messages, now_ms, outbox};
use crate::transfer::{self, Resume};

/// Uploads running at once.
pub const PARALLEL: usize = 3;
/// Longest sleep between looks at the queue.
const IDLE: Duration = Duration::from_secs(60);

/// The running uploads, by message, and a bell for the queue.
#[derive(Default)]
pub struct Uploads {
    running: Mutex<HashMap<i64, CancellationToken>>,
    /// Rung when an upload is queued, re-armed or finishes.
    pub wake: Notify,
}

impl Uploads {
    /// Cancels a running upload; false when it is not running.
    pub fn cancel(&self, local_id: i64) -> bool {
        let running = self.running.lock().ok();
        match running.as_ref().and_then(|r| r.get(&local_id)) {
            Some(token) => {
                token.cancel();
                true
            }
            None => false,
        }
    }

    fn start(&self, local_id: i64, shutdown: &CancellationToken) -> Option<CancellationToken> {
        let mut running = self.running.lock().ok()?;
        if running.len() >= PARALLEL || running.contains_key(&local_id) {
            return None;
        }
        let token = shutdown.child_token();
        running.insert(local_id, token.clone());
        Some(token)
    }

    fn finish(&self, local_id: i64) {
        if let Ok(mut running) = self.running.lock() {
            running.remove(&local_id);
        }
        self.wake.notify_one();
    }
}

/// Runs the queue until the client shuts down.
pub async fn run(shared: Arc<Shared>) {
    loop {
        let wait = match start_due(&shared).await {
            Ok(wait) => wait,
            Err(error) => {
                tracing::warn!(%error, "upload queue failed; trying again");
                Duration::from_secs(1)
            }
        };
        tokio::select! {
            () = shared.shutdown.cancelled() => return,
            () = shared.uploads.wake.notified() => {}
            () = tokio::time::sleep(wait) => {}
        }
    }
}

/// Starts the uploads whose time has come; returns how long to sleep before looking again.
async fn start_due(shared: &Arc<Shared>) -> Result<Duration> {
    let now = now_ms();
    let (due, next) = shared
        .store
        .call(move |conn| Ok((uploads::due(conn, now)?, uploads::next_due(conn)?)))
        .await?;
    for pending in due {
        if let Some(cancel) = shared.uploads.start(pending.local_id, &shared.shutdown) {
            tokio::spawn(attempt(Arc::clone(shared), pending, cancel));
        }
    }
    let wait = next
        .filter(|&at| at > now)
        .map_or(IDLE, |at| Duration::from_millis((at - now) as u64));
    Ok(wait.min(IDLE))
}

/// One attempt at one upload, and what follows from its outcome (nothing, when the client
/// shuts down meanwhile).
async fn attempt(shared: Arc<Shared>, pending: PendingUpload, cancel: CancellationToken) {
    let local_id = pending.local_id;
    let outcome = match send(&shared, &pending, &cancel).await {
        Ok((file_id, resume)) => match poster(&shared, &pending, &cancel).await {
            Ok(poster_id) => Ok((file_id, poster_id, resume)),
            // The file is stored: the next attempt only asks the server so, then the poster.
            Err(error) => Err((error, resume)),
        },
        Err(failed) => Err(failed),
    };
    if shared.shutdown.is_cancelled() {
        // The app is quitting: the upload resumes from its saved place on the next start.
        return;
    }
    let settled = match outcome {
        Ok((file_id, poster_id, resume)) => {
            complete(&shared, &pending, &file_id, poster_id.as_deref(), resume).await
        }
        Err((error, resume)) => fail(&shared, &pending, &error, resume).await,
    };
    if let Err(error) = settled {
        tracing::warn!(%error, local_id, "could not record an upload's outcome");
    }
    shared.uploads.finish(local_id);
}

/// Uploads the file, saving where it stands as it goes.
async fn send(
    shared: &Arc<Shared>,
    pending: &PendingUpload,
    cancel: &CancellationToken,
) -> std::result::Result<(String, Resume), (Error, Resume)> {
    let mut resume = pending.resume.clone();
    let service = match shared.file_service() {
        Ok(service) => service,
        Err(error) => return Err((error, resume)),
    };
    let name = file_name(&pending.path);
    let (saved, mut to_save) = watch::channel(resume.clone());
    let (local_id, conversation_id) = (pending.local_id, pending.conversation_id);
    let mut last_report = None;
    let events = Arc::clone(shared);
    let mut progress = move |now: &Resume, sent: u64, total: u64| {
        saved.send_if_modified(|kept| {
            let changed = kept.location != now.location || kept.sha256 != now.sha256;
            *kept = now.clone();
            changed
        });
        let at = now_ms();
        if report_due(last_report, at, sent, total) {
            last_report = Some(at);
            events.emit(Event::UploadProgress {
                conversation_id,
                local_id,
                sent,
                total,
            });
        }
    };
    let upload = transfer::upload(
        &service,
        &pending.path,
        &name,
        &mut resume,
        &mut progress,
        cancel,
    );
    let store = shared.store.clone();
    let persist = async move {
        while to_save.changed().await.is_ok() {
            let now = to_save.borrow_and_update().clone();
            if let Err(error) = store.call(move |c| uploads::save(c, local_id, &now)).await {
                tracing::warn!(%error, "could not save an upload's progress");
            }
        }
    };
    let outcome = tokio::select! {
        outcome = upload => outcome,
        () = persist => Err(Error::Closed),
    };
    match outcome {
        Ok(uploaded) => Ok((uploaded.file_id, resume)),
        Err(error) => Err((error, resume)),
    }
}

/// Uploads the poster made here for a video message, if it has one, and returns its id. A
/// poster the server refuses, or one that cannot be read, is left out rather than failing
/// the message; a lost connection fails the attempt like the file's own upload.
async fn poster(
    shared: &Arc<Shared>,
    pending: &PendingUpload,
    cancel: &CancellationToken,
) -> Result<Option<String>> {
    let local_id = pending.local_id;
    let content = shared
        .store
        .call(move |conn| messages::content(conn, local_id))
        .await?;
    let wanted = content
        .as_deref()
        .and_then(attachment::of)
        .is_some_and(|found| found.shown == Shown::Video && found.poster_id.is_empty());
    let path = library::own_thumbnail(shared, local_id);
    if !wanted || !tokio::fs::try_exists(&path).await.unwrap_or(false) {
        return Ok(None);
    }
    let service = shared.file_service()?;
    let mut resume = Resume::default();
    let uploaded = transfer::upload(
        &service,
        &path,
        POSTER_NAME,
        &mut resume,
        &mut |_: &Resume, _, _| {},
        cancel,
    )
    .await;
    match uploaded {
        Ok(uploaded) => Ok(Some(uploaded.file_id)),
        Err(error @ Error::Cancelled) => Err(error),
        Err(error) if error.is_permanent() || matches!(error, Error::Io(_)) => {
            tracing::warn!(%error, local_id, "the video goes without its poster");
            Ok(None)
        }
        Err(error) => Err(error),
    }
}

/// The name a video's poster is uploaded under.
const POSTER_NAME: &str = "poster.jpg";

/// The file's name as sent.
fn file_name(path: &std::path::Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "file".into())
}

/// The file is stored: its id (and its poster's) goes into the message and the message into
/// the outbox.
async fn complete(
    shared: &Arc<Shared>,
    pending: &PendingUpload,
    file_id: &str,
    poster_id: Option<&str>,
    resume: Resume,
) -> Result<()> {
    let local_id = pending.local_id;
    let file_id = file_id.to_owned();
    let poster_id = poster_id.map(str::to_owned);
    shared
        .store
        .call(move |conn| {
            let tx = conn.transaction()?;
            let content = messages::content(&tx, local_id)?.ok_or(Error::NotFound("message"))?;
            let mut content = attachment::with_file_id(&content, &file_id)?;
            if let Some(poster_id) = &poster_id {
                content = attachment::with_poster_id(&content, poster_id)?;
            }
            uploads::save(&tx, local_id, &resume)?;
            messages::set_unsent_content(&tx, local_id, &content)?;
            uploads::remove(&tx, local_id)?;
            outbox::enqueue(&tx, local_id)?;
            tx.commit()?;
            Ok(())
        })
        .await?;
    shared.outbox_wake.notify_one();
    Ok(())
}

/// The attempt failed: try again later, or mark the message failed.
async fn fail(
    shared: &Arc<Shared>,
    pending: &PendingUpload,
    error: &Error,
    resume: Resume,
) -> Result<()> {
    let local_id = pending.local_id;
    let policy = shared.config.outbox_retry;
    let decision = after_failure(&policy, pending.attempts + 1, error);
    tracing::info!(%error, local_id, ?decision, "upload attempt failed");
    if let Decision::Fail { forget: true, .. } = decision {
        if let Some(location) = &resume.location {
            terminate(shared, location).await;
        }
    }
    shared
        .store
        .call(move |conn| {
            let tx = conn.transaction()?;
            uploads::save(&tx, local_id, &resume)?;
            match decision {
                Decision::RetryIn(wait) => {
                    let at = now_ms().saturating_add(wait.as_millis() as i64);
                    uploads::postpone(&tx, local_id, at)?;
                }
                Decision::Fail { reason, forget } => {
                    uploads::deactivate(&tx, local_id, forget)?;
                    messages::mark_failed(&tx, local_id, reason)?;
                }
            }
            tx.commit()?;
            Ok(())
        })
        .await?;
    if let Decision::Fail { reason, .. } = decision {
        shared.emit(failed(pending, reason));
    }
    Ok(())
}

/// The event of a message whose upload failed.
fn failed(pending: &PendingUpload, reason: ErrorCode) -> Event {
    Event::MessageStatusChanged {
        conversation_id: pending.conversation_id,
        local_id: pending.local_id,
        server_id: None,
        status: MessageStatus::Failed,
        failure: Some(reason),
    }
}

/// Deletes an abandoned upload on the server (best effort: it expires anyway).
async fn terminate(shared: &Arc<Shared>, location: &url::Url) {
    if let Ok(service) = shared.file_service() {
        transfer::upload::terminate_when_released(&service, location).await;
    }
}
