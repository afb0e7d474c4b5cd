//! OS notifications: raising them and opening the conversation when one is clicked; an
//! incoming call's with Accept and Decline.

use std::sync::{Arc, Weak};

use flint_core::{Client, ConversationKind, MessageView};
use flint_proto::ipc::{CallKind, CallView, Preview};
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

/// How long an incoming call's notification asks to stay (the server's default ring timeout;
/// daemons may keep it longer, and an action that comes too late only fails quietly).
const CALL_NOTICE_MS: u32 = 45_000;

/// Raises the notification of `call`, ringing here: who calls and how, with Accept and
/// Decline (in English and Chinese: the shell has no locale). Accept shows the window and
/// answers; Decline declines; a click shows the window, where the call rings.
pub async fn raise_call(app: &AppHandle, client: &Arc<Client>, call: CallView) {
    let caller = client
        .members(call.conversation_id)
        .await
        .ok()
        .and_then(|members| members.into_iter().find(|m| m.user.id == call.peer_id))
        .map_or_else(|| "Flint".to_owned(), |m| m.user.display_name);
    let body = match call.kind {
        CallKind::Audio => "Incoming voice call · 语音来电",
        CallKind::Video => "Incoming video call · 视频来电",
    };
    let shown = tauri::async_runtime::spawn_blocking(move || {
        notify_rust::Notification::new()
            .appname("Flint")
            .summary(&caller)
            .body(body)
            .action("default", "Open")
            .action("accept", "Accept · 接听")
            .action("decline", "Decline · 拒绝")
            .timeout(notify_rust::Timeout::Milliseconds(CALL_NOTICE_MS))
            .show()
    })
    .await;
    match shown {
        Ok(Ok(handle)) => {
            // Weak: a notification waiting for its action does not keep a signed-out client.
            let (app, client) = (app.clone(), Arc::downgrade(client));
            let call_id = call.call_id;
            tauri::async_runtime::spawn_blocking(move || {
                answer_on_action(app, handle, client, call_id)
            });
        }
        Ok(Err(error)) => tracing::info!(%error, "no notification daemon"),
        Err(error) => tracing::warn!(%error, "the notification task failed"),
    }
}

/// What a call notification's action does (freedesktop reports actions; elsewhere the
/// window's own call view is the way to answer). Runs on a blocking thread until the
/// notification is acted on or closed.
#[cfg(all(unix, not(target_os = "macos")))]
fn answer_on_action(
    app: AppHandle,
    handle: notify_rust::NotificationHandle,
    client: Weak<Client>,
    call_id: String,
) {
    handle.wait_for_action(|action| {
        let answer = match action {
            "accept" => true,
            "decline" => false,
            "default" => return tray::show_main(&app),
            _ => return,
        };
        if answer {
            tray::show_main(&app);
        }
        let Some(client) = client.upgrade() else {
            return;
        };
        let call_id = call_id.clone();
        tauri::async_runtime::spawn(async move {
            let done = if answer {
                client.accept_call(&call_id).await
            } else {
                client.hang_up(&call_id).await
            };
            if let Err(error) = done {
                // Answered elsewhere or over meanwhile: the call view says so.
                tracing::debug!(%error, "the call notification's action came too late");
            }
        });
    });
}

/// Windows and macOS report no actions through notify-rust.
#[cfg(not(all(unix, not(target_os = "macos"))))]
fn answer_on_action(
    _app: AppHandle,
    _handle: notify_rust::NotificationHandle,
    _client: Weak<Client>,
    _call_id: String,
) {
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
