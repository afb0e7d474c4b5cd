//! Opening a database file (private to its owner) and bringing its schema up to date.

use std::path::Path;

use rusqlite::{Connection, Transaction};

use crate::store::StoreError;

/// A migration's Rust step, for what SQL cannot compute.
type RustStep = fn(&Transaction<'_>) -> Result<(), StoreError>;

/// One schema step: SQL, then (optionally) a Rust step in the same transaction.
struct Migration {
    sql: &'static str,
    then: Option<RustStep>,
}

/// The migrations, in order; migration N brings `user_version` from N-1 to N.
const MIGRATIONS: &[Migration] = &[
    Migration {
        sql: include_str!("migrations/001_init.sql"),
        then: None,
    },
    Migration {
        sql: include_str!("migrations/002_sessions_revocations_names.sql"),
        then: Some(super::users::fill_name_keys),
    },
    Migration {
        sql: include_str!("migrations/003_files.sql"),
        then: None,
    },
    Migration {
        sql: include_str!("migrations/004_stickers.sql"),
        then: None,
    },
];

/// Opens a connection with Flint's pragmas: WAL, FULL sync (a commit the server acknowledged
/// survives a power loss; group commit pays one fsync per batch), foreign keys. A new file is
/// created readable by its owner only; SQLite gives the WAL and shared-memory files the same
/// mode.
pub(super) fn connect(path: &Path) -> Result<Connection, StoreError> {
    make_private(path)?;
    let conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    Ok(conn)
}

/// Creates `path` with mode 0600 if missing, and takes group and other access away from it
/// and its WAL files if they have any.
#[cfg(unix)]
fn make_private(path: &Path) -> Result<(), StoreError> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let io = |e: std::io::Error| StoreError::Task(format!("{}: {e}", path.display()));
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)
        .map_err(io)?;
    for suffix in ["", "-wal", "-shm"] {
        let file = std::path::PathBuf::from(format!("{}{suffix}", path.display()));
        if let Ok(meta) = std::fs::metadata(&file) {
            if meta.permissions().mode() & 0o077 != 0 {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
                    .map_err(io)?;
            }
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn make_private(_path: &Path) -> Result<(), StoreError> {
    Ok(())
}

/// Applies every migration newer than the file's version, each in its own transaction.
/// Refuses a file written by a newer binary.
pub(super) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let supported = MIGRATIONS.len() as i64;
    let found: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if found > supported {
        return Err(StoreError::SchemaTooNew { found, supported });
    }
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(migration.sql)?;
        if let Some(then) = migration.then {
            then(&tx)?;
        }
        tx.pragma_update(None, "user_version", index as i64 + 1)?;
        tx.commit()?;
        tracing::info!(version = index + 1, "applied migration");
    }
    Ok(())
}
