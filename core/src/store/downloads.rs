//! SQL for downloads: files of messages this device is fetching, kept so that one cut off by
//! a restart or a lost connection carries on by itself.

use rusqlite::{params, Connection, OptionalExtension};

use crate::error::Result;

/// Records that the file of message `local_id` is wanted (asked again: due now).
pub fn want(conn: &Connection, local_id: i64) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO downloads (local_id) VALUES (?1)
         ON CONFLICT (local_id) DO UPDATE SET not_before_ms = 0",
    )?
    .execute([local_id])?;
    Ok(())
}

/// Messages whose download's time has come, oldest first.
pub fn due(conn: &Connection, now_ms: i64) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT local_id FROM downloads WHERE not_before_ms <= ?1 ORDER BY local_id",
    )?;
    let rows = stmt.query_map([now_ms], |row| row.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The earliest time after `now_ms` a download waits for, if any waits.
pub fn next_due(conn: &Connection, now_ms: i64) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT MIN(not_before_ms) FROM downloads WHERE not_before_ms > ?1")?
        .query_row([now_ms], |row| row.get(0))
        .optional()?
        .flatten())
}

/// Counts one more failed attempt; returns the count (0 when the download is not recorded).
pub fn failed(conn: &Connection, local_id: i64) -> Result<u32> {
    Ok(conn
        .prepare_cached(
            "UPDATE downloads SET attempts = attempts + 1 WHERE local_id = ?1 RETURNING attempts",
        )?
        .query_row([local_id], |row| row.get(0))
        .optional()?
        .unwrap_or(0))
}

/// Tries again at `not_before_ms`.
pub fn postpone(conn: &Connection, local_id: i64, not_before_ms: i64) -> Result<()> {
    conn.prepare_cached("UPDATE downloads SET not_before_ms = ?2 WHERE local_id = ?1")?
        .execute(params![local_id, not_before_ms])?;
    Ok(())
}

/// Every waiting download is due now (the server is back).
pub fn rearm(conn: &Connection) -> Result<()> {
    conn.prepare_cached("UPDATE downloads SET attempts = 0, not_before_ms = 0")?
        .execute([])?;
    Ok(())
}

/// Whether the download of message `local_id` is recorded (not done, cancelled or refused).
pub fn is_recorded(conn: &Connection, local_id: i64) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM downloads WHERE local_id = ?1)")?
        .query_row([local_id], |row| row.get(0))?)
}

/// The download is done, cancelled or refused; whether it was recorded.
pub fn remove(conn: &Connection, local_id: i64) -> Result<bool> {
    Ok(conn
        .prepare_cached("DELETE FROM downloads WHERE local_id = ?1")?
        .execute([local_id])?
        > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            include_str!("migrations/005_downloads.sql")
                .replace("REFERENCES messages(local_id) ON DELETE CASCADE", "")
                .as_str(),
        )
        .unwrap();
        conn
    }

    #[test]
    fn a_download_waits_out_its_backoff_and_is_due_again_when_asked_or_rearmed() {
        let conn = table();
        want(&conn, 7).unwrap();
        want(&conn, 3).unwrap();
        assert_eq!(due(&conn, 0).unwrap(), vec![3, 7], "oldest first");
        assert_eq!(failed(&conn, 7).unwrap(), 1);
        assert_eq!(failed(&conn, 7).unwrap(), 2);
        postpone(&conn, 7, 5_000).unwrap();
        assert_eq!(due(&conn, 4_999).unwrap(), vec![3]);
        assert_eq!(
            next_due(&conn, 10).unwrap(),
            Some(5_000),
            "one due now does not count"
        );
        assert!(remove(&conn, 3).unwrap());
        assert_eq!(next_due(&conn, 10).unwrap(), Some(5_000));
        assert_eq!(next_due(&conn, 5_000).unwrap(), None);
        assert_eq!(due(&conn, 5_000).unwrap(), vec![7]);
        want(&conn, 7).unwrap();
        assert_eq!(due(&conn, 0).unwrap(), vec![7], "asked again: due now");
        postpone(&conn, 7, 9_000).unwrap();
        rearm(&conn).unwrap();
        assert_eq!(due(&conn, 0).unwrap(), vec![7], "the server is back");
        assert_eq!(failed(&conn, 7).unwrap(), 1, "attempts start over");
        assert!(remove(&conn, 7).unwrap());
        assert!(!remove(&conn, 7).unwrap(), "gone already");
        assert_eq!(next_due(&conn, 0).unwrap(), None);
        assert_eq!(failed(&conn, 7).unwrap(), 0, "not recorded");
    }
}
