//! SQL for blobs, files, the conversations files were sent to, and uploads.

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::writer::WriteContext;
use crate::store::{
    now_ms, BlobInfo, Collected, ConversationId, FileRecord, FileRef, NewUpload, ProofRange,
    StoreError, Upload, UserId,
};

/// SQLite's integer for a byte count (counts past `i64::MAX` do not occur: limits are far
/// below).
fn int(bytes: u64) -> i64 {
    i64::try_from(bytes).unwrap_or(i64::MAX)
}

fn upload_from_row(row: &Row<'_>) -> rusqlite::Result<Upload> {
    let (start, len): (i64, i64) = (row.get(4)?, row.get(5)?);
    Ok(Upload {
        id: row.get(0)?,
        length: row.get::<_, i64>(1)? as u64,
        name: row.get(2)?,
        sha256_hex: row.get(3)?,
        proof: (len > 0).then_some(ProofRange {
            start: start as u64,
            len: len as u64,
        }),
        file_id: row.get(6)?,
    })
}

const UPLOAD_COLUMNS: &str = "id, length, name, sha256_hex, proof_start, proof_len, file_id";

/// Bytes the owner's files and unfinished uploads take.
fn used_bytes(conn: &Connection, owner_id: UserId) -> Result<u64, StoreError> {
    let used: i64 = conn
        .prepare_cached(
            "SELECT COALESCE((SELECT SUM(b.size) FROM files f JOIN blobs b ON b.sha256 = f.sha256
                              WHERE f.owner_id = ?1), 0)
                  + COALESCE((SELECT SUM(length) FROM uploads
                              WHERE owner_id = ?1 AND file_id IS NULL), 0)",
        )?
        .query_row([owner_id], |row| row.get(0))?;
    Ok(used.max(0) as u64)
}

/// Creates an upload within the owner's quota.
pub(super) fn create_upload(
    conn: &Connection,
    new: &NewUpload,
    quota: u64,
    max_pending: u32,
) -> Result<Upload, StoreError> {
    let pending: i64 = conn
        .prepare_cached(
            "SELECT COUNT(*) FROM uploads
             WHERE owner_id = ?1 AND file_id IS NULL AND expires_at_ms > ?2",
        )?
        .query_row(params![new.owner_id, now_ms()], |row| row.get(0))?;
    if pending >= i64::from(max_pending) {
        return Err(StoreError::Invalid(format!(
            "you have {pending} unfinished uploads; finish or cancel some first"
        )));
    }
    let available = quota.saturating_sub(used_bytes(conn, new.owner_id)?);
    if new.length > available {
        return Err(StoreError::QuotaExceeded {
            needed: new.length,
            available,
            quota,
        });
    }
    let (start, len) = new.proof.map_or((0, 0), |p| (p.start, p.len));
    conn.prepare_cached(
        "INSERT INTO uploads (id, owner_id, length, name, sha256_hex, proof_start, proof_len,
                              expires_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        new.id,
        new.owner_id,
        int(new.length),
        new.name,
        new.sha256_hex,
        int(start),
        int(len),
        new.expires_at_ms
    ])?;
    Ok(Upload {
        id: new.id.clone(),
        length: new.length,
        name: new.name.clone(),
        sha256_hex: new.sha256_hex.clone(),
        proof: new.proof,
        file_id: None,
    })
}

/// One of the owner's uploads, unless it expired.
pub(super) fn upload(
    conn: &Connection,
    owner_id: UserId,
    upload_id: &str,
) -> Result<Option<Upload>, StoreError> {
    let sql = format!(
        "SELECT {UPLOAD_COLUMNS} FROM uploads
         WHERE id = ?1 AND owner_id = ?2 AND expires_at_ms > ?3"
    );
    Ok(conn
        .prepare_cached(&sql)?
        .query_row(params![upload_id, owner_id, now_ms()], upload_from_row)
        .optional()?)
}

fn blob_from_row(row: &Row<'_>, at: usize) -> rusqlite::Result<BlobInfo> {
    Ok(BlobInfo {
        sha256: row.get(at)?,
        size: row.get::<_, i64>(at + 1)? as u64,
        mime: row.get(at + 2)?,
        width: row.get(at + 3)?,
        height: row.get(at + 4)?,
    })
}

/// The blob holding this content.
pub(super) fn blob(conn: &Connection, sha256: &[u8]) -> Result<Option<BlobInfo>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT sha256, size, mime, width, height FROM blobs WHERE sha256 = ?1")?
        .query_row([sha256], |row| blob_from_row(row, 0))
        .optional()?)
}

