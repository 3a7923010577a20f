//! The identity providers the operator configured: where to send a person, and how to
//! learn who came back. OpenID Connect providers are found by discovery and prove the
//! person with a signed ID token; GitHub and Facebook are OAuth 2 plus their own APIs.
//!
//! The HTTP client never follows redirects: a provider's answer is taken as given, so a
//! hostile metadata document cannot bounce Gatehouse into the operator's own network.

use std::{path::PathBuf, sync::Arc, time::Duration};

use hmac::{Hmac, KeyInit, Mac};
use openidconnect::{
    core::{CoreAuthPrompt, CoreAuthenticationFlow, CoreClient, CoreProviderMetadata},
    AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet,
    EndpointNotSet, EndpointSet, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, TokenResponse, TokenUrl,
};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::Sha256;
use tokio::sync::RwLock;

use crate::redirect::PublicUrl;

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

fn invalid(provider: &str, problem: impl Into<String>) -> ProviderConfigError {
    ProviderConfigError::Invalid {
        provider: provider.to_owned(),
        problem: problem.into(),
    }
}

/// Why a round trip to a provider did not identify anyone. The text is for the log; the
/// person is told [`crate::auth::social::Refusal`]'s sentence.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The person said no at the provider.
    #[error("the person declined at the provider")]
    Declined,
    #[error("the provider refused: {0}")]
    Refused(String),
    #[error("the provider could not be reached: {0}")]
    Unreachable(String),
    /// RFC 9207: the response names another issuer, or none where one is promised.
    #[error("the response's issuer {0:?} is not this provider's")]
    WrongIssuer(Option<String>),
}

/// Who the provider says came back.
#[derive(Debug, Clone)]
pub struct Identity {
    /// The OIDC issuer, or the provider's id for GitHub and Facebook: with `subject`, the
    /// key an account is found by.
    pub provider_key: String,
    pub subject: String,
    pub email: Option<String>,
    /// Only what the provider vouches for: `email_verified` for OIDC, GitHub's verified
    /// primary address. Facebook's addresses never count.
    pub email_verified: bool,
    /// When the person last signed in at the provider (OIDC `auth_time`).
    pub auth_time: Option<i64>,
}

/// Where to send the browser, and what must be kept to finish when it returns.
pub struct Authorization {
    pub url: String,
    pub state: String,
    pub pkce_verifier: String,
    pub nonce: String,
}

type OidcClient = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// What discovery said, refreshed now and then so rotated signing keys are picked up.
struct Discovered {
    client: OidcClient,
    /// The provider promises an `iss` on every authorization response (RFC 9207).
    iss_parameter: bool,
    fetched: std::time::Instant,
}

enum Api {
    Oidc {
        issuer: IssuerUrl,
        discovered: Box<RwLock<Discovered>>,
    },
    Github(OAuthUrls),
    Facebook(OAuthUrls),
}

struct OAuthUrls {
    auth: AuthUrl,
    token: TokenUrl,
    api: String,
}

/// Discovery is fetched again after this long, so signing keys a provider rotates are
/// trusted within the hour.
const REDISCOVER_AFTER: Duration = Duration::from_secs(3600);

/// One configured provider, ready to use.
pub struct Provider {
    pub id: String,
    pub name: String,
    pub allow_signup: bool,
    pub trust_email: bool,
    client_id: ClientId,
    client_secret: SecretString,
    redirect: RedirectUrl,
    api: Api,
}

/// Every configured provider, in the order of the config file, and the HTTP client they
/// share.
#[derive(Clone, Default)]
pub struct Providers {
    list: Arc<Vec<Provider>>,
    http: reqwest::Client,
    /// The origins of the providers' authorization pages, which the pages' CSP must let
    /// a form post redirect to.
    origins: Arc<Vec<String>>,
}

