//! The desktop figures of `docs/BENCHMARKS.md`, printed (never asserted): Flint's desktop app
//! beside a bare Tauri window, both release builds, under Xvfb through `tauri-driver`.
//!
//! - cold start: process launch → conversation list painted (Flint, session resumed) or
//!   → page shown (bare window), median of several launches;
//! - memory: PSS of every process of the app (the app and its WebKit processes) after syncing
//!   1,000 conversations / ~100,000 messages, beside the bare window's: each as it ships
//!   (Flint draws without GPU compositing unless its preference asks for it; the bare window
//!   keeps WebKitGTK's default), then like for like with compositing on and off in both;
//! - opening the 100,000-message conversation: click → newest message painted (measured in the
//!   page), how many message rows the DOM holds while scrolling through it, and memory after
//!   scrolling it up and down a few times.
//!
//! `flint-desktop-bench photos` measures instead what a chat of pictures costs: PSS after
//! scrolling a conversation of 200 photos of ~12 MB each up and down, beside the same app after
//! reading a text conversation of as many messages; then how long a pasted photo takes to
//! show its thumbnail in the sheet.
//!
//! `FLINT_DESKTOP_BIN=… FLINT_BARE_WINDOW_BIN=… flint-desktop-bench [photos]` (run by
//! `cargo xtask bench desktop [photos]`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use flint_proto::ipc::Preferences;
use flint_tests::desktop::{app_binary, descendants, App, UI_PATIENCE};
use flint_tests::seed::{open_direct, pipeline, register, signed_in_socket};
use flint_tests::users::PASSWORD;
use flint_tests::TestServer;
use futures_util::{stream, StreamExt};
use serde_json::json;
use tempfile::TempDir;
use url::Url;

/// Conversations the account has.
const CONVERSATIONS: usize = 1_000;
/// Messages in the one long conversation.
const LONG_MESSAGES: usize = 100_000;
/// Launches per cold-start figure.
const LAUNCHES: usize = 5;
/// Time for the processes to settle before memory is read.
const SETTLE: Duration = Duration::from_secs(3);

/// Times the long conversation is scrolled up and back down before memory is read again.
const SCROLL_ROUNDS: usize = 5;

/// Registrations at once while seeding (argon2 dominates).
const PARALLEL_REGISTRATIONS: usize = 4;

fn bare_binary() -> PathBuf {
    PathBuf::from(
        std::env::var("FLINT_BARE_WINDOW_BIN").expect(
            "FLINT_BARE_WINDOW_BIN names the bare Tauri window (cargo xtask bench desktop)",
        ),
    )
}

/// "reader" with `CONVERSATIONS` direct conversations: one peer wrote the long one, "reader" wrote one
/// message in each of the others. Returns the long conversation's id.
async fn seed(url: &Url) -> i64 {
    let started = Instant::now();
    let me_id = register(url, "reader").await;
    let peers: Vec<i64> = stream::iter(0..CONVERSATIONS)
        .map(|i| async move { register(url, &format!("peer{i:04}")).await })
        .buffered(PARALLEL_REGISTRATIONS)
        .collect()
        .await;
    let mut writer = signed_in_socket(url, "peer0000").await;
    let long = open_direct(&mut writer, me_id).await;
    pipeline(&mut writer, long, LONG_MESSAGES, "long").await;
    let mut me = signed_in_socket(url, "reader").await;
    for (i, peer) in peers.iter().enumerate().skip(1) {
        let conversation = open_direct(&mut me, *peer).await;
        pipeline(&mut me, conversation, 1, &format!("hello peer {i}")).await;
    }
    println!(
        "desktop: seeded {CONVERSATIONS} conversations / {} messages in {:.0} s",
        LONG_MESSAGES + CONVERSATIONS - 1,
        started.elapsed().as_secs_f64()
    );
    long
}

fn comm(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm"))
        .unwrap_or_default()
        .trim()
        .to_owned()
}

/// One field (`Pss:`, `Pss_Anon:`, …) of a process's `smaps_rollup`, in KiB.
fn rollup_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup"))
        .unwrap_or_default()
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn pss_kib(pid: u32) -> u64 {
    rollup_kib(pid, "Pss:")
}

/// PSS of the app and its web processes (the WebDriver processes are not the app's).
fn app_pss_mib(app: &App) -> (f64, Vec<String>) {
    let processes: Vec<u32> = descendants(app.driver_pid().unwrap())
        .into_iter()
        .filter(|pid| !matches!(comm(*pid).as_str(), "tauri-driver" | "WebKitWebDriver"))
        .collect();
    let total: u64 = processes.iter().map(|pid| pss_kib(*pid)).sum();
    let names = processes
        .iter()
        .map(|pid| {
            let mib = |field| rollup_kib(*pid, field) as f64 / 1024.0;
            format!(
                "{} {:.0} MiB [anon {:.0}, file {:.0}, shmem {:.0}]",
                comm(*pid),
                mib("Pss:"),
                mib("Pss_Anon:"),
                mib("Pss_File:"),
                mib("Pss_Shmem:")
            )
        })
        .collect();
    (total as f64 / 1024.0, names)
}