/// Records the file an upload became (and its blob, if new).
pub(super) fn finish_upload(
    conn: &Connection,
    owner_id: UserId,
    upload_id: &str,
    file_id: &str,
    blob: BlobInfo,
) -> Result<FileRecord, StoreError> {
    let upload = upload(conn, owner_id, upload_id)?.ok_or(StoreError::NotFound("upload"))?;
    if let Some(existing) = upload.file_id {
        return file(conn, owner_id, &existing)?.ok_or(StoreError::NotFound("upload"));
    }
    conn.prepare_cached(
        "INSERT OR IGNORE INTO blobs (sha256, size, mime, width, height)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        blob.sha256,
        int(blob.size),
        blob.mime,
        blob.width,
        blob.height
    ])?;
    conn.prepare_cached(
        "INSERT INTO files (id, owner_id, sha256, name, created_at_ms) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        file_id,
        owner_id,
        blob.sha256,
        upload.name,
        now_ms()
    ])?;
    conn.prepare_cached(
        "UPDATE uploads SET file_id = ?1, proof_len = 0 WHERE id = ?2 AND owner_id = ?3",
    )?
    .execute(params![file_id, upload_id, owner_id])?;
    file(conn, owner_id, file_id)?.ok_or(StoreError::NotFound("file"))
}

/// Withdraws a proof offer.
pub(super) fn drop_proof(
    conn: &Connection,
    owner_id: UserId,
    upload_id: &str,
) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE uploads SET proof_len = 0 WHERE id = ?1 AND owner_id = ?2")?
        .execute(params![upload_id, owner_id])?;
    Ok(())
}

/// Deletes one of the owner's uploads.
pub(super) fn delete_upload(
    conn: &Connection,
    owner_id: UserId,
    upload_id: &str,
) -> Result<bool, StoreError> {
    let deleted = conn
        .prepare_cached("DELETE FROM uploads WHERE id = ?1 AND owner_id = ?2")?
        .execute(params![upload_id, owner_id])?;
    Ok(deleted > 0)
}

/// A file `user_id` may download: their own, sent to a conversation they belong to, or kept
/// as one of their stickers.
pub(super) fn file(
    conn: &Connection,
    user_id: UserId,
    file_id: &str,
) -> Result<Option<FileRecord>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT f.id, f.owner_id, f.name, b.sha256, b.size, b.mime, b.width, b.height
             FROM files f JOIN blobs b ON b.sha256 = f.sha256
             WHERE f.id = ?1 AND (f.owner_id = ?2 OR EXISTS (
                 SELECT 1 FROM file_refs r JOIN members m ON m.conversation_id = r.conversation_id
                 WHERE r.file_id = f.id AND m.user_id = ?2) OR EXISTS (
                 SELECT 1 FROM stickers s WHERE s.file_id = f.id AND s.user_id = ?2))",
        )?
        .query_row(params![file_id, user_id], |row| {
            Ok(FileRecord {
                id: row.get(0)?,
                owner_id: row.get(1)?,
                name: row.get(2)?,
                blob: blob_from_row(row, 3)?,
            })
        })
        .optional()?)
}

/// Checks that the sender may send each file (and that sizes agree), then makes each
/// downloadable by the conversation's members. Called inside the message's transaction.
pub(super) fn attach(
    ctx: &mut WriteContext<'_>,
    sender_id: UserId,
    conversation_id: ConversationId,
    files: &[FileRef],
) -> Result<(), StoreError> {
    for reference in files {
        let found =
            file(ctx.conn, sender_id, &reference.file_id)?.ok_or(StoreError::NotFound("file"))?;
        if let Some(family) = reference.family {
            let of_family = found.blob.mime.split('/').next() == Some(family);
            if !of_family {
                return Err(StoreError::Invalid(format!(
                    "the message shows the file as {family}, but it is {}",
                    found.blob.mime
                )));
            }
        }
        if reference.size.is_some_and(|size| size != found.blob.size) {
            return Err(StoreError::Invalid(format!(
                "the message says the file has {} bytes; it has {}",
                reference.size.unwrap_or_default(),
                found.blob.size
            )));
        }
        ctx.conn
            .prepare_cached(
                "INSERT OR IGNORE INTO file_refs (file_id, conversation_id) VALUES (?1, ?2)",
            )?
            .execute(params![reference.file_id, conversation_id])?;
    }
    Ok(())
}

/// Deletes what expired: uploads past their time, files never sent that are older than
/// `unsent_before_ms`, and blobs no file refers to.
pub(super) fn collect(
    conn: &Connection,
    now_ms: i64,
    unsent_before_ms: i64,
) -> Result<Collected, StoreError> {
    let uploads = conn
        .prepare_cached("DELETE FROM uploads WHERE expires_at_ms <= ?1 RETURNING id")?
        .query_map([now_ms], |row| row.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    let files = conn
        .prepare_cached(
            "DELETE FROM files WHERE created_at_ms < ?1
             AND NOT EXISTS (SELECT 1 FROM file_refs r WHERE r.file_id = files.id)
             AND NOT EXISTS (SELECT 1 FROM stickers s WHERE s.file_id = files.id)",
        )?
        .execute([unsent_before_ms])?;
    let blobs = conn
        .prepare_cached(
            "DELETE FROM blobs WHERE NOT EXISTS
             (SELECT 1 FROM files f WHERE f.sha256 = blobs.sha256) RETURNING sha256",
        )?
        .query_map([], |row| row.get(0))?
        .collect::<Result<Vec<Vec<u8>>, _>>()?;
    Ok(Collected {
        uploads,
        files,
        blobs,
    })
}
