//! Pictures made in Rust: what an image file is (type sniffed from its bytes, size after its
//! EXIF orientation), the tiny preview a message carries, and thumbnails at display size. No
//! I/O beyond reading the one file; callers run these off the async threads.

use std::io::{BufReader, Cursor, Read};
use std::path::Path;

use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, ImageDecoder, ImageReader, Limits};

use crate::error::{Error, Result};

/// Largest file the page takes whole (a picture in the viewer, a clip played from a `blob:`);
/// a larger video is sent as a file.
pub const MAX_WHOLE_BYTES: u64 = 256 << 20;
/// Longest side of a thumbnail: a bubble is at most 240 CSS pixels wide, twice that on HiDPI.
pub const THUMBNAIL_SIDE: u32 = 480;
/// Longest side of a small thumbnail, for screens of one device pixel per CSS pixel: a
/// quarter of the pixels, which is what the page keeps decoded for every bubble in its window.
pub const SMALL_THUMBNAIL_SIDE: u32 = THUMBNAIL_SIDE / 2;
/// Longest side of the preview a message carries (drawn blurred, scaled up).
const PREVIEW_SIDE: u32 = 32;
/// Bytes read to recognise a file's type.
const SNIFF_BYTES: u64 = 8 * 1024;
/// Largest image decoded (pixels across or down) and memory a decode may take.
const MAX_SIDE: u32 = 20_000;
const MAX_DECODE_BYTES: u64 = 512 << 20;

/// An image as a message describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Picture {
    /// MIME type from the content.
    pub mime: String,
    /// Pixels across, as shown (after EXIF orientation).
    pub width: u32,
    /// Pixels down, as shown.
    pub height: u32,
    /// A tiny JPEG (well under `flint_proto::files::MAX_PREVIEW_BYTES`).
    pub preview: Vec<u8>,
    /// A JPEG at most [`THUMBNAIL_SIDE`] on its longest side.
    pub thumbnail: Vec<u8>,
}

/// The MIME type of a file from its first bytes (`application/octet-stream` when unknown).
pub fn sniff(path: &Path) -> Result<String> {
    let mut head = Vec::new();
    std::fs::File::open(path)?
        .take(SNIFF_BYTES)
        .read_to_end(&mut head)?;
    Ok(sniff_bytes(&head).to_owned())
}

/// The MIME type of bytes in memory (`application/octet-stream` when unknown).
pub fn sniff_bytes(bytes: &[u8]) -> &'static str {
    infer::get(bytes).map_or("application/octet-stream", |kind| kind.mime_type())
}

/// Whether files of this type are sent and shown as pictures.
pub fn is_picture_type(mime: &str) -> bool {
    matches!(
        mime,
        "image/jpeg" | "image/png" | "image/gif" | "image/webp"
    )
}

/// Describes an image file, or `None` for a file this client does not show as a picture
/// (not an image, a type it cannot decode, or one past the decode limits).
pub fn picture(path: &Path) -> Result<Option<Picture>> {
    let mime = sniff(path)?;
    if !is_picture_type(&mime) {
        return Ok(None);
    }
    let Ok((image, (width, height))) = decode_for_display(path, &mime) else {
        return Ok(None);
    };
    let Stills { preview, thumbnail } = stills(&image)?;
    Ok(Some(Picture {
        mime,
        width,
        height,
        preview,
        thumbnail,
    }))
}

/// What a bubble draws before its file is opened: a picture's, or a video's poster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stills {
    /// A tiny JPEG the message carries, drawn blurred at once.
    pub preview: Vec<u8>,
    /// A JPEG at most [`THUMBNAIL_SIDE`] on its longest side.
    pub thumbnail: Vec<u8>,
}

/// The preview and thumbnail of a picture as shown.
pub fn stills(image: &DynamicImage) -> Result<Stills> {
    Ok(Stills {
        preview: jpeg(&image.thumbnail(PREVIEW_SIDE, PREVIEW_SIDE), 50)?,
        thumbnail: thumbnail_of(image)?,
    })
}

/// The thumbnail (JPEG) of a picture as shown.
pub fn thumbnail_of(image: &DynamicImage) -> Result<Vec<u8>> {
    jpeg(&image.thumbnail(THUMBNAIL_SIDE, THUMBNAIL_SIDE), 80)
}

/// A picture's pixels, turned as shown: what goes on the clipboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pixels {
    /// Pixels across.
    pub width: u32,
    /// Pixels down.
    pub height: u32,
    /// Red, green, blue and alpha bytes, row by row.
    pub rgba: Vec<u8>,
}

