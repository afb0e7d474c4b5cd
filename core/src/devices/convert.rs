//! Between a device's sound (any rate, interleaved channels, samples as `f32`) and a call's
//! (48 kHz mono `i16`): channels mixed down or copied out, the rate changed by linear
//! interpolation — enough for speech, and cheap on an audio thread.

use std::collections::VecDeque;

/// Changes a stream's rate by linear interpolation, one output sample at a time.
#[derive(Debug, Clone)]
pub struct Resampler {
    /// Input samples per output sample.
    step: f64,
    /// Where the next output lies after `previous`, in input samples.
    phase: f64,
    previous: f32,
    current: f32,
}

impl Resampler {
    /// From `from` to `to` samples a second.
    pub fn new(from: u32, to: u32) -> Self {
        Self {
            step: f64::from(from.max(1)) / f64::from(to.max(1)),
            phase: 1.0,
            previous: 0.0,
            current: 0.0,
        }
    }

    /// The next output sample, taking what it needs from the front of `input`; `None` when
    /// `input` runs out (nothing taken is lost: the next call goes on from there).
    pub fn next(&mut self, input: &mut VecDeque<f32>) -> Option<f32> {
        while self.phase >= 1.0 {
            let sample = input.pop_front()?;
            self.previous = self.current;
            self.current = sample;
            self.phase -= 1.0;
        }
        let out = self.previous + (self.current - self.previous) * self.phase as f32;
        self.phase += self.step;
        Some(out)
    }
}

/// The mean of each frame of `channels` interleaved samples, appended to `mono`.
pub fn mix_down(interleaved: &[f32], channels: usize, mono: &mut VecDeque<f32>) {
    let channels = channels.max(1);
    mono.extend(
        interleaved
            .chunks(channels)
            .map(|frame| frame.iter().sum::<f32>() / frame.len() as f32),
    );
}

/// A `-1.0..=1.0` sample as a call's `i16`.
pub fn to_i16(sample: f32) -> i16 {
    (sample.clamp(-1.0, 1.0) * f32::from(i16::MAX)) as i16
}

/// A call's `i16` sample as `-1.0..=1.0`.
pub fn to_f32(sample: i16) -> f32 {
    f32::from(sample) / f32::from(i16::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calls::audio::{loudest, AudioSource, Tone, FRAME_SAMPLES, SAMPLE_RATE};

    /// One second of a 440 Hz tone at `rate`, as `f32`.
    fn tone_at(rate: u32) -> Vec<f32> {
        (0..rate)
            .map(|i| (i as f32 * 440.0 * std::f32::consts::TAU / rate as f32).sin() * 0.5)
            .collect()
    }

    #[test]
    fn a_tone_at_44_1_khz_keeps_its_pitch_and_length_at_48_khz() {
        let mut input: VecDeque<f32> = tone_at(44_100).into();
        let mut resampler = Resampler::new(44_100, SAMPLE_RATE);
        let mut out = Vec::new();
        while let Some(sample) = resampler.next(&mut input) {
            out.push(to_i16(sample));
        }
        assert!(
            out.len().abs_diff(SAMPLE_RATE as usize) <= 2,
            "{}",
            out.len()
        );
        assert_eq!(loudest(&out, &[400.0, 440.0, 480.0]), Some(440.0));
    }

    #[test]
    fn the_same_rate_passes_samples_through_one_late() {
        let mut input: VecDeque<f32> = vec![0.1, 0.2, 0.3].into();
        let mut resampler = Resampler::new(48_000, 48_000);
        let out: Vec<f32> = std::iter::from_fn(|| resampler.next(&mut input)).collect();
        assert_eq!(out, vec![0.0, 0.1, 0.2]);
    }

    #[test]
    fn input_arriving_in_pieces_loses_nothing() {
        let mut tone = Tone::new(440.0);
        let mut frame = vec![0i16; FRAME_SAMPLES];
        let mut whole = Resampler::new(SAMPLE_RATE, 16_000);
        let mut pieces = Resampler::new(SAMPLE_RATE, 16_000);
        let (mut all, mut one, mut other) = (VecDeque::new(), Vec::new(), Vec::new());
        for _ in 0..10 {
            tone.fill(&mut frame);
            let mut piece: VecDeque<f32> = frame.iter().map(|&s| to_f32(s)).collect();
            all.extend(piece.iter().copied());
            other.extend(std::iter::from_fn(|| pieces.next(&mut piece)));
        }
        one.extend(std::iter::from_fn(|| whole.next(&mut all)));
        assert_eq!(one, other);
        assert_eq!(one.len(), 10 * FRAME_SAMPLES / 3);
    }

    #[test]
    fn stereo_is_mixed_down_and_samples_are_clamped() {
        let mut mono = VecDeque::new();
        mix_down(&[1.0, 0.0, -0.5, -0.5, 0.25], 2, &mut mono);
        assert_eq!(mono, [0.5, -0.5, 0.25]);
        assert_eq!(to_i16(2.0), i16::MAX);
        assert_eq!(to_i16(-2.0), -i16::MAX);
        assert_eq!(to_f32(i16::MAX), 1.0);
    }
}
