//! Settings: a page of tabs, each its own route so every tab has an address.

use leptos::{either::Either, prelude::*};
use leptos_meta::Title;
use leptos_router::{components::Outlet, hooks::use_location};

use crate::{api::account::load_profile, components::form::LoadError};

const TABS: &[(&str, &str)] = &[
    ("/settings", "Profile"),
    ("/settings/sign-in-methods", "Sign-in methods"),
    ("/settings/two-factor", "Two-Factor Auth"),
    ("/settings/sessions", "Sessions"),
    ("/settings/activity", "Security activity"),
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
                            let here = if href == "/settings" { path == href } else { path.starts_with(href) };
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
    view! {
        <h2>"Profile"</h2>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match profile.await {
                    Ok(p) => Either::Left(view! {
                        <dl class="facts">
                            <div><dt>"Email"</dt><dd>{p.email}</dd></div>
                            <div><dt>"Member since"</dt><dd>{p.created}</dd></div>
                        </dl>
                    }),
                    Err(error) => Either::Right(view! { <LoadError error /> }),
                }
            })}
        </Suspense>
    }
}
