//! What a provider says about the person who came back, and how its errors are told:
//! GitHub's and Facebook's own APIs, and the error text shared with OpenID Connect.

use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::Sha256;

/// Why a round trip to a provider did not identify anyone. The text is for the log; the
/// person is told [`crate::shared::provider_refusal::Refusal`]'s sentence.
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

/// A failed token request: the provider's refusal (GitHub's comes as HTTP 200 with an
/// `error` field, which does not parse as a token), or no answer at all.
pub(crate) fn token_error<RE, TE>(err: oauth2::RequestTokenError<RE, TE>) -> ProviderError
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
pub(crate) fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
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
pub(crate) async fn github_identity(
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
pub(crate) async fn facebook_identity(
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
