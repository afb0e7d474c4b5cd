//! The signed-in window's state and how events and intents change it. Components read and
//! change it through [`Live`]; routes create it; the app's one event listener feeds it through
//! [`EventRouter`]. The rules over plain data ([`window`], list order, unread total) are unit-
//! tested natively; what touches the page or the shell is thin glue around them.

pub mod media;
pub mod problem;
pub mod recording;
mod router;
pub mod transfers;
pub mod window;

use flint_proto::ipc::{
    CallPhase, CallView, ConnectionState, ConversationView, Event, MemberView, MessageView,
    StagedFile,
};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::ipc;
use recording::Recording;
pub use router::EventRouter;
use transfers::Transfers;
use window::{Arrival, Position};

/// Messages per page of the message window.
pub const PAGE: u32 = 50;

/// Live state of the signed-in window, shared through context.
#[derive(Clone, Copy)]
pub struct Live {
    /// Every conversation, in list order.
    pub conversations: RwSignal<Vec<ConversationView>>,
    /// The open conversation.
    pub selected: RwSignal<Option<i64>>,
    /// The loaded window of the open conversation, oldest first.
    pub messages: RwSignal<Vec<MessageView>>,
    /// The connection.
    pub connection: RwSignal<ConnectionState>,
    /// Whether the new-chat panel is open.
    pub new_chat: RwSignal<bool>,
    /// Who typed last in the open conversation (cleared after a few seconds).
    pub typing: RwSignal<Option<i64>>,
    /// Members of the open conversation.
    pub members: RwSignal<Vec<MemberView>>,
    /// Whether the info drawer (members) is open.
    pub drawer: RwSignal<bool>,
    /// Whether the loaded window reaches the newest message.
    pub at_newest: RwSignal<bool>,
    /// Whether the message list is scrolled to its end.
    pub at_bottom: RwSignal<bool>,
    /// New messages below the view.
    pub unseen: RwSignal<u32>,
    /// Whether the profile panel is open.
    pub profile: RwSignal<bool>,
    /// Files on their way, by message.
    pub transfers: RwSignal<Transfers>,
    /// Files chosen to send (the sheet shows while there are any).
    pub staged: RwSignal<Vec<StagedFile>>,
    /// The picture open in the viewer (a message's local id).
    pub viewer: RwSignal<Option<i64>>,
    /// The call on this device (an ended one shows until the user dismisses it).
    pub call: RwSignal<Option<CallView>>,
    /// The number of the other side's latest picture in a video call, once one came.
    pub call_picture: RwSignal<Option<u64>>,
    /// The last failed action the user is told about (an i18n key), until dismissed.
    pub problem: RwSignal<Option<&'static str>>,
    /// The voice message being recorded.
    pub recording: RwSignal<Option<Recording>>,
}

impl Default for Live {
    fn default() -> Self {
        Self {
            conversations: RwSignal::new(Vec::new()),
            selected: RwSignal::new(None),
            messages: RwSignal::new(Vec::new()),
            connection: RwSignal::new(ConnectionState::Connecting),
            new_chat: RwSignal::new(false),
            typing: RwSignal::new(None),
            members: RwSignal::new(Vec::new()),
            drawer: RwSignal::new(false),
            at_newest: RwSignal::new(true),
            at_bottom: RwSignal::new(true),
            unseen: RwSignal::new(0),
            profile: RwSignal::new(false),
            transfers: RwSignal::new(Transfers::new()),
            staged: RwSignal::new(Vec::new()),
            viewer: RwSignal::new(None),
            call: RwSignal::new(None),
            call_picture: RwSignal::new(None),
            problem: RwSignal::new(None),
            recording: RwSignal::new(None),
        }
    }
}

/// Puts a conversation's new summary into the list, keeping the list order.
pub fn upsert_conversation(list: &mut Vec<ConversationView>, conversation: ConversationView) {
    match list.iter_mut().find(|c| c.id == conversation.id) {
        Some(existing) => *existing = conversation,
        None => list.push(conversation),
    }
    list.sort_by(ConversationView::list_order);
}

