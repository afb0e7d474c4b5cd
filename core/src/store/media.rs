//! SQL for the media folder: where own files came from, and what the cache holds.

use rusqlite::{params, Connection, OptionalExtension};

use crate::error::Result;

/// Remembers where an own message's file came from.
pub fn set_source(conn: &Connection, local_id: i64, path: &str) -> Result<()> {
    conn.prepare_cached("INSERT OR REPLACE INTO sources (local_id, path) VALUES (?1, ?2)")?
        .execute(params![local_id, path])?;
    Ok(())
}

/// Where an own message's file came from, if recorded.
pub fn source(conn: &Connection, local_id: i64) -> Result<Option<String>> {
    Ok(conn
        .prepare_cached("SELECT path FROM sources WHERE local_id = ?1")?
        .query_row([local_id], |row| row.get(0))
        .optional()?)
}

/// Records (or refreshes) a cached file.
pub fn used(conn: &Connection, path: &str, bytes: u64, now_ms: i64) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO media_cache (path, bytes, used_at_ms) VALUES (?1, ?2, ?3)
         ON CONFLICT (path) DO UPDATE SET bytes = ?2, used_at_ms = ?3",
    )?
    .execute(params![
        path,
        i64::try_from(bytes).unwrap_or(i64::MAX),
        now_ms
    ])?;
    Ok(())
}

/// Takes the least recently used files out of the record until the rest fit in `cap` bytes
/// (the most recent one always stays); returns their paths for deletion.
pub fn evict(conn: &Connection, cap: u64) -> Result<Vec<String>> {
    let total: i64 = conn
        .prepare_cached("SELECT COALESCE(SUM(bytes), 0) FROM media_cache")?
        .query_row([], |row| row.get(0))?;
    let mut over = (total.max(0) as u64).saturating_sub(cap);
    let mut evicted = Vec::new();
    if over == 0 {
        return Ok(evicted);
    }
    let oldest: Vec<(String, i64)> = conn
        .prepare_cached("SELECT path, bytes FROM media_cache ORDER BY used_at_ms")?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let keep_last = oldest.len().saturating_sub(1);
    for (path, bytes) in oldest.into_iter().take(keep_last) {
        if over == 0 {
            break;
        }
        over = over.saturating_sub(bytes.max(0) as u64);
        conn.prepare_cached("DELETE FROM media_cache WHERE path = ?1")?
            .execute([&path])?;
        evicted.push(path);
    }
    Ok(evicted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_least_recently_used_go_first_until_the_rest_fit() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE media_cache (path TEXT PRIMARY KEY, bytes INTEGER, used_at_ms INTEGER)",
        )
        .unwrap();
        used(&conn, "a", 40, 1).unwrap();
        used(&conn, "b", 40, 2).unwrap();
        used(&conn, "c", 40, 3).unwrap();
        used(&conn, "a", 40, 4).unwrap(); // a is used again: b is now the oldest
        assert_eq!(evict(&conn, 100).unwrap(), vec!["b".to_owned()]);
        assert!(evict(&conn, 100).unwrap().is_empty());
        assert_eq!(
            evict(&conn, 0).unwrap(),
            vec!["c".to_owned()],
            "the newest stays"
        );
    }
}
