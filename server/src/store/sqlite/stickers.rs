//! SQL for the pictures each user keeps as stickers.

use flint_proto::api::Sticker;
use flint_proto::files::{MAX_STICKERS, MAX_STICKER_BYTES};
use rusqlite::{params, Connection};

use super::files;
use crate::store::{now_ms, StoreError, UserId};

/// The user's stickers, newest first.
pub(super) fn list(conn: &Connection, user_id: UserId) -> Result<Vec<Sticker>, StoreError> {
    let stickers = conn
        .prepare_cached(
            "SELECT s.file_id, b.size, b.mime, b.width, b.height
             FROM stickers s JOIN files f ON f.id = s.file_id JOIN blobs b ON b.sha256 = f.sha256
             WHERE s.user_id = ?1 ORDER BY s.added_at_ms DESC, s.file_id",
        )?
        .query_map([user_id], |row| {
            Ok(Sticker {
                file_id: row.get(0)?,
                size: row.get::<_, i64>(1)? as u64,
                mime: row.get(2)?,
                width: row.get(3)?,
                height: row.get(4)?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(stickers)
}

/// Keeps a picture the user may download as a sticker, or moves it to the front.
pub(super) fn add(
    conn: &Connection,
    user_id: UserId,
    file_id: &str,
) -> Result<Sticker, StoreError> {
    let found = files::file(conn, user_id, file_id)?.ok_or(StoreError::NotFound("file"))?;
    let blob = found.blob;
    if !blob.mime.starts_with("image/") {
        return Err(StoreError::Invalid(format!(
            "only a picture can be a sticker; this file is {}",
            blob.mime
        )));
    }
    if blob.size > MAX_STICKER_BYTES {
        return Err(StoreError::Invalid(format!(
            "a sticker is at most {MAX_STICKER_BYTES} bytes; this picture has {}",
            blob.size
        )));
    }
    let (kept, others): (bool, i64) = conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM stickers WHERE user_id = ?1 AND file_id = ?2),
                    (SELECT COUNT(*) FROM stickers WHERE user_id = ?1 AND file_id != ?2)",
        )?
        .query_row(params![user_id, file_id], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })?;
    if !kept && others >= MAX_STICKERS as i64 {
        return Err(StoreError::Invalid(format!(
            "you keep {MAX_STICKERS} stickers already; remove one first"
        )));
    }
    conn.prepare_cached(
        "INSERT INTO stickers (user_id, file_id, added_at_ms) VALUES (?1, ?2, ?3)
         ON CONFLICT (user_id, file_id) DO UPDATE SET added_at_ms = excluded.added_at_ms",
    )?
    .execute(params![user_id, file_id, now_ms()])?;
    Ok(Sticker {
        file_id: found.id,
        size: blob.size,
        width: blob.width,
        height: blob.height,
        mime: blob.mime,
    })
}

/// Removes one of the user's stickers; false when there was none.
pub(super) fn remove(
    conn: &Connection,
    user_id: UserId,
    file_id: &str,
) -> Result<bool, StoreError> {
    let removed = conn
        .prepare_cached("DELETE FROM stickers WHERE user_id = ?1 AND file_id = ?2")?
        .execute(params![user_id, file_id])?;
    Ok(removed > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::schema;

    /// A migrated database with user 1 and, as their own uploads, pictures `p0`…`p300`, a
    /// picture `big` over the limit and a PDF `doc`.
    fn database() -> (tempfile::TempDir, Connection) {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = schema::connect(&dir.path().join("flint.db")).unwrap();
        schema::migrate(&mut conn).unwrap();
        conn.execute_batch(&format!(
            "INSERT INTO users (id, username, display_name, password_hash, created_at_ms)
                 VALUES (1, 'ann', 'Ann', 'x', 0);
             INSERT INTO blobs VALUES (x'01', 100, 'image/png', 10, 10),
                 (x'02', {}, 'image/png', 4000, 4000), (x'03', 100, 'application/pdf', 0, 0);
             INSERT INTO files VALUES ('big', 1, x'02', 'big.png', 0), ('doc', 1, x'03', 'a.pdf', 0);",
            MAX_STICKER_BYTES + 1
        ))
        .unwrap();
        for n in 0..=MAX_STICKERS {
            conn.execute(
                "INSERT INTO files VALUES (?1, 1, x'01', 'p.png', 0)",
                [format!("p{n}")],
            )
            .unwrap();
        }
        (dir, conn)
    }

    #[test]
    fn only_pictures_within_the_limits_are_kept_and_kept_again_moves_first() {
        let (_dir, conn) = database();
        for refused in ["big", "doc"] {
            let error = add(&conn, 1, refused).unwrap_err();
            assert!(
                matches!(error, StoreError::Invalid(_)),
                "{refused}: {error}"
            );
        }
        assert!(matches!(add(&conn, 2, "p0"), Err(StoreError::NotFound(_))));
        for n in 0..MAX_STICKERS {
            add(&conn, 1, &format!("p{n}")).unwrap();
        }
        let full = add(&conn, 1, &format!("p{MAX_STICKERS}")).unwrap_err();
        assert!(matches!(full, StoreError::Invalid(_)), "{full}");
        // Keeping one again is no new sticker: allowed when full, and it comes first.
        std::thread::sleep(std::time::Duration::from_millis(2));
        add(&conn, 1, "p0").unwrap();
        let kept = list(&conn, 1).unwrap();
        assert_eq!(kept.len(), MAX_STICKERS);
        assert_eq!(kept[0].file_id, "p0");
        assert!(remove(&conn, 1, "p0").unwrap());
        assert!(!remove(&conn, 1, "p0").unwrap());
    }
}
