//! The chat pane: header, message window (older pages load on scroll-up; the view stays at
//! the bottom when new messages arrive), typing line and composer.

use flint_proto::ipc::{
    CallKind, ContentView, ConversationKind, ConversationView, MemberView, MessageStatus,
    MessageView, Role,
};
use flint_proto::ErrorCode;
use leptos::html::Div;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_icons::Icon;

use crate::components::attachment;
use crate::components::avatar::Avatar;
use crate::components::call::{call_kind_key, call_outcome_text, CallButtons};
use crate::components::composer::Composer;
use crate::components::conversation_list::notice_text;
use crate::components::staging::StagingSheet;
use crate::components::viewer::Viewer;
use crate::i18n::{self, use_tr, Locale};
use crate::ipc;
use crate::state::{window, Live, PAGE};
use crate::time;

/// Messages of one sender within this gap form one group.
const GROUP_GAP_MS: i64 = 5 * 60 * 1000;
/// How close (px) to an end of the list a page starts loading.
const LOAD_MARGIN: i32 = 200;

fn scroll_to_bottom(list: NodeRef<Div>) {
    request_animation_frame(move || {
        if let Some(el) = list.get_untracked() {
            el.set_scroll_top(el.scroll_height());
        }
    });
}

/// The first message row in view and its distance from the list's top edge.
struct Anchor {
    local_id: String,
    offset: f64,
}

fn first_visible(list: &web_sys::HtmlDivElement) -> Option<Anchor> {
    use wasm_bindgen::JsCast;
    let top = list.get_bounding_client_rect().top();
    let rows = list.query_selector_all(".message").ok()?;
    (0..rows.length())
        .filter_map(|i| rows.item(i)?.dyn_into::<web_sys::Element>().ok())
        .find_map(|row| {
            let rect = row.get_bounding_client_rect();
            (rect.bottom() > top).then(|| Anchor {
                local_id: row.get_attribute("data-local-id").unwrap_or_default(),
                offset: rect.top() - top,
            })
        })
}

/// After the window changed, scrolls so the anchor row is where it was.
fn restore(list: NodeRef<Div>, anchor: Option<Anchor>) {
    let Some(anchor) = anchor else { return };
    request_animation_frame(move || {
        let Some(el) = list.get_untracked() else {
            return;
        };
        let selector = format!(".message[data-local-id='{}']", anchor.local_id);
        if let Ok(Some(row)) = el.query_selector(&selector) {
            let moved = row.get_bounding_client_rect().top()
                - el.get_bounding_client_rect().top()
                - anchor.offset;
            el.set_scroll_top(el.scroll_top() + moved.round() as i32);
        }
    });
}

/// Which way the window slides.
#[derive(Clone, Copy, PartialEq)]
enum Direction {
    Older,
    Newer,
}

/// Loads a page at one end of the window and drops as much from the other end, keeping the
/// row the user is reading in place.
fn slide(live: Live, list: NodeRef<Div>, loading: RwSignal<bool>, direction: Direction) {
    let Some(id) = live.selected.get_untracked() else {
        return;
    };
    let edge = live.messages.with_untracked(|m| match direction {
        Direction::Older => m.first().map(|m| m.local_id),
        Direction::Newer => m.last().map(|m| m.local_id),
    });
    let Some(edge) = edge else { return };
    if loading.get_untracked() {
        return;
    }
    loading.set(true);
    spawn_local(async move {
        let page = match direction {
            Direction::Older => ipc::messages(id, Some(edge), PAGE).await,
            Direction::Newer => ipc::messages_after(id, edge, PAGE).await,
        }
        .unwrap_or_default();
        loading.try_set(false);
        if !live.is_open(id) {
            return;
        }
        if direction == Direction::Newer && page.len() < PAGE as usize {
            live.at_newest.set(true);
        }
        if page.is_empty() {
            return;
        }
        let anchor = list.get_untracked().and_then(|el| first_visible(&el));
        live.messages.update(|messages| match direction {
            Direction::Older => {
                messages.splice(0..0, page);
                if window::keep_oldest(messages) {
                    live.at_newest.set(false);
                }
            }
            Direction::Newer => {
                messages.extend(page);
                window::keep_newest(messages);
            }
        });
        restore(list, anchor);
    });
}

/// The number of messages not yet seen below the view.
#[component]
fn NewMessagesPill() -> impl IntoView {
    let tr = use_tr();
    let live = expect_context::<Live>();
    view! {
        <Show when=move || { live.unseen.get() > 0 }>
            <button id="new-messages" class="new-pill" on:click=move |_| live.jump_to_latest()>
                {move || live.unseen.get()}" "{move || tr("chat.new_messages")}" ↓"
            </button>
        </Show>
    }
}

