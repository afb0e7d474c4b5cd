//! Flint's desktop UI: Leptos CSR in the Tauri webview. It renders state and sends intents;
//! every call to the app goes through `ipc`.

mod app;
mod components;
mod i18n;
mod ipc;
mod routes;
mod sizes;
mod state;
mod time;

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(app::App);
}
