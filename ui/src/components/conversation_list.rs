//! The conversation column: search, new chat, and one row per conversation.

use flint_proto::ipc::{ContentView, ConversationView, MessageView};
use leptos::prelude::*;
use leptos_icons::Icon;

use crate::components::avatar::Avatar;
use crate::components::chat::open_conversation;
use crate::i18n::{use_tr, Locale};
use crate::routes::main_view::Live;
use crate::time;

/// A one-line preview of a message.
pub fn preview(message: &MessageView, tr: impl Fn(&'static str) -> &'static str) -> String {
    match &message.content {
        ContentView::Text { body, .. } => body.lines().next().unwrap_or_default().to_owned(),
        ContentView::System { kind, .. } => notice_text(kind, tr).to_owned(),
        ContentView::Unsupported { kind } => format!("[{kind}]"),
    }
}

/// The words for a system notice.
pub fn notice_text(kind: &str, tr: impl Fn(&'static str) -> &'static str) -> &'static str {
    match kind {
        "group_created" => tr("notice.group_created"),
        "members_added" => tr("notice.members_added"),
        "members_removed" => tr("notice.members_removed"),
        "member_left" => tr("notice.member_left"),
        _ => tr("notice.group_renamed"),
    }
}

/// Height of a row (px); fixed, so the list can render only the rows in view.
const ROW_HEIGHT: i32 = 64;
/// Rows rendered above and below the visible ones.
const OVERSCAN: usize = 6;

/// The rows in view (plus overscan) of a list of `total`: (first index, end index).
fn rows_in_view(scroll_top: i32, viewport: i32, total: usize) -> (usize, usize) {
    let first = usize::try_from(scroll_top / ROW_HEIGHT).unwrap_or(0);
    let shown = usize::try_from(viewport / ROW_HEIGHT + 1).unwrap_or(0);
    let start = first.saturating_sub(OVERSCAN).min(total);
    let end = (first + shown + OVERSCAN).min(total);
    (start, end)
}

/// The list: a virtual list of fixed-height rows, so thousands of conversations cost what a
/// screenful does.
#[component]
pub fn ConversationList() -> impl IntoView {
    let tr = use_tr();
    let live = expect_context::<Live>();
    let filter = RwSignal::new(String::new());
    let rows: NodeRef<leptos::html::Ul> = NodeRef::new();
    let scroll_top = RwSignal::new(0);
    let viewport = RwSignal::new(800);
    let ids = Memo::new(move |_| {
        let needle = filter.get().to_lowercase();
        live.conversations.with(|list| {
            list.iter()
                .filter(|c| needle.is_empty() || c.title.to_lowercase().contains(&needle))
                .map(|c| c.id)
                .collect::<Vec<i64>>()
        })
    });
    let range = Memo::new(move |_| {
        ids.with(|ids| rows_in_view(scroll_top.get(), viewport.get(), ids.len()))
    });
    let in_view = move || {
        let (start, end) = range.get();
        ids.with(|ids| ids[start..end].to_vec())
    };
    let above = move || format!("height: {}px", range.get().0 as i32 * ROW_HEIGHT);
    let below = move || {
        let below = ids.with(Vec::len) - range.get().1;
        format!("height: {}px", below as i32 * ROW_HEIGHT)
    };
    let measure = move || {
        if let Some(el) = rows.get_untracked() {
            scroll_top.set(el.scroll_top());
            viewport.set(el.client_height());
        }
    };
    request_animation_frame(measure);
    let resize = window_event_listener(leptos::ev::resize, move |_| measure());
    on_cleanup(move || resize.remove());
    view! {
        <section class="list" aria-label=move || tr("nav.chats")>
            <div class="list-head">
                <input id="list-search" class="search" type="search" placeholder=move || tr("list.search")
                    prop:value=filter on:input=move |ev| filter.set(event_target_value(&ev))/>
                <button id="new-chat" class="icon-btn" title=move || tr("list.new_chat")
                    aria-label=move || tr("list.new_chat") on:click=move |_| live.new_chat.set(true)><Icon icon=icondata::LuPlus/></button>
            </div>
            <Show when=move || !live.conversations.with(Vec::is_empty)
                fallback=move || view! {
                    <div class="empty">
                        <p>{move || tr("list.empty")}</p>
                        <button class="primary" on:click=move |_| live.new_chat.set(true)>{move || tr("list.start")}</button>
                    </div>
                }>
                <ul class="rows" role="listbox" node_ref=rows on:scroll=move |_| measure()>
                    <li class="spacer" role="presentation" style=above></li>
                    <For each=in_view key=|id| *id children=move |id| view! { <Row id=id/> }/>
                    <li class="spacer" role="presentation" style=below></li>
                </ul>
            </Show>
        </section>
    }
}

#[component]
fn Row(id: i64) -> impl IntoView {
    let tr = use_tr();
    let live = expect_context::<Live>();
    let locale = expect_context::<RwSignal<Locale>>();
    // Rows are keyed by id and read their conversation reactively, so an update changes text
    // in place instead of replacing the row.
    let conversation = Memo::new(move |_| {
        live.conversations
            .with(|list| list.iter().find(|c| c.id == id).cloned())
    });
    let field = move |read: fn(&ConversationView) -> String| {
        move || conversation.with(|c| c.as_ref().map(read).unwrap_or_default())
    };
    let selected = move || live.selected.get() == Some(id);
    let muted = move || conversation.with(|c| c.as_ref().is_some_and(|c| c.muted));
    let pinned = move || conversation.with(|c| c.as_ref().is_some_and(|c| c.pinned));
    let unread = move || conversation.with(|c| c.as_ref().map_or(0, |c| c.unread));
    let name = Signal::derive(field(|c| c.title.clone()));
    let time = move || {
        let ms = conversation.with(|c| c.as_ref().map_or(0, |c| c.last_activity_ms));
        time::list_time(ms, locale.get() == Locale::Zh)
    };
    let draft = move || conversation.with(|c| c.as_ref().and_then(|c| c.draft.clone()));
    let last = move || {
        conversation.with(|c| {
            c.as_ref()
                .and_then(|c| c.last_message.as_ref().map(|m| preview(m, tr)))
        })
    };
    view! {
        <li class="row" class:selected=selected class:muted=muted class:pinned=pinned role="option" tabindex="0"
            data-id=id aria-selected=move || selected().to_string()
            on:click=move |_| open_conversation(live, id)
            on:keydown=move |ev| if ev.key() == "Enter" { open_conversation(live, id) }>
            <Avatar name=name/>
            <div class="row-main">
                <div class="row-top">
                    <span class="row-title">{move || name.get()}</span>
                    <Show when=muted>
                        <span class="row-flag" title=move || tr("chat.unmute")><Icon icon=icondata::LuBellOff/></span>
                    </Show>
                    <span class="row-time">{time}</span>
                </div>
                <div class="row-bottom">
                    <span class="row-preview">
                        <Show when=move || draft().is_some()
                            fallback=move || view! { <span>{move || last().unwrap_or_default()}</span> }>
                            <span class="draft-mark">{move || tr("list.draft")}</span>" "{move || draft().unwrap_or_default()}
                        </Show>
                    </span>
                    <Show when=move || { unread() > 0 }>
                        <span class="badge unread-badge" class:muted-badge=muted>{unread}</span>
                    </Show>
                </div>
            </div>
        </li>
    }
}
