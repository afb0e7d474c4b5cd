//! A video call's pictures: where they come from ([`VideoSource`]: a camera in the app, the
//! moving [`TestPattern`] with its frame counter in tests), where they go ([`VideoSink`]),
//! and H.264 both ways with OpenH264 ([`Encoder`], [`Decoder`]), the codec every WebRTC peer
//! decodes. Pictures are I420 ([`Picture`]), even-sized and bounded.

use std::sync::{Arc, Mutex};

use openh264::encoder::{BitRate, EncoderConfig, FrameRate, IntraFramePeriod, UsageType};
use openh264::formats::YUVSource;
use openh264::OpenH264API;

use crate::error::{Error, Result};
use crate::locks::lock;

/// Pictures a second a call sends.
pub const FRAME_RATE: u32 = 30;
/// Bits a second a call's video is encoded at.
pub const BITRATE: u32 = 1_000_000;
/// Pictures between two key pictures (two seconds): a receiver that lost one recovers.
const KEY_EVERY: u32 = 2 * FRAME_RATE;
/// Largest picture sent or decoded, in pixels on a side (4K).
pub const MAX_SIDE: u32 = 4096;
/// Bits of a test pattern's frame counter.
const COUNTER_BITS: u32 = 16;

/// A picture in I420: the luma plane, then the two quarter-size chroma planes.
#[derive(Clone, PartialEq, Eq)]
pub struct Picture {
    width: u32,
    height: u32,
    data: Vec<u8>,
}

impl std::fmt::Debug for Picture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Picture({}×{})", self.width, self.height)
    }
}

impl Picture {
    /// A black picture; its sides must be even and at most [`MAX_SIDE`].
    pub fn black(width: u32, height: u32) -> Result<Self> {
        if width == 0 || height == 0 || width % 2 == 1 || height % 2 == 1 {
            return Err(Error::Invalid(format!(
                "a {width}×{height} picture is not even"
            )));
        }
        if width > MAX_SIDE || height > MAX_SIDE {
            return Err(Error::Invalid(format!(
                "a {width}×{height} picture is too big"
            )));
        }
        let luma = width as usize * height as usize;
        let mut data = vec![16; luma + luma / 2];
        data[luma..].fill(128);
        Ok(Self {
            width,
            height,
            data,
        })
    }

    /// Its width in pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Its height in pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// Its luma (brightness) plane, row after row.
    pub fn luma(&self) -> &[u8] {
        &self.data[..self.width as usize * self.height as usize]
    }

    fn luma_mut(&mut self) -> &mut [u8] {
        let luma = self.width as usize * self.height as usize;
        &mut self.data[..luma]
    }

    /// Whether anything in it is brighter than black.
    pub fn is_lit(&self) -> bool {
        self.luma().iter().any(|&y| y > 40)
    }
}

impl YUVSource for Picture {
    fn dimensions(&self) -> (usize, usize) {
        (self.width as usize, self.height as usize)
    }

    fn strides(&self) -> (usize, usize, usize) {
        let width = self.width as usize;
        (width, width / 2, width / 2)
    }

    fn y(&self) -> &[u8] {
        self.luma()
    }

    fn u(&self) -> &[u8] {
        let luma = self.width as usize * self.height as usize;
        &self.data[luma..luma + luma / 4]
    }

    fn v(&self) -> &[u8] {
        let luma = self.width as usize * self.height as usize;
        &self.data[luma + luma / 4..]
    }
}

/// Pictures to send, one at a time.
pub trait VideoSource: Send {
    /// The next picture, or `None` when there is none (the camera is busy or gone).
    fn capture(&mut self) -> Option<Picture>;
}

/// Pictures received, one decoded picture at a time.
pub trait VideoSink: Send {
    /// Shows (or keeps) a decoded picture.
    fn show(&mut self, picture: Picture);
}

/// No camera: a video call sends no pictures (and still shows the other side's).
pub struct NoCamera;

impl VideoSource for NoCamera {
    fn capture(&mut self) -> Option<Picture> {
        None
    }
}

/// A moving test picture: a grey ramp with a white bar sweeping across, and the picture's
/// number in a row of black and white blocks along the top (see [`counter`]).
pub struct TestPattern {
    width: u32,
    height: u32,
    frame: u32,
}

