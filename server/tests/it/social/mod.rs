//! Social sign-in (issue 11) end to end: the real server binary and database, and identity
//! providers on loopback started per test by `common::providers`.
//!
//! What the providers are, and which behaviours of the real ones they reproduce:
//! - `idp` is a real OpenID provider, the certified `oidc-provider` library
//!   (end2end/providers/oidc.mjs): discovery, JWKS, signed RS256 ID tokens with nonce and
//!   `auth_time`, required PKCE S256, `client_secret_basic`, single-use codes, the RFC 9207
//!   `iss` response parameter, a provider session that signs a browser in again without a
//!   form, and `prompt=login`/`max_age=0` forcing the login form back.
//! - `github` and `facebook` are stand-ins (end2end/providers/standin.mjs) for what
//!   Gatehouse relies on: the registered redirect_uri, PKCE S256, single-use ten-minute
//!   codes, Cancel answering `error=access_denied`; GitHub's token errors as HTTP 200 with
//!   an `error` field, JSON only for `Accept: application/json`, `/user` without an email
//!   and `/user/emails` listing a non-primary address first, a User-Agent required; Facebook's
//!   Graph errors (HTTP 400 OAuthException), `appsecret_proof` required, and no verified flag.
//!   Their tokens look like the real ones: `gho_…` and `EAA…`.
//! - `tamper` is an OpenID issuer that behaves until told to break one thing: the ID token's
//!   `aud`, `nonce`, `exp`, signature or `alg`, an `auth_time` an hour old, or the callback's
//!   RFC 9207 `iss`.
//!
//! Not reproduced: consent screens, rate limits, token expiry and refresh, signing-key
//! rotation, GitHub's redirect to the registered callback on a redirect_uri mismatch.
//!
//! Cookies are kept per host, ports ignored, as browsers do: one `Browser` is one browser
//! at Gatehouse and at the providers alike.

mod config;
mod linking;
mod reauth;
mod sign_in;
mod sign_up;
mod state;
mod tokens;

use crate::common::{providers::*, *};
use futures::future::join_all;
use reqwest::{header::LOCATION, Client, Response, StatusCode, Url};

const STEP: u64 = 30;
const METHODS_PAGE: &str = "/settings/sign-in-methods";
const CONFIRM_EMAIL_PAGE: &str = "/signup/email";

/// A Gatehouse on the port its providers know, with the providers' config.
struct World {
    server: TestServer,
    providers: Providers,
    _dir: tempfile::TempDir,
}

impl World {
    fn start() -> World {
        Self::start_with(&[])
    }

    /// `overrides` change the generated config, as `Providers::write_config` takes them.
    fn start_with(overrides: &[(&str, &str, &str)]) -> World {
        Self::start_with_env(overrides, &[])
    }

    /// As `start_with`, with extra environment variables for Gatehouse.
    fn start_with_env(overrides: &[(&str, &str, &str)], env: &[(&str, &str)]) -> World {
        let port = free_port();
        let origin = format!("http://127.0.0.1:{port}");
        let dir = tempfile::tempdir().expect("temp dir");
        let providers = Providers::start(&origin, dir.path());
        let config = if overrides.is_empty() {
            providers.config_path.clone()
        } else {
            providers.write_config("variant.toml", overrides)
        };
        let addr = format!("127.0.0.1:{port}");
        let mut env_with = vec![
            ("GATEHOUSE_ADDR", addr.as_str()),
            ("GATEHOUSE_CONFIG", config.to_str().expect("UTF-8 path")),
        ];
        env_with.extend_from_slice(env);
        let server = TestServer::start_with(DataDir::new(), &env_with);
        assert_eq!(server.url.trim_end_matches('/'), origin);
        World {
            server,
            providers,
            _dir: dir,
        }
    }

    fn browser(&self) -> Browser {
        self.server.browser()
    }

    async fn db(&self) -> sqlx::AnyPool {
        self.server.db().await
    }

    async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
            .fetch_one(&self.db().await)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// Proves the account's address behind the API, as its link would.
    async fn verify(&self, email: &str) {
        mark_verified(&self.server.data.database_url, email).await;
    }

