//! SQL for users and sessions.

use flint_proto::api::User;
use rusqlite::{params, Connection, OptionalExtension, Row};

use crate::store::{now_ms, Credentials, Session, StoreError, UserId};

fn user_from_row(row: &Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: row.get(0)?,
        username: row.get(1)?,
        display_name: row.get(2)?,
    })
}

pub(super) fn create_user(
    conn: &Connection,
    username: &str,
    display_name: &str,
    password_hash: &str,
) -> Result<User, StoreError> {
    let inserted = conn
        .prepare_cached(
            "INSERT INTO users (username, display_name, password_hash, created_at_ms)
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT (username) DO NOTHING",
        )?
        .execute(params![username, display_name, password_hash, now_ms()])?;
    if inserted == 0 {
        return Err(StoreError::Conflict("username is taken"));
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

pub(super) fn set_password(
    conn: &Connection,
    username: &str,
    password_hash: &str,
) -> Result<(), StoreError> {
    let user_id: UserId = conn
        .query_row(
            "UPDATE users SET password_hash = ?2 WHERE username = ?1 RETURNING id",
            params![username, password_hash],
            |row| row.get(0),
        )
        .optional()?
        .ok_or(StoreError::NotFound("user"))?;
    conn.execute("DELETE FROM sessions WHERE user_id = ?1", [user_id])?;
    Ok(())
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

pub(super) fn create_session(
    conn: &Connection,
    token_hash: &[u8],
    user_id: UserId,
    device_id: &str,
) -> Result<(), StoreError> {
    conn.execute(
        "DELETE FROM sessions WHERE user_id = ?1 AND device_id = ?2",
        params![user_id, device_id],
    )?;
    conn.execute(
        "INSERT INTO sessions (token_hash, user_id, device_id, created_at_ms)
         VALUES (?1, ?2, ?3, ?4)",
        params![token_hash, user_id, device_id, now_ms()],
    )?;
    Ok(())
}

pub(super) fn session(conn: &Connection, token_hash: &[u8]) -> Result<Option<Session>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT user_id, device_id FROM sessions WHERE token_hash = ?1")?
        .query_row([token_hash], |row| {
            Ok(Session {
                user_id: row.get(0)?,
                device_id: row.get(1)?,
            })
        })
        .optional()?)
}

pub(super) fn delete_session(conn: &Connection, token_hash: &[u8]) -> Result<(), StoreError> {
    conn.execute("DELETE FROM sessions WHERE token_hash = ?1", [token_hash])?;
    Ok(())
}
