//! Where content lives: the [`BlobStore`] trait, keyed by SHA-256, and [`LocalBlobs`], a
//! folder on the server's disk. An S3-compatible store can implement the same trait.

use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::pin::Pin;

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use futures_util::Stream;
use tokio::sync::mpsc;

/// A blob's bytes, in parts.
pub type BlobStream = Pin<Box<dyn Stream<Item = io::Result<Bytes>> + Send>>;

/// Bytes read from disk at a time.
const READ_BYTES: usize = 1 << 20;
/// Parts read ahead of the socket.
const READ_AHEAD: usize = 4;

/// Content-addressed storage of complete files.
#[async_trait]
pub trait BlobStore: Send + Sync + 'static {
    /// Takes a complete staged file in as the blob `sha256` (durably), or drops it when the
    /// content is held already.
    async fn put(&self, sha256: &[u8], staged: &Path) -> io::Result<()>;
    /// `len` bytes of the blob from `start`.
    async fn read(&self, sha256: &[u8], start: u64, len: u64) -> io::Result<BlobStream>;
    /// Deletes the blob (a missing one is not an error).
    async fn delete(&self, sha256: &[u8]) -> io::Result<()>;
}

/// Blobs as files under one folder: `ab/abcdef…` by hex SHA-256.
pub struct LocalBlobs {
    root: PathBuf,
}

impl LocalBlobs {
    /// Blobs under `root` (created when missing).
    pub fn open(root: &Path) -> io::Result<Self> {
        std::fs::create_dir_all(root)?;
        Ok(Self {
            root: root.to_owned(),
        })
    }

    fn path(&self, sha256: &[u8]) -> PathBuf {
        let hex = hex::encode(sha256);
        self.root.join(&hex[..2.min(hex.len())]).join(hex)
    }
}

#[async_trait]
impl BlobStore for LocalBlobs {
    async fn put(&self, sha256: &[u8], staged: &Path) -> io::Result<()> {
        let (target, staged) = (self.path(sha256), staged.to_owned());
        tokio::task::spawn_blocking(move || {
            if target.exists() {
                return std::fs::remove_file(&staged);
            }
            let folder = target.parent().unwrap_or(Path::new("."));
            std::fs::create_dir_all(folder)?;
            std::fs::File::open(&staged)?.sync_all()?;
            std::fs::rename(&staged, &target)?;
            sync_folder(folder)
        })
        .await
        .map_err(io::Error::other)?
    }

    async fn read(&self, sha256: &[u8], start: u64, len: u64) -> io::Result<BlobStream> {
        let path = self.path(sha256);
        let file = tokio::task::spawn_blocking(move || {
            let mut file = std::fs::File::open(path)?;
            file.seek(SeekFrom::Start(start))?;
            Ok::<_, io::Error>(file)
        })
        .await
        .map_err(io::Error::other)??;
        Ok(read_ahead(file.take(len)))
    }

    async fn delete(&self, sha256: &[u8]) -> io::Result<()> {
        match tokio::fs::remove_file(self.path(sha256)).await {
            Err(error) if error.kind() != io::ErrorKind::NotFound => Err(error),
            _ => Ok(()),
        }
    }
}

/// Streams a reader from a blocking thread, a few large parts ahead of the consumer (a
/// blocking-pool hop per small read would cost more than the bytes).
fn read_ahead(mut reader: impl Read + Send + 'static) -> BlobStream {
    let (sender, receiver) = mpsc::channel::<io::Result<Bytes>>(READ_AHEAD);
    tokio::task::spawn_blocking(move || loop {
        let mut part = BytesMut::zeroed(READ_BYTES);
        let read = match reader.read(&mut part) {
            Ok(0) => return,
            Ok(read) => read,
            Err(error) => {
                let _ = sender.blocking_send(Err(error));
                return;
            }
        };
        part.truncate(read);
        if sender.blocking_send(Ok(part.freeze())).is_err() {
            return; // the answer was dropped (the client went away)
        }
    });
    Box::pin(futures_util::stream::unfold(
        receiver,
        |mut receiver| async { receiver.recv().await.map(|part| (part, receiver)) },
    ))
}

/// Makes a rename inside `folder` durable.
#[cfg(unix)]
fn sync_folder(folder: &Path) -> io::Result<()> {
    std::fs::File::open(folder)?.sync_all()
}

#[cfg(not(unix))]
fn sync_folder(_folder: &Path) -> io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_blob_is_put_once_read_by_range_and_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let blobs = LocalBlobs::open(&dir.path().join("blobs")).unwrap();
        let sha = [0xab; 32];
        for _ in 0..2 {
            let staged = dir.path().join("staged");
            std::fs::write(&staged, b"hello, world").unwrap();
            blobs.put(&sha, &staged).await.unwrap();
            assert!(!staged.exists(), "the staged file is taken or dropped");
        }
        let parts: Vec<io::Result<Bytes>> =
            futures_util::StreamExt::collect(blobs.read(&sha, 7, 5).await.unwrap()).await;
        let part: Vec<u8> = parts
            .into_iter()
            .flat_map(|p| p.unwrap().to_vec())
            .collect();
        assert_eq!(part, b"world");
        blobs.delete(&sha).await.unwrap();
        blobs.delete(&sha).await.unwrap();
        assert!(blobs.read(&sha, 0, 1).await.is_err());
    }
}
