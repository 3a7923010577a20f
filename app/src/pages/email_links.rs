//! The pages emailed links open to prove an address. Each asks for a click: mail scanners
//! open links, and must not spend them.

use leptos::{form::ActionForm, prelude::*};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::email::{ConfirmEmailChange, VerifyEmail},
    components::form::{action_error, FormError},
};

#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    let verify = ServerAction::<VerifyEmail>::new();
    view! {
        <Title text="Confirm your email address" />
        <section class="card narrow">
            <h1>"Confirm your email address"</h1>
            <p>"Press the button to confirm that this address is yours."</p>
            <ActionForm action=verify attr:class="stack">
                <input type="hidden" name="token" value=token />
                <FormError id="verify-error" message=action_error(verify) />
                <button type="submit" class="button wide" disabled=move || verify.pending().get()>"Confirm my email address"</button>
            </ActionForm>
        </section>
    }
}

#[component]
pub fn ConfirmEmailChangePage() -> impl IntoView {
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    let confirm = ServerAction::<ConfirmEmailChange>::new();
    view! {
        <Title text="Confirm your new email address" />
        <section class="card narrow">
            <h1>"Confirm your new email address"</h1>
            <p>"Press the button to make this the email address of your account. Your old address will be told."</p>
            <ActionForm action=confirm attr:class="stack">
                <input type="hidden" name="token" value=token />
                <FormError id="confirm-email-error" message=action_error(confirm) />
                <button type="submit" class="button wide" disabled=move || confirm.pending().get()>"Use this email address"</button>
            </ActionForm>
        </section>
    }
}
