//! Settings: a page of tabs, each its own route so every tab has an address.

use leptos::{either::Either, form::ActionForm, prelude::*};
use leptos_meta::Title;
use leptos_router::{
    components::Outlet,
    hooks::{use_location, use_query_map},
};

use crate::{
    api::{
        account::{load_profile, Profile},
        email::{ChangeEmail, ResendVerification},
    },
    components::{
        form::{action_error, FormError, LoadError},
        providers::{confirmation, ConfirmPassword, ConfirmWithProvider},
    },
    pages::sign_in_methods::{ChangePasswordForm, CodeIfOn},
    shared::paths,
};

const TABS: &[(&str, &str)] = &[
    (paths::SETTINGS, "Profile"),
    (paths::SIGN_IN_METHODS, "Sign-in methods"),
    (paths::TWO_FACTOR, "Two-Factor Auth"),
    (paths::SESSIONS, "Sessions"),
    (paths::ACTIVITY, "Security activity"),
];

#[component]
pub fn SettingsPage() -> impl IntoView {
    let pathname = use_location().pathname;
    view! {
        <Title text="Settings" />
        <div class="settings">
            <h1>"Settings"</h1>
            <nav class="tabs" aria-label="Settings sections">
                {TABS
                    .iter()
                    .map(|&(href, label)| {
                        let current = move || {
                            let path = pathname.get();
                            let here = if href == paths::SETTINGS { path == href } else { path.starts_with(href) };
                            here.then_some("page")
                        };
                        view! { <a href=href aria-current=current>{label}</a> }
                    })
                    .collect_view()}
            </nav>
            <section class="tab-panel">
                <Outlet />
            </section>
        </div>
    }
}

#[component]
pub fn ProfileTab() -> impl IntoView {
    let profile = Resource::new(|| (), |_| load_profile());
    let query = use_query_map();
    // What the last change did; the query carries it across a page load without JavaScript.
    let done = move || {
        let query = query.read();
        match (query.get("verification").as_deref(), query.get("email").as_deref()) {
            (Some("sent"), _) => Some("We sent a new link. It works for 24 hours."),
            (Some("done"), _) => Some("Your email address is confirmed."),
            (_, Some("sent")) => Some(
                "We sent a link to your new address. Your address changes when you open it; your current address was told.",
            ),
            (_, Some("changed")) => Some("Your email address is changed."),
            _ => None,
        }
    };
    view! {
        <h2>"Profile"</h2>
        {move || done().map(|text| view! { <p class="notice ok" role="status">{text}</p> })}
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match profile.await {
                    Ok(p) => Either::Left(view! { <ProfileDetails profile=p /> }),
                    Err(error) => Either::Right(view! { <LoadError error /> }),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ProfileDetails(profile: Profile) -> impl IntoView {
    let Profile {
        email,
        created,
        verified,
        two_factor_on,
        has_password,
    } = profile;
    view! {
        {(!verified).then(|| view! { <VerifyBanner email=email.clone() /> })}
        <dl class="facts">
            <div>
                <dt>"Email"</dt>
                <dd>{email} {(!verified).then(|| view! { " " <span class="badge warn">"Not confirmed"</span> })}</dd>
            </div>
            <div><dt>"Member since"</dt><dd>{created}</dd></div>
        </dl>
        <section class="method" aria-labelledby="change-email-heading">
            <h3 id="change-email-heading">"Change email"</h3>
            <ChangeEmailForm two_factor_on />
        </section>
        {has_password.then(|| view! {
            <section class="method" aria-labelledby="change-password-heading">
                <h3 id="change-password-heading">"Change password"</h3>
                <ChangePasswordForm two_factor_on />
            </section>
        })}
    }
}

/// Until the address is proved: say so, and offer the link again.
#[component]
pub fn VerifyBanner(email: String) -> impl IntoView {
    let resend = ServerAction::<ResendVerification>::new();
    view! {
        <div class="banner" role="status">
            <p>
                <strong>"Confirm your email address."</strong>
                {format!(" We sent a link to {email}. Until you open it, you cannot add two-factor authentication, passkeys or sign-in providers.")}
            </p>
            <ActionForm action=resend>
                <button type="submit" class="button secondary" disabled=move || resend.pending().get()>"Send again"</button>
            </ActionForm>
            <FormError id="resend-error" message=action_error(resend) />
        </div>
    }
}

#[component]
fn ChangeEmailForm(two_factor_on: bool) -> impl IntoView {
    let change = ServerAction::<ChangeEmail>::new();
    let confirmation = confirmation();
    view! {
        <p>"We send a link to the new address; the change happens when you open it."</p>
        <ConfirmWithProvider confirmation />
        <ActionForm action=change attr:class="stack">
            <div class="field">
                <label for="new-email">"New email"</label>
                <input id="new-email" name="new_email" type="email" autocomplete="email" required maxlength="254"
                    aria-describedby="change-email-error" />
            </div>
            <ConfirmPassword id="change-email-password" describedby="change-email-error" confirmation />
            <CodeIfOn two_factor_on id="change-email-code" describedby="change-email-error" />
            <FormError id="change-email-error" message=action_error(change) />
            <button type="submit" class="button" disabled=move || change.pending().get()>"Send the link"</button>
        </ActionForm>
    }
}
