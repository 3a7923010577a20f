//! Settings → Sign-in methods: the password and each provider, connected or not.

use leptos::{either::Either, form::ActionForm, prelude::*};
use leptos_router::hooks::use_query_map;

use crate::{
    api::social::{
        load_sign_in_methods, ChangePassword, Confirmation, DisconnectProvider, EmailPasswordLink,
        ProviderMethod, SetPassword, SignInMethods,
    },
    components::{
        code_input::CodeInput,
        form::{action_error, FormError, LoadError},
        providers::{
            confirmation, providers, ConfirmPassword, ConfirmWithProvider, ConfirmationResource,
            ProviderRefusal,
        },
    },
    shared::paths,
};

/// Counts the changes made on this tab, so the methods are read again after each one:
/// with JavaScript the forms do not reload the page.
#[derive(Clone, Copy)]
struct Changed(RwSignal<u32>);

/// Reads the methods again once `succeeded` turns true. Outside this tab (the Change
/// password form is also on Profile) there is nothing to read again.
fn reload_when(succeeded: impl Fn() -> bool + 'static) {
    let Some(Changed(changed)) = use_context::<Changed>() else {
        return;
    };
    Effect::new(move |_| {
        if succeeded() {
            changed.update(|n| *n += 1);
        }
    });
}

#[component]
pub fn SignInMethodsTab() -> impl IntoView {
    let changed = RwSignal::new(0u32);
    provide_context(Changed(changed));
    let methods = Resource::new(move || changed.get(), |_| load_sign_in_methods());
    let query = use_query_map();
    let done = move || {
        match query.read().get("done").as_deref() {
        Some("password_set") => Some(
            "Your password is set. You can now sign in with it. Your other sessions were signed out.",
        ),
        Some("link_sent") => Some(
            "We sent a link to your email address. Open it to choose your password.",
        ),
        Some("password_changed") => {
            Some("Your password is changed. Your other sessions were signed out.")
        }
        _ => None,
    }
    };
    view! {
        <h2>"Sign-in methods"</h2>
        <p class="muted">"The ways you can sign in. Every one of them still asks for your second factor when two-factor authentication is on."</p>
        {move || done().map(|text| view! { <p class="notice ok" role="status">{text}</p> })}
        <ProviderRefusal id="methods-error" providers=providers() />
        <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match methods.await {
                    Ok(methods) => Either::Left(view! { <Methods methods /> }),
                    Err(error) => Either::Right(view! { <LoadError error /> }),
                }
            })}
        </Transition>
    }
}

#[component]
fn Methods(methods: SignInMethods) -> impl IntoView {
    let last = methods.count() <= 1;
    let two_factor_on = methods.two_factor_on;
    // One read of how this session confirms a change, for every form on the tab.
    let confirmation = confirmation();
    view! {
        <section class="method" aria-labelledby="password-heading">
            <h3 id="password-heading">"Password"</h3>
            {if methods.has_password {
                Either::Left(view! { <ChangePasswordForm two_factor_on /> })
            } else {
                Either::Right(view! { <SetPasswordForm two_factor_on confirmation /> })
            }}
        </section>
        {methods
            .providers
            .into_iter()
            .map(|provider| view! { <ProviderRow provider last two_factor_on confirmation /> })
            .collect_view()}
    }
}

