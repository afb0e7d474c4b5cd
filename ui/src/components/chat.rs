//! The chat pane: header, message window (older pages load on scroll-up; the view stays at
//! the bottom when new messages arrive), typing line and composer.

use flint_proto::ipc::{ContentView, ConversationKind, MessageStatus, MessageView};
use leptos::html::Div;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_icons::Icon;

use crate::components::avatar::Avatar;
use crate::components::composer::Composer;
use crate::components::conversation_list::notice_text;
use crate::i18n::{use_tr, Locale};
use crate::ipc;
use crate::routes::main_view::Live;
use crate::time;

/// Messages per page.
const PAGE: u32 = 50;
/// Most messages kept in the DOM; older ones are dropped when the window grows past it.
const MAX_IN_DOM: usize = 300;
/// Messages of one sender within this gap form one group.
const GROUP_GAP_MS: i64 = 5 * 60 * 1000;

/// Opens a conversation: loads its newest page and marks it read.
pub fn open_conversation(live: Live, id: i64) {
    live.selected.set(Some(id));
    live.typing.set(None);
    spawn_local(async move {
        let members = ipc::members(id).await.unwrap_or_default();
        if let Ok(page) = ipc::messages(id, None, PAGE).await {
            if live.selected.get_untracked() == Some(id) {
                live.members.set(members);
                // Keep messages of this conversation that arrived while the page was read.
                live.messages.update(|messages| {
                    let arrived: Vec<MessageView> = messages
                        .drain(..)
                        .filter(|m| m.conversation_id == id)
                        .filter(|m| !page.iter().any(|p| p.local_id == m.local_id))
                        .collect();
                    *messages = page;
                    messages.extend(arrived);
                });
            }
        }
        let _ = ipc::mark_read(id).await;
        let _ = ipc::focus_conversation(Some(id)).await;
    });
}

fn scroll_to_bottom(list: NodeRef<Div>) {
    request_animation_frame(move || {
        if let Some(el) = list.get_untracked() {
            el.set_scroll_top(el.scroll_height());
        }
    });
}

fn load_older(live: Live, list: NodeRef<Div>, loading: RwSignal<bool>) {
    let Some(id) = live.selected.get_untracked() else {
        return;
    };
    let Some(oldest) = live
        .messages
        .with_untracked(|m| m.first().map(|m| m.local_id))
    else {
        return;
    };
    if loading.get_untracked() {
        return;
    }
    loading.set(true);
    spawn_local(async move {
        let page = ipc::messages(id, Some(oldest), PAGE)
            .await
            .unwrap_or_default();
        loading.set(false);
        if page.is_empty() || live.selected.get_untracked() != Some(id) {
            return;
        }
        let before = list
            .get_untracked()
            .map(|el| el.scroll_height())
            .unwrap_or(0);
        live.messages.update(|messages| {
            let mut merged = page;
            merged.append(messages);
            merged.truncate(MAX_IN_DOM.max(merged.len().min(MAX_IN_DOM)));
            *messages = merged;
        });
        // Keep the message the user was reading in place.
        request_animation_frame(move || {
            if let Some(el) = list.get_untracked() {
                el.set_scroll_top(el.scroll_height() - before);
            }
        });
    });
}

