//! The account's media folder: originals downloaded for messages (`files/`), thumbnails at
//! display size (`thumbs/`) and pictures pasted into the composer (`pasted/`). What is kept is
//! recorded with its last use, and the least recently used go once the folder passes its cap
//! (own files' sources on this device are never touched).

use std::path::{Path, PathBuf};

use flint_proto::api::Sticker;
use flint_proto::ipc::Event;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::attachment::{self, Attachment, Shown};
use crate::downloads;
use crate::error::{Error, Result};
use crate::files::safe_name;
use crate::media;
use crate::pictures;
use crate::rules::progress::report_due;
use crate::shared::Shared;
use crate::store::{self, messages, now_ms};
use crate::transfer;

/// Which form of a message's file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// A JPEG at display size (a picture's, or a video's poster) on a HiDPI screen.
    Thumbnail,
    /// The same at half its side, for a screen of one device pixel per CSS pixel.
    SmallThumbnail,
    /// The file itself.
    Original,
    /// The file itself, only if it is a picture (nothing is fetched for another file).
    Picture,
}

/// A file on this device, ready to show or open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    /// Where it is.
    pub path: PathBuf,
    /// Its type.
    pub mime: String,
}

/// The media folder of the signed-in account.
fn root(shared: &Shared) -> PathBuf {
    shared.config.account_dir(shared.me_id()).join("media")
}

/// Where the thumbnail of a message's picture is kept: by file id once there is one, by the
/// message for an own picture made before its upload.
fn thumbnail_path(shared: &Shared, key: &str) -> PathBuf {
    root(shared)
        .join("thumbs")
        .join(format!("{}.jpg", safe_name(key)))
}

/// The key of an own picture's thumbnail made when it was sent.
pub fn own_key(local_id: i64) -> String {
    format!("local-{local_id}")
}

/// Where the thumbnail of a picture or video this device sends is kept.
pub fn own_thumbnail(shared: &Shared, local_id: i64) -> PathBuf {
    thumbnail_path(shared, &own_key(local_id))
}

/// Saves the thumbnail of a picture, or the poster of a video, being sent.
pub async fn keep_own_thumbnail(shared: &Shared, local_id: i64, jpeg: Vec<u8>) -> Result<()> {
    let path = own_thumbnail(shared, local_id);
    // A small one made from an earlier message's (a local id used again) is not this one's.
    let _ = tokio::fs::remove_file(small_path(&path)).await;
    write(&path, jpeg).await?;
    record(shared, &path).await
}

/// A fresh path for a picture pasted into the composer.
pub async fn pasted_path(shared: &Shared, name: &str) -> Result<PathBuf> {
    let folder = root(shared).join("pasted").join(Uuid::now_v7().to_string());
    tokio::fs::create_dir_all(&folder).await?;
    Ok(folder.join(safe_name(name)))
}

/// A message's file in the form asked for, downloading the original and making the
/// thumbnail when this device has neither yet.
pub async fn media(shared: &Shared, local_id: i64, want: Want) -> Result<Media> {
    let (found, source) = shared
        .store
        .call(move |conn| {
            Ok((
                messages::located(conn, local_id)?,
                store::media::source(conn, local_id)?,
            ))
        })
        .await?;
    let (conversation_id, content) = found.ok_or(Error::NotFound("file"))?;
    let found = attachment::of(&content).ok_or(Error::NotFound("file"))?;
    let asked = Asked {
        conversation_id,
        local_id,
    };
    match (want, found.shown) {
        (Want::Original, _) | (Want::Picture, Shown::Picture) => {
            original(shared, asked, &found, source).await
        }
        (Want::SmallThumbnail, Shown::Picture | Shown::Video) => {
            if let Some(kept) = kept_thumbnail(shared, asked, &found, Size::Small).await? {
                return Ok(kept);
            }
            let large = large_thumbnail(shared, asked, &found, source).await?;
            let jpeg = pictures::small_thumbnail(large.path.clone()).await?;
            keep(shared, small_path(&large.path), jpeg).await
        }
        (Want::Thumbnail, Shown::Picture | Shown::Video) => {
            large_thumbnail(shared, asked, &found, source).await
        }
        (Want::Thumbnail | Want::SmallThumbnail | Want::Picture, _) => {
            Err(Error::Invalid("the file is not a picture".into()))
        }
    }
}

/// A picture's thumbnail or a video's poster, at the size for HiDPI screens.
async fn large_thumbnail(
    shared: &Shared,
    asked: Asked,
    found: &Attachment,
    source: Option<String>,
) -> Result<Media> {
    if found.shown == Shown::Video {
        poster(shared, asked, found, source).await
    } else {
        thumbnail(shared, asked, found, source).await
    }
}

/// Which of a thumbnail's two sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Size {
    /// [`crate::media::THUMBNAIL_SIDE`].
    Large,
    /// [`crate::media::SMALL_THUMBNAIL_SIDE`].
    Small,
}

