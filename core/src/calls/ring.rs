//! The sound of a call before it is answered: the callee's ringtone and the caller's ringback,
//! played on the device's speaker on a thread of their own while the call rings. Which sound
//! a call makes is a rule over its view ([`RingSound::of`]); the sounds are made here, so
//! nothing is bundled and every platform rings alike.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use flint_proto::ipc::{CallPhase, CallView};

use super::audio::{AudioSink, AudioSource, FRAME_SAMPLES, SAMPLE_RATE};
use super::workers::{Schedule, AUDIO_FRAME};
use crate::error::{Error, Result};

/// Opens the speaker a call rings on (the app's device, or a recorder in tests).
pub type Speakers = Arc<dyn Fn() -> Result<Box<dyn AudioSink>> + Send + Sync>;

/// Loudness of a ring: a quarter of full scale.
const AMPLITUDE: f32 = 8_000.0;
/// Each tone fades in and out over 10 ms, so it does not click.
const FADE_SAMPLES: u64 = SAMPLE_RATE as u64 / 100;

/// Which sound a ringing call makes on this device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RingSound {
    /// Someone is calling this device: two rising chimes every 2.5 s.
    Incoming,
    /// This device is calling: the ringback Chinese networks play, 450 Hz for 1 s of every 5.
    Ringback,
}

impl RingSound {
    /// The sound `call` makes on this device now: none once it is answered or over.
    pub fn of(call: &CallView) -> Option<Self> {
        match (call.phase, call.outgoing) {
            (CallPhase::Ringing, false) => Some(Self::Incoming),
            (CallPhase::Ringing, true) => Some(Self::Ringback),
            _ => None,
        }
    }

    /// The sound's cycle: each step a tone (0 Hz for silence) and how long it lasts.
    fn cadence(self) -> &'static [(f32, u32)] {
        match self {
            Self::Incoming => &[(784.0, 350), (0.0, 150), (988.0, 350), (0.0, 1_650)],
            Self::Ringback => &[(450.0, 1_000), (0.0, 4_000)],
        }
    }
}

/// A ring's samples, 20 ms at a time, round its cycle for as long as it is played.
pub struct RingTone {
    sound: RingSound,
    /// Samples made so far.
    at: u64,
}

impl RingTone {
    /// The start of `sound`.
    pub fn new(sound: RingSound) -> Self {
        Self { sound, at: 0 }
    }

    /// The sample at `at` samples from the start.
    fn sample(&self, at: u64) -> i16 {
        let cadence = self.sound.cadence();
        let per_ms = u64::from(SAMPLE_RATE / 1_000);
        let cycle: u64 = cadence.iter().map(|(_, ms)| u64::from(*ms) * per_ms).sum();
        let mut into = at % cycle.max(1);
        for &(hz, ms) in cadence {
            let length = u64::from(ms) * per_ms;
            if into < length {
                if hz == 0.0 {
                    return 0;
                }
                let fade = into.min(length - into).min(FADE_SAMPLES) as f32 / FADE_SAMPLES as f32;
                let phase = std::f32::consts::TAU * hz * into as f32 / SAMPLE_RATE as f32;
                return (phase.sin() * AMPLITUDE * fade) as i16;
            }
            into -= length;
        }
        0
    }
}

impl AudioSource for RingTone {
    fn fill(&mut self, frame: &mut [i16]) {
        for sample in frame.iter_mut() {
            *sample = self.sample(self.at);
            self.at += 1;
        }
    }
}

/// A ring playing on a thread of its own until this is dropped.
pub struct Ringer {
    stop: Arc<AtomicBool>,
}

impl Ringer {
    /// Opens a speaker from `speakers` and plays `sound` on it in real time.
    pub fn start(speakers: &Speakers, sound: RingSound) -> Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let open = Arc::clone(speakers);
        std::thread::Builder::new()
            .name("flint-ring".into())
            .spawn(move || {
                // The speaker opens here: opening a device blocks.
                let mut speaker = match open() {
                    Ok(speaker) => speaker,
                    Err(error) => {
                        tracing::debug!(%error, "no speaker to ring on");
                        return;
                    }
                };
                let (mut tone, mut frame) = (RingTone::new(sound), vec![0; FRAME_SAMPLES]);
                let mut schedule = Schedule::new(AUDIO_FRAME);
                while !stopped.load(Ordering::Acquire) {
                    schedule.wait();
                    tone.fill(&mut frame);
                    speaker.play(&frame);
                }
            })
            .map_err(Error::Io)?;
        Ok(Self { stop })
    }
}

impl Drop for Ringer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calls::audio::loudest;
    use flint_proto::ipc::{CallKind, CallOutcome};

    fn view(phase: CallPhase, outgoing: bool) -> CallView {
        let mut view = crate::rules::call::outgoing("ab".into(), 1, 2, CallKind::Audio);
        view.phase = phase;
        view.outgoing = outgoing;
        view
    }

    #[test]
    fn only_a_ringing_call_makes_a_sound_and_each_side_its_own() {
        assert_eq!(
            RingSound::of(&view(CallPhase::Ringing, false)),
            Some(RingSound::Incoming)
        );
        assert_eq!(
            RingSound::of(&view(CallPhase::Ringing, true)),
            Some(RingSound::Ringback)
        );
        for phase in [
            CallPhase::Connecting,
            CallPhase::Connected,
            CallPhase::Ended {
                outcome: CallOutcome::HungUp,
            },
        ] {
            for outgoing in [false, true] {
                assert_eq!(RingSound::of(&view(phase, outgoing)), None, "{phase:?}");
            }
        }
    }

    /// `seconds` of `sound` from its start.
    fn played(sound: RingSound, seconds: u32) -> Vec<i16> {
        let mut tone = RingTone::new(sound);
        let mut samples = vec![0; (SAMPLE_RATE * seconds) as usize];
        tone.fill(&mut samples);
        samples
    }

    #[test]
    fn the_ringback_is_450_hz_for_one_second_in_five_and_loops() {
        let samples = played(RingSound::Ringback, 10);
        let second = |n: usize| &samples[n * SAMPLE_RATE as usize..(n + 1) * SAMPLE_RATE as usize];
        assert_eq!(loudest(second(0), &[450.0, 784.0, 988.0]), Some(450.0));
        assert!(second(2).iter().all(|s| *s == 0), "silent between rings");
        assert_eq!(second(0), second(5), "the cycle repeats");
        let peak = second(0).iter().map(|s| s.unsigned_abs()).max();
        assert!(peak > Some(7_000) && peak <= Some(8_000), "{peak:?}");
    }

    #[test]
    fn the_ringtone_chimes_two_notes_without_clicks() {
        let samples = played(RingSound::Incoming, 3);
        let ms = |from: usize, to: usize| &samples[from * 48..to * 48];
        assert_eq!(loudest(ms(0, 350), &[450.0, 784.0, 988.0]), Some(784.0));
        assert_eq!(loudest(ms(500, 850), &[450.0, 784.0, 988.0]), Some(988.0));
        assert!(ms(900, 2_500).iter().all(|s| *s == 0));
        // Each note starts and ends quietly.
        assert!(samples[..10].iter().all(|s| s.unsigned_abs() < 500));
        let end_of_first = 350 * 48;
        assert!(samples[end_of_first - 10..end_of_first + 10]
            .iter()
            .all(|s| s.unsigned_abs() < 500));
    }
}
