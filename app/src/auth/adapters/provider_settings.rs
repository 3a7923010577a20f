//! The `[[providers]]` tables of the config file, as the operator wrote them.

use std::path::PathBuf;

use serde::Deserialize;

/// How a provider proves who someone is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProviderKind {
    Oidc,
    Github,
    Facebook,
}

/// One `[[providers]]` table of the config file, as the operator wrote it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderSettings {
    /// Names the callback, `/auth/{id}/callback`.
    pub id: String,
    #[serde(deserialize_with = "kind_key")]
    pub kind: ProviderKind,
    /// The button says "Sign in with {name}".
    pub name: String,
    /// The OpenID issuer; discovery starts here. OIDC only.
    pub issuer: Option<String>,
    pub client_id: String,
    pub client_secret_file: PathBuf,
    #[serde(default)]
    pub allow_signup: bool,
    /// May a sign-in whose verified email matches a verified account link to it?
    #[serde(default)]
    pub trust_email: bool,
    /// GitHub and Facebook only: other base URLs, as GitHub Enterprise Server needs.
    pub auth_url: Option<String>,
    pub token_url: Option<String>,
    pub api_url: Option<String>,
}

/// An unknown kind names its key, as the other mistakes in the file do; serde's own
/// message ("unknown variant") does not.
fn kind_key<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<ProviderKind, D::Error> {
    ProviderKind::deserialize(deserializer)
        .map_err(|err| serde::de::Error::custom(format!("key \"kind\": {err}")))
}

/// A provider that cannot be set up; the host names the file around it.
#[derive(Debug, thiserror::Error)]
pub enum ProviderConfigError {
    #[error("provider \"{provider}\": {problem}")]
    Invalid { provider: String, problem: String },
}

pub(crate) fn invalid(provider: &str, problem: impl Into<String>) -> ProviderConfigError {
    ProviderConfigError::Invalid {
        provider: provider.to_owned(),
        problem: problem.into(),
    }
}
