//! Voice messages: sound from an [`AudioSource`] recorded into an Ogg Opus note with its
//! length and a waveform for the bubble ([`Take`]), the recording in progress on this device
//! ([`Recordings`]), and a note read back into samples ([`samples`]).

mod ogg;
mod recording;

pub use ogg::OggError;
pub use recording::{Microphone, Recordings};

use crate::calls::audio::{FRAME_SAMPLES, SAMPLE_RATE};
use crate::error::{Error, Result};

use flint_proto::files::{MAX_VOICE_MS, MIN_VOICE_MS};
/// Bars in a note's waveform.
pub const BARS: usize = 48;
/// Milliseconds in one frame.
pub(super) const FRAME_MS: u32 = 20;
/// Frames in the longest note.
const MAX_FRAMES: usize = (MAX_VOICE_MS / FRAME_MS) as usize;
/// Bits a second the voice is encoded at (about 180 KiB a minute).
const BITRATE: i32 = 24_000;
/// The MIME type of a voice note.
pub const MIME: &str = "audio/ogg";

/// A recorded voice note, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The Ogg Opus file.
    pub ogg: Vec<u8>,
    /// Its length in milliseconds.
    pub duration_ms: u32,
    /// Its loudness, [`BARS`] bytes (0–255).
    pub waveform: Vec<u8>,
}

/// A voice note being recorded: frames in, Opus packets and loudness kept (at most
/// [`MAX_VOICE_MS`], about 180 KiB).
pub struct Take {
    encoder: opus::Encoder,
    pre_skip: u16,
    packets: Vec<Vec<u8>>,
    peaks: Vec<u8>,
}

impl Take {
    /// An empty take.
    pub fn new() -> Result<Self> {
        let failed = |error: opus::Error| Error::Invalid(format!("voice encoder: {error}"));
        let mut encoder =
            opus::Encoder::new(SAMPLE_RATE, opus::Channels::Mono, opus::Application::Voip)
                .map_err(failed)?;
        encoder
            .set_bitrate(opus::Bitrate::Bits(BITRATE))
            .map_err(failed)?;
        let pre_skip = u16::try_from(encoder.get_lookahead().map_err(failed)?).unwrap_or(0);
        Ok(Self {
            encoder,
            pre_skip,
            packets: Vec::new(),
            peaks: Vec::new(),
        })
    }

    /// Adds the next 20 ms ([`FRAME_SAMPLES`] samples); `false` once the take is full (the
    /// frame is then left out).
    pub fn push(&mut self, frame: &[i16]) -> Result<bool> {
        if self.is_full() {
            return Ok(false);
        }
        let packet = self.encode(frame)?;
        self.packets.push(packet);
        self.peaks.push(level(frame));
        Ok(true)
    }

    /// Whether the take holds [`MAX_VOICE_MS`].
    pub fn is_full(&self) -> bool {
        self.packets.len() >= MAX_FRAMES
    }

    /// Milliseconds recorded so far.
    pub fn elapsed_ms(&self) -> u32 {
        self.packets.len() as u32 * FRAME_MS
    }

    /// The loudness (0–255) of the last frame, for a level meter.
    pub fn level(&self) -> u8 {
        self.peaks.last().copied().unwrap_or(0)
    }

    /// The finished note; refused when shorter than [`MIN_VOICE_MS`]. A frame of silence flushes
    /// the encoder's look-ahead, and the file says where the recorded sound ends.
    pub fn finish(mut self) -> Result<Note> {
        let duration_ms = self.elapsed_ms();
        if duration_ms < MIN_VOICE_MS {
            return Err(Error::Invalid(
                "the voice message is shorter than a second".into(),
            ));
        }
        let samples = (self.packets.len() * FRAME_SAMPLES) as u64;
        let waveform = bars(&self.peaks);
        let flush = self.encode(&[0; FRAME_SAMPLES])?;
        self.packets.push(flush);
        let stream = ogg::Stream {
            packets: self.packets,
            pre_skip: self.pre_skip,
            samples,
        };
        Ok(Note {
            ogg: ogg::write(&stream),
            duration_ms,
            waveform,
        })
    }

    fn encode(&mut self, frame: &[i16]) -> Result<Vec<u8>> {
        let mut packet = vec![0u8; 1275];
        let len = self
            .encoder
            .encode(frame, &mut packet)
            .map_err(|error| Error::Invalid(format!("voice encoder: {error}")))?;
        packet.truncate(len);
        Ok(packet)
    }
}

