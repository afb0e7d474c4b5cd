//! The box structure of MP4 and QuickTime files: each box a 32-bit size (or a 64-bit one) and
//! a four-letter type around its body. Readers here never trust a size: a box past its parent's
//! end, or a file's end, ends the walk.

use std::io::{Read, Seek, SeekFrom};

/// Largest `moov` box read (its sample tables grow with the length of the video).
const MAX_MOOV_BYTES: u64 = 32 << 20;
/// Most top-level boxes looked at before giving up.
const MAX_TOP_BOXES: usize = 1024;

/// The body of the file's `moov` box, if it has one within the bounds. The other top-level
/// boxes are stepped over by seeking (a camera puts `moov` after gigabytes of `mdat`).
pub fn read_moov(file: &mut (impl Read + Seek)) -> std::io::Result<Option<Vec<u8>>> {
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

/// The body of the first child box of `kind`.
pub fn child<'a>(body: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    children(body).find(|(k, _)| k == kind).map(|(_, b)| b)
}

/// The body of the box at the end of `path`, each step a child of the one before.
pub fn descend<'a>(body: &'a [u8], path: &[&[u8; 4]]) -> Option<&'a [u8]> {
    path.iter().try_fold(body, |body, kind| child(body, kind))
}

/// The child boxes of a body, as (type, body), until the first malformed one.
pub fn children(body: &[u8]) -> impl Iterator<Item = ([u8; 4], &[u8])> {
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

/// The big-endian `u16` at `at`.
pub fn u16_at(bytes: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes(
        bytes.get(at..at.checked_add(2)?)?.try_into().ok()?,
    ))
}

/// The big-endian `u32` at `at`.
pub fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(
        bytes.get(at..at.checked_add(4)?)?.try_into().ok()?,
    ))
}

/// The big-endian `u64` at `at`.
pub fn u64_at(bytes: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(
        bytes.get(at..at.checked_add(8)?)?.try_into().ok()?,
    ))
}