/// Launches `binary` on `profile` with `env` and times launch → `ready` present.
async fn timed_launch(
    binary: &Path,
    profile: TempDir,
    env: &[(&str, &str)],
    ready: &str,
) -> (App, f64) {
    let started = Instant::now();
    let app = App::launch_binary(binary, profile, env).await;
    app.find(ready).await;
    (app, started.elapsed().as_secs_f64() * 1000.0)
}

/// Launches Flint on its synced profile, with GPU compositing on or off (its preference).
async fn launch_flint(profile: TempDir, hardware_acceleration: bool) -> (App, f64) {
    let preferences = Preferences {
        hardware_acceleration,
        ..Preferences::default()
    };
    let file = profile.path().join("preferences.json");
    std::fs::write(file, serde_json::to_vec(&preferences).unwrap()).unwrap();
    timed_launch(&app_binary(), profile, &[], ".row").await
}

/// Launches the bare window, with WebKitGTK's GPU compositing as it comes or turned off.
async fn launch_bare(compositing: bool) -> (App, f64) {
    let env: &[(&str, &str)] = if compositing {
        &[]
    } else {
        &[("WEBKIT_DISABLE_COMPOSITING_MODE", "1")]
    };
    timed_launch(&bare_binary(), TempDir::new().unwrap(), env, "#ready").await
}

