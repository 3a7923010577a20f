//! The pages that are not the sign-in page live in two chunks of the WASM of their own,
//! which the browser fetches the first time it shows one of their pages, so a first visit
//! to the sign-in page downloads neither: Settings with its tabs and dialogs, and the other
//! signed-out pages (the code prompt, sign-up, password reset, the emailed links). The
//! server renders every page as always, and links a page's chunk from its HTML so the
//! browser fetches it alongside the main module.

use leptos::prelude::*;
use leptos_router::ChooseView;

use crate::{
    pages::{
        activity::ActivityTab,
        code_prompt::CodePromptPage,
        email_links::{ConfirmEmailChangePage, VerifyEmailPage},
        home::HomePage,
        passkeys::{AddPasskeyDialog, RemovePasskeyDialog, RenamePasskeyDialog},
        password_reset::{ForgotPasswordPage, ResetPasswordPage},
        provider_sign_up::{ConfirmEmailPage, FinishSignUpPage},
        sessions::SessionsTab,
        settings::{ProfileTab, SettingsPage},
        sign_in_methods::SignInMethodsTab,
        sign_up::SignUpPage,
        two_factor::{DisableDialog, EnableDialog, NewCodesDialog, RegenerateDialog, TwoFactorTab},
    },
    shared::prefetch::Prefetch,
};

/// One view of Settings, as the router's tree places them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SettingsView {
    /// The frame: heading and tab list around the open tab.
    Frame,
    Profile,
    TwoFactor,
    Enable,
    Disable,
    Regenerate,
    NewCodes,
    AddPasskey,
    RenamePasskey,
    RemovePasskey,
    SignInMethods,
    Sessions,
    Activity,
}

/// Every Settings view is rendered through this one function. wasm-split makes one chunk
/// per split point, so a single split point puts all of Settings in one file: one fetch
/// on the first visit, and none between tabs.
#[leptos::lazy]
fn settings_view(view: SettingsView) -> AnyView {
    match view {
        SettingsView::Frame => view! { <SettingsPage /> }.into_any(),
        SettingsView::Profile => view! { <ProfileTab /> }.into_any(),
        SettingsView::TwoFactor => view! { <TwoFactorTab /> }.into_any(),
        SettingsView::Enable => view! { <EnableDialog /> }.into_any(),
        SettingsView::Disable => view! { <DisableDialog /> }.into_any(),
        SettingsView::Regenerate => view! { <RegenerateDialog /> }.into_any(),
        SettingsView::NewCodes => view! { <NewCodesDialog /> }.into_any(),
        SettingsView::AddPasskey => view! { <AddPasskeyDialog /> }.into_any(),
        SettingsView::RenamePasskey => view! { <RenamePasskeyDialog /> }.into_any(),
        SettingsView::RemovePasskey => view! { <RemovePasskeyDialog /> }.into_any(),
        SettingsView::SignInMethods => view! { <SignInMethodsTab /> }.into_any(),
        SettingsView::Sessions => view! { <SessionsTab /> }.into_any(),
        SettingsView::Activity => view! { <ActivityTab /> }.into_any(),
    }
}

impl ChooseView for SettingsView {
    async fn choose(self) -> AnyView {
        #[cfg(feature = "ssr")]
        if self == SettingsView::Frame {
            link_chunk("settings_view");
        }
        settings_view(self).await
    }

    /// The router awaits this before it swaps pages, so a navigation into Settings shows
    /// the new page whole, once the chunk is there.
    async fn preload(&self) {
        #[cfg(feature = "hydrate")]
        __preload_settings_view().await;
    }
}

/// One signed-out page other than the sign-in page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PublicView {
    Home,
    CodePrompt,
    SignUp,
    ForgotPassword,
    ResetPassword,
    VerifyEmail,
    ConfirmEmailChange,
    /// A provider sign-up asks for the address its provider did not prove.
    ProviderSignUpEmail,
    ProviderSignUpFinish,
}

/// The signed-out pages' one split point, as [`settings_view`] is Settings'.
#[leptos::lazy]
fn public_view(view: PublicView) -> AnyView {
    match view {
        PublicView::Home => view! { <HomePage /> }.into_any(),
        PublicView::CodePrompt => view! { <CodePromptPage prefetch=PREFETCH /> }.into_any(),
        PublicView::SignUp => view! { <SignUpPage /> }.into_any(),
        PublicView::ForgotPassword => view! { <ForgotPasswordPage /> }.into_any(),
        PublicView::ResetPassword => view! { <ResetPasswordPage /> }.into_any(),
        PublicView::VerifyEmail => view! { <VerifyEmailPage /> }.into_any(),
        PublicView::ConfirmEmailChange => view! { <ConfirmEmailChangePage /> }.into_any(),
        PublicView::ProviderSignUpEmail => view! { <ConfirmEmailPage /> }.into_any(),
        PublicView::ProviderSignUpFinish => view! { <FinishSignUpPage /> }.into_any(),
    }
}

impl ChooseView for PublicView {
    async fn choose(self) -> AnyView {
        #[cfg(feature = "ssr")]
        link_chunk("public_view");
        public_view(self).await
    }

    async fn preload(&self) {
        #[cfg(feature = "hydrate")]
        __preload_public_view().await;
    }
}

/// What the pages and components below the split points may fetch ahead of time.
pub const PREFETCH: Prefetch = Prefetch {
    settings: fetch_settings_soon,
    public: fetch_public_soon,
};

fn fetch_settings_soon() {
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(__preload_settings_view());
}

fn fetch_public_soon() {
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(__preload_public_view());
}

/// Links the files of the chunk whose split point is `split_point` from the page's head,
/// so a browser landing on the page fetches them beside the main module instead of after
/// it. Leptos links them too, but looks its manifest up outside the request's owner
/// (leptos_integration_utils 0.8.9), so its links are sometimes missing; a browser
/// fetches a file preloaded twice once.
#[cfg(feature = "ssr")]
fn link_chunk(split_point: &str) {
    use leptos_meta::Link;
    let Some(manifest) = use_context::<leptos::WasmSplitManifest>() else {
        return;
    };
    let (pkg, chunks, _) = &*manifest.0.read_value();
    let files = chunks
        .iter()
        .filter(|(key, _)| key.rsplit_once('_').map(|(name, _)| name) == Some(split_point))
        .flat_map(|(_, files)| files);
    for file in files {
        // Rendering a head element registers it with the page's head.
        _ = view! {
            <Link
                rel="preload"
                href=format!("{pkg}/{file}.wasm")
                as_="fetch"
                type_="application/wasm"
                // The chunk is fetched in CORS mode, and a preload is used only when its
                // mode matches.
                crossorigin="anonymous"
            />
        }
        .to_html();
    }
}