impl TestPattern {
    /// A pattern of `width` × `height` (even, at least 128 × 32).
    pub fn new(width: u32, height: u32) -> Result<Self> {
        if width < 128 || height < 32 {
            return Err(Error::Invalid("a test pattern is at least 128×32".into()));
        }
        Picture::black(width, height)?;
        Ok(Self {
            width,
            height,
            frame: 0,
        })
    }
}

impl VideoSource for TestPattern {
    fn capture(&mut self) -> Option<Picture> {
        let mut picture = Picture::black(self.width, self.height).ok()?;
        let (width, height) = (self.width as usize, self.height as usize);
        let bar = (self.frame as usize * 8) % width;
        let block = block_side(self.width);
        let luma = picture.luma_mut();
        for (y, row) in luma.chunks_exact_mut(width).enumerate().take(height) {
            for (x, pixel) in row.iter_mut().enumerate() {
                *pixel = if y < block {
                    let bit = x / block;
                    let set = bit < COUNTER_BITS as usize && self.frame >> bit & 1 == 1;
                    if set {
                        235
                    } else {
                        16
                    }
                } else if x.abs_diff(bar) < 8 {
                    235
                } else {
                    (60 + x * 120 / width) as u8
                };
            }
        }
        self.frame = self.frame.wrapping_add(1);
        Some(picture)
    }
}

/// Side of a counter block in a pattern `width` wide.
fn block_side(width: u32) -> usize {
    (width / COUNTER_BITS).min(32) as usize
}

/// The number a [`TestPattern`] wrote into `picture` (read from the middle of each block, so
/// compression does not change it).
pub fn counter(picture: &Picture) -> u32 {
    let width = picture.width as usize;
    let block = block_side(picture.width);
    let y = block / 2;
    if y >= picture.height as usize {
        return 0;
    }
    (0..COUNTER_BITS).fold(0, |number, bit| {
        let x = bit as usize * block + block / 2;
        let lit = picture.luma()[y * width + x] > 128;
        number | u32::from(lit) << bit
    })
}

/// What a [`Screen`] saw of one picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    /// Its width.
    pub width: u32,
    /// Its height.
    pub height: u32,
    /// The test pattern's number in it.
    pub counter: u32,
    /// Whether anything in it was brighter than black.
    pub lit: bool,
}

/// A sink that notes what it is shown (the tests' screen).
#[derive(Clone, Default)]
pub struct Screen {
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Screen {
    /// What it was shown, in order.
    pub fn seen(&self) -> Vec<Seen> {
        lock(&self.seen).clone()
    }
}

impl VideoSink for Screen {
    fn show(&mut self, picture: Picture) {
        let seen = Seen {
            width: picture.width,
            height: picture.height,
            counter: counter(&picture),
            lit: picture.is_lit(),
        };
        lock(&self.seen).push(seen);
    }
}

/// H.264 encoding of a call's pictures (OpenH264, built from source).
pub struct Encoder {
    inner: openh264::encoder::Encoder,
}

impl Encoder {
    /// An encoder for real-time video at [`FRAME_RATE`] and `bps` bits a second (at most
    /// [`BITRATE`] in a call), a key picture first and every two seconds.
    pub fn at(bps: u32) -> Result<Self> {
        let config = EncoderConfig::new()
            .bitrate(BitRate::from_bps(bps))
            .max_frame_rate(FrameRate::from_hz(FRAME_RATE as f32))
            .usage_type(UsageType::CameraVideoRealTime)
            .intra_frame_period(IntraFramePeriod::from_num_frames(KEY_EVERY));
        let inner = openh264::encoder::Encoder::with_api_config(OpenH264API::from_source(), config)
            .map_err(|error| Error::Protocol(format!("no H.264 encoder: {error}")))?;
        Ok(Self { inner })
    }

    /// The picture as one H.264 access unit (Annex B); empty when the encoder skipped it.
    pub fn encode(&mut self, picture: &Picture) -> Result<Vec<u8>> {
        let stream = self
            .inner
            .encode(picture)
            .map_err(|error| Error::Protocol(format!("H.264 encoding: {error}")))?;
        Ok(stream.to_vec())
    }

