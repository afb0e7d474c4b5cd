//! What a video file is: its length and its size as shown, read from an MP4 or QuickTime
//! file's `moov` box, and its first picture for a poster. The file's top-level boxes are
//! stepped over by seeking; `moov` alone is read, up to a bound, and parsed from memory.
//! Anything malformed, unbounded or without a video track is "not a clip": it is sent as a
//! file. A clip whose first picture cannot be decoded (not H.264) goes without a poster.

mod boxes;
mod poster;
mod track;

use std::path::Path;

use image::DynamicImage;

use crate::error::Result;
use crate::media::MAX_WHOLE_BYTES;
use boxes::{child, children};

/// Largest side accepted, in pixels.
const MAX_SIDE: u32 = 16_384;

/// A video as a message describes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Clip {
    /// Length in milliseconds.
    pub duration_ms: u32,
    /// Pixels across, as shown (after the track's rotation).
    pub width: u32,
    /// Pixels down, as shown.
    pub height: u32,
}

/// A video file as read.
#[derive(Debug, Clone)]
pub struct Video {
    /// What its message says of it.
    pub clip: Clip,
    /// Its first picture, turned as shown, when it could be decoded.
    pub poster: Option<DynamicImage>,
}

/// Reads a video file of type `mime` small enough to be played whole, or `None` when it is
/// to be sent as a file (another type, too big, or not readable as a clip).
pub fn read(path: &Path, mime: &str) -> Result<Option<Video>> {
    if !matches!(mime, "video/mp4" | "video/quicktime") {
        return Ok(None);
    }
    let mut file = std::fs::File::open(path)?;
    if file.metadata()?.len() > MAX_WHOLE_BYTES {
        return Ok(None);
    }
    // A file that ends inside a box header is malformed, not an error: it goes as a file.
    let Some(moov) = boxes::read_moov(&mut file).ok().flatten() else {
        return Ok(None);
    };
    let Some((clip, track)) = parse_moov(&moov) else {
        return Ok(None);
    };
    let poster = poster::first_picture(&mut file, &track);
    Ok(Some(Video { clip, poster }))
}