impl Providers {
    /// Checks each provider's settings, reads its secret and runs OIDC discovery: a
    /// provider that cannot work stops the start instead of failing people later.
    pub async fn connect(
        settings: Vec<ProviderSettings>,
        public_url: &PublicUrl,
    ) -> Result<Self, ProviderConfigError> {
        let http = http_client().map_err(|err| invalid("*", err.to_string()))?;
        let mut list: Vec<Provider> = Vec::with_capacity(settings.len());
        for s in settings {
            let valid_id = !s.id.is_empty()
                && s.id.len() <= 32
                && s.id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !valid_id {
                return Err(invalid(
                    &s.id,
                    "key \"id\": use 1 to 32 lowercase letters, digits and dashes",
                ));
            }
            if list.iter().any(|p| p.id == s.id) {
                return Err(invalid(&s.id, "key \"id\": two providers have this id"));
            }
            if s.name.trim().is_empty() {
                return Err(invalid(&s.id, "key \"name\" is empty"));
            }
            let secret = std::fs::read_to_string(&s.client_secret_file).map_err(|err| {
                invalid(
                    &s.id,
                    format!(
                        "key \"client_secret_file\": cannot read {}: {err}",
                        s.client_secret_file.display()
                    ),
                )
            })?;
            let secret = secret.trim_end_matches(['\r', '\n']).to_owned();
            if secret.is_empty() {
                return Err(invalid(
                    &s.id,
                    format!(
                        "key \"client_secret_file\": {} is empty",
                        s.client_secret_file.display()
                    ),
                ));
            }
            let redirect = RedirectUrl::new(format!(
                "{}/auth/{}/callback",
                public_url.as_url().as_str().trim_end_matches('/'),
                s.id
            ))
            .map_err(|err| invalid(&s.id, format!("callback URL: {err}")))?;
            let api = match s.kind {
                ProviderKind::Oidc => oidc_api(&s, &http, &secret).await?,
                ProviderKind::Github => Api::Github(oauth_urls(
                    &s,
                    "https://github.com/login/oauth/authorize",
                    "https://github.com/login/oauth/access_token",
                    "https://api.github.com",
                )?),
                ProviderKind::Facebook => Api::Facebook(oauth_urls(
                    &s,
                    "https://www.facebook.com/v19.0/dialog/oauth",
                    "https://graph.facebook.com/v19.0/oauth/access_token",
                    "https://graph.facebook.com/v19.0",
                )?),
            };
            list.push(Provider {
                id: s.id,
                name: s.name.trim().to_owned(),
                allow_signup: s.allow_signup,
                trust_email: s.trust_email,
                client_id: ClientId::new(s.client_id),
                client_secret: secret.into(),
                redirect,
                api,
            });
        }
        let mut origins: Vec<String> = Vec::new();
        for provider in &list {
            let origin = provider.authorization_origin().await;
            if !origins.contains(&origin) {
                origins.push(origin);
            }
        }
        Ok(Providers {
            list: Arc::new(list),
            http,
            origins: Arc::new(origins),
        })
    }

    /// Where the sign-in buttons' form posts are redirected: the providers' origins.
    pub fn authorization_origins(&self) -> &[String] {
        &self.origins
    }

    pub fn get(&self, id: &str) -> Option<&Provider> {
        self.list.iter().find(|p| p.id == id)
    }

    pub fn iter(&self) -> impl Iterator<Item = &Provider> {
        self.list.iter()
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }
}

fn http_client() -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .user_agent(concat!("Gatehouse/", env!("CARGO_PKG_VERSION")))
        .build()
}

async fn oidc_api(
    s: &ProviderSettings,
    http: &reqwest::Client,
    secret: &str,
) -> Result<Api, ProviderConfigError> {
    for key in ["auth_url", "token_url", "api_url"] {
        let set = match key {
            "auth_url" => s.auth_url.is_some(),
            "token_url" => s.token_url.is_some(),
            _ => s.api_url.is_some(),
        };
        if set {
            return Err(invalid(
                &s.id,
                format!("key \"{key}\" is for github and facebook; an oidc provider is found by its issuer"),
            ));
        }
    }
    let issuer = s
        .issuer
        .as_deref()
        .ok_or_else(|| invalid(&s.id, "key \"issuer\" is required for kind \"oidc\""))?;
    let issuer = IssuerUrl::new(issuer.to_owned())
        .map_err(|err| invalid(&s.id, format!("key \"issuer\": {err}")))?;
    let discovered = discover(&issuer, &ClientId::new(s.client_id.clone()), secret, http)
        .await
        .map_err(|err| {
            invalid(
                &s.id,
                format!(
                    "key \"issuer\": discovery at {} failed: {err}",
                    issuer.as_str()
                ),
            )
        })?;
    Ok(Api::Oidc {
        issuer,
        discovered: Box::new(RwLock::new(discovered)),
    })
}

