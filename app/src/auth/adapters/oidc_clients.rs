//! The `[[clients]]` tables of the config file: the apps that sign people in through
//! Gatehouse as their OpenID provider. Every mistake stops the start, naming the client
//! and the key, so a client that cannot work never fails people later.

use std::{path::PathBuf, sync::Arc};

use serde::Deserialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The longest redirect URI accepted; longer ones are no app's.
const MAX_URI_LEN: usize = 512;
/// A shorter client secret could be guessed.
const MIN_SECRET_LEN: usize = 32;

/// One `[[clients]]` table, as the operator wrote it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientSettings {
    pub client_id: String,
    /// What people are shown: "Notes wants to know your email address".
    pub name: String,
    /// Absent for a public client (a single-page or native app), which proves itself
    /// with PKCE alone.
    pub client_secret_file: Option<PathBuf>,
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    /// This app's people must have two-factor authentication on.
    #[serde(default)]
    pub require_two_factor: bool,
}

/// A client that cannot be set up; the host names the file around it.
#[derive(Debug, thiserror::Error)]
pub enum ClientConfigError {
    #[error("client \"{client}\": {problem}")]
    Invalid { client: String, problem: String },
}

fn invalid(client: &str, problem: impl Into<String>) -> ClientConfigError {
    ClientConfigError::Invalid {
        client: client.to_owned(),
        problem: problem.into(),
    }
}

/// One configured client, ready to use. Its secret is kept only as a SHA-256 digest,
/// compared in constant time, and `Debug` never shows it.
pub struct Client {
    pub id: String,
    pub name: String,
    secret_digest: Option<[u8; 32]>,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub require_two_factor: bool,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("confidential", &self.secret_digest.is_some())
            .field("redirect_uris", &self.redirect_uris)
            .field("post_logout_redirect_uris", &self.post_logout_redirect_uris)
            .field("require_two_factor", &self.require_two_factor)
            .finish()
    }
}

impl Client {
    /// A client without a secret: PKCE is all that proves it.
    pub fn is_public(&self) -> bool {
        self.secret_digest.is_none()
    }

    /// Whether `uri` is one of the client's redirect URIs, byte for byte: no prefix, no
    /// case folding, no normalising.
    pub fn redirects_to(&self, uri: &str) -> bool {
        self.redirect_uris
            .iter()
            .any(|registered| registered == uri)
    }

    /// The same exact match, for where RP-initiated logout may send the browser.
    pub fn logs_out_to(&self, uri: &str) -> bool {
        self.post_logout_redirect_uris
            .iter()
            .any(|registered| registered == uri)
    }

    /// Whether `presented` is the client's secret. A public client has none to present.
    pub fn authenticates(&self, presented: &str) -> bool {
        self.secret_digest.is_some_and(|digest| {
            let presented: [u8; 32] = Sha256::digest(presented.as_bytes()).into();
            bool::from(presented.ct_eq(&digest))
        })
    }
}

/// Every configured client, in the order of the config file.
#[derive(Debug, Clone, Default)]
pub struct Clients(Arc<Vec<Client>>);

impl Clients {
    /// Checks each client's settings and reads its secret.
    pub fn from_settings(settings: Vec<ClientSettings>) -> Result<Self, ClientConfigError> {
        let mut list: Vec<Client> = Vec::with_capacity(settings.len());
        for s in settings {
            s.check()?;
            if list.iter().any(|c| c.id == s.client_id) {
                return Err(invalid(
                    &s.client_id,
                    "key \"client_id\": two clients have this id",
                ));
            }
            let secret_digest = s
                .read_secret()?
                .map(|secret| Sha256::digest(secret.as_bytes()).into());
            list.push(Client {
                id: s.client_id,
                name: s.name.trim().to_owned(),
                secret_digest,
                redirect_uris: s.redirect_uris,
                post_logout_redirect_uris: s.post_logout_redirect_uris,
                require_two_factor: s.require_two_factor,
            });
        }
        Ok(Clients(Arc::new(list)))
    }

    pub fn get(&self, id: &str) -> Option<&Client> {
        self.0.iter().find(|c| c.id == id)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Client> {
        self.0.iter()
    }
}

impl ClientSettings {
    fn check(&self) -> Result<(), ClientConfigError> {
        let id = &self.client_id;
        let valid_id = !id.is_empty()
            && id.len() <= 64
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if !valid_id {
            return Err(invalid(
                id,
                "key \"client_id\": use 1 to 64 letters, digits, dots, dashes and underscores",
            ));
        }
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
            return Err(invalid(
                id,
                "key \"name\": give 1 to 64 characters, no control characters",
            ));
        }
        if self.redirect_uris.is_empty() {
            return Err(invalid(id, "key \"redirect_uris\" is empty"));
        }
        for uri in &self.redirect_uris {
            check_uri(uri)
                .map_err(|problem| invalid(id, format!("key \"redirect_uris\": {problem}")))?;
        }
        for uri in &self.post_logout_redirect_uris {
            check_uri(uri).map_err(|problem| {
                invalid(id, format!("key \"post_logout_redirect_uris\": {problem}"))
            })?;
        }
        Ok(())
    }

