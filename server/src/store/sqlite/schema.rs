//! Opening a database file and bringing its schema up to date.

use std::path::Path;

use rusqlite::Connection;

use crate::store::StoreError;

/// The migrations, in order; migration N brings `user_version` from N-1 to N.
const MIGRATIONS: &[&str] = &[include_str!("migrations/001_init.sql")];

/// Opens a connection with Flint's pragmas (WAL, NORMAL sync, foreign keys).
pub(super) fn connect(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "NORMAL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(conn)
}

/// Applies every migration newer than the file's version, each in its own transaction.
/// Refuses a file written by a newer binary.
pub(super) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let supported = MIGRATIONS.len() as i64;
    let found: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if found > supported {
        return Err(StoreError::SchemaTooNew { found, supported });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index as i64 + 1)?;
        tx.commit()?;
        tracing::info!(version = index + 1, "applied migration");
    }
    Ok(())
}