    async fn user_id(&self, email: &str) -> i64 {
        sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
            .bind(email)
            .fetch_one(&self.db().await)
            .await
            .unwrap_or_else(|e| panic!("no user {email}: {e}"))
    }

    /// The account's linked identities as (provider id, subject).
    async fn links(&self, user_id: i64) -> Vec<(String, String)> {
        sqlx::query_as(
            "SELECT provider_id, subject FROM linked_identities WHERE user_id = $1 \
             ORDER BY provider_id",
        )
        .bind(user_id)
        .fetch_all(&self.db().await)
        .await
        .expect("linked identities")
    }
}

fn location(res: &Response) -> String {
    header(res, "location")
}

fn query_param(url: &str, name: &str) -> Option<String> {
    Url::parse(url)
        .expect("URL")
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// `POST /auth/{provider}/start` with `form`, as the page's form sends it.
async fn post_start(browser: &Browser, provider: &str, form: &[(&str, &str)]) -> Response {
    browser
        .client
        .post(format!("{}/auth/{provider}/start", browser.base))
        .form(form)
        .send()
        .await
        .expect("POST start")
}

/// `POST /auth/{provider}/start`, as the provider button does: the provider's authorize URL.
/// A link is confirmed with `PASSWORD` (an account without one has confirmed at a
/// provider before, which the server then takes instead) and no code.
async fn begin(browser: &Browser, provider: &str, purpose: &str, next: Option<&str>) -> String {
    begin_confirmed(browser, provider, purpose, next, "").await
}

/// [`begin`], with `code` confirming a link of an account with two-factor authentication.
async fn begin_confirmed(
    browser: &Browser,
    provider: &str,
    purpose: &str,
    next: Option<&str>,
    code: &str,
) -> String {
    let mut form = vec![("purpose", purpose)];
    if let Some(next) = next {
        form.push(("next", next));
    }
    if purpose == "link" {
        form.extend([("password", PASSWORD), ("code", code)]);
    }
    let res = post_start(browser, provider, &form).await;
    let status = res.status();
    let binding = res.headers().get_all("set-cookie").iter().any(|v| {
        v.to_str()
            .unwrap_or_default()
            .starts_with("gatehouse_oauth=")
    });
    let to = res
        .headers()
        .get(LOCATION)
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "start {provider} {purpose}: {}",
        res.text().await.unwrap_or_default()
    );
    assert!(binding, "start {provider} {purpose} set no binding cookie");
    assert!(to.starts_with("http://127.0.0.1:"), "{to}");
    to
}

/// Signs in at the provider as `login`: the callback URL it sends the browser back to.
async fn at_provider(browser: &Browser, provider: &str, authorize: &str, login: &str) -> String {
    if provider == "idp" {
        oidc_login(&browser.client, authorize, login).await
    } else {
        standin_login(&browser.client, authorize, login).await
    }
}

/// The browser arrives at Gatehouse's callback (or any absolute URL).
async fn arrive(browser: &Browser, url: &str) -> Response {
    let res = browser.client.get(url).send().await.expect("GET callback");
    assert!(!res.status().is_server_error(), "{url}: {}", res.status());
    res
}

/// One whole round trip: start, sign in at the provider, come back.
async fn round_trip(browser: &Browser, provider: &str, purpose: &str, login: &str) -> Response {
    round_trip_confirmed(browser, provider, purpose, login, "").await
}

/// [`round_trip`] with a code confirming a link.
async fn round_trip_confirmed(
    browser: &Browser,
    provider: &str,
    purpose: &str,
    login: &str,
    code: &str,
) -> Response {
    let authorize = begin_confirmed(browser, provider, purpose, None, code).await;
    let callback = at_provider(browser, provider, &authorize, login).await;
    assert!(
        callback.contains(&format!("/auth/{provider}/callback?")),
        "{callback}"
    );
    arrive(browser, &callback).await
}