/// Flint and a bare window running side by side, settled: prints their PSS and ratio.
async fn print_memory(label: &str, flint: &App, bare: &App) {
    tokio::time::sleep(SETTLE).await;
    let (flint_pss, flint_parts) = app_pss_mib(flint);
    let (bare_pss, bare_parts) = app_pss_mib(bare);
    println!(
        "desktop: PSS of all processes, {label}: Flint {flint_pss:.0} MiB ({}), bare window \
         {bare_pss:.0} MiB ({}) = {:.2}x",
        flint_parts.join(", "),
        bare_parts.join(", "),
        flint_pss / bare_pss
    );
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// Signs in through the UI on a fresh profile and waits for the whole sync.
async fn first_sync(url: &Url) -> TempDir {
    let app = App::launch_binary(&app_binary(), TempDir::new().unwrap(), &[]).await;
    app.fill("#server", url.as_str()).await;
    app.fill("#username", "reader").await;
    app.fill("#password", PASSWORD).await;
    let started = Instant::now();
    app.click("#submit").await;
    // Synced when the list holds every conversation (it is virtual: its scroll height says how
    // many) and the long one's messages are all counted unread.
    let synced = "const rows = document.querySelector('.rows');
        const badge = document.querySelector('.rail-badge');
        return [rows ? Math.round(rows.scrollHeight / 64) : 0,
                badge ? Number(badge.textContent) : 0];";
    loop {
        let state = app.client.execute(synced, vec![]).await.unwrap();
        if state[0].as_u64() >= Some(CONVERSATIONS as u64)
            && state[1].as_u64() >= Some(LONG_MESSAGES as u64)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    println!(
        "desktop: first sign-in synced and listed {CONVERSATIONS} conversations in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    app.close().await
}

/// Clicks the long conversation and times, in the page, until its newest message is painted.
async fn open_long(app: &App, long: i64) -> f64 {
    // Bring its row into the (virtual) list first: it is the oldest, so search for it.
    app.fill("#list-search", "peer0000").await;
    app.find(&format!(".row[data-id='{long}']")).await;
    let script = "const [id, newest, done] = arguments;
        const started = performance.now();
        document.querySelector(`.row[data-id='${id}']`).click();
        const check = () => {
            const bubbles = document.querySelectorAll('.message .bubble');
            const last = bubbles[bubbles.length - 1];
            if (last && last.textContent === newest) {
                requestAnimationFrame(() => done(performance.now() - started));
            } else {
                requestAnimationFrame(check);
            }
        };
        check();";
    let newest = format!("long {LONG_MESSAGES}");
    let elapsed = app
        .client
        .execute_async(script, vec![json!(long), json!(newest)])
        .await
        .unwrap();
    elapsed.as_f64().unwrap()
}

/// Scrolls the open conversation down until its newest message is shown again.
async fn scroll_to_newest(app: &App) {
    let script = "const list = document.querySelector('.messages');
        list.scrollTop = list.scrollHeight;
        const bubbles = list.querySelectorAll('.message .bubble');
        return bubbles.length > 0 && bubbles[bubbles.length - 1].textContent === arguments[0];";
    let newest = json!(format!("long {LONG_MESSAGES}"));
    // Each step slides the window one page; a window that never gets there stops the bench.
    let deadline = Instant::now() + 4 * UI_PATIENCE;
    loop {
        let shown = app.client.execute(script, vec![newest.clone()]).await;
        if shown.unwrap() == json!(true) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the newest message never came back into view"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Scrolls up through `pages` pages of the open conversation; the most rows seen in the DOM.
async fn most_rows_while_scrolling(app: &App, pages: usize) -> u64 {
    let script = "const list = document.querySelector('.messages');
        list.scrollTop = 0;
        return list.querySelectorAll('.message').length;";
    let mut most = 0;
    for _ in 0..pages * 3 {
        let rows = app.client.execute(script, vec![]).await.unwrap();
        most = most.max(rows.as_u64().unwrap());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    most
}

/// Photos in the picture conversation.
const PHOTOS: usize = 200;

/// "reader" with two conversations: "talker" wrote `PHOTOS` texts, "pal" sent `PHOTOS` photos of
/// ~12 MB (one picture uploaded `PHOTOS` times: the server stores it once, every message is a
/// file of its own that the app downloads and thumbnails separately). Returns the ids.
async fn seed_photos(url: &Url, dir: &Path) -> (i64, i64) {
    use flint_proto::wire::{self, message_content::Kind};
    use flint_tests::files::FileUser;
    let me = register(url, "reader").await;
    let mut talker = FileUser::register(url, "talker").await;
    let mut pal = FileUser::register(url, "pal").await;
    let texts = open_direct(&mut talker.socket, me).await;
    pipeline(&mut talker.socket, texts, PHOTOS, "text").await;
    let photos = open_direct(&mut pal.socket, me).await;
    let photo = dir.join("photo.jpg");
    let size = flint_tests::files::photo(&photo);
    let picture = flint_core::media::picture(&photo).unwrap().unwrap();
    for i in 0..PHOTOS {
        let file_id = pal
            .upload(&photo, &format!("IMG_{i:04}.jpg"))
            .await
            .unwrap();
        pal.send(
            photos,
            Kind::Image(wire::Image {
                file_id,
                mime: picture.mime.clone(),
                width: picture.width,
                height: picture.height,
                size,
                preview: picture.preview.clone(),
                name: format!("IMG_{i:04}.jpg"),
                ..Default::default()
            }),
        )
        .await;
    }
    println!(
        "desktop photos: {PHOTOS} photos of {:.1} MB each sent",
        size as f64 / 1e6
    );
    (texts, photos)
}

/// Scrolls the open conversation to its oldest message and back to its newest, `rounds` times,
/// waiting for pictures in view to load.
async fn scroll_through(app: &App, rounds: usize) {
    let to = |top: bool| {
        format!(
            "const list = document.querySelector('.messages');
             list.scrollTop = {};
             const pictures = [...list.querySelectorAll('.picture-full')];
             return pictures.every(p => p.complete);",
            if top { "0" } else { "list.scrollHeight" }
        )
    };
    for _ in 0..rounds {
        for top in [true, false] {
            for _ in 0..40 {
                app.client.execute(&to(top), vec![]).await.unwrap();
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
    }
}

/// Pastes made of the photo for the paste figure (median).
const PASTES: usize = 5;

/// Paste → thumbnail painted for `photo`, median of [`PASTES`]: the photo is put in the page
/// as a `File` first (not timed); the time runs from the paste event (what a Ctrl+V of a
/// copied file does) until the sheet's thumbnail has its pixels, measured in the page. The
/// bytes go through the page and IPC here; a drop hands the shell a path instead.
async fn paste_figure(app: &App, photo: &Path) {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD.encode(std::fs::read(photo).unwrap());
    let keep =
        "window.__photo = new File([Uint8Array.from(atob(arguments[0]), c => c.charCodeAt(0))],
        'photo.jpg', { type: 'image/jpeg' });";
    app.client.execute(keep, vec![json!(b64)]).await.unwrap();
    let timed = "return new Promise(done => {
        const data = new DataTransfer();
        data.items.add(window.__photo);
        const started = performance.now();
        document.querySelector('#composer').dispatchEvent(
            new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
        const check = () => {
            const img = document.querySelector('.staged-thumb');
            if (img && img.complete && img.naturalWidth > 0) {
                requestAnimationFrame(() => done(performance.now() - started));
            } else {
                setTimeout(check, 2);
            }
        };
        check();
    });";
    let mut times = Vec::new();
    for _ in 0..PASTES {
        let ms = app.client.execute(timed, vec![]).await.unwrap();
        times.push(ms.as_f64().unwrap());
        app.click("#staging-cancel").await;
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    println!(
        "desktop photos: paste of a {:.1} MB photo → its thumbnail painted in the sheet: {:.0} ms (median of {PASTES}; {})",
        std::fs::metadata(photo).unwrap().len() as f64 / 1e6,
        median(times.clone()),
        times.iter().map(|t| format!("{t:.0}")).collect::<Vec<_>>().join(", ")
    );
}

/// The picture chat's figure: PSS after reading the text chat, then after the picture chat.
async fn photos_figure() {
    let data = TempDir::new().unwrap();
    let config = flint_tests::server::unbraked(flint_tests::server::test_config(data.path()));
    let server = TestServer::start(config).await;
    let url = server.url();
    let dir = TempDir::new().unwrap();
    let (texts, photos) = seed_photos(&url, dir.path()).await;
    let app = App::launch_binary(&app_binary(), TempDir::new().unwrap(), &[]).await;
    app.fill("#server", url.as_str()).await;
    app.fill("#username", "reader").await;
    app.fill("#password", PASSWORD).await;
    app.click("#submit").await;
    app.click(&format!(".row[data-id='{texts}']")).await;
    scroll_through(&app, 2).await;
    tokio::time::sleep(SETTLE).await;
    let (text_pss, text_parts) = app_pss_mib(&app);
    println!(
        "desktop photos: PSS after scrolling a chat of {PHOTOS} texts: {text_pss:.0} MiB ({})",
        text_parts.join(", ")
    );
    app.click(&format!(".row[data-id='{photos}']")).await;
    let started = Instant::now();
    scroll_through(&app, 2).await;
    tokio::time::sleep(SETTLE).await;
    let (photo_pss, parts) = app_pss_mib(&app);
    println!(
        "desktop photos: PSS after scrolling the chat of {PHOTOS} photos up and down twice          ({:.0} s): {photo_pss:.0} MiB ({}) = {:+.0} MiB over the text chat",
        started.elapsed().as_secs_f64(),
        parts.join(", "),
        photo_pss - text_pss
    );
    paste_figure(&app, &dir.path().join("photo.jpg")).await;
    app.close().await;
}

#[tokio::main]
async fn main() {
    if std::env::args().nth(1).as_deref() == Some("photos") {
        return photos_figure().await;
    }
    let data = TempDir::new().unwrap();
    let config = flint_tests::server::unbraked(flint_tests::server::test_config(data.path()));
    let server = TestServer::start(config).await;
    let url = server.url();
    let long = seed(&url).await;
    let mut profile = first_sync(&url).await;

    let (mut flint_ms, mut bare_ms) = (Vec::new(), Vec::new());
    for _ in 0..LAUNCHES {
        let (app, ms) = launch_flint(profile, false).await;
        flint_ms.push(ms);
        profile = app.close().await;
        let (bare, ms) = launch_bare(true).await;
        bare_ms.push(ms);
        bare.close().await;
    }
    let (flint_start, bare_start) = (median(flint_ms), median(bare_ms));
    println!(
        "desktop: cold start to first paint, median of {LAUNCHES}: Flint {flint_start:.0} ms \
         (list of {CONVERSATIONS} painted), bare window {bare_start:.0} ms = {:.2}x",
        flint_start / bare_start
    );

    // Each as it ships (Flint without GPU compositing, the bare window with it), then like for
    // like both ways.
    let pairs = [
        ("as shipped", false, true),
        ("both with GPU compositing", true, true),
        ("both without GPU compositing", false, false),
    ];
    for (label, flint_gpu, bare_gpu) in pairs {
        let (app, _) = launch_flint(profile, flint_gpu).await;
        let (bare, _) = launch_bare(bare_gpu).await;
        print_memory(label, &app, &bare).await;
        bare.close().await;
        profile = app.close().await;
    }

    // Reading history: open the long conversation and scroll through it, a bare window beside
    // it so shared libraries split the same way as above.
    let (app, _) = launch_flint(profile, false).await;
    let (bare, _) = launch_bare(true).await;
    let open_ms = open_long(&app, long).await;
    println!("desktop: opening the {LONG_MESSAGES}-message conversation painted its newest message in {open_ms:.0} ms");
    let rows = most_rows_while_scrolling(&app, 20).await;
    println!("desktop: scrolling up 20 pages of it kept at most {rows} message rows in the DOM");
    print_memory("after opening it and scrolling up 20 pages", &app, &bare).await;
    for _ in 1..SCROLL_ROUNDS {
        scroll_to_newest(&app).await;
        most_rows_while_scrolling(&app, 20).await;
    }
    print_memory(
        &format!("after {SCROLL_ROUNDS} rounds of scrolling 20 pages up and back down"),
        &app,
        &bare,
    )
    .await;
    bare.close().await;
    app.close().await;
}