/// A frame's loudness on 0–255: its peak on a square-root scale, so speech fills the bar.
fn level(frame: &[i16]) -> u8 {
    let peak = frame.iter().map(|s| s.unsigned_abs()).max().unwrap_or(0);
    ((f32::from(peak) / 32_768.0).sqrt() * 255.0)
        .round()
        .min(255.0) as u8
}

/// `peaks` (one per frame) gathered into [`BARS`] bars, each the loudest of its frames.
fn bars(peaks: &[u8]) -> Vec<u8> {
    (0..BARS)
        .map(|bar| {
            let start = bar * peaks.len() / BARS;
            let end = ((bar + 1) * peaks.len() / BARS)
                .max(start + 1)
                .min(peaks.len());
            peaks
                .get(start..end)
                .and_then(|p| p.iter().max().copied())
                .unwrap_or(0)
        })
        .collect()
}

/// The 48 kHz mono samples of a voice note (the encoder's look-ahead dropped).
pub fn samples(ogg: &[u8]) -> Result<Vec<i16>> {
    let stream = ogg::read(ogg).map_err(|e| Error::Invalid(e.to_string()))?;
    let failed = |error: opus::Error| Error::Invalid(format!("voice decoder: {error}"));
    let mut decoder = opus::Decoder::new(SAMPLE_RATE, opus::Channels::Mono).map_err(failed)?;
    let mut out = Vec::with_capacity(stream.packets.len().min(MAX_FRAMES * 2) * FRAME_SAMPLES);
    // Room for the longest Opus packet (120 ms).
    let mut pcm = vec![0i16; FRAME_SAMPLES * 6];
    for packet in &stream.packets {
        let decoded = decoder.decode(packet, &mut pcm, false).map_err(failed)?;
        out.extend_from_slice(&pcm[..decoded]);
    }
    out.drain(..usize::from(stream.pre_skip).min(out.len()));
    out.truncate(usize::try_from(stream.samples).unwrap_or(usize::MAX));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calls::audio::{loudest, AudioSource, Tone};

    fn take_of(source: &mut dyn AudioSource, frames: usize) -> Take {
        let mut take = Take::new().unwrap();
        let mut frame = vec![0i16; FRAME_SAMPLES];
        for _ in 0..frames {
            source.fill(&mut frame);
            take.push(&frame).unwrap();
        }
        take
    }

    #[test]
    fn a_tone_recorded_plays_back_at_its_pitch_and_length() {
        let note = take_of(&mut Tone::new(440.0), 100).finish().unwrap();
        assert_eq!(note.duration_ms, 2_000);
        let samples = samples(&note.ogg).unwrap();
        assert_eq!(samples.len(), 2 * SAMPLE_RATE as usize);
        let middle = &samples[SAMPLE_RATE as usize / 2..SAMPLE_RATE as usize];
        assert_eq!(loudest(middle, &[300.0, 440.0, 660.0, 1000.0]), Some(440.0));
        assert!(note.ogg.len() < 8_000, "{} bytes for 2 s", note.ogg.len());
    }

    #[test]
    fn the_waveform_follows_the_loudness() {
        struct LoudThenQuiet(u32);
        impl AudioSource for LoudThenQuiet {
            fn fill(&mut self, frame: &mut [i16]) {
                self.0 += 1;
                let level = if self.0 <= 50 { 20_000 } else { 0 };
                for (i, s) in frame.iter_mut().enumerate() {
                    *s = if i % 2 == 0 { level } else { -level };
                }
            }
        }
        let note = take_of(&mut LoudThenQuiet(0), 100).finish().unwrap();
        assert_eq!(note.waveform.len(), BARS);
        assert!(note.waveform[..BARS / 2 - 1].iter().all(|&l| l > 190));
        assert!(note.waveform[BARS / 2 + 1..].iter().all(|&l| l == 0));
    }

    #[test]
    fn a_take_stops_at_a_minute_and_a_short_one_is_not_sent() {
        let mut take = take_of(&mut Tone::new(440.0), MAX_FRAMES);
        assert!(take.is_full());
        assert!(!take.push(&[0; FRAME_SAMPLES]).unwrap());
        assert_eq!(take.finish().unwrap().duration_ms, MAX_VOICE_MS);
        let short = take_of(&mut Tone::new(440.0), 49).finish();
        assert!(matches!(short, Err(Error::Invalid(_))), "{short:?}");
    }

    #[test]
    fn a_note_shorter_than_the_bars_still_has_all_of_them() {
        assert_eq!(bars(&[10, 200]), [vec![10; 24], vec![200; 24]].concat());
        assert_eq!(bars(&[]), vec![0; BARS]);
    }
}
