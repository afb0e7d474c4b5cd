//! Calls: one-liners over `flint_core::Client`'s call methods.

use flint_proto::ipc::{CallKind, CallView};
use flint_proto::ErrorBody;
use tauri::State;

use crate::state::{ipc, Desktop};

/// Calls the other member of a direct conversation.
#[tauri::command]
pub async fn start_call(
    desktop: State<'_, Desktop>,
    conversation_id: i64,
    kind: CallKind,
) -> Result<CallView, ErrorBody> {
    ipc(desktop
        .client()
        .await?
        .start_call(conversation_id, kind)
        .await)
}

/// Accepts the call ringing here.
#[tauri::command]
pub async fn accept_call(desktop: State<'_, Desktop>, call_id: String) -> Result<(), ErrorBody> {
    ipc(desktop.client().await?.accept_call(&call_id).await)
}

/// Declines, cancels or hangs up a call.
#[tauri::command]
pub async fn hang_up(desktop: State<'_, Desktop>, call_id: String) -> Result<(), ErrorBody> {
    ipc(desktop.client().await?.hang_up(&call_id).await)
}

/// Mutes the microphone or turns the camera off.
#[tauri::command]
pub async fn set_call_media(
    desktop: State<'_, Desktop>,
    call_id: String,
    muted: bool,
    camera_off: bool,
) -> Result<(), ErrorBody> {
    ipc(desktop
        .client()
        .await?
        .set_call_media(&call_id, muted, camera_off)
        .await)
}

/// The call on this device (in progress, or the last one).
#[tauri::command]
pub async fn current_call(desktop: State<'_, Desktop>) -> Result<Option<CallView>, ErrorBody> {
    Ok(desktop.client().await?.call())
}
