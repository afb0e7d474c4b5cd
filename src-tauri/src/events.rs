//! Core events become one Tauri event, `flint:event`, carrying `flint_proto::ipc::Event`.
//! On the way the shell keeps the tray's unread total (from each conversation update, never by
//! re-reading the list) and decides which new messages and incoming calls become OS
//! notifications ([`crate::attention`]). If the webview falls so far behind that events are
//! lost, it is told to reload what it shows.

use std::sync::{Arc, Weak};
use std::time::Instant;

use flint_core::{Client, Event, MessageView};
use tauri::{AppHandle, Emitter, Manager};
use tokio::sync::broadcast::{self, error::RecvError};

use crate::attention::{CallNotices, Coalescer, Notice, UnreadTotal};
use crate::state::Desktop;
use crate::{notifications, tray};

/// The one event name the UI listens to.
pub const EVENT: &str = "flint:event";

/// The forwarder of one signed-in client: what it keeps between events.
struct Forwarder {
    app: AppHandle,
    /// Weak, so signing out really drops the client (and ends the forwarder).
    client: Weak<Client>,
    unread: UnreadTotal,
    notices: Coalescer<MessageView>,
    calls: CallNotices,
}

/// Forwards `client`'s events to the webview until the client is gone.
pub fn forward(app: AppHandle, client: &Arc<Client>) {
    let events = client.events();
    let weak: Weak<Client> = Arc::downgrade(client);
    tauri::async_runtime::spawn(async move {
        if let Some(forwarder) = Forwarder::start(app, weak).await {
            forwarder.run(events).await;
        }
    });
}

impl Forwarder {
    async fn start(app: AppHandle, weak: Weak<Client>) -> Option<Self> {
        let client = weak.upgrade()?;
        let unread = UnreadTotal::from_list(&client.conversations().await.unwrap_or_default());
        let mut notices = Coalescer::default();
        notices.connection(&client.connection().borrow().clone(), Instant::now());
        tray::show_unread(&app, unread.total());
        Some(Self {
            app,
            client: weak,
            unread,
            notices,
            calls: CallNotices::default(),
        })
    }

    async fn run(mut self, mut events: broadcast::Receiver<Event>) {
        loop {
            let due = self.notices.due();
            let wake = due.map_or_else(tokio::time::Instant::now, Into::into);
            let received = tokio::select! {
                received = events.recv() => received,
                _ = tokio::time::sleep_until(wake), if due.is_some() => {
                    let notice = self.notices.flush(Instant::now());
                    self.raise(notice).await;
                    continue;
                }
            };
            match step(received) {
                Step::Forward(event) => {
                    emit(&self.app, &event);
                    if self.client.strong_count() == 0 {
                        return;
                    }
                    let notice = self.take_in(&event);
                    self.raise(notice).await;
                    self.ring(&event);
                }
                Step::Reload => self.reload().await,
                Step::Stop => return,
            }
        }
    }

    /// Keeps the tray and the notifications up to date with one event.
    fn take_in(&mut self, event: &Event) -> Option<Notice<MessageView>> {
        match event {
            Event::ConversationUpdated { conversation } => {
                if let Some(total) = self.unread.update(conversation) {
                    tray::show_unread(&self.app, total);
                }
                None
            }
            Event::ConnectionChanged { state } => self.notices.connection(state, Instant::now()),
            Event::MessageAdded { message } if self.wants_notice(message) => {
                let now = Instant::now();
                self.notices
                    .message(message.conversation_id, message.clone(), now)
            }
            _ => None,
        }
    }

    async fn raise(&self, notice: Option<Notice<MessageView>>) {
        if let (Some(notice), Some(client)) = (notice, self.client.upgrade()) {
            notifications::raise(&self.app, &client, notice).await;
        }
    }

    /// Raises an incoming call's notification when [`CallNotices`] wants one.
    fn ring(&mut self, event: &Event) {
        let Event::CallChanged { call } = event else {
            return;
        };
        if !self.calls.wants(call, self.window_focused()) {
            return;
        }
        if let Some(client) = self.client.upgrade() {
            // Off the forwarder: the events behind it do not wait for the notification daemon.
            let (app, call) = (self.app.clone(), call.clone());
            tauri::async_runtime::spawn(async move {
                notifications::raise_call(&app, &client, call).await;
            });
        }
    }

    /// Whether the main window is in front. A debug build run with
    /// `FLINT_TEST_WINDOW_BEHIND=1` takes it as behind (under Xvfb, with no window manager, the
    /// one window keeps the focus).
    fn window_focused(&self) -> bool {
        #[cfg(debug_assertions)]
        if std::env::var_os("FLINT_TEST_WINDOW_BEHIND").is_some() {
            return false;
        }
        self.app
            .get_webview_window("main")
            .and_then(|w| w.is_focused().ok())
            .unwrap_or(false)
    }

    /// Events were lost: the webview reads everything again, and so does the tray.
    async fn reload(&mut self) {
        emit(&self.app, &Event::Reload);
        if let Some(client) = self.client.upgrade() {
            let list = client.conversations().await.unwrap_or_default();
            self.unread = UnreadTotal::from_list(&list);
            tray::show_unread(&self.app, self.unread.total());
        }
    }

    /// A message from someone else, in a conversation that is neither muted nor on screen.
    fn wants_notice(&self, message: &MessageView) -> bool {
        if message.is_own || message.sender_id == 0 || self.unread.is_muted(message.conversation_id)
        {
            return false;
        }
        let window_focused = self.window_focused();
        let on_screen = self
            .app
            .state::<Desktop>()
            .focused
            .lock()
            .map(|focused| *focused == Some(message.conversation_id))
            .unwrap_or(false);
        !(window_focused && on_screen)
    }
}

/// What the forwarder does with what the event stream gave it.
#[derive(Debug, PartialEq)]
enum Step {
    /// Pass the event on.
    Forward(Box<Event>),
    /// Events were lost on the way: the webview must read its state again.
    Reload,
    /// The client is gone.
    Stop,
}

fn step(received: Result<Event, RecvError>) -> Step {
    match received {
        Ok(event) => Step::Forward(Box::new(event)),
        Err(RecvError::Lagged(missed)) => {
            tracing::warn!(missed, "the webview fell behind on events; reloading it");
            Step::Reload
        }
        Err(RecvError::Closed) => Step::Stop,
    }
}

/// Sends one event to the webview.
pub fn emit(app: &AppHandle, event: &Event) {
    if let Err(error) = app.emit(EVENT, event) {
        tracing::warn!(%error, "cannot emit to the webview");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lost_events_make_the_webview_reload() {
        assert_eq!(step(Err(RecvError::Lagged(12))), Step::Reload);
        assert_eq!(step(Err(RecvError::Closed)), Step::Stop);
        assert_eq!(
            step(Ok(Event::Reload)),
            Step::Forward(Box::new(Event::Reload))
        );
    }
}