    /// The client secret from its file, if it has one: one trailing line break is no part
    /// of it.
    fn read_secret(&self) -> Result<Option<String>, ClientConfigError> {
        let Some(path) = &self.client_secret_file else {
            return Ok(None);
        };
        let file = path.display();
        let secret = std::fs::read_to_string(path).map_err(|err| {
            invalid(
                &self.client_id,
                format!("key \"client_secret_file\": cannot read {file}: {err}"),
            )
        })?;
        let secret = secret.trim_end_matches(['\r', '\n']);
        if secret.chars().count() < MIN_SECRET_LEN {
            return Err(invalid(
                &self.client_id,
                format!(
                    "key \"client_secret_file\": the secret in {file} is shorter than \
                     {MIN_SECRET_LEN} characters; make one with `openssl rand -base64 32`"
                ),
            ));
        }
        Ok(Some(secret.to_owned()))
    }
}

/// An absolute `https` URL (or `http` to this machine, for development) with no fragment
/// and no user name: where Gatehouse may send a browser back with a code.
fn check_uri(uri: &str) -> Result<(), String> {
    if uri.len() > MAX_URI_LEN {
        return Err(format!("{uri:?} is longer than {MAX_URI_LEN} bytes"));
    }
    if uri.contains('*') {
        return Err(format!("{uri:?} has a wildcard, which is never matched"));
    }
    let url = url::Url::parse(uri).map_err(|err| format!("{uri:?} is no absolute URL: {err}"))?;
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        _ => return Err(format!("{uri:?} must use https (http only to localhost)")),
    }
    if url.fragment().is_some() || uri.contains('#') {
        return Err(format!("{uri:?} has a fragment"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!("{uri:?} has a user name"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(id: &str, uris: &[&str]) -> ClientSettings {
        ClientSettings {
            client_id: id.into(),
            name: "Notes".into(),
            client_secret_file: None,
            redirect_uris: uris.iter().map(|u| u.to_string()).collect(),
            post_logout_redirect_uris: Vec::new(),
            require_two_factor: false,
        }
    }

    fn problem(s: ClientSettings) -> String {
        Clients::from_settings(vec![s]).unwrap_err().to_string()
    }

    #[test]
    fn redirect_uris_match_byte_for_byte_only() {
        let clients = Clients::from_settings(vec![settings(
            "notes",
            &["https://notes.example.com/oidc/callback"],
        )])
        .unwrap();
        let client = clients.get("notes").unwrap();
        assert!(client.redirects_to("https://notes.example.com/oidc/callback"));
        for trick in [
            "https://notes.example.com/oidc/callback/",
            "https://notes.example.com/oidc/callback?x=1",
            "https://notes.example.com/oidc/../oidc/callback",
            "https://NOTES.example.com/oidc/callback",
            "https://notes.example.com/oidc/Callback",
            "https://notes.example.com@evil.test/oidc/callback",
            "https://notes.example.com.evil.test/oidc/callback",
            "https://notes.example.com/oidc/callback..;/",
            "https://notes.example.com:443/oidc/callback",
        ] {
            assert!(!client.redirects_to(trick), "{trick}");
        }
        assert!(clients.get("other").is_none());
    }

    #[test]
    fn unsafe_redirect_uris_stop_the_start_naming_the_client_and_key() {
        for (uri, words) in [
            ("http://notes.example.com/cb", "https"),
            ("https://notes.example.com/cb#x", "fragment"),
            ("https://user@notes.example.com/cb", "user name"),
            ("https://*.example.com/cb", "wildcard"),
            ("/relative/cb", "absolute"),
        ] {
            let problem = problem(settings("notes", &[uri]));
            assert!(problem.contains("client \"notes\""), "{problem}");
            assert!(problem.contains("redirect_uris"), "{problem}");
            assert!(problem.contains(words), "{uri}: {problem}");
        }
        assert!(problem(settings("notes", &[])).contains("redirect_uris\" is empty"));
        assert!(
            Clients::from_settings(vec![settings("dev", &["http://localhost:8080/cb"])]).is_ok()
        );
    }

    #[test]
    fn ids_names_and_duplicates_are_checked() {
        assert!(problem(settings("no spaces", &["https://a.test/cb"])).contains("client_id"));
        let mut blank = settings("notes", &["https://a.test/cb"]);
        blank.name = " ".into();
        assert!(problem(blank).contains("name"));
        let twice = Clients::from_settings(vec![
            settings("notes", &["https://a.test/cb"]),
            settings("notes", &["https://b.test/cb"]),
        ]);
        assert!(twice.unwrap_err().to_string().contains("two clients"));
    }

    #[test]
    fn a_secret_is_checked_in_constant_time_and_never_shown() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("notes.secret");
        let secret = "a-secret-long-enough-for-a-client-0123456789";
        std::fs::write(&file, format!("{secret}\n")).unwrap();
        let mut confidential = settings("notes", &["https://a.test/cb"]);
        confidential.client_secret_file = Some(file.clone());
        let clients = Clients::from_settings(vec![confidential.clone()]).unwrap();
        let client = clients.get("notes").unwrap();
        assert!(!client.is_public());
        assert!(client.authenticates(secret));
        assert!(!client.authenticates(&format!("{secret}\n")));
        assert!(!client.authenticates("wrong"));
        assert!(!format!("{client:?}").contains(secret));

        std::fs::write(&file, "short\n").unwrap();
        assert!(problem(confidential).contains("shorter than 32"));

        let public = Clients::from_settings(vec![settings("spa", &["https://a.test/cb"])]).unwrap();
        assert!(public.get("spa").unwrap().is_public());
        assert!(!public.get("spa").unwrap().authenticates(""));
    }
}
