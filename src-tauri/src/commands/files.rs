//! Files: choosing them (dialog, drop, paste) into the staging sheet, sending what is staged,
//! and opening, revealing, saving or copying a message's file. One-liners over `flint_core::Client`
//! and the native plugins; paths stay in the shell.

use flint_proto::ipc::{StagedFile, Toward};
use flint_proto::{ErrorBody, ErrorCode};
use tauri::ipc::{InvokeBody, Request};
use tauri::{AppHandle, State};
use tauri_plugin_dialog::DialogExt;
use tauri_plugin_opener::OpenerExt;

use crate::staging;
use crate::state::{ipc, Desktop};

/// Largest picture pasted at once.
const MAX_PASTED_BYTES: usize = 64 << 20;

fn failed(code: ErrorCode, message: impl Into<String>) -> ErrorBody {
    ErrorBody::new(code, message.into())
}

fn internal(error: impl ToString) -> ErrorBody {
    failed(ErrorCode::Internal, error.to_string())
}

/// A message's file on this device, downloaded first when needed.
async fn local_file(desktop: &Desktop, local_id: i64) -> Result<std::path::PathBuf, ErrorBody> {
    ipc(desktop.client().await?.download_file(local_id).await)
}

/// Opens the native file dialog; the files chosen join the staged ones.
#[tauri::command]
pub async fn pick_files(
    app: AppHandle,
    desktop: State<'_, Desktop>,
) -> Result<Vec<StagedFile>, ErrorBody> {
    let picked = tauri::async_runtime::spawn_blocking(move || {
        let paths = app
            .dialog()
            .file()
            .blocking_pick_files()
            .unwrap_or_default();
        staging::inspect(
            paths
                .into_iter()
                .filter_map(|p| p.into_path().ok())
                .collect(),
        )
    })
    .await
    .map_err(internal)?;
    Ok(desktop.staging.add(picked))
}

/// The staged files.
#[tauri::command]
pub fn staged_files(desktop: State<'_, Desktop>) -> Vec<StagedFile> {
    desktop.staging.list()
}

/// Drops one staged file.
#[tauri::command]
pub fn unstage(desktop: State<'_, Desktop>, index: u32) -> Vec<StagedFile> {
    desktop.staging.remove(index)
}

/// Drops every staged file.
#[tauri::command]
pub fn clear_staged(desktop: State<'_, Desktop>) {
    desktop.staging.take();
}

/// Sends every staged file to a conversation, in order. A file that cannot be sent (empty,
/// gone, unreadable) stays staged, and the first such refusal is the answer; the others go.
#[tauri::command]
pub async fn send_staged(
    desktop: State<'_, Desktop>,
    conversation_id: i64,
) -> Result<(), ErrorBody> {
    let client = desktop.client().await?;
    let (mut kept, mut refusal) = (Vec::new(), None);
    for path in desktop.staging.take() {
        if let Err(error) = client.send_file(conversation_id, &path).await {
            refusal.get_or_insert(error);
            kept.push(path);
        }
    }
    if !kept.is_empty() {
        let inspected = tauri::async_runtime::spawn_blocking(move || staging::inspect(kept))
            .await
            .map_err(internal)?;
        desktop.staging.add(inspected);
    }
    refusal.map_or(Ok(()), |error| Err(error.to_body()))
}

/// Stages a pasted picture: its bytes are the request's raw body, its name the
/// `flint-name` header.
#[tauri::command]
pub async fn stage_pasted(
    desktop: State<'_, Desktop>,
    request: Request<'_>,
) -> Result<Vec<StagedFile>, ErrorBody> {
    let InvokeBody::Raw(bytes) = request.body() else {
        return Err(failed(ErrorCode::BadRequest, "a paste sends raw bytes"));
    };
    if bytes.is_empty() || bytes.len() > MAX_PASTED_BYTES {
        return Err(failed(
            ErrorCode::TooLarge,
            "a pasted picture is 1 byte to 64 MiB",
        ));
    }
    let name = request
        .headers()
        .get("flint-name")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("pasted.png");
    let client = desktop.client().await?;
    let path = ipc(client.keep_pasted(name, bytes.clone()).await)?;
    let inspected = tauri::async_runtime::spawn_blocking(move || staging::inspect(vec![path]))
        .await
        .map_err(internal)?;
    Ok(desktop.staging.add(inspected))
}

