//! The sticker panel above the composer: the user's stickers (the server's list, fetched each
//! time it opens, so every device shows the same), a click sends one to the open
//! conversation and closes the panel, × removes one; Escape or another conversation closes
//! it. Pictures are kept as stickers from the picture viewer.

use flint_proto::api::Sticker;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_icons::Icon;

use crate::i18n::use_tr;
use crate::ipc;
use crate::state::problem::sticker_problem;
use crate::state::Live;

/// The panel, shown while `open` is set.
#[component]
pub fn StickerPanel(open: RwSignal<bool>) -> impl IntoView {
    let tr = use_tr();
    let live = expect_context::<Live>();
    // `None` while the list is on its way.
    let stickers = RwSignal::new(None::<Vec<Sticker>>);
    Effect::new(move |_| {
        if !open.get() {
            return;
        }
        stickers.set(None);
        spawn_local(async move {
            match ipc::stickers().await {
                Ok(list) => _ = stickers.try_set(Some(list)),
                Err(error) => {
                    open.set(false);
                    live.problem.set(Some(sticker_problem(error.code)));
                }
            }
        });
    });
    Effect::new(move |_| {
        live.selected.track();
        open.set(false);
    });
    let send = move |file_id: String| {
        let Some(conversation_id) = live.selected.get_untracked() else {
            return;
        };
        open.set(false);
        spawn_local(async move {
            if let Err(error) = ipc::send_sticker(conversation_id, &file_id).await {
                live.problem.set(Some(sticker_problem(error.code)));
            }
        });
    };
    let remove = move |file_id: String| {
        spawn_local(async move {
            match ipc::remove_sticker(&file_id).await {
                Ok(()) => stickers.update(|list| {
                    if let Some(list) = list {
                        list.retain(|s| s.file_id != file_id);
                    }
                }),
                Err(error) => live.problem.set(Some(sticker_problem(error.code))),
            }
        });
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" {
            open.set(false);
        }
    };
    // Each sticker is told apart by its place ("Send sticker 3"), its picture having no words.
    let item = move |(index, sticker): (usize, Sticker)| {
        let (to_send, to_remove) = (sticker.file_id.clone(), sticker.file_id.clone());
        let send_label = move || format!("{} {}", tr("sticker.send"), index + 1);
        let remove_label = move || format!("{} {}", tr("sticker.remove"), index + 1);
        view! {
            <li class="sticker-item">
                <button class="sticker-choice" data-file-id=sticker.file_id.clone()
                    aria-label=send_label title=send_label
                    on:click=move |_| send(to_send.clone())>
                    <img src=ipc::sticker_url(&sticker.file_id) alt="" loading="lazy"/>
                </button>
                <button class="sticker-remove" aria-label=remove_label
                    title=remove_label on:click=move |_| remove(to_remove.clone())>
                    <Icon icon=icondata::LuX/></button>
            </li>
        }
    };
    // Focus moves into the panel as it opens, so Escape and Tab work from there.
    let panel: NodeRef<leptos::html::Div> = NodeRef::new();
    Effect::new(move |_| {
        if let Some(panel) = panel.get() {
            let _ = panel.focus();
        }
    });
    view! {
        <Show when=move || open.get()>
            <div class="sticker-panel" role="dialog" aria-label=move || tr("sticker.panel")
                tabindex="-1" node_ref=panel on:keydown=on_keydown>
                {move || match stickers.get() {
                    None => ().into_any(),
                    Some(list) if list.is_empty() => view! {
                        <p class="sticker-empty">{move || tr("sticker.empty")}</p>
                    }.into_any(),
                    Some(list) => view! {
                        <ul class="sticker-grid">{list.into_iter().enumerate().map(item).collect_view()}</ul>
                    }.into_any(),
                }}
            </div>
        </Show>
    }
}
