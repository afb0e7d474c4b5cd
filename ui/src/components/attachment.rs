//! Bubbles of messages that carry a file: a picture at its final size (its thumbnail comes
//! from the shell's media scheme; a GIF plays while its row is on screen), a sticker, a file with its
//! icon, size, progress and actions, a voice clip with its waveform, a video by its poster
//! with a player.

use flint_proto::ipc::{ContentView, MessageView};
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_icons::Icon;

use crate::components::problem::run_file_action;
use crate::i18n::{self, Locale};
use crate::ipc::{self, Media};
use crate::sizes;
use crate::state::media::{bubble_size, duration, file_kind, percent, sticker_size, FileKind};
use crate::state::problem::FileAction;
use crate::state::transfers::Direction;
use crate::state::Live;

/// The bubble of a message with a file; `None` for other kinds.
pub fn bubble(message: &MessageView, locale: Locale) -> Option<AnyView> {
    let local_id = message.local_id;
    Some(match message.content.clone() {
        ContentView::Image {
            width,
            height,
            animated,
            ..
        } => picture(local_id, width, height, animated, locale),
        ContentView::Sticker {
            width,
            height,
            animated,
        } => sticker(local_id, width, height, animated, locale),
        ContentView::File { name, size, .. } => file(message, name, size, locale),
        ContentView::Voice {
            duration_ms,
            waveform,
        } => voice(local_id, duration_ms, waveform, locale),
        ContentView::Video {
            width,
            height,
            duration_ms,
            ..
        } => video(local_id, width, height, duration_ms, locale),
        _ => return None,
    })
}

fn picture(local_id: i64, width: u32, height: u32, animated: bool, locale: Locale) -> AnyView {
    let live = expect_context::<Live>();
    let (w, h) = bubble_size(width, height);
    view! {
        <div class="bubble picture" style=format!("width:{w}px;height:{h}px")>
            <button class="picture-open" aria-label=i18n::tr(locale, "media.open_picture")
                on:click=move |_| live.viewer.set(Some(local_id))>
                <img class="picture-preview" src=ipc::media_url(Media::Preview(local_id)) alt=""/>
                {shown_image(local_id, w, h, animated)}
            </button>
            <span class="picture-transfer"><TransferBar local_id locale/><CancelTransfer local_id locale/></span>
        </div>
    }
    .into_any()
}

/// A sticker: its picture on its own, smaller than a picture and without a frame.
fn sticker(local_id: i64, width: u32, height: u32, animated: bool, locale: Locale) -> AnyView {
    let (w, h) = sticker_size(width, height);
    view! {
        <div class="sticker" role="img" aria-label=i18n::tr(locale, "preview.sticker")
            style=format!("width:{w}px;height:{h}px")>
            {shown_image(local_id, w, h, animated)}
        </div>
    }
    .into_any()
}

/// The `<img>` of a picture or sticker at `w` × `h`: its thumbnail, and for an animation the
/// original while it is on screen (the still first frame otherwise).
fn shown_image(local_id: i64, w: u32, h: u32, animated: bool) -> impl IntoView {
    let still = ipc::media_url(Media::Thumbnail(local_id));
    let playing = animated.then(|| ipc::media_url(Media::Original(local_id)));
    let full = NodeRef::<leptos::html::Img>::new();
    if animated {
        let watched = StoredValue::new_local(None::<web_sys::Element>);
        full.on_load(move |img| {
            let element: web_sys::Element = img.into();
            gifs::watch(&element);
            watched.set_value(Some(element));
        });
        on_cleanup(move || {
            if let Some(Some(element)) = watched.try_get_value() {
                gifs::unwatch(&element);
            }
        });
    }
    // An animation swaps `src`, which a `srcset` would override: it keeps one size.
    let sizes = (!animated).then(|| ipc::thumbnail_srcset(local_id));
    view! {
        <img class="picture-full" node_ref=full src=still.clone() srcset=sizes data-still=still
            data-playing=playing width=w height=h alt=""/>
    }
}

/// Animated pictures play only while they are on screen: one observer for all of them swaps
/// each between its still frame (`data-still`) and the animation (`data-playing`).
mod gifs {
    use wasm_bindgen::prelude::*;
    use wasm_bindgen::JsCast;
    use web_sys::{Element, IntersectionObserver, IntersectionObserverEntry};

    thread_local! {
        static OBSERVER: Option<IntersectionObserver> = make();
    }

    fn make() -> Option<IntersectionObserver> {
        let swap = Closure::<dyn Fn(js_sys::Array)>::new(|entries: js_sys::Array| {
            for entry in entries.iter() {
                let Ok(entry) = entry.dyn_into::<IntersectionObserverEntry>() else {
                    continue;
                };
                let which = if entry.is_intersecting() {
                    "data-playing"
                } else {
                    "data-still"
                };
                let target = entry.target();
                if let Some(src) = target.get_attribute(which) {
                    if target.get_attribute("src").as_deref() != Some(src.as_str()) {
                        let _ = target.set_attribute("src", &src);
                    }
                }
            }
        });
        let observer = IntersectionObserver::new(swap.as_ref().unchecked_ref()).ok();
        // One closure for the page's life, owned by the observer from here on.
        swap.forget();
        observer
    }

