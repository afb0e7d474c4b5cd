//! The heavy half of a call's media on threads of its own, off the async executor: cleaning
//! and Opus-encoding the microphone, decoding the other side's sound, H.264-encoding the
//! camera and decoding the other side's pictures. Each worker is joined to the peer
//! connection's async tasks by a small bounded channel; a full channel drops the newest
//! frame (real time does not wait), and a worker ends when its channel's other end is gone.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::{mpsc, watch};

use super::audio::{AudioSink, AudioSource, FRAME_SAMPLES, SAMPLE_RATE};
use super::keys::KeyWish;
use super::video::{self, VideoSink, VideoSource, FRAME_RATE};
use crate::error::{Error, Result};

/// Frames or pictures waiting between a worker and its async task.
const QUEUED: usize = 4;
/// Received pictures waiting for the decoder: a retransmission that fills a gap releases the
/// pictures held behind it at once (up to `reorder::WAIT` of them, 8 at 30 a second).
const SCREEN_QUEUED: usize = 12;

/// Length of one audio frame ([`FRAME_SAMPLES`] at [`SAMPLE_RATE`]).
pub const AUDIO_FRAME: Duration =
    Duration::from_micros(FRAME_SAMPLES as u64 * 1_000_000 / SAMPLE_RATE as u64);

/// Time between two pictures.
pub fn picture_interval() -> Duration {
    Duration::from_secs(1) / FRAME_RATE
}

/// Encoded microphone frames, one every [`AUDIO_FRAME`] (silence while `muted`).
pub fn microphone(
    mut source: Box<dyn AudioSource>,
    muted: watch::Receiver<bool>,
) -> Result<mpsc::Receiver<Bytes>> {
    let mut encoder =
        opus::Encoder::new(SAMPLE_RATE, opus::Channels::Mono, opus::Application::Voip)
            .map_err(|error| Error::NoDevice(format!("no Opus encoder: {error}")))?;
    let (frames, out) = mpsc::channel(QUEUED);
    spawn("flint-call-mic", move || {
        let mut frame = vec![0i16; FRAME_SAMPLES];
        let mut packet = vec![0u8; 1500];
        let mut schedule = Schedule::new(AUDIO_FRAME);
        while !frames.is_closed() {
            schedule.wait();
            source.fill(&mut frame);
            if *muted.borrow() {
                frame.fill(0);
            }
            match encoder.encode(&frame, &mut packet) {
                Ok(len) => {
                    // A full queue drops the frame: late sound is no use.
                    offer(&frames, Bytes::copy_from_slice(&packet[..len]));
                }
                Err(error) => tracing::debug!(%error, "an audio frame was not encoded"),
            }
        }
    })?;
    Ok(out)
}

/// Plays the Opus packets sent in on the sink.
pub fn speaker(mut sink: Box<dyn AudioSink>) -> Result<mpsc::Sender<Bytes>> {
    let mut decoder = opus::Decoder::new(SAMPLE_RATE, opus::Channels::Mono)
        .map_err(|error| Error::NoDevice(format!("no Opus decoder: {error}")))?;
    let (packets, mut inbox) = mpsc::channel::<Bytes>(QUEUED);
    spawn("flint-call-speaker", move || {
        // Room for the longest Opus packet (120 ms).
        let mut pcm = vec![0i16; FRAME_SAMPLES * 6];
        while let Some(packet) = inbox.blocking_recv() {
            match decoder.decode(&packet, &mut pcm, false) {
                Ok(samples) => sink.play(&pcm[..samples]),
                Err(error) => tracing::debug!(%error, "an audio packet was not decoded"),
            }
        }
    })?;
    Ok(packets)
}

/// Encoded pictures from the camera, [`FRAME_RATE`] a second (none while `dark`), at the
/// bitrate `rate` holds; a key picture as soon as `keys` wishes for one.
pub fn camera(
    mut source: Box<dyn VideoSource>,
    dark: watch::Receiver<bool>,
    keys: Arc<KeyWish>,
    rate: Arc<AtomicU32>,
) -> Result<mpsc::Receiver<Bytes>> {
    let mut bps = rate.load(Ordering::Acquire);
    let mut encoder = video::Encoder::at(bps)?;
    let (units, out) = mpsc::channel(QUEUED);
    spawn("flint-call-camera", move || {
        let mut schedule = Schedule::new(picture_interval());
        while !units.is_closed() {
            schedule.wait();
            if *dark.borrow() {
                continue;
            }
            let wanted = rate.load(Ordering::Acquire);
            if wanted != bps {
                // A new encoder at the new rate (it starts with a key picture).
                match video::Encoder::at(wanted) {
                    Ok(fresh) => {
                        encoder = fresh;
                        bps = wanted;
                    }
                    Err(error) => tracing::debug!(%error, "the bitrate stays for now"),
                }
            }
            let Some(picture) = source.capture() else {
                continue;
            };
            if keys.take() {
                encoder.force_key();
            }
            match encoder.encode(&picture) {
                Ok(unit) if unit.is_empty() => {}
                Ok(unit) => {
                    if !offer(&units, Bytes::from(unit)) {
                        // The pictures after a dropped one refer to it.
                        keys.raise();
                    }
                }
                Err(error) => tracing::debug!(%error, "a picture was not encoded"),
            }
        }
    })?;
    Ok(out)
}

