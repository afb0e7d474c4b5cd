//! Stickers: one-liners over `flint_core::Client`'s sticker methods (the list lives on the
//! server; the panel's pictures come through the media scheme's `sticker/{file_id}`).

use flint_core::MessageView;
use flint_proto::api::Sticker;
use flint_proto::ErrorBody;
use tauri::State;

use crate::state::{ipc, Desktop};

/// The stickers the user keeps, newest first.
#[tauri::command]
pub async fn stickers(desktop: State<'_, Desktop>) -> Result<Vec<Sticker>, ErrorBody> {
    ipc(desktop.client().await?.stickers().await)
}

/// Keeps a message's picture as a sticker.
#[tauri::command]
pub async fn add_sticker(desktop: State<'_, Desktop>, local_id: i64) -> Result<Sticker, ErrorBody> {
    ipc(desktop.client().await?.add_sticker(local_id).await)
}

/// Removes one of the user's stickers.
#[tauri::command]
pub async fn remove_sticker(desktop: State<'_, Desktop>, file_id: String) -> Result<(), ErrorBody> {
    ipc(desktop.client().await?.remove_sticker(&file_id).await)
}

/// Sends one of the user's stickers to a conversation.
#[tauri::command]
pub async fn send_sticker(
    desktop: State<'_, Desktop>,
    conversation_id: i64,
    file_id: String,
) -> Result<MessageView, ErrorBody> {
    let client = desktop.client().await?;
    ipc(client.send_sticker(conversation_id, &file_id).await)
}
