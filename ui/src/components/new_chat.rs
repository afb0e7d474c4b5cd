//! Start a chat: search people; pick one for a direct chat, or several plus a name for a group.

use flint_proto::api::User;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_icons::Icon;

use crate::components::avatar::Avatar;
use crate::i18n::use_tr;
use crate::ipc;
use crate::state::Live;

/// The panel.
#[component]
pub fn NewChat() -> impl IntoView {
    let tr = use_tr();
    let live = expect_context::<Live>();
    let query = RwSignal::new(String::new());
    let results: RwSignal<Vec<User>> = RwSignal::new(Vec::new());
    let picked: RwSignal<Vec<User>> = RwSignal::new(Vec::new());
    let group_name = RwSignal::new(String::new());
    let searched = RwSignal::new(false);
    let search = move |ev| {
        let q = event_target_value(&ev);
        query.set(q.clone());
        if q.trim().is_empty() {
            results.set(Vec::new());
            searched.set(false);
            return;
        }
        spawn_local(async move {
            let found = ipc::search_users(&q).await.unwrap_or_default();
            if query.get_untracked() == q {
                results.set(found);
                searched.set(true);
            }
        });
    };
    let open_direct = move |user: User| {
        spawn_local(async move {
            if let Ok(conversation) = ipc::open_direct(user.id).await {
                live.new_chat.set(false);
                live.open(conversation.id);
            }
        });
    };
    let create_group = move |_| {
        let ids: Vec<i64> = picked.get_untracked().iter().map(|u| u.id).collect();
        let name = group_name.get_untracked();
        spawn_local(async move {
            if let Ok(conversation) = ipc::create_group(&name, &ids).await {
                live.new_chat.set(false);
                live.open(conversation.id);
            }
        });
    };
    view! {
        <div class="overlay" on:click=move |_| live.new_chat.set(false)>
            <div class="panel" role="dialog" aria-modal="true" aria-label=move || tr("new.title")
                on:click=|ev| ev.stop_propagation()>
                <header class="panel-head">
                    <h2>{move || tr("new.title")}</h2>
                    <button class="icon-btn" title=move || tr("new.close") aria-label=move || tr("new.close")
                        on:click=move |_| live.new_chat.set(false)><Icon icon=icondata::LuX/></button>
                </header>
                <input id="user-search" class="search" type="search" autofocus placeholder=move || tr("new.search")
                    prop:value=query on:input=search/>
                <ul class="people">
                    <For each=move || results.get() key=|u| u.id children=move |user| {
                        let name = user.display_name.clone();
                        let for_click = user.clone();
                        let for_pick = user.clone();
                        let id = user.id;
                        view! {
                            <li class="user-result" data-username=user.username.clone()>
                                <button class="person" on:click=move |_| open_direct(for_click.clone())>
                                    <Avatar name=Signal::derive(move || name.clone())/>
                                    <span>{user.display_name.clone()}</span>
                                    <span class="muted-text">"@"{user.username.clone()}</span>
                                </button>
                                <input type="checkbox" aria-label="+"
                                    prop:checked=move || picked.with(|p| p.iter().any(|u| u.id == id))
                                    on:change=move |_| picked.update(|p| {
                                        match p.iter().position(|u| u.id == id) {
                                            Some(i) => { p.remove(i); }
                                            None => p.push(for_pick.clone()),
                                        }
                                    })/>
                            </li>
                        }
                    }/>
                </ul>
                <Show when=move || searched.get() && results.with(Vec::is_empty)>
                    <p class="muted-text">{move || tr("new.none")}</p>
                </Show>
                <Show when=move || !picked.with(Vec::is_empty)>
                    <div class="group-form">
                        <input id="group-name" placeholder=move || tr("new.group_name") prop:value=group_name
                            on:input=move |ev| group_name.set(event_target_value(&ev))/>
                        <button id="create-group" class="primary" on:click=create_group
                            disabled=move || group_name.with(|n| n.trim().is_empty())>{move || tr("new.create_group")}</button>
                    </div>
                </Show>
            </div>
        </div>
    }
}
