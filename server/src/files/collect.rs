//! Collection of what expired: unfinished uploads past their time, files nobody sent, and
//! content no file refers to any more.

use std::time::Duration;

use crate::error::AppError;
use crate::state::AppState;
use crate::store::{now_ms, Collected};

/// Collects every `collect_interval_secs` until the server shuts down.
pub async fn run(state: AppState) {
    let every = Duration::from_secs(state.config.files.collect_interval_secs.max(1));
    loop {
        tokio::select! {
            _ = state.shutdown.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
        match once(&state).await {
            Ok(done) if done != Collected::default() => tracing::info!(
                uploads = done.uploads.len(),
                files = done.files,
                blobs = done.blobs.len(),
                "collected expired files"
            ),
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "collecting expired files failed"),
        }
    }
}

/// One collection: the store forgets, then the bytes go.
pub async fn once(state: &AppState) -> Result<Collected, AppError> {
    let files = &state.files;
    let _adding = files.blob_lock.lock().await;
    let now = now_ms();
    let unsent_ms = i64::try_from(state.config.files.unsent_expiry_secs.saturating_mul(1000))
        .unwrap_or(i64::MAX);
    let collected = state
        .store
        .collect_files(now, now.saturating_sub(unsent_ms))
        .await?;
    for upload in &collected.uploads {
        files.forget(upload);
        if let Err(error) = files.staging.remove(upload).await {
            tracing::warn!(%error, "cannot delete an expired upload");
        }
    }
    for sha256 in &collected.blobs {
        if let Err(error) = files.blobs.delete(sha256).await {
            tracing::warn!(%error, "cannot delete a blob nothing refers to");
        }
    }
    Ok(collected)
}
