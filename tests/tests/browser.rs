//! Flint's call engine against a real browser's WebRTC: a headless Chromium (its fake camera,
//! a 660 Hz tone from Web Audio) and `flint_core::calls::webrtc` (a 440 Hz tone, the moving
//! test pattern) negotiate, connect and carry sound and pictures both ways, whichever side
//! offers, and Chromium's RTCP reports reach Flint (the call is told good on loopback). The
//! test hands the SDP and candidates across as the IM server would. What is
//! checked on Chromium's side comes from its own `getStats()` and a Web Audio analyser.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use flint_core::calls::audio::{loudest, Recorder, Tone, SAMPLE_RATE};
use flint_core::calls::video::{Screen, TestPattern, VideoSink, VideoSource};
use flint_core::calls::webrtc::{Devices, Network, VideoDevices, WebRtc};
use flint_core::calls::{MediaEngine, MediaNews, MediaSession, MediaSetup};
use flint_proto::ipc::{CallKind, CallQuality};
use flint_proto::wire::{self, call_signal, SdpKind};
use flint_tests::browser::Chromium;
use serde_json::{json, Value};
use tokio::sync::mpsc;

/// How long the two sides get to connect and show each other a few seconds of media.
const PATIENCE: Duration = Duration::from_secs(40);
/// Pictures each side must have decoded (a second and a half at 30 a second).
const PICTURES: u64 = 45;

/// Sets up the page's peer connection: a 660 Hz tone and the fake camera out, the remote
/// sound into an analyser, own candidates and descriptions queued in `outbox`.
const PAGE: &str = r#"
    window.outbox = [];
    const pc = new RTCPeerConnection();
    window.pc = pc;
    pc.onicecandidate = (e) => {
        if (e.candidate && e.candidate.candidate) {
            outbox.push({ candidate: e.candidate.candidate, sdpMid: e.candidate.sdpMid,
                          sdpMLineIndex: e.candidate.sdpMLineIndex });
        }
    };
    const audio = new AudioContext();
    window.audio = audio;
    const tone = audio.createOscillator();
    tone.frequency.value = 660;
    const out = audio.createMediaStreamDestination();
    tone.connect(out);
    tone.start();
    const camera = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 480 } });
    pc.addTrack(out.stream.getAudioTracks()[0], out.stream);
    pc.addTrack(camera.getVideoTracks()[0], camera);
    pc.ontrack = (e) => {
        if (e.track.kind !== 'audio') return;
        const stream = new MediaStream([e.track]);
        // Chromium feeds a remote track to Web Audio only while a media element plays it.
        const element = new Audio();
        element.srcObject = stream;
        element.muted = true;
        element.play();
        const analyser = audio.createAnalyser();
        analyser.fftSize = 8192;
        audio.createMediaStreamSource(stream).connect(analyser);
        window.analyser = analyser;
    };
"#;

/// Chromium's view of the call: its inbound streams, codecs and the pitch it hears.
const STATS: &str = r#"
    const report = await pc.getStats();
    const codecs = {};
    report.forEach((r) => { if (r.type === 'codec') codecs[r.id] = r.mimeType; });
    const seen = { state: pc.connectionState };
    report.forEach((r) => {
        if (r.type === 'inbound-rtp') {
            seen['in_' + r.kind] = { packets: r.packetsReceived || 0, codec: codecs[r.codecId] || '',
                frames: r.framesDecoded || 0, keyFrames: r.keyFramesDecoded || 0,
                width: r.frameWidth || 0, height: r.frameHeight || 0, plis: r.pliCount || 0 };
        }
        if (r.type === 'outbound-rtp') {
            seen['out_' + r.kind] = { packets: r.packetsSent || 0, plis: r.pliCount || 0,
                codec: codecs[r.codecId] || '' };
        }
    });
    if (window.analyser) {
        const bins = new Float32Array(analyser.frequencyBinCount);
        analyser.getFloatFrequencyData(bins);
        let best = 1;
        for (let i = 1; i < bins.length; i++) if (bins[i] > bins[best]) best = i;
        seen.pitch = best * audio.sampleRate / analyser.fftSize;
    }
    return seen;
