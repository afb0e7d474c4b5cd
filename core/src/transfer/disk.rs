//! File bytes to and from the network without a blocking-pool hop per small read or write:
//! one blocking thread per transfer reads (or writes) large parts, a few ahead of the socket.

use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures_util::Stream;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Bytes read or written at a time.
const PART_BYTES: usize = 1 << 20;
/// Parts in flight between the disk and the socket.
const AHEAD: usize = 4;

/// `len` bytes of a file from `start`, read ahead on a blocking thread; `read` counts the
/// bytes handed out. Opening and seeking happen on a blocking thread too, and their failure
/// (the file is gone) is this call's error, not a failure of the request that streams it.
pub async fn read_ahead(
    path: &Path,
    start: u64,
    len: u64,
    read: Arc<AtomicU64>,
) -> io::Result<impl Stream<Item = io::Result<Bytes>> + Send + 'static> {
    let path = path.to_owned();
    let mut reader = tokio::task::spawn_blocking(move || {
        let mut file = std::fs::File::open(&path)?;
        file.seek(SeekFrom::Start(start))?;
        Ok::<_, io::Error>(file.take(len))
    })
    .await
    .map_err(io::Error::other)??;
    let (sender, receiver) = mpsc::channel::<io::Result<Bytes>>(AHEAD);
    tokio::task::spawn_blocking(move || {
        loop {
            let mut part = BytesMut::zeroed(PART_BYTES);
            let got = match reader.read(&mut part) {
                Ok(0) => return,
                Ok(got) => got,
                Err(error) => {
                    let _ = sender.blocking_send(Err(error));
                    return;
                }
            };
            part.truncate(got);
            if sender.blocking_send(Ok(part.freeze())).is_err() {
                return; // the request was dropped
            }
        }
    });
    Ok(futures_util::stream::unfold(
        receiver,
        move |mut receiver| {
            let read = Arc::clone(&read);
            async move {
                let part = receiver.recv().await?;
                if let Ok(bytes) = &part {
                    read.fetch_add(bytes.len() as u64, Ordering::Relaxed);
                }
                Some((part, receiver))
            }
        },
    ))
}

/// A file written on a blocking thread from the parts sent to it; the handle answers the
/// bytes written once the sender is dropped (flushed, not yet synced).
pub fn writer(file: std::fs::File) -> (mpsc::Sender<Bytes>, JoinHandle<io::Result<u64>>) {
    let (sender, mut receiver) = mpsc::channel::<Bytes>(AHEAD * 4);
    let handle = tokio::task::spawn_blocking(move || {
        let mut out = io::BufWriter::with_capacity(PART_BYTES, file);
        let mut written = 0;
        while let Some(part) = receiver.blocking_recv() {
            out.write_all(&part)?;
            written += part.len() as u64;
        }
        out.flush()?;
        out.into_inner()
            .map_err(io::IntoInnerError::into_error)?
            .sync_all()?;
        Ok(written)
    });
    (sender, handle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_missing_file_is_the_read_aheads_own_error() {
        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join("gone.bin");
        let read = Arc::new(AtomicU64::new(0));
        let opened = read_ahead(&gone, 0, 10, read).await;
        assert_eq!(
            opened.err().map(|e| e.kind()),
            Some(io::ErrorKind::NotFound)
        );
    }
}