    /// Starts swapping `element` as it enters and leaves the screen.
    pub fn watch(element: &Element) {
        OBSERVER.with(|observer| {
            if let Some(observer) = observer {
                observer.observe(element);
            }
        });
    }

    /// Stops watching `element` (its row left the page).
    pub fn unwatch(element: &Element) {
        OBSERVER.with(|observer| {
            if let Some(observer) = observer {
                observer.unobserve(element);
            }
        });
    }
}

/// One clip is heard at a time: a voice message or video that starts playing pauses the one
/// playing before it (as every messenger does).
mod playback {
    use std::cell::RefCell;

    use web_sys::HtmlMediaElement;

    thread_local! {
        static PLAYING: RefCell<Option<HtmlMediaElement>> = const { RefCell::new(None) };
    }

    /// `media` started playing: the clip playing before it pauses.
    pub fn started(media: &HtmlMediaElement) {
        PLAYING.with(|playing| {
            let before = playing.borrow_mut().replace(media.clone());
            if let Some(before) = before.filter(|before| before != media) {
                let _ = before.pause();
            }
        });
    }

    /// `media` is gone from the page: it is not remembered any longer.
    pub fn gone(media: &HtmlMediaElement) {
        PLAYING.with(|playing| {
            let mut playing = playing.borrow_mut();
            if playing.as_ref() == Some(media) {
                *playing = None;
            }
        });
    }
}

fn file(message: &MessageView, name: String, size: u64, locale: Locale) -> AnyView {
    let live = expect_context::<Live>();
    let tr = move |key| i18n::tr(locale, key);
    let local_id = message.local_id;
    let sent = message.server_id.is_some();
    let moving = move || live.transfers.with(|t| t.contains_key(&local_id));
    let icon = match file_kind(&name) {
        FileKind::Document => icondata::LuFileText,
        FileKind::Sheet => icondata::LuFileSpreadsheet,
        FileKind::Slides => icondata::LuPresentation,
        FileKind::Archive => icondata::LuFileArchive,
        FileKind::Picture => icondata::LuFileImage,
        FileKind::Audio => icondata::LuFileAudio,
        FileKind::Video => icondata::LuFileVideo,
        FileKind::Code => icondata::LuFileCode,
        FileKind::Other => icondata::LuFile,
    };
    let open = move |_| run_file_action(live, FileAction::Open, local_id);
    let reveal = move |_| run_file_action(live, FileAction::Reveal, local_id);
    view! {
        <div class="bubble file">
            <span class="file-icon" aria-hidden="true"><Icon icon/></span>
            <div class="file-text">
                <span class="file-name" title=name.clone()>{name.clone()}</span>
                <span class="file-size">{sizes::bytes(size)}</span>
                <TransferBar local_id locale/>
            </div>
            <div class="file-actions">
                <CancelTransfer local_id locale/>
                {move || (sent && !moving()).then(|| view! {
                    <button class="icon-btn open-file" aria-label=tr("media.open") title=tr("media.open")
                        on:click=open><Icon icon=icondata::LuExternalLink/></button>
                    <button class="icon-btn" aria-label=tr("media.show_in_folder") title=tr("media.show_in_folder")
                        on:click=reveal><Icon icon=icondata::LuFolderOpen/></button>
                })}
            </div>
        </div>
    }
    .into_any()
}

/// The progress of a message's file on its way (up or down), while it is.
#[component]
fn TransferBar(local_id: i64, locale: Locale) -> impl IntoView {
    let live = expect_context::<Live>();
    let transfer = move || live.transfers.with(|t| t.get(&local_id).copied());
    move || {
        transfer().map(|t| {
            let label = match t.direction {
                Direction::Up => i18n::tr(locale, "media.uploading"),
                Direction::Down => i18n::tr(locale, "media.downloading"),
            };
            view! {
                <progress class="file-progress" max="100" value=percent(t.done, t.total)
                    aria-label=label></progress>
            }
        })
    }
}

/// The button that stops a message's file on its way, while it is.
#[component]
fn CancelTransfer(local_id: i64, locale: Locale) -> impl IntoView {
    let live = expect_context::<Live>();
    let direction = move || {
        live.transfers
            .with(|t| t.get(&local_id).map(|t| t.direction))
    };
    move || {
        direction().map(|direction| {
            let label = match direction {
                Direction::Up => i18n::tr(locale, "media.cancel_upload"),
                Direction::Down => i18n::tr(locale, "media.cancel_download"),
            };
            let cancel = move |ev: leptos::ev::MouseEvent| {
                ev.stop_propagation();
                spawn_local(async move {
                    let _ = match direction {
                        Direction::Up => ipc::cancel_upload(local_id).await,
                        Direction::Down => ipc::cancel_download(local_id).await,
                    };
                })
            };
            view! {
                <button class="icon-btn cancel-transfer" aria-label=label title=label
                    on:click=cancel><Icon icon=icondata::LuX/></button>
            }
        })
    }
}

