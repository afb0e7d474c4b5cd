//! One file to the server: hashed once, created (or proven, when the server holds the
//! content already), then streamed from the offset the server reports in one request — the
//! server keeps every byte that arrived, so a call that failed halfway (a lost connection, a
//! server restart) resumes where the server stopped when called again with the same
//! [`Resume`].

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use flint_proto::ErrorCode;
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;
use url::Url;

use super::disk;
use super::service::{Created, FileService};
use crate::error::{Error, Result};

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
    let sha256 = match resume.sha256 {
        Some(sha256) => sha256,
        None => {
            let sha256 = blocking(path, |file| hash(file, u64::MAX)).await?;
            resume.sha256 = Some(sha256);
            progress(resume, 0, length);
            sha256
        }
    };
    loop {
        let location = match &resume.location {
            Some(location) => location.clone(),
            None => {
                let created = service.create(length, name, &sha256).await?;
                resume.location = Some(created.location.clone());
                progress(resume, 0, length);
                if let Some(file_id) = try_proof(service, path, &created).await? {
                    progress(resume, length, length);
                    return Ok(Uploaded {
                        file_id,
                        instant: true,
                    });
                }
                created.location
            }
        };
        let sent = send_from_offset(service, path, &location, length, resume, progress, cancel);
        match sent.await {
            // The upload expired or was collected: start a new one.
            Err(error) if error.code() == ErrorCode::NotFound => resume.location = None,
            outcome => return outcome,
        }
    }
}

/// Proves possession when the server offered it; `None` when the bytes must be sent.
async fn try_proof(
    service: &FileService,
    path: &Path,
    created: &Created,
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

/// Sends the rest of the file from the server's offset in one streamed request, reporting
/// progress as it goes, until the server names the stored file.
async fn send_from_offset(
    service: &FileService,
    path: &Path,
    location: &Url,
    length: u64,
    resume: &mut Resume,
    progress: Progress<'_>,
    cancel: &CancellationToken,
) -> Result<Uploaded> {
    let at = service.progress(location).await?;
    if let Some(file_id) = at.file_id {
        return Ok(Uploaded {
            file_id,
            instant: false,
        });
    }
    let offset = at.offset;
    let rest = length.saturating_sub(offset);
    let sent = Arc::new(AtomicU64::new(0));
    let body = disk::read_ahead(path, offset, rest, Arc::clone(&sent)).await?;
    let request = service.append(location, offset, rest, reqwest::Body::wrap_stream(body));
    tokio::pin!(request);
    let mut ticks = tokio::time::interval(PROGRESS_EVERY);
    let answer = loop {
        tokio::select! {
            answer = &mut request => break answer,
            _ = ticks.tick() => progress(resume, offset + sent.load(Ordering::Relaxed), length),
            () = cancel.cancelled() => {
                resume.bytes_sent += sent.load(Ordering::Relaxed);
                return Err(Error::Cancelled);
            }
        }
    };
    resume.bytes_sent += sent.load(Ordering::Relaxed);
    let at = answer?;
    progress(resume, at.offset, length);
    match at.file_id {
        Some(file_id) => Ok(Uploaded {
            file_id,
            instant: false,
        }),
        None => service
            .progress(location)
            .await?
            .file_id
            .map(|file_id| Uploaded {
                file_id,
                instant: false,
            })
            .ok_or_else(|| Error::Protocol("the upload is complete but names no file".into())),
    }
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

/// SHA-256 of the next `limit` bytes (or to the end).
fn hash(file: &mut std::fs::File, limit: u64) -> std::io::Result<[u8; 32]> {
    hash_salted(&[], file, limit)
}

/// SHA-256 of `salt` followed by the next `limit` bytes (or to the end).
fn hash_salted(salt: &[u8], file: &mut std::fs::File, limit: u64) -> std::io::Result<[u8; 32]> {
    let mut hasher = Sha256::new();
    hasher.update(salt);
    std::io::copy(&mut file.take(limit), &mut hasher)?;
    Ok(hasher.finalize().into())
}
