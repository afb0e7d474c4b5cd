//! The conversation column: search, new chat, and one row per conversation.

use flint_proto::ipc::{MessageView, NoticeKind, Preview};
use leptos::prelude::*;
use leptos_icons::Icon;

use crate::components::avatar::Avatar;
use crate::components::call::call_kind_key;
use crate::i18n::{self, use_tr, Locale};
use crate::state::Live;
use crate::time;

/// A one-line preview of a message, in words.
pub fn preview(message: &MessageView, tr: impl Fn(&'static str) -> &'static str) -> String {
    match message.preview() {
        Preview::Text(text) => text.to_owned(),
        Preview::Notice(kind) => notice_text(kind, tr).to_owned(),
        Preview::File(name) => format!("[{}] {name}", tr("preview.file")),
        Preview::Image => format!("[{}]", tr("preview.image")),
        Preview::Sticker => format!("[{}]", tr("preview.sticker")),
        Preview::Voice(ms) => format!("[{}] {}\"", tr("preview.voice"), ms.div_ceil(1000)),
        Preview::Video => format!("[{}]", tr("preview.video")),
        Preview::Call(kind) => format!("[{}]", tr(call_kind_key(kind))),
        Preview::Unsupported(kind) => format!("[{kind}]"),
    }
}

/// The words for a system notice.
pub fn notice_text(kind: NoticeKind, tr: impl Fn(&'static str) -> &'static str) -> &'static str {
    tr(match kind {
        NoticeKind::GroupCreated => "notice.group_created",
        NoticeKind::MembersAdded => "notice.members_added",
        NoticeKind::MembersRemoved => "notice.members_removed",
        NoticeKind::MemberLeft => "notice.member_left",
        NoticeKind::GroupRenamed => "notice.group_renamed",
        NoticeKind::Unknown => "notice.unknown",
    })
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
    let locale = expect_context::<RwSignal<Locale>>();
    let in_view = move || {
        let (start, end) = range.get();
        let shown = ids.with(|ids| ids[start..end].to_vec());
        list_items(live, &shown, locale.get())
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
                    <For each=in_view key=|item| item.clone() children=move |item| view! { <Row item=item/> }/>
                    <li class="spacer" role="presentation" style=below></li>
                </ul>
            </Show>
        </section>
    }
}

/// A conversation row with everything it shows decided when the list is built. Like message
/// rows, rows read no signal themselves (Leptos 0.8 keeps a dead subscriber entry per removed
/// row in every signal a row read, and the list makes rows on every scroll); the item is its
/// own key, so any change makes a fresh row — a screenful of them at most.
#[derive(Clone, PartialEq, Eq, Hash)]
struct ListItem {
    id: i64,
    title: String,
    time: String,
    /// The unsent draft, if any, else the last message's preview.
    draft: Option<String>,
    preview: String,
    unread: u32,
    pinned: bool,
    muted: bool,
    selected: bool,
    locale: Locale,
}

/// The rows for the conversations `ids`, in `locale`.
fn list_items(live: Live, ids: &[i64], locale: Locale) -> Vec<ListItem> {
    let zh = locale == Locale::Zh;
    let tr = |key| i18n::tr(locale, key);
    let selected = live.selected.get();
    live.conversations.with(|list| {
        ids.iter()
            .filter_map(|id| list.iter().find(|c| c.id == *id))
            .map(|c| ListItem {
                id: c.id,
                title: c.title.clone(),
                time: time::list_time(c.last_activity_ms, zh),
                draft: c.draft.clone(),
                preview: c
                    .last_message
                    .as_ref()
                    .map(|m| preview(m, tr))
                    .unwrap_or_default(),
                unread: c.unread,
                pinned: c.pinned,
                muted: c.muted,
                selected: selected == Some(c.id),
                locale,
            })
            .collect()
    })
}

#[component]
fn Row(item: ListItem) -> impl IntoView {
    let tr = |key| i18n::tr(item.locale, key);
    let live = expect_context::<Live>();
    let id = item.id;
    let preview = match item.draft {
        Some(draft) => {
            view! { <span class="draft-mark">{tr("list.draft")}</span>" "{draft} }.into_any()
        }
        None => view! { <span>{item.preview}</span> }.into_any(),
    };
    view! {
        <li class="row" class:selected=item.selected class:muted=item.muted class:pinned=item.pinned
            role="option" tabindex="0" data-id=id aria-selected=item.selected.to_string()
            on:click=move |_| live.open(id)
            on:keydown=move |ev| if ev.key() == "Enter" { live.open(id) }>
            <Avatar name=item.title.clone()/>
            <div class="row-main">
                <div class="row-top">
                    <span class="row-title">{item.title}</span>
                    {item.muted.then(|| view! {
                        <span class="row-flag" title=tr("chat.unmute")><Icon icon=icondata::LuBellOff/></span>
                    })}
                    <span class="row-time">{item.time}</span>
                </div>
                <div class="row-bottom">
                    <span class="row-preview">{preview}</span>
                    {(item.unread > 0).then(|| view! {
                        <span class="badge unread-badge" class:muted-badge=item.muted>{item.unread}</span>
                    })}
                </div>
            </div>
        </li>
    }
}
