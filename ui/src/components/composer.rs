//! The composer: Enter sends, Shift+Enter breaks the line; the draft is saved per
//! conversation (and survives restarts, through the core).

use leptos::html::Textarea;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::i18n::use_tr;
use crate::ipc;
use crate::state::Live;

/// Milliseconds between typing notices.
const TYPING_EVERY_MS: f64 = 3000.0;

/// The composer of the open conversation.
#[component]
pub fn Composer() -> impl IntoView {
    let tr = use_tr();
    let live = expect_context::<Live>();
    let text = RwSignal::new(String::new());
    let input: NodeRef<Textarea> = NodeRef::new();
    let last_typing = RwSignal::new(0.0f64);
    // Load the draft of each conversation as it opens.
    Effect::new(move |_| {
        let Some(id) = live.selected.get() else {
            return;
        };
        spawn_local(async move {
            let draft = ipc::draft(id).await.ok().flatten().unwrap_or_default();
            if live.selected.get_untracked() == Some(id) {
                text.set(draft);
                if let Some(el) = input.get_untracked() {
                    let _ = el.focus();
                }
            }
        });
    });
    let send = move || {
        let Some(id) = live.selected.get_untracked() else {
            return;
        };
        let body = text.get_untracked();
        if body.trim().is_empty() {
            return;
        }
        text.set(String::new());
        spawn_local(async move {
            if ipc::send_text(id, &body).await.is_err() {
                text.set(body);
            }
        });
    };
    let on_input = move |ev| {
        let value = event_target_value(&ev);
        text.set(value.clone());
        let Some(id) = live.selected.get_untracked() else {
            return;
        };
        let now = js_sys::Date::now();
        let notify = now - last_typing.get_untracked() > TYPING_EVERY_MS && !value.is_empty();
        if notify {
            last_typing.set(now);
        }
        spawn_local(async move {
            let _ = ipc::set_draft(id, &value).await;
            if notify {
                let _ = ipc::typing(id).await;
            }
        });
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Enter" && !ev.shift_key() && !ev.is_composing() {
            ev.prevent_default();
            send();
        }
    };
    view! {
        <footer class="composer">
            <textarea id="composer" node_ref=input rows="3" placeholder=move || tr("composer.placeholder")
                aria-label=move || tr("composer.placeholder")
                prop:value=text on:input=on_input on:keydown=on_keydown></textarea>
            <button id="send" class="primary" on:click=move |_| send()
                disabled=move || text.with(|t| t.trim().is_empty())>{move || tr("composer.send")}</button>
        </footer>
    }
}