/// The discovery document, its signing keys, and whether it promises RFC 9207's `iss`.
async fn discover(
    issuer: &IssuerUrl,
    client_id: &ClientId,
    secret: &str,
    http: &reqwest::Client,
) -> Result<Discovered, String> {
    let metadata = CoreProviderMetadata::discover_async(issuer.clone(), http)
        .await
        .map_err(|err| error_chain(&err))?;
    // openidconnect's core metadata has no field for RFC 9207; read that one flag here.
    #[derive(Deserialize)]
    struct Rfc9207 {
        #[serde(default)]
        authorization_response_iss_parameter_supported: bool,
    }
    let url = format!(
        "{}/.well-known/openid-configuration",
        issuer.as_str().trim_end_matches('/')
    );
    let flags: Rfc9207 = http
        .get(url)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|err| error_chain(&err.without_url()))?
        .json()
        .await
        .map_err(|err| error_chain(&err.without_url()))?;
    let client = CoreClient::from_provider_metadata(
        metadata,
        client_id.clone(),
        Some(ClientSecret::new(secret.to_owned())),
    );
    Ok(Discovered {
        client,
        iss_parameter: flags.authorization_response_iss_parameter_supported,
        fetched: std::time::Instant::now(),
    })
}

fn oauth_urls(
    s: &ProviderSettings,
    auth: &str,
    token: &str,
    api: &str,
) -> Result<OAuthUrls, ProviderConfigError> {
    if s.issuer.is_some() {
        return Err(invalid(
            &s.id,
            "key \"issuer\" is for oidc providers; github and facebook take auth_url, token_url and api_url",
        ));
    }
    let auth = AuthUrl::new(s.auth_url.clone().unwrap_or_else(|| auth.to_owned()))
        .map_err(|err| invalid(&s.id, format!("key \"auth_url\": {err}")))?;
    let token = TokenUrl::new(s.token_url.clone().unwrap_or_else(|| token.to_owned()))
        .map_err(|err| invalid(&s.id, format!("key \"token_url\": {err}")))?;
    let api = s.api_url.clone().unwrap_or_else(|| api.to_owned());
    url::Url::parse(&api).map_err(|err| invalid(&s.id, format!("key \"api_url\": {err}")))?;
    Ok(OAuthUrls {
        auth,
        token,
        api: api.trim_end_matches('/').to_owned(),
    })
}

impl Provider {
    /// An OpenID provider can be asked for a fresh sign-in (`prompt=login`, `max_age=0`)
    /// and says when it happened; GitHub and Facebook cannot.
    pub fn can_confirm_fresh_sign_in(&self) -> bool {
        matches!(self.api, Api::Oidc { .. })
    }

    async fn authorization_origin(&self) -> String {
        let url = match &self.api {
            Api::Oidc { discovered, .. } => discovered.read().await.client.auth_uri().url().clone(),
            Api::Github(urls) | Api::Facebook(urls) => urls.auth.url().clone(),
        };
        url.origin().ascii_serialization()
    }

    /// The key linked identities of this provider are stored under.
    pub fn key(&self) -> &str {
        match &self.api {
            Api::Oidc { issuer, .. } => issuer.as_str(),
            Api::Github(_) | Api::Facebook(_) => &self.id,
        }
    }

    /// A new authorization request with its own state, PKCE verifier and nonce. `fresh`
    /// asks an OpenID provider to make the person sign in again.
    pub async fn authorization(
        &self,
        providers: &Providers,
        fresh: bool,
    ) -> Result<Authorization, ProviderError> {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let state = CsrfToken::new_random();
        let state_value = state.secret().clone();
        let (url, nonce) = match &self.api {
            Api::Oidc { .. } => {
                let discovered = self.discovered(providers).await?;
                let guard = discovered.read().await;
                let mut request = guard
                    .client
                    .authorize_url(
                        CoreAuthenticationFlow::AuthorizationCode,
                        move || state,
                        Nonce::new_random,
                    )
                    .add_scope(Scope::new("email".into()))
                    .add_scope(Scope::new("profile".into()))
                    .set_pkce_challenge(challenge)
                    .set_redirect_uri(std::borrow::Cow::Borrowed(&self.redirect));
                if fresh {
                    request = request
                        .add_prompt(CoreAuthPrompt::Login)
                        .set_max_age(Duration::ZERO);
                }
                let (url, _, nonce) = request.url();
                (url, nonce.secret().clone())
            }
            Api::Github(urls) | Api::Facebook(urls) => {
                let scope = match self.api {
                    Api::Github(_) => "read:user user:email",
                    _ => "email",
                };
                let (url, _) = self
                    .oauth_client(urls)
                    .authorize_url(move || state)
                    .add_scope(Scope::new(scope.into()))
                    .set_pkce_challenge(challenge)
                    .url();
                (url, String::new())
            }
        };
        Ok(Authorization {
            url: url.to_string(),
            state: state_value,
            pkce_verifier: verifier.secret().clone(),
            nonce,
        })
    }