"#;

/// Flint's side: a 440 Hz tone and a 640×480 test pattern out, what it hears and sees kept.
fn flint_engine() -> (WebRtc, Recorder, Screen) {
    let heard = Recorder::default();
    let speaker = heard.clone();
    let devices: Devices = Arc::new(move || {
        (
            Box::new(Tone::new(440.0)) as Box<dyn flint_core::calls::audio::AudioSource>,
            Box::new(speaker.clone()) as Box<dyn flint_core::calls::audio::AudioSink>,
        )
    });
    let screen = Screen::default();
    let shown = screen.clone();
    let video: VideoDevices = Arc::new(move || {
        (
            Box::new(TestPattern::new(640, 480).unwrap()) as Box<dyn VideoSource>,
            Box::new(shown.clone()) as Box<dyn VideoSink>,
        )
    });
    let network = Network {
        bind: vec!["127.0.0.1:0".into()],
        relay_only: false,
    };
    (
        WebRtc::new(devices, network).with_video(video),
        heard,
        screen,
    )
}

/// Hands Flint's signalling to the page (an offer is answered there, the answer queued).
async fn to_page(chromium: &Chromium, body: call_signal::Body) {
    match body {
        call_signal::Body::Description(description) => {
            let kind = if description.kind() == SdpKind::Offer {
                "offer"
            } else {
                "answer"
            };
            let answer = chromium
                .run(
                    "const [type, sdp] = arguments;
                     await pc.setRemoteDescription({ type, sdp });
                     if (type === 'offer') {
                         const answer = await pc.createAnswer();
                         await pc.setLocalDescription(answer);
                         outbox.push({ answer: answer.sdp });
                     }",
                    vec![json!(kind), json!(description.sdp)],
                )
                .await;
            assert!(answer.is_null());
        }
        call_signal::Body::Candidate(candidate) if !candidate.candidate.is_empty() => {
            chromium
                .run(
                    "const [candidate, sdpMid, sdpMLineIndex] = arguments;
                     await pc.addIceCandidate({ candidate, sdpMid, sdpMLineIndex });",
                    vec![
                        json!(candidate.candidate),
                        json!(candidate.sdp_mid),
                        json!(candidate.sdp_mline_index),
                    ],
                )
                .await;
        }
        _ => {}
    }
}

/// Hands what the page queued to Flint's session.
async fn from_page(chromium: &Chromium, session: &dyn MediaSession) {
    let queued = chromium.run("return outbox.splice(0);", vec![]).await;
    for item in queued.as_array().cloned().unwrap_or_default() {
        let description = |kind: SdpKind, sdp: &Value| {
            call_signal::Body::Description(wire::SessionDescription {
                kind: kind as i32,
                sdp: sdp.as_str().unwrap().to_owned(),
            })
        };
        if let Some(sdp) = item.get("offer") {
            session.signal(description(SdpKind::Offer, sdp));
        } else if let Some(sdp) = item.get("answer") {
            session.signal(description(SdpKind::Answer, sdp));
        } else {
            session.signal(call_signal::Body::Candidate(wire::IceCandidate {
                candidate: item["candidate"].as_str().unwrap().to_owned(),
                sdp_mid: item["sdpMid"].as_str().unwrap_or_default().to_owned(),
                sdp_mline_index: item["sdpMLineIndex"].as_u64().unwrap_or(0) as u32,
                end_of_candidates: false,
            }));
        }
    }
}

/// What each side got once both have enough, or a panic saying what was missing.
struct Outcome {
    chromium: Value,
    flint_pictures: usize,
    flint_size: (u32, u32),
    flint_pitch: f32,
}

