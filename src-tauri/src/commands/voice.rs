//! Voice messages: one-liners over `flint_core::Client`'s recording methods (the sound comes
//! from the computer's default microphone, opened in core).

use flint_core::MessageView;
use flint_proto::ErrorBody;
use tauri::State;

use crate::state::{ipc, Desktop};

/// Starts recording a voice message.
#[tauri::command]
pub async fn start_voice(desktop: State<'_, Desktop>) -> Result<(), ErrorBody> {
    ipc(desktop.client().await?.start_voice().await)
}

/// Stops recording and sends the voice message to the conversation.
#[tauri::command]
pub async fn send_voice(
    desktop: State<'_, Desktop>,
    conversation_id: i64,
) -> Result<MessageView, ErrorBody> {
    ipc(desktop.client().await?.send_voice(conversation_id).await)
}

/// Stops recording and throws the sound away.
#[tauri::command]
pub async fn cancel_voice(desktop: State<'_, Desktop>) -> Result<(), ErrorBody> {
    ipc(desktop.client().await?.cancel_voice().await)
}
