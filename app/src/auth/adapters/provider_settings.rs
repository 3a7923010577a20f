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

impl ProviderSettings {
    /// The id names the callback, so it is kept to what a path segment needs; the name is
    /// on a button, so it cannot be blank.
    pub(crate) fn check(&self) -> Result<(), ProviderConfigError> {
        let valid_id = !self.id.is_empty()
            && self.id.len() <= 32
            && self
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !valid_id {
            return Err(invalid(
                &self.id,
                "key \"id\": use 1 to 32 lowercase letters, digits and dashes",
            ));
        }
        if self.name.trim().is_empty() {
            return Err(invalid(&self.id, "key \"name\" is empty"));
        }
        Ok(())
    }

    /// The client secret, from its file: one trailing line break is no part of it.
    pub(crate) fn read_secret(&self) -> Result<String, ProviderConfigError> {
        let file = self.client_secret_file.display();
        let secret = std::fs::read_to_string(&self.client_secret_file).map_err(|err| {
            invalid(
                &self.id,
                format!("key \"client_secret_file\": cannot read {file}: {err}"),
            )
        })?;
        let secret = secret.trim_end_matches(['\r', '\n']).to_owned();
        if secret.is_empty() {
            return Err(invalid(
                &self.id,
                format!("key \"client_secret_file\": {file} is empty"),
            ));
        }
        Ok(secret)
    }
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