/// Where the small thumbnail made from the thumbnail at `large` is kept: beside it.
fn small_path(large: &Path) -> PathBuf {
    large.with_extension("1x.jpg")
}

/// The message whose file is asked for.
#[derive(Debug, Clone, Copy)]
struct Asked {
    conversation_id: i64,
    local_id: i64,
}

/// The original: its source when this device sent it and still has it, else a download.
async fn original(
    shared: &Shared,
    asked: Asked,
    found: &Attachment,
    source: Option<String>,
) -> Result<Media> {
    let mime = found.mime.clone();
    if let Some(source) = source.map(PathBuf::from) {
        if tokio::fs::try_exists(&source).await.unwrap_or(false) {
            return Ok(Media { path: source, mime });
        }
    }
    if found.file_id.is_empty() {
        return Err(Error::NotFound("file"));
    }
    let folder = root(shared).join("files").join(safe_name(&found.file_id));
    let name = if found.name.is_empty() {
        "file"
    } else {
        &found.name
    };
    let path = folder.join(safe_name(name));
    let ticket = shared.downloads.begin(asked.local_id, &shared.shutdown);
    let file_lock = shared.downloads.file_lock(&found.file_id);
    let _mine = tokio::select! {
        mine = file_lock.lock() => mine,
        () = ticket.cancel.cancelled() => {
            downloads::settle(shared, asked.local_id, &Err(Error::Cancelled)).await;
            return Err(stopped(shared, asked, Error::Cancelled));
        }
    };
    if !tokio::fs::try_exists(&path).await.unwrap_or(false) {
        downloads::track(shared, asked.local_id)
            .await
            .map_err(|error| stopped(shared, asked, error))?;
        let fetched = fetch(shared, asked, found, &path, &ticket.cancel).await;
        downloads::settle(shared, asked.local_id, &fetched).await;
        fetched.map_err(|error| stopped(shared, asked, error))?;
    }
    record(shared, &path).await?;
    Ok(Media { path, mime })
}

/// Downloads `found` to `path` when a turn comes, reporting progress.
async fn fetch(
    shared: &Shared,
    asked: Asked,
    found: &Attachment,
    path: &Path,
    cancel: &CancellationToken,
) -> Result<()> {
    let _turn = shared.downloads.turn(cancel).await?;
    if let Some(folder) = path.parent() {
        tokio::fs::create_dir_all(folder).await?;
    }
    let service = shared.file_service()?;
    let mut last_report = None;
    let mut progress = |received: u64, total: u64| {
        let at = now_ms();
        if report_due(last_report, at, received, total) {
            last_report = Some(at);
            shared.emit(Event::DownloadProgress {
                conversation_id: asked.conversation_id,
                local_id: asked.local_id,
                received,
                total,
            });
        }
    };
    transfer::download(
        &service,
        &found.file_id,
        found.size,
        path,
        &mut progress,
        cancel,
    )
    .await?;
    Ok(())
}

/// Tells front ends a download stopped short; returns the error.
fn stopped(shared: &Shared, asked: Asked, error: Error) -> Error {
    shared.emit(Event::DownloadStopped {
        conversation_id: asked.conversation_id,
        local_id: asked.local_id,
        reason: error.code(),
    });
    error
}

/// One of the user's stickers at display size, for the sticker panel: the thumbnail its
/// messages share (kept by file id), made from its original when missing.
pub async fn sticker(shared: &Shared, sticker: &Sticker) -> Result<Media> {
    let kept = thumbnail_path(shared, &sticker.file_id);
    if tokio::fs::try_exists(&kept).await.unwrap_or(false) {
        record(shared, &kept).await?;
        return Ok(jpeg_at(kept));
    }
    let folder = root(shared).join("files").join(safe_name(&sticker.file_id));
    let path = folder.join("sticker");
    let file_lock = shared.downloads.file_lock(&sticker.file_id);
    let _mine = file_lock.lock().await;
    if !tokio::fs::try_exists(&path).await.unwrap_or(false) {
        let _turn = shared.downloads.turn(&shared.shutdown).await?;
        tokio::fs::create_dir_all(&folder).await?;
        let service = shared.file_service()?;
        let (file_id, size) = (&sticker.file_id, sticker.size);
        let quiet = &mut |_, _| {};
        transfer::download(&service, file_id, size, &path, quiet, &shared.shutdown).await?;
    }
    record(shared, &path).await?;
    let jpeg = pictures::thumbnail(path).await?;
    keep(shared, kept, jpeg).await
}

/// Largest picture whose original is downloaded on its own to make a thumbnail.
pub const MAX_AUTO_PICTURE_BYTES: u64 = 64 << 20;

/// Whether a picture of `size` bytes is fetched without the user asking.
pub fn auto_download(size: u64) -> bool {
    size <= MAX_AUTO_PICTURE_BYTES
}

/// Largest poster fetched (the sender makes them at most [`crate::media::THUMBNAIL_SIDE`]
/// on their longest side: tens of KiB).
const MAX_POSTER_BYTES: usize = 1 << 20;

