//! `GET /api/v1/files/{id}`: a file for those who may see it — its uploader, the members of
//! a conversation it was sent to, and whoever keeps it as a sticker — whole or by `Range`.
//! Anyone else gets the answer a missing file gets.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;

use super::io_error;
use super::tus::{self, Wanted};
use crate::error::AppError;
use crate::rest::Caller;
use crate::state::AppState;
use crate::validate;

/// Serves a file, or the range of it asked for.
pub async fn download(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let id = validate::object_id(&id, "file")?;
    let file = state
        .store
        .file(caller.session.user_id, &id)
        .await?
        .ok_or(AppError::NotFound("file"))?;
    let size = file.blob.size;
    let asked = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let (status, start, len) = match tus::range(asked, size) {
        Wanted::All => (StatusCode::OK, 0, size),
        Wanted::Part { start, len } => (StatusCode::PARTIAL_CONTENT, start, len),
        Wanted::Unsatisfiable => {
            let mut response = Response::new(Body::empty());
            *response.status_mut() = StatusCode::RANGE_NOT_SATISFIABLE;
            response
                .headers_mut()
                .insert(header::CONTENT_RANGE, value(&format!("bytes */{size}")));
            return Ok(response);
        }
    };
    let parts = state
        .files
        .blobs
        .read(&file.blob.sha256, start, len)
        .await
        .map_err(io_error)?;
    let mut response = Response::new(Body::from_stream(parts));
    *response.status_mut() = status;
    let out = response.headers_mut();
    out.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    out.insert(header::CONTENT_TYPE, value(&file.blob.mime));
    out.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    out.insert(
        header::ETAG,
        value(&format!("\"{}\"", hex::encode(&file.blob.sha256))),
    );
    out.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=31536000, immutable"),
    );
    out.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    out.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; sandbox"),
    );
    out.insert(header::CONTENT_DISPOSITION, value(&attachment(&file.name)));
    if status == StatusCode::PARTIAL_CONTENT {
        let last = start + len - 1;
        out.insert(
            header::CONTENT_RANGE,
            value(&format!("bytes {start}-{last}/{size}")),
        );
    }
    Ok(response)
}

/// A header value from text the server made.
fn value(text: &str) -> HeaderValue {
    HeaderValue::from_str(text).unwrap_or(HeaderValue::from_static(""))
}

/// `Content-Disposition` naming the file in UTF-8 (RFC 6266 / 8187), so CJK and emoji names
/// survive and no name can break out of the header.
pub fn attachment(name: &str) -> String {
    let mut encoded = String::with_capacity(name.len() * 3);
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("attachment; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_percent_encoded_in_utf8() {
        assert_eq!(
            attachment("a b.txt"),
            "attachment; filename*=UTF-8''a%20b.txt"
        );
        assert_eq!(
            attachment("报告"),
            "attachment; filename*=UTF-8''%E6%8A%A5%E5%91%8A"
        );
        assert!(!attachment("x\"; evil=1").contains('"'));
    }
}