/// The pixels of an image file (its first frame), turned as its EXIF orientation says, within
/// the decode limits.
pub fn pixels(path: &Path) -> Result<Pixels> {
    let image = decode(path)?.into_rgba8();
    Ok(Pixels {
        width: image.width(),
        height: image.height(),
        rgba: image.into_raw(),
    })
}

/// A thumbnail (JPEG) of an image file.
pub fn thumbnail(path: &Path) -> Result<Vec<u8>> {
    let (image, _) = decode_for_display(path, &sniff(path)?)?;
    thumbnail_of(&image)
}

/// A small thumbnail (JPEG, at most [`SMALL_THUMBNAIL_SIDE`] on its longest side) made from a
/// thumbnail's file.
pub fn small_thumbnail(thumbnail: &Path) -> Result<Vec<u8>> {
    let image = decode(thumbnail)?;
    jpeg(
        &image.thumbnail(SMALL_THUMBNAIL_SIDE, SMALL_THUMBNAIL_SIDE),
        80,
    )
}

/// The picture turned as its EXIF orientation says, at least [`THUMBNAIL_SIDE`] on its longest
/// side when that saves work, with its full size as shown.
fn decode_for_display(path: &Path, mime: &str) -> Result<(DynamicImage, (u32, u32))> {
    if mime == "image/jpeg" {
        if let Ok(found) = scaled_jpeg(path, THUMBNAIL_SIDE) {
            return Ok(found);
        }
    }
    let image = decode(path)?;
    let size = (image.width(), image.height());
    Ok((image, size))
}

/// Decodes a JPEG at the smallest DCT scale (1/8, 1/4, 1/2 or whole) that is still at least
/// `side` on its longest side: a 3000 × 2000 photo becomes 750 × 500 pixels (1 MiB) instead of
/// 18 MiB, several times faster. Returns it turned, with the full size as shown.
fn scaled_jpeg(path: &Path, side: u32) -> Result<(DynamicImage, (u32, u32))> {
    let failed = |e: jpeg_decoder::Error| Error::Invalid(format!("jpeg: {e}"));
    let mut decoder = jpeg_decoder::Decoder::new(BufReader::new(std::fs::File::open(path)?));
    decoder.read_info().map_err(failed)?;
    let info = decoder
        .info()
        .ok_or(Error::Invalid("jpeg: no header".into()))?;
    let (width, height) = (u32::from(info.width), u32::from(info.height));
    let longest = width.max(height).max(1);
    if longest > MAX_SIDE {
        return Err(Error::Invalid("jpeg: too large".into()));
    }
    let fit = |n: u32| {
        u16::try_from((u64::from(n) * u64::from(side)).div_ceil(u64::from(longest)))
            .unwrap_or(u16::MAX)
    };
    let (w, h) = decoder.scale(fit(width), fit(height)).map_err(failed)?;
    let pixels = decoder.decode().map_err(failed)?;
    let (w, h) = (u32::from(w), u32::from(h));
    let info = decoder
        .info()
        .ok_or(Error::Invalid("jpeg: no header".into()))?;
    let image = match info.pixel_format {
        jpeg_decoder::PixelFormat::RGB24 => {
            image::RgbImage::from_raw(w, h, pixels).map(DynamicImage::ImageRgb8)
        }
        jpeg_decoder::PixelFormat::L8 => {
            image::GrayImage::from_raw(w, h, pixels).map(DynamicImage::ImageLuma8)
        }
        _ => None,
    }
    .ok_or(Error::Invalid(
        "jpeg: a pixel format decoded the slow way".into(),
    ))?;
    let orientation = decoder
        .exif_data()
        .and_then(image::metadata::Orientation::from_exif_chunk)
        .unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut image = image;
    image.apply_orientation(orientation);
    use image::metadata::Orientation::{Rotate270, Rotate270FlipH, Rotate90, Rotate90FlipH};
    let turned = matches!(
        orientation,
        Rotate90 | Rotate270 | Rotate90FlipH | Rotate270FlipH
    );
    Ok((
        image,
        if turned {
            (height, width)
        } else {
            (width, height)
        },
    ))
}

/// Decodes within limits and turns the picture as its EXIF orientation says.
fn decode(path: &Path) -> Result<DynamicImage> {
    let file = BufReader::new(std::fs::File::open(path)?);
    let mut reader = ImageReader::new(file).with_guessed_format()?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(invalid)?;
    let orientation = decoder.orientation().map_err(invalid)?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(invalid)?;
    image.apply_orientation(orientation);
    Ok(image)
}

fn invalid(error: image::ImageError) -> Error {
    Error::Invalid(format!("image: {error}"))
}

