//! The provider buttons, the sentence a refused round trip came back with, and the
//! confirmation that stands in for a password. The buttons are plain form posts, so
//! they work without JavaScript.

use leptos::{either::Either, prelude::*};
use leptos_router::{
    hooks::{use_location, use_query_map},
    params::ParamsMap,
};

use crate::{
    api::social::{list_providers, load_confirmation, Confirmation, ProviderView},
    shared::{error::AppError, paths, provider_refusal::Refusal},
};

/// The providers people may sign in with, loaded once for every part of a page that
/// names them.
pub type Providers = Resource<Result<Vec<ProviderView>, AppError>>;

pub fn providers() -> Providers {
    Resource::new(|| (), |_| list_providers())
}

/// What this session confirms a change with, loaded once for the two halves of a form:
/// [`ConfirmWithProvider`] outside it and [`ConfirmPassword`] inside.
pub type ConfirmationResource = Resource<Result<Confirmation, AppError>>;

pub fn confirmation() -> ConfirmationResource {
    Resource::new(|| (), |_| load_confirmation())
}

/// One form that starts a round trip to `provider` for `purpose`, coming back to `next`.
#[component]
pub fn ProviderForm(
    provider: ProviderView,
    purpose: &'static str,
    #[prop(into)] next: Signal<String>,
    label: String,
    #[prop(default = "button secondary wide provider")] class: &'static str,
) -> impl IntoView {
    view! {
        <form method="post" action=paths::provider_start(&provider.id)>
            <input type="hidden" name="purpose" value=purpose />
            <input type="hidden" name="next" value=move || next.get() />
            <button type="submit" class=class data-provider=provider.id.clone()>{label}</button>
        </form>
    }
}

/// "Sign in with …" for every configured provider, and nothing when none is.
#[component]
pub fn ProviderButtons(providers: Providers) -> impl IntoView {
    let query = use_query_map();
    let next = Signal::derive(move || query.read().get("next").unwrap_or_default());
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                let providers = providers.await.unwrap_or_default();
                (!providers.is_empty()).then(|| view! {
                    <div class="providers">
                        <p class="divider"><span>"or"</span></p>
                        {providers
                            .into_iter()
                            .map(|provider| {
                                let label = format!("Sign in with {}", provider.name);
                                view! { <ProviderForm provider purpose="sign_in" next label /> }
                            })
                            .collect_view()}
                    </div>
                })
            })}
        </Suspense>
    }
}

/// The sentence for `?error=…&provider=…`, which a refused round trip brings back.
#[component]
pub fn ProviderRefusal(id: &'static str, providers: Providers) -> impl IntoView {
    let query = use_query_map();
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                let providers = providers.await.unwrap_or_default();
                refusal_sentence(&query.read(), &providers)
                    .map(|sentence| view! { <p id=id class="form-error" role="alert">{sentence}</p> })
            })}
        </Suspense>
    }
}

/// What `?error=…&provider=…` says, naming the provider from `providers`.
fn refusal_sentence(query: &ParamsMap, providers: &[ProviderView]) -> Option<String> {
    let refusal = query.get("error").as_deref().and_then(Refusal::from_code)?;
    let wanted = query.get("provider").unwrap_or_default();
    let name = providers
        .iter()
        .find(|p| p.id == wanted)
        .map_or("The provider", |p| p.name.as_str());
    Some(refusal.sentence(name))
}

/// What a dialog asks for in place of the password, outside the dialog's own form: a
/// fresh sign-in at a provider, or setting a password first. The sign-in comes back to
/// `next`, by default this page.
#[component]
pub fn ConfirmWithProvider(
    confirmation: ConfirmationResource,
    #[prop(optional, into)] next: Option<Signal<String>>,
    /// What the buttons are for, said above them.
    #[prop(default = "Your account has no password, so confirm it’s you by signing in again.")]
    prompt: &'static str,
) -> impl IntoView {
    let here = use_location().pathname;
    let next = next.unwrap_or_else(|| Signal::derive(move || here.get()));
    let query = use_query_map();
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                match confirmation.await {
                    Ok(Confirmation::Reauthenticate { providers }) => {
                        // Said here rather than by <ProviderRefusal/>: a resource of its own,
                        // made inside this Suspend, breaks hydration where this component is
                        // itself inside a Suspend (the enable dialog).
                        let refusal = refusal_sentence(&query.read(), &providers);
                        Some(Either::Left(view! {
                            <div class="confirm-provider">
                                <p>{prompt}</p>
                                {providers
                                    .into_iter()
                                    .map(|provider| {
                                        let label = format!("Confirm with {}", provider.name);
                                        view! { <ProviderForm provider purpose="reauth" next label class="button secondary" /> }
                                    })
                                    .collect_view()}
                                {refusal.map(|sentence| view! {
                                    <p id="confirm-provider-error" class="form-error" role="alert">{sentence}</p>
                                })}
                            </div>
                        }))
                    }
                    Ok(Confirmation::SetPasswordFirst) => Some(Either::Right(view! {
                        <p class="notice" role="status">
                            "Your account signs in only through a provider that cannot confirm a fresh sign-in. "
                            <a href="/settings/sign-in-methods">"Set a password"</a>
                            " first, then come back."
                        </p>
                    })),
                    _ => None,
                }
            })}
        </Suspense>
    }
}

/// The password that confirms a change to the account's security; for an account
/// without one, what [`ConfirmWithProvider`] achieved.
#[component]
pub fn ConfirmPassword(
    id: &'static str,
    describedby: &'static str,
    confirmation: ConfirmationResource,
) -> impl IntoView {
    view! {
        <Suspense>
            {move || Suspend::new(async move {
                match confirmation.await {
                    Ok(Confirmation::Password) | Err(_) => Either::Left(view! {
                        <div class="field">
                            <label for=id>"Password"</label>
                            <input
                                id=id
                                name="password"
                                type="password"
                                autocomplete="current-password"
                                required
                                maxlength="128"
                                aria-describedby=describedby
                            />
                        </div>
                    }),
                    Ok(other) => Either::Right(view! {
                        <input type="hidden" name="password" value="" />
                        {match other {
                            Confirmation::Confirmed { provider } => Some(view! {
                                <p class="confirmed" role="status">{format!("✓ Confirmed with {provider}")}</p>
                            }),
                            _ => None,
                        }}
                    }),
                }
            })}
        </Suspense>
    }
}
