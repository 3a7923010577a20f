//! Gatehouse's side of the outside world: the password-hashing threads, the WebAuthn
//! relying party, the identity providers' clients, the apps that sign in through
//! Gatehouse, and the mail server. None of them
//! knows `Services`.

pub mod mailer;
pub mod messages;
pub mod oidc_clients;
pub mod password_hasher;
pub mod provider_apis;
pub mod provider_discovery;
pub mod provider_settings;
pub mod providers;
pub mod relying_party;