/// The thumbnail kept here for `found`'s message (its own, or by its file id), if there is one.
async fn kept_thumbnail(
    shared: &Shared,
    asked: Asked,
    found: &Attachment,
    size: Size,
) -> Result<Option<Media>> {
    let own = own_thumbnail(shared, asked.local_id);
    let by_file = (!found.file_id.is_empty()).then(|| thumbnail_path(shared, &found.file_id));
    for large in [Some(own), by_file].into_iter().flatten() {
        let path = match size {
            Size::Large => large,
            Size::Small => small_path(&large),
        };
        if tokio::fs::try_exists(&path).await.unwrap_or(false) {
            record(shared, &path).await?;
            return Ok(Some(jpeg_at(path)));
        }
    }
    Ok(None)
}

/// A thumbnail's JPEG at `path`.
fn jpeg_at(path: PathBuf) -> Media {
    Media {
        path,
        mime: "image/jpeg".to_owned(),
    }
}

/// A video's poster: the one made here when sending it (made again from the clip when the
/// page asks before it is kept), else the sender's, fetched once.
async fn poster(
    shared: &Shared,
    asked: Asked,
    found: &Attachment,
    source: Option<String>,
) -> Result<Media> {
    if let Some(kept) = kept_thumbnail(shared, asked, found, Size::Large).await? {
        return Ok(kept);
    }
    if let Some(source) = source {
        // A clip moved or deleted since is no error: the uploaded poster may still be there.
        if let Some(jpeg) = pictures::poster(PathBuf::from(source)).await.ok().flatten() {
            return keep(shared, own_thumbnail(shared, asked.local_id), jpeg).await;
        }
    }
    if found.poster_id.is_empty() || found.file_id.is_empty() {
        return Err(Error::NotFound("poster"));
    }
    let service = shared.file_service()?;
    let jpeg = transfer::download::small(&service, &found.poster_id, MAX_POSTER_BYTES).await?;
    if media::sniff_bytes(&jpeg) != "image/jpeg" {
        return Err(Error::Protocol("the poster is not a JPEG".into()));
    }
    keep(shared, thumbnail_path(shared, &found.file_id), jpeg).await
}

/// The thumbnail, made from the original when missing.
async fn thumbnail(
    shared: &Shared,
    asked: Asked,
    found: &Attachment,
    source: Option<String>,
) -> Result<Media> {
    if let Some(kept) = kept_thumbnail(shared, asked, found, Size::Large).await? {
        return Ok(kept);
    }
    let own = own_thumbnail(shared, asked.local_id);
    let by_file = (!found.file_id.is_empty()).then(|| thumbnail_path(shared, &found.file_id));
    let held_here = source.is_some();
    if !held_here && !auto_download(found.size) {
        // Every recipient would fetch it whole just to draw a bubble: the preview stays until
        // the user opens the picture.
        return Err(Error::Invalid(format!(
            "a {}-byte picture is only downloaded when opened",
            found.size
        )));
    }
    let original = original(shared, asked, found, source).await?;
    let jpeg = pictures::thumbnail(original.path).await?;
    // An own picture not uploaded yet has no file id: its thumbnail is kept as its own.
    keep(shared, by_file.unwrap_or(own), jpeg).await
}

/// Keeps a thumbnail's JPEG at `path` in the media folder.
async fn keep(shared: &Shared, path: PathBuf, jpeg: Vec<u8>) -> Result<Media> {
    write(&path, jpeg).await?;
    record(shared, &path).await?;
    Ok(jpeg_at(path))
}

/// Writes a file whole, creating its folder: a reader sees the old file or the new one, never
/// half of one (two requests may make the same thumbnail at once).
async fn write(path: &Path, bytes: Vec<u8>) -> Result<()> {
    if let Some(folder) = path.parent() {
        tokio::fs::create_dir_all(folder).await?;
    }
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(format!(".{}.tmp", Uuid::now_v7()));
    tokio::fs::write(&temporary, bytes).await?;
    tokio::fs::rename(&temporary, path).await?;
    Ok(())
}

/// Notes a use of a cached file and evicts the least recently used past the cap.
async fn record(shared: &Shared, path: &Path) -> Result<()> {
    let media_root = root(shared);
    if !path.starts_with(&media_root) {
        return Ok(()); // a source on this device: not ours to evict
    }
    let bytes = tokio::fs::metadata(path).await?.len();
    let (key, cap) = (
        path.to_string_lossy().into_owned(),
        shared.config.media_cache_bytes,
    );
    let evicted = shared
        .store
        .call(move |conn| {
            store::media::used(conn, &key, bytes, now_ms())?;
            store::media::evict(conn, cap)
        })
        .await?;
    for path in evicted {
        let path = PathBuf::from(path);
        if path.starts_with(&media_root) {
            let _ = tokio::fs::remove_file(&path).await;
        }
    }
    Ok(())
}
