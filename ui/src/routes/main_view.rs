//! The main window: rail, conversation list, chat pane; and the live state they share.

use flint_proto::api::User;
use flint_proto::ipc::{ConnectionState, ConversationView, Event, MemberView, MessageView};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_icons::Icon;

use crate::app::Dark;
use crate::components::avatar::Avatar;
use crate::components::chat::{
    jump_to_latest, keep_newest, open_conversation, ChatPane, MAX_IN_DOM,
};
use crate::components::conversation_list::ConversationList;
use crate::components::new_chat::NewChat;
use crate::components::profile::ProfilePanel;
use crate::i18n::{use_tr, Locale};
use crate::ipc;

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
}

fn sort_conversations(list: &mut [ConversationView]) {
    list.sort_by(|a, b| {
        b.pinned
            .cmp(&a.pinned)
            .then(b.last_activity_ms.cmp(&a.last_activity_ms))
            .then(b.id.cmp(&a.id))
    });
}

impl Live {
    fn apply(&self, event: Event) {
        match event {
            Event::ConversationUpdated { conversation } => self.conversations.update(|list| {
                match list.iter_mut().find(|c| c.id == conversation.id) {
                    Some(existing) => *existing = conversation,
                    None => list.push(conversation),
                }
                sort_conversations(list);
            }),
            Event::MessageAdded { message } => {
                if self.selected.get_untracked() == Some(message.conversation_id) {
                    self.show_arrival(message);
                }
            }
            Event::MessageStatusChanged {
                local_id,
                status,
                server_id,
                ..
            } => {
                self.messages.update(|messages| {
                    if let Some(m) = messages.iter_mut().find(|m| m.local_id == local_id) {
                        m.status = status;
                        if server_id.is_some() {
                            m.server_id = server_id;
                        }
                    }
                });
            }
            Event::Typing {
                conversation_id,
                user_id,
            } => {
                if self.selected.get_untracked() == Some(conversation_id) {
                    self.typing.set(Some(user_id));
                    let typing = self.typing;
                    set_timeout(move || typing.set(None), std::time::Duration::from_secs(4));
                }
            }
            Event::ConnectionChanged { state } => self.connection.set(state),
            Event::OpenRequested { conversation_id } => {
                open_conversation(*self, conversation_id);
                // Handled here; the shell need not keep it for later.
                spawn_local(async move {
                    let _ = ipc::take_pending_open().await;
                });
            }
        }
    }

    /// A message arrived in the open conversation: append it when the window shows the newest
    /// messages, count it as unseen when the user is reading further up.
    fn show_arrival(&self, message: MessageView) {
        let at_bottom = self.at_bottom.get_untracked() || message.is_own;
        let full = self.messages.with_untracked(Vec::len) >= MAX_IN_DOM;
        if !self.at_newest.get_untracked() || (full && !at_bottom) {
            // The window ends before this message (or would outgrow the DOM bound under the
            // reader's eyes): count it, and jump to it when it is the user's own.
            self.at_newest.set(false);
            if message.is_own {
                jump_to_latest(*self);
            } else {
                self.unseen.update(|n| *n += 1);
            }
            return;
        }
        if !at_bottom {
            self.unseen.update(|n| *n += 1);
        }
        self.at_bottom.set(at_bottom);
        let id = message.conversation_id;
        self.messages.update(|messages| {
            if !messages.iter().any(|m| m.local_id == message.local_id) {
                messages.push(message);
            }
            keep_newest(messages);
        });
        // Only what the user can see counts as read.
        if at_bottom && document().has_focus().unwrap_or(false) {
            spawn_local(async move {
                let _ = ipc::mark_read(id).await;
            });
        }
    }
}