/// Decodes the access units sent in onto the screen; one that does not decode (or cannot
/// be queued) wishes for a key picture through `keys`.
pub fn screen(mut sink: Box<dyn VideoSink>, keys: Arc<KeyWish>) -> Result<Decoding> {
    let mut decoder = video::Decoder::new()?;
    let (units, mut inbox) = mpsc::channel::<Vec<u8>>(SCREEN_QUEUED);
    let wish = Arc::clone(&keys);
    spawn("flint-call-screen", move || {
        while let Some(unit) = inbox.blocking_recv() {
            match decoder.decode(&unit) {
                Ok(Some(picture)) => sink.show(picture),
                Ok(None) => {}
                Err(error) => {
                    tracing::debug!(%error, "a picture was not decoded");
                    wish.raise();
                }
            }
        }
    })?;
    Ok(Decoding { units, keys })
}

/// Where received access units go to be decoded.
pub struct Decoding {
    units: mpsc::Sender<Vec<u8>>,
    keys: Arc<KeyWish>,
}

impl Decoding {
    /// Hands an access unit to the decoder; a busy decoder drops it and wishes for a key.
    /// Whether it was taken.
    pub fn show(&self, unit: Vec<u8>) -> bool {
        let taken = offer(&self.units, unit);
        if !taken {
            self.keys.raise();
        }
        taken
    }
}

/// Queues `item` unless the channel is full or closed; whether it was queued.
fn offer<T>(channel: &mpsc::Sender<T>, item: T) -> bool {
    channel.try_send(item).is_ok()
}

fn spawn(name: &str, work: impl FnOnce() + Send + 'static) -> Result<()> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(work)
        .map(drop)
        .map_err(Error::Io)
}

/// A fixed schedule of equal periods; a worker that fell more than a period behind starts
/// afresh from now instead of rushing to catch up.
pub(super) struct Schedule {
    every: Duration,
    next: Instant,
}

impl Schedule {
    pub(super) fn new(every: Duration) -> Self {
        Self {
            every,
            next: Instant::now(),
        }
    }

    /// Sleeps until the next period starts.
    pub(super) fn wait(&mut self) {
        let now = Instant::now();
        if let Some(ahead) = self.next.checked_duration_since(now) {
            std::thread::sleep(ahead);
        } else if now.duration_since(self.next) > self.every {
            self.next = now;
        }
        self.next += self.every;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calls::video::TestPattern;

    /// Whether an access unit holds an IDR slice (NAL type 5): a key picture.
    fn is_key(unit: &[u8]) -> bool {
        unit.windows(4)
            .any(|w| w[..3] == [0, 0, 1] && w[3] & 0x1F == 5)
    }

    #[test]
    fn a_key_wish_makes_the_next_picture_a_key_picture() {
        let source = TestPattern::new(320, 240).expect("pattern");
        let (_on, dark) = watch::channel(false);
        let keys = Arc::new(KeyWish::default());
        let rate = Arc::new(AtomicU32::new(video::BITRATE));
        let mut units = camera(Box::new(source), dark, Arc::clone(&keys), rate).expect("camera");
        let first = units.blocking_recv().expect("a picture");
        assert!(is_key(&first), "a stream starts with a key picture");
        for _ in 0..5 {
            assert!(!is_key(&units.blocking_recv().expect("a picture")));
        }
        keys.raise();
        // The wish is taken before the next capture; a picture may already be queued.
        let next: Vec<_> = (0..QUEUED + 1)
            .map(|_| units.blocking_recv().expect("a picture"))
            .collect();
        assert!(
            next.iter().any(|unit| is_key(unit)),
            "no key picture after the wish"
        );
    }

    #[test]
    fn a_unit_that_does_not_decode_wishes_for_a_key() {
        let seen = video::Screen::default();
        let keys = Arc::new(KeyWish::default());
        let screen = screen(Box::new(seen), Arc::clone(&keys)).expect("screen");
        screen.show(vec![0, 0, 0, 1, 0x41, 0xFF, 0xFF, 0xFF]);
        let deadline = Instant::now() + Duration::from_secs(10);
        while !keys.take() {
            assert!(Instant::now() < deadline, "no wish for a key");
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    #[test]
    fn the_microphone_worker_ends_with_its_receiver() {
        let (_on, muted) = watch::channel(false);
        let mut frames =
            microphone(Box::new(crate::calls::audio::Tone::new(440.0)), muted).expect("microphone");
        assert!(!frames.blocking_recv().expect("a frame").is_empty());
        drop(frames);
    }
}