#[component]
fn ProviderRow(
    provider: ProviderMethod,
    last: bool,
    two_factor_on: bool,
    confirmation: ConfirmationResource,
) -> impl IntoView {
    let ProviderMethod {
        id,
        name,
        linked_on,
    } = provider;
    let heading = format!("provider-{id}");
    let labelled_by = heading.clone();
    let query = use_query_map();
    let open = {
        let (id, key) = (
            id.clone(),
            if linked_on.is_some() {
                "disconnect"
            } else {
                "connect"
            },
        );
        move || query.read().get(key).as_deref() == Some(id.as_str())
    };
    let panel = {
        let (id, name, linked) = (id.clone(), name.clone(), linked_on.is_some());
        move || {
            let (id, name) = (id.clone(), name.clone());
            if linked {
                Either::Left(view! { <DisconnectPanel id name two_factor_on confirmation /> })
            } else {
                Either::Right(view! { <ConnectPanel id name two_factor_on confirmation /> })
            }
        }
    };
    let action = {
        let (id, name, linked) = (id.clone(), name.clone(), linked_on.is_some());
        move || match (linked, last) {
            (true, true) => Either::Left(view! {
                <p class="muted">{format!("{name} is your only way to sign in, so it cannot be disconnected. Set a password first.")}</p>
            }),
            (true, false) => Either::Right(view! {
                <a href=paths::sign_in_methods_panel("disconnect", &id) class="button secondary danger">{format!("Disconnect {name}")}</a>
            }),
            (false, _) => Either::Right(view! {
                <a href=paths::sign_in_methods_panel("connect", &id) class="button secondary">{format!("Connect {name}")}</a>
            }),
        }
    };
    view! {
        <section class="method" aria-labelledby=labelled_by>
            <h3 id=heading>{name.clone()}</h3>
            {match linked_on {
                Some(date) => Either::Left(view! { <p>{format!("Connected on {date}.")}</p> }),
                None => Either::Right(view! { <p class="muted">"Not connected."</p> }),
            }}
            <Show when=open fallback=action>
                {panel.clone()}
            </Show>
        </section>
    }
}

/// Where a confirmation at a provider comes back to: this tab with `panel` open again.
fn back_to(panel: &str, id: &str) -> Signal<String> {
    let next = paths::sign_in_methods_panel(panel, id);
    Signal::derive(move || next.clone())
}

/// Connecting a provider adds a way in, so it is confirmed before the round trip begins.
/// A plain form post: the browser goes on to the provider.
#[component]
fn ConnectPanel(
    id: String,
    name: String,
    two_factor_on: bool,
    confirmation: ConfirmationResource,
) -> impl IntoView {
    let next = back_to("connect", &id);
    view! {
        <div class="confirm-panel stack">
            <p>{format!("Confirm it’s you to connect {name}. Your other sessions will be signed out.")}</p>
            <ConfirmWithProvider confirmation next />
            <form method="post" action=paths::provider_start(&id) class="stack">
                <input type="hidden" name="purpose" value="link" />
                <input type="hidden" name="next" value=paths::SIGN_IN_METHODS />
                <ConfirmPassword id="connect-password" describedby="methods-error" confirmation />
                <CodeIfOn two_factor_on id="connect-code" describedby="methods-error" />
                <div class="button-row">
                    <button type="submit" class="button" data-provider=id.clone()>{format!("Continue to {name}")}</button>
                    <a href=paths::SIGN_IN_METHODS class="button secondary">"Cancel"</a>
                </div>
            </form>
        </div>
    }
}

#[component]
fn DisconnectPanel(
    id: String,
    name: String,
    two_factor_on: bool,
    confirmation: ConfirmationResource,
) -> impl IntoView {
    let disconnect = ServerAction::<DisconnectProvider>::new();
    reload_when(move || disconnect.value().with(|v| matches!(v, Some(Ok(_)))));
    let next = back_to("disconnect", &id);
    view! {
        <div class="confirm-panel stack">
            <p>{format!("Confirm it’s you to disconnect {name}. You will no longer be able to sign in with it, and your other sessions will be signed out.")}</p>
            <ConfirmWithProvider confirmation next />
            <ActionForm action=disconnect attr:class="stack">
                <input type="hidden" name="provider" value=id />
                <ConfirmPassword id="disconnect-password" describedby="disconnect-error" confirmation />
                <CodeIfOn two_factor_on id="disconnect-code" describedby="disconnect-error" />
                <FormError id="disconnect-error" message=action_error(disconnect) />
                <div class="button-row">
                    <button type="submit" class="button danger" disabled=move || disconnect.pending().get()>
                        {format!("Disconnect {name}")}
                    </button>
                    <a href=paths::SIGN_IN_METHODS class="button secondary">"Cancel"</a>
                </div>
            </ActionForm>
        </div>
    }
}

