//! The tus 1.0 upload handlers under `/api/v1/uploads`: create, ask the offset, append
//! chunks, terminate, and Flint's possession proof for content the server holds already.

use std::time::{Duration, SystemTime};

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use flint_proto::files;
use futures_util::StreamExt;
use rand::Rng;
use sha2::{Digest, Sha256};

use super::staging::{hash_file, AppendError};
use super::{inspect, io_error, random_id, tus};
use crate::error::AppError;
use crate::rest::Caller;
use crate::state::AppState;
use crate::store::{
    now_ms, BlobInfo, FileRecord, NewUpload, ProofRange, StoreError, Upload, UserId,
};
use crate::validate;

/// An answer carrying `Tus-Resumable` and the given headers.
fn answer(status: StatusCode, headers: &[(&str, HeaderValue)]) -> Response {
    let mut response = status.into_response();
    let map = response.headers_mut();
    map.insert(
        tus::TUS_RESUMABLE,
        HeaderValue::from_static(files::TUS_VERSION),
    );
    for (name, value) in headers {
        if let Ok(name) = HeaderName::from_bytes(name.as_bytes()) {
            map.insert(name, value.clone());
        }
    }
    response
}

/// A header value from text the server made (ids, numbers, dates).
fn text(value: &str) -> HeaderValue {
    HeaderValue::from_str(value).unwrap_or(HeaderValue::from_static(""))
}

/// `OPTIONS /api/v1/uploads`: what this server speaks.
pub async fn options(State(state): State<AppState>) -> Response {
    answer(
        StatusCode::NO_CONTENT,
        &[
            ("tus-version", HeaderValue::from_static(files::TUS_VERSION)),
            (
                "tus-extension",
                HeaderValue::from_static("creation,checksum,expiration,termination"),
            ),
            (
                "tus-max-size",
                tus::value(state.config.files.max_file_bytes),
            ),
            ("tus-checksum-algorithm", HeaderValue::from_static("sha256")),
        ],
    )
}

/// `POST /api/v1/uploads`: a new upload of `Upload-Length` bytes, within the size limit and
/// the caller's quota. When the declared SHA-256 names content the server holds, the answer
/// asks for a possession proof instead of the bytes.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    tus::require_version(&headers)?;
    let limits = &state.config.files;
    let length = tus::number(&headers, tus::UPLOAD_LENGTH)?;
    if length == 0 {
        return Err(AppError::BadRequest("the file is empty".into()));
    }
    if length > limits.max_file_bytes {
        return Err(AppError::TooLarge(format!(
            "the file is {length} bytes; the limit is {}",
            limits.max_file_bytes
        )));
    }
    let meta = tus::metadata(&headers)?;
    let name = validate::file_name(meta.name.as_deref().unwrap_or("file"))?;
    let sha256_hex = meta.sha256_hex.unwrap_or_default();
    let proof = offer_proof(&state, &sha256_hex, length).await?;
    let expiry = Duration::from_secs(limits.upload_expiry_secs);
    let expires_at_ms = now_ms().saturating_add(expiry.as_millis() as i64);
    let upload = state
        .store
        .create_upload(
            NewUpload {
                id: random_id(),
                owner_id: caller.session.user_id,
                length,
                name,
                sha256_hex,
                proof,
                expires_at_ms,
            },
            limits.quota_bytes,
            limits.max_pending_uploads,
        )
        .await?;
    let location = format!("{}/{}", files::UPLOADS_PATH, upload.id);
    let expires = httpdate::fmt_http_date(SystemTime::now() + expiry);
    let mut headers = vec![
        (header::LOCATION.as_str(), text(&location)),
        (tus::UPLOAD_EXPIRES, text(&expires)),
    ];
    if let Some(range) = proof {
        let last = range.start + range.len - 1;
        headers.push((files::PROOF_RANGE, text(&format!("{}-{last}", range.start))));
    }
    Ok(answer(StatusCode::CREATED, &headers))
}

/// A random range to prove, when the server holds content of this hash and length.
async fn offer_proof(
    state: &AppState,
    sha256_hex: &str,
    length: u64,
) -> Result<Option<ProofRange>, AppError> {
    let Ok(sha256) = hex::decode(sha256_hex) else {
        return Ok(None);
    };
    if sha256.is_empty() {
        return Ok(None);
    }
    let held = state.store.blob(sha256).await?;
    Ok(held.filter(|blob| blob.size == length).map(|_| {
        let len = length.min(files::PROOF_BYTES);
        let start = rand::rng().random_range(0..=length - len);
        ProofRange { start, len }
    }))
}