    /// Checks the callback's `iss` (RFC 9207), trades the code for tokens and learns who
    /// signed in. The tokens are dropped here: Gatehouse needs the identity, not access.
    pub async fn identify(
        &self,
        providers: &Providers,
        code: String,
        iss: Option<&str>,
        pkce_verifier: String,
        nonce: &str,
    ) -> Result<Identity, ProviderError> {
        let code = AuthorizationCode::new(code);
        let verifier = PkceCodeVerifier::new(pkce_verifier);
        let http = providers.http();
        match &self.api {
            Api::Oidc { issuer, .. } => {
                let discovered = self.discovered(providers).await?;
                let guard = discovered.read().await;
                match iss {
                    Some(iss) if iss != issuer.as_str() => {
                        return Err(ProviderError::WrongIssuer(Some(iss.to_owned())))
                    }
                    None if guard.iss_parameter => return Err(ProviderError::WrongIssuer(None)),
                    _ => {}
                }
                let tokens = guard
                    .client
                    .exchange_code(code)
                    .map_err(|err| ProviderError::Refused(err.to_string()))?
                    .set_pkce_verifier(verifier)
                    .set_redirect_uri(std::borrow::Cow::Borrowed(&self.redirect))
                    .request_async(http)
                    .await
                    .map_err(token_error)?;
                let id_token = tokens
                    .id_token()
                    .ok_or_else(|| ProviderError::Refused("no ID token in the response".into()))?;
                let claims = id_token
                    .claims(
                        &guard.client.id_token_verifier(),
                        &Nonce::new(nonce.to_owned()),
                    )
                    .map_err(|err| ProviderError::Refused(format!("ID token: {err}")))?;
                Ok(Identity {
                    provider_key: issuer.as_str().to_owned(),
                    subject: claims.subject().as_str().to_owned(),
                    email: claims.email().map(|e| e.as_str().to_owned()),
                    email_verified: claims.email_verified().unwrap_or(false),
                    auth_time: claims.auth_time().map(|t| t.timestamp()),
                })
            }
            Api::Github(urls) => {
                let token = self.oauth_token(urls, code, verifier, http).await?;
                github_identity(&self.id, &urls.api, &token, http).await
            }
            Api::Facebook(urls) => {
                let token = self.oauth_token(urls, code, verifier, http).await?;
                facebook_identity(&self.id, &urls.api, &token, &self.client_secret, http).await
            }
        }
    }

    /// The discovered client, fetched again first when it is older than an hour. A
    /// provider that is away keeps its last good document.
    async fn discovered(
        &self,
        providers: &Providers,
    ) -> Result<&RwLock<Discovered>, ProviderError> {
        let Api::Oidc { issuer, discovered } = &self.api else {
            return Err(ProviderError::Refused("not an OpenID provider".into()));
        };
        if discovered.read().await.fetched.elapsed() >= REDISCOVER_AFTER {
            let secret = self.client_secret.expose_secret();
            match discover(issuer, &self.client_id, secret, providers.http()).await {
                Ok(fresh) => *discovered.write().await = fresh,
                Err(err) => {
                    tracing::warn!(provider = %self.id, error = %err, "rediscovery failed; keeping the last document");
                }
            }
        }
        Ok(discovered)
    }

    fn oauth_client(
        &self,
        urls: &OAuthUrls,
    ) -> oauth2::basic::BasicClient<
        oauth2::EndpointSet,
        oauth2::EndpointNotSet,
        oauth2::EndpointNotSet,
        oauth2::EndpointNotSet,
        oauth2::EndpointSet,
    > {
        oauth2::basic::BasicClient::new(oauth2::ClientId::new(self.client_id.to_string()))
            .set_client_secret(oauth2::ClientSecret::new(
                self.client_secret.expose_secret().to_owned(),
            ))
            .set_auth_uri(oauth2::AuthUrl::from_url(urls.auth.url().clone()))
            .set_token_uri(oauth2::TokenUrl::from_url(urls.token.url().clone()))
            .set_redirect_uri(oauth2::RedirectUrl::from_url(self.redirect.url().clone()))
            // Both document the client's credentials as form fields of the token request.
            .set_auth_type(oauth2::AuthType::RequestBody)
    }

