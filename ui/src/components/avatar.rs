//! A round avatar with initials, coloured from the name so people are told apart at a glance.

use leptos::prelude::*;

const PALETTE: [&str; 6] = ["a1", "a2", "a3", "a4", "a5", "a6"];

/// The first letter (or CJK character) of each of up to two words; for CJK names, the last
/// character (how Chinese apps abbreviate names).
pub fn initials(name: &str) -> String {
    let name = name.trim();
    let is_cjk = name.chars().any(|c| c as u32 >= 0x2E80);
    if is_cjk {
        return name.chars().last().map(String::from).unwrap_or_default();
    }
    name.split_whitespace()
        .take(2)
        .filter_map(|w| w.chars().next())
        .flat_map(char::to_uppercase)
        .collect()
}

/// The avatar.
#[component]
pub fn Avatar(#[prop(into)] name: Signal<String>, #[prop(optional)] large: bool) -> impl IntoView {
    let class = move || {
        let name = name.get();
        let hue = name
            .bytes()
            .fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(b as usize));
        let size = if large { " avatar-lg" } else { "" };
        format!("avatar {}{size}", PALETTE[hue % PALETTE.len()])
    };
    view! { <div class=class aria-hidden="true">{move || initials(&name.get())}</div> }
}