/// The pane.
#[component]
pub fn ChatPane() -> impl IntoView {
    let tr = use_tr();
    let live = expect_context::<Live>();
    let list: NodeRef<Div> = NodeRef::new();
    let loading = RwSignal::new(false);
    let at_bottom = RwSignal::new(true);
    let current = move || {
        let id = live.selected.get()?;
        live.conversations
            .with(|list| list.iter().find(|c| c.id == id).cloned())
    };
    // Stay at the bottom when new messages arrive, unless the user scrolled up to read.
    Effect::new(move |_| {
        live.messages.track();
        if at_bottom.get_untracked() {
            scroll_to_bottom(list);
        }
    });
    Effect::new(move |_| {
        live.selected.track();
        at_bottom.set(true);
        scroll_to_bottom(list);
    });
    let on_scroll = move |_| {
        if let Some(el) = list.get_untracked() {
            at_bottom.set(el.scroll_height() - el.scroll_top() - el.client_height() < 40);
            if el.scroll_top() < 40 {
                load_older(live, list, loading);
            }
        }
    };
    view! {
        <section class="chat">
            <Show when=move || current().is_some()
                fallback=move || view! { <div class="empty chat-empty"><p>{move || tr("chat.none")}</p></div> }>
                <header class="chat-head">
                    <div class="chat-head-text">
                        <h2 class="chat-title">{move || current().map(|c| c.title).unwrap_or_default()}</h2>
                        <Show when=move || current().map(|c| c.kind == ConversationKind::Group).unwrap_or(false)>
                            <span class="chat-sub">{move || current().map(|c| c.member_count).unwrap_or(0)}" "{move || tr("chat.members")}</span>
                        </Show>
                    </div>
                    <button id="members-toggle" class="icon-btn" title=move || tr("members.title")
                        aria-label=move || tr("members.title") aria-pressed=move || live.drawer.get().to_string()
                        on:click=move |_| live.drawer.update(|open| *open = !*open)>
                        <Icon icon=icondata::LuUsers/>
                    </button>
                </header>
                <Show when=move || live.drawer.get()>
                    <MembersDrawer/>
                </Show>
                <ConnectionBanner/>
                <div class="messages" node_ref=list on:scroll=on_scroll role="log" aria-live="polite">
                    <Show when=move || loading.get()>
                        <p class="loading">{move || tr("chat.load_more")}</p>
                    </Show>
                    <For each=move || grouped(&live.messages.get())
                        key=|item| (item.message.local_id, item.head, item.day)
                        children=move |item| view! { <MessageRow item=item/> }/>
                </div>
                <Show when=move || live.typing.get().is_some()>
                    <p class="typing">{move || current().map(|c| c.title).unwrap_or_default()}" "{move || tr("chat.typing")}</p>
                </Show>
                <Composer/>
            </Show>
        </section>
    }
}

/// A message with what its position in the list decides.
#[derive(Clone, PartialEq)]
struct Item {
    message: MessageView,
    /// First of a group: show the name and avatar.
    head: bool,
    /// First of a day: the day separator's time.
    day: Option<i64>,
}

fn grouped(messages: &[MessageView]) -> Vec<Item> {
    let mut previous: Option<&MessageView> = None;
    messages
        .iter()
        .map(|message| {
            let new_day = previous.map_or(true, |p| {
                time::day_key(p.created_at_ms) != time::day_key(message.created_at_ms)
            });
            let head = new_day
                || previous.map_or(true, |p| {
                    p.sender_id != message.sender_id
                        || message.created_at_ms - p.created_at_ms > GROUP_GAP_MS
                });
            previous = Some(message);
            Item {
                message: message.clone(),
                head,
                day: new_day.then_some(message.created_at_ms),
            }
        })
        .collect()
}

#[component]
fn MessageRow(item: Item) -> impl IntoView {
    let tr = use_tr();
    let locale = expect_context::<RwSignal<Locale>>();
    let live = expect_context::<Live>();
    let message = item.message.clone();
    let day = item.day.map(|ms| {
        view! { <div class="day-separator"><span>{move || time::day_label(ms, locale.get() == Locale::Zh)}</span></div> }
    });
    let body = match message.content.clone() {
        ContentView::System { kind, actor_id, .. } => {
            let actor = Signal::derive(move || sender_label(live, actor_id));
            return view! { {day}<div class="notice">{actor}" "{notice_text(&kind, tr)}</div> }
                .into_any();
        }
        // Text is inserted as a text node: markup in a message is shown, never interpreted.
        ContentView::Text { body, .. } => view! { <div class="bubble">{body}</div> }.into_any(),
        ContentView::Unsupported { kind } => {
            view! { <div class="bubble unsupported">{move || tr("chat.unsupported")}" ("{kind.clone()}")"</div> }.into_any()
        }
    };
    let sender = message.sender_id;
    let sender_name = Signal::derive(move || sender_label(live, sender));
    let own = message.is_own;
    let local_id = message.local_id;
    let initial = message.status;
    // The row stays; only its status follows the live list.
    let status = Memo::new(move |_| {
        live.messages.with(|messages| {
            messages
                .iter()
                .find(|m| m.local_id == local_id)
                .map_or(initial, |m| m.status)
        })
    });
    let clock = time::clock(message.created_at_ms);
    view! {
        {day}
        <div class="message" class:own=own class:head=item.head data-local-id=local_id
            data-status=move || status_name(status.get())>
            <div class="gutter">
                {(item.head && !own).then(|| view! { <Avatar name=sender_name/> })}
            </div>
            <div class="content">
                {(item.head && !own).then(|| view! { <div class="sender">{sender_name}</div> })}
                <div class="line">
                    {body}
                    <span class="meta" title=clock.clone()>{clock.clone()}</span>
                    {own.then(|| view! { <StatusIcon status=status.into() local_id=local_id/> })}
                </div>
            </div>
        </div>
    }
    .into_any()
}

