//! Ogg Opus (RFC 7845) as a voice note is stored: written from Opus packets, and read back
//! into them with every page's checksum checked. Mono, 48 kHz, 20 ms packets.

use crate::calls::audio::{FRAME_SAMPLES, SAMPLE_RATE};

/// The one logical stream's serial number (a voice note has one stream).
const SERIAL: u32 = 0x466c_6e74;
/// Packets gathered into one page (one second of sound).
const PACKETS_PER_PAGE: usize = 50;
/// The page flags (RFC 3533): first page of the stream, last page, packet continued.
const FIRST: u8 = 0x02;
const LAST: u8 = 0x04;
const CONTINUED: u8 = 0x01;

/// Why an Ogg Opus file could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OggError {
    /// It ends inside a page.
    #[error("the file ends inside a page")]
    Truncated,
    /// A page does not start with the capture pattern.
    #[error("not an Ogg page")]
    NotOgg,
    /// A page's checksum does not match its bytes.
    #[error("a page's checksum does not match")]
    Checksum,
    /// The stream does not start with an Opus mono header.
    #[error("not a mono Opus stream")]
    NotOpus,
}

/// An Opus stream: its packets (20 ms each), how many samples the decoder's first output
/// has before the sound starts (the encoder's look-ahead), and the sound's length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stream {
    /// The audio packets, without the two headers.
    pub packets: Vec<Vec<u8>>,
    /// Samples to drop from the start of what is decoded.
    pub pre_skip: u16,
    /// Samples of sound after them (what the packets decode to beyond is padding).
    pub samples: u64,
}

/// Writes `stream` as an Ogg Opus file. Each page's granule position counts the samples
/// its packets decode to; the last one's says where the sound ends (RFC 7845 §4).
pub fn write(stream: &Stream) -> Vec<u8> {
    let Stream {
        packets,
        pre_skip,
        samples: length,
    } = stream;
    let pre_skip = *pre_skip;
    let mut out = Vec::new();
    let mut sequence = 0u32;
    let mut page = |out: &mut Vec<u8>, flags: u8, granule: u64, packets: &[&[u8]]| {
        write_page(out, flags, granule, sequence, packets);
        sequence += 1;
    };
    page(&mut out, FIRST, 0, &[&head(pre_skip)]);
    page(&mut out, 0, 0, &[&tags()]);
    let pages = pages(packets);
    let mut decoded = 0;
    for (index, chunk) in pages.iter().enumerate() {
        decoded += (chunk.len() * FRAME_SAMPLES) as u64;
        let last = index + 1 == pages.len();
        let (flags, granule) = match last {
            true => (LAST, (u64::from(pre_skip) + length).min(decoded)),
            false => (0, decoded),
        };
        let parts: Vec<&[u8]> = chunk.iter().map(Vec::as_slice).collect();
        page(&mut out, flags, granule, &parts);
    }
    out
}

/// `packets` cut into pages of at most [`PACKETS_PER_PAGE`] packets and 255 segments.
fn pages(packets: &[Vec<u8>]) -> Vec<&[Vec<u8>]> {
    let mut pages = Vec::new();
    let (mut start, mut segments) = (0, 0);
    for (index, packet) in packets.iter().enumerate() {
        let needs = packet.len() / 255 + 1;
        if index > start && (segments + needs > 255 || index - start == PACKETS_PER_PAGE) {
            pages.push(&packets[start..index]);
            (start, segments) = (index, 0);
        }
        segments += needs;
    }
    if start < packets.len() {
        pages.push(&packets[start..]);
    }
    pages
}

/// The Opus stream of an Ogg Opus file.
pub fn read(file: &[u8]) -> Result<Stream, OggError> {
    let mut packets = Vec::new();
    let mut granule = 0;
    let mut partial: Vec<u8> = Vec::new();
    let mut at = 0;
    while at < file.len() {
        let page = Page::parse(&file[at..])?;
        at += page.length;
        granule = page.granule;
        if page.flags & CONTINUED == 0 {
            partial.clear();
        }
        let mut offset = 0;
        for &lace in page.lacing {
            let end = offset + usize::from(lace);
            partial.extend_from_slice(&page.body[offset..end]);
            offset = end;
            if lace < 255 {
                packets.push(std::mem::take(&mut partial));
            }
        }
    }
    let mut packets = packets.into_iter();
    let pre_skip = packets
        .next()
        .as_deref()
        .and_then(pre_skip)
        .ok_or(OggError::NotOpus)?;
    // The second packet is the comment header.
    packets.next().ok_or(OggError::NotOpus)?;
    Ok(Stream {
        packets: packets.collect(),
        pre_skip,
        samples: granule.saturating_sub(u64::from(pre_skip)),
    })
}

/// The identification header: version 1, one channel, 48 kHz, no gain, mapping family 0.
fn head(pre_skip: u16) -> Vec<u8> {
    let mut head = b"OpusHead".to_vec();
    head.push(1);
    head.push(1);
    head.extend_from_slice(&pre_skip.to_le_bytes());
    head.extend_from_slice(&SAMPLE_RATE.to_le_bytes());
    head.extend_from_slice(&0i16.to_le_bytes());
    head.push(0);
    head
}

