//! Flint's desktop shell: plugins, state, commands and the tray, wired over `flint-core`.
//! Business logic lives in the core; this crate only translates.

mod attention;
mod clipboard;
mod commands;
mod events;
mod links;
mod media;
mod notifications;
mod rendering;
mod staging;
mod state;
mod tray;
mod updates;

use std::path::PathBuf;

use tauri::Manager;
use tauri_plugin_window_state::StateFlags;

use crate::commands::{calls, chat, files, session, stickers, voice};
use crate::state::Desktop;

/// `--profile NAME` (or `FLINT_PROFILE_DIR` for tests) picks a separate data folder, so two
/// instances can run side by side.
fn profile_from_args() -> (Option<String>, Option<PathBuf>) {
    let args: Vec<String> = std::env::args().collect();
    let profile = args
        .iter()
        .position(|a| a == "--profile")
        .and_then(|i| args.get(i + 1).cloned());
    let dir = std::env::var_os("FLINT_PROFILE_DIR").map(PathBuf::from);
    (profile, dir)
}

/// Builds and runs the app.
pub fn run() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .try_init();
    let (profile, profile_dir) = profile_from_args();
    let mut builder = tauri::Builder::default();
    // One instance per profile: a second launch of the default profile focuses the first.
    if profile.is_none() && profile_dir.is_none() {
        builder = builder.plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
            tray::show_main(app);
        }));
    }
    let result = builder
        // Size and place are restored; visibility is not (a window hidden to the tray when
        // Flint quit must still open on the next launch).
        .plugin(
            tauri_plugin_window_state::Builder::default()
                .with_state_flags(StateFlags::all() & !StateFlags::VISIBLE)
                .build(),
        )
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_deep_link::init())
        .plugin(tauri_plugin_updater::Builder::new().build())
        .setup(move |app| {
            let base = app.path().app_data_dir()?;
            let data_dir = profile_dir.clone().unwrap_or_else(|| {
                base.join("profiles")
                    .join(profile.as_deref().unwrap_or("default"))
            });
            let desktop = Desktop::new(data_dir);
            rendering::apply(app.handle(), desktop.preferences().hardware_acceleration);
            app.manage(desktop);
            if let Err(error) = tray::create(app.handle()) {
                tracing::warn!(%error, "no tray icon on this desktop");
            }
            links::listen(app.handle());
            updates::check_in_background(app.handle(), false);
            Ok(())
        })
        .register_asynchronous_uri_scheme_protocol(media::SCHEME, media::handle)
        .on_window_event(|window, event| {
            tray::hide_on_close(window, event);
            staging::on_drop(window, event);
        })
        .invoke_handler(tauri::generate_handler![
            session::default_server_url,
            session::resume,
            session::sign_in,
            session::register,
            session::sign_out,
            session::connection_state,
            session::preferences,
            session::set_preferences,
            session::devices,
            session::sign_out_device,
            calls::start_call,
            calls::accept_call,
            calls::hang_up,
            calls::set_call_media,
            calls::current_call,
            voice::start_voice,
            voice::send_voice,
            voice::cancel_voice,
            stickers::stickers,
            stickers::add_sticker,
            stickers::remove_sticker,
            stickers::send_sticker,
            chat::conversations,
            chat::conversation,
            chat::messages,
            chat::messages_after,
            chat::send_text,
            chat::retry,
            chat::delete_failed,
            chat::mark_read,
            chat::set_draft,
            chat::draft,
            chat::typing,
            chat::search_users,
            chat::open_direct,
            chat::create_group,
            chat::members,
            chat::set_pinned,
            chat::set_muted,
            chat::focus_conversation,
            chat::take_pending_open,
            files::pick_files,
            files::staged_files,
            files::unstage,
            files::clear_staged,
            files::send_staged,
            files::stage_pasted,
            files::cancel_upload,
            files::cancel_download,
            files::open_file,
            files::show_in_folder,
            files::save_file_as,
            files::copy_picture,
            files::neighbour_picture,
        ])
        .run(tauri::generate_context!());
    if let Err(error) = result {
        eprintln!("flint: {error}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    /// The commands in `generate_handler!` and in `commands.txt` (which feeds the permission
    /// manifest and the capability file) are the same list.
    #[test]
    fn command_list_matches_the_handler() {
        let source = include_str!("lib.rs");
        let start = source.find("generate_handler![").unwrap();
        let end = source[start..].find(']').unwrap() + start;
        let mut handled: Vec<&str> = source[start..end]
            .split(',')
            .filter_map(|item| item.trim().rsplit("::").next())
            .filter(|name| !name.is_empty() && !name.contains('['))
            .collect();
        let mut listed: Vec<&str> = include_str!("../commands.txt").split_whitespace().collect();
        handled.sort_unstable();
        listed.sort_unstable();
        assert_eq!(handled, listed);
        let capability = include_str!("../capabilities/main.json");
        for name in listed {
            assert!(
                capability.contains(&format!("allow-{}", name.replace('_', "-"))),
                "{name}"
            );
        }
    }
}