/// Unread messages over the unmuted conversations.
pub fn total_unread(list: &[ConversationView]) -> u32 {
    list.iter().filter(|c| !c.muted).map(|c| c.unread).sum()
}

impl Live {
    /// True when `other` is this very state (not another window's).
    pub fn is(&self, other: &Live) -> bool {
        self.selected == other.selected
    }

    /// True until the window owning this state is gone (signed out).
    pub fn is_alive(&self) -> bool {
        self.selected.try_get_untracked().is_some()
    }

    /// True while this state is alive and `id` is the open conversation (async work that
    /// finishes after a sign-out or a switch checks this before touching anything).
    pub fn is_open(&self, id: i64) -> bool {
        self.selected.try_get_untracked() == Some(Some(id))
    }

    /// Applies one event from the engine (or the shell).
    pub fn apply(&self, event: Event) {
        self.transfers
            .maybe_update(|now| transfers::apply(now, &event));
        match event {
            Event::ConversationUpdated { conversation } => self
                .conversations
                .update(|list| upsert_conversation(list, conversation)),
            Event::MessageAdded { message } => {
                if self.selected.get_untracked() == Some(message.conversation_id) {
                    self.show_arrival(message);
                }
            }
            Event::MessageStatusChanged {
                local_id,
                status,
                server_id,
                failure,
                ..
            } => self
                .messages
                .update(|window| window::set_status(window, local_id, status, server_id, failure)),
            Event::MessageDeleted { local_id, .. } => self
                .messages
                .update(|window| window::remove(window, local_id)),
            Event::Typing {
                conversation_id,
                user_id,
            } => {
                if self.selected.get_untracked() == Some(conversation_id) {
                    self.typing.set(Some(user_id));
                    let typing = self.typing;
                    set_timeout(
                        move || {
                            typing.try_set(None);
                        },
                        std::time::Duration::from_secs(4),
                    );
                }
            }
            Event::ConnectionChanged { state } => self.connection.set(state),
            Event::OpenRequested { conversation_id } => {
                self.open(conversation_id);
                // Handled here; the shell need not keep it for later.
                spawn_local(async move {
                    let _ = ipc::take_pending_open().await;
                });
            }
            Event::Reload => self.reload(),
            Event::UploadProgress { .. }
            | Event::DownloadProgress { .. }
            | Event::DownloadStopped { .. } => {} // in `transfers`, above
            Event::FilesStaged { files } => self.staged.set(files),
            Event::CallChanged { call } => {
                if matches!(call.phase, CallPhase::Ended { .. }) {
                    self.call_picture.set(None);
                }
                self.call.set(Some(call));
            }
            Event::CallPicture { number, .. } => {
                // A picture decoded as the call ended is not kept for the next one.
                let live = self.call.with_untracked(|call| {
                    call.as_ref()
                        .is_some_and(|c| !matches!(c.phase, CallPhase::Ended { .. }))
                });
                if live {
                    self.call_picture.set(Some(number));
                }
            }
            Event::Recording {
                elapsed_ms,
                level,
                full,
            } => {
                let news = Recording {
                    elapsed_ms,
                    level,
                    full,
                };
                self.recording
                    .update(|now| *now = Recording::updated(*now, news));
            }
        }
    }

    /// A message arrived in the open conversation.
    fn show_arrival(&self, message: MessageView) {
        let position = Position {
            at_newest: self.at_newest.get_untracked(),
            at_bottom: self.at_bottom.get_untracked(),
            len: self.messages.with_untracked(Vec::len),
        };
        match window::arrival(position, message.is_own) {
            Arrival::Unseen => {
                self.at_newest.set(false);
                self.unseen.update(|n| *n += 1);
            }
            Arrival::JumpToLatest => {
                self.at_newest.set(false);
                self.jump_to_latest();
            }
            Arrival::Append { seen } => {
                if !seen {
                    self.unseen.update(|n| *n += 1);
                }
                self.at_bottom.set(seen);
                let id = message.conversation_id;
                self.messages
                    .update(|window| window::append(window, message));
                // Only what the user can see counts as read.
                if seen && document().has_focus().unwrap_or(false) {
                    spawn_local(async move {
                        let _ = ipc::mark_read(id).await;
                    });
                }
            }
        }
    }

