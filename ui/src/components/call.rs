//! Calls on screen: the overlay of the call on this device (ringing, connecting, connected,
//! ended, with accept / decline / hang up / mute / camera), the header's call buttons, and
//! calls in words (call-log bubbles, previews).

use std::time::Duration;

use flint_proto::ipc::{CallKind, CallOutcome, CallPhase, CallQuality, CallView};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_icons::Icon;

use crate::i18n::use_tr;
use crate::ipc::{self, Media};
use crate::state::problem::call_problem;
use crate::state::Live;
use crate::time::span;

/// The words for a kind of call.
pub fn call_kind_key(kind: CallKind) -> &'static str {
    match kind {
        CallKind::Audio => "preview.call_audio",
        CallKind::Video => "preview.call_video",
    }
}

/// How a call ended, in words (with its length when it was answered).
pub fn call_outcome_text(
    outcome: CallOutcome,
    duration_ms: u64,
    tr: impl Fn(&'static str) -> &'static str,
) -> String {
    let key = match outcome {
        CallOutcome::Missed => "call.missed",
        CallOutcome::Declined => "call.declined",
        CallOutcome::Cancelled => "call.cancelled",
        CallOutcome::Busy => "call.busy",
        CallOutcome::HungUp => "call.hung_up",
        CallOutcome::ConnectionLost => "call.connection_lost",
        CallOutcome::AnsweredElsewhere => "call.answered_elsewhere",
        CallOutcome::Failed => "call.failed",
        CallOutcome::Unknown => "call.unknown",
    };
    if duration_ms == 0 {
        return tr(key).to_owned();
    }
    format!("{} {}", tr(key), span(duration_ms / 1000))
}

/// The words for where a call stands.
fn phase_key(call: &CallView) -> &'static str {
    match (call.phase, call.outgoing) {
        (CallPhase::Ringing, true) => "call.calling",
        (CallPhase::Ringing, false) => "call.incoming",
        (CallPhase::Connecting, _) => "call.connecting",
        (CallPhase::Connected, _) => "call.connected",
        (CallPhase::Ended { .. }, _) => "call.ended",
    }
}

/// How long the call has lasted since it was answered, ticking each second (outside the
/// status's live region, which would read every tick aloud).
#[component]
fn CallClock(since_ms: Option<i64>) -> impl IntoView {
    let tr = use_tr();
    let now = move || js_sys::Date::now() as i64;
    let since = since_ms.unwrap_or_else(now);
    let at = RwSignal::new(now());
    if let Ok(ticks) = set_interval_with_handle(move || at.set(now()), Duration::from_secs(1)) {
        on_cleanup(move || ticks.clear());
    }
    let elapsed = move || span(u64::try_from(at.get() - since).unwrap_or(0) / 1000);
    view! {
        <p class="call-clock" id="call-clock" role="timer" aria-label=move || tr("call.length")>{elapsed}</p>
    }
}

/// The words for how the network carries a call.
fn quality_key(quality: CallQuality) -> &'static str {
    match quality {
        CallQuality::Good => "call.quality_good",
        CallQuality::Fair => "call.quality_fair",
        CallQuality::Poor => "call.quality_poor",
    }
}

/// Three signal bars for the call's network quality (lit: 3 good, 2 fair, 1 poor), once the
/// other side has reported on it.
#[component]
fn NetworkBars(quality: Signal<Option<CallQuality>>) -> impl IntoView {
    let tr = use_tr();
    let lit = move || match quality.get() {
        Some(CallQuality::Good) => 3,
        Some(CallQuality::Fair) => 2,
        Some(CallQuality::Poor) => 1,
        None => 0,
    };
    let words = move || {
        quality
            .get()
            .map(|q| tr(quality_key(q)))
            .unwrap_or_default()
    };
    view! {
        <Show when=move || quality.get().is_some()>
            <span class="call-quality" id="call-quality" role="img"
                data-quality=move || lit().to_string() aria-label=words title=words>
                {(1..=3).map(|bar| view! {
                    <span class={move || if lit() >= bar { "bar lit" } else { "bar" }}></span>
                }).collect_view()}
            </span>
        </Show>
    }
}

