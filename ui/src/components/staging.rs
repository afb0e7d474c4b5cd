//! The sheet of files chosen to send (picked, dropped or pasted): each with its thumbnail or
//! icon, name and size, removable; Send sends them all to the open conversation.

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_icons::Icon;

use crate::i18n::use_tr;
use crate::ipc::{self, Media};
use crate::sizes;
use crate::state::Live;

/// The sheet, shown while files are staged.
#[component]
pub fn StagingSheet() -> impl IntoView {
    let tr = use_tr();
    let live = expect_context::<Live>();
    let refused = RwSignal::new(false);
    // Files staged before the page (re)loaded are still waiting.
    spawn_local(async move {
        if let Ok(staged) = ipc::staged_files().await {
            live.staged.set(staged);
        }
    });
    let close = move || {
        live.staged.set(Vec::new());
        spawn_local(async {
            let _ = ipc::clear_staged().await;
        });
    };
    let send = move || {
        let Some(id) = live.selected.get_untracked() else {
            return;
        };
        live.staged.set(Vec::new());
        refused.set(false);
        spawn_local(async move {
            // What could not be sent stays staged: show it again, with why.
            if ipc::send_staged(id).await.is_err() {
                if let Ok(left) = ipc::staged_files().await {
                    refused.try_set(true);
                    live.staged.try_set(left);
                }
            }
        });
    };
    let remove = move |index: u32| {
        spawn_local(async move {
            if let Ok(left) = ipc::unstage(index).await {
                live.staged.set(left);
            }
        });
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
        "Escape" => close(),
        "Enter" => {
            ev.prevent_default();
            send();
        }
        _ => {}
    };
    view! {
        <Show when=move || live.staged.with(|s| !s.is_empty())>
            <div class="sheet-backdrop" on:click=move |_| close()></div>
            <section class="sheet staging" role="dialog" aria-modal="true"
                aria-labelledby="staging-title" tabindex="-1" on:keydown=on_keydown>
                <h2 id="staging-title">{move || tr("staging.title")}</h2>
                <ul class="staged">
                    {move || live.staged.get().into_iter().map(|file| {
                        let index = file.index;
                        let thumb = if file.is_picture {
                            view! { <img class="staged-thumb" alt="" src=ipc::media_url(Media::Staged(index))/> }.into_any()
                        } else {
                            view! { <span class="staged-thumb icon" aria-hidden="true"><Icon icon=icondata::LuFile/></span> }.into_any()
                        };
                        view! {
                            <li class="staged-file">
                                {thumb}
                                <span class="file-name" title=file.name.clone()>{file.name.clone()}</span>
                                <span class="file-size">{sizes::bytes(file.size)}</span>
                                <button class="icon-btn" aria-label=move || tr("staging.remove")
                                    on:click=move |_| remove(index)><Icon icon=icondata::LuX/></button>
                            </li>
                        }
                    }).collect_view()}
                </ul>
                <Show when=move || refused.get()>
                    <p class="form-error" role="alert">{move || tr("staging.refused")}</p>
                </Show>
                <div class="sheet-actions">
                    <button id="staging-cancel" on:click=move |_| close()>{move || tr("staging.cancel")}</button>
                    <button id="staging-send" class="primary" on:click=move |_| send()>
                        {move || format!("{} ({})", tr("staging.send"), live.staged.with(Vec::len))}
                    </button>
                </div>
            </section>
        </Show>
    }
}
