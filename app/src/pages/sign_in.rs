use leptos::{form::ActionForm, prelude::*};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::account::SignIn,
    components::{
        form::{action_error, FormError},
        passkeys::PasskeySignIn,
        providers::{providers, ProviderButtons, ProviderRefusal},
    },
    shared::{prefetch::Prefetch, words::sign_in_ended},
};

#[component]
pub fn SignInPage(prefetch: Prefetch) -> impl IntoView {
    let sign_in = ServerAction::<SignIn>::new();
    let error = action_error(sign_in);
    // The code prompt comes next: fetch its chunk while the password is checked.
    Effect::new(move || {
        if sign_in.pending().get() {
            prefetch.fetch_public();
        }
    });
    let providers = providers();
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    // Sent here by the code prompt after too many wrong codes: say why, and until when.
    let ended = move || {
        let query = query.read();
        match query.get("ended").as_deref() {
            Some("locked") => Some(sign_in_ended(Some(
                query
                    .get("retry")
                    .and_then(|r| r.parse().ok())
                    .unwrap_or(60),
            ))),
            Some("codes") => Some(sign_in_ended(None)),
            _ => None,
        }
    };
    // Back from an emailed link.
    let done = move || {
        let query = query.read();
        if query.get("reset").is_some() {
            Some("Your password is changed and every session was signed out. Sign in with the new password.")
        } else if query.get("verified").is_some() {
            Some("Your email address is confirmed. Sign in to continue.")
        } else if query.get("email_changed").is_some() {
            Some("Your email address is changed. Sign in with the new one.")
        } else {
            None
        }
    };

    view! {
        <Title text="Sign in" />
        <section class="card narrow">
            <h1>"Sign in"</h1>
            {move || ended().map(|text| view! { <p id="sign-in-notice" class="notice" role="status">{text}</p> })}
            <ProviderRefusal id="provider-error" providers />
            {move || done().map(|text| view! { <p class="notice ok" role="status">{text}</p> })}
            <ActionForm action=sign_in attr:class="stack" attr:aria-describedby="sign-in-error">
                <input type="hidden" name="next" value=next />
                <div class="field">
                    <label for="email">"Email"</label>
                    <input id="email" name="email" type="email" autocomplete="username webauthn" required maxlength="254" />
                </div>
                <div class="field">
                    <label for="password">"Password"</label>
                    <input id="password" name="password" type="password" autocomplete="current-password" required maxlength="128" />
                    <p class="hint"><a href="/forgot-password">"Forgot password?"</a></p>
                </div>
                <FormError id="sign-in-error" message=error />
                <button type="submit" class="button wide" disabled=move || sign_in.pending().get()>
                    {move || if sign_in.pending().get() { "Signing in…" } else { "Sign in" }}
                </button>
            </ActionForm>
            <PasskeySignIn next=Signal::derive(next) autofill_from="email" />
            <ProviderButtons providers />
            <p class="alt-action">"New to Gatehouse? " <a href="/signup">"Create an account"</a></p>
        </section>
    }
}