/// The pre-skip of an identification header, if it is a mono one.
fn pre_skip(head: &[u8]) -> Option<u16> {
    let fixed = head.strip_prefix(b"OpusHead")?;
    (fixed.len() >= 11 && fixed[1] == 1).then(|| u16::from_le_bytes([fixed[2], fixed[3]]))
}

/// The comment header: who wrote the file, no comments.
fn tags() -> Vec<u8> {
    let vendor = b"Flint";
    let mut tags = b"OpusTags".to_vec();
    tags.extend_from_slice(&(vendor.len() as u32).to_le_bytes());
    tags.extend_from_slice(vendor);
    tags.extend_from_slice(&0u32.to_le_bytes());
    tags
}

/// Appends one page holding whole `packets` (fewer than 255 segments' worth).
fn write_page(out: &mut Vec<u8>, flags: u8, granule: u64, sequence: u32, packets: &[&[u8]]) {
    let start = out.len();
    out.extend_from_slice(b"OggS");
    out.push(0);
    out.push(flags);
    out.extend_from_slice(&granule.to_le_bytes());
    out.extend_from_slice(&SERIAL.to_le_bytes());
    out.extend_from_slice(&sequence.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    let lacing: Vec<u8> = packets.iter().flat_map(|p| lacing(p.len())).collect();
    out.push(lacing.len() as u8);
    out.extend_from_slice(&lacing);
    for packet in packets {
        out.extend_from_slice(packet);
    }
    let crc = crc(&out[start..]);
    out[start + 22..start + 26].copy_from_slice(&crc.to_le_bytes());
}

/// The lacing values of a packet of `len` bytes: 255s, then what is left (0 when none).
fn lacing(len: usize) -> impl Iterator<Item = u8> {
    std::iter::repeat_n(255u8, len / 255).chain(std::iter::once((len % 255) as u8))
}

/// One page of a file, borrowed.
struct Page<'a> {
    flags: u8,
    granule: u64,
    lacing: &'a [u8],
    body: &'a [u8],
    length: usize,
}

impl<'a> Page<'a> {
    /// The page at the start of `bytes`, checked.
    fn parse(bytes: &'a [u8]) -> Result<Self, OggError> {
        let header = bytes.get(..27).ok_or(OggError::Truncated)?;
        if &header[..4] != b"OggS" || header[4] != 0 {
            return Err(OggError::NotOgg);
        }
        let segments = usize::from(header[26]);
        let lacing = bytes.get(27..27 + segments).ok_or(OggError::Truncated)?;
        let body_len: usize = lacing.iter().map(|&l| usize::from(l)).sum();
        let length = 27 + segments + body_len;
        let page = bytes.get(..length).ok_or(OggError::Truncated)?;
        let stated = u32::from_le_bytes([header[22], header[23], header[24], header[25]]);
        let mut zeroed = page.to_vec();
        zeroed[22..26].fill(0);
        if crc(&zeroed) != stated {
            return Err(OggError::Checksum);
        }
        let granule = u64::from_le_bytes(header[6..14].try_into().unwrap_or_default());
        Ok(Self {
            flags: header[5],
            granule,
            lacing,
            body: &page[27 + segments..],
            length,
        })
    }
}

/// Ogg's CRC-32: polynomial 0x04c11db7, not reflected, starting at zero.
fn crc(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0u32, |crc, &byte| {
        (0..8).fold(crc ^ (u32::from(byte) << 24), |crc, _| {
            if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ 0x04c1_1db7
            } else {
                crc << 1
            }
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream(count: usize, size: impl Fn(usize) -> usize) -> Stream {
        Stream {
            packets: (0..count).map(|i| vec![i as u8; size(i)]).collect(),
            pre_skip: 312,
            samples: (count as u64 - 1) * FRAME_SAMPLES as u64,
        }
    }

    #[test]
    fn a_stream_comes_back_as_written() {
        let written = stream(123, |i| 1 + i * 7 % 600);
        assert_eq!(read(&write(&written)), Ok(written));
    }

    #[test]
    fn the_last_page_says_where_the_sound_ends_and_ends_the_stream() {
        let file = write(&stream(60, |_| 80));
        let last = file.windows(4).rposition(|w| w == b"OggS").unwrap_or(0);
        assert_eq!(file[last + 5], LAST);
        let granule = u64::from_le_bytes(file[last + 6..last + 14].try_into().unwrap());
        assert_eq!(granule, 312 + 59 * FRAME_SAMPLES as u64);
    }

    #[test]
    fn the_checksum_is_oggs_own() {
        // CRC-32/CKSUM's check value (0x765e7680) without its final inversion.
        assert_eq!(crc(b"123456789"), 0x89a1_897f);
    }

    #[test]
    fn large_packets_spread_over_pages_of_at_most_255_segments() {
        let written = stream(50, |_| 1275);
        assert_eq!(read(&write(&written)), Ok(written));
    }

    #[test]
    fn a_damaged_or_cut_file_is_refused() {
        let mut file = write(&stream(10, |_| 80));
        assert_eq!(read(&file[..file.len() - 1]), Err(OggError::Truncated));
        let last = file.len() - 1;
        file[last] ^= 1;
        assert_eq!(read(&file), Err(OggError::Checksum));
        let not_ogg = b"RIFF not ogg at all, long enough to hold a page";
        assert_eq!(read(not_ogg), Err(OggError::NotOgg));
        assert_eq!(read(&[]), Err(OggError::NotOpus));
    }
}