/// Disconnects `provider`, confirmed with `PASSWORD` (or a confirmation at a provider
/// before, for an account without one) and no code.
async fn disconnect(browser: &Browser, provider: &str) -> Response {
    browser
        .call(
            "disconnect_provider",
            &[("provider", provider), ("password", PASSWORD), ("code", "")],
        )
        .await
}

/// Confirms the session's person with a fresh sign-in at `provider` as `login`.
async fn confirm_at_provider(browser: &Browser, provider: &str, login: &str) {
    let res = round_trip(browser, provider, "reauth", login).await;
    assert_eq!(location(&res), METHODS_PAGE, "reauth at {provider}");
}

/// A new browser signed in through `provider` as `login`, with a full session.
async fn signed_in_with(world: &World, provider: &str, login: &str) -> Browser {
    let browser = world.browser();
    let res = round_trip(&browser, provider, "sign_in", login).await;
    assert_signed_in(&res, "/settings");
    browser
}

fn assert_signed_in(res: &Response, to: &str) {
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(res), to);
    assert!(session_cookie(res).is_some(), "no session cookie");
}

/// The callback sent the browser back to `page` saying why, and signed no one in.
fn assert_refused(res: &Response, page: &str, code: &str, provider: &str) {
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{page} {code}");
    assert_eq!(
        location(res),
        format!("{page}?error={code}&provider={provider}")
    );
    assert!(
        session_cookie(res).is_none(),
        "a refusal set a session cookie"
    );
}

async fn profile_email(browser: &Browser) -> String {
    let profile = browser.json("load_profile", &[]).await;
    profile["email"]
        .as_str()
        .unwrap_or_else(|| panic!("load_profile: {profile}"))
        .to_owned()
}

/// The account's events as (what, detail), newest first.
async fn activity(browser: &Browser) -> Vec<(String, String)> {
    let page = browser.json("list_activity", &[]).await;
    page["events"]
        .as_array()
        .expect("events")
        .iter()
        .map(|e| {
            (
                e["what"].as_str().unwrap().to_owned(),
                e["detail"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Connects `provider` (as `login`) to the account `browser` is signed in to, confirmed
/// with the password and `code` (empty when 2FA is off).
async fn connect(browser: &Browser, provider: &str, login: &str, code: &str) {
    let res = round_trip_confirmed(browser, provider, "link", login, code).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), METHODS_PAGE, "connect {provider}");
}

impl World {
    /// Waits for the security notice `subject` in the server's log, where a server
    /// without a mail server writes its mail.
    async fn wait_for_notice(&self, subject: &str) {
        self.wait_for_log(&format!("Security notice: {subject}"))
            .await;
    }

    /// Waits for `needle` in the server's log.
    async fn wait_for_log(&self, needle: &str) {
        for _ in 0..100 {
            if self.server.server_log().contains(needle) {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("no {needle:?} in the log");
    }

    /// Signs in `email` (a password account) from a new browser.
    async fn other_session(&self, email: &str) -> Browser {
        let laptop = self.browser();
        assert_eq!(
            laptop.sign_in(email, PASSWORD).await.status(),
            StatusCode::OK
        );
        laptop
    }
}

async fn assert_signed_out(browser: &Browser, why: &str) {
    assert_eq!(
        browser.call("load_profile", &[]).await.status(),
        StatusCode::UNAUTHORIZED,
        "{why}"
    );
}

/// The last link to `path` the server wrote to its log, where it writes its mail.
fn last_link_in_log(world: &World, path: &str) -> Option<String> {
    let log = world.server.server_log();
    let needle = format!("{path}?token=");
    let at = log.rfind(&needle)? + needle.len();
    let token: String = log[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    (token.len() == 43).then_some(token)
}

/// Waits for a new link to `path` in the log (one that is not `old`).
async fn new_link_in_log(world: &World, path: &str, old: Option<&str>) -> String {
    for _ in 0..100 {
        match last_link_in_log(world, path) {
            Some(token) if Some(token.as_str()) != old => return token,
            _ => tokio::time::sleep(std::time::Duration::from_millis(100)).await,
        }
    }
    panic!("no new {path} link in the log");
}
