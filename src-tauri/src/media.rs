//! The `flint-media` URI scheme: pictures and files reach the webview from core's media
//! folder, never as base64 through IPC and never from the network. Addresses:
//! `thumb/{local_id}` (a picture's thumbnail), `preview/{local_id}` (the tiny preview its
//! message carries), `file/{local_id}` (the original: whole, or by `Range`), `staged/{index}`
//! (the thumbnail of a file about to be sent), `sticker/{file_id}` (one of the user's
//! stickers, for the sticker panel) and `call/{n}` (the other side's latest video picture).
//! The page builds them with its platform's form: `flint-media://localhost/…`, or
//! `http://flint-media.localhost/…` on Windows.

use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use flint_core::library::Want;
use tauri::http::{header, Request, Response, StatusCode};
use tauri::{AppHandle, Manager, UriSchemeContext, UriSchemeResponder, Wry};

use crate::state::Desktop;

/// The scheme's name.
pub const SCHEME: &str = "flint-media";
/// Most bytes one `Range` answer carries; a player asks for the rest.
const MAX_ANSWER: u64 = 8 << 20;
/// The page's own origins (each platform's form): the only ones whose `fetch` may read an
/// answer (the page is another origin than this scheme; `<img>` needs no leave, `fetch` does).
const PAGE_ORIGINS: &[&str] = &[
    "tauri://localhost",
    "http://tauri.localhost",
    "https://tauri.localhost",
];
/// Largest file served whole (a picture in the viewer, a clip fetched into a `blob:`).
const MAX_WHOLE: u64 = flint_core::media::MAX_WHOLE_BYTES;

/// What an address names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Asset {
    /// A message's picture at display size on a HiDPI screen.
    Thumbnail(i64),
    /// The same at half its side, for a screen of one device pixel per CSS pixel.
    SmallThumbnail(i64),
    /// The tiny preview in a picture's message.
    Preview(i64),
    /// A message's file.
    Original(i64),
    /// A staged file's thumbnail.
    Staged(u32),
    /// One of the user's stickers, by its file id (32 hex digits).
    Sticker(String),
    /// The other side's latest picture in a video call (the number only tells one picture's
    /// address from the next).
    CallPicture(u64),
}

/// Reads an address's path.
pub fn parse(path: &str) -> Option<Asset> {
    let mut parts = path.trim_start_matches('/').split('/');
    let (kind, id, rest) = (parts.next()?, parts.next()?, parts.next());
    if rest.is_some() {
        return None;
    }
    match kind {
        "thumb" => id.parse().ok().map(Asset::Thumbnail),
        "thumb1x" => id.parse().ok().map(Asset::SmallThumbnail),
        "preview" => id.parse().ok().map(Asset::Preview),
        "file" => id.parse().ok().map(Asset::Original),
        "staged" => id.parse().ok().map(Asset::Staged),
        "call" => id.parse().ok().map(Asset::CallPicture),
        "sticker" if flint_proto::files::is_object_id(id) => Some(Asset::Sticker(id.to_owned())),
        _ => None,
    }
}

/// Answers one request off the main thread.
pub fn handle(
    ctx: UriSchemeContext<'_, Wry>,
    request: Request<Vec<u8>>,
    responder: UriSchemeResponder,
) {
    let app = ctx.app_handle().clone();
    tauri::async_runtime::spawn(async move {
        let answer = answer(&app, &request).await;
        responder.respond(readable_by_the_page(&request, answer));
    });
}

/// Lets the page's `fetch` read the answer (a voice or video clip fetched into a `blob:`);
/// any other origin gets no such leave.
fn readable_by_the_page<T>(
    request: &Request<T>,
    mut response: Response<Vec<u8>>,
) -> Response<Vec<u8>> {
    let headers = response.headers_mut();
    headers.insert(header::VARY, header::HeaderValue::from_static("Origin"));
    if let Some(origin) = request.headers().get(header::ORIGIN) {
        if origin.to_str().is_ok_and(|o| PAGE_ORIGINS.contains(&o)) {
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
        }
    }
    response
}

