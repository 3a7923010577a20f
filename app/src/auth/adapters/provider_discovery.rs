//! Finding a provider's endpoints: OpenID Connect discovery, fetched again now and then
//! so rotated signing keys are picked up, and the fixed OAuth 2 URLs of GitHub and
//! Facebook.

use crate::auth::adapters::provider_apis::error_chain;
use crate::auth::adapters::provider_settings::invalid;
use crate::auth::adapters::provider_settings::ProviderConfigError;
use crate::auth::adapters::provider_settings::ProviderSettings;
use std::time::Duration;

use openidconnect::{
    core::{CoreClient, CoreProviderMetadata},
    AuthUrl, ClientId, ClientSecret, EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl,
    TokenUrl,
};
use serde::Deserialize;
use tokio::sync::RwLock;

type OidcClient = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// What discovery said, refreshed now and then so rotated signing keys are picked up.
pub(crate) struct Discovered {
    pub(crate) client: OidcClient,
    /// The provider promises an `iss` on every authorization response (RFC 9207).
    pub(crate) iss_parameter: bool,
    pub(crate) fetched: std::time::Instant,
}

pub(crate) enum Api {
    Oidc {
        issuer: IssuerUrl,
        discovered: Box<RwLock<Discovered>>,
    },
    Github(OAuthUrls),
    Facebook(OAuthUrls),
}

pub(crate) struct OAuthUrls {
    pub(crate) auth: AuthUrl,
    pub(crate) token: TokenUrl,
    pub(crate) api: String,
}

/// Discovery is fetched again after this long, so signing keys a provider rotates are
/// trusted within the hour.
pub(crate) const REDISCOVER_AFTER: Duration = Duration::from_secs(3600);

pub(crate) fn http_client() -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10))
        .user_agent(concat!("Gatehouse/", env!("CARGO_PKG_VERSION")))
        .build()
}

pub(crate) async fn oidc_api(
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
pub(crate) async fn discover(
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

pub(crate) fn oauth_urls(
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