/// Audio and video call buttons for a direct conversation's header.
#[component]
pub fn CallButtons(conversation_id: Signal<Option<i64>>) -> impl IntoView {
    let tr = use_tr();
    let live = expect_context::<Live>();
    let start = move |kind: CallKind| {
        let Some(id) = conversation_id.get_untracked() else {
            return;
        };
        spawn_local(async move {
            match ipc::start_call(id, kind).await {
                Ok(call) => {
                    live.call.try_set(Some(call));
                }
                Err(error) => {
                    live.problem.try_set(Some(call_problem(error.code)));
                }
            }
        });
    };
    view! {
        <button id="call-audio" class="icon-btn" title=move || tr("call.start_audio")
            aria-label=move || tr("call.start_audio") on:click=move |_| start(CallKind::Audio)>
            <Icon icon=icondata::LuPhone/>
        </button>
        <button id="call-video" class="icon-btn" title=move || tr("call.start_video")
            aria-label=move || tr("call.start_video") on:click=move |_| start(CallKind::Video)>
            <Icon icon=icondata::LuVideo/>
        </button>
    }
}

/// The call on this device, over the window while there is one.
#[component]
pub fn CallOverlay() -> impl IntoView {
    let tr = use_tr();
    let live = expect_context::<Live>();
    let call = move || live.call.get();
    spawn_local(async move {
        if let Ok(Some(call)) = ipc::current_call().await {
            if live.call.try_get_untracked().flatten().is_none() && !is_over(&call) {
                live.call.try_set(Some(call));
            }
        }
    });
    let peer = move || {
        live.call.get().and_then(|call| {
            live.conversations.with(|list| {
                list.iter()
                    .find(|c| c.id == call.conversation_id)
                    .map(|c| c.title.clone())
            })
        })
    };
    let id = move || {
        live.call
            .get_untracked()
            .map(|c| c.call_id)
            .unwrap_or_default()
    };
    let accept = move |_| {
        let id = id();
        spawn_local(async move {
            let _ = ipc::accept_call(&id).await;
        });
    };
    let hang_up = move |_| {
        let id = id();
        spawn_local(async move {
            let _ = ipc::hang_up(&id).await;
        });
    };
    let toggle_mute = move |_| {
        let Some(call) = live.call.get_untracked() else {
            return;
        };
        spawn_local(async move {
            let _ =
                ipc::set_call_media(&call.call_id, !call.local.muted, call.local.camera_off).await;
        });
    };
    let toggle_camera = move |_| {
        let Some(call) = live.call.get_untracked() else {
            return;
        };
        spawn_local(async move {
            let _ =
                ipc::set_call_media(&call.call_id, call.local.muted, !call.local.camera_off).await;
        });
    };
    let dismiss = move |_| live.call.set(None);
    let video_on = move || {
        call().is_some_and(|c| c.kind == CallKind::Video && !is_over(&c) && !c.remote.camera_off)
    };
    view! {
        <Show when=move || call().is_some()>
            <div class="call-overlay" id="call-overlay" role="dialog" aria-modal="false"
                aria-label=move || tr("call.title")
                data-phase=move || call().map(|c| phase_name(&c)).unwrap_or_default()>
                <Show when=move || call().is_some_and(|c| c.kind == CallKind::Video
                    && !is_over(&c) && c.remote.camera_off)>
                    <p class="call-camera-off" id="call-remote-camera-off">{move || tr("call.remote_camera_off")}</p>
                </Show>
                <Show when=move || live.call_picture.get().is_some() && video_on()>
                    <RemoteVideo/>
                </Show>
                <p class="call-peer">{peer}</p>
                <p class="call-state" role="status" aria-live="polite">{move || {
                    call().map(|c| match c.phase {
                        // The log bubble gives an answered call's length; here it is over.
                        CallPhase::Ended { outcome: CallOutcome::HungUp } => tr("call.ended").to_owned(),
                        CallPhase::Ended { outcome } => call_outcome_text(outcome, 0, tr),
                        _ => format!("{} · {}", tr(call_kind_key(c.kind)), tr(phase_key(&c))),
                    })
                }}</p>
                <Show when=move || call().is_some_and(|c| c.phase == CallPhase::Connected)>
                    <div class="call-meter">
                        // Read untracked: the clock is made once per connected call, not
                        // again on every change of the call (mute, quality).
                        <CallClock since_ms=live.call.get_untracked().and_then(|c| c.answered_at_ms)/>
                        <NetworkBars quality=Signal::derive(move || call().and_then(|c| c.quality))/>
                    </div>
                </Show>
                <div class="call-actions">
                    <Show when=move || call().is_some_and(|c| c.phase == CallPhase::Ringing && !c.outgoing)>
                        <button id="call-accept" class="call-btn accept" title=move || tr("call.accept")
                            aria-label=move || tr("call.accept") on:click=accept><Icon icon=icondata::LuPhone/></button>
                    </Show>
                    <Show when=move || call().is_some_and(|c| matches!(c.phase, CallPhase::Connecting | CallPhase::Connected))>
                        <button id="call-mute" class="call-btn" title=move || tr("call.mute")
                            aria-label=move || tr("call.mute")
                            aria-pressed=move || call().is_some_and(|c| c.local.muted).to_string()
                            on:click=toggle_mute><Icon icon=icondata::LuMicOff/></button>
                    </Show>
                    <Show when=move || call().is_some_and(|c| c.kind == CallKind::Video
                        && matches!(c.phase, CallPhase::Connecting | CallPhase::Connected))>
                        <button id="call-camera" class="call-btn" title=move || tr("call.camera_off")
                            aria-label=move || tr("call.camera_off")
                            aria-pressed=move || call().is_some_and(|c| c.local.camera_off).to_string()
                            on:click=toggle_camera><Icon icon=icondata::LuVideoOff/></button>
                    </Show>
                    <Show when=move || call().is_some_and(|c| !is_over(&c))
                        fallback=move || view! {
                            <button id="call-dismiss" class="call-btn" title=move || tr("call.close")
                                aria-label=move || tr("call.close") on:click=dismiss><Icon icon=icondata::LuX/></button>
                        }>
                        <button id="call-hang-up" class="call-btn hang-up" title=move || tr("call.hang_up")
                            aria-label=move || tr("call.hang_up") on:click=hang_up><Icon icon=icondata::LuPhoneOff/></button>
                    </Show>
                </div>
            </div>
        </Show>
    }
}

