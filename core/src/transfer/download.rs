//! One file from the server into a local path: bytes go to `<path>.part`, which a later call
//! continues with a `Range` request, and become `path` only when complete. A small file (a
//! poster) comes straight into memory instead.

use std::io::{Seek, SeekFrom};
use std::path::{Path, PathBuf};

use tokio_util::sync::CancellationToken;

use super::disk;
use super::service::FileService;
use crate::error::{Error, Result};

/// Downloads file `file_id` of `size` bytes to `dest`, reporting `(received, size)`; returns
/// the bytes fetched by this call.
pub async fn download(
    service: &FileService,
    file_id: &str,
    size: u64,
    dest: &Path,
    progress: &mut (dyn FnMut(u64, u64) + Send),
    cancel: &CancellationToken,
) -> Result<u64> {
    let partial = partial_path(dest);
    let from = match tokio::fs::metadata(&partial).await {
        Ok(meta) if meta.len() <= size => meta.len(),
        _ => 0,
    };
    if from == size && size > 0 {
        // Complete already (the rename was cut off): nothing to fetch.
        tokio::fs::rename(&partial, dest).await?;
        return Ok(0);
    }
    let opened = partial.clone();
    let file = tokio::task::spawn_blocking(move || {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(opened)?;
        file.set_len(from)?;
        file.seek(SeekFrom::End(0))?;
        Ok::<_, std::io::Error>(file)
    })
    .await
    .map_err(|e| Error::Io(std::io::Error::other(e)))??;
    let mut response = service.fetch(file_id, from).await?;
    let (parts, written) = disk::writer(file);
    let mut received = from;
    let fetched = loop {
        let chunk = tokio::select! {
            chunk = response.chunk() => chunk.map_err(|e| Error::Connection(e.to_string())),
            () = cancel.cancelled() => Err(Error::Cancelled),
        };
        let chunk = match chunk {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break Ok(()),
            Err(error) => break Err(error),
        };
        received += chunk.len() as u64;
        if received > size {
            break Err(Error::Protocol(
                "the file is longer than its message says".into(),
            ));
        }
        if parts.send(chunk).await.is_err() {
            break Ok(()); // the writer failed; it says why
        }
        progress(received, size);
    };
    drop(parts);
    // What arrived is on disk either way, for the next call to continue from.
    written
        .await
        .map_err(|e| Error::Io(std::io::Error::other(e)))??;
    fetched?;
    if received != size {
        return Err(Error::Connection("the download ended early".into()));
    }
    tokio::fs::rename(&partial, dest).await?;
    Ok(received - from)
}

/// A small file whole in memory (a poster): refused once it passes `max` bytes.
pub async fn small(service: &FileService, file_id: &str, max: usize) -> Result<Vec<u8>> {
    let mut response = service.fetch(file_id, 0).await?;
    let mut bytes = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| Error::Connection(e.to_string()))?
    {
        if bytes.len() + chunk.len() > max {
            return Err(Error::Protocol(format!("the file is over {max} bytes")));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// Where an unfinished download of `dest` is kept.
pub fn partial_path(dest: &Path) -> PathBuf {
    let mut name = dest.file_name().unwrap_or_default().to_owned();
    name.push(".part");
    dest.with_file_name(name)
}
