//! Pictures, files and voice clips in two real app instances: one pastes a picture (the
//! paste is driven through the page: WebDriver cannot drive native dialogs or drops), sees
//! the sheet and sends it; the other sees the thumbnail at its final size, opens the viewer,
//! and sees file and voice bubbles.

use base64::Engine as _;
use flint_proto::wire::{self, message_content::Kind};
use flint_tests::desktop::App;
use flint_tests::files::{files_ending, FileUser};
use flint_tests::seed;
use flint_tests::server::test_config;
use flint_tests::throttle::Throttle;
use flint_tests::TestServer;
use serde_json::json;
use sha2::Digest as _;
use tempfile::TempDir;

/// A picture of `width` × `height` as PNG bytes.
fn png(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x * 255 / width) as u8, (y * 255 / height) as u8, 160])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// One second of a 440 Hz tone as 16-bit mono WAV at 8 kHz.
fn tone_wav() -> Vec<u8> {
    const RATE: u32 = 8_000;
    let samples: Vec<i16> = (0..RATE)
        .map(|i| ((i as f32 * 440.0 * std::f32::consts::TAU / RATE as f32).sin() * 8_000.0) as i16)
        .collect();
    let data_len = samples.len() as u32 * 2;
    let mut wav = b"RIFF".to_vec();
    wav.extend_from_slice(&(36 + data_len).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes()); // PCM
    wav.extend_from_slice(&1u16.to_le_bytes()); // mono
    wav.extend_from_slice(&RATE.to_le_bytes());
    wav.extend_from_slice(&(RATE * 2).to_le_bytes());
    wav.extend_from_slice(&2u16.to_le_bytes());
    wav.extend_from_slice(&16u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data_len.to_le_bytes());
    for sample in samples {
        wav.extend_from_slice(&sample.to_le_bytes());
    }
    wav
}

/// Pastes a file into the composer, as the clipboard would (once the chat's composer is up).
async fn paste(app: &App, name: &str, mime: &str, bytes: &[u8]) {
    app.find("#composer").await;
    let script = "const [b64, name, type] = arguments;
        const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
        const data = new DataTransfer();
        data.items.add(new File([bytes], name, { type }));
        const paste = new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true });
        document.querySelector('#composer').dispatchEvent(paste);";
    let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
    app.client
        .execute(script, vec![json!(b64), json!(name), json!(mime)])
        .await
        .unwrap();
}

/// A two-frame animated GIF, 120 × 80.
fn gif_bytes() -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = image::codecs::gif::GifEncoder::new(&mut out);
        encoder
            .set_repeat(image::codecs::gif::Repeat::Infinite)
            .unwrap();
        for shade in [40u8, 200] {
            let frame = image::RgbaImage::from_pixel(120, 80, image::Rgba([shade, 90, 160, 255]));
            encoder.encode_frame(image::Frame::new(frame)).unwrap();
        }
    }
    out
}

