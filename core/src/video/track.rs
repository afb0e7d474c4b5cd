//! A movie's video track as `moov` describes it: its size and turn as shown, its length, how
//! its pictures are coded (H.264's parameter sets) and where its first samples lie in the file.

use super::boxes::{child, children, descend, u16_at, u32_at, u64_at};

/// Samples located from the start of a track: enough to reach a picture when the first ones
/// are not complete pictures on their own.
const FIRST_SAMPLES: usize = 60;
/// Most chunks stepped through to find them.
const MAX_CHUNKS_WALKED: u32 = 4096;

/// How a track's pictures are turned to be shown, clockwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Turn {
    /// As coded.
    Upright,
    /// A quarter turn.
    Quarter,
    /// Upside down.
    Half,
    /// Three quarters (a quarter anticlockwise).
    ThreeQuarters,
}

/// H.264 coding of a track (`avc1`/`avc3` with its `avcC`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Avc {
    /// Bytes of the length before each NAL unit in a sample (1, 2 or 4).
    pub length_size: usize,
    /// The sequence and picture parameter sets, in that order.
    pub parameter_sets: Vec<Vec<u8>>,
}

/// Where a sample lies in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    /// Offset from the start of the file.
    pub offset: u64,
    /// Size in bytes.
    pub size: u32,
}

/// A video track.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Track {
    /// Pixels across, as shown (after the turn).
    pub width: u32,
    /// Pixels down, as shown.
    pub height: u32,
    /// The track's own length in milliseconds, when it states one.
    pub duration_ms: Option<u32>,
    /// How its pictures are turned.
    pub turn: Turn,
    /// Its H.264 coding, when it is H.264.
    pub avc: Option<Avc>,
    /// Where its first samples are, in order.
    pub samples: Vec<Sample>,
}

/// The track a `trak` body describes, or `None` for a track that is not video.
pub fn video(trak: &[u8]) -> Option<Track> {
    let mdia = child(trak, b"mdia")?;
    if child(mdia, b"hdlr")?.get(8..12)? != b"vide" {
        return None;
    }
    let (width, height, turn) = shown(child(trak, b"tkhd")?)?;
    let stbl = descend(mdia, &[b"minf", b"stbl"]);
    Some(Track {
        width,
        height,
        duration_ms: child(mdia, b"mdhd").and_then(duration_ms),
        turn,
        avc: stbl.and_then(avc),
        samples: stbl.and_then(first_samples).unwrap_or_default(),
    })
}

/// Width, height and turn from a `tkhd` body; the sides swap for a quarter turn either way.
fn shown(tkhd: &[u8]) -> Option<(u32, u32, Turn)> {
    // After version and flags: times, track id, reserved and duration (v1 has 64-bit times).
    let fields = if *tkhd.first()? == 1 { 4 + 32 } else { 4 + 20 };
    // Then 8 reserved, layer, group, volume, reserved (8 in all), the 3 × 3 matrix (36).
    let matrix = fields + 16;
    let size = matrix + 36;
    // Signed 16.16 fixed point: a b (u) / c d (v) / x y (w).
    let corner = |i: usize| u32_at(tkhd, matrix + 4 * i).map(|v| v as i32);
    let (a, b, c, d) = (corner(0)?, corner(1)?, corner(3)?, corner(4)?);
    let width = u32_at(tkhd, size)? >> 16;
    let height = u32_at(tkhd, size + 4)? >> 16;
    let turn = match (a.signum(), b.signum(), c.signum(), d.signum()) {
        (0, 1, -1, 0) => Turn::Quarter,
        (0, -1, 1, 0) => Turn::ThreeQuarters,
        (-1, 0, 0, -1) => Turn::Half,
        _ => Turn::Upright,
    };
    Some(match turn {
        Turn::Quarter | Turn::ThreeQuarters => (height, width, turn),
        Turn::Upright | Turn::Half => (width, height, turn),
    })
}

