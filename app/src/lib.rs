//! Gatehouse: pages, server functions and, behind the `ssr` feature, the domain.
//!
//! Layers, each importing only those before it: `shared` (both targets) and `browser`,
//! then behind `ssr` `store`, `auth` and the request edge `http`; then `api`,
//! `components`, `pages` and `routes`, and this file's shell.

pub mod api;
pub mod browser;
pub mod components;
pub mod pages;
pub mod routes;
pub mod shared;

#[cfg(feature = "ssr")]
pub mod auth;
#[cfg(feature = "ssr")]
pub mod http;
#[cfg(feature = "ssr")]
pub mod store;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::Router;

use crate::routes::router::Layout;

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    http::csp::send_content_security_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Effects run only in the browser: this marks the page as live, for tests and CSS.
    Effect::new(|| {
        #[cfg(feature = "hydrate")]
        if let Some(body) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.body())
        {
            let _ = body.set_attribute("data-hydrated", "");
        }
    });

    view! {
        <Stylesheet id="leptos" href="/pkg/gatehouse.css" />
        <Title formatter=|page: String| if page.is_empty() { "Gatehouse".to_owned() } else { format!("{page} · Gatehouse") } />
        <Router>
            <Layout />
        </Router>
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::App;
    use crate::shared::paths;

    fn routed() -> Vec<String> {
        leptos_axum::generate_route_list(App)
            .iter()
            .map(|r| r.path().to_owned())
            .collect()
    }

    // Listing the routes renders the app, which needs a runtime to spawn on.
    #[tokio::test]
    async fn every_page_in_paths_is_routed() {
        let routed = routed();
        for page in [
            paths::HOME,
            paths::SIGN_IN,
            paths::CODE_PROMPT,
            paths::SIGN_UP,
            paths::SIGN_UP_EMAIL,
            paths::SIGN_UP_FINISH,
            paths::FORGOT_PASSWORD,
            paths::RESET_PASSWORD,
            paths::VERIFY_EMAIL,
            paths::CONFIRM_EMAIL,
            paths::SETTINGS,
            paths::SIGN_IN_METHODS,
            paths::TWO_FACTOR,
            paths::ENABLE_TWO_FACTOR,
            paths::DISABLE_TWO_FACTOR,
            paths::REGENERATE_CODES,
            paths::NEW_CODES,
            paths::ADD_PASSKEY,
            paths::RENAME_PASSKEY,
            paths::REMOVE_PASSKEY,
            paths::SESSIONS,
            paths::ACTIVITY,
        ]
        .into_iter()
        .chain(paths::ENROLLMENT_PAGES.iter().copied())
        {
            assert!(
                routed.iter().any(|r| r == page),
                "{page} is not routed: {routed:?}"
            );
        }
    }

    /// The links written as literals in the markup (see `shared::paths`) name pages too.
    #[tokio::test]
    async fn every_literal_link_in_the_markup_is_routed() {
        let routed = routed();
        let src = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
        let mut seen = 0;
        for dir in ["components", "pages"] {
            for entry in std::fs::read_dir(format!("{src}/{dir}")).unwrap() {
                let file = entry.unwrap().path();
                let text = std::fs::read_to_string(&file).unwrap();
                for attr in ["href=\"/", "data-opens=\"/"] {
                    for (at, _) in text.match_indices(attr) {
                        let link = &text[at + attr.len() - 1..];
                        let link = &link[..link.find('"').unwrap()];
                        assert!(
                            routed.iter().any(|r| r == link),
                            "{}: {link} is not routed",
                            file.display()
                        );
                        seen += 1;
                    }
                }
            }
        }
        assert!(seen > 0, "no literal link found under {src}");
    }
}
