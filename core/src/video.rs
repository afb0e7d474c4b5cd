//! What a video file is: its length and its size as shown, read from an MP4 or QuickTime
//! file's `moov` box. The file's top-level boxes are stepped over by seeking (a camera puts
//! `moov` after gigabytes of `mdat`); `moov` alone is read, up to a bound, and parsed from
//! memory. Anything malformed, unbounded or without a video track is "not a clip": it is sent
//! as a file.

use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

use crate::error::Result;
use crate::media::MAX_WHOLE_BYTES;

/// Largest `moov` box read (its sample tables grow with the length of the video).
const MAX_MOOV_BYTES: u64 = 32 << 20;
/// Most top-level boxes looked at before giving up.
const MAX_TOP_BOXES: usize = 1024;
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

/// Describes a video file of type `mime` small enough to be played whole, or `None` when it is
/// to be sent as a file (another type, too big, or not readable as a clip).
pub fn clip(path: &Path, mime: &str) -> Result<Option<Clip>> {
    if !matches!(mime, "video/mp4" | "video/quicktime") {
        return Ok(None);
    }
    let mut file = std::fs::File::open(path)?;
    if file.metadata()?.len() > MAX_WHOLE_BYTES {
        return Ok(None);
    }
    // A file that ends inside a box header is malformed, not an error: it goes as a file.
    Ok(read_moov(&mut file)
        .ok()
        .flatten()
        .as_deref()
        .and_then(parse_moov))
}

/// The body of the file's `moov` box, if it has one within the bounds.
fn read_moov(file: &mut (impl Read + Seek)) -> std::io::Result<Option<Vec<u8>>> {
    let end = file.seek(SeekFrom::End(0))?;
    let mut at = 0u64;
    for _ in 0..MAX_TOP_BOXES {
        if end.saturating_sub(at) < 8 {
            return Ok(None);
        }
        file.seek(SeekFrom::Start(at))?;
        let mut head = [0u8; 16];
        file.read_exact(&mut head[..8])?;
        let size = u32_at(&head, 0).unwrap_or(0);
        let is_moov = &head[4..8] == b"moov";
        let (size, header) = match size {
            0 => (end - at, 8),
            1 if end - at >= 16 => {
                file.read_exact(&mut head[8..16])?;
                (u64_at(&head, 8).unwrap_or(0), 16)
            }
            size => (u64::from(size), 8),
        };
        if size < header || size > end - at {
            return Ok(None);
        }
        if is_moov {
            let body = size - header;
            if body > MAX_MOOV_BYTES {
                return Ok(None);
            }
            let mut moov = vec![0; body as usize];
            file.read_exact(&mut moov)?;
            return Ok(Some(moov));
        }
        at += size;
    }
    Ok(None)
}

/// The clip a `moov` body describes: the movie's length and its video track's size.
fn parse_moov(moov: &[u8]) -> Option<Clip> {
    let movie_ms = child(moov, b"mvhd").and_then(movie_duration_ms);
    let (width, height, track_ms) = children(moov)
        .filter(|(kind, _)| kind == b"trak")
        .find_map(|(_, trak)| video_track(trak))?;
    // A fragmented file states no length here: it goes as a file.
    let duration_ms = movie_ms
        .filter(|&ms| ms > 0)
        .or(track_ms)
        .filter(|&ms| ms > 0)?;
    let sides = 1..=MAX_SIDE;
    (sides.contains(&width) && sides.contains(&height)).then_some(Clip {
        duration_ms,
        width,
        height,
    })
}

/// A video track's size as shown and its own length, or `None` for another kind of track.
fn video_track(trak: &[u8]) -> Option<(u32, u32, Option<u32>)> {
    let mdia = child(trak, b"mdia")?;
    let handler = child(mdia, b"hdlr")?;
    if handler.get(8..12)? != b"vide" {
        return None;
    }
    let (width, height) = shown_size(child(trak, b"tkhd")?)?;
    let track_ms = child(mdia, b"mdhd").and_then(movie_duration_ms);
    Some((width, height, track_ms))
}

/// Width and height from a `tkhd` body, swapped when its matrix turns the picture a quarter.
fn shown_size(tkhd: &[u8]) -> Option<(u32, u32)> {
    // After version and flags: times, track id, reserved and duration (v1 has 64-bit times).
    let fields = if *tkhd.first()? == 1 { 4 + 32 } else { 4 + 20 };
    // Then 8 reserved, layer, group, volume, reserved (8 in all), the 3 × 3 matrix (36).
    let matrix = fields + 16;
    let size = matrix + 36;
    let corner = |i: usize| u32_at(tkhd, matrix + 4 * i);
    let (a, b, c, d) = (corner(0)?, corner(1)?, corner(3)?, corner(4)?);
    let width = u32_at(tkhd, size)? >> 16;
    let height = u32_at(tkhd, size + 4)? >> 16;
    let quarter_turn = a == 0 && d == 0 && b != 0 && c != 0;
    Some(if quarter_turn {
        (height, width)
    } else {
        (width, height)
    })
}

/// Milliseconds from an `mvhd` or `mdhd` body (the two share the layout of time fields).
fn movie_duration_ms(body: &[u8]) -> Option<u32> {
    // All ones means "unknown".
    let (timescale, duration) = if *body.first()? == 1 {
        (
            u32_at(body, 20)?,
            u64_at(body, 24).filter(|&d| d != u64::MAX)?,
        )
    } else {
        let duration = u32_at(body, 16).filter(|&d| d != u32::MAX)?;
        (u32_at(body, 12)?, u64::from(duration))
    };
    if timescale == 0 {
        return None;
    }
    let ms = u128::from(duration) * 1000 / u128::from(timescale);
    Some(u32::try_from(ms).unwrap_or(u32::MAX))
}

/// The body of the first child box of `kind`.
fn child<'a>(body: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    children(body).find(|(k, _)| k == kind).map(|(_, b)| b)
}

/// The child boxes of a body, as (type, body), until the first malformed one.
fn children(body: &[u8]) -> impl Iterator<Item = ([u8; 4], &[u8])> {
    let mut rest = body;
    std::iter::from_fn(move || {
        let size = u32_at(rest, 0)?;
        let kind: [u8; 4] = rest.get(4..8)?.try_into().ok()?;
        let (size, header) = match size {
            0 => (rest.len(), 8),
            1 => (usize::try_from(u64_at(rest, 8)?).ok()?, 16),
            size => (usize::try_from(size).ok()?, 8),
        };
        let found = rest.get(header..size)?;
        rest = rest.get(size..)?;
        Some((kind, found))
    })
}

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.get(at..at + 8)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

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
        // See tests/fixtures/README.md for how they were made.
        let dir = tempfile::tempdir().unwrap();
        for (name, bytes, mime, size) in [
            (
                "clip.mp4",
                &include_bytes!("../../tests/fixtures/clip.mp4")[..],
                "video/mp4",
                (320, 180),
            ),
            (
                "turned.mov",
                &include_bytes!("../../tests/fixtures/turned.mov")[..],
                "video/quicktime",
                (180, 320),
            ),
        ] {
            let path = dir.path().join(name);
            std::fs::write(&path, bytes).unwrap();
            assert_eq!(crate::media::sniff(&path).unwrap(), mime, "{name}");
            let found = clip(&path, mime).unwrap().unwrap();
            assert_eq!((found.width, found.height), size, "{name}");
            assert_eq!(found.duration_ms, 1200, "{name}");
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
}
