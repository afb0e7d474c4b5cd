//! OS notifications: raising them and opening the conversation when one is clicked.

use flint_core::{Client, ConversationKind, MessageView};
use flint_proto::ipc::Preview;
use tauri::AppHandle;

use crate::attention::Notice;
use crate::tray;

/// Most characters of a message shown in a notification.
const BODY_CHARS: usize = 140;

/// The text a notification shows for a message.
fn body(message: &MessageView) -> String {
    match message.preview() {
        Preview::Text(text) => text.chars().take(BODY_CHARS).collect(),
        Preview::Notice(_) => String::new(),
        Preview::File(name) => format!("📎 {name}"),
        Preview::Image => "🖼".into(),
        Preview::Sticker => "🙂".into(),
        Preview::Voice(ms) => format!("🎤 {}\"", ms.div_ceil(1000)),
        Preview::Video => "🎬".into(),
        Preview::Call(_) => "📞".into(),
        Preview::Unsupported(kind) => format!("[{kind}]"),
    }
}

/// Raises `notice`: one message with its sender (and group), or a summary.
pub async fn raise(app: &AppHandle, client: &Client, notice: Notice<MessageView>) {
    let (summary, body, open) = match notice {
        Notice::One(message) => {
            let Some((summary, open)) = title(client, &message).await else {
                return;
            };
            (summary, body(&message), Some(open))
        }
        Notice::Summary {
            messages,
            chats,
            only,
        } => ("Flint".to_owned(), summary_text(messages, chats), only),
    };
    let shown = tauri::async_runtime::spawn_blocking(move || {
        notify_rust::Notification::new()
            .appname("Flint")
            .summary(&summary)
            .body(&body)
            .action("default", "Open")
            .show()
    })
    .await;
    match shown {
        // Waiting for the click blocks a thread of its own, never the event loop.
        Ok(Ok(handle)) => {
            let app = app.clone();
            tauri::async_runtime::spawn_blocking(move || open_on_click(app, handle, open));
        }
        Ok(Err(error)) => tracing::info!(%error, "no notification daemon"),
        Err(error) => tracing::warn!(%error, "the notification task failed"),
    }
}

/// "12 new messages (from 3 chats)", in English and Chinese (the shell has no locale).
fn summary_text(messages: usize, chats: usize) -> String {
    if chats == 1 {
        format!("{messages} new messages · {messages} 条新消息")
    } else {
        format!(
            "{messages} new messages from {chats} chats · {chats} 个会话中有 {messages} 条新消息"
        )
    }
}

/// "Sender" for a direct chat, "Sender · Group" for a group; and the conversation to open.
async fn title(client: &Client, message: &MessageView) -> Option<(String, i64)> {
    let conversation = client.conversation(message.conversation_id).await.ok()??;
    let sender = client
        .members(message.conversation_id)
        .await
        .ok()
        .and_then(|members| members.into_iter().find(|m| m.user.id == message.sender_id))
        .map(|m| m.user.display_name)
        .unwrap_or_else(|| conversation.title.clone());
    let summary = match conversation.kind {
        ConversationKind::Direct => sender,
        ConversationKind::Group => format!("{sender} · {}", conversation.title),
    };
    Some((summary, conversation.id))
}

/// Most notifications waiting for a click at once (each waits on a blocking thread).
#[cfg(all(unix, not(target_os = "macos")))]
const MAX_WAITING_NOTIFICATIONS: usize = 16;

/// Where the platform reports clicks (freedesktop): a click shows the window and asks the UI
/// to open the conversation. Runs on a blocking thread until the notification is acted on
/// or closed.
#[cfg(all(unix, not(target_os = "macos")))]
fn open_on_click(app: AppHandle, handle: notify_rust::NotificationHandle, open: Option<i64>) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static WAITING: AtomicUsize = AtomicUsize::new(0);
    if WAITING.fetch_add(1, Ordering::SeqCst) >= MAX_WAITING_NOTIFICATIONS {
        WAITING.fetch_sub(1, Ordering::SeqCst);
        return;
    }
    handle.wait_for_action(|action| {
        if action == "default" {
            tray::show_main(&app);
            if let Some(conversation_id) = open {
                crate::links::open_conversation(&app, conversation_id);
            }
        }
    });
    WAITING.fetch_sub(1, Ordering::SeqCst);
}

/// Windows and macOS report no clicks through notify-rust.
#[cfg(not(all(unix, not(target_os = "macos"))))]
fn open_on_click(_app: AppHandle, _handle: notify_rust::NotificationHandle, _open: Option<i64>) {}
