//! The other side's pictures in a video call, for a front end: the latest one is kept, each
//! arrival is told as [`Event::CallPicture`] (its number and size, never its pixels), and the
//! front end fetches it as a JPEG when it is ready to draw ([`CallScreen::jpeg`]), so pictures
//! it has no time for cost nothing.

use std::io::Cursor;
use std::sync::{Arc, Mutex};

use flint_proto::ipc::Event;
use image::codecs::jpeg::JpegEncoder;
use image::RgbImage;
use tokio::sync::broadcast;

use super::video::{Picture, VideoSink};
use crate::locks::lock;

/// JPEG quality of a picture handed to the front end (a moving picture hides the loss).
const QUALITY: u8 = 80;

/// The latest picture of the other side, and how many came before it.
#[derive(Clone)]
pub struct CallScreen {
    latest: Arc<Mutex<Option<(u64, Picture)>>>,
    events: broadcast::Sender<Event>,
}

impl CallScreen {
    /// A screen telling its arrivals on `events`.
    pub fn new(events: broadcast::Sender<Event>) -> Self {
        Self {
            latest: Arc::default(),
            events,
        }
    }

    /// The latest picture as a JPEG with its number, if one came (CPU work: a few
    /// milliseconds at 640×480, not for the executor).
    pub fn jpeg(&self) -> Option<(u64, Vec<u8>)> {
        let (number, picture) = lock(&self.latest).clone()?;
        let rgb = rgb(&picture)?;
        let mut out = Cursor::new(Vec::new());
        JpegEncoder::new_with_quality(&mut out, QUALITY)
            .encode_image(&rgb)
            .ok()?;
        Some((number, out.into_inner()))
    }

    /// Forgets the picture kept (the call ended).
    pub fn clear(&self) {
        *lock(&self.latest) = None;
    }
}

impl VideoSink for CallScreen {
    fn show(&mut self, picture: Picture) {
        let (width, height) = (picture.width(), picture.height());
        let number = {
            let mut latest = lock(&self.latest);
            let number = latest.as_ref().map_or(1, |(n, _)| n + 1);
            *latest = Some((number, picture));
            number
        };
        let _ = self.events.send(Event::CallPicture {
            number,
            width,
            height,
        });
    }
}

/// An I420 picture as RGB (BT.601, studio range).
fn rgb(picture: &Picture) -> Option<RgbImage> {
    use openh264::formats::YUVSource;
    let (width, height) = (picture.width() as usize, picture.height() as usize);
    let (y_plane, u_plane, v_plane) = (picture.y(), picture.u(), picture.v());
    let mut out = Vec::with_capacity(width * height * 3);
    for row in 0..height {
        for column in 0..width {
            let chroma = (row / 2) * (width / 2) + column / 2;
            let y = (i32::from(y_plane[row * width + column]) - 16) * 298;
            let u = i32::from(u_plane[chroma]) - 128;
            let v = i32::from(v_plane[chroma]) - 128;
            let clamp = |value: i32| ((value + 128) >> 8).clamp(0, 255) as u8;
            out.push(clamp(y + 409 * v));
            out.push(clamp(y - 100 * u - 208 * v));
            out.push(clamp(y + 516 * u));
        }
    }
    RgbImage::from_raw(picture.width(), picture.height(), out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calls::video::{TestPattern, VideoSource};

    #[test]
    fn each_picture_is_told_by_number_and_fetched_as_a_jpeg_of_its_size() {
        let (events, mut told) = broadcast::channel(8);
        let mut screen = CallScreen::new(events);
        assert!(screen.jpeg().is_none(), "nothing came yet");
        let mut pattern = TestPattern::new(320, 240).unwrap();
        for _ in 0..2 {
            screen.show(pattern.capture().unwrap());
        }
        for number in 1..=2 {
            let Ok(Event::CallPicture {
                number: n,
                width,
                height,
            }) = told.try_recv()
            else {
                panic!("each picture is told");
            };
            assert_eq!((n, width, height), (number, 320, 240));
        }
        let (number, jpeg) = screen.jpeg().unwrap();
        assert_eq!(number, 2);
        let back = image::load_from_memory(&jpeg).unwrap();
        assert_eq!((back.width(), back.height()), (320, 240));
        screen.clear();
        assert!(screen.jpeg().is_none());
    }

    #[test]
    fn black_stays_black() {
        let picture = Picture::black(2, 2).unwrap();
        let rgb = rgb(&picture).unwrap();
        assert_eq!(rgb.get_pixel(0, 0).0, [0, 0, 0]);
    }
}
