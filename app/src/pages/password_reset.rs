//! "Forgot password?" and the page its emailed link opens.

use leptos::{either::Either, form::ActionForm, prelude::*};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::email::{reset_link_works, RequestPasswordReset, ResetPassword},
    components::form::{action_error, FormError},
};

#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let request = ServerAction::<RequestPasswordReset>::new();
    let query = use_query_map();
    let sent = move || {
        query.read().get("sent").is_some() || request.value().with(|v| matches!(v, Some(Ok(_))))
    };
    view! {
        <Title text="Forgot password" />
        <section class="card narrow">
            <h1>"Forgot your password?"</h1>
            {move || if sent() {
                Either::Left(view! {
                    <p class="notice ok" role="status">
                        "If an account has this email address, we sent it a link to choose a new password. The link works for 30 minutes."
                    </p>
                    <p>"No message? Check your spam folder, or make sure you typed your account’s address."</p>
                })
            } else {
                Either::Right(view! {
                    <p>"Enter your account’s email address and we’ll send you a link to choose a new password."</p>
                    <ActionForm action=request attr:class="stack">
                        <div class="field">
                            <label for="email">"Email"</label>
                            <input id="email" name="email" type="email" autocomplete="username" required maxlength="254"
                                aria-describedby="forgot-error" />
                        </div>
                        <FormError id="forgot-error" message=action_error(request) />
                        <button type="submit" class="button wide" disabled=move || request.pending().get()>"Send the link"</button>
                    </ActionForm>
                })
            }}
            <p class="alt-action"><a href="/signin">"Back to sign in"</a></p>
        </section>
    }
}

#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    let works = Resource::new(token, reset_link_works);
    let reset = ServerAction::<ResetPassword>::new();
    view! {
        <Title text="Choose a new password" />
        <section class="card narrow">
            <h1>"Choose a new password"</h1>
            <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    if works.await.unwrap_or(false) {
                        Either::Left(view! {
                            <ActionForm action=reset attr:class="stack">
                                <input type="hidden" name="token" value=token />
                                <div class="field">
                                    <label for="new-password">"New password"</label>
                                    <input id="new-password" name="password" type="password" autocomplete="new-password"
                                        required minlength="8" maxlength="128" aria-describedby="reset-hint reset-error" />
                                    <p id="reset-hint" class="hint">
                                        "At least 8 characters. Every session of your account will be signed out; two-factor authentication stays on."
                                    </p>
                                </div>
                                <FormError id="reset-error" message=action_error(reset) />
                                <button type="submit" class="button wide" disabled=move || reset.pending().get()>"Set the new password"</button>
                            </ActionForm>
                        })
                    } else {
                        Either::Right(view! {
                            <p class="notice" role="alert">"This link has expired or was already used."</p>
                            <p><a href="/forgot-password" class="button">"Ask for a new link"</a></p>
                        })
                    }
                })}
            </Suspense>
        </section>
    }
}
