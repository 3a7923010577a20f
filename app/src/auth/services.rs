//! `Services`: the one context every domain function takes, built once by the host. It
//! sits above what it holds (the store, keys, hasher, clock, randomness, providers,
//! clients and relying party) and below everything that uses it.

use std::sync::Arc;

use crate::auth::adapters::{
    oidc_clients::Clients, password_hasher::PasswordHasher, providers::Providers,
    relying_party::RelyingParty,
};
use crate::auth::credentials::sealing::ServerKeys;
use crate::auth::kernel::{
    clock::Clock,
    public_url::PublicUrl,
    random::{Draw, Entropy},
};
use crate::store::{group_commit::GroupCommit, reads::Reads, Backend, Db};

/// Settings the domain needs from the operator.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// The name authenticator apps show next to the account.
    pub issuer: String,
    /// Mark cookies `Secure`; on whenever Gatehouse is served over TLS.
    pub secure_cookies: bool,
    /// Proxies whose `X-Forwarded-For` is believed; from anyone else it is ignored.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// How long a signed-in session may last however active it is.
    pub session_max_age_secs: i64,
    /// Accounts one address may create in an hour.
    pub sign_ups_per_hour: i64,
    /// Where people reach Gatehouse: every redirect and same-site check is built on it.
    pub public_url: PublicUrl,
    /// Every account must use two-factor authentication (`--require-two-factor`).
    pub require_two_factor: bool,
}

/// Everything the domain depends on, built once by the host.
pub struct Services {
    pub db: Db,
    /// Which database `db` is: the few statements whose locking differs ask.
    pub backend: Backend,
    /// Where the code prompt's writes commit: shared commits on SQLite.
    pub commits: GroupCommit,
    /// Where every request's session is read: on the calling thread on SQLite.
    pub reads: Reads,
    pub keys: ServerKeys,
    pub hasher: PasswordHasher,
    pub clock: Arc<dyn Clock>,
    /// Where keys, tokens and codes get their randomness: the OS outside tests.
    pub random: Arc<dyn Entropy>,
    pub config: AuthConfig,
    /// The identity providers people may sign in with; none unless configured.
    pub providers: Providers,
    /// The apps that sign people in through Gatehouse; none unless configured.
    pub clients: Clients,
    /// Gatehouse as a WebAuthn relying party, where its public URL allows passkeys.
    pub passkeys: RelyingParty,
}

impl Services {
    /// The injected randomness as the `CryptoRng` generic code takes.
    pub fn rng(&self) -> Draw<'_> {
        Draw::from(&*self.random)
    }
}
