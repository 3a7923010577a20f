//! The field people type a second-factor code into.

use leptos::prelude::*;

/// A labelled code field. `numeric` brings up the digit keypad on phones; a recovery code
/// needs letters, so the prompt turns it off when one is expected.
#[component]
pub fn CodeInput(
    id: &'static str,
    label: &'static str,
    #[prop(into)] numeric: Signal<bool>,
    #[prop(optional)] describedby: &'static str,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input
                id=id
                name="code"
                type="text"
                class="code-input"
                inputmode=move || if numeric.get() { "numeric" } else { "text" }
                autocomplete="one-time-code"
                autocapitalize="characters"
                spellcheck="false"
                required
                maxlength="40"
                aria-describedby=describedby
            />
        </div>
    }
}
