//! Cleaning a call's microphone sound before it is sent: the echo of what the speaker plays
//! is cancelled (AEC3), steady noise is suppressed and the level is kept even (AGC2) —
//! WebRTC's audio processing, in pure Rust (`sonora`).
//!
//! [`cleaned`] wraps a microphone and a speaker that share a room: every frame the speaker
//! plays is shown to the canceller as the far end, and every frame the microphone hears is
//! cleaned of it. Synthetic sources (tones in tests) have no room and are not wrapped.

use std::sync::{Arc, Mutex};

use sonora::config::{EchoCanceller, GainController2, NoiseSuppression};
use sonora::{AudioProcessing, Config, StreamConfig};

use super::audio::{AudioSink, AudioSource, SAMPLE_RATE};
use crate::locks::lock;

/// Samples in the 10 ms chunks the processing works on.
const CHUNK: usize = SAMPLE_RATE as usize / 100;

/// What the echo's delay is first assumed to be, in milliseconds: the speaker's and the
/// microphone's buffering (the canceller finds the real delay on its own from there).
const ASSUMED_DELAY_MS: i32 = 60;

/// The processing one microphone and one speaker share.
type Shared = Arc<Mutex<AudioProcessing>>;

/// The microphone and speaker of a call, with the speaker's echo, noise and uneven level
/// taken out of what the microphone sends.
pub fn cleaned(
    microphone: Box<dyn AudioSource>,
    speaker: Box<dyn AudioSink>,
) -> (Box<dyn AudioSource>, Box<dyn AudioSink>) {
    let mono = StreamConfig::new(SAMPLE_RATE, 1);
    let config = Config {
        echo_canceller: Some(EchoCanceller::default()),
        noise_suppression: Some(NoiseSuppression::default()),
        gain_controller2: Some(GainController2::default()),
        ..Config::default()
    };
    let mut processing = AudioProcessing::builder()
        .config(config)
        .capture_config(mono)
        .render_config(mono)
        .build();
    // Within [0, 500]: never clamped.
    let _ = processing.set_stream_delay_ms(ASSUMED_DELAY_MS);
    let shared: Shared = Arc::new(Mutex::new(processing));
    let source = CleanedMicrophone {
        inner: microphone,
        processing: Arc::clone(&shared),
        heard: vec![0; CHUNK],
    };
    let sink = AnalysedSpeaker {
        inner: speaker,
        processing: shared,
        pending: Vec::with_capacity(CHUNK * 12),
        scratch: vec![0; CHUNK],
    };
    (Box::new(source), Box::new(sink))
}

/// A microphone whose frames are cleaned.
struct CleanedMicrophone {
    inner: Box<dyn AudioSource>,
    processing: Shared,
    heard: Vec<i16>,
}

impl AudioSource for CleanedMicrophone {
    fn fill(&mut self, frame: &mut [i16]) {
        self.inner.fill(frame);
        let mut processing = lock(&self.processing);
        // A call's frames are 20 ms: whole chunks (a shorter tail would go as it came).
        for chunk in frame.chunks_exact_mut(CHUNK) {
            self.heard.copy_from_slice(chunk);
            if let Err(error) = processing.process_capture_i16(&self.heard, chunk) {
                tracing::debug!(?error, "a microphone chunk went uncleaned");
                chunk.copy_from_slice(&self.heard);
            }
        }
    }
}

/// A speaker whose frames are shown to the echo canceller as they are played.
struct AnalysedSpeaker {
    inner: Box<dyn AudioSink>,
    processing: Shared,
    /// Played samples not yet a whole chunk (decoded frames are 10 to 120 ms).
    pending: Vec<i16>,
    scratch: Vec<i16>,
}

