//! The composer: Enter sends, Shift+Enter breaks the line; the draft is saved per
//! conversation (and survives restarts, through the core). The microphone button records a
//! voice message in its place until it is sent or cancelled; the smile opens the sticker
//! panel.

use leptos::html::Textarea;
use leptos::prelude::*;
use leptos::task::spawn_local;

use leptos_icons::Icon;
use wasm_bindgen_futures::JsFuture;

use crate::components::stickers::StickerPanel;
use crate::i18n::use_tr;
use crate::ipc;
use crate::state::media::duration;
use crate::state::problem::voice_problem;
use crate::state::recording::Recording;
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
    let attach = move |_| {
        spawn_local(async move {
            if let Ok(staged) = ipc::pick_files().await {
                live.staged.set(staged);
            }
        });
    };
    let record = move |_| {
        live.recording.set(Some(Recording::default()));
        spawn_local(async move {
            if let Err(error) = ipc::start_voice().await {
                live.recording.set(None);
                live.problem.set(Some(voice_problem(error.code)));
            }
        });
    };
    let stickers_open = RwSignal::new(false);
    view! {
        <StickerPanel open=stickers_open/>
        <footer class="composer">
            <Show when=move || live.recording.with(Option::is_none)
                fallback=move || view! { <RecordingBar/> }>
                <button id="attach" class="icon-btn" aria-label=move || tr("composer.attach")
                    title=move || tr("composer.attach") on:click=attach><Icon icon=icondata::LuPaperclip/></button>
                <textarea id="composer" node_ref=input rows="3" placeholder=move || tr("composer.placeholder")
                    aria-label=move || tr("composer.placeholder")
                    prop:value=text on:input=on_input on:keydown=on_keydown on:paste=on_paste(live)></textarea>
                <button id="sticker-open" class="icon-btn" aria-label=move || tr("sticker.open")
                    title=move || tr("sticker.open") aria-expanded=move || stickers_open.get().to_string()
                    on:click=move |_| stickers_open.update(|open| *open = !*open)>
                    <Icon icon=icondata::LuSmile/></button>
                <button id="voice-record" class="icon-btn" aria-label=move || tr("voice.record")
                    title=move || tr("voice.record") on:click=record><Icon icon=icondata::LuMic/></button>
                <button id="send" class="primary" on:click=move |_| send()
                    disabled=move || text.with(|t| t.trim().is_empty())>{move || tr("composer.send")}</button>
            </Show>
        </footer>
    }
}

/// The composer while a voice message records: time, level, cancel (also Escape) and send.
#[component]
fn RecordingBar() -> impl IntoView {
    let tr = use_tr();
    let live = expect_context::<Live>();
    let now = move || live.recording.get().unwrap_or_default();
    let cancel = move || {
        live.recording.set(None);
        spawn_local(async move {
            let _ = ipc::cancel_voice().await;
        });
    };
    let send = move |_| {
        let (Some(recording), Some(id)) = (now_recording(live), live.selected.get_untracked())
        else {
            return;
        };
        live.recording.set(None);
        spawn_local(async move {
            if !recording.long_enough() {
                let _ = ipc::cancel_voice().await;
                live.problem.set(Some("problem.voice_too_short"));
            } else if let Err(error) = ipc::send_voice(id).await {
                live.problem.set(Some(voice_problem(error.code)));
            }
        });
    };
    let on_keydown = move |ev: leptos::ev::KeyboardEvent| {
        if ev.key() == "Escape" {
            cancel();
        }
    };
    view! {
        <div class="recording" role="status" on:keydown=on_keydown>
            <span class="recording-dot" aria-hidden="true"></span>
            <span class="recording-time">{move || duration(now().elapsed_ms / 1000 * 1000)}</span>
            <span class="recording-level" aria-hidden="true">
                <span style=move || format!("width:{}%", now().level_percent())></span>
            </span>
            <span class="recording-hint">{move || {
                tr(if now().full { "voice.full" } else { "voice.recording" })
            }}</span>
            <button id="voice-cancel" class="icon-btn" aria-label=move || tr("voice.cancel")
                title=move || tr("voice.cancel") on:click=move |_| cancel()>
                <Icon icon=icondata::LuX/></button>
            <button id="voice-send" class="primary" autofocus=true on:click=send>
                {move || tr("composer.send")}</button>
        </div>
    }
}

fn now_recording(live: Live) -> Option<Recording> {
    live.recording.get_untracked()
}

/// Pasting files (a screenshot, files copied in the file manager) stages them for the sheet
/// instead of inserting text.
fn on_paste(live: Live) -> impl Fn(leptos::ev::ClipboardEvent) {
    move |ev| {
        let Some(files) = ev.clipboard_data().and_then(|data| data.files()) else {
            return;
        };
        if files.length() == 0 {
            return;
        }
        ev.prevent_default();
        let files: Vec<web_sys::File> = (0..files.length()).filter_map(|i| files.get(i)).collect();
        spawn_local(async move {
            for file in files {
                let Ok(buffer) = JsFuture::from(file.array_buffer()).await else {
                    continue;
                };
                let bytes = js_sys::Uint8Array::new(&buffer).to_vec();
                if let Ok(staged) = ipc::stage_pasted(&pasted_name(&file), &bytes).await {
                    live.staged.set(staged);
                }
            }
        });
    }
}

/// The name a pasted file is sent under: its own when it is plain ASCII (a header carries
/// it), else `pasted-<time>` with the extension its type implies.
fn pasted_name(file: &web_sys::File) -> String {
    let name = file.name();
    if !name.is_empty() && name.is_ascii() && !name.contains(['/', '\\']) {
        return name;
    }
    let extension = match file.type_().as_str() {
        "image/png" => "png",
        "image/jpeg" => "jpg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        _ => "bin",
    };
    format!("pasted-{}.{extension}", js_sys::Date::now() as u64)
}