/// Stops the upload of an own message's file.
#[tauri::command]
pub async fn cancel_upload(desktop: State<'_, Desktop>, local_id: i64) -> Result<(), ErrorBody> {
    ipc(desktop.client().await?.cancel_upload(local_id).await)
}

/// Stops the download of a message's file; what arrived is kept for the next try.
#[tauri::command]
pub async fn cancel_download(desktop: State<'_, Desktop>, local_id: i64) -> Result<(), ErrorBody> {
    ipc(desktop.client().await?.cancel_download(local_id).await)
}

/// The picture before or after a message's in its conversation (the viewer's ← and →).
#[tauri::command]
pub async fn neighbour_picture(
    desktop: State<'_, Desktop>,
    local_id: i64,
    toward: Toward,
) -> Result<Option<i64>, ErrorBody> {
    ipc(desktop
        .client()
        .await?
        .neighbour_picture(local_id, toward)
        .await)
}

/// Names the system would run rather than open (a sender chooses the name): such files are
/// shown in their folder instead.
fn runs_when_opened(name: &str) -> bool {
    const RISKY: &[&str] = &[
        "exe", "com", "bat", "cmd", "msi", "msp", "scr", "pif", "cpl", "ps1", "vbs", "vbe", "js",
        "jse", "wsf", "wsh", "hta", "lnk", "jar", "reg", "desktop", "sh", "run", "appimage",
        "command", "app", "pkg", "dmg",
    ];
    name.rsplit_once('.')
        .is_some_and(|(_, ext)| RISKY.contains(&ext.to_ascii_lowercase().as_str()))
}

/// Opens a message's file with the system's application for it (downloading it first); a file
/// the system would run instead is shown in its folder.
#[tauri::command]
pub async fn open_file(
    app: AppHandle,
    desktop: State<'_, Desktop>,
    local_id: i64,
) -> Result<(), ErrorBody> {
    let path = local_file(&desktop, local_id).await?;
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    if name.as_deref().is_some_and(runs_when_opened) {
        return app.opener().reveal_item_in_dir(path).map_err(internal);
    }
    app.opener()
        .open_path(path.to_string_lossy(), None::<&str>)
        .map_err(internal)
}

/// Shows a message's file in the system's file manager (downloading it first).
#[tauri::command]
pub async fn show_in_folder(
    app: AppHandle,
    desktop: State<'_, Desktop>,
    local_id: i64,
) -> Result<(), ErrorBody> {
    let path = local_file(&desktop, local_id).await?;
    app.opener().reveal_item_in_dir(path).map_err(internal)
}

/// Saves a copy of a message's file where the user chooses; false when they cancelled.
#[tauri::command]
pub async fn save_file_as(
    app: AppHandle,
    desktop: State<'_, Desktop>,
    local_id: i64,
) -> Result<bool, ErrorBody> {
    let path = local_file(&desktop, local_id).await?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let chosen = tauri::async_runtime::spawn_blocking(move || {
        app.dialog().file().set_file_name(name).blocking_save_file()
    })
    .await
    .map_err(internal)?;
    let Some(target) = chosen.and_then(|p| p.into_path().ok()) else {
        return Ok(false);
    };
    tokio::fs::copy(&path, &target).await.map_err(internal)?;
    Ok(true)
}

/// Copies a message's picture to the clipboard, turned as shown (downloading it first).
#[tauri::command]
pub async fn copy_picture(desktop: State<'_, Desktop>, local_id: i64) -> Result<(), ErrorBody> {
    let pixels = ipc(desktop.client().await?.picture_pixels(local_id).await)?;
    desktop.clipboard.put_picture(pixels).await
}

#[cfg(test)]
mod tests {
    use super::runs_when_opened;

    #[test]
    fn programs_are_shown_not_run() {
        for name in [
            "invoice.pdf.exe",
            "SETUP.MSI",
            "x.desktop",
            "run.sh",
            "a.lnk",
        ] {
            assert!(runs_when_opened(name), "{name}");
        }
        for name in ["季度报告.pdf", "photo.jpg", "notes", "archive.tar.gz"] {
            assert!(!runs_when_opened(name), "{name}");
        }
    }
}
