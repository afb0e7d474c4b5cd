//! The picture viewer: the original over the window, zoom (wheel, + and −), ← and → through
//! all of the conversation's pictures (loaded or not), save as, copy (the button or Ctrl+C),
//! add to stickers, and Escape or a click outside to close.

use flint_proto::ipc::Toward;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_icons::Icon;

use crate::components::problem::{file_action, run_file_action};
use crate::i18n::use_tr;
use crate::ipc::{self, Media};
use crate::state::problem::{sticker_problem, FileAction};
use crate::state::Live;

/// Zoom limits and step.
const MIN_ZOOM: f64 = 0.25;
const MAX_ZOOM: f64 = 8.0;
const ZOOM_STEP: f64 = 1.25;
/// How long the copy (or sticker) button says the picture was copied (or kept).
const COPIED_FOR: std::time::Duration = std::time::Duration::from_secs(2);

/// The viewer, shown while a picture is open.
#[component]
pub fn Viewer() -> impl IntoView {
    let tr = use_tr();
    let live = expect_context::<Live>();
    let zoom = RwSignal::new(1.0f64);
    let close = move || live.viewer.set(None);
    let go = move |toward: Toward| {
        let Some(current) = live.viewer.get_untracked() else {
            return;
        };
        spawn_local(async move {
            let Ok(Some(next)) = ipc::neighbour_picture(current, toward).await else {
                return;
            };
            // Only if the viewer still shows the picture it stepped from.
            if live.viewer.get_untracked() == Some(current) {
                zoom.set(1.0);
                live.viewer.set(Some(next));
            }
        });
    };
    let scale = move |factor: f64| zoom.update(|z| *z = (*z * factor).clamp(MIN_ZOOM, MAX_ZOOM));
    let save = move || {
        if let Some(id) = live.viewer.get_untracked() {
            run_file_action(live, FileAction::Save, id);
        }
    };
    let copied = RwSignal::new(false);
    let copy = move || {
        let Some(id) = live.viewer.get_untracked() else {
            return;
        };
        spawn_local(async move {
            if file_action(live, FileAction::Copy, id).await && copied.try_set(true).is_none() {
                set_timeout(move || _ = copied.try_set(false), COPIED_FOR);
            }
        });
    };
    let added = RwSignal::new(false);
    let add_sticker = move || {
        let Some(id) = live.viewer.get_untracked() else {
            return;
        };
        spawn_local(async move {
            match ipc::add_sticker(id).await {
                Ok(_) if added.try_set(true).is_none() => {
                    set_timeout(move || _ = added.try_set(false), COPIED_FOR);
                }
                Ok(_) => {}
                Err(error) => live.problem.set(Some(sticker_problem(error.code))),
            }
        });
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| match ev.key().as_str() {
        "c" | "C" if ev.ctrl_key() || ev.meta_key() => copy(),
        "Escape" => close(),
        "ArrowLeft" => go(Toward::Older),
        "ArrowRight" => go(Toward::Newer),
        "+" | "=" => scale(ZOOM_STEP),
        "-" => scale(1.0 / ZOOM_STEP),
        _ => {}
    };
    let on_wheel = move |ev: leptos::ev::WheelEvent| {
        ev.prevent_default();
        scale(if ev.delta_y() < 0.0 {
            ZOOM_STEP
        } else {
            1.0 / ZOOM_STEP
        });
    };
    view! {
        <Show when=move || live.viewer.get().is_some()>
            <div class="viewer" role="dialog" aria-modal="true" aria-label=move || tr("viewer.title")
                tabindex="-1" autofocus on:keydown=on_keydown on:wheel=on_wheel
                on:click=move |_| close()>
                <img class="viewer-picture" alt=""
                    src=move || live.viewer.get().map(|id| ipc::media_url(Media::Original(id))).unwrap_or_default()
                    style=move || format!("transform:scale({})", zoom.get())
                    on:click=|ev| ev.stop_propagation()/>
                <div class="viewer-bar" on:click=|ev| ev.stop_propagation()>
                    <button class="icon-btn" aria-label=move || tr("viewer.previous") on:click=move |_| go(Toward::Older)><Icon icon=icondata::LuChevronLeft/></button>
                    <button class="icon-btn" aria-label=move || tr("viewer.zoom_out") on:click=move |_| scale(1.0 / ZOOM_STEP)><Icon icon=icondata::LuZoomOut/></button>
                    <span class="viewer-zoom">{move || format!("{:.0}%", zoom.get() * 100.0)}</span>
                    <button class="icon-btn" aria-label=move || tr("viewer.zoom_in") on:click=move |_| scale(ZOOM_STEP)><Icon icon=icondata::LuZoomIn/></button>
                    <button class="icon-btn" aria-label=move || tr("viewer.next") on:click=move |_| go(Toward::Newer)><Icon icon=icondata::LuChevronRight/></button>
                    <button class="icon-btn" aria-label=move || tr("viewer.save") on:click=move |_| save()><Icon icon=icondata::LuDownload/></button>
                    <button class="icon-btn" id="viewer-copy" data-copied=move || copied.get().to_string()
                        aria-label=move || tr(if copied.get() { "viewer.copied" } else { "viewer.copy" })
                        on:click=move |_| copy()>
                        {move || if copied.get() { view! { <Icon icon=icondata::LuCheck/> } } else { view! { <Icon icon=icondata::LuCopy/> } }}
                    </button>
                    <button class="icon-btn" id="viewer-sticker" data-added=move || added.get().to_string()
                        aria-label=move || tr(if added.get() { "viewer.sticker_added" } else { "viewer.add_sticker" })
                        on:click=move |_| add_sticker()>
                        {move || if added.get() { view! { <Icon icon=icondata::LuCheck/> } } else { view! { <Icon icon=icondata::LuSmilePlus/> } }}
                    </button>
                    <button class="icon-btn" id="viewer-close" aria-label=move || tr("viewer.close") on:click=move |_| close()><Icon icon=icondata::LuX/></button>
                </div>
            </div>
        </Show>
    }
}
