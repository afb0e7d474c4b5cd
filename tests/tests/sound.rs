//! The computer's sound devices for real, through a PulseAudio server of this binary's own
//! (a null sink whose monitor is the default microphone): what the speaker plays, the
//! microphone hears at its pitch, and a call's microphone does not send it back (echo
//! cancellation).
//! One binary, one sound server: the address is set in this process's environment once,
//! before any device opens.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use flint_core::calls::audio::{loudest, AudioSource, Tone, FRAME_SAMPLES, SAMPLE_RATE};
use flint_core::devices;
use flint_tests::sound::PulseServer;

/// The sound server every test here uses, started once.
fn sound_server() -> &'static PulseServer {
    static SERVER: OnceLock<PulseServer> = OnceLock::new();
    SERVER.get_or_init(|| {
        let server = PulseServer::start();
        for (key, value) in server.env() {
            if key == "PULSE_SERVER" {
                std::env::set_var(key, value);
            }
        }
        server
    })
}

/// One test at a time on the sound server: the microphone hears everything its sink plays.
fn sound_to_myself() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    sound_server();
    TURN.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[test]
fn what_the_speaker_plays_the_microphone_hears_at_its_pitch() {
    let _turn = sound_to_myself();
    let mut speaker = devices::speaker().expect("the null sink opens as the speaker");
    let mut microphone = devices::microphone().expect("its monitor opens as the microphone");
    let mut tone = Tone::new(440.0);
    let (mut frame, mut heard) = (vec![0i16; FRAME_SAMPLES], Vec::new());
    // Three seconds in real time, 20 ms at a time, as a call sends and plays.
    for _ in 0..150 {
        tone.fill(&mut frame);
        speaker.play(&frame);
        microphone.fill(&mut frame);
        heard.extend_from_slice(&frame);
        std::thread::sleep(Duration::from_millis(20));
    }
    // Quarter seconds from the first one the tone reached, but the last (a stream may
    // end mid-window): every one loud, at 440 Hz — sound in bursts would leave gaps.
    let windows: Vec<&[i16]> = heard.chunks(SAMPLE_RATE as usize / 4).collect();
    let loud = |w: &[i16]| w.iter().filter(|s| s.unsigned_abs() > 3_000).count() > w.len() / 2;
    let first = windows
        .iter()
        .position(|w| loud(w))
        .expect("the tone came back");
    let after = &windows[first..windows.len() - 1];
    assert!(
        after.len() >= 6,
        "it came back within a second and a half: {first}"
    );
    for (i, window) in after.iter().enumerate() {
        assert!(
            loud(window),
            "quarter {i} after the first is loud, without gaps"
        );
        let hz = loudest(window, &[300.0, 440.0, 660.0, 1000.0]);
        assert_eq!(hz, Some(440.0), "quarter {i} at its pitch");
    }
}

/// Energy of `samples`, per sample.
fn energy(samples: &[i16]) -> f64 {
    samples.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / samples.len().max(1) as f64
}

#[test]
fn a_calls_microphone_does_not_send_back_what_its_speaker_plays() {
    let _turn = sound_to_myself();
    // The null sink's monitor is the microphone: everything played comes back whole, the
    // worst echo a room can have. A raw microphone listens beside the call's, to show it.
    let (mut microphone, mut speaker) = devices::call_devices();
    let mut raw = devices::microphone().expect("the monitor opens a second time");
    let mut tone = Tone::new(440.0);
    let mut frame = vec![0i16; FRAME_SAMPLES];
    let (mut heard, mut sent) = (Vec::new(), Vec::new());
    // Eight seconds at the devices' own pace (each 20 ms tick on a fixed schedule, as a
    // call's are); the far end talks in bursts (300 ms on, 200 ms off).
    let start = std::time::Instant::now();
    for i in 0..400u32 {
        tone.fill(&mut frame);
        if i % 25 >= 15 {
            frame.fill(0);
        }
        speaker.play(&frame);
        microphone.fill(&mut frame);
        sent.extend_from_slice(&frame);
        raw.fill(&mut frame);
        heard.extend_from_slice(&frame);
        let next = start + Duration::from_millis(20 * u64::from(i + 1));
        std::thread::sleep(next.saturating_duration_since(std::time::Instant::now()));
    }
    let last = sent.len() - 2 * SAMPLE_RATE as usize;
    let echo = energy(&heard[last..]);
    assert!(
        echo > 1e6,
        "the echo comes back loud to a raw microphone: {echo:.0}"
    );
    let db = 10.0 * (echo / energy(&sent[last..]).max(1.0)).log10();
    println!("the speaker's echo was sent {db:.1} dB down over the last two seconds");
    assert!(db > 10.0, "the echo was sent only {db:.1} dB down");
}
