//! The headers of tus 1.0 and HTTP ranges, parsed and written without I/O.

use axum::http::{HeaderMap, HeaderValue};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use flint_proto::files;

use crate::error::AppError;

/// `Tus-Resumable`: the protocol version of every request and answer.
pub const TUS_RESUMABLE: &str = "tus-resumable";
/// `Upload-Length`: bytes of the whole file.
pub const UPLOAD_LENGTH: &str = "upload-length";
/// `Upload-Offset`: bytes received so far.
pub const UPLOAD_OFFSET: &str = "upload-offset";
/// `Upload-Metadata`: comma-separated `key base64(value)` pairs.
pub const UPLOAD_METADATA: &str = "upload-metadata";
/// `Upload-Checksum`: `algorithm base64(digest)` of one chunk.
pub const UPLOAD_CHECKSUM: &str = "upload-checksum";
/// `Upload-Expires`: when an unfinished upload goes (an HTTP date).
pub const UPLOAD_EXPIRES: &str = "upload-expires";

/// What a creation request says about the file.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Metadata {
    /// The file's name as sent.
    pub name: Option<String>,
    /// Hex SHA-256 of the whole file, lower case.
    pub sha256_hex: Option<String>,
}

/// A text header, if present.
fn text<'a>(headers: &'a HeaderMap, name: &str) -> Result<Option<&'a str>, AppError> {
    headers
        .get(name)
        .map(|value| {
            value
                .to_str()
                .map_err(|_| AppError::BadRequest(format!("{name} is not plain text")))
        })
        .transpose()
}

/// Refuses a request that does not speak tus 1.0.0.
pub fn require_version(headers: &HeaderMap) -> Result<(), AppError> {
    match text(headers, TUS_RESUMABLE)? {
        Some(files::TUS_VERSION) => Ok(()),
        _ => Err(AppError::BadRequest(format!(
            "uploads speak tus {}: send Tus-Resumable: {}",
            files::TUS_VERSION,
            files::TUS_VERSION
        ))),
    }
}

/// A non-negative integer header that must be present.
pub fn number(headers: &HeaderMap, name: &str) -> Result<u64, AppError> {
    let raw =
        text(headers, name)?.ok_or_else(|| AppError::BadRequest(format!("{name} is missing")))?;
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(AppError::BadRequest(format!("{name} is not a byte count")));
    }
    raw.parse()
        .map_err(|_| AppError::BadRequest(format!("{name} is not a byte count")))
}

/// `Upload-Metadata`: the keys Flint knows; others are ignored, a malformed pair is refused.
pub fn metadata(headers: &HeaderMap) -> Result<Metadata, AppError> {
    let mut found = Metadata::default();
    let Some(raw) = text(headers, UPLOAD_METADATA)? else {
        return Ok(found);
    };
    for pair in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, encoded) = pair.split_once(' ').unwrap_or((pair, ""));
        let value = STANDARD
            .decode(encoded.trim())
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .ok_or_else(|| {
                AppError::BadRequest(format!("Upload-Metadata: {key} is not base64 of UTF-8"))
            })?;
        match key {
            files::META_NAME => found.name = Some(value),
            files::META_SHA256 => found.sha256_hex = Some(sha256_hex(&value)?),
            _ => {}
        }
    }
    Ok(found)
}

/// A hex SHA-256 (64 hex digits), lower-cased.
pub fn sha256_hex(raw: &str) -> Result<String, AppError> {
    let valid = raw.len() == 64 && raw.bytes().all(|b| b.is_ascii_hexdigit());
    if !valid {
        return Err(AppError::BadRequest("a SHA-256 is 64 hex digits".into()));
    }
    Ok(raw.to_ascii_lowercase())
}

/// `Upload-Checksum` of a chunk, if sent: only `sha256` is supported.
pub fn chunk_checksum(headers: &HeaderMap) -> Result<Option<[u8; 32]>, AppError> {
    let Some(raw) = text(headers, UPLOAD_CHECKSUM)? else {
        return Ok(None);
    };
    let (algorithm, encoded) = raw.split_once(' ').unwrap_or((raw, ""));
    if algorithm != "sha256" {
        return Err(AppError::BadRequest(
            "Upload-Checksum supports sha256 only".into(),
        ));
    }
    STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .map(Some)
        .ok_or_else(|| AppError::BadRequest("Upload-Checksum is not base64 of 32 bytes".into()))
}

/// A header value from a number.
pub fn value(number: u64) -> HeaderValue {
    HeaderValue::from(number)
}

