//! One file to the server: hashed once (a large one while its bytes are on their way),
//! created (or proven, when the server holds the content already), then streamed from the
//! offset the server reports in one request — the
//! server keeps every byte that arrived, so a call that failed halfway (a lost connection, a
//! server restart) resumes where the server stopped when called again with the same
//! [`Resume`].

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use flint_proto::ErrorCode;
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;
use url::Url;

use super::disk;
use super::service::{self, FileService};
use crate::error::{Error, Result};

/// How often a dropped upload is asked to terminate.
const TERMINATE_TRIES: u32 = 20;
/// How long between two such asks.
const TERMINATE_AGAIN_AFTER: std::time::Duration = std::time::Duration::from_millis(50);

/// How often a running upload reports where it is.
const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_millis(100);

/// What an upload remembers between attempts; the caller keeps it (and may persist it).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resume {
    /// SHA-256 of the whole file, once computed.
    pub sha256: Option<[u8; 32]>,
    /// The upload on the server, once created.
    pub location: Option<Url>,
    /// Bytes sent over all attempts (what resuming saved shows against the file's length).
    pub bytes_sent: u64,
}

/// What an upload did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uploaded {
    /// The stored file's id, what a message refers to.
    pub file_id: String,
    /// Whether the server held the content already (nothing was sent).
    pub instant: bool,
}

/// Told where an upload stands — after the hash, after the creation and after each chunk —
/// with the [`Resume`] to keep and `(offset, length)`.
pub type Progress<'a> = &'a mut (dyn FnMut(&Resume, u64, u64) + Send);

/// Files at least this large start sending before their hash is known: the hash is made
/// beside the bytes on their way (about 0.65 s per GiB, no longer a wait before the first
/// byte), and instant re-upload is asked for once it is known.
pub const SEND_WHILE_HASHING: u64 = 8 << 20;

/// One file being uploaded.
#[derive(Clone, Copy)]
struct Job<'a> {
    service: &'a FileService,
    path: &'a Path,
    name: &'a str,
    length: u64,
    cancel: &'a CancellationToken,
}

/// Uploads `path` as `name`, reporting to `progress`. Cancelling stops between or during
/// chunks (the upload stays on the server, to resume or terminate).
pub async fn upload(
    service: &FileService,
    path: &Path,
    name: &str,
    resume: &mut Resume,
    progress: Progress<'_>,
    cancel: &CancellationToken,
) -> Result<Uploaded> {
    let length = tokio::fs::metadata(path).await?.len();
    let job = Job {
        service,
        path,
        name,
        length,
        cancel,
    };
    loop {
        let mut hashing = None;
        let location = match &resume.location {
            Some(location) => {
                // Resumed before its hash was known: it is made now, to check the result.
                if resume.sha256.is_none() && length >= SEND_WHILE_HASHING {
                    hashing = Some(Hashing::start(path));
                }
                location.clone()
            }
            None if resume.sha256.is_none() && length >= SEND_WHILE_HASHING => {
                let created = service.create(length, name, None).await?;
                resume.location = Some(created.location.clone());
                progress(resume, 0, length);
                hashing = Some(Hashing::start(path));
                created.location
            }
            None => match create_hashed(job, resume, progress).await? {
                Created::Instant(file_id) => {
                    return Ok(Uploaded {
                        file_id,
                        instant: true,
                    })
                }
                Created::Send(location) => location,
            },
        };
        match send_from_offset(job, &location, resume, progress, hashing).await {
            // The upload expired or was collected: start a new one.
            Err(error) if error.code() == ErrorCode::NotFound => resume.location = None,
            outcome => return outcome,
        }
    }
}

/// What creating an upload with its hash led to.
enum Created {
    /// The server held the content and the proof was accepted: the file's id.
    Instant(String),
    /// The bytes must be sent to this upload.
    Send(Url),
}

/// Hashes the file (unless the resume knows its hash) and creates the upload declaring it,
/// proving possession when the server offers it.
async fn create_hashed(
    job: Job<'_>,
    resume: &mut Resume,
    progress: Progress<'_>,
) -> Result<Created> {
    let sha256 = match resume.sha256 {
        Some(sha256) => sha256,
        None => {
            let sha256 = Hashing::start(job.path).finish().await?;
            resume.sha256 = Some(sha256);
            progress(resume, 0, job.length);
            sha256
        }
    };
    let created = job
        .service
        .create(job.length, job.name, Some(&sha256))
        .await?;
    resume.location = Some(created.location.clone());
    progress(resume, 0, job.length);
    if let Some(file_id) = try_proof(job.service, job.path, &created).await? {
        progress(resume, job.length, job.length);
        return Ok(Created::Instant(file_id));
    }
    Ok(Created::Send(created.location))
}

