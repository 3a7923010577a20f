//! The field people type a second-factor code into.

use leptos::prelude::*;

/// A labelled code field. `numeric` brings up the digit keypad on phones; a recovery code
/// needs letters, so the prompt turns it off when one is expected. With `auto_submit`, a
/// numeric field sends its form by itself once six digits are in and the form is valid,
/// and says so in a hint that screen readers read with the field.
#[component]
pub fn CodeInput(
    id: &'static str,
    label: &'static str,
    #[prop(into)] numeric: Signal<bool>,
    #[prop(optional)] describedby: &'static str,
    #[prop(optional)] auto_submit: bool,
    /// The form field's name; "code" unless a form holds two codes.
    #[prop(default = "code")]
    name: &'static str,
) -> impl IntoView {
    let hint_id = format!("{id}-hint");
    let submits_itself = move || auto_submit && numeric.get();
    let described = {
        let hint_id = hint_id.clone();
        move || {
            let mut ids = describedby.to_owned();
            if submits_itself() {
                ids.push(' ');
                ids.push_str(&hint_id);
            }
            ids.trim().to_owned()
        }
    };
    let on_input = move |ev: leptos::ev::Event| {
        if submits_itself() {
            browser::submit_when_complete(&ev);
        }
    };

    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input
                id=id
                name=name
                type="text"
                class="code-input"
                inputmode=move || if numeric.get() { "numeric" } else { "text" }
                autocomplete="one-time-code"
                autocapitalize="characters"
                spellcheck="false"
                required
                maxlength="40"
                aria-describedby=described
                on:input=on_input
            />
            <Show when=submits_itself>
                <p id=hint_id.clone() class="hint">"The code is sent as soon as you type the 6th digit."</p>
            </Show>
        </div>
    }
}

#[cfg(feature = "hydrate")]
mod browser {
    use wasm_bindgen::JsCast;

    /// Sends the field's form, through its normal submit handler, once the code is whole
    /// and every other required field is filled.
    pub fn submit_when_complete(ev: &leptos::ev::Event) {
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        if !crate::shared::codes::is_app_code(&input.value()) {
            return;
        }
        if let Some(form) = input.form() {
            if form.check_validity() {
                let _ = form.request_submit();
            }
        }
    }
}

#[cfg(not(feature = "hydrate"))]
mod browser {
    pub fn submit_when_complete(_ev: &leptos::ev::Event) {}
}
