//! Accounts and sessions: creating an account (REST and `admin create-user`), signing in with
//! the brakes on guessing, and changing passwords.

use std::net::IpAddr;
use std::time::Instant;

use flint_proto::api::{LoginRequest, LoginResponse, RegisterRequest, User};
use flint_proto::Secret;
use sha2::{Digest, Sha256};

use crate::credentials::{new_token, token_hash};
use crate::error::AppError;
use crate::state::AppState;
use crate::store::NewSession;
use crate::throttle::address_key;
use crate::validate;

/// Validates and stores a new account. `from` is the client's address for the sign-up brake
/// (`None` for the admin CLI, which is never braked).
pub async fn create(
    state: &AppState,
    request: &RegisterRequest,
    from: Option<IpAddr>,
) -> Result<User, AppError> {
    let username = validate::username(&request.username)?;
    validate::password(request.password.expose())?;
    let display_name = validate::display_name(&request.display_name, &username)?;
    if let Some(ip) = from {
        state
            .guards
            .registrations
            .try_take(&address_key(ip), Instant::now())
            .map_err(AppError::rate_limited)?;
    }
    let hash = state.hasher.hash(request.password.clone()).await?;
    Ok(state
        .store
        .create_user(&username, &display_name, &hash)
        .await?)
}

/// Longest username (in characters, after normalisation) worth looking up: no account has a
/// longer one, so a longer one is a wrong name without a look-up or a key of its own.
const MAX_LOOKUP_CHARS: usize = 64;

/// The per-account brake's key: a fixed-size digest of the lower-cased name, so the map's
/// memory does not grow with what attackers type.
fn account_key(username: &str) -> [u8; 16] {
    let digest = Sha256::digest(username.to_lowercase().as_bytes());
    let mut key = [0u8; 16];
    key.copy_from_slice(&digest[..16]);
    key
}

/// Checks a password and opens a session for the device. Every attempt counts against the
/// account and the client address before the password is checked (so attempts made at once
/// cannot all slip past the brake), and stops counting when it succeeds; past the free
/// failures, each further one doubles the wait (`RateLimited` with retry-after).
pub async fn sign_in(
    state: &AppState,
    request: &LoginRequest,
    from: IpAddr,
) -> Result<LoginResponse, AppError> {
    let device_id = validate::device_id(&request.device_id)?;
    // Names are stored normalised; a full-width name typed at sign-in finds its account.
    let username = validate::normal_username(&request.username);
    let (guards, now) = (&state.guards, Instant::now());
    let address = address_key(from);
    guards
        .address_failures
        .attempt(&address, now)
        .map_err(AppError::rate_limited)?;
    if username.chars().count() > MAX_LOOKUP_CHARS {
        return Err(AppError::InvalidCredentials);
    }
    let account = account_key(&username);
    if let Err(wait) = guards.account_failures.attempt(&account, now) {
        guards.address_failures.forgive(&address);
        return Err(AppError::rate_limited(wait));
    }
    let checked = check_password(state, &username, request).await;
    let user = match checked {
        Ok(Some(user)) => user,
        Ok(None) => return Err(AppError::InvalidCredentials),
        Err(error) => {
            // Not an answer about the password (the hashing queue is full): not a failure.
            guards.account_failures.forgive(&account);
            guards.address_failures.forgive(&address);
            return Err(error);
        }
    };
    guards.account_failures.succeeded(&account);
    guards.address_failures.forgive(&address);
    open_session(state, user, device_id, &request.device_name).await
}

/// The user, if `request`'s password is theirs (an unknown name takes as long as a wrong
/// password).
async fn check_password(
    state: &AppState,
    username: &str,
    request: &LoginRequest,
) -> Result<Option<User>, AppError> {
    let found = state.store.credentials(username).await?;
    let stored = found.as_ref().map(|c| c.password_hash.clone());
    let matches = state
        .hasher
        .verify(request.password.clone(), stored)
        .await?;
    Ok(found.filter(|_| matches).map(|c| c.user))
}

/// A new session for `user` on the device.
async fn open_session(
    state: &AppState,
    user: User,
    device_id: String,
    device_name: &str,
) -> Result<LoginResponse, AppError> {
    let token = new_token();
    let session = NewSession {
        token_hash: token_hash(&token),
        user_id: user.id,
        device_id,
        device_name: validate::device_name(device_name),
    };
    state
        .store
        .create_session(session, state.config.sessions.max_per_user.max(1))
        .await?;
    tracing::info!(user_id = user.id, "signed in");
    Ok(LoginResponse {
        token: Secret::new(token),
        user,
    })
}

/// Sets a new password and ends every session of the user.
pub async fn reset_password(
    state: &AppState,
    username: &str,
    password: Secret,
) -> Result<(), AppError> {
    validate::password(password.expose())?;
    let hash = state.hasher.hash(password).await?;
    Ok(state.store.set_password(username, &hash).await?)
}
