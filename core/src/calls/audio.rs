//! Where a call's sound comes from and goes to: [`AudioSource`] fills 20 ms frames of 48 kHz
//! mono samples, [`AudioSink`] plays decoded ones. Devices implement them in the app; the
//! synthetic [`Tone`] and [`Recorder`] stand in for a microphone and a speaker in tests and
//! in a call's self-check.

use std::sync::{Arc, Mutex};

/// Samples per second of a call's audio.
pub const SAMPLE_RATE: u32 = 48_000;
/// Samples in one 20 ms frame (what one Opus packet carries).
pub const FRAME_SAMPLES: usize = 960;

/// Sound to send, one frame at a time.
pub trait AudioSource: Send {
    /// Fills `frame` ([`FRAME_SAMPLES`] samples) with the next 20 ms.
    fn fill(&mut self, frame: &mut [i16]);
}

/// Sound received, one decoded frame at a time.
pub trait AudioSink: Send {
    /// Plays (or keeps) a decoded frame.
    fn play(&mut self, frame: &[i16]);
}

/// A sine tone at a fixed frequency.
pub struct Tone {
    hz: f32,
    at: u64,
}

impl Tone {
    /// A tone of `hz` hertz.
    pub fn new(hz: f32) -> Self {
        Self { hz, at: 0 }
    }
}

impl AudioSource for Tone {
    fn fill(&mut self, frame: &mut [i16]) {
        let step = self.hz * std::f32::consts::TAU / SAMPLE_RATE as f32;
        for sample in frame.iter_mut() {
            // The phase is taken modulo a period's worth of samples so it never loses precision.
            let phase = (self.at % u64::from(SAMPLE_RATE)) as f32 * step;
            *sample = (phase.sin() * 10_000.0) as i16;
            self.at += 1;
        }
    }
}

/// Keeps the last few seconds of what it is given, for a test or a self-check to inspect.
#[derive(Clone, Default)]
pub struct Recorder {
    kept: Arc<Mutex<Vec<i16>>>,
}

/// Most samples a [`Recorder`] keeps (ten seconds).
const KEEP: usize = SAMPLE_RATE as usize * 10;

impl Recorder {
    /// A copy of the samples kept so far.
    pub fn samples(&self) -> Vec<i16> {
        self.kept.lock().map(|k| k.clone()).unwrap_or_default()
    }
}

impl AudioSink for Recorder {
    fn play(&mut self, frame: &[i16]) {
        if let Ok(mut kept) = self.kept.lock() {
            kept.extend_from_slice(frame);
            let over = kept.len().saturating_sub(KEEP);
            kept.drain(..over);
        }
    }
}

/// The frequency (in hertz, to the nearest of `candidates`) with the most energy in
/// `samples`, by the Goertzel algorithm: how a test tells a 440 Hz tone from others.
pub fn loudest(samples: &[i16], candidates: &[f32]) -> Option<f32> {
    let power = |hz: f32| {
        let coefficient = 2.0 * (std::f32::consts::TAU * hz / SAMPLE_RATE as f32).cos();
        let (mut previous, mut before) = (0.0f32, 0.0f32);
        for &sample in samples {
            let next = f32::from(sample) + coefficient * previous - before;
            before = previous;
            previous = next;
        }
        previous * previous + before * before - coefficient * previous * before
    };
    candidates
        .iter()
        .copied()
        .map(|hz| (hz, power(hz)))
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(hz, _)| hz)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tone_is_found_at_its_frequency() {
        let mut tone = Tone::new(440.0);
        let mut samples = vec![0i16; FRAME_SAMPLES * 25];
        for frame in samples.chunks_mut(FRAME_SAMPLES) {
            tone.fill(frame);
        }
        assert_eq!(
            loudest(&samples, &[300.0, 440.0, 660.0, 1000.0]),
            Some(440.0)
        );
        let mut other = Tone::new(660.0);
        other.fill(&mut samples[..FRAME_SAMPLES]);
        assert_eq!(
            loudest(&samples[..FRAME_SAMPLES], &[440.0, 660.0]),
            Some(660.0)
        );
    }

    #[test]
    fn a_recorder_keeps_the_last_ten_seconds() {
        let mut recorder = Recorder::default();
        let frame = vec![1i16; FRAME_SAMPLES];
        for _ in 0..(KEEP / FRAME_SAMPLES + 5) {
            recorder.play(&frame);
        }
        assert_eq!(recorder.samples().len(), KEEP);
    }
}
