//! REST handlers under `/api/v1`: accounts, sessions and user search. Each is a thin shell
//! over `accounts` and the store.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{ConnectInfo, FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::Json;
use flint_proto::api::{Device, Health, LoginRequest, LoginResponse, RegisterRequest, User};
use serde::Deserialize;

use crate::accounts;
use crate::config::Registration;
use crate::credentials::token_hash;
use crate::error::AppError;
use crate::sessions::idle_since_ms;
use crate::state::AppState;
use crate::store::Session;
use crate::validate;

/// Most users a search returns.
const SEARCH_LIMIT: u32 = 50;

/// `GET /health`: answers once the store reads and its writer runs.
pub async fn health(State(state): State<AppState>) -> Result<Json<Health>, AppError> {
    if !state.store.is_healthy() {
        return Err(AppError::Unavailable("the store has stopped writing"));
    }
    state.store.head_seq(0).await?;
    Ok(Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    }))
}

/// `POST /api/v1/register`.
pub async fn register(
    State(state): State<AppState>,
    ClientAddr(from): ClientAddr,
    body: Result<Json<RegisterRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<User>), AppError> {
    let Json(request) = body?;
    if state.config.registration == Registration::Closed {
        return Err(AppError::RegistrationClosed);
    }
    let user = accounts::create(&state, &request, Some(from)).await?;
    tracing::info!(user_id = user.id, "registered");
    Ok((StatusCode::CREATED, Json(user)))
}

/// `POST /api/v1/login`: a token bound to the device.
pub async fn login(
    State(state): State<AppState>,
    ClientAddr(from): ClientAddr,
    body: Result<Json<LoginRequest>, JsonRejection>,
) -> Result<Json<LoginResponse>, AppError> {
    let Json(request) = body?;
    Ok(Json(accounts::sign_in(&state, &request, from).await?))
}

/// `POST /api/v1/logout`: ends the caller's session (its sockets close).
pub async fn logout(State(state): State<AppState>, caller: Caller) -> Result<StatusCode, AppError> {
    state.store.end_session(caller.token_hash).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/me`.
pub async fn me(State(state): State<AppState>, caller: Caller) -> Result<Json<User>, AppError> {
    let user = state.store.user(caller.session.user_id).await?;
    user.map(Json).ok_or(AppError::Unauthenticated)
}

/// `GET /api/v1/sessions`: the caller's signed-in devices.
pub async fn devices(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<Device>>, AppError> {
    let mut devices = state.store.devices(caller.session.user_id).await?;
    for device in &mut devices {
        device.current = device.device_id == caller.session.device_id;
    }
    Ok(Json(devices))
}

/// `DELETE /api/v1/sessions/{device_id}`: signs one of the caller's devices out.
pub async fn end_device(
    State(state): State<AppState>,
    caller: Caller,
    Path(device_id): Path<String>,
) -> Result<StatusCode, AppError> {
    let device_id = validate::device_id(&device_id)?;
    if state
        .store
        .end_device(caller.session.user_id, &device_id)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AppError::NotFound("device"))
    }
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
    query: Result<Query<SearchQuery>, QueryRejection>,
) -> Result<Json<Vec<User>>, AppError> {
    let Query(query) = query?;
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
            .session(hash.clone(), idle_since_ms(state))
            .await?
            .ok_or(AppError::Unauthenticated)?;
        Ok(Self {
            session,
            token_hash: hash,
        })
    }
}

/// The client's address: the peer's, or with `trust_forwarded_for` the last hop the proxy
/// recorded in `X-Forwarded-For`. Unknown (0.0.0.0) when the router runs without a socket.
pub struct ClientAddr(pub IpAddr);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|info| info.0.ip());
        let forwarded = state
            .config
            .trust_forwarded_for
            .then(|| parts.headers.get("x-forwarded-for"))
            .flatten()
            .and_then(|value| value.to_str().ok())
            .and_then(|list| list.rsplit(',').next())
            .and_then(|last| last.trim().parse::<IpAddr>().ok());
        Ok(Self(
            forwarded
                .or(peer)
                .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED)),
        ))
    }
}