async fn answer(app: &AppHandle, request: &Request<Vec<u8>>) -> Response<Vec<u8>> {
    let Some(asset) = parse(request.uri().path()) else {
        return status(StatusCode::NOT_FOUND);
    };
    let desktop = app.state::<Desktop>();
    let found = match asset {
        Asset::Staged(index) => {
            return match desktop.staging.path(index) {
                Some(path) => staged_thumbnail(path).await,
                None => status(StatusCode::NOT_FOUND),
            };
        }
        Asset::CallPicture(_) => {
            let Ok(client) = desktop.client().await else {
                return status(StatusCode::NOT_FOUND);
            };
            let screen = client.call_screen();
            let picture = tauri::async_runtime::spawn_blocking(move || screen.jpeg()).await;
            return match picture {
                Ok(Some((_, bytes))) => jpeg(bytes),
                _ => status(StatusCode::NOT_FOUND),
            };
        }
        Asset::Preview(local_id) => {
            let preview = match desktop.client().await {
                Ok(client) => client.preview(local_id).await.ok().flatten(),
                Err(_) => None,
            };
            return preview.map_or_else(|| status(StatusCode::NOT_FOUND), jpeg);
        }
        Asset::Sticker(ref file_id) => match desktop.client().await {
            Ok(client) => match client.sticker_picture(file_id).await {
                Ok(media) => Some((media.path, media.mime)),
                Err(error) => {
                    tracing::debug!(%error, "no picture for a sticker");
                    None
                }
            },
            Err(_) => None,
        },
        Asset::Thumbnail(local_id)
        | Asset::SmallThumbnail(local_id)
        | Asset::Original(local_id) => {
            let want = match asset {
                Asset::Thumbnail(_) => Want::Thumbnail,
                Asset::SmallThumbnail(_) => Want::SmallThumbnail,
                _ => Want::Original,
            };
            match desktop.client().await {
                Ok(client) => match client.media(local_id, want).await {
                    Ok(media) => Some((media.path, media.mime)),
                    Err(error) => {
                        tracing::debug!(%error, local_id, "no media for a message");
                        None
                    }
                },
                Err(_) => None,
            }
        }
    };
    let Some((path, mime)) = found else {
        return status(StatusCode::NOT_FOUND);
    };
    let range = request
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    tauri::async_runtime::spawn_blocking(move || read(&path, &mime, range.as_deref()))
        .await
        .unwrap_or_else(|_| status(StatusCode::INTERNAL_SERVER_ERROR))
}

/// A staged picture's thumbnail, made on request.
async fn staged_thumbnail(path: PathBuf) -> Response<Vec<u8>> {
    let made = flint_core::pictures::thumbnail(path).await.ok();
    made.map_or_else(|| status(StatusCode::NOT_FOUND), jpeg)
}

/// An answer holding JPEG bytes made in memory.
fn jpeg(bytes: Vec<u8>) -> Response<Vec<u8>> {
    Response::builder()
        .header(header::CONTENT_TYPE, "image/jpeg")
        .header(header::CACHE_CONTROL, "no-store")
        .body(bytes)
        .unwrap_or_else(|_| status(StatusCode::INTERNAL_SERVER_ERROR))
}

/// The bytes asked for: a `Range` (at most [`MAX_ANSWER`] of it), or the whole file (up to
/// [`MAX_WHOLE`]; a page asking without a range needs all of it, so a part would be a broken
/// picture or clip).
fn read(path: &Path, mime: &str, range: Option<&str>) -> Response<Vec<u8>> {
    let Ok(mut file) = std::fs::File::open(path) else {
        return status(StatusCode::NOT_FOUND);
    };
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let Some((start, end)) = wanted(range, size) else {
        return status(StatusCode::RANGE_NOT_SATISFIABLE);
    };
    if range.is_none() && size > MAX_WHOLE {
        return status(StatusCode::PAYLOAD_TOO_LARGE);
    }
    let cap = if range.is_some() {
        MAX_ANSWER
    } else {
        MAX_WHOLE
    };
    let len = end.saturating_sub(start).min(cap);
    let mut bytes = Vec::with_capacity(len as usize);
    let read = file
        .seek(SeekFrom::Start(start))
        .and_then(|_| (&mut file).take(len).read_to_end(&mut bytes));
    if read.is_err() {
        return status(StatusCode::INTERNAL_SERVER_ERROR);
    }
    if bytes.is_empty() && len > 0 {
        // The file shrank since its size was read: what was asked for is not there.
        return status(StatusCode::RANGE_NOT_SATISFIABLE);
    }
    let partial = range.is_some() || len < size;
    let mime = if mime.is_empty() {
        "application/octet-stream"
    } else {
        mime
    };
    let mut response = Response::builder()
        .status(if partial {
            StatusCode::PARTIAL_CONTENT
        } else {
            StatusCode::OK
        })
        .header(header::CONTENT_TYPE, mime)
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::CACHE_CONTROL, "no-store");
    if partial {
        let last = (start + bytes.len() as u64).saturating_sub(1);
        response = response.header(
            header::CONTENT_RANGE,
            format!("bytes {start}-{last}/{size}"),
        );
    }
    response
        .body(bytes)
        .unwrap_or_else(|_| status(StatusCode::INTERNAL_SERVER_ERROR))
}

