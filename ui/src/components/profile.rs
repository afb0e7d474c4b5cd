//! My profile and this profile's settings: who I am, language, theme, close to tray, GPU.

use flint_proto::api::{Device, User};
use flint_proto::ipc::Preferences;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_icons::Icon;

use crate::app::Dark;
use crate::components::avatar::Avatar;
use crate::i18n::{use_tr, Locale};
use crate::ipc;
use crate::state::Live;
use crate::time;

/// The panel.
#[component]
pub fn ProfilePanel() -> impl IntoView {
    let tr = use_tr();
    let live = expect_context::<Live>();
    let me = expect_context::<RwSignal<Option<User>>>();
    let locale = expect_context::<RwSignal<Locale>>();
    let Dark(dark) = expect_context::<Dark>();
    let preferences: RwSignal<Option<Preferences>> = RwSignal::new(None);
    spawn_local(async move {
        if let Ok(saved) = ipc::preferences().await {
            preferences.set(Some(saved));
        }
    });
    let user = move |read: fn(&User) -> String| {
        move || me.with(|u| u.as_ref().map(read).unwrap_or_default())
    };
    let name = Signal::derive(user(|u| u.display_name.clone()));
    let close = move |_| live.profile.set(false);
    view! {
        <div class="overlay" on:click=close>
            <div class="panel profile" role="dialog" aria-modal="true" aria-label=move || tr("profile.title")
                on:click=|ev| ev.stop_propagation()>
                <header class="panel-head">
                    <h2>{move || tr("profile.title")}</h2>
                    <button class="icon-btn" title=move || tr("new.close") aria-label=move || tr("new.close")
                        on:click=close><Icon icon=icondata::LuX/></button>
                </header>
                <div class="profile-card">
                    <Avatar name=name/>
                    <div>
                        <div class="profile-name" id="profile-name">{move || name.get()}</div>
                        <dl class="profile-facts">
                            <dt>{move || tr("profile.username")}</dt>
                            <dd id="profile-username">"@"{user(|u| u.username.clone())}</dd>
                            <dt>{move || tr("profile.id")}</dt>
                            <dd>{user(|u| u.id.to_string())}</dd>
                        </dl>
                    </div>
                </div>
                <h3 class="section-title">{move || tr("profile.settings")}</h3>
                <label class="setting">
                    <span>{move || tr("profile.language")}</span>
                    <select id="language" on:change=move |ev| {
                        locale.set(if event_target_value(&ev) == "zh" { Locale::Zh } else { Locale::En });
                    }>
                        <option value="zh" selected=move || locale.get() == Locale::Zh>"简体中文"</option>
                        <option value="en" selected=move || locale.get() == Locale::En>"English"</option>
                    </select>
                </label>
                <label class="setting">
                    <span>{move || tr("profile.dark")}</span>
                    <input type="checkbox" id="dark-mode" prop:checked=move || dark.get()
                        on:change=move |_| dark.update(|d| *d = !*d)/>
                </label>
                <PreferenceSwitch preferences id="close-to-tray" label="profile.close_to_tray"
                    field=|p| &mut p.close_to_tray/>
                <PreferenceSwitch preferences id="hardware-acceleration"
                    label="profile.hardware_acceleration" field=|p| &mut p.hardware_acceleration/>
                <Devices/>
            </div>
        </div>
    }
}

/// One on/off preference of this profile, saved as soon as it is switched.
#[component]
fn PreferenceSwitch(
    /// The profile's preferences (`None` until loaded: the switch is disabled).
    preferences: RwSignal<Option<Preferences>>,
    /// The checkbox's element id.
    id: &'static str,
    /// The label's translation key.
    label: &'static str,
    /// The preference it switches.
    field: fn(&mut Preferences) -> &mut bool,
) -> impl IntoView {
    let tr = use_tr();
    let checked = move || preferences.get().is_some_and(|mut p| *field(&mut p));
    let toggle = move |_| {
        let Some(before) = preferences.get_untracked() else {
            return;
        };
        let mut changed = before;
        let value = field(&mut changed);
        *value = !*value;
        // Shown at once, so a second switch flipped before this one is saved builds on it.
        preferences.set(Some(changed));
        spawn_local(async move {
            if ipc::set_preferences(changed).await.is_err() {
                preferences.set(Some(before));
            }
        });
    };
    view! {
        <label class="setting">
            <span>{move || tr(label)}</span>
            <input type="checkbox" id=id prop:checked=checked
                disabled=move || preferences.with(Option::is_none) on:change=toggle/>
        </label>
    }
}

/// "My devices": every device signed in to this account; any other one can be signed out
/// (its connection closes within a second).
#[component]
fn Devices() -> impl IntoView {
    let tr = use_tr();
    let locale = expect_context::<RwSignal<Locale>>();
    let devices: RwSignal<Vec<Device>> = RwSignal::new(Vec::new());
    let load = move || {
        spawn_local(async move {
            if let Ok(list) = ipc::devices().await {
                devices.try_set(list);
            }
        });
    };
    load();
    let sign_out = move |device_id: String| {
        spawn_local(async move {
            if ipc::sign_out_device(&device_id).await.is_ok() {
                devices.try_update(|list| list.retain(|d| d.device_id != device_id));
            }
        });
    };
    view! {
        <h3 class="section-title">{move || tr("devices.title")}</h3>
        <ul class="devices" id="devices">
            <For each=move || devices.get() key=|d| (d.device_id.clone(), d.last_seen_ms) children=move |device| {
                let id = device.device_id.clone();
                let name = if device.device_name.is_empty() { device.device_id.clone() } else { device.device_name.clone() };
                let seen = device.last_seen_ms;
                let action = if device.current {
                    view! { <span class="role">{move || tr("devices.this")}</span> }.into_any()
                } else {
                    view! {
                        <button class="link sign-out-device" on:click=move |_| sign_out(id.clone())>
                            {move || tr("devices.sign_out")}
                        </button>
                    }.into_any()
                };
                view! {
                    <li class="device" data-device-id=device.device_id.clone()>
                        <div class="device-text">
                            <div class="device-name">{name}</div>
                            <div class="muted-text">{move || tr("devices.last_seen")}" "
                                {move || time::list_time(seen, locale.get() == Locale::Zh)}</div>
                        </div>
                        {action}
                    </li>
                }
            }/>
        </ul>
    }
}
