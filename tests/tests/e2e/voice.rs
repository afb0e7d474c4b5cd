//! Voice messages end to end: recorded from a microphone (a synthetic 440 Hz tone here),
//! sent as Ogg Opus with its length and waveform, and heard at the same pitch by the other
//! side; what cannot be recorded is refused and sends nothing.

use std::sync::Arc;

use flint_core::calls::audio::{loudest, AudioSource, Tone, SAMPLE_RATE};
use flint_core::library::Want;
use flint_core::{ContentView, ErrorCode};
use flint_proto::ipc::Event;
use tokio::sync::broadcast;

use crate::Pair;

/// Gives `client` a microphone that plays a `hz` tone.
fn tone_microphone(client: &flint_tests::TestClient, hz: f32) {
    client.set_microphone(Arc::new(move || {
        Ok(Box::new(Tone::new(hz)) as Box<dyn AudioSource>)
    }));
}

/// Waits until the recording has `at_least_ms`, as its events tell.
async fn recorded(client: &flint_tests::TestClient, at_least_ms: u32) {
    let mut events = client.events();
    loop {
        let event = tokio::time::timeout(std::time::Duration::from_secs(10), events.recv())
            .await
            .expect("recording events keep coming")
            .unwrap();
        if let Event::Recording { elapsed_ms, .. } = event {
            if elapsed_ms >= at_least_ms {
                return;
            }
        }
    }
}

/// Waits until message `local_id`'s file has come, nobody having asked for it.
async fn downloaded(events: &mut broadcast::Receiver<Event>, local_id: i64) {
    loop {
        let event = tokio::time::timeout(std::time::Duration::from_secs(10), events.recv())
            .await
            .expect("the voice message downloads as it arrives")
            .unwrap();
        if let Event::DownloadProgress {
            local_id: id,
            received,
            total,
            ..
        } = event
        {
            if id == local_id && received == total {
                return;
            }
        }
    }
}

/// Alice records and sends a tone; Bob's device fetches it as it arrives (it plays with the
/// server gone) and hears the same pitch for as long as the message says.
#[tokio::test]
async fn a_voice_message_is_heard_at_its_pitch_with_its_length_and_waveform() {
    let pair = Pair::start().await;
    let (alice, bob) = (&pair.alice, &pair.bob);
    tone_microphone(alice, 440.0);
    let mut bob_events = bob.events();

    alice.start_voice().await.unwrap();
    let twice = alice.start_voice().await.unwrap_err();
    assert_eq!(
        twice.code(),
        ErrorCode::BadRequest,
        "one recording at a time"
    );
    recorded(alice, 1_500).await;
    let sent = alice.send_voice(pair.conversation_id).await.unwrap();
    let ContentView::Voice {
        duration_ms,
        waveform,
    } = sent.content.clone()
    else {
        panic!("sent as a voice message: {:?}", sent.content);
    };
    assert!((1_500..5_000).contains(&duration_ms), "{duration_ms} ms");
    assert_eq!(waveform.len(), flint_core::voice::BARS);
    assert!(
        waveform.iter().all(|&level| level > 100),
        "a steady tone: {waveform:?}"
    );

    let received = flint_tests::until(bob, "the voice message to arrive", || async {
        bob.all_messages(pair.conversation_id)
            .await
            .into_iter()
            .find(|m| matches!(m.content, ContentView::Voice { .. }))
    })
    .await;
    assert_eq!(received.content, sent.content);
    downloaded(&mut bob_events, received.local_id).await;
    let Pair {
        server, alice, bob, ..
    } = pair;
    server.stop().await;
    drop(alice);
    let file = bob.media(received.local_id, Want::Original).await.unwrap();
    assert_eq!(file.mime, "audio/ogg");
    let samples = flint_core::voice::samples(&std::fs::read(&file.path).unwrap()).unwrap();
    assert_eq!(
        samples.len() as u64 * 1000,
        u64::from(duration_ms) * u64::from(SAMPLE_RATE),
        "the file is as long as the message says"
    );
    let second = &samples[SAMPLE_RATE as usize / 2..SAMPLE_RATE as usize];
    assert_eq!(loudest(second, &[300.0, 440.0, 660.0, 1000.0]), Some(440.0));
}

#[tokio::test]
async fn no_microphone_a_short_or_cancelled_recording_sends_nothing() {
    let pair = Pair::start().await;
    let alice = &pair.alice;
    let none = alice.start_voice().await.unwrap_err();
    assert_eq!(none.code(), ErrorCode::NoDevice, "{none}");

    tone_microphone(alice, 440.0);
    alice.start_voice().await.unwrap();
    let short = alice.send_voice(pair.conversation_id).await.unwrap_err();
    assert_eq!(
        short.code(),
        ErrorCode::BadRequest,
        "shorter than a second: {short}"
    );

    alice.start_voice().await.unwrap();
    recorded(alice, 1_200).await;
    alice.cancel_voice().await.unwrap();
    let after = alice.send_voice(pair.conversation_id).await.unwrap_err();
    assert_eq!(
        after.code(),
        ErrorCode::BadRequest,
        "nothing left to send: {after}"
    );
    assert!(alice.all_messages(pair.conversation_id).await.is_empty());
}