    /// Opens a conversation: loads its members and newest page, and marks it read.
    pub fn open(&self, id: i64) {
        let live = *self;
        live.selected.set(Some(id));
        live.typing.set(None);
        live.clear_window();
        spawn_local(async move {
            let members = ipc::members(id).await.unwrap_or_default();
            if !live.is_open(id) {
                return;
            }
            live.members.set(members);
            live.show_latest(id).await;
            let _ = ipc::mark_read(id).await;
            let _ = ipc::focus_conversation(Some(id)).await;
        });
    }

    /// Empties the window; what arrives from now on is newer than any page read next.
    fn clear_window(&self) {
        self.messages.set(Vec::new());
        self.at_newest.set(true);
        self.at_bottom.set(true);
        self.unseen.set(0);
    }

    /// Fills the (just cleared) window with the newest page of a conversation.
    async fn show_latest(self, id: i64) {
        let Ok(page) = ipc::messages(id, None, PAGE).await else {
            return;
        };
        if self.is_open(id) {
            self.messages
                .update(|window| window::merge_latest(window, page));
        }
    }

    /// Scrolls to the newest message, loading it first if the window slid away from it.
    pub fn jump_to_latest(&self) {
        let Some(id) = self.selected.get_untracked() else {
            return;
        };
        if self.at_newest.get_untracked() {
            self.at_bottom.set(true);
            self.unseen.set(0);
            self.messages.update(|_| {});
        } else {
            self.clear_window();
            spawn_local(self.show_latest(id));
        }
    }

    /// History changed under the window (events were lost, or the server was restored):
    /// reads the list and the open conversation again.
    pub fn reload(&self) {
        let live = *self;
        spawn_local(async move {
            if let Ok(mut list) = ipc::conversations().await {
                list.sort_by(ConversationView::list_order);
                live.conversations.try_set(list);
            }
        });
        if let Some(id) = self.selected.get_untracked() {
            self.open(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conversation(id: i64, last_activity_ms: i64, unread: u32, muted: bool) -> ConversationView {
        ConversationView {
            id,
            last_activity_ms,
            unread,
            muted,
            ..ConversationView::default()
        }
    }

    #[test]
    fn updates_keep_the_list_in_order_without_duplicates() {
        let mut list = vec![conversation(1, 10, 0, false), conversation(2, 5, 0, false)];
        upsert_conversation(&mut list, conversation(2, 20, 1, false));
        upsert_conversation(&mut list, conversation(3, 1, 0, false));
        let ids: Vec<i64> = list.iter().map(|c| c.id).collect();
        assert_eq!(ids, [2, 1, 3]);
    }

    #[test]
    fn muted_conversations_do_not_count_towards_the_total() {
        let list = [conversation(1, 0, 3, false), conversation(2, 0, 7, true)];
        assert_eq!(total_unread(&list), 3);
    }

    #[test]
    fn events_after_the_window_is_gone_go_nowhere() {
        let owner = Owner::new();
        owner.with(|| {
            let router = EventRouter::default();
            let live = Live::default();
            let event = || Event::ConversationUpdated {
                conversation: conversation(9, 1, 1, false),
            };
            // Held while the window reads its snapshots, then replayed on top of them.
            router.attach(live);
            router.deliver(event());
            assert!(live.conversations.with_untracked(Vec::is_empty));
            // A window gone before its snapshots arrived does not start delivery to this one.
            router.ready(Live::default());
            assert!(live.conversations.with_untracked(Vec::is_empty));
            router.ready(live);
            assert_eq!(live.conversations.with_untracked(Vec::len), 1);
            // After sign-out the window is detached: nothing touches its state.
            router.detach();
            live.conversations.set(Vec::new());
            router.deliver(event());
            assert!(live.conversations.with_untracked(Vec::is_empty));
        });
    }
}