impl AudioSink for AnalysedSpeaker {
    fn play(&mut self, frame: &[i16]) {
        self.inner.play(frame);
        self.pending.extend_from_slice(frame);
        let whole = self.pending.len() / CHUNK * CHUNK;
        let mut processing = lock(&self.processing);
        for chunk in self.pending[..whole].chunks_exact(CHUNK) {
            if let Err(error) = processing.process_render_i16(chunk, &mut self.scratch) {
                tracing::debug!(?error, "a speaker chunk went unanalysed");
            }
        }
        drop(processing);
        self.pending.drain(..whole);
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use super::*;
    use crate::calls::audio::{loudest, FRAME_SAMPLES};

    /// Speech-like far-end sound: noise in bursts, from a fixed seed.
    struct Talker {
        state: u64,
        at: usize,
    }

    impl Talker {
        fn next(&mut self) -> i16 {
            self.state = self.state.wrapping_mul(6364136223846793005).wrapping_add(1);
            self.at += 1;
            let loud = (self.at / 4_800) % 3 != 2;
            let sample = ((self.state >> 33) as i32 % 12_000) as i16;
            if loud {
                sample
            } else {
                sample / 20
            }
        }
    }

    /// A room: what the speaker plays comes back into the microphone `delay` samples later at
    /// half its level, on top of the near end's own `voice`.
    struct Room {
        echo: Arc<Mutex<VecDeque<i16>>>,
        voice: Option<crate::calls::audio::Tone>,
        raw: Arc<Mutex<Vec<i16>>>,
    }

    impl AudioSource for Room {
        fn fill(&mut self, frame: &mut [i16]) {
            if let Some(voice) = &mut self.voice {
                voice.fill(frame);
                for sample in frame.iter_mut() {
                    *sample /= 4;
                }
            } else {
                frame.fill(0);
            }
            let mut echo = lock(&self.echo);
            for sample in frame.iter_mut() {
                let back = echo.pop_front().unwrap_or(0) / 2;
                *sample = sample.saturating_add(back);
            }
            lock(&self.raw).extend_from_slice(frame);
        }
    }

    /// The room's loudspeaker.
    struct Loudspeaker(Arc<Mutex<VecDeque<i16>>>);

    impl AudioSink for Loudspeaker {
        fn play(&mut self, frame: &[i16]) {
            lock(&self.0).extend(frame.iter().copied());
        }
    }

    fn energy(samples: &[i16]) -> f64 {
        samples.iter().map(|&s| f64::from(s).powi(2)).sum::<f64>() / samples.len() as f64
    }

    /// Ten seconds of a call in a room; returns what the microphone heard and what was sent.
    fn talk(voice: Option<f32>) -> (Vec<i16>, Vec<i16>) {
        let echo = Arc::new(Mutex::new(VecDeque::from(vec![0; 2_880])));
        let raw = Arc::new(Mutex::new(Vec::new()));
        let room = Room {
            echo: Arc::clone(&echo),
            voice: voice.map(crate::calls::audio::Tone::new),
            raw: Arc::clone(&raw),
        };
        let (mut microphone, mut speaker) = cleaned(Box::new(room), Box::new(Loudspeaker(echo)));
        let mut far = Talker { state: 7, at: 0 };
        let mut played = vec![0i16; FRAME_SAMPLES];
        let mut sent = Vec::new();
        let mut frame = vec![0i16; FRAME_SAMPLES];
        for _ in 0..500 {
            played.iter_mut().for_each(|s| *s = far.next());
            speaker.play(&played);
            microphone.fill(&mut frame);
            sent.extend_from_slice(&frame);
        }
        let heard = lock(&raw).clone();
        (heard, sent)
    }

    #[test]
    fn the_speakers_echo_is_taken_out_of_what_the_microphone_sends() {
        let (heard, sent) = talk(None);
        let last = heard.len() - 2 * SAMPLE_RATE as usize;
        let before = energy(&heard[last..]);
        let after = energy(&sent[last..]).max(1.0);
        let db = 10.0 * (before / after).log10();
        println!("echo reduced by {db:.1} dB over the last two seconds");
        assert!(db > 20.0, "echo reduced by only {db:.1} dB");
    }

    #[test]
    fn the_near_ends_own_voice_still_goes_through() {
        let (_, sent) = talk(Some(440.0));
        let last = &sent[sent.len() - SAMPLE_RATE as usize..];
        assert_eq!(loudest(last, &[300.0, 440.0, 660.0, 1000.0]), Some(440.0));
        let db = 10.0 * (energy(last) / energy(&talk_alone())).log10();
        println!("the voice, talked over by the echo, sent at {db:.1} dB of its level");
        assert!(db > -20.0, "the voice is lost: {db:.1} dB");
    }

    /// One second of the near end's voice as the room's microphone hears it, without echo.
    fn talk_alone() -> Vec<i16> {
        let mut tone = crate::calls::audio::Tone::new(440.0);
        let mut frame = vec![0i16; SAMPLE_RATE as usize];
        tone.fill(&mut frame);
        frame.iter().map(|s| s / 4).collect()
    }

    #[test]
    fn played_frames_of_any_length_are_played_at_once() {
        let echo = Arc::new(Mutex::new(VecDeque::new()));
        let (_, mut speaker) = cleaned(
            Box::new(crate::calls::audio::Tone::new(440.0)),
            Box::new(Loudspeaker(Arc::clone(&echo))),
        );
        speaker.play(&[1; 700]);
        speaker.play(&[1; 300]);
        assert_eq!(lock(&echo).len(), 1_000, "everything is played at once");
    }
}
