//! Conversations, messages and groups: one-liners over `flint_core::Client`.

use flint_proto::api::User;
use flint_proto::ipc::{ConversationView, MemberView, MessageView};
use flint_proto::ErrorBody;
use tauri::State;

use crate::state::{ipc, Desktop};

/// Every conversation, pinned first, then by activity.
#[tauri::command]
pub async fn conversations(
    desktop: State<'_, Desktop>,
) -> Result<Vec<ConversationView>, ErrorBody> {
    ipc(desktop.client().await?.conversations().await)
}

/// One conversation.
#[tauri::command]
pub async fn conversation(
    desktop: State<'_, Desktop>,
    conversation_id: i64,
) -> Result<Option<ConversationView>, ErrorBody> {
    ipc(desktop.client().await?.conversation(conversation_id).await)
}

/// A window of history before a message (or the newest), oldest first.
#[tauri::command]
pub async fn messages(
    desktop: State<'_, Desktop>,
    conversation_id: i64,
    before: Option<i64>,
    limit: u32,
) -> Result<Vec<MessageView>, ErrorBody> {
    ipc(desktop
        .client()
        .await?
        .messages(conversation_id, before, limit)
        .await)
}

/// A window of history after a message, oldest first.
#[tauri::command]
pub async fn messages_after(
    desktop: State<'_, Desktop>,
    conversation_id: i64,
    after: i64,
    limit: u32,
) -> Result<Vec<MessageView>, ErrorBody> {
    ipc(desktop
        .client()
        .await?
        .messages_after(conversation_id, after, limit)
        .await)
}

/// Queues a text message.
#[tauri::command]
pub async fn send_text(
    desktop: State<'_, Desktop>,
    conversation_id: i64,
    text: String,
) -> Result<MessageView, ErrorBody> {
    ipc(desktop
        .client()
        .await?
        .send_text(conversation_id, &text)
        .await)
}

/// Requeues a failed message.
#[tauri::command]
pub async fn retry(desktop: State<'_, Desktop>, local_id: i64) -> Result<(), ErrorBody> {
    ipc(desktop.client().await?.retry(local_id).await)
}

/// Deletes a failed message.
#[tauri::command]
pub async fn delete_failed(desktop: State<'_, Desktop>, local_id: i64) -> Result<(), ErrorBody> {
    ipc(desktop.client().await?.delete_failed(local_id).await)
}

/// Marks a conversation read.
#[tauri::command]
pub async fn mark_read(desktop: State<'_, Desktop>, conversation_id: i64) -> Result<(), ErrorBody> {
    ipc(desktop.client().await?.mark_read(conversation_id).await)
}

/// Saves the composer draft.
#[tauri::command]
pub async fn set_draft(
    desktop: State<'_, Desktop>,
    conversation_id: i64,
    text: String,
) -> Result<(), ErrorBody> {
    ipc(desktop
        .client()
        .await?
        .set_draft(conversation_id, &text)
        .await)
}

/// The composer draft.
#[tauri::command]
pub async fn draft(
    desktop: State<'_, Desktop>,
    conversation_id: i64,
) -> Result<Option<String>, ErrorBody> {
    ipc(desktop.client().await?.draft(conversation_id).await)
}

/// Tells the others this user is typing.
#[tauri::command]
pub async fn typing(desktop: State<'_, Desktop>, conversation_id: i64) -> Result<(), ErrorBody> {
    ipc(desktop.client().await?.typing(conversation_id).await)
}

/// Users matching a query.
#[tauri::command]
pub async fn search_users(
    desktop: State<'_, Desktop>,
    query: String,
) -> Result<Vec<User>, ErrorBody> {
    ipc(desktop.client().await?.search_users(&query).await)
}

/// The direct conversation with a user.
#[tauri::command]
pub async fn open_direct(
    desktop: State<'_, Desktop>,
    user_id: i64,
) -> Result<ConversationView, ErrorBody> {
    ipc(desktop.client().await?.open_direct(user_id).await)
}

/// Creates a group.
#[tauri::command]
pub async fn create_group(
    desktop: State<'_, Desktop>,
    name: String,
    member_ids: Vec<i64>,
) -> Result<ConversationView, ErrorBody> {
    ipc(desktop
        .client()
        .await?
        .create_group(&name, &member_ids)
        .await)
}

/// Pins or unpins a conversation.
#[tauri::command]
pub async fn set_pinned(
    desktop: State<'_, Desktop>,
    conversation_id: i64,
    pinned: bool,
) -> Result<(), ErrorBody> {
    ipc(desktop
        .client()
        .await?
        .set_pinned(conversation_id, pinned)
        .await)
}

/// Mutes or unmutes a conversation.
#[tauri::command]
pub async fn set_muted(
    desktop: State<'_, Desktop>,
    conversation_id: i64,
    muted: bool,
) -> Result<(), ErrorBody> {
    ipc(desktop
        .client()
        .await?
        .set_muted(conversation_id, muted)
        .await)
}

/// A conversation's members.
#[tauri::command]
pub async fn members(
    desktop: State<'_, Desktop>,
    conversation_id: i64,
) -> Result<Vec<MemberView>, ErrorBody> {
    ipc(desktop.client().await?.members(conversation_id).await)
}

/// Which conversation is on screen (no notifications for it while the window has focus).
#[tauri::command]
pub fn focus_conversation(desktop: State<'_, Desktop>, conversation_id: Option<i64>) {
    if let Ok(mut focused) = desktop.focused.lock() {
        *focused = conversation_id;
    }
}

/// The conversation a link or notification asked for, if the UI has not opened it yet.
#[tauri::command]
pub fn take_pending_open(desktop: State<'_, Desktop>) -> Option<i64> {
    desktop.take_pending_open()
}