/// Milliseconds from an `mvhd` or `mdhd` body (the two share the layout of time fields).
pub fn duration_ms(body: &[u8]) -> Option<u32> {
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

/// The H.264 coding of the track's first sample entry, if it is H.264.
fn avc(stbl: &[u8]) -> Option<Avc> {
    // `stsd`: version and flags, entry count, then sample entries.
    let (kind, entry) = children(child(stbl, b"stsd")?.get(8..)?).next()?;
    if !matches!(&kind, b"avc1" | b"avc3") {
        return None;
    }
    // A visual sample entry has 78 bytes of fields before its child boxes.
    let config = child(entry.get(78..)?, b"avcC")?;
    let length_size = usize::from(config.get(4)? & 0b11) + 1;
    if length_size == 3 {
        return None;
    }
    let mut at = 5;
    let mut parameter_sets = Vec::new();
    // Sequence parameter sets (count in the low 5 bits), then picture ones (a whole byte).
    for mask in [0x1f, 0xff] {
        let count = config.get(at)? & mask;
        at += 1;
        for _ in 0..count {
            let length = usize::from(u16_at(config, at)?);
            parameter_sets.push(config.get(at + 2..at + 2 + length)?.to_vec());
            at += 2 + length;
        }
    }
    Some(Avc {
        length_size,
        parameter_sets,
    })
}

/// The places of the track's first samples, from its sample sizes (`stsz`), sample-to-chunk
/// table (`stsc`) and chunk offsets (`stco`, or `co64` past 4 GiB).
fn first_samples(stbl: &[u8]) -> Option<Vec<Sample>> {
    let stsz = child(stbl, b"stsz")?;
    let fixed_size = u32_at(stsz, 4)?;
    let count = usize::try_from(u32_at(stsz, 8)?).ok()?.min(FIRST_SAMPLES);
    let size_of = |index: usize| match fixed_size {
        0 => u32_at(stsz, 12 + 4 * index),
        size => Some(size),
    };
    let stsc = child(stbl, b"stsc")?;
    let runs = usize::try_from(u32_at(stsc, 4)?).ok()?;
    // Each run: first chunk (from 1), samples per chunk, sample description.
    let run = |index: usize| {
        Some((
            u32_at(stsc, 8 + 12 * index)?,
            u32_at(stsc, 12 + 12 * index)?,
        ))
    };
    let (offsets, wide) = match child(stbl, b"stco") {
        Some(stco) => (stco, false),
        None => (child(stbl, b"co64")?, true),
    };
    // Chunks of no samples are skipped; a table of nothing but those is not walked to its end.
    let chunks = u32_at(offsets, 4)?.min(MAX_CHUNKS_WALKED);
    let chunk_offset = |chunk: u32| {
        let index = usize::try_from(chunk - 1).ok()?;
        if wide {
            u64_at(offsets, 8 + 8 * index)
        } else {
            u32_at(offsets, 8 + 4 * index).map(u64::from)
        }
    };
    let mut samples = Vec::with_capacity(count);
    let mut run_index = 0;
    let mut chunk = 1u32;
    while samples.len() < count && chunk <= chunks {
        while run_index + 1 < runs && run(run_index + 1)?.0 <= chunk {
            run_index += 1;
        }
        let per_chunk = run(run_index)?.1;
        let mut offset = chunk_offset(chunk)?;
        for _ in 0..per_chunk {
            if samples.len() == count {
                break;
            }
            let size = size_of(samples.len())?;
            samples.push(Sample { offset, size });
            offset = offset.checked_add(u64::from(size))?;
        }
        chunk += 1;
    }
    Some(samples)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full_box(kind: &[u8; 4], words: &[u32]) -> Vec<u8> {
        let mut body = vec![0; 4]; // version and flags
        for word in words {
            body.extend_from_slice(&word.to_be_bytes());
        }
        let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(&body);
        out
    }

    #[test]
    fn samples_are_found_through_runs_of_chunks_and_wide_offsets() {
        // Sizes 10, 20, 30, 40, 50: chunks 1 and 2 hold two samples each, chunk 3 one.
        let stsz = full_box(b"stsz", &[0, 5, 10, 20, 30, 40, 50]);
        let stsc = full_box(b"stsc", &[2, 1, 2, 1, 3, 1, 1]);
        let far = 5u64 << 32;
        let mut co64 = full_box(b"co64", &[3]);
        for offset in [far, far + 1000, far + 2000] {
            co64.extend_from_slice(&offset.to_be_bytes());
        }
        let length = (co64.len() as u32).to_be_bytes();
        co64[..4].copy_from_slice(&length);
        let stbl = [stsz, stsc, co64].concat();
        let found: Vec<(u64, u32)> = first_samples(&stbl)
            .unwrap()
            .into_iter()
            .map(|s| (s.offset - far, s.size))
            .collect();
        assert_eq!(
            found,
            [(0, 10), (10, 20), (1000, 30), (1030, 40), (2000, 50)]
        );
    }

    #[test]
    fn tables_that_lie_find_no_samples_rather_than_panic() {
        let stsz = full_box(b"stsz", &[0, u32::MAX, 10]);
        let stsc = full_box(b"stsc", &[1, 1, u32::MAX, 1]);
        let stco = full_box(b"stco", &[u32::MAX, 0]);
        assert_eq!(first_samples(&[stsz, stsc, stco].concat()), None);
        let empty_chunks = full_box(b"stsc", &[1, 1, 0, 1]);
        let stco = full_box(b"stco", &[2, 0, 0]);
        let stsz = full_box(b"stsz", &[7, 3]);
        assert_eq!(
            first_samples(&[stsz, empty_chunks, stco].concat()),
            Some(Vec::new())
        );
    }
}
