//! A clip's poster: its first picture, decoded from the file's first H.264 samples with
//! OpenH264 (built from source) and turned as the track says. Only the sender decodes — its
//! own file, chosen by its user; recipients get the poster as a JPEG. Reads are bounded in
//! samples and bytes, and a picture larger than the limit is not decoded at all.

use std::io::{Read, Seek, SeekFrom};

use image::imageops::FilterType;
use image::{DynamicImage, RgbImage};
use openh264::decoder::{DecodedYUV, Decoder};
use openh264::formats::YUVSource;

use super::track::{Avc, Track, Turn};
use crate::media::THUMBNAIL_SIDE;

/// Largest sample read.
const MAX_SAMPLE_BYTES: u32 = 8 << 20;
/// Most bytes of samples fed to the decoder before giving up on a picture.
const MAX_FED_BYTES: u64 = 32 << 20;
/// Largest picture decoded, in pixels (a little over 8K UHD).
const MAX_PIXELS: usize = 8192 * 4352;
/// The start code put before each NAL unit for the decoder.
const START: [u8; 4] = [0, 0, 0, 1];

/// The first picture of an H.264 track, turned and shaped as shown; `None` when the track is
/// not H.264 or no picture comes out of its first samples.
pub fn first_picture(file: &mut (impl Read + Seek), track: &Track) -> Option<DynamicImage> {
    decoded(file, track).map(|picture| shaped(turned(picture, track.turn), track))
}

/// The first picture decoded from the track's samples, as coded.
fn decoded(file: &mut (impl Read + Seek), track: &Track) -> Option<DynamicImage> {
    let avc = track.avc.as_ref()?;
    if track.width as usize * track.height as usize > MAX_PIXELS {
        return None;
    }
    let mut decoder = Decoder::new().ok()?;
    // The parameter sets go before every sample: one skipped does not take them along.
    let sets: Vec<u8> = avc
        .parameter_sets
        .iter()
        .flat_map(|set| START.iter().chain(set))
        .copied()
        .collect();
    let mut stream = Vec::new();
    let mut fed = 0u64;
    for sample in &track.samples {
        fed += u64::from(sample.size);
        if sample.size > MAX_SAMPLE_BYTES || fed > MAX_FED_BYTES {
            break;
        }
        file.seek(SeekFrom::Start(sample.offset)).ok()?;
        let mut bytes = vec![0; sample.size as usize];
        file.read_exact(&mut bytes).ok()?;
        stream.clone_from(&sets);
        // A bad sample is skipped: the next one may still make a picture.
        if annex_b(&bytes, avc, &mut stream).is_some() {
            if let Ok(Some(yuv)) = decoder.decode(&stream) {
                return picture(&yuv);
            }
        }
    }
    let held = decoder.flush_remaining().ok()?;
    held.first().and_then(|yuv| picture(yuv))
}

/// Appends a sample's NAL units (each after its length) to `stream`, each after a start code.
fn annex_b(sample: &[u8], avc: &Avc, stream: &mut Vec<u8>) -> Option<()> {
    let mut rest = sample;
    while !rest.is_empty() {
        let (length, body) = rest.split_at_checked(avc.length_size)?;
        let length = length
            .iter()
            .fold(0usize, |n, &byte| (n << 8) | usize::from(byte));
        let (unit, after) = body.split_at_checked(length)?;
        stream.extend_from_slice(&START);
        stream.extend_from_slice(unit);
        rest = after;
    }
    Some(())
}

/// A decoded picture as RGB, within the size limit.
fn picture(yuv: &DecodedYUV<'_>) -> Option<DynamicImage> {
    let (width, height) = yuv.dimensions();
    if width == 0 || height == 0 || width * height > MAX_PIXELS {
        return None;
    }
    let mut rgb = vec![0; width * height * 3];
    yuv.write_rgb8(&mut rgb);
    RgbImage::from_raw(u32::try_from(width).ok()?, u32::try_from(height).ok()?, rgb)
        .map(DynamicImage::ImageRgb8)
}

/// The picture turned as the track is shown.
fn turned(picture: DynamicImage, turn: Turn) -> DynamicImage {
    match turn {
        Turn::Upright => picture,
        Turn::Quarter => picture.rotate90(),
        Turn::Half => picture.rotate180(),
        Turn::ThreeQuarters => picture.rotate270(),
    }
}

/// The picture at the track's shape as shown, when its pixels are not square (an anamorphic
/// clip is coded narrower than it is shown), at most a thumbnail's size.
fn shaped(picture: DynamicImage, track: &Track) -> DynamicImage {
    let (width, height) = (u64::from(track.width), u64::from(track.height));
    let coded = u64::from(picture.width()) * height;
    let shown = u64::from(picture.height()) * width;
    if width == 0 || height == 0 || coded.abs_diff(shown) * 100 <= shown {
        return picture; // within 1 %: as coded
    }
    let side = u64::from(THUMBNAIL_SIDE);
    let (w, h) = if width >= height {
        (side, (side * height / width).max(1))
    } else {
        ((side * width / height).max(1), side)
    };
    picture.resize_exact(w as u32, h as u32, FilterType::Triangle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nal_units_get_start_codes_and_a_lying_length_stops_it() {
        let avc = Avc {
            length_size: 2,
            parameter_sets: Vec::new(),
        };
        let mut stream = Vec::new();
        annex_b(&[0, 2, 0x65, 1, 0, 1, 0x41], &avc, &mut stream).unwrap();
        assert_eq!(stream, [0, 0, 0, 1, 0x65, 1, 0, 0, 0, 1, 0x41]);
        assert_eq!(annex_b(&[0, 9, 0x65], &avc, &mut Vec::new()), None);
        assert_eq!(annex_b(&[0], &avc, &mut Vec::new()), None);
    }
}