/// A video call between Flint and Chromium, `flint_offers` or Chromium offering.
async fn call(flint_offers: bool) -> Outcome {
    let chromium = Chromium::start().await;
    chromium.run(PAGE, vec![]).await;
    let (engine, heard, screen) = flint_engine();
    let (news, mut inbox) = mpsc::unbounded_channel();
    let session = engine
        .start(MediaSetup {
            kind: CallKind::Video,
            offerer: flint_offers,
            ice_servers: vec![],
            news,
        })
        .expect("the engine starts");
    if !flint_offers {
        chromium
            .run(
                "const offer = await pc.createOffer();
                 await pc.setLocalDescription(offer);
                 outbox.push({ offer: offer.sdp });",
                vec![],
            )
            .await;
    }
    let deadline = tokio::time::Instant::now() + PATIENCE;
    let mut quality = None;
    loop {
        while let Ok(item) = inbox.try_recv() {
            match item {
                MediaNews::Signal(body) => to_page(&chromium, body).await,
                MediaNews::Up => {}
                MediaNews::Quality(told) => quality = Some(told),
                MediaNews::Failed(reason) => panic!("Flint's media failed: {reason}"),
            }
        }
        from_page(&chromium, session.as_ref()).await;
        let last = chromium.run(STATS, vec![]).await;
        let seen = screen.seen();
        let samples = heard.samples();
        let chromium_saw = last["in_video"]["frames"].as_u64().unwrap_or(0) >= PICTURES;
        // (Headless, Chromium plays nothing out, so its audio level stats stay 0.)
        let chromium_heard = last["in_audio"]["packets"].as_u64().unwrap_or(0) > 0
            && last["pitch"]
                .as_f64()
                .is_some_and(|hz| (hz - 440.0).abs() < 12.0);
        // Chromium's receiver reports about Flint's streams reach Flint's engine.
        let flint_told = quality == Some(CallQuality::Good);
        if chromium_saw
            && chromium_heard
            && flint_told
            && seen.len() >= PICTURES as usize
            && samples.len() >= SAMPLE_RATE as usize
        {
            let half_second = &samples[samples.len() - SAMPLE_RATE as usize / 2..];
            let pitch = loudest(half_second, &[330.0, 440.0, 550.0, 660.0, 880.0]).unwrap();
            session.stop();
            chromium.close().await;
            return Outcome {
                chromium: last,
                flint_pictures: seen.len(),
                flint_size: seen.last().map(|s| (s.width, s.height)).unwrap_or_default(),
                flint_pitch: pitch,
            };
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not enough media in {PATIENCE:?}: Chromium saw {last}; Flint saw {} pictures \
             ({:?}) and {} samples, and was told the call's quality is {quality:?}",
            seen.len(),
            seen.last(),
            samples.len()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Both sides' sound at its pitch, both sides' pictures at 640×480 in H.264.
fn assert_both_ways(outcome: &Outcome) {
    let seen = &outcome.chromium;
    println!(
        "Chromium: {seen}; Flint: {} pictures",
        outcome.flint_pictures
    );
    assert_eq!(seen["state"], "connected");
    assert_eq!(seen["in_video"]["codec"], "video/H264");
    assert_eq!(seen["out_video"]["codec"], "video/H264");
    assert_eq!(seen["in_audio"]["codec"], "audio/opus");
    assert_eq!(seen["in_video"]["width"], 640);
    assert_eq!(seen["in_video"]["height"], 480);
    assert_eq!(
        outcome.flint_size,
        (640, 480),
        "Flint sees Chromium's camera"
    );
    assert_eq!(outcome.flint_pitch, 660.0, "Flint hears Chromium's tone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flint_offers_and_chromium_answers_with_sound_and_pictures_both_ways() {
    let outcome = call(true).await;
    assert_both_ways(&outcome);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chromium_offers_and_flint_answers_with_sound_and_pictures_both_ways() {
    let outcome = call(false).await;
    assert_both_ways(&outcome);
}
