use leptos::{form::ActionForm, prelude::*};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::account::SignIn,
    components::form::{action_error, FormError},
};

#[component]
pub fn SignInPage() -> impl IntoView {
    let sign_in = ServerAction::<SignIn>::new();
    let error = action_error(sign_in);
    let next = move || use_query_map().read().get("next").unwrap_or_default();

    view! {
        <Title text="Sign in" />
        <section class="card narrow">
            <h1>"Sign in"</h1>
            <ActionForm action=sign_in attr:class="stack" attr:aria-describedby="sign-in-error">
                <input type="hidden" name="next" value=next />
                <div class="field">
                    <label for="email">"Email"</label>
                    <input id="email" name="email" type="email" autocomplete="username" required maxlength="254" />
                </div>
                <div class="field">
                    <label for="password">"Password"</label>
                    <input id="password" name="password" type="password" autocomplete="current-password" required maxlength="128" />
                </div>
                <FormError id="sign-in-error" message=error />
                <button type="submit" class="button wide" disabled=move || sign_in.pending().get()>
                    {move || if sign_in.pending().get() { "Signing in…" } else { "Sign in" }}
                </button>
            </ActionForm>
            <p class="alt-action">"New to Gatehouse? " <a href="/signup">"Create an account"</a></p>
        </section>
    }
}
