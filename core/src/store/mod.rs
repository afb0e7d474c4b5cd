//! The account's SQLite cache: one file per account (WAL), numbered migrations, SQL in one
//! module per table group. Every method runs on the blocking pool so async callers never
//! stall on disk.

pub(crate) mod conversations;
pub(crate) mod downloads;
pub(crate) mod kv;
pub(crate) mod media;
pub(crate) mod messages;
pub(crate) mod outbox;
pub(crate) mod uploads;

use std::path::Path;
use std::sync::{Arc, Mutex};

use rusqlite::Connection;

use crate::error::{Error, Result};

/// Milliseconds since the Unix epoch, as stored times are kept.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// The migrations, in order; migration N brings `user_version` from N-1 to N.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/001_init.sql"),
    include_str!("migrations/002_rollback_failures_backoff.sql"),
    include_str!("migrations/003_files.sql"),
    include_str!("migrations/004_pictures.sql"),
    include_str!("migrations/005_downloads.sql"),
];

/// A handle on the account database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
}

impl Store {
    /// Opens (creating and migrating) the database at `path`, in a folder and a file only
    /// their owner can read.
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent() {
            crate::files::private_dir(dir)?;
        }
        crate::files::private_file(path)?;
        let mut conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        // Deleted rows are overwritten, not left in free pages: a token moved out of an old
        // database (and a deleted message) does not linger in the file.
        conn.pragma_update(None, "secure_delete", "ON")?;
        migrate(&mut conn)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// Runs `work` with the connection on the blocking pool.
    pub async fn call<R, F>(&self, work: F) -> Result<R>
    where
        R: Send + 'static,
        F: FnOnce(&mut Connection) -> Result<R> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            let mut conn = conn.lock().map_err(|_| Error::Closed)?;
            work(&mut conn)
        })
        .await
        .map_err(|_| Error::Closed)?
    }
}

fn migrate(conn: &mut Connection) -> Result<()> {
    let supported = MIGRATIONS.len() as i64;
    let found: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if found > supported {
        return Err(Error::SchemaTooNew { found, supported });
    }
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index as i64 + 1)?;
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_a_newer_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.db");
        drop(Store::open(&path).unwrap());
        let conn = Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        drop(conn);
        assert!(matches!(
            Store::open(&path),
            Err(Error::SchemaTooNew { found: 99, .. })
        ));
    }

    #[test]
    fn reopening_keeps_data() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.db");
        {
            let store = Store::open(&path).unwrap();
            let conn = store.conn.lock().unwrap();
            kv::set(&conn, "k", "v").unwrap();
        }
        let store = Store::open(&path).unwrap();
        let conn = store.conn.lock().unwrap();
        assert_eq!(kv::get(&conn, "k").unwrap().as_deref(), Some("v"));
    }
}