/// Pin and mute switches for the open conversation.
#[component]
fn ConversationSwitches(current: Signal<Option<ConversationView>>) -> impl IntoView {
    let tr = use_tr();
    let pinned = move || current.with(|c| c.as_ref().is_some_and(|c| c.pinned));
    let muted = move || current.with(|c| c.as_ref().is_some_and(|c| c.muted));
    let id = move || current.with(|c| c.as_ref().map(|c| c.id));
    let toggle_pin = move |_| {
        let (Some(id), on) = (id(), !pinned()) else {
            return;
        };
        spawn_local(async move {
            let _ = ipc::set_pinned(id, on).await;
        });
    };
    let toggle_mute = move |_| {
        let (Some(id), on) = (id(), !muted()) else {
            return;
        };
        spawn_local(async move {
            let _ = ipc::set_muted(id, on).await;
        });
    };
    let pin_label = move || tr(if pinned() { "chat.unpin" } else { "chat.pin" });
    let mute_label = move || tr(if muted() { "chat.unmute" } else { "chat.mute" });
    view! {
        <button id="pin-toggle" class="icon-btn" class:on=pinned title=pin_label aria-label=pin_label
            aria-pressed=move || pinned().to_string() on:click=toggle_pin>
            <Icon icon=icondata::LuPin/>
        </button>
        <button id="mute-toggle" class="icon-btn" class:on=muted title=mute_label aria-label=mute_label
            aria-pressed=move || muted().to_string() on:click=toggle_mute>
            {move || if muted() { view! { <Icon icon=icondata::LuBellOff/> } } else { view! { <Icon icon=icondata::LuBell/> } }}
        </button>
    }
}

/// The pane.
#[component]
pub fn ChatPane() -> impl IntoView {
    let tr = use_tr();
    let live = expect_context::<Live>();
    let locale = expect_context::<RwSignal<Locale>>();
    let list: NodeRef<Div> = NodeRef::new();
    let loading = RwSignal::new(false);
    let last_position = StoredValue::new((0, 0));
    let current = Signal::derive(move || {
        let id = live.selected.get()?;
        live.conversations
            .with(|list| list.iter().find(|c| c.id == id).cloned())
    });
    // Stay at the bottom when new messages arrive, unless the user scrolled up to read.
    Effect::new(move |_| {
        live.messages.track();
        if live.at_bottom.get_untracked() && live.at_newest.get_untracked() {
            scroll_to_bottom(list);
        }
    });
    let on_scroll = move |_| {
        let Some(el) = list.get_untracked() else {
            return;
        };
        let below = el.scroll_height() - el.scroll_top() - el.client_height();
        // Content growing below the view is not the user leaving the bottom, nor is the browser
        // pulling the view up when rows are dropped above it; scrolling up is.
        let (top, height) = last_position.get_value();
        let scrolled_up = el.scroll_top() < top && el.scroll_height() >= height;
        last_position.set_value((el.scroll_top(), el.scroll_height()));
        live.at_bottom
            .set(below < 40 || (live.at_bottom.get_untracked() && !scrolled_up));
        if below < 40 && live.at_newest.get_untracked() && live.unseen.get_untracked() > 0 {
            live.unseen.set(0);
            if let Some(id) = live.selected.get_untracked() {
                spawn_local(async move {
                    let _ = ipc::mark_read(id).await;
                });
            }
        }
        if el.scroll_top() < LOAD_MARGIN {
            slide(live, list, loading, Direction::Older);
        } else if below < LOAD_MARGIN && !live.at_newest.get_untracked() {
            slide(live, list, loading, Direction::Newer);
        }
    };
    view! {
        <section class="chat">
            <Show when=move || current.get().is_some()
                fallback=move || view! { <div class="empty chat-empty"><p>{move || tr("chat.none")}</p></div> }>
                <header class="chat-head">
                    <div class="chat-head-text">
                        <h2 class="chat-title">{move || current.get().map(|c| c.title).unwrap_or_default()}</h2>
                        <Show when=move || current.get().map(|c| c.kind == ConversationKind::Group).unwrap_or(false)>
                            <span class="chat-sub">{move || current.get().map(|c| c.member_count).unwrap_or(0)}" "{move || tr("chat.members")}</span>
                        </Show>
                    </div>
                    <div class="chat-actions">
                        <Show when=move || current.get().is_some_and(|c| c.kind == ConversationKind::Direct)>
                            <CallButtons conversation_id=Signal::derive(move || current.get().map(|c| c.id))/>
                        </Show>
                        <ConversationSwitches current=current/>
                        <button id="members-toggle" class="icon-btn" title=move || tr("members.title")
                            aria-label=move || tr("members.title") aria-pressed=move || live.drawer.get().to_string()
                            on:click=move |_| live.drawer.update(|open| *open = !*open)>
                            <Icon icon=icondata::LuUsers/>
                        </button>
                    </div>
                </header>
                <Show when=move || live.drawer.get()>
                    <MembersDrawer/>
                </Show>
                <ConnectionBanner/>
                <div class="messages" node_ref=list on:scroll=on_scroll role="log" aria-live="polite">
                    <Show when=move || loading.get()>
                        <p class="loading">{move || tr("chat.load_more")}</p>
                    </Show>
                    <For each=move || rows(live, locale.get())
                        key=Item::key
                        children=move |item| view! { <MessageRow item=item/> }/>
                </div>
                <NewMessagesPill/>
                <Show when=move || live.typing.get().is_some()>
                    <p class="typing">{move || current.get().map(|c| c.title).unwrap_or_default()}" "{move || tr("chat.typing")}</p>
                </Show>
                <Composer/>
                <StagingSheet/>
                <Viewer/>
            </Show>
        </section>
    }
}

