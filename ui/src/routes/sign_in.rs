//! Sign in or create an account.

use flint_proto::api::User;
use flint_proto::{ErrorBody, ErrorCode};
use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::i18n::{use_tr, Locale};
use crate::ipc;

/// The error text for a failed sign-in (matched on the code, never the message).
fn error_key(error: &ErrorBody) -> &'static str {
    match error.code {
        ErrorCode::InvalidCredentials => "error.invalid_credentials",
        ErrorCode::Conflict => "error.conflict",
        ErrorCode::Unavailable => "error.unavailable",
        ErrorCode::RegistrationClosed => "error.registration_closed",
        ErrorCode::BadRequest => "error.bad_request",
        ErrorCode::RateLimited => "error.rate_limited",
        ErrorCode::InsecureTransport => "error.insecure",
        _ => "error.other",
    }
}

/// The error as the form shows it: its words, and the wait for a rate limit.
fn error_text(error: &ErrorBody, tr: impl Fn(&'static str) -> &'static str) -> String {
    let words = tr(error_key(error));
    match error.retry_after_ms {
        Some(ms) if error.code == ErrorCode::RateLimited => {
            format!("{words} ({}s)", ms.div_ceil(1000).max(1))
        }
        _ => words.to_owned(),
    }
}

/// The sign-in screen.
#[component]
pub fn SignIn() -> impl IntoView {
    let tr = use_tr();
    let me = expect_context::<RwSignal<Option<User>>>();
    let locale = expect_context::<RwSignal<Locale>>();
    let server = RwSignal::new(String::new());
    let username = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let display_name = RwSignal::new(String::new());
    let registering = RwSignal::new(false);
    let allow_insecure = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let error: RwSignal<Option<ErrorBody>> = RwSignal::new(None);
    // The insecure-connection switch is offered once the server refused plain http (or the
    // user turned it on).
    let offer_insecure = move || {
        allow_insecure.get()
            || error.with(|e| {
                e.as_ref()
                    .is_some_and(|e| e.code == ErrorCode::InsecureTransport)
            })
    };

    // Pre-fill the server and reopen the last session if there is one.
    spawn_local(async move {
        let url = ipc::default_server_url().await.unwrap_or_default();
        server.set(url.clone());
        if let Ok(Some(user)) = ipc::resume(&url).await {
            me.set(Some(user));
        }
    });

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if busy.get_untracked() {
            return;
        }
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            let (url, user, pass, name) = (
                server.get_untracked(),
                username.get_untracked(),
                password.get_untracked(),
                display_name.get_untracked(),
            );
            let args = ipc::SignInArgs {
                server_url: &url,
                username: &user,
                password: &pass,
                display_name: &name,
                allow_insecure: allow_insecure.get_untracked(),
            };
            let result = if registering.get_untracked() {
                ipc::register(&args).await
            } else {
                ipc::sign_in(&args).await
            };
            busy.set(false);
            match result {
                Ok(user) => me.set(Some(user)),
                Err(e) => error.set(Some(e)),
            }
        });
    };

    view! {
        <main class="signin">
            <button class="lang-switch" type="button" id="lang-switch"
                on:click=move |_| locale.update(|l| *l = l.toggled())>{move || tr("nav.language")}</button>
            <form class="signin-card" on:submit=submit>
                <img class="logo" src="icon.png" alt="Flint"/>
                <h1>{move || if registering.get() { tr("signin.register_title") } else { tr("signin.title") }}</h1>
                <p class="tagline">{move || tr("app.tagline")}</p>
                <label>{move || tr("signin.server")}
                    <input id="server" type="url" required prop:value=server
                        on:input=move |ev| server.set(event_target_value(&ev))/>
                </label>
                <label>{move || tr("signin.username")}
                    <input id="username" autocomplete="username" required prop:value=username
                        on:input=move |ev| username.set(event_target_value(&ev))/>
                </label>
                <label>{move || tr("signin.password")}
                    <input id="password" type="password" required prop:value=password
                        autocomplete=move || if registering.get() { "new-password" } else { "current-password" }
                        on:input=move |ev| password.set(event_target_value(&ev))/>
                </label>
                <Show when=move || registering.get()>
                    <label>{move || tr("signin.display_name")}
                        <input id="display-name" prop:value=display_name
                            on:input=move |ev| display_name.set(event_target_value(&ev))/>
                    </label>
                </Show>
                <Show when=offer_insecure>
                    <label class="setting insecure">
                        <input type="checkbox" id="allow-insecure" prop:checked=move || allow_insecure.get()
                            on:change=move |_| allow_insecure.update(|a| *a = !*a)/>
                        <span>{move || tr("signin.allow_insecure")}</span>
                    </label>
                </Show>
                <Show when=move || error.get().is_some()>
                    <p class="form-error" role="alert" id="signin-error"
                        title=move || error.get().map(|e| e.message).unwrap_or_default()>
                        {move || error.get().map(|e| error_text(&e, tr)).unwrap_or_default()}
                    </p>
                </Show>
                <button id="submit" class="primary" type="submit" disabled=move || busy.get()>
                    {move || if busy.get() { tr("signin.working") }
                        else if registering.get() { tr("signin.register") } else { tr("signin.submit") }}
                </button>
                <button id="toggle-mode" class="link" type="button"
                    on:click=move |_| { registering.update(|r| *r = !*r); error.set(None); }>
                    {move || if registering.get() { tr("signin.to_signin") } else { tr("signin.to_register") }}
                </button>
            </form>
        </main>
    }
}