fn voice(local_id: i64, duration_ms: u32, waveform: Vec<u8>, locale: Locale) -> AnyView {
    let tr = move |key| i18n::tr(locale, key);
    let player = StoredValue::new_local(None::<web_sys::HtmlAudioElement>);
    let playing = RwSignal::new(false);
    let played = RwSignal::new(0.0f64);
    let bars_count = waveform.len().max(1);
    let bars = waveform
        .into_iter()
        .enumerate()
        .map(|(i, level)| {
            let height = 4 + u32::from(level) * 20 / 255;
            let done = move || (i as f64) < played.get() * bars_count as f64;
            view! { <span class="bar" class:played=done style=format!("height:{height}px")></span> }
        })
        .collect_view();
    let toggle = move |_| {
        if let Some(audio) = player.get_value() {
            if audio.paused() {
                let _ = audio.play();
            } else {
                let _ = audio.pause();
            }
            return;
        }
        spawn_local(async move {
            let Ok(url) = ipc::blob_url(Media::Original(local_id)).await else {
                return;
            };
            let Ok(audio) = web_sys::HtmlAudioElement::new_with_src(&url) else {
                return;
            };
            watch_clip(&audio, playing, played);
            let _ = audio.play();
            player.set_value(Some(audio));
        });
    };
    on_cleanup(move || {
        if let Some(audio) = player.try_get_value().flatten() {
            let _ = audio.pause();
            playback::gone(&audio);
            let _ = web_sys::Url::revoke_object_url(&audio.src());
        }
    });
    view! {
        <div class="bubble voice">
            <button class="icon-btn voice-play" on:click=toggle
                aria-label=move || if playing.get() { tr("media.pause") } else { tr("media.play") }>
                {move || if playing.get() {
                    view! { <Icon icon=icondata::LuPause/> }.into_any()
                } else {
                    view! { <Icon icon=icondata::LuPlay/> }.into_any()
                }}
            </button>
            <div class="waveform" aria-hidden="true">{bars}</div>
            <span class="voice-length">{duration(duration_ms)}</span>
        </div>
    }
    .into_any()
}

/// Keeps `playing` and `played` (0–1) in step with a clip.
fn watch_clip(media: &web_sys::HtmlMediaElement, playing: RwSignal<bool>, played: RwSignal<f64>) {
    use wasm_bindgen::closure::Closure;
    use wasm_bindgen::JsCast;
    let element = media.clone();
    let update = Closure::<dyn FnMut(web_sys::Event)>::new(move |event: web_sys::Event| {
        if event.type_() == "play" {
            playback::started(&element);
        }
        let length = element.duration();
        if element.ended() {
            played.set(0.0);
        } else if length.is_finite() && length > 0.0 {
            played.set(element.current_time() / length);
        }
        playing.set(!element.paused() && !element.ended());
    });
    for event in ["timeupdate", "play", "pause", "ended"] {
        let _ = media.add_event_listener_with_callback(event, update.as_ref().unchecked_ref());
    }
    // The listener lives as long as the clip.
    update.forget();
}

fn video(local_id: i64, width: u32, height: u32, duration_ms: u32, locale: Locale) -> AnyView {
    let (w, h) = bubble_size(width, height);
    let source = RwSignal::new(None::<String>);
    let poster = ipc::media_url(Media::Thumbnail(local_id));
    let load = move |_| {
        spawn_local(async move {
            if let Ok(url) = ipc::blob_url(Media::Original(local_id)).await {
                source.set(Some(url));
            }
        });
    };
    on_cleanup(move || {
        if let Some(url) = source.try_get_untracked().flatten() {
            let _ = web_sys::Url::revoke_object_url(&url);
        }
    });
    // A clip sent without a poster (not H.264) shows black behind its play button.
    let hide =
        |ev: leptos::ev::ErrorEvent| event_target::<web_sys::HtmlElement>(&ev).set_hidden(true);
    view! {
        <div class="bubble video" style=format!("width:{w}px;height:{h}px")>
            {move || match source.get() {
                Some(url) => view! {
                    <video controls autoplay width=w height=h poster=poster.clone() src=url
                        on:play=|ev| playback::started(&event_target::<web_sys::HtmlMediaElement>(&ev))>
                    </video>
                }.into_any(),
                None => view! {
                    <button class="video-play" aria-label=i18n::tr(locale, "media.play") on:click=load>
                        <img class="picture-preview" src=ipc::media_url(Media::Preview(local_id))
                            alt="" on:error=hide/>
                        <img class="video-poster" src=poster.clone()
                            srcset=ipc::thumbnail_srcset(local_id) width=w height=h alt="" on:error=hide/>
                        <span class="video-play-icon"><Icon icon=icondata::LuPlay/></span>
                        <span class="video-length">{duration(duration_ms)}</span>
                    </button>
                }
                .into_any(),
            }}
        </div>
    }
    .into_any()
}
