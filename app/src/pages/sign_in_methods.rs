//! Settings → Sign-in methods: the password and each provider, connected or not.

use leptos::{either::Either, form::ActionForm, prelude::*};
use leptos_router::hooks::use_query_map;

use crate::{
    api::social::{
        load_sign_in_methods, ChangePassword, DisconnectProvider, ProviderMethod, ProviderView,
        SetPassword, SignInMethods, METHODS_PATH,
    },
    components::{
        code_input::CodeInput,
        form::{action_error, FormError, LoadError},
        providers::{providers, ProviderForm, ProviderRefusal},
    },
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
    let done = move || match query.read().get("done").as_deref() {
        Some("password_set") => Some("Your password is set. You can now sign in with it."),
        Some("password_changed") => {
            Some("Your password is changed. Your other sessions were signed out.")
        }
        _ => None,
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
    view! {
        <section class="method" aria-labelledby="password-heading">
            <h3 id="password-heading">"Password"</h3>
            {if methods.has_password {
                Either::Left(view! { <ChangePasswordForm two_factor_on /> })
            } else {
                Either::Right(view! { <SetPasswordForm two_factor_on /> })
            }}
        </section>
        {methods
            .providers
            .into_iter()
            .map(|provider| view! { <ProviderRow provider last /> })
            .collect_view()}
    }
}

#[component]
fn ProviderRow(provider: ProviderMethod, last: bool) -> impl IntoView {
    let ProviderMethod {
        id,
        name,
        linked_on,
    } = provider;
    let heading = format!("provider-{id}");
    let labelled_by = heading.clone();
    view! {
        <section class="method" aria-labelledby=labelled_by>
            <h3 id=heading>{name.clone()}</h3>
            {match linked_on {
                Some(date) => Either::Left(view! {
                    <p>{format!("Connected on {date}.")}</p>
                    {if last {
                        Either::Left(view! {
                            <p class="muted">{format!("{name} is your only way to sign in, so it cannot be disconnected. Set a password first.")}</p>
                        })
                    } else {
                        Either::Right(view! { <DisconnectForm id name /> })
                    }}
                }),
                None => Either::Right(view! {
                    <p class="muted">"Not connected."</p>
                    <ProviderForm
                        provider=ProviderView { id, name: name.clone() }
                        purpose="link"
                        next=METHODS_PATH.to_owned()
                        label=format!("Connect {name}")
                        class="button secondary"
                    />
                }),
            }}
        </section>
    }
}

#[component]
fn DisconnectForm(id: String, name: String) -> impl IntoView {
    let disconnect = ServerAction::<DisconnectProvider>::new();
    reload_when(move || disconnect.value().with(|v| matches!(v, Some(Ok(_)))));
    let error_id = "disconnect-error";
    view! {
        <ActionForm action=disconnect>
            <input type="hidden" name="provider" value=id />
            <button type="submit" class="button secondary danger" disabled=move || disconnect.pending().get()>
                {format!("Disconnect {name}")}
            </button>
        </ActionForm>
        <FormError id=error_id message=action_error(disconnect) />
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

#[component]
fn SetPasswordForm(two_factor_on: bool) -> impl IntoView {
    let set = ServerAction::<SetPassword>::new();
    reload_when(move || set.value().with(|v| matches!(v, Some(Ok(_)))));
    view! {
        <p>"Your account has no password: you sign in through a provider. A password is a second way in, and confirms changes in Settings."</p>
        <ActionForm action=set attr:class="stack">
            <div class="field">
                <label for="new-password">"New password"</label>
                <input id="new-password" name="password" type="password" autocomplete="new-password"
                    required minlength="8" maxlength="128" aria-describedby="set-password-hint set-password-error" />
                <p id="set-password-hint" class="hint">"At least 8 characters. A few uncommon words make a strong password."</p>
            </div>
            <CodeIfOn two_factor_on id="set-password-code" describedby="set-password-error" />
            <FormError id="set-password-error" message=action_error(set) />
            <button type="submit" class="button" disabled=move || set.pending().get()>"Set password"</button>
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
