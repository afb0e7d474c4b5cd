//! The file service's HTTP contract: resumable uploads following tus 1.0 (core protocol with
//! the creation, checksum, expiration and termination extensions) under [`UPLOADS_PATH`], and
//! downloads with `Range` under [`FILES_PATH`]. Flint's additions travel in `Flint-*` headers.
//!
//! An upload: `POST` [`UPLOADS_PATH`] with `Upload-Length` and `Upload-Metadata` (keys
//! [`META_NAME`], [`META_TYPE`], [`META_SHA256`]) → `201` with `Location`; then `PATCH`
//! chunks (`Content-Type: application/offset+octet-stream`, `Upload-Offset`, optionally
//! `Upload-Checksum: sha256 <base64>`); `HEAD` tells the offset to resume from. The `PATCH`
//! (or `HEAD`) that completes it answers [`FILE_ID`], the id messages refer to.
//!
//! Instant re-upload: when the creation's [`META_SHA256`] and length name content the server
//! holds, the `201` carries [`PROOF_RANGE`]; `POST {Location}/proof` with [`PROOF`] (the hex
//! SHA-256 of the upload's id — the last segment of `Location`, as UTF-8 — followed by those
//! bytes of the file) completes the upload without sending it. A hash alone never grants a
//! file: the id is fresh and chosen by the server, so the answer needs the bytes even when
//! the range is the whole (small) file. What the offer does tell is that someone on the server holds content
//! of that hash and length — the price of deduplication across users (a client that must not
//! learn it simply sends no hash); servers that cannot accept it can be changed to offer
//! proofs only for content the caller can already see.

/// Where uploads are created; an upload lives at `{UPLOADS_PATH}/{id}`.
pub const UPLOADS_PATH: &str = "/api/v1/uploads";
/// Where files are downloaded: `{FILES_PATH}/{file_id}`.
pub const FILES_PATH: &str = "/api/v1/files";
/// The tus protocol version spoken.
pub const TUS_VERSION: &str = "1.0.0";
/// The content type of a `PATCH` body.
pub const PATCH_CONTENT_TYPE: &str = "application/offset+octet-stream";
/// The HTTP status tus uses for a chunk whose checksum does not match.
pub const CHECKSUM_MISMATCH_STATUS: u16 = 460;

/// Answer header: the id of the stored file, once an upload is complete.
pub const FILE_ID: &str = "flint-file-id";
/// Header beside [`FILE_ID`]: the hex SHA-256 of the stored file's content, for a client
/// that learnt its file's hash only while sending (it declared none) to compare.
pub const FILE_SHA256: &str = "flint-file-sha256";
/// Answer header of a creation: `start-end` (inclusive byte offsets) to prove possession of.
pub const PROOF_RANGE: &str = "flint-proof-range";
/// Request header of a proof: hex SHA-256 of the upload's id followed by the bytes named by
/// [`PROOF_RANGE`].
pub const PROOF: &str = "flint-proof";

/// The caller's stickers (`GET`, `POST`; `DELETE …/{file_id}` removes one).
pub const STICKERS_PATH: &str = "/api/v1/stickers";
/// Most stickers a user keeps.
pub const MAX_STICKERS: usize = 300;
/// Largest picture kept as a sticker (every recipient downloads it on sight).
pub const MAX_STICKER_BYTES: u64 = 2 << 20;

/// `Upload-Metadata` key: the file's name (what people see; never a path on the server).
pub const META_NAME: &str = "filename";
/// `Upload-Metadata` key: the type the sender declares (the server decides from the content).
pub const META_TYPE: &str = "filetype";
/// `Upload-Metadata` key: hex SHA-256 of the whole file; checked when the upload completes.
pub const META_SHA256: &str = "sha256";

/// Whether `raw` has the form of a file or upload id: 32 lowercase hex digits (128 random
/// bits), so it can name nothing else, let alone a path.
pub fn is_object_id(raw: &str) -> bool {
    raw.len() == 32 && raw.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Longest file name, in bytes of UTF-8.
pub const MAX_NAME_BYTES: usize = 255;
/// Largest inline preview of an image or video in a message.
pub const MAX_PREVIEW_BYTES: usize = 8 * 1024;
/// Most bars of a voice clip's waveform.
pub const MAX_WAVEFORM_BARS: usize = 128;
/// Shortest voice message a client records and sends, in milliseconds.
pub const MIN_VOICE_MS: u32 = 1_000;
/// Longest voice message a client records, in milliseconds.
pub const MAX_VOICE_MS: u32 = 60_000;
/// Bytes of the range a client proves possession of (or the whole file when smaller).
pub const PROOF_BYTES: u64 = 64 * 1024;