/// A message row with everything it shows decided when the list is built. Rows read no signal
/// themselves: Leptos 0.8 keeps an entry for every removed row in the subscriber list of each
/// signal the row read until that signal next changes, and the locale and the member list
/// rarely do while the message window creates thousands of rows. A change of language, name
/// or status changes the row's key, and so makes a fresh row.
#[derive(Clone, PartialEq)]
struct Item {
    message: MessageView,
    /// First of a group: show the name and avatar.
    head: bool,
    /// First of a day: the day separator's label.
    day: Option<String>,
    /// The display name of its sender (of whoever acted, for a notice).
    sender: String,
    /// The language the row is written in.
    locale: Locale,
}

impl Item {
    /// Equal for two items exactly when they render the same row.
    fn key(&self) -> (i64, bool, Option<String>, String, MessageStatus, bool) {
        (
            self.message.local_id,
            self.head,
            self.day.clone(),
            self.sender.clone(),
            self.message.status,
            self.locale == Locale::Zh,
        )
    }
}

/// The rows of the message window, in `locale`.
fn rows(live: Live, locale: Locale) -> Vec<Item> {
    let zh = locale == Locale::Zh;
    live.members.with(|members| {
        live.messages.with(|messages| {
            let mut previous: Option<&MessageView> = None;
            messages
                .iter()
                .map(|message| {
                    let new_day = previous.is_none_or(|p| {
                        time::day_key(p.created_at_ms) != time::day_key(message.created_at_ms)
                    });
                    let head = new_day
                        || previous.is_none_or(|p| {
                            p.sender_id != message.sender_id
                                || message.created_at_ms - p.created_at_ms > GROUP_GAP_MS
                        });
                    previous = Some(message);
                    let named = match &message.content {
                        ContentView::System { actor_id, .. } => *actor_id,
                        _ => message.sender_id,
                    };
                    Item {
                        message: message.clone(),
                        head,
                        day: new_day.then(|| time::day_label(message.created_at_ms, zh)),
                        sender: member_name(members, named),
                        locale,
                    }
                })
                .collect()
        })
    })
}

/// The display name of a member of the open conversation.
fn member_name(members: &[MemberView], user_id: i64) -> String {
    members
        .iter()
        .find(|m| m.user.id == user_id)
        .map(|m| m.user.display_name.clone())
        .unwrap_or_default()
}

