//! Gatehouse: pages, server functions and, behind the `ssr` feature, the domain.

pub mod api;
pub mod components;
pub mod error;
pub mod pages;
pub mod provider_refusal;
pub mod typed_code;
pub mod webauthn;

#[cfg(feature = "ssr")]
pub mod auth;
#[cfg(feature = "ssr")]
pub mod dates;
#[cfg(feature = "ssr")]
pub mod state;
#[cfg(feature = "ssr")]
pub mod store;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{ParentRoute, Route, Router, Routes},
    path, SsrMode,
};

use crate::{
    components::header::Header,
    pages::{
        chunks::{PublicView, SettingsView},
        not_found::NotFound,
        sign_in::SignInPage,
    },
};

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    send_content_security_policy();
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

/// Scripts run only with this response's nonce (the hydration script) or from our own
/// origin (the WASM glue); nothing may frame the page.
#[cfg(feature = "ssr")]
fn send_content_security_policy() {
    use http::{header::CONTENT_SECURITY_POLICY, HeaderValue};
    let (Some(nonce), Some(res)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) else {
        return;
    };
    // The provider buttons post here and are redirected to the provider's own page,
    // which browsers check against `form-action` too.
    let providers = use_context::<state::AppState>()
        .map(|s| s.services.providers.authorization_origins().join(" "))
        .unwrap_or_default();
    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'self' {providers}; frame-ancestors 'none'"
    );
    if let Ok(value) = HeaderValue::from_str(&policy) {
        res.insert_header(CONTENT_SECURITY_POLICY, value);
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

/// The page frame inside the router.
#[component]
fn Layout() -> impl IntoView {
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <Header />
        <main id="main">
            // Every route renders completely on the server before it is sent, so each page
            // works without JavaScript and a missing session can still redirect.
            <Routes fallback=NotFound>
                <Route ssr=SsrMode::Async path=path!("/") view=PublicView::Home />
                <Route ssr=SsrMode::Async path=path!("/signin") view=SignInPage />
                <Route ssr=SsrMode::Async path=path!("/signin/code") view=PublicView::CodePrompt />
                <Route ssr=SsrMode::Async path=path!("/signup") view=PublicView::SignUp />
                <Route ssr=SsrMode::Async path=path!("/signup/email") view=PublicView::ProviderSignUpEmail />
                <Route ssr=SsrMode::Async path=path!("/signup/finish") view=PublicView::ProviderSignUpFinish />
                <Route ssr=SsrMode::Async path=path!("/forgot-password") view=PublicView::ForgotPassword />
                <Route ssr=SsrMode::Async path=path!("/reset-password") view=PublicView::ResetPassword />
                <Route ssr=SsrMode::Async path=path!("/verify-email") view=PublicView::VerifyEmail />
                <Route ssr=SsrMode::Async path=path!("/confirm-email") view=PublicView::ConfirmEmailChange />
                <ParentRoute ssr=SsrMode::Async path=path!("/settings") view=SettingsView::Frame>
                    <Route ssr=SsrMode::Async path=path!("") view=SettingsView::Profile />
                    <ParentRoute ssr=SsrMode::Async path=path!("two-factor") view=SettingsView::TwoFactor>
                        <Route ssr=SsrMode::Async path=path!("") view=|| () />
                        <Route ssr=SsrMode::Async path=path!("enable") view=SettingsView::Enable />
                        <Route ssr=SsrMode::Async path=path!("disable") view=SettingsView::Disable />
                        <Route ssr=SsrMode::Async path=path!("recovery-codes") view=SettingsView::Regenerate />
                        <Route ssr=SsrMode::Async path=path!("new-codes") view=SettingsView::NewCodes />
                        <Route ssr=SsrMode::Async path=path!("passkeys/add") view=SettingsView::AddPasskey />
                        <Route ssr=SsrMode::Async path=path!("passkeys/rename") view=SettingsView::RenamePasskey />
                        <Route ssr=SsrMode::Async path=path!("passkeys/remove") view=SettingsView::RemovePasskey />
                    </ParentRoute>
                    <Route ssr=SsrMode::Async path=path!("sign-in-methods") view=SettingsView::SignInMethods />
                    <Route ssr=SsrMode::Async path=path!("sessions") view=SettingsView::Sessions />
                    <Route ssr=SsrMode::Async path=path!("activity") view=SettingsView::Activity />
                </ParentRoute>
            </Routes>
        </main>
    }
}
