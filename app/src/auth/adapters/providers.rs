//! The identity providers the operator configured: where to send a person, and how to
//! learn who came back. OpenID Connect providers are found by discovery and prove the
//! person with a signed ID token; GitHub and Facebook are OAuth 2 plus their own APIs.
//!
//! The HTTP client never follows redirects: a provider's answer is taken as given, so a
//! hostile metadata document cannot bounce Gatehouse into the operator's own network.

use crate::auth::adapters::provider_apis::facebook_identity;
use crate::auth::adapters::provider_apis::github_identity;
use crate::auth::adapters::provider_apis::token_error;
use crate::auth::adapters::provider_apis::Identity;
use crate::auth::adapters::provider_apis::ProviderError;
use crate::auth::adapters::provider_discovery::discover;
use crate::auth::adapters::provider_discovery::http_client;
use crate::auth::adapters::provider_discovery::oauth_urls;
use crate::auth::adapters::provider_discovery::oidc_api;
use crate::auth::adapters::provider_discovery::Api;
use crate::auth::adapters::provider_discovery::Discovered;
use crate::auth::adapters::provider_discovery::OAuthUrls;
use crate::auth::adapters::provider_discovery::REDISCOVER_AFTER;
use crate::auth::adapters::provider_settings::invalid;
use crate::auth::adapters::provider_settings::ProviderConfigError;
use crate::auth::adapters::provider_settings::ProviderKind;
use crate::auth::adapters::provider_settings::ProviderSettings;
use std::{sync::Arc, time::Duration};

use openidconnect::{
    core::{CoreAuthPrompt, CoreAuthenticationFlow},
    AuthorizationCode, ClientId, CsrfToken, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::RwLock;

use crate::auth::kernel::public_url::PublicUrl;

/// Where to send the browser, and what must be kept to finish when it returns.
pub struct Authorization {
    pub url: String,
    pub state: String,
    pub pkce_verifier: String,
    pub nonce: String,
}

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
            if list.iter().any(|p| p.id == s.id) {
                return Err(invalid(&s.id, "key \"id\": two providers have this id"));
            }
            s.check()?;
            let secret = s.read_secret()?;
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
