//! What the client's tasks share: the store, the current link, and the event channel.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use flint_proto::api::User;
use flint_proto::ipc::{ConnectionState, Event};
use tokio::sync::{broadcast, watch, Notify};
use tokio_util::sync::CancellationToken;

use crate::calls::screen::CallScreen;
use crate::calls::Calls;
use crate::config::ClientConfig;
use crate::downloads::Downloads;
use crate::error::{Error, Result};
use crate::link::{Link, LinkParams};
use crate::stickers::Stickers;
use crate::store::{conversations, Store};
use crate::transfer::FileService;
use crate::uploads::Uploads;
use crate::voice::Recordings;

/// Events buffered per subscriber before a slow one starts missing them.
pub const EVENT_BUFFER: usize = 8192;

/// State shared by the client handle, the engine and the outbox.
pub struct Shared {
    /// The account database.
    pub store: Store,
    /// The signed-in user.
    pub me: User,
    /// How to connect.
    pub params: LinkParams,
    /// Reconnect timing and paths.
    pub config: ClientConfig,
    /// Changes for front ends.
    pub events: broadcast::Sender<Event>,
    /// The live link, when connected.
    pub link: watch::Sender<Option<Arc<Link>>>,
    /// The connection state.
    pub state: watch::Sender<ConnectionState>,
    /// Woken when a message enters the outbox.
    pub outbox_wake: Notify,
    /// Files of own messages on their way to the server.
    pub uploads: Uploads,
    /// Files of messages on their way to this device.
    pub downloads: Downloads,
    /// Cancelled when the client shuts down.
    pub shutdown: CancellationToken,
    /// Longest text the server accepts (from its greeting).
    pub max_text_chars: AtomicU32,
    /// The call on this device.
    pub calls: Calls,
    /// The other side's latest picture in a video call.
    pub call_screen: CallScreen,
    /// The voice message being recorded on this device.
    pub voice: Recordings,
    /// The stickers the user keeps, as last fetched.
    pub stickers: Stickers,
}

impl Shared {
    /// Sends an event to every subscriber (none listening is fine).
    pub fn emit(&self, event: Event) {
        let _ = self.events.send(event);
    }

    /// Changes the connection state and tells subscribers.
    pub fn set_state(&self, state: ConnectionState) {
        if *self.state.borrow() != state {
            self.state.send_replace(state.clone());
            self.emit(Event::ConnectionChanged { state });
        }
    }

    /// The live link, or `Offline`.
    pub fn current_link(&self) -> Result<Arc<Link>> {
        self.link.borrow().clone().ok_or(Error::Offline)
    }

    /// The file service of the server, signed in as this session.
    pub fn file_service(&self) -> Result<FileService> {
        FileService::new(
            self.config.server_url.clone(),
            self.params.token.clone(),
            Arc::clone(&self.params.tls),
        )
    }

    /// The signed-in user's id.
    pub fn me_id(&self) -> i64 {
        self.me.id
    }

    /// The text limit in force.
    pub fn max_text_chars(&self) -> usize {
        self.max_text_chars.load(Ordering::Relaxed) as usize
    }

    /// Emits the current summary of each conversation.
    pub async fn emit_conversations(&self, ids: Vec<i64>) -> Result<()> {
        let me = self.me_id();
        let views = self
            .store
            .call(move |conn| {
                ids.into_iter()
                    .filter_map(|id| conversations::view(conn, id, me).transpose())
                    .collect::<Result<Vec<_>>>()
            })
            .await?;
        for conversation in views {
            self.emit(Event::ConversationUpdated { conversation });
        }
        Ok(())
    }
}
