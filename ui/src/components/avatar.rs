//! A round avatar with initials, coloured from the name so people are told apart at a glance.

use leptos::prelude::*;

const PALETTE: [&str; 6] = ["a1", "a2", "a3", "a4", "a5", "a6"];

fn is_cjk(c: char) -> bool {
    c as u32 >= 0x2E80
}

/// Initials as Chinese desktop apps draw them: the last two characters of an all-CJK name
/// (张伟 → 张伟, 欧阳娜娜 → 娜娜), the first CJK character of a mixed one, else the first
/// letters of up to two words.
pub fn initials(name: &str) -> String {
    let name = name.trim();
    let cjk: Vec<char> = name.chars().filter(|c| is_cjk(*c)).collect();
    if !cjk.is_empty() && cjk.len() == name.chars().filter(|c| !c.is_whitespace()).count() {
        return cjk[cjk.len().saturating_sub(2)..].iter().collect();
    }
    if let Some(first) = cjk.first() {
        return first.to_string();
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
