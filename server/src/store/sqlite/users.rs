//! SQL for users, sessions and the revocations the gateway applies to open sockets.

use flint_proto::api::{Device, User};
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};

use crate::store::{now_ms, Credentials, NewSession, Session, StoreError, UserId};
use crate::validate::username_key;

/// Revocations are kept this long: the gateway reads them within a second.
const KEEP_REVOCATIONS_MS: i64 = 24 * 3600 * 1000;

fn user_from_row(row: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: row.get(0)?,
        username: row.get(1)?,
        display_name: row.get(2)?,
    })
}

/// Migration step: computes the look-alike key of every user, then makes keys unique. Names
/// registered before keys existed that collide keep working: the later one's key gets its id.
pub(super) fn fill_name_keys(tx: &Transaction<'_>) -> Result<(), StoreError> {
    let users: Vec<(UserId, String)> = tx
        .prepare("SELECT id, username FROM users ORDER BY id")?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut seen = std::collections::HashSet::new();
    let mut update = tx.prepare("UPDATE users SET name_key = ?2 WHERE id = ?1")?;
    for (id, name) in users {
        let mut key = username_key(&name);
        if !seen.insert(key.clone()) {
            key = format!("{key}#{id}");
        }
        update.execute(params![id, key])?;
    }
    tx.execute_batch("CREATE UNIQUE INDEX users_by_name_key ON users(name_key)")?;
    Ok(())
}

pub(super) fn create_user(
    conn: &Connection,
    username: &str,
    display_name: &str,
    password_hash: &str,
) -> Result<User, StoreError> {
    let inserted = conn
        .prepare_cached(
            "INSERT INTO users (username, name_key, display_name, password_hash, created_at_ms)
             VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT DO NOTHING",
        )?
        .execute(params![
            username,
            username_key(username),
            display_name,
            password_hash,
            now_ms()
        ])?;
    if inserted == 0 {
        return Err(StoreError::Conflict(
            "username is taken (or looks like one that is)",
        ));
    }
    Ok(User {
        id: conn.last_insert_rowid(),
        username: username.to_owned(),
        display_name: display_name.to_owned(),
    })
}

pub(super) fn credentials(
    conn: &Connection,
    username: &str,
) -> Result<Option<Credentials>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT id, username, display_name, password_hash FROM users WHERE username = ?1",
        )?
        .query_row([username], |row| {
            Ok(Credentials {
                user: user_from_row(row)?,
                password_hash: row.get(3)?,
            })
        })
        .optional()?)
}

fn user_id_by_name(conn: &Connection, username: &str) -> Result<UserId, StoreError> {
    conn.prepare_cached("SELECT id FROM users WHERE username = ?1")?
        .query_row([username], |row| row.get(0))
        .optional()?
        .ok_or(StoreError::NotFound("user"))
}

pub(super) fn set_password(
    conn: &Connection,
    username: &str,
    password_hash: &str,
) -> Result<(), StoreError> {
    let user_id = user_id_by_name(conn, username)?;
    conn.execute(
        "UPDATE users SET password_hash = ?2 WHERE id = ?1",
        params![user_id, password_hash],
    )?;
    revoke(conn, "user_id = ?1", params![user_id])?;
    Ok(())
}

/// Ends every session of a user; returns how many there were.
pub(super) fn revoke_user_sessions(conn: &Connection, username: &str) -> Result<usize, StoreError> {
    let user_id = user_id_by_name(conn, username)?;
    revoke(conn, "user_id = ?1", params![user_id])
}

pub(super) fn list_users(conn: &Connection) -> Result<Vec<User>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT id, username, display_name FROM users ORDER BY id")?;
    let users = stmt
        .query_map([], user_from_row)?
        .collect::<Result<_, _>>()?;
    Ok(users)
}

/// `instr` on lower-cased text matches CJK substrings as well as Latin ones.
pub(super) fn search_users(
    conn: &Connection,
    query: &str,
    limit: u32,
) -> Result<Vec<User>, StoreError> {
    let needle = query.trim().to_lowercase();
    let mut stmt = conn.prepare_cached(
        "SELECT id, username, display_name FROM users
         WHERE instr(lower(username), ?1) > 0 OR instr(lower(display_name), ?1) > 0
         ORDER BY length(username), id LIMIT ?2",
    )?;
    let users = stmt
        .query_map(params![needle, limit], user_from_row)?
        .collect::<Result<_, _>>()?;
    Ok(users)
}

pub(super) fn user(conn: &Connection, user_id: UserId) -> Result<Option<User>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT id, username, display_name FROM users WHERE id = ?1")?
        .query_row([user_id], user_from_row)
        .optional()?)
}

