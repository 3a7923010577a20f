//! Fetching a chunk of the WASM before its pages are opened. The chunks are made where
//! the router splits the app (`routes::split`), above every page, so a page cannot name
//! them: the router hands this to the pages and components that fetch ahead instead, as a
//! prop (a context would cost a lookup's code in the WASM for two function pointers).

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
    pub fn fetch_settings(self) {
        (self.settings)()
    }

    pub fn fetch_public(self) {
        (self.public)()
    }
}
