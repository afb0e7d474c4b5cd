//! `flint://` links (registered by the installers): `flint://conversation/<id>` opens that
//! conversation; any other `flint://` link brings Flint to the front.

use tauri::{AppHandle, Emitter, Manager};
use tauri_plugin_deep_link::DeepLinkExt;
use url::Url;

use crate::events::EVENT;
use crate::state::Desktop;
use crate::tray;

/// Handles the link Flint was started with and every link opened while it runs.
pub fn listen(app: &AppHandle) {
    let handle = app.clone();
    app.deep_link().on_open_url(move |event| {
        for url in event.urls() {
            open(&handle, &url);
        }
    });
    if let Ok(Some(urls)) = app.deep_link().get_current() {
        for url in urls {
            open(app, &url);
        }
    }
}

fn open(app: &AppHandle, url: &Url) {
    tracing::info!(%url, "flint:// link");
    tray::show_main(app);
    if let Some(conversation_id) = conversation_id(url) {
        open_conversation(app, conversation_id);
    }
}

/// Asks the UI to open a conversation: now if it listens, or when it next asks
/// (`take_pending_open`) if it is still starting or signing in.
pub fn open_conversation(app: &AppHandle, conversation_id: i64) {
    app.state::<Desktop>().request_open(conversation_id);
    let _ = app.emit(EVENT, &flint_core::Event::OpenRequested { conversation_id });
}

/// The conversation a `flint://conversation/<id>` link names.
fn conversation_id(url: &Url) -> Option<i64> {
    if url.scheme() != "flint" || url.host_str() != Some("conversation") {
        return None;
    }
    url.path_segments()?.next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn only_conversation_links_name_a_conversation() {
        let parse = |text: &str| conversation_id(&Url::parse(text).unwrap());
        assert_eq!(parse("flint://conversation/42"), Some(42));
        assert_eq!(parse("flint://conversation/x"), None);
        assert_eq!(parse("flint://open"), None);
        assert_eq!(parse("https://conversation/42"), None);
    }
}