/// The part of a file a `Range` header asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wanted {
    /// All of it (no range, or one this server does not serve, such as several ranges).
    All,
    /// `len` bytes from `start`.
    Part {
        /// First byte.
        start: u64,
        /// How many bytes (at least one).
        len: u64,
    },
    /// A range outside the file: `416`.
    Unsatisfiable,
}

/// Parses `Range: bytes=a-b | a- | -n` against a file of `size` bytes.
pub fn range(header: Option<&str>, size: u64) -> Wanted {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Wanted::All;
    };
    if spec.contains(',') {
        return Wanted::All;
    }
    let Some((first, last)) = spec.split_once('-') else {
        return Wanted::All;
    };
    let parse = |s: &str| s.trim().parse::<u64>().ok();
    let (start, end) = match (first.trim().is_empty(), parse(first), parse(last)) {
        (true, _, Some(suffix)) if suffix > 0 => {
            (size.saturating_sub(suffix), size.saturating_sub(1))
        }
        (false, Some(start), None) if last.trim().is_empty() => (start, size.saturating_sub(1)),
        (false, Some(start), Some(end)) if end >= start => (start, end.min(size.saturating_sub(1))),
        _ => return Wanted::All,
    };
    if size == 0 || start >= size {
        return Wanted::Unsatisfiable;
    }
    Wanted::Part {
        start,
        len: end - start + 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_str(value).unwrap());
        }
        map
    }

    #[test]
    fn metadata_decodes_known_keys_and_refuses_bad_base64() {
        let name = STANDARD.encode("报告 📄.pdf");
        let sha = STANDARD.encode("AB".repeat(32));
        let found = metadata(&headers(&[(
            UPLOAD_METADATA,
            &format!("filename {name},sha256 {sha},other,filetype YQ=="),
        )]))
        .unwrap();
        assert_eq!(found.name.as_deref(), Some("报告 📄.pdf"));
        assert_eq!(found.sha256_hex, Some("ab".repeat(32)));
        assert!(metadata(&headers(&[(UPLOAD_METADATA, "filename ***")])).is_err());
        assert!(metadata(&headers(&[(UPLOAD_METADATA, "sha256 YQ==")])).is_err());
    }

    #[test]
    fn numbers_are_plain_digits() {
        assert_eq!(
            number(&headers(&[(UPLOAD_OFFSET, "42")]), UPLOAD_OFFSET).unwrap(),
            42
        );
        for bad in ["-1", "+3", "1e3", "", "99999999999999999999999"] {
            assert!(
                number(&headers(&[(UPLOAD_OFFSET, bad)]), UPLOAD_OFFSET).is_err(),
                "{bad}"
            );
        }
        assert!(number(&HeaderMap::new(), UPLOAD_OFFSET).is_err());
    }

    #[test]
    fn ranges_cover_the_three_forms_and_refuse_what_is_outside() {
        assert_eq!(range(None, 10), Wanted::All);
        assert_eq!(
            range(Some("bytes=2-4"), 10),
            Wanted::Part { start: 2, len: 3 }
        );
        assert_eq!(
            range(Some("bytes=7-"), 10),
            Wanted::Part { start: 7, len: 3 }
        );
        assert_eq!(
            range(Some("bytes=-3"), 10),
            Wanted::Part { start: 7, len: 3 }
        );
        assert_eq!(
            range(Some("bytes=-30"), 10),
            Wanted::Part { start: 0, len: 10 }
        );
        assert_eq!(
            range(Some("bytes=5-99"), 10),
            Wanted::Part { start: 5, len: 5 }
        );
        assert_eq!(range(Some("bytes=10-"), 10), Wanted::Unsatisfiable);
        assert_eq!(range(Some("bytes=0-1,4-5"), 10), Wanted::All);
        assert_eq!(range(Some("bytes=4-2"), 10), Wanted::All);
        assert_eq!(range(Some("items=1-2"), 10), Wanted::All);
    }

    #[test]
    fn checksums_are_sha256_only() {
        let digest = STANDARD.encode([7u8; 32]);
        assert_eq!(
            chunk_checksum(&headers(&[(UPLOAD_CHECKSUM, &format!("sha256 {digest}"))])).unwrap(),
            Some([7; 32])
        );
        assert!(chunk_checksum(&headers(&[(UPLOAD_CHECKSUM, &format!("md5 {digest}"))])).is_err());
        assert_eq!(chunk_checksum(&HeaderMap::new()).unwrap(), None);
    }
}
