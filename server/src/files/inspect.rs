//! What a complete upload is, decided from its bytes: its type (sniffed, never taken from
//! the name) and, for images, its dimensions, checked against decompression bombs.

use std::io::Read;
use std::path::Path;

use crate::config::FileLimits;
use crate::error::AppError;

/// Bytes read from the start of a file to recognise it (a JPEG's size can sit behind
/// 64 KiB of EXIF data).
const HEAD_BYTES: u64 = 256 * 1024;
/// The type of content no signature is recognised for.
pub const UNKNOWN_TYPE: &str = "application/octet-stream";

/// What a file is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspected {
    /// Its MIME type.
    pub mime: String,
    /// Pixels across, for images whose header says (0 otherwise).
    pub width: u32,
    /// Pixels down.
    pub height: u32,
}

/// Reads the start of `path` (blocking) and inspects it.
pub fn file(path: &Path, limits: &FileLimits) -> Result<Inspected, AppError> {
    let mut head = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(HEAD_BYTES).read_to_end(&mut head))
        .map_err(|e| AppError::Internal(format!("reading an upload: {e}")))?;
    bytes(&head, limits)
}

/// Inspects the first bytes of a file: its type must be allowed, and an image may not claim
/// more pixels than the limit.
pub fn bytes(head: &[u8], limits: &FileLimits) -> Result<Inspected, AppError> {
    let mime = infer::get(head).map_or(UNKNOWN_TYPE, |kind| kind.mime_type());
    if !limits.allows(mime) {
        return Err(AppError::TypeNotAllowed(format!(
            "this server does not accept files of type {mime}"
        )));
    }
    let (width, height) = if mime.starts_with("image/") {
        dimensions(head, limits)?
    } else {
        (0, 0)
    };
    Ok(Inspected {
        mime: mime.to_owned(),
        width,
        height,
    })
}

/// An image's size from its header; a header that cannot be read gives 0 × 0 (the file is
/// kept as a file, and clients decode with limits of their own).
fn dimensions(head: &[u8], limits: &FileLimits) -> Result<(u32, u32), AppError> {
    let Ok(size) = imagesize::blob_size(head) else {
        return Ok((0, 0));
    };
    let pixels = (size.width as u64).saturating_mul(size.height as u64);
    if pixels > limits.max_image_pixels {
        return Err(AppError::TooLarge(format!(
            "the image claims {} × {} pixels; the limit is {} pixels",
            size.width, size.height, limits.max_image_pixels
        )));
    }
    let side = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    Ok((side(size.width), side(size.height)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PNG header claiming `width` × `height` (the pixels are never there).
    pub(crate) fn png_header(width: u32, height: u32) -> Vec<u8> {
        let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
        png.extend_from_slice(&width.to_be_bytes());
        png.extend_from_slice(&height.to_be_bytes());
        png.extend_from_slice(&[8, 6, 0, 0, 0, 0, 0, 0, 0]);
        png
    }

    #[test]
    fn a_png_is_recognised_with_its_size() {
        let found = bytes(&png_header(640, 480), &FileLimits::default()).unwrap();
        assert_eq!(found.mime, "image/png");
        assert_eq!((found.width, found.height), (640, 480));
    }

    #[test]
    fn a_bomb_claiming_too_many_pixels_is_refused() {
        let error = bytes(&png_header(100_000, 100_000), &FileLimits::default()).unwrap_err();
        assert_eq!(error.code(), flint_proto::ErrorCode::TooLarge);
    }

    #[test]
    fn the_type_comes_from_the_content_and_must_be_allowed() {
        let only_images = FileLimits {
            allowed_types: vec!["image/*".into()],
            ..FileLimits::default()
        };
        let pdf = b"%PDF-1.7\n";
        assert_eq!(
            bytes(pdf, &FileLimits::default()).unwrap().mime,
            "application/pdf"
        );
        let refused = bytes(pdf, &only_images).unwrap_err();
        assert_eq!(refused.code(), flint_proto::ErrorCode::TypeNotAllowed);
        assert_eq!(
            bytes(b"just text", &FileLimits::default()).unwrap().mime,
            UNKNOWN_TYPE
        );
    }
}