/// One of the caller's live uploads, by an id of the right shape.
async fn find(state: &AppState, owner: UserId, id: &str) -> Result<Upload, AppError> {
    let id = validate::object_id(id, "upload")?;
    state
        .store
        .upload(owner, &id)
        .await?
        .ok_or(AppError::NotFound("upload"))
}

/// `HEAD /api/v1/uploads/{id}`: the offset to resume from (and the file, once complete).
pub async fn head(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let upload = find(&state, caller.session.user_id, &id).await?;
    let offset = match upload.file_id {
        Some(_) => upload.length,
        None => state
            .files
            .staging
            .offset(&upload.id)
            .await
            .map_err(io_error)?,
    };
    let mut headers = vec![
        (tus::UPLOAD_OFFSET, tus::value(offset)),
        (tus::UPLOAD_LENGTH, tus::value(upload.length)),
        (
            header::CACHE_CONTROL.as_str(),
            HeaderValue::from_static("no-store"),
        ),
    ];
    if let Some(file_id) = &upload.file_id {
        headers.push((files::FILE_ID, text(file_id)));
        let me = caller.session.user_id;
        if let Some(file) = state.store.file(me, file_id).await? {
            headers.push((files::FILE_SHA256, text(&hex::encode(file.blob.sha256))));
        }
    }
    Ok(answer(StatusCode::OK, &headers))
}

/// `PATCH /api/v1/uploads/{id}`: appends a chunk at `Upload-Offset`, streamed to disk; the
/// chunk that completes the upload answers with the file's id.
pub async fn patch(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, AppError> {
    tus::require_version(&headers)?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    if content_type != Some(files::PATCH_CONTENT_TYPE) {
        return Err(AppError::BadRequest(format!(
            "a chunk's Content-Type is {}",
            files::PATCH_CONTENT_TYPE
        )));
    }
    let me = caller.session.user_id;
    let upload = find(&state, me, &id).await?;
    if upload.file_id.is_some() {
        return Err(StoreError::Conflict("the upload is complete").into());
    }
    let files = &state.files;
    let _claim = files.claim(&upload.id)?;
    let offset = files.staging.offset(&upload.id).await.map_err(io_error)?;
    if tus::number(&headers, tus::UPLOAD_OFFSET)? != offset {
        return Err(StoreError::Conflict(
            "Upload-Offset is not the upload's offset (ask with HEAD)",
        )
        .into());
    }
    let checksum = tus::chunk_checksum(&headers)?;
    let hasher = files.take_hasher(&upload.id, offset);
    let room = upload.length - offset;
    let appended = files
        .staging
        .append(&upload.id, offset, body, room, hasher, checksum)
        .await;
    let done = appended.outcome.is_ok() && appended.offset == upload.length;
    if done {
        let file = finish(&state, me, &upload, appended.hasher).await?;
        return Ok(answer(
            StatusCode::NO_CONTENT,
            &[
                (tus::UPLOAD_OFFSET, tus::value(appended.offset)),
                (files::FILE_ID, text(&file.id)),
                (files::FILE_SHA256, text(&hex::encode(file.blob.sha256))),
            ],
        ));
    }
    files.keep_hasher(&upload.id, appended.offset, appended.hasher);
    appended.outcome.map_err(|error| match error {
        AppendError::CutOff(_) => AppError::BadRequest(error.to_string()),
        AppendError::TooLong => AppError::TooLarge(error.to_string()),
        AppendError::Checksum => AppError::ChecksumMismatch(error.to_string()),
        AppendError::Io(io) => io_error(io),
    })?;
    Ok(answer(
        StatusCode::NO_CONTENT,
        &[(tus::UPLOAD_OFFSET, tus::value(appended.offset))],
    ))
}

/// Turns a complete upload into a file: checks the declared hash, sniffs the content and
/// refuses what is not allowed (deleting the upload: nothing half-stored), then moves the
/// bytes into the blob store and records the file.
async fn finish(
    state: &AppState,
    owner: UserId,
    upload: &Upload,
    hasher: Option<Sha256>,
) -> Result<FileRecord, AppError> {
    let path = state.files.staging.path(&upload.id);
    let limits = state.config.files.clone();
    let looked = tokio::task::spawn_blocking(move || {
        let digest = match hasher {
            Some(hasher) => hasher.finalize().into(),
            None => hash_file(&path).map_err(io_error)?,
        };
        Ok::<_, AppError>((digest, inspect::file(&path, &limits)))
    })
    .await
    .map_err(|e| AppError::Internal(e.to_string()))?;
    let checked = looked.and_then(|(digest, inspected)| {
        let declared = &upload.sha256_hex;
        if !declared.is_empty() && *declared != hex::encode(digest) {
            return Err(AppError::ChecksumMismatch(
                "the file's SHA-256 is not the one declared; send it again".into(),
            ));
        }
        Ok((digest, inspected?))
    });
    let (digest, inspected) = match checked {
        Ok(found) => found,
        Err(error) => {
            discard(state, owner, &upload.id).await?;
            return Err(error);
        }
    };
    let blob = BlobInfo {
        sha256: digest.to_vec(),
        size: upload.length,
        mime: inspected.mime,
        width: inspected.width,
        height: inspected.height,
    };
    let _adding = state.files.blob_lock.lock().await;
    let staged = state.files.staging.path(&upload.id);
    state
        .files
        .blobs
        .put(&digest, &staged)
        .await
        .map_err(io_error)?;
    state.files.forget(&upload.id);
    let recorded = state
        .store
        .finish_upload(owner, &upload.id, &random_id(), blob)
        .await;
    if recorded.is_err()
        && state
            .store
            .blob(digest.to_vec())
            .await
            .ok()
            .flatten()
            .is_none()
    {
        // The bytes went in but no row says so: take them out again, or nothing ever would.
        let _ = state.files.blobs.delete(&digest).await;
    }
    Ok(recorded?)
}

/// Deletes an upload and its bytes.
async fn discard(state: &AppState, owner: UserId, upload_id: &str) -> Result<(), AppError> {
    state.files.forget(upload_id);
    state.store.delete_upload(owner, upload_id).await?;
    state
        .files
        .staging
        .remove(upload_id)
        .await
        .map_err(io_error)
}

/// `DELETE /api/v1/uploads/{id}`: tus termination.
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let upload = find(&state, caller.session.user_id, &id).await?;
    let _claim = state.files.claim(&upload.id)?;
    discard(&state, caller.session.user_id, &upload.id).await?;
    Ok(answer(StatusCode::NO_CONTENT, &[]))
}

