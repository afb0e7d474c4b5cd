//! The main window: rail, conversation list, chat pane, and the panels over them. It creates
//! the window's state ([`Live`]) and hands it to the app's event router while it is mounted.

use flint_proto::api::User;
use flint_proto::ipc::ConversationView;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_icons::Icon;

use crate::app::Dark;
use crate::components::avatar::Avatar;
use crate::components::call::CallOverlay;
use crate::components::chat::ChatPane;
use crate::components::conversation_list::ConversationList;
use crate::components::new_chat::NewChat;
use crate::components::problem::ProblemLine;
use crate::components::profile::ProfilePanel;
use crate::i18n::{use_tr, Locale};
use crate::ipc;
use crate::state::{total_unread, EventRouter, Live};

/// The signed-in window.
#[component]
pub fn MainView() -> impl IntoView {
    let tr = use_tr();
    let me = expect_context::<RwSignal<Option<User>>>();
    let locale = expect_context::<RwSignal<Locale>>();
    let Dark(dark) = expect_context::<Dark>();
    let router = expect_context::<EventRouter>();
    let live = Live::default();
    provide_context(live);
    // Events are held from now until the snapshots are read, then replayed on top of them, so
    // a late snapshot never hides a newer event. When the view goes (sign-out), nothing more
    // reaches its state.
    router.attach(live);
    on_cleanup(move || router.detach());
    spawn_local(async move {
        if let Ok(state) = ipc::connection_state().await {
            live.connection.try_set(state);
        }
        if let Ok(mut list) = ipc::conversations().await {
            list.sort_by(ConversationView::list_order);
            live.conversations.try_set(list);
        }
        router.ready(live);
        // A link or notification that started (or woke) the app before this view listened.
        if let Ok(Some(id)) = ipc::take_pending_open().await {
            if live.is_alive() {
                live.open(id);
            }
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
    let total_unread = move || live.conversations.with(|list| total_unread(list));
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
            <CallOverlay/>
            <ProblemLine/>
        </div>
    }
}