/// The display name of a member of the open conversation.
fn sender_label(live: Live, sender: i64) -> String {
    live.members.with(|members| {
        members
            .iter()
            .find(|m| m.user.id == sender)
            .map(|m| m.user.display_name.clone())
            .unwrap_or_default()
    })
}

fn status_name(status: MessageStatus) -> &'static str {
    match status {
        MessageStatus::Sending => "sending",
        MessageStatus::Sent => "sent",
        MessageStatus::Delivered => "delivered",
        MessageStatus::Read => "read",
        MessageStatus::Failed => "failed",
    }
}

#[component]
fn StatusIcon(status: Signal<MessageStatus>, local_id: i64) -> impl IntoView {
    let tr = use_tr();
    let look = move || match status.get() {
        MessageStatus::Sending => ("◌", "status.sending"),
        MessageStatus::Sent => ("✓", "status.sent"),
        MessageStatus::Delivered => ("✓✓", "status.delivered"),
        MessageStatus::Read => ("✓✓", "status.read"),
        MessageStatus::Failed => ("⚠", "status.failed"),
    };
    let retry = move |_| {
        if status.get_untracked() == MessageStatus::Failed {
            spawn_local(async move {
                let _ = ipc::retry(local_id).await;
            });
        }
    };
    view! {
        <button class=move || format!("status status-{}", status_name(status.get()))
            title=move || tr(look().1) aria-label=move || tr(look().1) on:click=retry>{move || look().0}</button>
    }
}

/// "Offline — reconnecting" and friends, above the messages.
#[component]
fn ConnectionBanner() -> impl IntoView {
    use flint_proto::ipc::ConnectionState;
    let tr = use_tr();
    let live = expect_context::<Live>();
    let text = move || match live.connection.get() {
        ConnectionState::Online => None,
        ConnectionState::Connecting => Some(tr("banner.connecting")),
        ConnectionState::Syncing => Some(tr("banner.syncing")),
        ConnectionState::Reconnecting { .. } => Some(tr("banner.reconnecting")),
        ConnectionState::SignedOut => Some(tr("banner.signed_out")),
    };
    view! {
        <Show when=move || text().is_some()>
            <div class="banner" id="connection-banner" role="status">{move || text().unwrap_or_default()}</div>
        </Show>
    }
}

/// The info drawer: who is in the open conversation.
#[component]
fn MembersDrawer() -> impl IntoView {
    let tr = use_tr();
    let live = expect_context::<Live>();
    view! {
        <aside class="drawer" aria-label=move || tr("members.title")>
            <h3>{move || tr("members.title")}</h3>
            <ul class="members">
                <For each=move || live.members.get() key=|m| m.user.id children=move |member| {
                    let name = member.user.display_name.clone();
                    view! {
                        <li class="member" data-username=member.user.username.clone()>
                            <Avatar name=Signal::derive(move || name.clone())/>
                            <span class="member-name">{member.user.display_name.clone()}</span>
                            <span class="muted-text">"@"{member.user.username.clone()}</span>
                            {(member.role != "member").then(|| view! { <span class="role">{member.role.clone()}</span> })}
                        </li>
                    }
                }/>
            </ul>
        </aside>
    }
}