/// `POST /api/v1/uploads/{id}/proof`: completes an upload of content the server holds, given
/// the SHA-256 of the range the creation named. One attempt: a wrong proof withdraws the
/// offer and the bytes must be sent.
pub async fn prove(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let me = caller.session.user_id;
    let upload = find(&state, me, &id).await?;
    let range = upload
        .proof
        .filter(|_| upload.file_id.is_none())
        .ok_or(StoreError::Forbidden(
            "this upload has no proof to give; send the file",
        ))?;
    let _claim = state.files.claim(&upload.id)?;
    let proof = headers
        .get(files::PROOF)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| AppError::BadRequest(format!("{} is missing", files::PROOF)))
        .and_then(tus::sha256_hex)?;
    let sha256 = hex::decode(&upload.sha256_hex).map_err(|e| AppError::Internal(e.to_string()))?;
    let _adding = state.files.blob_lock.lock().await;
    let held = state.store.blob(sha256.clone()).await?;
    let matches = match &held {
        Some(_) => hex::encode(range_digest(&state, &sha256, &upload.id, range).await?) == proof,
        None => false,
    };
    let Some(blob) = held.filter(|_| matches) else {
        state.store.drop_proof(me, &upload.id).await?;
        return Err(StoreError::Forbidden("the proof does not match; send the file").into());
    };
    let file = state
        .store
        .finish_upload(me, &upload.id, &random_id(), blob)
        .await?;
    Ok(answer(
        StatusCode::NO_CONTENT,
        &[
            (tus::UPLOAD_OFFSET, tus::value(upload.length)),
            (files::FILE_ID, text(&file.id)),
        ],
    ))
}

/// The SHA-256 of the upload's id followed by a range of a held blob (the id, fresh and
/// chosen here, makes the answer impossible to compute from the content's hash alone, even
/// when the range is the whole file).
async fn range_digest(
    state: &AppState,
    sha256: &[u8],
    upload_id: &str,
    range: ProofRange,
) -> Result<[u8; 32], AppError> {
    let mut parts = state
        .files
        .blobs
        .read(sha256, range.start, range.len)
        .await
        .map_err(io_error)?;
    let mut hasher = Sha256::new();
    hasher.update(upload_id.as_bytes());
    while let Some(part) = parts.next().await {
        hasher.update(part.map_err(io_error)?);
    }
    Ok(hasher.finalize().into())
}
