//! The problem line: what went wrong with the user's last action, over the window's bottom
//! edge, announced to screen readers, until dismissed or a few seconds have passed.

use std::time::Duration;

use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_icons::Icon;

use crate::i18n::use_tr;
use crate::ipc;
use crate::state::problem::{file_problem, FileAction};
use crate::state::Live;

/// How long a problem stays on screen.
const SHOWN_FOR: Duration = Duration::from_secs(8);

/// Runs an action on a message's file; a failure becomes the problem line.
pub fn run_file_action(live: Live, action: FileAction, local_id: i64) {
    spawn_local(async move {
        file_action(live, action, local_id).await;
    });
}

/// Does an action on a message's file; a failure becomes the problem line. True when it was
/// done.
pub async fn file_action(live: Live, action: FileAction, local_id: i64) -> bool {
    let result = match action {
        FileAction::Open => ipc::open_file(local_id).await,
        FileAction::Reveal => ipc::show_in_folder(local_id).await,
        FileAction::Save => ipc::save_file_as(local_id).await.map(|_| ()),
        FileAction::Copy => ipc::copy_picture(local_id).await,
    };
    let Err(error) = result else {
        return true;
    };
    if let Some(key) = file_problem(action, error.code) {
        if live.is_alive() {
            live.problem.set(Some(key));
        }
    }
    false
}

/// The problem line, shown while there is a problem.
#[component]
pub fn ProblemLine() -> impl IntoView {
    let tr = use_tr();
    let live = expect_context::<Live>();
    // Each problem clears itself, unless a newer one took its place.
    Effect::new(move |_| {
        if let Some(key) = live.problem.get() {
            set_timeout(
                move || {
                    if live.problem.try_get_untracked() == Some(Some(key)) {
                        live.problem.set(None);
                    }
                },
                SHOWN_FOR,
            );
        }
    });
    view! {
        <div class="problem-region" role="alert" aria-live="assertive">
            {move || live.problem.get().map(|key| view! {
                <div class="problem">
                    <span class="problem-text">{tr(key)}</span>
                    <button class="icon-btn" aria-label=tr("problem.dismiss") title=tr("problem.dismiss")
                        on:click=move |_| live.problem.set(None)><Icon icon=icondata::LuX/></button>
                </div>
            })}
        </div>
    }
}
