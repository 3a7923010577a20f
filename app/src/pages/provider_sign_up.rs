//! A sign-up through a provider that did not prove the person's address: the page that
//! asks for one, and the page its emailed link opens.

use leptos::{either::EitherOf4, form::ActionForm, prelude::*};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::social::{load_pending_sign_up, FinishSignUp, PendingSignUp, SendSignUpLink},
    components::form::{action_error, FormError, LoadError},
};

#[component]
pub fn ConfirmEmailPage() -> impl IntoView {
    let query = use_query_map();
    // Read again when `?sent` comes or goes: with JavaScript, "Send the link" reaches
    // `?sent=1` without loading the page, and the link just sent must be shown.
    let pending = Resource::new(
        move || query.read().get("sent").is_some(),
        |_| load_pending_sign_up(),
    );
    view! {
        <Title text="Confirm your email address" />
        <section class="card narrow">
            <h1>"Confirm your email address"</h1>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let sent = query.read().get("sent").is_some();
                    match pending.await {
                        Ok(Some(pending)) if sent && pending.sent_to.is_some() => {
                            EitherOf4::A(view! { <LinkSent pending /> })
                        }
                        Ok(Some(pending)) => EitherOf4::B(view! { <AddressForm pending /> }),
                        Ok(None) => EitherOf4::C(view! {
                            <p>"This sign-up expired, or was finished. Sign in with your provider again to start over."</p>
                            <p class="alt-action"><a href="/signin">"Back to sign in"</a></p>
                        }),
                        Err(error) => EitherOf4::D(view! { <LoadError error /> }),
                    }
                })}
            </Suspense>
        </section>
    }
}

/// The address the account will have, with the provider's suggestion filled in.
#[component]
fn AddressForm(pending: PendingSignUp) -> impl IntoView {
    let send = ServerAction::<SendSignUpLink>::new();
    let PendingSignUp {
        provider,
        email_hint,
        ..
    } = pending;
    view! {
        <p>{format!("{provider} did not confirm your email address. Enter the address for your Gatehouse account, and we’ll send a link to it. The account is made when you open the link in this browser.")}</p>
        <ActionForm action=send attr:class="stack">
            <div class="field">
                <label for="email">"Email"</label>
                <input id="email" name="email" type="email" autocomplete="email" required maxlength="254"
                    value=email_hint aria-describedby="confirm-email-error" />
            </div>
            <FormError id="confirm-email-error" message=action_error(send) />
            <button type="submit" class="button wide" disabled=move || send.pending().get()>"Send the link"</button>
        </ActionForm>
    }
}

#[component]
fn LinkSent(pending: PendingSignUp) -> impl IntoView {
    let to = pending.sent_to.unwrap_or_default();
    view! {
        <p class="notice ok" role="status">{format!("We sent a link to {to}. Open it in this browser within 30 minutes to finish signing up.")}</p>
        <p>"No message? Check your spam folder, or " <a href="/signup/email">"use another address"</a> "."</p>
    }
}

/// What the link opens: a click finishes the sign-up, as mail scanners open links.
#[component]
pub fn FinishSignUpPage() -> impl IntoView {
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    let finish = ServerAction::<FinishSignUp>::new();
    view! {
        <Title text="Finish signing up" />
        <section class="card narrow">
            <h1>"Finish signing up"</h1>
            <p>"Press the button to make your Gatehouse account with this email address."</p>
            <ActionForm action=finish attr:class="stack">
                <input type="hidden" name="token" value=token />
                <FormError id="finish-sign-up-error" message=action_error(finish) />
                <button type="submit" class="button wide" disabled=move || finish.pending().get()>"Create my account"</button>
            </ActionForm>
        </section>
    }
}