/// Deletes the sessions matching `condition` and records each as revoked, so the gateway
/// closes their sockets. Returns how many ended.
fn revoke(
    conn: &Connection,
    condition: &str,
    params: impl rusqlite::Params,
) -> Result<usize, StoreError> {
    let sql = format!("DELETE FROM sessions WHERE {condition} RETURNING token_hash");
    let ended: Vec<Vec<u8>> = conn
        .prepare_cached(&sql)?
        .query_map(params, |row| row.get(0))?
        .collect::<Result<_, _>>()?;
    let mut record =
        conn.prepare_cached("INSERT INTO revocations (token_hash, at_ms) VALUES (?1, ?2)")?;
    let now = now_ms();
    for hash in &ended {
        record.execute(params![hash, now])?;
    }
    Ok(ended.len())
}

/// Stores a session, ending the device's previous one and, past `max_per_user`, the least
/// recently used sessions of the user.
pub(super) fn create_session(
    conn: &Connection,
    new: &NewSession,
    max_per_user: u32,
) -> Result<(), StoreError> {
    revoke(
        conn,
        "user_id = ?1 AND device_id = ?2",
        params![new.user_id, new.device_id],
    )?;
    revoke(
        conn,
        "token_hash IN (SELECT token_hash FROM sessions WHERE user_id = ?1
                        ORDER BY last_seen_at_ms DESC, created_at_ms DESC LIMIT -1 OFFSET ?2)",
        params![new.user_id, max_per_user.saturating_sub(1)],
    )?;
    let now = now_ms();
    conn.prepare_cached(
        "INSERT INTO sessions (token_hash, user_id, device_id, device_name, created_at_ms,
                               last_seen_at_ms)
         VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
    )?
    .execute(params![
        new.token_hash,
        new.user_id,
        new.device_id,
        new.device_name,
        now
    ])?;
    Ok(())
}

/// The session with this token hash, unless unused since before `idle_since_ms`.
pub(super) fn session(
    conn: &Connection,
    token_hash: &[u8],
    idle_since_ms: i64,
) -> Result<Option<Session>, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT user_id, device_id FROM sessions
             WHERE token_hash = ?1 AND last_seen_at_ms >= ?2",
        )?
        .query_row(params![token_hash, idle_since_ms], |row| {
            Ok(Session {
                user_id: row.get(0)?,
                device_id: row.get(1)?,
            })
        })
        .optional()?)
}

/// Notes that a session is in use now.
pub(super) fn touch_session(conn: &Connection, token_hash: &[u8]) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE sessions SET last_seen_at_ms = ?2 WHERE token_hash = ?1")?
        .execute(params![token_hash, now_ms()])?;
    Ok(())
}

/// Ends one session (sign-out).
pub(super) fn end_session(conn: &Connection, token_hash: &[u8]) -> Result<(), StoreError> {
    revoke(conn, "token_hash = ?1", [token_hash])?;
    Ok(())
}

/// Ends a device's session of `user_id`; false if it had none.
pub(super) fn end_device(
    conn: &Connection,
    user_id: UserId,
    device_id: &str,
) -> Result<bool, StoreError> {
    Ok(revoke(
        conn,
        "user_id = ?1 AND device_id = ?2",
        params![user_id, device_id],
    )? > 0)
}

/// The signed-in devices of a user, most recently used first (`current` is left false).
pub(super) fn devices(conn: &Connection, user_id: UserId) -> Result<Vec<Device>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT device_id, device_name, created_at_ms, last_seen_at_ms FROM sessions
         WHERE user_id = ?1 ORDER BY last_seen_at_ms DESC, device_id",
    )?;
    let devices = stmt
        .query_map([user_id], |row| {
            Ok(Device {
                device_id: row.get(0)?,
                device_name: row.get(1)?,
                created_at_ms: row.get(2)?,
                last_seen_ms: row.get(3)?,
                current: false,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(devices)
}

/// Revocations recorded after `after_id`, oldest first: (id, token hash).
pub(super) fn revocations_after(
    conn: &Connection,
    after_id: i64,
) -> Result<Vec<(i64, Vec<u8>)>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, token_hash FROM revocations WHERE id > ?1 ORDER BY id LIMIT 10000",
    )?;
    let rows = stmt
        .query_map([after_id], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Ends sessions unused since before `idle_since_ms` and forgets old revocations; returns
/// how many sessions ended.
pub(super) fn expire_sessions(conn: &Connection, idle_since_ms: i64) -> Result<usize, StoreError> {
    let ended = revoke(conn, "last_seen_at_ms < ?1", [idle_since_ms])?;
    conn.prepare_cached("DELETE FROM revocations WHERE at_ms < ?1")?
        .execute([now_ms() - KEEP_REVOCATIONS_MS])?;
    Ok(ended)
}