/// The clip a `moov` body describes — the movie's length and its video track's size — with
/// that track.
fn parse_moov(moov: &[u8]) -> Option<(Clip, track::Track)> {
    let movie_ms = child(moov, b"mvhd").and_then(track::duration_ms);
    let found = children(moov)
        .filter(|(kind, _)| kind == b"trak")
        .find_map(|(_, trak)| track::video(trak))?;
    // A fragmented file states no length here: it goes as a file.
    let duration_ms = movie_ms
        .filter(|&ms| ms > 0)
        .or(found.duration_ms)
        .filter(|&ms| ms > 0)?;
    let sides = 1..=MAX_SIDE;
    let clip = Clip {
        duration_ms,
        width: found.width,
        height: found.height,
    };
    (sides.contains(&clip.width) && sides.contains(&clip.height)).then_some((clip, found))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::imageops::FilterType;

    /// The clip a file's message describes.
    fn clip(path: &Path, mime: &str) -> Result<Option<Clip>> {
        Ok(read(path, mime)?.map(|video| video.clip))
    }

    /// The fixtures made by ffmpeg, written into `dir` (see tests/fixtures/README.md).
    fn fixtures(dir: &Path) -> [(std::path::PathBuf, &'static str); 2] {
        let upright = dir.join("clip.mp4");
        std::fs::write(&upright, include_bytes!("../../../tests/fixtures/clip.mp4")).unwrap();
        let turned = dir.join("turned.mov");
        std::fs::write(
            &turned,
            include_bytes!("../../../tests/fixtures/turned.mov"),
        )
        .unwrap();
        [(upright, "video/mp4"), (turned, "video/quicktime")]
    }

    /// A box of `kind` around `body`.
    fn mp4_box(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(body);
        out
    }

    /// A version-0 `mvhd`/`mdhd` body with this timescale and duration.
    fn times(timescale: u32, duration: u32) -> Vec<u8> {
        let mut body = vec![0; 12];
        body.extend_from_slice(&timescale.to_be_bytes());
        body.extend_from_slice(&duration.to_be_bytes());
        body.extend_from_slice(&[0; 80]);
        body
    }

    /// A version-0 `tkhd` body of `width` × `height`, turned a quarter when `turned`.
    fn tkhd(width: u32, height: u32, turned: bool) -> Vec<u8> {
        let mut body = vec![0; 4 + 20 + 16];
        let one = 0x0001_0000u32;
        let matrix: [u32; 9] = if turned {
            [0, one, 0, one.wrapping_neg(), 0, 0, 0, 0, 0x4000_0000]
        } else {
            [one, 0, 0, 0, one, 0, 0, 0, 0x4000_0000]
        };
        for value in matrix {
            body.extend_from_slice(&value.to_be_bytes());
        }
        body.extend_from_slice(&(width << 16).to_be_bytes());
        body.extend_from_slice(&(height << 16).to_be_bytes());
        body
    }

    fn trak(handler: &[u8; 4], width: u32, height: u32, turned: bool) -> Vec<u8> {
        trak_lasting(handler, width, height, turned, 450_000)
    }

    /// A track whose own length is `duration` in 90 kHz units.
    fn trak_lasting(
        handler: &[u8; 4],
        width: u32,
        height: u32,
        turned: bool,
        duration: u32,
    ) -> Vec<u8> {
        let mut hdlr = vec![0; 8];
        hdlr.extend_from_slice(handler);
        hdlr.extend_from_slice(&[0; 13]);
        let mdia = [
            mp4_box(b"mdhd", &times(90_000, duration)),
            mp4_box(b"hdlr", &hdlr),
        ]
        .concat();
        mp4_box(
            b"trak",
            &[
                mp4_box(b"tkhd", &tkhd(width, height, turned)),
                mp4_box(b"mdia", &mdia),
            ]
            .concat(),
        )
    }

    fn file(parts: &[Vec<u8>]) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("clip.mp4");
        std::fs::write(&path, parts.concat()).unwrap();
        (dir, path)
    }

    /// A `moov` whose `mvhd` says `movie_ms` milliseconds, around these tracks.
    fn moov(movie_ms: u32, traks: &[Vec<u8>]) -> Vec<u8> {
        let mvhd = mp4_box(b"mvhd", &times(1000, movie_ms));
        mp4_box(b"moov", &[&[mvhd][..], traks].concat().concat())
    }

    fn ftyp() -> Vec<u8> {
        mp4_box(b"ftyp", b"isom\0\0\x02\0isomiso2mp41")
    }

    #[test]
    fn a_clip_has_its_length_and_its_size_as_shown_wherever_moov_is() {
        let movie = moov(
            2_500,
            &[trak(b"soun", 0, 0, false), trak(b"vide", 1920, 1080, true)],
        );
        let mdat = mp4_box(b"mdat", &vec![7; 100_000]);
        for parts in [
            vec![ftyp(), movie.clone(), mdat.clone()],
            vec![ftyp(), mdat, movie],
        ] {
            let (_dir, path) = file(&parts);
            assert_eq!(
                clip(&path, "video/mp4").unwrap(),
                Some(Clip {
                    duration_ms: 2_500,
                    width: 1080,
                    height: 1920,
                }),
                "turned a quarter: shown upright"
            );
        }
    }

    #[test]
    fn without_a_movie_length_the_video_track_s_own_counts() {
        let moov = mp4_box(b"moov", &trak(b"vide", 640, 360, false));
        let (_dir, path) = file(&[ftyp(), moov]);
        let found = clip(&path, "video/quicktime").unwrap().unwrap();
        assert_eq!(
            (found.duration_ms, found.width, found.height),
            (5_000, 640, 360)
        );
    }

    #[test]
    fn files_made_by_ffmpeg_are_clips() {
        let dir = tempfile::tempdir().unwrap();
        for ((path, mime), size) in fixtures(dir.path())
            .into_iter()
            .zip([(320, 180), (180, 320)])
        {
            assert_eq!(crate::media::sniff(&path).unwrap(), mime, "{mime}");
            let found = clip(&path, mime).unwrap().unwrap();
            assert_eq!((found.width, found.height), size, "{mime}");
            assert_eq!(found.duration_ms, 1200, "{mime}");
        }
    }

    #[test]
    fn what_is_not_a_bounded_clip_is_a_file() {
        let sound_only = moov(9, &[trak(b"soun", 0, 0, false)]);
        let huge = moov(9, &[trak(b"vide", 99_999, 10, false)]);
        let mut lying = ftyp();
        lying.extend_from_slice(&u32::MAX.to_be_bytes());
        lying.extend_from_slice(b"moov");
        let mut short_header = ftyp();
        short_header.extend_from_slice(b"\0\0\0\x01moov");
        let fragmented = moov(0, &[trak_lasting(b"vide", 640, 360, false, 0)]);
        let mut truncated = ftyp();
        truncated.extend_from_slice(&mp4_box(b"moov", &trak(b"vide", 640, 360, false))[..60]);
        for (what, parts) in [
            ("sound only", vec![ftyp(), sound_only]),
            ("too big a picture", vec![ftyp(), huge]),
            ("a box past the end", vec![lying]),
            ("ends inside a long header", vec![short_header]),
            ("fragmented: no length", vec![ftyp(), fragmented]),
            ("cut short", vec![truncated]),
            ("no moov", vec![ftyp(), mp4_box(b"mdat", &[0; 64])]),
            ("nothing", vec![Vec::new()]),
        ] {
            let (_dir, path) = file(&parts);
            assert_eq!(clip(&path, "video/mp4").unwrap(), None, "{what}");
        }
        let moov = mp4_box(b"moov", &trak(b"vide", 640, 360, false));
        let (_dir, path) = file(&[ftyp(), moov]);
        assert_eq!(clip(&path, "video/webm").unwrap(), None, "another type");
        // Past what the page plays whole (sparse: nothing is written).
        std::fs::File::options()
            .append(true)
            .open(&path)
            .unwrap()
            .set_len(MAX_WHOLE_BYTES + 1)
            .unwrap();
        assert_eq!(
            clip(&path, "video/mp4").unwrap(),
            None,
            "too long to play whole"
        );
    }

    #[test]
    fn the_poster_is_the_first_picture_as_shown() {
        let dir = tempfile::tempdir().unwrap();
        let [(upright, mp4), (turned, mov)] = fixtures(dir.path());
        let poster = read(&upright, mp4).unwrap().unwrap().poster.unwrap();
        assert_eq!((poster.width(), poster.height()), (320, 180));
        // ffmpeg's own decode of the first frame, scaled to 16 × 9.
        let reference = include_bytes!("../../../tests/fixtures/clip-first-frame-16x9.rgb");
        let small = poster.resize_exact(16, 9, FilterType::Triangle).to_rgb8();
        let difference: u32 = small
            .as_raw()
            .iter()
            .zip(reference)
            .map(|(a, b)| u32::from(a.abs_diff(*b)))
            .sum();
        let mean = f64::from(difference) / reference.len() as f64;
        // Scaling filters differ (~20 here); a flat grey is ~107 away, the frame upside down ~183.
        assert!(
            mean < 40.0,
            "the poster is not the first frame: mean difference {mean}"
        );
        // The QuickTime file is shown a quarter turn anticlockwise, as ffmpeg shows it.
        let shown = read(&turned, mov).unwrap().unwrap().poster.unwrap();
        assert_eq!(shown.to_rgb8(), poster.rotate270().to_rgb8());
    }

    #[test]
    fn a_clip_whose_picture_cannot_be_decoded_goes_without_a_poster() {
        let dir = tempfile::tempdir().unwrap();
        let [(upright, mp4), _] = fixtures(dir.path());
        // Its samples blanked: same boxes, nothing to decode.
        let mut bytes = std::fs::read(&upright).unwrap();
        let mdat = bytes.windows(4).position(|w| w == b"mdat").unwrap();
        let moov = bytes.windows(4).position(|w| w == b"moov").unwrap();
        bytes[mdat + 4..moov - 4].fill(0);
        std::fs::write(&upright, &bytes).unwrap();
        let blanked = read(&upright, mp4).unwrap().unwrap();
        assert_eq!(blanked.clip.duration_ms, 1200);
        assert!(blanked.poster.is_none());
        // No sample tables at all (not H.264 as far as this file says).
        let moov = mp4_box(b"moov", &trak(b"vide", 640, 360, false));
        let (_dir, path) = file(&[ftyp(), moov]);
        let bare = read(&path, mp4).unwrap().unwrap();
        assert!(bare.poster.is_none());
    }
}