#[component]
fn MessageRow(item: Item) -> impl IntoView {
    let tr = |key| i18n::tr(item.locale, key);
    let message = &item.message;
    let day = item
        .day
        .clone()
        .map(|label| view! { <div class="day-separator"><span>{label}</span></div> });
    let body = match message.content.clone() {
        ContentView::System { kind, .. } => {
            let actor = item.sender.clone();
            return view! { {day}<div class="notice">{actor}" "{notice_text(kind, tr)}</div> }
                .into_any();
        }
        // Text is inserted as a text node: markup in a message is shown, never interpreted.
        ContentView::Text { body, .. } => view! { <div class="bubble">{body}</div> }.into_any(),
        ContentView::File { .. }
        | ContentView::Image { .. }
        | ContentView::Sticker { .. }
        | ContentView::Voice { .. }
        | ContentView::Video { .. } => attachment::bubble(message, item.locale)
            .unwrap_or_else(|| view! { <div class="bubble"></div> }.into_any()),
        ContentView::Call {
            kind,
            outcome,
            duration_ms,
        } => {
            let what = tr(call_kind_key(kind));
            let how = call_outcome_text(outcome, duration_ms, tr);
            // An icon, not an emoji: a plain Linux install may have no colour emoji font.
            let icon = match kind {
                CallKind::Audio => icondata::LuPhone,
                CallKind::Video => icondata::LuVideo,
            };
            view! {
                <div class="bubble call-log"><span class="call-log-icon" aria-hidden="true"><Icon icon/></span>{what}" · "{how}</div>
            }
            .into_any()
        }
        ContentView::Unsupported { kind } => {
            view! { <div class="bubble unsupported">{tr("chat.unsupported")}" ("{kind}")"</div> }
                .into_any()
        }
    };
    let own = message.is_own;
    let local_id = message.local_id;
    let status = message.status;
    let clock = time::clock(message.created_at_ms);
    let show_sender = item.head && !own;
    let sender = item.sender.clone();
    let failed = (status == MessageStatus::Failed).then(|| {
        let reason = tr(failure_key(message.failure, &message.content));
        view! { <FailedNote local_id reason locale=item.locale/> }
    });
    view! {
        {day}
        <div class="message" class:own=own class:head=item.head data-local-id=local_id
            data-status=status_name(status)>
            <div class="gutter">
                {show_sender.then(|| view! { <Avatar name=sender.clone()/> })}
            </div>
            <div class="content">
                {show_sender.then(|| view! { <div class="sender">{sender}</div> })}
                <div class="line">
                    {body}
                    <span class="meta" title=clock.clone()>{clock.clone()}</span>
                    {own.then(|| view! { <StatusIcon status local_id label=tr(status_label(status))/> })}
                </div>
                {failed}
            </div>
        </div>
    }
    .into_any()
}

/// The words for why a message was not sent.
fn failure_key(failure: Option<ErrorCode>, content: &ContentView) -> &'static str {
    let text = matches!(content, ContentView::Text { .. });
    match failure {
        Some(ErrorCode::TooLarge) if text => "failed.too_large",
        Some(ErrorCode::TooLarge) => "failed.file_too_large",
        Some(ErrorCode::Forbidden | ErrorCode::NotFound) => "failed.forbidden",
        Some(ErrorCode::BadRequest) => "failed.invalid",
        Some(ErrorCode::QuotaExceeded) => "failed.quota",
        Some(ErrorCode::TypeNotAllowed) => "failed.type",
        Some(ErrorCode::Cancelled) => "failed.cancelled",
        _ => "failed.other",
    }
}

/// Under a failed message: why, and what the user can do about it.
#[component]
fn FailedNote(local_id: i64, reason: &'static str, locale: Locale) -> impl IntoView {
    let tr = move |key| i18n::tr(locale, key);
    let retry = move |_| {
        spawn_local(async move {
            let _ = ipc::retry(local_id).await;
        });
    };
    let delete = move |_| {
        spawn_local(async move {
            let _ = ipc::delete_failed(local_id).await;
        });
    };
    view! {
        <div class="failed-note" role="alert">
            <span>"⚠ "{tr("failed.not_sent")}" "{reason}</span>
            <button class="link retry" on:click=retry>{tr("failed.retry")}</button>
            <button class="link delete" on:click=delete>{tr("failed.delete")}</button>
        </div>
    }
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

fn status_label(status: MessageStatus) -> &'static str {
    match status {
        MessageStatus::Sending => "status.sending",
        MessageStatus::Sent => "status.sent",
        MessageStatus::Delivered => "status.delivered",
        MessageStatus::Read => "status.read",
        MessageStatus::Failed => "status.failed",
    }
}

fn status_glyph(status: MessageStatus) -> &'static str {
    match status {
        MessageStatus::Sending => "◌",
        MessageStatus::Sent => "✓",
        MessageStatus::Delivered | MessageStatus::Read => "✓✓",
        MessageStatus::Failed => "⚠",
    }
}

/// An own message's status; a failed one retries on click.
#[component]
fn StatusIcon(status: MessageStatus, local_id: i64, label: &'static str) -> impl IntoView {
    let retry = move |_| {
        if status == MessageStatus::Failed {
            spawn_local(async move {
                let _ = ipc::retry(local_id).await;
            });
        }
    };
    view! {
        <button class=format!("status status-{}", status_name(status))
            title=label aria-label=label on:click=retry>{status_glyph(status)}</button>
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

/// The label of a role worth showing (plain members show none).
fn role_key(role: Role) -> Option<&'static str> {
    match role {
        Role::Owner => Some("role.owner"),
        Role::Admin => Some("role.admin"),
        Role::Member => None,
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
                            {role_key(member.role).map(|key| view! { <span class="role">{move || tr(key)}</span> })}
                        </li>
                    }
                }/>
            </ul>
        </aside>
    }
}
