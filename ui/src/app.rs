//! The root: theme, language, and which screen (sign-in or the main window) is shown.

use flint_proto::api::User;
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::i18n::Locale;
use crate::ipc;
use crate::routes::{main_view::MainView, sign_in::SignIn};
use crate::state::EventRouter;

/// Whether dark mode is on.
#[derive(Clone, Copy)]
pub struct Dark(pub RwSignal<bool>);

fn prefers_dark() -> bool {
    web_sys::window()
        .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
        .map(|q| q.matches())
        .unwrap_or(false)
}

/// The whole UI.
#[component]
pub fn App() -> impl IntoView {
    let locale = RwSignal::new(Locale::detect());
    let dark = RwSignal::new(prefers_dark());
    let me: RwSignal<Option<User>> = RwSignal::new(None);
    provide_context(locale);
    provide_context(Dark(dark));
    provide_context(me);
    // One listener for the app's life: it hands events to whichever signed-in window is
    // mounted (none after a sign-out), so no closure outlives the state it writes to.
    let router = EventRouter::default();
    provide_context(router);
    spawn_local(async move {
        let _ = ipc::listen(move |event| router.deliver(event)).await;
    });
    Effect::new(move |_| {
        if let Some(root) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
        {
            let _ = root.set_attribute("data-theme", if dark.get() { "dark" } else { "light" });
            let lang = if locale.get() == Locale::Zh {
                "zh-CN"
            } else {
                "en"
            };
            let _ = root.set_attribute("lang", lang);
        }
    });
    view! {
        <Show when=move || me.get().is_some() fallback=|| view! { <SignIn/> }>
            <MainView/>
        </Show>
    }
}