/// Encodes as JPEG (flattening any transparency onto white, as chat apps show stickers).
fn jpeg(image: &DynamicImage, quality: u8) -> Result<Vec<u8>> {
    let rgb = if image.color().has_alpha() {
        let mut flat =
            image::RgbImage::from_pixel(image.width(), image.height(), image::Rgb([255; 3]));
        for (x, y, pixel) in image.to_rgba8().enumerate_pixels() {
            let alpha = u16::from(pixel[3]);
            let blend = |c: u8| ((u16::from(c) * alpha + 255 * (255 - alpha)) / 255) as u8;
            flat.put_pixel(
                x,
                y,
                image::Rgb([blend(pixel[0]), blend(pixel[1]), blend(pixel[2])]),
            );
        }
        flat
    } else {
        image.to_rgb8()
    };
    let mut out = Cursor::new(Vec::new());
    JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(&rgb)
        .map_err(invalid)?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_png(path: &Path, width: u32, height: u32) {
        let image = image::RgbImage::from_fn(width, height, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
        });
        image.save(path).unwrap();
    }

    #[test]
    fn a_picture_has_its_size_a_small_preview_and_a_display_thumbnail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wide.png");
        write_png(&path, 1200, 600);
        let picture = picture(&path).unwrap().unwrap();
        assert_eq!(picture.mime, "image/png");
        assert_eq!((picture.width, picture.height), (1200, 600));
        assert!(picture.preview.len() <= flint_proto::files::MAX_PREVIEW_BYTES);
        let thumb = image::load_from_memory(&picture.thumbnail).unwrap();
        assert_eq!(
            (thumb.width(), thumb.height()),
            (THUMBNAIL_SIDE, THUMBNAIL_SIDE / 2)
        );
    }

    #[test]
    fn exif_orientation_turns_the_picture() {
        // A 4 × 2 JPEG whose EXIF says "rotate 90° clockwise": shown 2 × 4.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("turned.jpg");
        let mut plain = Cursor::new(Vec::new());
        JpegEncoder::new(&mut plain)
            .encode_image(&image::RgbImage::new(4, 2))
            .unwrap();
        let plain = plain.into_inner();
        // APP1 "Exif\0\0", big-endian TIFF, one IFD entry: Orientation (0x0112) = 6.
        let mut exif =
            b"Exif\0\0MM\0\x2a\0\0\0\x08\0\x01\x01\x12\0\x03\0\0\0\x01\0\x06\0\0\0\0\0\0".to_vec();
        let mut jpeg = plain[..2].to_vec();
        jpeg.extend_from_slice(&[0xFF, 0xE1]);
        jpeg.extend_from_slice(&((exif.len() + 2) as u16).to_be_bytes());
        jpeg.append(&mut exif);
        jpeg.extend_from_slice(&plain[2..]);
        std::fs::write(&path, jpeg).unwrap();
        let picture = picture(&path).unwrap().unwrap();
        assert_eq!((picture.width, picture.height), (2, 4));
        let copied = pixels(&path).unwrap();
        assert_eq!((copied.width, copied.height), (2, 4), "copied as shown");
    }

    #[test]
    fn pixels_are_rgba_row_by_row() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("small.png");
        write_png(&path, 3, 2);
        let small = pixels(&path).unwrap();
        assert_eq!((small.width, small.height), (3, 2));
        assert_eq!(small.rgba.len(), 3 * 2 * 4);
        assert_eq!(&small.rgba[4 * 4..5 * 4], &[1, 1, 128, 255], "x 1, y 1");
        std::fs::write(&path, b"%PDF-1.7 not a picture").unwrap();
        assert!(matches!(pixels(&path), Err(Error::Invalid(_))));
    }

    #[test]
    fn a_large_jpeg_is_decoded_at_a_smaller_scale_with_its_full_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("photo.jpg");
        image::RgbImage::from_fn(3000, 2000, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 7])
        })
        .save(&path)
        .unwrap();
        let (image, size) = scaled_jpeg(&path, THUMBNAIL_SIDE).unwrap();
        assert_eq!(size, (3000, 2000));
        assert_eq!(
            (image.width(), image.height()),
            (750, 500),
            "1/4 scale, still ≥ 480"
        );
        let picture = picture(&path).unwrap().unwrap();
        assert_eq!((picture.width, picture.height), (3000, 2000));
    }

    #[test]
    fn files_that_are_not_pictures_are_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notes.png");
        std::fs::write(&path, b"%PDF-1.7 not a picture").unwrap();
        assert_eq!(picture(&path).unwrap(), None);
        assert_eq!(sniff(&path).unwrap(), "application/pdf");
    }

    #[test]
    fn a_bomb_is_not_decoded() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bomb.png");
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        png.extend_from_slice(&100_000u32.to_be_bytes());
        png.extend_from_slice(&100_000u32.to_be_bytes());
        png.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
        std::fs::write(&path, png).unwrap();
        assert_eq!(picture(&path).unwrap(), None);
    }
}