/// Asks, with the hash made while sending, whether the server holds the content: a second
/// upload declaring the hash, proven when offered; without an offer it is terminated (it
/// holds no byte). Any failure here only means the bytes keep going.
async fn instant_after_all(job: Job<'_>, sha256: &[u8; 32]) -> Option<String> {
    let created = job
        .service
        .create(job.length, job.name, Some(sha256))
        .await
        .ok()?;
    let proven = try_proof(job.service, job.path, &created)
        .await
        .ok()
        .flatten();
    if proven.is_none() {
        let _ = job.service.terminate(&created.location).await;
    }
    proven
}

/// Proves possession when the server offered it; `None` when the bytes must be sent.
async fn try_proof(
    service: &FileService,
    path: &Path,
    created: &service::Created,
) -> Result<Option<String>> {
    let Some((start, end)) = created.proof else {
        return Ok(None);
    };
    // The upload's id (fresh, chosen by the server) comes first: knowing the content's hash
    // is not enough to answer, even when the range is the whole file.
    let salt = created
        .location
        .path_segments()
        .and_then(|mut segments| segments.next_back())
        .unwrap_or_default()
        .as_bytes()
        .to_vec();
    let digest = blocking(path, move |file| {
        file.seek(SeekFrom::Start(start))?;
        hash_salted(&salt, file, end.saturating_sub(start) + 1)
    })
    .await?;
    match service.prove(&created.location, &hex::encode(digest)).await {
        Ok(file_id) => Ok(Some(file_id)),
        Err(error) if error.code() == ErrorCode::Forbidden => Ok(None),
        Err(error) => Err(error),
    }
}

/// Terminates an upload whose request was just dropped (cancelled, or no longer needed): the
/// server holds it until it sees the connection end (`Conflict` meanwhile), so it is asked
/// again a few times. An upload left behind expires all the same; this keeps it from
/// counting against the quota till then.
pub async fn terminate_when_released(service: &FileService, location: &Url) {
    for _ in 0..TERMINATE_TRIES {
        match service.terminate(location).await {
            Err(error) if error.code() == ErrorCode::Conflict => {
                tokio::time::sleep(TERMINATE_AGAIN_AFTER).await;
            }
            Err(error) => {
                tracing::debug!(%error, "could not delete an abandoned upload");
                return;
            }
            Ok(()) => return,
        }
    }
    tracing::debug!("an abandoned upload is still held by the server; it will expire");
}

/// The SHA-256 of a whole file made on a blocking thread (beside its upload, or before it),
/// stopped when dropped.
struct Hashing {
    stop: Arc<AtomicBool>,
    done: tokio::sync::oneshot::Receiver<std::io::Result<[u8; 32]>>,
}

impl Hashing {
    fn start(path: &Path) -> Self {
        let (path, stop) = (path.to_owned(), Arc::new(AtomicBool::new(false)));
        let (sender, done) = tokio::sync::oneshot::channel();
        let stopped = Arc::clone(&stop);
        tokio::task::spawn_blocking(move || {
            let hashed = std::fs::File::open(path).and_then(|file| hash_unless(file, &stopped));
            let _ = sender.send(hashed);
        });
        Self { stop, done }
    }

    /// The file's hash, once made.
    async fn finish(&mut self) -> Result<[u8; 32]> {
        let stopped = || std::io::Error::other("the hashing thread stopped");
        (&mut self.done)
            .await
            .map_err(|_| Error::Io(stopped()))?
            .map_err(Error::Io)
    }
}