    async fn oauth_token(
        &self,
        urls: &OAuthUrls,
        code: AuthorizationCode,
        verifier: PkceCodeVerifier,
        http: &reqwest::Client,
    ) -> Result<SecretString, ProviderError> {
        let tokens = self
            .oauth_client(urls)
            .exchange_code(oauth2::AuthorizationCode::new(code.into_secret()))
            .set_pkce_verifier(oauth2::PkceCodeVerifier::new(verifier.into_secret()))
            .request_async(http)
            .await
            .map_err(token_error)?;
        Ok(tokens.access_token().secret().clone().into())
    }
}

/// A failed token request: the provider's refusal (GitHub's comes as HTTP 200 with an
/// `error` field, which does not parse as a token), or no answer at all.
fn token_error<RE, TE>(err: oauth2::RequestTokenError<RE, TE>) -> ProviderError
where
    RE: std::error::Error + 'static,
    TE: oauth2::ErrorResponse + 'static,
{
    match err {
        oauth2::RequestTokenError::Request(err) => ProviderError::Unreachable(error_chain(&err)),
        other => ProviderError::Refused(error_chain(&other)),
    }
}

/// An error and its causes, as text for the log.
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = own_text(err);
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&own_text(cause));
        source = cause.source();
    }
    text
}

/// An error's own text. reqwest's names the URL, whose query may carry a token; inside
/// the oauth2 crates' errors it cannot be taken off with `without_url`, so it is cut here.
fn own_text(err: &(dyn std::error::Error + 'static)) -> String {
    let text = err.to_string();
    match err
        .downcast_ref::<reqwest::Error>()
        .and_then(reqwest::Error::url)
    {
        Some(url) => text.replace(&format!(" for url ({url})"), ""),
        None => text,
    }
}

async fn api_get<T: serde::de::DeserializeOwned>(
    request: reqwest::RequestBuilder,
) -> Result<T, ProviderError> {
    let response = request
        .send()
        .await
        .map_err(|err| ProviderError::Unreachable(error_chain(&err.without_url())))?;
    let status = response.status();
    if !status.is_success() {
        let body = response.text().await.unwrap_or_default();
        let body: String = body.chars().take(200).collect();
        return Err(ProviderError::Refused(format!(
            "API answered {status}: {body}"
        )));
    }
    response
        .json()
        .await
        .map_err(|err| ProviderError::Refused(format!("API answer: {}", err.without_url())))
}

/// GitHub's `/user` for the numeric id and `/user/emails` for the primary address and
/// whether GitHub verified it.
async fn github_identity(
    provider_id: &str,
    api: &str,
    token: &SecretString,
    http: &reqwest::Client,
) -> Result<Identity, ProviderError> {
    #[derive(Deserialize)]
    struct User {
        id: u64,
    }
    #[derive(Deserialize)]
    struct Email {
        email: String,
        primary: bool,
        verified: bool,
    }
    let get = |path: &str| {
        http.get(format!("{api}{path}"))
            .bearer_auth(token.expose_secret())
            .header(reqwest::header::ACCEPT, "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28")
    };
    let user: User = api_get(get("/user")).await?;
    let emails: Vec<Email> = api_get(get("/user/emails")).await?;
    let primary = emails.into_iter().find(|e| e.primary);
    Ok(Identity {
        provider_key: provider_id.to_owned(),
        subject: user.id.to_string(),
        email_verified: primary.as_ref().is_some_and(|e| e.verified),
        email: primary.map(|e| e.email),
        auth_time: None,
    })
}

/// The Graph API's `/me`, with the `appsecret_proof` Facebook asks servers to send. The
/// token travels in a header, never in a URL, which errors and proxies write down.
/// Facebook does not say whether it verified the address, so it never counts as verified.
async fn facebook_identity(
    provider_id: &str,
    api: &str,
    token: &SecretString,
    app_secret: &SecretString,
    http: &reqwest::Client,
) -> Result<Identity, ProviderError> {
    #[derive(Deserialize)]
    struct Me {
        id: String,
        email: Option<String>,
    }
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(app_secret.expose_secret().as_bytes())
        .expect("HMAC takes any key length");
    mac.update(token.expose_secret().as_bytes());
    let proof = data_encoding::HEXLOWER.encode(&mac.finalize().into_bytes());
    let me: Me = api_get(
        http.get(format!("{api}/me"))
            .bearer_auth(token.expose_secret())
            .query(&[("fields", "id,name,email"), ("appsecret_proof", &proof)]),
    )
    .await?;
    if me.id.is_empty() || !me.id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ProviderError::Refused(
            "Facebook sent no numeric user id".into(),
        ));
    }
    Ok(Identity {
        provider_key: provider_id.to_owned(),
        subject: me.id,
        email: me.email,
        email_verified: false,
        auth_time: None,
    })
}
