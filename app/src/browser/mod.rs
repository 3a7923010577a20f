//! The browser's own APIs, for the components. Each has a stand-in on the server, where
//! no event handler or effect ever runs.

pub mod webauthn;
