//! Core events become one Tauri event, `flint:event`, carrying `flint_proto::ipc::Event`; new
//! messages may also raise an OS notification and update the tray.

use std::sync::{Arc, Weak};

use flint_core::{Client, ContentView, Event, MessageView};
use tauri::{AppHandle, Emitter, Manager};
use tokio::sync::broadcast::error::RecvError;

use crate::state::Desktop;
use crate::tray;

/// The one event name the UI listens to.
pub const EVENT: &str = "flint:event";

/// Forwards `client`'s events to the webview until the client is gone. Holds only a weak
/// handle, so signing out really drops the client (and ends this loop).
pub fn forward(app: AppHandle, client: &Arc<Client>) {
    let mut events = client.events();
    let client: Weak<Client> = Arc::downgrade(client);
    tauri::async_runtime::spawn(async move {
        loop {
            let event = match events.recv().await {
                Ok(event) => event,
                // Only possible under a flood (thousands of events unread); later events carry
                // the current state of what they touch.
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "the webview fell behind on events");
                    continue;
                }
                Err(RecvError::Closed) => break,
            };
            if let Err(error) = app.emit(EVENT, &event) {
                tracing::warn!(%error, "cannot emit to the webview");
            }
            let Some(client) = client.upgrade() else {
                break;
            };
            match &event {
                Event::MessageAdded { message } => notify_if_unseen(&app, &client, message).await,
                Event::ConversationUpdated { .. } => tray::refresh(&app, &client).await,
                _ => {}
            }
        }
    });
}

fn preview(message: &MessageView) -> String {
    match &message.content {
        ContentView::Text { body, .. } => body.chars().take(140).collect(),
        ContentView::System { .. } => String::new(),
        ContentView::Unsupported { kind } => format!("[{kind}]"),
    }
}

/// Notifies of a message from someone else unless its conversation is on screen or muted.
async fn notify_if_unseen(app: &AppHandle, client: &Client, message: &MessageView) {
    if message.is_own || message.sender_id == 0 {
        return;
    }
    let window_focused = app
        .get_webview_window("main")
        .and_then(|w| w.is_focused().ok())
        .unwrap_or(false);
    let on_screen = app
        .state::<Desktop>()
        .focused
        .lock()
        .map(|focused| *focused == Some(message.conversation_id))
        .unwrap_or(false);
    if window_focused && on_screen {
        return;
    }
    let Ok(Some(conversation)) = client.conversation(message.conversation_id).await else {
        return;
    };
    if conversation.muted {
        return;
    }
    let sender = client
        .members(message.conversation_id)
        .await
        .ok()
        .and_then(|members| members.into_iter().find(|m| m.user.id == message.sender_id))
        .map(|m| m.user.display_name)
        .unwrap_or_else(|| conversation.title.clone());
    let summary = match conversation.kind {
        flint_core::ConversationKind::Direct => sender,
        flint_core::ConversationKind::Group => format!("{sender} · {}", conversation.title),
    };
    let body = preview(message);
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
        // Waiting for the click blocks a thread of its own, never this event loop.
        Ok(Ok(handle)) => {
            let (app, conversation_id) = (app.clone(), message.conversation_id);
            tauri::async_runtime::spawn_blocking(move || {
                open_on_click(app, handle, conversation_id)
            });
        }
        Ok(Err(error)) => tracing::info!(%error, "no notification daemon"),
        Err(error) => tracing::warn!(%error, "the notification task failed"),
    }
}

/// Most notifications waiting for a click at once (each waits on a blocking thread).
#[cfg(all(unix, not(target_os = "macos")))]
const MAX_WAITING_NOTIFICATIONS: usize = 16;

/// Where the platform reports clicks (freedesktop): a click shows the window and asks the UI
/// to open the conversation. Runs on a blocking thread until the notification is acted on
/// or closed.
#[cfg(all(unix, not(target_os = "macos")))]
fn open_on_click(app: AppHandle, handle: notify_rust::NotificationHandle, conversation_id: i64) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static WAITING: AtomicUsize = AtomicUsize::new(0);
    if WAITING.fetch_add(1, Ordering::SeqCst) >= MAX_WAITING_NOTIFICATIONS {
        WAITING.fetch_sub(1, Ordering::SeqCst);
        return;
    }
    handle.wait_for_action(|action| {
        if action == "default" {
            tray::show_main(&app);
            crate::links::open_conversation(&app, conversation_id);
        }
    });
    WAITING.fetch_sub(1, Ordering::SeqCst);
}

/// Windows and macOS report no clicks through notify-rust.
#[cfg(not(all(unix, not(target_os = "macos"))))]
fn open_on_click(_app: AppHandle, _handle: notify_rust::NotificationHandle, _conversation_id: i64) {
}
