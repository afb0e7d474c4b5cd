//! Auto-update: check the release's `latest.json` at start and from the tray menu; install
//! only after the user confirms, then restart. Builds without an updater key and endpoint
//! (forks without secrets, development) leave it off. See docs/RELEASING.md.

use tauri::{AppHandle, Runtime};
use tauri_plugin_dialog::{DialogExt, MessageDialogButtons, MessageDialogKind};
use tauri_plugin_updater::UpdaterExt;

/// Whether this build was given an updater public key and an endpoint.
pub fn configured<R: Runtime>(app: &AppHandle<R>) -> bool {
    let config = app.config().plugins.0.get("updater");
    let has = |key: &str| {
        config
            .and_then(|c| c.get(key))
            .is_some_and(|value| match value {
                serde_json::Value::String(text) => !text.is_empty(),
                serde_json::Value::Array(items) => !items.is_empty(),
                _ => false,
            })
    };
    has("pubkey") && has("endpoints")
}

/// Checks for an update in the background. `asked` (from the menu) also reports "up to date"
/// and failures; the check at start stays silent unless there is an update.
pub fn check_in_background<R: Runtime>(app: &AppHandle<R>, asked: bool) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        if !configured(&app) {
            if asked {
                tell(
                    &app,
                    "Updates are not configured for this build.\n此版本未配置自动更新。",
                );
            }
            return;
        }
        if let Err(error) = check(&app, asked).await {
            tracing::warn!(%error, "update check failed");
            if asked {
                tell(
                    &app,
                    &format!("Could not check for updates: {error}\n检查更新失败。"),
                );
            }
        }
    });
}

async fn check<R: Runtime>(app: &AppHandle<R>, asked: bool) -> tauri_plugin_updater::Result<()> {
    let Some(update) = app.updater()?.check().await? else {
        if asked {
            tell(app, "Flint is up to date.\nFlint 已是最新版本。");
        }
        return Ok(());
    };
    let question = format!(
        "Flint {} is available (you have {}). Install it and restart now?\n\
         Flint {} 已发布，现在安装并重启吗？",
        update.version, update.current_version, update.version
    );
    let dialog = app
        .dialog()
        .message(question)
        .title("Flint")
        .kind(MessageDialogKind::Info)
        .buttons(MessageDialogButtons::OkCancelCustom(
            "Install and restart / 安装并重启".into(),
            "Later / 稍后".into(),
        ));
    let confirmed = tauri::async_runtime::spawn_blocking(move || dialog.blocking_show())
        .await
        .unwrap_or(false);
    if confirmed {
        update.download_and_install(|_, _| {}, || {}).await?;
        app.restart();
    }
    Ok(())
}

fn tell<R: Runtime>(app: &AppHandle<R>, text: &str) {
    app.dialog()
        .message(text)
        .title("Flint")
        .kind(MessageDialogKind::Info)
        .show(|_| {});
}
