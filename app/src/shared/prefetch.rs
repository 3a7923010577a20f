//! Fetching a chunk of the WASM before its pages are opened. The chunks are made where
//! the router splits the app (`routes::split`), above every page, so a page cannot name
//! them: the router's layout provides this handle instead, and pages and components read
//! it from the context.

use leptos::prelude::expect_context;

/// Starts fetching a chunk in the background. The functions do nothing on the server.
#[derive(Clone, Copy)]
pub struct Prefetch {
    /// Settings with its tabs and dialogs: likely after the code prompt, and one click
    /// away once signed in.
    pub settings: fn(),
    /// The signed-out pages other than sign-in: the code prompt comes after a password.
    pub public: fn(),
}

impl Prefetch {
    /// The handle the router's layout provided to everything inside it.
    pub fn from_context() -> Self {
        expect_context()
    }

    pub fn fetch_settings(self) {
        (self.settings)()
    }

    pub fn fetch_public(self) {
        (self.public)()
    }
}
