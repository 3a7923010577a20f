//! The bar at the top of every page: the product name and who is signed in.

use leptos::form::ActionForm;
use leptos::{either::Either, prelude::*};

use leptos_router::hooks::use_location;

use crate::{
    api::account::{signed_in_as, SignOut},
    shared::prefetch::Prefetch,
};

#[component]
pub fn Header(prefetch: Prefetch) -> impl IntoView {
    let sign_out = ServerAction::<SignOut>::new();
    // Signing in, out or through the code prompt always ends in a navigation, so the
    // path is enough to know when to ask again.
    let pathname = use_location().pathname;
    let who = Resource::new(
        move || (pathname.get(), sign_out.version().get()),
        |_| signed_in_as(),
    );
    // Signed in, Settings is one click away: have its chunk ready.
    Effect::new(move || {
        if matches!(who.get(), Some(Ok(Some(_)))) {
            prefetch.fetch_settings();
        }
    });

    view! {
        <header class="site-header">
            <a href="/" class="brand">
                <span class="brand-mark" aria-hidden="true"></span>
                "Gatehouse"
            </a>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match who.await {
                        Ok(Some(who)) => Either::Left(view! {
                            <nav class="account-nav" aria-label="Account">
                                <a href="/settings">"Settings"</a>
                                <span class="signed-in-as">
                                    <span class="visually-hidden">"Signed in as "</span>
                                    {who.email}
                                </span>
                                <ActionForm action=sign_out>
                                    <button type="submit" class="button secondary">"Sign out"</button>
                                </ActionForm>
                            </nav>
                        }),
                        _ => Either::Right(view! {
                            <nav class="account-nav" aria-label="Account">
                                <a href="/signin">"Sign in"</a>
                                <a href="/signup" class="button">"Create account"</a>
                            </nav>
                        }),
                    }
                })}
            </Transition>
        </header>
    }
}