/// The bytes `[start, end)` a `Range` header asks of a file of `size` bytes (all of it
/// without one); `None` when the range is outside the file.
fn wanted(range: Option<&str>, size: u64) -> Option<(u64, u64)> {
    let Some(spec) = range.and_then(|r| r.trim().strip_prefix("bytes=")) else {
        return Some((0, size));
    };
    let (first, last) = spec.split_once('-')?;
    let number = |s: &str| s.trim().parse::<u64>().ok();
    let (start, end) = match (number(first), number(last)) {
        (None, Some(suffix)) => (size.saturating_sub(suffix), size),
        (Some(start), None) => (start, size),
        (Some(start), Some(last)) => (start, last.saturating_add(1).min(size)),
        (None, None) => return None,
    };
    (start < end).then_some((start, end))
}

fn status(code: StatusCode) -> Response<Vec<u8>> {
    let mut response = Response::new(Vec::new());
    *response.status_mut() = code;
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_name_one_asset_or_nothing() {
        assert_eq!(parse("/thumb/42"), Some(Asset::Thumbnail(42)));
        assert_eq!(parse("/thumb1x/42"), Some(Asset::SmallThumbnail(42)));
        assert_eq!(parse("/preview/42"), Some(Asset::Preview(42)));
        assert_eq!(parse("/file/7"), Some(Asset::Original(7)));
        assert_eq!(parse("/staged/0"), Some(Asset::Staged(0)));
        assert_eq!(parse("/call/12"), Some(Asset::CallPicture(12)));
        let file_id = "0123456789abcdef0123456789abcdef";
        let sticker = format!("/sticker/{file_id}");
        assert_eq!(parse(&sticker), Some(Asset::Sticker(file_id.into())));
        for bad in [
            "/sticker/..%2F..%2Fflint.db",
            "/sticker/0123456789ABCDEF0123456789ABCDEF",
            "/sticker/42",
            "/file/../../etc/passwd",
            "/file/x",
            "/other/1",
            "/file/1/2",
            "/",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn only_the_page_may_read_answers_with_fetch() {
        let asked = |origin: Option<&str>| {
            let mut request = Request::builder().uri("flint-media://localhost/file/1");
            if let Some(origin) = origin {
                request = request.header(header::ORIGIN, origin);
            }
            let answer = readable_by_the_page(&request.body(()).unwrap(), status(StatusCode::OK));
            answer
                .headers()
                .get(header::ACCESS_CONTROL_ALLOW_ORIGIN)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        for page in PAGE_ORIGINS {
            assert_eq!(asked(Some(page)).as_deref(), Some(*page));
        }
        assert_eq!(asked(Some("https://evil.example")), None);
        assert_eq!(asked(Some("null")), None);
        assert_eq!(asked(None), None);
    }

    #[test]
    fn ranges_are_served_in_bounded_parts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("clip");
        std::fs::write(&path, b"0123456789").unwrap();
        let whole = read(&path, "audio/ogg", None);
        assert_eq!((whole.status(), whole.body().len()), (StatusCode::OK, 10));
        // A photo larger than one ranged part still comes whole when asked without a range.
        let photo = dir.path().join("photo");
        std::fs::write(&photo, vec![7u8; (MAX_ANSWER + 1) as usize]).unwrap();
        let whole = read(&photo, "image/jpeg", None);
        assert_eq!(
            (whole.status(), whole.body().len() as u64),
            (StatusCode::OK, MAX_ANSWER + 1)
        );
        let part = read(&photo, "image/jpeg", Some("bytes=0-"));
        assert_eq!(
            part.body().len() as u64,
            MAX_ANSWER,
            "a ranged answer stays bounded"
        );
        let part = read(&path, "audio/ogg", Some("bytes=2-4"));
        assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
        assert_eq!(part.body(), b"234");
        assert_eq!(part.headers()[header::CONTENT_RANGE], "bytes 2-4/10");
        assert_eq!(
            read(&path, "", Some("bytes=20-")).status(),
            StatusCode::RANGE_NOT_SATISFIABLE
        );
    }
}
