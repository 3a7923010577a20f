use leptos::{form::ActionForm, prelude::*};
use leptos_meta::Title;

use crate::{
    api::account::SignUp,
    components::{
        form::{action_error, FormError},
        providers::{providers, ProviderButtons},
    },
};

#[component]
pub fn SignUpPage() -> impl IntoView {
    let sign_up = ServerAction::<SignUp>::new();
    let error = action_error(sign_up);

    view! {
        <Title text="Create an account" />
        <section class="card narrow">
            <h1>"Create an account"</h1>
            <ActionForm action=sign_up attr:class="stack" attr:aria-describedby="sign-up-error">
                <div class="field">
                    <label for="email">"Email"</label>
                    <input id="email" name="email" type="email" autocomplete="email" required maxlength="254" />
                </div>
                <div class="field">
                    <label for="password">"Password"</label>
                    <input id="password" name="password" type="password" autocomplete="new-password"
                        required minlength="8" maxlength="128" aria-describedby="password-hint sign-up-error" />
                    <p id="password-hint" class="hint">
                        "At least 8 characters. A few uncommon words make a strong password that is easy to remember."
                    </p>
                </div>
                <FormError id="sign-up-error" message=error />
                <button type="submit" class="button wide" disabled=move || sign_up.pending().get()>
                    {move || if sign_up.pending().get() { "Creating account…" } else { "Create account" }}
                </button>
            </ActionForm>
            <ProviderButtons providers=providers() />
            <p class="alt-action">"Already have an account? " <a href="/signin">"Sign in"</a></p>
        </section>
    }
}
