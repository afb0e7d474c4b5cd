//! Ended sessions close their sockets: a task reads the store's revocation log (written in the
//! same transaction that ends a session, whether by sign-out, a password reset, a revocation
//! from another device or `flint-server admin` in another process) and tells the hub; it also
//! ends sessions left unused for longer than the configured idle time.

use std::time::{Duration, Instant};

use crate::state::AppState;
use crate::store::now_ms;

/// How often the revocation log is read: sockets of an ended session close within a second.
const POLL: Duration = Duration::from_millis(250);
/// How often idle sessions are ended.
const EXPIRE_EVERY: Duration = Duration::from_secs(600);

/// Runs until the server shuts down.
pub async fn watch(state: AppState) {
    let mut cursor = 0i64;
    let mut ticker = tokio::time::interval(POLL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut expired_at: Option<Instant> = None;
    loop {
        tokio::select! {
            _ = state.shutdown.cancelled() => return,
            _ = ticker.tick() => {}
        }
        if expired_at.is_none_or(|at| at.elapsed() >= EXPIRE_EVERY) {
            expired_at = Some(Instant::now());
            expire_idle(&state).await;
        }
        match state.store.revocations_after(cursor).await {
            Ok(revoked) => {
                for (id, token_hash) in revoked {
                    state.hub.end_session(&token_hash);
                    cursor = id;
                }
            }
            Err(error) => tracing::warn!(%error, "cannot read the revocation log"),
        }
    }
}

async fn expire_idle(state: &AppState) {
    match state.store.expire_sessions(idle_since_ms(state)).await {
        Ok(0) => {}
        Ok(ended) => tracing::info!(ended, "ended idle sessions"),
        Err(error) => tracing::warn!(%error, "cannot end idle sessions"),
    }
}

/// Sessions last used before this (ms since the epoch) have ended.
pub fn idle_since_ms(state: &AppState) -> i64 {
    let idle = state.config.sessions.idle_timeout();
    now_ms() - i64::try_from(idle.as_millis()).unwrap_or(i64::MAX)
}
