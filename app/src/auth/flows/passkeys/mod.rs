//! Passkeys and security keys (WebAuthn): as a second factor after the password, and as a
//! passwordless sign-in that counts as both factors.
//!
//! A registered passkey turns two-factor authentication on, with recovery codes, as the
//! authenticator app does; removing the last second factor turns it off. Every change is a
//! factor change (see `factor_change::commit_factor_change`). The relying party is the public
//! URL's host, so passkeys need Gatehouse to be reached by a name, never an IP address.

pub mod registration;
pub mod sign_in;

/// What the browser needs for `navigator.credentials`: the ceremony's id and its options.
pub struct Challenge {
    pub ceremony: String,
    /// The WebAuthn options as JSON, for the browser's `parse…OptionsFromJSON`.
    pub options: String,
}
