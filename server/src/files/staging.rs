//! Uploads in progress on disk: one file per upload holding the bytes received so far, so
//! its length is the offset to resume from — after a lost connection or a server restart.
//! A chunk is written on a blocking thread while the next one arrives; memory stays at a
//! few buffers per upload whatever the file's size.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use axum::body::Body;
use bytes::Bytes;
use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

/// Chunks in flight between the socket and the disk.
const QUEUE: usize = 2;
/// Bytes gathered before a write to the file.
const WRITE_BUFFER: usize = 256 << 10;

/// Why appending a chunk stopped early.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// The request body broke off (the client went away).
    #[error("the chunk was cut off: {0}")]
    CutOff(String),
    /// The chunk runs past the upload's length.
    #[error("the chunk runs past the file's length")]
    TooLong,
    /// The chunk's bytes do not hash to its `Upload-Checksum`.
    #[error("the chunk does not match its checksum")]
    Checksum,
    /// The disk failed.
    #[error("writing the upload: {0}")]
    Io(#[from] io::Error),
}

/// What appending a chunk did.
pub struct Appended {
    /// The upload's offset afterwards.
    pub offset: u64,
    /// The running SHA-256 of the whole upload, covering `offset` bytes (if it was running).
    pub hasher: Option<Sha256>,
    /// Whether the whole chunk was taken.
    pub outcome: Result<(), AppendError>,
}

/// The folder of uploads in progress.
pub struct Staging {
    dir: PathBuf,
}

impl Staging {
    /// Staging files under `dir` (created when missing).
    pub fn open(dir: &Path) -> io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        Ok(Self {
            dir: dir.to_owned(),
        })
    }

    /// The file of an upload (its id is 32 hex digits, checked by the caller).
    pub fn path(&self, upload_id: &str) -> PathBuf {
        self.dir.join(upload_id)
    }

    /// Bytes received so far.
    pub async fn offset(&self, upload_id: &str) -> io::Result<u64> {
        match tokio::fs::metadata(self.path(upload_id)).await {
            Ok(meta) => Ok(meta.len()),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(0),
            Err(error) => Err(error),
        }
    }

    /// Deletes an upload's bytes (a missing file is not an error).
    pub async fn remove(&self, upload_id: &str) -> io::Result<()> {
        match tokio::fs::remove_file(self.path(upload_id)).await {
            Err(error) if error.kind() != io::ErrorKind::NotFound => Err(error),
            _ => Ok(()),
        }
    }

    /// Appends a request body at `start` (the file's current length), at most `room` bytes.
    /// With a `checksum`, a chunk that does not match it — or breaks off — is taken back
    /// whole; without one, whatever arrived is kept, to resume from.
    pub async fn append(
        &self,
        upload_id: &str,
        start: u64,
        body: Body,
        room: u64,
        hasher: Option<Sha256>,
        checksum: Option<[u8; 32]>,
    ) -> Appended {
        let before = hasher.clone();
        let (sender, receiver) = mpsc::channel::<Bytes>(QUEUE);
        let path = self.path(upload_id);
        let writer = tokio::task::spawn_blocking(move || {
            write_chunks(&path, start, receiver, hasher, checksum.is_some())
        });
        let received = forward(body, room, &sender).await;
        drop(sender);
        let written = writer
            .await
            .map_err(io::Error::other)
            .and_then(|result| result);
        let (written, hasher, digest) = match written {
            Ok(done) => done,
            Err(error) => {
                return self.take_back(upload_id, start, before, error.into()).await;
            }
        };
        let outcome = match (received, checksum) {
            (Err(error), Some(_)) => Err(error),
            (Ok(()), Some(expected)) if digest != Some(expected) => Err(AppendError::Checksum),
            (received, _) => received,
        };
        match outcome {
            Err(error) if checksum.is_some() => {
                self.take_back(upload_id, start, before, error).await
            }
            outcome => Appended {
                offset: start + written,
                hasher,
                outcome,
            },
        }
    }

    /// Cuts an upload back to `start`, forgetting a chunk.
    async fn take_back(
        &self,
        upload_id: &str,
        start: u64,
        hasher: Option<Sha256>,
        error: AppendError,
    ) -> Appended {
        let path = self.path(upload_id);
        let cut = tokio::task::spawn_blocking(move || {
            std::fs::OpenOptions::new()
                .write(true)
                .open(path)?
                .set_len(start)
        })
        .await
        .map_err(io::Error::other)
        .and_then(|result| result);
        Appended {
            offset: start,
            hasher,
            outcome: Err(match cut {
                Ok(()) => error,
                Err(io) => AppendError::Io(io),
            }),
        }
    }
}

/// Passes the body's frames to the writer, stopping at `room` bytes.
async fn forward(body: Body, room: u64, sender: &mpsc::Sender<Bytes>) -> Result<(), AppendError> {
    let mut stream = body.into_data_stream();
    let mut left = room;
    while let Some(frame) = stream.next().await {
        let mut frame = frame.map_err(|e| AppendError::CutOff(e.to_string()))?;
        let too_long = frame.len() as u64 > left;
        if too_long {
            frame.truncate(left as usize);
        }
        left -= frame.len() as u64;
        if !frame.is_empty() && sender.send(frame).await.is_err() {
            return Ok(()); // the writer failed; it reports why
        }
        if too_long {
            return Err(AppendError::TooLong);
        }
    }
    Ok(())
}

/// The blocking side: appends what arrives, hashing it; returns the bytes written, the
/// running hash and the chunk's own digest (when asked for).
fn write_chunks(
    path: &Path,
    start: u64,
    mut receiver: mpsc::Receiver<Bytes>,
    mut hasher: Option<Sha256>,
    digest_chunk: bool,
) -> io::Result<(u64, Option<Sha256>, Option<[u8; 32]>)> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)?;
    file.set_len(start)?;
    let mut out = io::BufWriter::with_capacity(WRITE_BUFFER, file);
    io::Seek::seek(&mut out, io::SeekFrom::Start(start))?;
    let mut chunk = digest_chunk.then(Sha256::new);
    let mut written = 0u64;
    while let Some(bytes) = receiver.blocking_recv() {
        out.write_all(&bytes)?;
        written += bytes.len() as u64;
        if let Some(hasher) = hasher.as_mut() {
            hasher.update(&bytes);
        }
        if let Some(chunk) = chunk.as_mut() {
            chunk.update(&bytes);
        }
    }
    out.flush()?;
    Ok((written, hasher, chunk.map(|c| c.finalize().into())))
}

/// The SHA-256 of a whole file (blocking): for an upload whose running hash was lost with a
/// restart.
pub fn hash_file(path: &Path) -> io::Result<[u8; 32]> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    io::copy(&mut file, &mut hasher)?;
    Ok(hasher.finalize().into())
}
