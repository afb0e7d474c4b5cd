//! The file service: resumable uploads (tus 1.0, [`uploads`]), downloads with `Range` that
//! only the file's conversations may make ([`downloads`]), content-addressed storage behind
//! [`blobs::BlobStore`], sniffing and bomb checks ([`inspect`]), and the collection of what
//! expired ([`collect`]). What the store records lives in `store`; this module moves bytes.

pub mod blobs;
pub mod collect;
pub mod downloads;
pub mod inspect;
pub mod staging;
pub mod tus;
pub mod uploads;

use std::collections::{HashMap, HashSet};
use std::io;
use std::sync::{Arc, Mutex};

use sha2::Sha256;

use self::blobs::{BlobStore, LocalBlobs};
use self::staging::Staging;
use crate::config::Config;
use crate::error::AppError;
use crate::store::StoreError;

/// What the file handlers share.
pub struct Files {
    /// Complete content.
    pub blobs: Arc<dyn BlobStore>,
    /// Uploads in progress.
    pub staging: Staging,
    /// Held while blobs are added or collected, so a collection never deletes content that
    /// an upload finishing at the same moment has just been promised.
    pub blob_lock: tokio::sync::Mutex<()>,
    busy: Mutex<HashSet<String>>,
    hashers: Mutex<HashMap<String, (u64, Sha256)>>,
}

impl Files {
    /// Local blobs and staging under the configuration's data folder.
    pub fn open(config: &Config) -> io::Result<Self> {
        Ok(Self {
            blobs: Arc::new(LocalBlobs::open(&config.blobs_dir())?),
            staging: Staging::open(&config.staging_dir())?,
            blob_lock: tokio::sync::Mutex::new(()),
            busy: Mutex::new(HashSet::new()),
            hashers: Mutex::new(HashMap::new()),
        })
    }

    /// Claims an upload for one request at a time (a second one gets `Conflict`).
    pub fn claim(&self, upload_id: &str) -> Result<Claim<'_>, AppError> {
        let mut busy = self.busy.lock().map_err(|_| poisoned())?;
        if !busy.insert(upload_id.to_owned()) {
            return Err(AppError::Store(StoreError::Conflict(
                "another request is writing this upload",
            )));
        }
        Ok(Claim {
            files: self,
            upload_id: upload_id.to_owned(),
        })
    }

    /// The running hash of an upload if it covers exactly `offset` bytes (a fresh one at 0).
    pub fn take_hasher(&self, upload_id: &str, offset: u64) -> Option<Sha256> {
        let kept = self.hashers.lock().ok()?.remove(upload_id);
        match kept {
            Some((covered, hasher)) if covered == offset => Some(hasher),
            _ if offset == 0 => Some(sha2::Digest::new()),
            _ => None,
        }
    }

    /// Keeps an upload's running hash for its next chunk.
    pub fn keep_hasher(&self, upload_id: &str, offset: u64, hasher: Option<Sha256>) {
        if let (Some(hasher), Ok(mut hashers)) = (hasher, self.hashers.lock()) {
            hashers.insert(upload_id.to_owned(), (offset, hasher));
        }
    }

    /// Forgets an upload's running hash.
    pub fn forget(&self, upload_id: &str) {
        if let Ok(mut hashers) = self.hashers.lock() {
            hashers.remove(upload_id);
        }
    }
}

/// An upload claimed by one request, released when dropped.
pub struct Claim<'a> {
    files: &'a Files,
    upload_id: String,
}

impl Drop for Claim<'_> {
    fn drop(&mut self) {
        if let Ok(mut busy) = self.files.busy.lock() {
            busy.remove(&self.upload_id);
        }
    }
}

fn poisoned() -> AppError {
    AppError::Internal("the upload registry is poisoned".into())
}

/// A new random id for an upload or a file: 128 bits as 32 lowercase hex digits.
pub fn random_id() -> String {
    hex::encode(rand::random::<[u8; 16]>())
}

/// An I/O failure as an internal error (logged, not shown).
pub fn io_error(error: io::Error) -> AppError {
    AppError::Internal(format!("file storage: {error}"))
}
