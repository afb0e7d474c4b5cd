//! Voice messages in the real app, recorded from a real sound server: PulseAudio of the
//! test's own, whose null sink plays a 440 Hz tone into the default microphone. The
//! microphone button records, the bar counts the time, send puts a voice bubble with its
//! length and waveform in the chat, and it plays (one message at a time); without a microphone the user is told.

use flint_tests::desktop::App;
use flint_tests::server::test_config;
use flint_tests::sound::PulseServer;
use flint_tests::TestServer;
use tempfile::TempDir;

/// Where the app finds the test's sound server (the rest of its environment stays).
fn env_of(pulse: &PulseServer) -> Vec<(&'static str, String)> {
    pulse
        .env()
        .into_iter()
        .filter(|(key, _)| matches!(*key, "PULSE_SERVER" | "PULSE_COOKIE"))
        .map(|(key, value)| (key, value.to_string_lossy().into_owned()))
        .collect()
}

/// The play buttons of the chat's voice bubbles, in order.
const VOICE_PLAY: &str = "document.querySelectorAll('.bubble.voice .voice-play')";

/// Waits until `script` returns true in the app's page.
async fn until_true(app: &App, script: &str) {
    for _ in 0..200 {
        let value = app.client.execute(script, vec![]).await.unwrap();
        if value.as_bool() == Some(true) {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let state = app
        .client
        .execute(
            "return [...document.querySelectorAll('.bubble.voice')].map(b =>
                 [b.querySelector('.voice-play').getAttribute('aria-label'),
                  b.querySelectorAll('.bar.played').length]);",
            vec![],
        )
        .await
        .unwrap_or_default();
    panic!("never true in the app: {script}\nvoice bubbles (button, bars played): {state}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_voice_message_recorded_in_the_app_shows_its_length_and_waveform_and_plays() {
    let data = TempDir::new().unwrap();
    let server = TestServer::start(test_config(data.path())).await;
    let url = server.url();
    let pulse = PulseServer::start();
    let _tone = pulse.play_tone(440.0, 120);
    let env = env_of(&pulse);
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let app = App::launch_with_env(&env).await;
    let peer = App::launch().await;
    app.register(&url, "gina").await;
    peer.register(&url, "hugo").await;
    app.start_chat_with("hugo").await;

    app.click("#voice-record").await;
    app.find(".recording .recording-dot").await;
    app.find_text(".recording .recording-time", "0:04").await;
    app.screenshot("voice-recording").await;
    app.click("#voice-send").await;
    app.find("#composer").await;

    let length = app.text_of(".bubble.voice .voice-length").await;
    assert!(["0:04", "0:05"].contains(&length.as_str()), "{length}");
    // The tone was heard: the waveform's bars stand tall (silence draws them 4 px high).
    let heights = app
        .client
        .execute(
            "return [...document.querySelectorAll('.bubble.voice .waveform .bar')]
                 .map(bar => parseInt(bar.style.height));",
            vec![],
        )
        .await
        .unwrap();
    let heights: Vec<u64> = heights
        .as_array()
        .map(|a| a.iter().filter_map(|h| h.as_u64()).collect())
        .unwrap_or_default();
    assert_eq!(heights.len(), 48, "{heights:?}");
    assert!(
        heights.iter().filter(|&&h| h > 12).count() > 24,
        "loud bars: {heights:?}"
    );
    app.screenshot("voice-bubble").await;

    // A second message; it plays, and starting it pauses the first one midway (not ended:
    // its bars stay played), so one is heard at a time.
    app.click("#voice-record").await;
    app.find_text(".recording .recording-time", "0:02").await;
    app.click("#voice-send").await;
    until_true(
        &app,
        "return document.querySelectorAll('.bubble.voice').length == 2",
    )
    .await;
    app.client
        .execute(&format!("{VOICE_PLAY}[0].click(); return true;"), vec![])
        .await
        .unwrap();
    // Playing, and far enough in that its bars show it.
    until_true(
        &app,
        &format!(
            "return {VOICE_PLAY}[0].getAttribute('aria-label') == 'Pause'
                 && document.querySelectorAll('.bubble.voice')[0]
                        .querySelectorAll('.bar.played').length > 0"
        ),
    )
    .await;
    app.client
        .execute(&format!("{VOICE_PLAY}[1].click(); return true;"), vec![])
        .await
        .unwrap();
    until_true(
        &app,
        &format!(
            "const buttons = {VOICE_PLAY};
             const first = document.querySelectorAll('.bubble.voice')[0];
             return buttons[1].getAttribute('aria-label') == 'Pause'
                 && buttons[0].getAttribute('aria-label') == 'Play'
                 && first.querySelectorAll('.bar.played').length > 0;"
        ),
    )
    .await;

    // The other side gets it with the same length.
    peer.click(".row").await;
    peer.find_text(".bubble.voice .voice-length", &length).await;
    app.close().await;
    peer.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_microphone_the_user_is_told_and_the_composer_stays() {
    let data = TempDir::new().unwrap();
    let server = TestServer::start(test_config(data.path())).await;
    let url = server.url();
    // No sound server where the app looks, and no sound card on the machine.
    let app = App::launch_with_env(&[("PULSE_SERVER", "unix:/nonexistent/pulse/native")]).await;
    app.register(&url, "ines").await;
    let peer = App::launch().await;
    peer.register(&url, "jack").await;
    app.start_chat_with("jack").await;
    app.click("#voice-record").await;
    app.find_text(
        ".problem .problem-text",
        "No microphone was found. Connect one, or check the system's sound settings.",
    )
    .await;
    app.find("#composer").await;
    app.close().await;
    peer.close().await;
}