/// Waits until the GIF bubble shows its animation (`playing`) or its still frame (`still`).
async fn gif_becomes(app: &App, state: &str) {
    let script = "const img = document.querySelector('.bubble.picture img[data-playing]');
        if (!img) return null;
        return img.getAttribute('src') === img.dataset.playing ? 'playing' : 'still';";
    for _ in 0..200 {
        if app.client.execute(script, vec![]).await.ok() == Some(json!(state)) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    app.find(&format!(".gif-never-{state}")).await;
}

/// Waits until the image matched by `css` has loaded (it has pixels).
pub(crate) async fn loaded(app: &App, css: &str) {
    let script = format!(
        "const img = document.querySelector(\"{css}\"); return !!img && img.complete && img.naturalWidth > 0;"
    );
    for _ in 0..200 {
        if app.client.execute(&script, vec![]).await.ok() == Some(json!(true)) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    app.find(&format!("{css}.never-loaded")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pasted_picture_reaches_the_other_app_and_opens_in_the_viewer() {
    let data = TempDir::new().unwrap();
    let server = TestServer::start(test_config(data.path())).await;
    let url = server.url();
    let first = App::launch().await;
    let second = App::launch().await;
    first.register(&url, "carol").await;
    second.register(&url, "dave").await;
    first.start_chat_with("dave").await;

    first.watch_console().await;
    paste(&first, "screenshot.png", "image/png", &png(1200, 800)).await;
    first.find(".staged-file").await;
    loaded(&first, ".staged-thumb").await;
    first.screenshot("staging-sheet").await;
    first.click("#staging-send").await;
    loaded(&first, ".bubble.picture .picture-full").await;

    second.click(".row").await;
    let bubble = second.find(".bubble.picture").await;
    let style = bubble.attr("style").await.unwrap().unwrap_or_default();
    assert_eq!(
        style, "width:240px;height:160px",
        "the bubble has its final size at once"
    );
    loaded(&second, ".bubble.picture .picture-full").await;
    // One device pixel per CSS pixel here: the page takes the small thumbnail, the bubble's
    // own size (a quarter of the HiDPI one's pixels, kept decoded for every bubble shown).
    let taken = second
        .client
        .execute(
            "const img = document.querySelector('.bubble.picture .picture-full');
             return [img.currentSrc, img.naturalWidth, window.devicePixelRatio];",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(taken[2].as_f64(), Some(1.0), "Xvfb's screen is 1x");
    assert!(
        taken[0].as_str().unwrap_or_default().contains("thumb1x/") && taken[1] == json!(240),
        "the small thumbnail at 1x: {taken}"
    );
    second.screenshot("picture-bubble").await;
    second.click(".bubble.picture").await;
    loaded(&second, ".viewer-picture").await;
    second.screenshot("picture-viewer").await;
    second.click("#viewer-close").await;

    // A file and a voice clip, sent by carol from another device.
    let mut carol = FileUser::sign_in(&url, "carol").await;
    let dave = carol.find_user("dave").await;
    let direct = seed::open_direct(&mut carol.socket, dave).await;
    let dir = TempDir::new().unwrap();
    let report = dir.path().join("季度报告.pdf");
    std::fs::write(&report, b"%PDF-1.7\n% a report\n").unwrap();
    let report_id = carol.upload(&report, "季度报告.pdf").await.unwrap();
    carol
        .send(
            direct,
            flint_tests::files::file_message(&report_id, "季度报告.pdf", 20),
        )
        .await;
    let clip = dir.path().join("clip.wav");
    std::fs::write(&clip, tone_wav()).unwrap();
    let clip_id = carol.upload(&clip, "clip.wav").await.unwrap();
    let waveform: Vec<u8> = (0..48).map(|i| ((i * 37) % 256) as u8).collect();
    carol
        .send(
            direct,
            Kind::Voice(wire::Voice {
                file_id: clip_id,
                duration_ms: 1_000,
                size: tone_wav().len() as u64,
                waveform,
                mime: "audio/wav".into(),
            }),
        )
        .await;
    second
        .find(".bubble.file .file-name[title='季度报告.pdf']")
        .await;
    second
        .find(".bubble.voice .waveform .bar:nth-child(48)")
        .await;
    second.screenshot("file-and-voice-bubbles").await;

    // A GIF plays while it is on screen and rests on its still frame once scrolled away.
    let gif = dir.path().join("wave.gif");
    std::fs::write(&gif, gif_bytes()).unwrap();
    let gif_id = carol.upload(&gif, "wave.gif").await.unwrap();
    carol
        .send(
            direct,
            Kind::Image(wire::Image {
                file_id: gif_id,
                mime: "image/gif".into(),
                width: 120,
                height: 80,
                size: gif_bytes().len() as u64,
                ..Default::default()
            }),
        )
        .await;
    gif_becomes(&second, "playing").await;
    for i in 0..40 {
        carol
            .send(
                direct,
                Kind::Text(wire::Text {
                    body: format!("after the gif {i}"),
                    ..Default::default()
                }),
            )
            .await;
    }
    second.find_text(".bubble", "after the gif 39").await;
    gif_becomes(&second, "still").await;
    assert!(first.console_errors().await.is_empty());
    first.close().await;
    second.close().await;
}

/// Dave in the app and carol on another client, in a direct chat, on a server of their own.
pub(crate) struct DaveAndCarol {
    server: TestServer,
    pub(crate) app: App,
    pub(crate) carol: FileUser,
    pub(crate) direct: i64,
    _data: TempDir,
}

impl DaveAndCarol {
    /// Starts the server, the app signed in as dave, and carol.
    pub(crate) async fn start() -> Self {
        let data = TempDir::new().unwrap();
        let server = TestServer::start(test_config(data.path())).await;
        let url = server.url();
        let app = App::launch().await;
        app.register(&url, "dave").await;
        let mut carol = FileUser::register(&url, "carol").await;
        let dave = carol.find_user("dave").await;
        let direct = seed::open_direct(&mut carol.socket, dave).await;
        Self {
            server,
            app,
            carol,
            direct,
            _data: data,
        }
    }
}

/// Sends a picture of `width` × `height` as an image message.
pub(crate) async fn send_picture(
    user: &mut FileUser,
    conversation_id: i64,
    width: u32,
    height: u32,
) {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("picture.png");
    let bytes = png(width, height);
    std::fs::write(&path, &bytes).unwrap();
    let file_id = user.upload(&path, "picture.png").await.unwrap();
    user.send(
        conversation_id,
        Kind::Image(wire::Image {
            file_id,
            mime: "image/png".into(),
            width,
            height,
            size: bytes.len() as u64,
            name: "picture.png".into(),
            ..Default::default()
        }),
    )
    .await;
}

/// The natural width of the viewer's picture once it has loaded a picture that wide.
async fn viewer_shows_width(app: &App, width: u32) {
    let script = "const img = document.querySelector('.viewer-picture');
        return !!img && img.complete ? img.naturalWidth : 0;";
    for _ in 0..200 {
        if app.client.execute(script, vec![]).await.ok() == Some(json!(width)) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    app.find(&format!(".viewer-never-{width}-wide")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_viewer_steps_to_pictures_far_outside_the_loaded_messages() {
    let chat = DaveAndCarol::start().await;
    let DaveAndCarol {
        app,
        mut carol,
        direct,
        ..
    } = chat;
    send_picture(&mut carol, direct, 300, 200).await;
    // More than a page of text: the older picture is not among the messages the app loads.
    seed::pipeline(&mut carol.socket, direct, 80, "between").await;
    send_picture(&mut carol, direct, 120, 90).await;

    app.find_text(".row .row-preview", "[Picture]").await;
    app.click(".row").await;
    loaded(&app, ".bubble.picture .picture-full").await;
    assert_eq!(
        app.client
            .find_all(fantoccini::Locator::Css(".bubble.picture"))
            .await
            .unwrap()
            .len(),
        1
    );
    app.click(".bubble.picture .picture-open").await;
    viewer_shows_width(&app, 120).await;
    app.click(".viewer-bar button[aria-label='Previous picture']")
        .await;
    viewer_shows_width(&app, 300).await;
    app.screenshot("viewer-older-picture").await;
    // And back with the keyboard.
    app.find(".viewer")
        .await
        .send_keys("\u{E014}")
        .await
        .unwrap();
    viewer_shows_width(&app, 120).await;
    app.close().await;
}

/// The picture on the display's clipboard: its size and the SHA-256 of its RGBA bytes.
async fn clipboard_picture() -> Option<(u32, u32, String)> {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_flint-clipboard-image"))
        .env("DISPLAY", flint_tests::desktop::display().name())
        .output()
        .await
        .unwrap();
    let text = String::from_utf8(output.stdout).unwrap();
    let mut words = text.split_whitespace();
    let (width, height, sha) = (words.next()?, words.next()?, words.next()?);
    Some((width.parse().ok()?, height.parse().ok()?, sha.to_owned()))
}

/// What a copy of `png(width, height)` puts on the clipboard.
fn copied_png(width: u32, height: u32) -> (u32, u32, String) {
    let rgba = image::load_from_memory(&png(width, height))
        .unwrap()
        .into_rgba8()
        .into_raw();
    (width, height, hex::encode(sha2::Sha256::digest(&rgba)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_viewer_copies_the_picture_to_the_clipboard() {
    let chat = DaveAndCarol::start().await;
    let DaveAndCarol {
        app,
        mut carol,
        direct,
        ..
    } = chat;
    send_picture(&mut carol, direct, 300, 200).await;
    send_picture(&mut carol, direct, 120, 90).await;
    app.find_text(".row .row-preview", "[Picture]").await;
    app.click(".row").await;
    loaded(&app, ".bubble.picture .picture-full").await;
    let mut tries = 0;
    let newest = loop {
        tries += 1;
        assert!(tries < 300, "both pictures never showed");
        let opens = app
            .client
            .find_all(fantoccini::Locator::Css(".bubble.picture .picture-open"))
            .await
            .unwrap();
        if opens.len() == 2 {
            break opens[1].clone();
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    newest.click().await.unwrap();
    viewer_shows_width(&app, 120).await;

    app.click("#viewer-copy").await;
    app.find("#viewer-copy[data-copied='true'][aria-label='Copied']")
        .await;
    assert_eq!(clipboard_picture().await, Some(copied_png(120, 90)));
    app.screenshot("viewer-copied").await;

    // The older picture, copied with the keyboard.
    app.click(".viewer-bar button[aria-label='Previous picture']")
        .await;
    viewer_shows_width(&app, 300).await;
    // Dispatched in the page: a WebDriver key press may land on the button just clicked.
    app.client
        .execute(
            "document.querySelector('.viewer').dispatchEvent(new KeyboardEvent('keydown',
                { key: 'c', ctrlKey: true, bubbles: true }));",
            vec![],
        )
        .await
        .unwrap();
    let mut copied = None;
    for _ in 0..300 {
        copied = clipboard_picture().await;
        if copied == Some(copied_png(300, 200)) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(copied, Some(copied_png(300, 200)), "Ctrl+C copies too");
    app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_video_sent_from_the_app_shows_upright_with_its_length_and_poster_and_plays_here() {
    let chat = DaveAndCarol::start().await;
    let DaveAndCarol { app, .. } = chat;
    app.start_chat_with("carol").await;
    let clip = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/turned.mov")).unwrap();
    paste(&app, "turned.mov", "video/quicktime", &clip).await;
    app.find(".staged-file").await;
    app.click("#staging-send").await;

    app.find_text(".bubble.video .video-length", "0:02").await;
    // Read in the page: the bubble is drawn again as the message goes from sending to sent.
    let style = app
        .client
        .execute(
            "return document.querySelector('.bubble.video').getAttribute('style');",
            vec![],
        )
        .await
        .unwrap();
    let style = style.as_str().unwrap_or_default().to_owned();
    let (w, h) = style
        .strip_prefix("width:")
        .and_then(|rest| rest.split_once("px;height:"))
        .map(|(w, h)| {
            (
                w.parse::<u32>().unwrap(),
                h.trim_end_matches("px").parse::<u32>().unwrap(),
            )
        })
        .unwrap_or_else(|| panic!("a sized bubble: {style}"));
    assert!(h > w, "upright as the track says: {style}");
    // Its poster, the clip's first picture, upright too.
    loaded(&app, ".bubble.video .video-poster").await;
    let natural = app
        .client
        .execute(
            "const img = document.querySelector('.bubble.video .video-poster');
             return [img.naturalWidth, img.naturalHeight];",
            vec![],
        )
        .await
        .unwrap();
    let side = |i: usize| natural[i].as_u64().unwrap_or_default();
    assert!(
        side(0) > 0 && side(0) * 320 == side(1) * 180,
        "the poster has the clip's shape as shown: {natural}"
    );
    app.screenshot("video-bubble").await;
    app.click(".bubble.video .video-play").await;
    app.find(".bubble.video video[src^='blob:']").await;
    app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sticker_shows_on_its_own_at_its_size() {
    let chat = DaveAndCarol::start().await;
    let DaveAndCarol {
        app,
        mut carol,
        direct,
        ..
    } = chat;
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("wave.png");
    let bytes = png(128, 96);
    std::fs::write(&path, &bytes).unwrap();
    let file_id = carol.upload(&path, "wave.png").await.unwrap();
    carol
        .send(
            direct,
            Kind::Sticker(wire::Sticker {
                pack_id: "favourites".into(),
                sticker_id: "wave".into(),
                file_id,
                size: bytes.len() as u64,
                width: 128,
                height: 96,
                mime: "image/png".into(),
            }),
        )
        .await;
    app.find_text(".row .row-preview", "[Sticker]").await;
    app.click(".row").await;
    let sticker = app.find(".sticker").await;
    let style = sticker.attr("style").await.unwrap().unwrap_or_default();
    assert_eq!(style, "width:128px;height:96px");
    loaded(&app, ".sticker .picture-full").await;
    app.screenshot("sticker").await;
    app.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_that_cannot_be_fetched_says_why() {
    let DaveAndCarol {
        server,
        app,
        mut carol,
        direct,
        _data,
    } = DaveAndCarol::start().await;
    let dir = TempDir::new().unwrap();
    let report = dir.path().join("notes.txt");
    std::fs::write(&report, b"minutes of the meeting\n").unwrap();
    let file_id = carol.upload(&report, "notes.txt").await.unwrap();
    carol
        .send(
            direct,
            flint_tests::files::file_message(&file_id, "notes.txt", 23),
        )
        .await;
    app.click(".row").await;
    app.find(".bubble.file .open-file").await;
    // Files download on demand: with the server gone, opening this one cannot fetch it.
    server.stop().await;
    app.click(".bubble.file .open-file").await;
    app.find_text(
        ".problem .problem-text",
        "The file could not be fetched: the server cannot be reached.",
    )
    .await;
    app.screenshot("file-problem").await;
    app.click(".problem .icon-btn").await;
    gone(&app, ".problem").await;
    app.close().await;
}

/// Pastes a file of `size` bytes made in the page (too large to carry through WebDriver),
/// once the composer is there (the chat may still be opening).
async fn paste_made(app: &App, name: &str, size: usize) {
    app.find("#composer").await;
    let script = "const [name, size] = arguments;
        const bytes = new Uint8Array(size);
        for (let i = 0; i < size; i += 4096) bytes[i] = (i / 4096) & 255;
        const data = new DataTransfer();
        data.items.add(new File([bytes], name, { type: 'application/octet-stream' }));
        const paste = new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true });
        document.querySelector('#composer').dispatchEvent(paste);";
    app.client
        .execute(script, vec![json!(name), json!(size)])
        .await
        .unwrap();
}

/// Waits until the file bubble's progress bar stands between 1 % and 99 %; returns it.
async fn progress_midway(app: &App, label: &str) -> u32 {
    let css = format!(".bubble.file progress.file-progress[aria-label='{label}']");
    for _ in 0..300 {
        if let Ok(bar) = app.client.find(fantoccini::Locator::Css(&css)).await {
            let value = bar.attr("value").await.ok().flatten().unwrap_or_default();
            if let Ok(value @ 1..=99) = value.parse::<u32>() {
                return value;
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("no {label} progress between 1 and 99 %");
}

/// Waits until nothing matches `css`.
async fn gone(app: &App, css: &str) {
    for _ in 0..200 {
        // A transient driver error (the page busy repainting) is asked again, not fatal.
        let found = app.client.find_all(fantoccini::Locator::Css(css)).await;
        if found.is_ok_and(|elements| elements.is_empty()) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("{css} is still there");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_large_file_shows_progress_and_can_be_cancelled_both_ways() {
    const SIZE: usize = 8 << 20;
    let data = TempDir::new().unwrap();
    let server = TestServer::start(test_config(data.path())).await;
    // Both apps reach the server through a proxy slow enough to watch a transfer.
    let slow = Throttle::start(server.addr, 1 << 20).await;
    let first = App::launch().await;
    let second = App::launch().await;
    first.register(&slow.url(), "erin").await;
    second.register(&slow.url(), "frank").await;
    first.start_chat_with("frank").await;
    first.watch_console().await;
    second.watch_console().await;

    // Sending: the bar climbs, cancel stops it and the message says so; retry sends it.
    paste_made(&first, "design.bin", SIZE).await;
    first.find(".staged-file").await;
    first.click("#staging-send").await;
    progress_midway(&first, "Uploading").await;
    first.screenshot("file-uploading").await;
    first.click(".bubble.file .cancel-transfer").await;
    first
        .find_text(".failed-note span", "⚠ Not sent: the upload was cancelled.")
        .await;
    gone(&first, ".bubble.file progress").await;
    slow.set_rate(0);
    first.click(".failed-note .retry").await;
    first
        .find(".message.own:not([data-status='sending']):not([data-status='failed']) .bubble.file")
        .await;

    // Receiving: opening the file downloads it with a bar; cancel keeps what arrived.
    slow.set_rate(1 << 20);
    second.click(".row").await;
    // A pasted file is named by the time it was pasted.
    second.find(".bubble.file .file-name[title$='.bin']").await;
    second.click(".bubble.file .open-file").await;
    progress_midway(&second, "Downloading").await;
    second.screenshot("file-downloading").await;
    second.click(".bubble.file .cancel-transfer").await;
    gone(&second, ".bubble.file progress").await;
    second.find(".bubble.file .open-file").await;
    let parts = files_ending(second.profile(), ".bin.part");
    assert_eq!(parts.len(), 1, "the partial download is kept: {parts:?}");
    let kept = std::fs::metadata(&parts[0]).unwrap().len();
    assert!(
        kept > 0 && kept < SIZE as u64,
        "{kept} of {SIZE} bytes kept for the next try"
    );
    assert!(first.console_errors().await.is_empty());
    assert!(second.console_errors().await.is_empty());
    first.close().await;
    second.close().await;
}
