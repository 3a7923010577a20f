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

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use crate::shared::paths;

    fn routed() -> Vec<String> {
        leptos_axum::generate_route_list(crate::App)
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
