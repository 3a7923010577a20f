//! The page frame and the route table: which view answers which path.

use leptos::prelude::*;
use leptos_router::{
    components::{ParentRoute, Route, Routes},
    path, SsrMode,
};

use super::split::{PublicView, SettingsView, PREFETCH};
use crate::{
    components::header::Header,
    pages::{not_found::NotFound, sign_in::SignInPage},
};

/// The page frame inside the router.
#[component]
pub fn Layout() -> impl IntoView {
    view! {
        <a class="skip-link" href="#main">"Skip to content"</a>
        <Header prefetch=PREFETCH />
        <main id="main">
            // Every route renders completely on the server before it is sent, so each page
            // works without JavaScript and a missing session can still redirect.
            <Routes fallback=NotFound>
                <Route ssr=SsrMode::Async path=path!("/") view=PublicView::Home />
                <Route ssr=SsrMode::Async path=path!("/signin") view=|| view! { <SignInPage prefetch=PREFETCH /> } />
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
