//! How the window's web view draws. WebKitGTK composites with the GPU by default; Flint turns
//! that off unless the profile asks for it (`Preferences::hardware_acceleration`): a chat window
//! gains little from it, and it costs tens of MiB per window — all of it in RAM where the GL
//! driver is software (Mesa's llvmpipe). docs/BENCHMARKS.md has the figures.
//! WebView2 (Windows) and WKWebView (macOS) manage the GPU themselves and are left alone.

use tauri::AppHandle;

/// Applies the profile's rendering preference to the main window's web view.
#[cfg(target_os = "linux")]
pub fn apply(app: &AppHandle, hardware_acceleration: bool) {
    use tauri::Manager;
    use webkit2gtk::{HardwareAccelerationPolicy, SettingsExt, WebViewExt};

    if hardware_acceleration {
        return; // WebKitGTK's own default (which also honours WEBKIT_DISABLE_COMPOSITING_MODE).
    }
    let Some(window) = app.get_webview_window("main") else {
        return;
    };
    let applied = window.with_webview(|webview| {
        if let Some(settings) = webview.inner().settings() {
            settings.set_hardware_acceleration_policy(HardwareAccelerationPolicy::Never);
        }
    });
    if let Err(error) = applied {
        tracing::warn!(%error, "could not turn GPU compositing off");
    }
}

/// Applies the profile's rendering preference (nothing to do on this platform).
#[cfg(not(target_os = "linux"))]
pub fn apply(_app: &AppHandle, _hardware_acceleration: bool) {}