/// The code field, when two-factor authentication is on; otherwise an empty code.
#[component]
pub fn CodeIfOn(two_factor_on: bool, id: &'static str, describedby: &'static str) -> impl IntoView {
    if two_factor_on {
        Either::Left(
            view! { <CodeInput id label="Code from your app or a recovery code" numeric=false describedby /> },
        )
    } else {
        Either::Right(view! { <input type="hidden" name="code" value="" /> })
    }
}

/// A first password is a new way in: confirmed with a fresh sign-in at a provider the
/// account had before this session, or, where none can confirm one, set through a link
/// to the verified address.
#[component]
fn SetPasswordForm(two_factor_on: bool, confirmation: ConfirmationResource) -> impl IntoView {
    let set = ServerAction::<SetPassword>::new();
    reload_when(move || set.value().with(|v| matches!(v, Some(Ok(_)))));
    let form = move |confirmed: Option<String>| {
        view! {
            <ConfirmWithProvider confirmation next=Signal::derive(|| paths::SIGN_IN_METHODS.to_owned())
                prompt="To set one, first confirm it’s you by signing in again." />
            {confirmed.map(|provider| view! {
                <p class="confirmed" role="status">{format!("✓ Confirmed with {provider}")}</p>
            })}
            <ActionForm action=set attr:class="stack">
                <div class="field">
                    <label for="new-password">"New password"</label>
                    <input id="new-password" name="password" type="password" autocomplete="new-password"
                        required minlength="8" maxlength="128" aria-describedby="set-password-hint set-password-error" />
                    <p id="set-password-hint" class="hint">"At least 8 characters. A few uncommon words make a strong password. Your other sessions will be signed out."</p>
                </div>
                <CodeIfOn two_factor_on id="set-password-code" describedby="set-password-error" />
                <FormError id="set-password-error" message=action_error(set) />
                <button type="submit" class="button" disabled=move || set.pending().get()>"Set password"</button>
            </ActionForm>
        }
    };
    view! {
        <p>"Your account has no password: you sign in through a provider. A password is a second way in, and confirms changes in Settings."</p>
        <Suspense>
            {move || Suspend::new(async move {
                match confirmation.await {
                    Ok(Confirmation::SetPasswordFirst) => Either::Left(view! { <EmailPasswordLinkForm /> }),
                    Ok(Confirmation::Confirmed { provider }) => Either::Right(form(Some(provider))),
                    _ => Either::Right(form(None)),
                }
            })}
        </Suspense>
    }
}

/// For an account whose providers cannot confirm a fresh sign-in: its first password is
/// set through a link to its verified address.
#[component]
fn EmailPasswordLinkForm() -> impl IntoView {
    let send = ServerAction::<EmailPasswordLink>::new();
    view! {
        <p>"Your sign-in provider cannot confirm a fresh sign-in, so a password is set through a link we email to you. Opening it signs you out everywhere; then sign in with the new password."</p>
        <ActionForm action=send>
            <FormError id="password-link-error" message=action_error(send) />
            <button type="submit" class="button" disabled=move || send.pending().get()>"Email me a link"</button>
        </ActionForm>
    }
}

#[component]
pub fn ChangePasswordForm(two_factor_on: bool) -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    reload_when(move || change.value().with(|v| matches!(v, Some(Ok(_)))));
    view! {
        <ActionForm action=change attr:class="stack">
            <div class="field">
                <label for="current-password">"Current password"</label>
                <input id="current-password" name="current_password" type="password" autocomplete="current-password"
                    required maxlength="128" aria-describedby="change-password-error" />
            </div>
            <div class="field">
                <label for="new-password">"New password"</label>
                <input id="new-password" name="password" type="password" autocomplete="new-password"
                    required minlength="8" maxlength="128" aria-describedby="change-password-hint change-password-error" />
                <p id="change-password-hint" class="hint">"At least 8 characters. Your other sessions will be signed out."</p>
            </div>
            <CodeIfOn two_factor_on id="change-password-code" describedby="change-password-error" />
            <FormError id="change-password-error" message=action_error(change) />
            <button type="submit" class="button" disabled=move || change.pending().get()>"Change password"</button>
        </ActionForm>
    }
}
