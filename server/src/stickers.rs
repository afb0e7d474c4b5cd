//! REST handlers for the caller's stickers under `/api/v1/stickers`: list, keep and
//! remove. The store decides what may be kept; a sticker is sent as an ordinary message.

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use flint_proto::api::{AddSticker, Sticker};

use crate::error::AppError;
use crate::rest::Caller;
use crate::state::AppState;
use crate::validate;

/// `GET /api/v1/stickers`: the caller's stickers, newest first.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<Sticker>>, AppError> {
    Ok(Json(state.store.stickers(caller.session.user_id).await?))
}

/// `POST /api/v1/stickers`: keeps a picture the caller may download as a sticker.
pub async fn add(
    State(state): State<AppState>,
    caller: Caller,
    body: Result<Json<AddSticker>, JsonRejection>,
) -> Result<Json<Sticker>, AppError> {
    let Json(request) = body?;
    let file_id = validate::object_id(&request.file_id, "file")?;
    let user_id = caller.session.user_id;
    Ok(Json(state.store.add_sticker(user_id, &file_id).await?))
}

/// `DELETE /api/v1/stickers/{file_id}`: removes one of the caller's stickers.
pub async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    Path(file_id): Path<String>,
) -> Result<StatusCode, AppError> {
    let file_id = validate::object_id(&file_id, "sticker")?;
    if state
        .store
        .remove_sticker(caller.session.user_id, &file_id)
        .await?
    {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(AppError::NotFound("sticker"))
    }
}