    /// Makes the next picture a key picture (the other side lost one).
    pub fn force_key(&mut self) {
        self.inner.force_intra_frame();
    }
}

/// H.264 decoding of the other side's pictures.
pub struct Decoder {
    inner: openh264::decoder::Decoder,
}

impl Decoder {
    /// A decoder.
    pub fn new() -> Result<Self> {
        let inner = openh264::decoder::Decoder::new()
            .map_err(|error| Error::Protocol(format!("no H.264 decoder: {error}")))?;
        Ok(Self { inner })
    }

    /// The picture an access unit (Annex B) completes, if it completes one; a picture larger
    /// than [`MAX_SIDE`] or of odd size is refused.
    pub fn decode(&mut self, access_unit: &[u8]) -> Result<Option<Picture>> {
        let decoded = self
            .inner
            .decode(access_unit)
            .map_err(|error| Error::Protocol(format!("H.264 decoding: {error}")))?;
        let Some(yuv) = decoded else {
            return Ok(None);
        };
        let (width, height) = yuv.dimensions();
        let (Ok(w), Ok(h)) = (u32::try_from(width), u32::try_from(height)) else {
            return Err(Error::Protocol("a decoded picture is too big".into()));
        };
        let mut picture = Picture::black(w, h)?;
        let (y_stride, u_stride, v_stride) = yuv.strides();
        let planes = [
            (yuv.y(), y_stride, width, height),
            (yuv.u(), u_stride, width / 2, height / 2),
            (yuv.v(), v_stride, width / 2, height / 2),
        ];
        let mut at = 0;
        for (plane, stride, plane_width, rows) in planes {
            for row in plane.chunks(stride).take(rows) {
                let row = row
                    .get(..plane_width)
                    .ok_or_else(|| Error::Protocol("a decoded row is short".into()))?;
                picture.data[at..at + plane_width].copy_from_slice(row);
                at += plane_width;
            }
        }
        Ok(Some(picture))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pictures_sides_are_even_and_bounded() {
        assert!(Picture::black(640, 480).is_ok());
        assert!(Picture::black(641, 480).is_err());
        assert!(Picture::black(0, 480).is_err());
        assert!(Picture::black(MAX_SIDE + 2, 2).is_err());
        assert!(!Picture::black(2, 2).unwrap().is_lit());
    }

    #[test]
    fn the_pattern_counts_its_pictures_and_moves() {
        let mut pattern = TestPattern::new(640, 480).unwrap();
        let first = pattern.capture().unwrap();
        let second = pattern.capture().unwrap();
        assert_eq!((counter(&first), counter(&second)), (0, 1));
        assert_ne!(
            first.luma()[200 * 640..],
            second.luma()[200 * 640..],
            "the bar moves"
        );
        assert!(first.is_lit());
        assert!(TestPattern::new(64, 480).is_err());
        assert_eq!(
            counter(&Picture::black(640, 2).unwrap()),
            0,
            "too short to hold one"
        );
    }

    #[test]
    fn pictures_come_back_through_h264_with_their_size_and_number() {
        let mut pattern = TestPattern::new(640, 480).unwrap();
        let (mut encoder, mut decoder) = (Encoder::at(BITRATE).unwrap(), Decoder::new().unwrap());
        let mut numbers = Vec::new();
        for _ in 0..40 {
            let sent = pattern.capture().unwrap();
            let unit = encoder.encode(&sent).unwrap();
            if let Some(back) = decoder.decode(&unit).unwrap() {
                assert_eq!((back.width(), back.height()), (640, 480));
                numbers.push(counter(&back));
            }
        }
        assert!(numbers.len() >= 35, "decoded {} of 40", numbers.len());
        assert!(numbers.windows(2).all(|w| w[0] < w[1]), "{numbers:?}");
    }

    #[test]
    fn garbage_is_refused_by_the_decoder_without_a_panic() {
        let mut decoder = Decoder::new().unwrap();
        for unit in [&[0u8, 0, 0, 1, 0x67, 0xff, 0xff][..], &[1, 2, 3], &[]] {
            let _ = decoder.decode(unit);
        }
    }
}
