//! Settings, with its tabs and dialogs, is a chunk of the WASM of its own: the browser
//! fetches it the first time it shows a Settings page, so a visit to the sign-in page
//! does not download it. The server renders Settings as always, and links the chunk from
//! those pages so the browser fetches it alongside the main module.

use leptos::prelude::*;
use leptos_router::ChooseView;

use crate::pages::{
    activity::ActivityTab,
    passkeys::{AddPasskeyDialog, RemovePasskeyDialog, RenamePasskeyDialog},
    sessions::SessionsTab,
    settings::{ProfileTab, SettingsPage},
    sign_in_methods::SignInMethodsTab,
    two_factor::{DisableDialog, EnableDialog, NewCodesDialog, RegenerateDialog, TwoFactorTab},
};

/// One view of Settings, as the router's tree places them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
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
        settings_view(self).await
    }

    /// The router awaits this before it swaps pages, so a navigation into Settings shows
    /// the new page whole, once the chunk is there.
    async fn preload(&self) {
        #[cfg(feature = "hydrate")]
        __preload_settings_view().await;
    }
}

/// Starts fetching the Settings chunk in the background, for a page after which Settings
/// is likely (the code prompt, or any page once signed in). Does nothing on the server.
pub fn fetch_settings_soon() {
    #[cfg(feature = "hydrate")]
    leptos::task::spawn_local(__preload_settings_view());
}
