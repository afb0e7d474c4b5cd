//! The tray icon: total unread in its tooltip, and a menu (Linux trays often report no clicks,
//! so "Open Flint" is a menu item as well as a left click).

use tauri::menu::{Menu, MenuItem};
use tauri::tray::{MouseButton, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Manager, Window, WindowEvent};

use crate::state::Desktop;

const TRAY_ID: &str = "flint";

/// Creates the tray icon.
pub fn create(app: &AppHandle) -> tauri::Result<()> {
    let open = MenuItem::with_id(app, "open", "Open Flint / 打开 Flint", true, None::<&str>)?;
    let updates = MenuItem::with_id(
        app,
        "updates",
        "Check for updates… / 检查更新…",
        true,
        None::<&str>,
    )?;
    let quit = MenuItem::with_id(app, "quit", "Quit / 退出", true, None::<&str>)?;
    let menu = Menu::with_items(app, &[&open, &updates, &quit])?;
    let mut builder = TrayIconBuilder::with_id(TRAY_ID)
        .tooltip("Flint")
        .menu(&menu)
        .on_menu_event(|app, event| match event.id().as_ref() {
            "open" => show_main(app),
            "updates" => crate::updates::check_in_background(app, true),
            "quit" => app.exit(0),
            _ => {}
        })
        .on_tray_icon_event(|tray, event| {
            if let TrayIconEvent::Click {
                button: MouseButton::Left,
                ..
            } = event
            {
                show_main(tray.app_handle());
            }
        });
    if let Some(icon) = app.default_window_icon() {
        builder = builder.icon(icon.clone());
    }
    builder.build(app)?;
    Ok(())
}

/// With "close to tray" on and a tray icon present, closing the main window hides it.
pub fn hide_on_close(window: &Window, event: &WindowEvent) {
    let WindowEvent::CloseRequested { api, .. } = event else {
        return;
    };
    let app = window.app_handle();
    let to_tray = app.state::<Desktop>().preferences().close_to_tray;
    if to_tray && app.tray_by_id(TRAY_ID).is_some() {
        api.prevent_close();
        let _ = window.hide();
    }
}

/// Brings the main window to the front.
pub fn show_main(app: &AppHandle) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.unminimize();
        let _ = window.show();
        let _ = window.set_focus();
    }
}

/// Puts the total unread count in the tooltip and window title.
pub fn show_unread(app: &AppHandle, unread: u32) {
    let label = if unread == 0 {
        "Flint".to_owned()
    } else {
        format!("Flint ({unread})")
    };
    if let Some(tray) = app.tray_by_id(TRAY_ID) {
        let _ = tray.set_tooltip(Some(&label));
    }
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.set_title(&label);
    }
}
