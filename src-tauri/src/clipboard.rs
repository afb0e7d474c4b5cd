//! The system clipboard, for copying a picture. On Linux the copying app serves what it put
//! on the clipboard for as long as it runs, so one handle lives as long as the app does;
//! every use runs on a blocking thread (X11 round trips, PNG encoding).

use std::sync::{Arc, Mutex, PoisonError};

use flint_core::media::Pixels;
use flint_proto::{ErrorBody, ErrorCode};

/// The app's clipboard handle, opened at the first copy.
#[derive(Default)]
pub struct Clipboard {
    handle: Arc<Mutex<Option<arboard::Clipboard>>>,
}

impl Clipboard {
    /// Puts a picture on the clipboard, replacing what was there.
    pub async fn put_picture(&self, pixels: Pixels) -> Result<(), ErrorBody> {
        let handle = Arc::clone(&self.handle);
        tauri::async_runtime::spawn_blocking(move || {
            let mut handle = handle.lock().unwrap_or_else(PoisonError::into_inner);
            if handle.is_none() {
                *handle = Some(arboard::Clipboard::new().map_err(clipboard_failed)?);
            }
            let Some(clipboard) = handle.as_mut() else {
                return Err(clipboard_failed("no clipboard"));
            };
            clipboard
                .set_image(arboard::ImageData {
                    width: pixels.width as usize,
                    height: pixels.height as usize,
                    bytes: pixels.rgba.into(),
                })
                .map_err(clipboard_failed)
        })
        .await
        .map_err(clipboard_failed)?
    }
}

fn clipboard_failed(error: impl ToString) -> ErrorBody {
    ErrorBody::new(ErrorCode::Internal, error.to_string())
}