/// The other side's video: the newest picture, asked for only once the one before it has
/// loaded (a picture changed before it loads would never show at all).
#[component]
fn RemoteVideo() -> impl IntoView {
    let tr = use_tr();
    let live = expect_context::<Live>();
    let shown = RwSignal::new(live.call_picture.get_untracked());
    let loading = StoredValue::new(true);
    let next = move || {
        let newest = live.call_picture.get_untracked();
        if newest.is_some() && newest != shown.get_untracked() {
            loading.set_value(true);
            shown.set(newest);
        }
    };
    Effect::new(move |_| {
        live.call_picture.track();
        if !loading.get_value() {
            next();
        }
    });
    let loaded = move || {
        loading.set_value(false);
        next();
    };
    view! {
        <img id="call-remote-video" class="call-video" alt=move || tr("call.remote_video")
            src=move || shown.get().map(|n| ipc::media_url(Media::CallPicture(n))).unwrap_or_default()
            on:load=move |_| loaded() on:error=move |_| loaded()/>
    }
}

fn is_over(call: &CallView) -> bool {
    matches!(call.phase, CallPhase::Ended { .. })
}

/// A stable name of the phase, for styling and tests.
fn phase_name(call: &CallView) -> &'static str {
    match call.phase {
        CallPhase::Ringing => "ringing",
        CallPhase::Connecting => "connecting",
        CallPhase::Connected => "connected",
        CallPhase::Ended { .. } => "ended",
    }
}
