//! REST handlers under `/api/v1`: accounts, sessions and user search.

use std::sync::LazyLock;

use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::Json;
use flint_proto::api::{Health, LoginRequest, LoginResponse, RegisterRequest, User};
use serde::Deserialize;

use crate::app::AppState;
use crate::config::Registration;
use crate::credentials::{hash_password, new_token, off_thread, token_hash, verify_password};
use crate::error::AppError;
use crate::store::Session;
use crate::validate;

/// Most users a search returns.
const SEARCH_LIMIT: u32 = 50;

/// `GET /health`: answers once the store does.
pub async fn health(State(state): State<AppState>) -> Result<Json<Health>, AppError> {
    state.store.head_seq(0).await?;
    Ok(Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    }))
}

/// `POST /api/v1/register`.
pub async fn register(
    State(state): State<AppState>,
    body: Result<Json<RegisterRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<User>), AppError> {
    let Json(request) = body?;
    if state.config.registration == Registration::Closed {
        return Err(AppError::RegistrationClosed);
    }
    let user = create_account(&state, &request).await?;
    tracing::info!(user_id = user.id, "registered");
    Ok((StatusCode::CREATED, Json(user)))
}

/// Validates and stores a new account (shared by registration and `admin create-user`).
pub async fn create_account(state: &AppState, request: &RegisterRequest) -> Result<User, AppError> {
    let username = validate::username(&request.username)?;
    validate::password(&request.password)?;
    let display_name = validate::display_name(&request.display_name, &username)?;
    let password = request.password.clone();
    let hash = off_thread(move || hash_password(&password)).await??;
    Ok(state
        .store
        .create_user(&username, &display_name, &hash)
        .await?)
}

/// `POST /api/v1/login`: a token bound to the device.
pub async fn login(
    State(state): State<AppState>,
    body: Result<Json<LoginRequest>, JsonRejection>,
) -> Result<Json<LoginResponse>, AppError> {
    let Json(request) = body?;
    let device_id = validate::device_id(&request.device_id)?;
    let found = state.store.credentials(request.username.trim()).await?;
    let password = request.password.clone();
    // Verify against a fixed hash when the user is unknown, so timing does not reveal names.
    let stored = found
        .as_ref()
        .map(|c| c.password_hash.clone())
        .unwrap_or_else(|| UNKNOWN_USER_HASH.clone());
    let matches = off_thread(move || verify_password(&password, &stored)).await?;
    let credentials = found
        .filter(|_| matches)
        .ok_or(AppError::InvalidCredentials)?;
    let token = new_token();
    state
        .store
        .create_session(token_hash(&token), credentials.user.id, &device_id)
        .await?;
    tracing::info!(user_id = credentials.user.id, "signed in");
    Ok(Json(LoginResponse {
        token,
        user: credentials.user,
    }))
}

/// An argon2id hash of a random password, used to spend the same time on unknown users.
static UNKNOWN_USER_HASH: LazyLock<String> =
    LazyLock::new(|| hash_password(&new_token()).unwrap_or_default());

/// `POST /api/v1/logout`: ends the caller's session.
pub async fn logout(State(state): State<AppState>, caller: Caller) -> Result<StatusCode, AppError> {
    state.store.delete_session(caller.token_hash).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/me`.
pub async fn me(State(state): State<AppState>, caller: Caller) -> Result<Json<User>, AppError> {
    let user = state.store.user(caller.session.user_id).await?;
    user.map(Json).ok_or(AppError::Unauthenticated)
}

/// Query of `GET /api/v1/users`.
#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    /// Part of a username or display name.
    pub q: String,
}

/// `GET /api/v1/users?q=`: users matching a query (any signed-in user may search).
pub async fn search_users(
    State(state): State<AppState>,
    _caller: Caller,
    Query(query): Query<SearchQuery>,
) -> Result<Json<Vec<User>>, AppError> {
    let needle = validate::search_query(&query.q)?;
    Ok(Json(state.store.search_users(&needle, SEARCH_LIMIT).await?))
}

/// The signed-in caller of a REST request, from `Authorization: Bearer <token>`.
pub struct Caller {
    /// The session.
    pub session: Session,
    /// Its token hash, for logout.
    pub token_hash: Vec<u8>,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let token = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .ok_or(AppError::Unauthenticated)?;
        let hash = token_hash(token);
        let session = state
            .store
            .session(hash.clone())
            .await?
            .ok_or(AppError::Unauthenticated)?;
        Ok(Self {
            session,
            token_hash: hash,
        })
    }
}