impl Drop for Hashing {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Sends the rest of the file from the server's offset in one streamed request, reporting
/// progress as it goes, until the server names the stored file. With `hashing`, the hash
/// comes in on the way; the content the server holds already ends the sending early.
async fn send_from_offset(
    job: Job<'_>,
    location: &Url,
    resume: &mut Resume,
    progress: Progress<'_>,
    mut hashing: Option<Hashing>,
) -> Result<Uploaded> {
    let (service, length) = (job.service, job.length);
    let at = service.progress(location).await?;
    if at.file_id.is_some() {
        learn_hash(hashing, resume).await;
        return stored(at, resume);
    }
    let offset = at.offset;
    let rest = length.saturating_sub(offset);
    let sent = Arc::new(AtomicU64::new(0));
    let body = disk::read_ahead(job.path, offset, rest, Arc::clone(&sent)).await?;
    let mut request =
        Box::pin(service.append(location, offset, rest, reqwest::Body::wrap_stream(body)));
    let mut ticks = tokio::time::interval(PROGRESS_EVERY);
    let answer = loop {
        tokio::select! {
            answer = &mut request => break answer,
            hashed = async { hashing.as_mut()?.finish().await.ok() }, if hashing.is_some() => {
                hashing = None;
                let Some(sha256) = hashed else { continue };
                resume.sha256 = Some(sha256);
                if let Some(file_id) = instant_after_all(job, &sha256).await {
                    drop(request);
                    resume.bytes_sent += sent.load(Ordering::Relaxed);
                    terminate_when_released(service, location).await;
                    resume.location = None;
                    progress(resume, length, length);
                    return Ok(Uploaded { file_id, instant: true });
                }
            }
            _ = ticks.tick() => progress(resume, offset + sent.load(Ordering::Relaxed), length),
            () = job.cancel.cancelled() => {
                resume.bytes_sent += sent.load(Ordering::Relaxed);
                return Err(Error::Cancelled);
            }
        }
    };
    resume.bytes_sent += sent.load(Ordering::Relaxed);
    let at = answer?;
    progress(resume, at.offset, length);
    let at = match at.file_id {
        Some(_) => at,
        None => service.progress(location).await?,
    };
    learn_hash(hashing, resume).await;
    stored(at, resume)
}

/// Waits for the hash still being made, so the stored file can be checked against it.
async fn learn_hash(hashing: Option<Hashing>, resume: &mut Resume) {
    if let Some(mut hashing) = hashing {
        if let Ok(sha256) = hashing.finish().await {
            resume.sha256 = Some(sha256);
        }
    }
}

/// The file a complete upload became, when its content is the file's as hashed here. A file
/// whose hash was only learnt while sending declared none, so the server could not check
/// it: a file changed between two attempts is caught here (the message shows failed), and
/// the next attempt starts over. A server too old to name the content's hash is trusted.
fn stored(at: service::Progress, resume: &mut Resume) -> Result<Uploaded> {
    let file_id = at
        .file_id
        .ok_or_else(|| Error::Protocol("the upload is complete but names no file".into()))?;
    let known = resume.sha256.map(hex::encode);
    if known.is_some() && at.sha256_hex.is_some() && known != at.sha256_hex {
        resume.location = None;
        resume.sha256 = None;
        return Err(Error::Server {
            code: ErrorCode::ChecksumMismatch,
            message: "the file changed while it was sent; send it again".into(),
            retry_after_ms: 0,
        });
    }
    Ok(Uploaded {
        file_id,
        instant: false,
    })
}

/// Runs blocking work on the open file.
async fn blocking<T: Send + 'static>(
    path: &Path,
    work: impl FnOnce(&mut std::fs::File) -> std::io::Result<T> + Send + 'static,
) -> Result<T> {
    let path: PathBuf = path.to_owned();
    tokio::task::spawn_blocking(move || work(&mut std::fs::File::open(path)?))
        .await
        .map_err(|e| Error::Io(std::io::Error::other(e)))?
        .map_err(Error::Io)
}

/// SHA-256 of the whole file, unless `stop` is set first (then an `Interrupted` error).
fn hash_unless(mut file: std::fs::File, stop: &AtomicBool) -> std::io::Result<[u8; 32]> {
    let mut hasher = Sha256::new();
    let mut part = vec![0; 1 << 20];
    loop {
        if stop.load(Ordering::Relaxed) {
            return Err(std::io::ErrorKind::Interrupted.into());
        }
        match file.read(&mut part)? {
            0 => return Ok(hasher.finalize().into()),
            got => hasher.update(&part[..got]),
        }
    }
}

/// SHA-256 of `salt` followed by the next `limit` bytes (or to the end).
fn hash_salted(salt: &[u8], file: &mut std::fs::File, limit: u64) -> std::io::Result<[u8; 32]> {
    let mut hasher = Sha256::new();
    hasher.update(salt);
    std::io::copy(&mut file.take(limit), &mut hasher)?;
    Ok(hasher.finalize().into())
}