/// The signed-in window.
#[component]
pub fn MainView() -> impl IntoView {
    let tr = use_tr();
    let me = expect_context::<RwSignal<Option<User>>>();
    let locale = expect_context::<RwSignal<Locale>>();
    let Dark(dark) = expect_context::<Dark>();
    let live = Live {
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
    };
    provide_context(live);
    // Subscribe first, then read snapshots; events that arrive before the snapshots are held
    // back and replayed on top of them, so a late snapshot never hides a newer event.
    let early: StoredValue<Option<Vec<Event>>> = StoredValue::new(Some(Vec::new()));
    spawn_local(async move {
        let _ = ipc::listen(move |event| {
            let held = early.try_update_value(|held| match held {
                Some(buffer) => {
                    buffer.push(event.clone());
                    true
                }
                None => false,
            });
            if held != Some(true) {
                live.apply(event);
            }
        })
        .await;
        if let Ok(state) = ipc::connection_state().await {
            live.connection.set(state);
        }
        if let Ok(mut list) = ipc::conversations().await {
            sort_conversations(&mut list);
            live.conversations.set(list);
        }
        let held = early
            .try_update_value(Option::take)
            .flatten()
            .unwrap_or_default();
        for event in held {
            live.apply(event);
        }
        // A link or notification that started (or woke) the app before this view listened.
        if let Ok(Some(id)) = ipc::take_pending_open().await {
            open_conversation(live, id);
        }
    });
    // Esc closes the top panel; Ctrl/Cmd+K focuses search.
    let keys = window_event_listener(leptos::ev::keydown, move |ev| {
        if ev.key() == "Escape" {
            if live.profile.get_untracked() {
                live.profile.set(false);
            } else if live.new_chat.get_untracked() {
                live.new_chat.set(false);
            } else if live.drawer.get_untracked() {
                live.drawer.set(false);
            }
        }
        if (ev.ctrl_key() || ev.meta_key()) && ev.key().eq_ignore_ascii_case("k") {
            ev.prevent_default();
            if let Some(input) = document().get_element_by_id("list-search") {
                use wasm_bindgen::JsCast;
                if let Ok(input) = input.dyn_into::<web_sys::HtmlElement>() {
                    let _ = input.focus();
                }
            }
        }
    });
    on_cleanup(move || keys.remove());
    let total_unread = move || {
        live.conversations.with(|list| {
            list.iter()
                .filter(|c| !c.muted)
                .map(|c| c.unread)
                .sum::<u32>()
        })
    };
    let sign_out = move |_| {
        spawn_local(async move {
            let _ = ipc::sign_out().await;
            me.set(None);
        });
    };
    let my_name = Signal::derive(move || me.get().map(|u| u.display_name).unwrap_or_default());
    view! {
        <div class="shell">
            <nav class="rail" aria-label="Flint">
                <button class="rail-me" id="open-profile" title=move || tr("profile.title") aria-label=move || tr("profile.title")
                    on:click=move |_| live.profile.set(true)><Avatar name=my_name/></button>
                <button class="rail-btn active" title=move || tr("nav.chats") aria-label=move || tr("nav.chats")>
                    <Icon icon=icondata::LuMessageCircle/>
                    <Show when=move || { total_unread() > 0 }>
                        <span class="badge rail-badge">{total_unread}</span>
                    </Show>
                </button>
                <div class="rail-spacer"></div>
                <button class="rail-btn" id="toggle-theme" title=move || tr("nav.theme") aria-label=move || tr("nav.theme")
                    on:click=move |_| dark.update(|d| *d = !*d)><Icon icon=icondata::LuMoon/></button>
                <button class="rail-btn" id="toggle-lang" title=move || tr("nav.language") aria-label=move || tr("nav.language")
                    on:click=move |_| locale.update(|l| *l = l.toggled())><Icon icon=icondata::LuLanguages/></button>
                <button class="rail-btn" id="sign-out" title=move || tr("nav.sign_out") aria-label=move || tr("nav.sign_out")
                    on:click=sign_out><Icon icon=icondata::LuLogOut/></button>
            </nav>
            <ConversationList/>
            <ChatPane/>
            <Show when=move || live.new_chat.get()>
                <NewChat/>
            </Show>
            <Show when=move || live.profile.get()>
                <ProfilePanel/>
            </Show>
        </div>
    }
}
