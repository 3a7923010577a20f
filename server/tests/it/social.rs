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

/// `url` with the query parameter `name` set to `value`.
fn with_param(url: &str, name: &str, value: &str) -> String {
    let mut url = Url::parse(url).expect("URL");
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != name)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    url.query_pairs_mut()
        .clear()
        .extend_pairs(pairs)
        .append_pair(name, value);
    url.to_string()
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

/// The browser arrives at the callback `url` sending only `cookie`, as one whose jar
/// holds what was planted in it.
async fn arrive_with_cookie(browser: &Browser, url: &str, cookie: &str) -> Response {
    browser
        .client
        .get(url)
        .header(reqwest::header::COOKIE, cookie)
        .send()
        .await
        .expect("GET callback")
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

/// Follows the provider's redirects without typing anything: the callback URL when the
/// provider signs this browser in by itself, or the page it shows instead.
async fn provider_answer(client: &Client, authorize: &str) -> Result<String, String> {
    let mut url = Url::parse(authorize).expect("authorize URL");
    let provider = url.origin();
    for _ in 0..10 {
        let res = client
            .get(url.clone())
            .send()
            .await
            .expect("reach the provider");
        if !res.status().is_redirection() {
            return Err(res.text().await.unwrap_or_default());
        }
        let next = url
            .join(res.headers()[LOCATION].to_str().unwrap())
            .expect("Location");
        if next.origin() != provider {
            return Ok(next.to_string());
        }
        url = next;
    }
    panic!("the provider kept redirecting");
}

// ---------------------------------------------------------------------------------------
// 1. Sign-up and sign-in

#[tokio::test]
async fn a_provider_account_signs_up_once_and_signs_in_to_the_same_account_by_subject() {
    let world = World::start();
    let browser = signed_in_with(&world, "idp", "dana").await;
    assert_eq!(profile_email(&browser).await, "dana@example.test");
    let user = world.user_id("dana@example.test").await;
    assert_eq!(
        world.links(user).await,
        [("idp".to_owned(), "dana".to_owned())]
    );
    let methods = browser.json("load_sign_in_methods", &[]).await;
    assert_eq!(methods["has_password"], false, "{methods}");

    // Sign out, and in again in the same browser: the provider session signs in silently.
    assert!(browser.call("sign_out", &[]).await.status().is_success());
    assert_eq!(
        error_message(browser.call("load_profile", &[]).await)
            .await
            .0,
        StatusCode::UNAUTHORIZED,
        "signed out"
    );
    let res = round_trip(&browser, "idp", "sign_in", "dana").await;
    assert_signed_in(&res, "/settings");
    assert_eq!(profile_email(&browser).await, "dana@example.test");

    // Another browser, through the login form: still the same account, found by subject.
    let other = signed_in_with(&world, "idp", "dana").await;
    assert_eq!(profile_email(&other).await, "dana@example.test");
    assert_eq!(world.count("SELECT COUNT(*) FROM users").await, 1);
    assert_eq!(
        world.count("SELECT COUNT(*) FROM linked_identities").await,
        1
    );

    let events = activity(&other).await;
    let signed_in = events
        .iter()
        .filter(|(what, detail)| what == "Signed in" && detail.contains("OpenID Test"))
        .count();
    assert_eq!(signed_in, 3, "{events:?}");
    assert!(
        events
            .iter()
            .any(|(what, detail)| what == "Account created" && detail.contains("OpenID Test")),
        "{events:?}"
    );
    assert!(
        events.iter().any(|(what, _)| what == "Signed out"),
        "{events:?}"
    );

    // GitHub and Facebook through their stand-ins: an account each, found again by id.
    // Facebook proves no address, so its sign-up proves one by mail first.
    for (provider, login, name) in [
        ("github", "gwen", "GitHub"),
        ("facebook", "finn", "Facebook"),
    ] {
        let email = format!("{login}@example.test");
        let first = if provider == "facebook" {
            signed_up_by_link(&world, provider, login, &email).await
        } else {
            signed_in_with(&world, provider, login).await
        };
        assert_eq!(profile_email(&first).await, email);
        let again = signed_in_with(&world, provider, login).await;
        assert_eq!(profile_email(&again).await, email);
        let user = world.user_id(&email).await;
        let links = world.links(user).await;
        assert_eq!(links.len(), 1, "{links:?}");
        assert_eq!(links[0].0, provider);
        assert!(
            !links[0].1.is_empty() && links[0].1.bytes().all(|b| b.is_ascii_digit()),
            "{provider}'s numeric id is the subject: {links:?}"
        );
        assert!(
            activity(&again)
                .await
                .iter()
                .any(|(what, detail)| what == "Signed in" && detail.contains(name)),
            "{provider} sign-in in the activity"
        );
    }
    assert_eq!(world.count("SELECT COUNT(*) FROM users").await, 3);
}

// ---------------------------------------------------------------------------------------
// 2, 3. The state: once, in its browser, for ten minutes

#[tokio::test]
async fn a_state_is_spent_once_and_only_by_the_browser_that_began_it() {
    let world = World::start();

    // A replay of a callback that signed in.
    let alice = world.browser();
    let authorize = begin(&alice, "idp", "sign_in", None).await;
    let callback = oidc_login(&alice.client, &authorize, "erin").await;
    assert_signed_in(&arrive(&alice, &callback).await, "/settings");
    let res = arrive(&alice, &callback).await;
    assert_refused(&res, "/signin", "expired", "idp");

    // A browser without a binding cookie; the state is spent by that attempt, so the
    // browser that began it cannot use it afterwards either.
    let authorize = begin(&alice, "idp", "sign_in", None).await;
    let callback = oidc_login(&alice.client, &authorize, "erin").await;
    let stranger = world.browser();
    assert_refused(
        &arrive(&stranger, &callback).await,
        "/signin",
        "expired",
        "idp",
    );
    assert_refused(
        &arrive(&alice, &callback).await,
        "/signin",
        "expired",
        "idp",
    );

    // A browser with a binding cookie of its own, from its own round trip.
    let authorize = begin(&alice, "idp", "sign_in", None).await;
    let callback = oidc_login(&alice.client, &authorize, "erin").await;
    let other = world.browser();
    begin(&other, "idp", "sign_in", None).await;
    assert_refused(
        &arrive(&other, &callback).await,
        "/signin",
        "expired",
        "idp",
    );

    // A state brought to another provider's callback.
    let authorize = begin(&alice, "github", "sign_in", None).await;
    let callback = standin_login(&alice.client, &authorize, "erin").await;
    let elsewhere = callback.replace("/auth/github/callback", "/auth/facebook/callback");
    assert_ne!(elsewhere, callback);
    assert_refused(
        &arrive(&alice, &elsewhere).await,
        "/signin",
        "expired",
        "facebook",
    );

    // Control: a fresh round trip in the browser that began it signs in.
    let res = round_trip(&alice, "idp", "sign_in", "erin").await;
    assert_signed_in(&res, "/settings");
    assert_eq!(profile_email(&alice).await, "erin@example.test");

    // Ten tabs arriving with one callback at once: one signs in, nine are told it expired.
    let fresh = world.browser();
    let authorize = begin(&fresh, "idp", "sign_in", None).await;
    let callback = oidc_login(&fresh.client, &authorize, "frank").await;
    let answers = join_all((0..10).map(|_| arrive(&fresh, &callback))).await;
    let signed_in = answers
        .iter()
        .filter(|r| location(r) == "/settings" && session_cookie(r).is_some())
        .count();
    let expired = answers
        .iter()
        .filter(|r| {
            location(r) == "/signin?error=expired&provider=idp" && session_cookie(r).is_none()
        })
        .count();
    assert_eq!((signed_in, expired), (1, 9));
    let frank = world.user_id("frank@example.test").await;
    assert_eq!(
        world
            .count(&format!(
                "SELECT COUNT(*) FROM sessions WHERE user_id = {frank}"
            ))
            .await,
        1,
        "one session"
    );
}

/// `POST /auth/{provider}/start` with `cookie` as the request's only Cookie header (none
/// when empty): the response, and the binding cookie it set (the whole `Set-Cookie`).
async fn start_with_cookie(
    browser: &Browser,
    provider: &str,
    cookie: &str,
) -> (Response, Option<String>) {
    let mut req = browser
        .client
        .post(format!("{}/auth/{provider}/start", browser.base))
        .form(&[("purpose", "sign_in")]);
    if !cookie.is_empty() {
        req = req.header(reqwest::header::COOKIE, cookie);
    }
    let res = req.send().await.expect("POST start");
    let set = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.contains("gatehouse_oauth="))
        .map(str::to_owned);
    (res, set)
}

/// The value of a `Set-Cookie` header.
fn cookie_value_of(set_cookie: &str) -> &str {
    let pair = set_cookie.split(';').next().unwrap_or_default();
    pair.split_once('=').map_or("", |(_, v)| v)
}

#[tokio::test]
async fn a_start_mints_its_own_binding_so_a_planted_cookie_completes_nothing() {
    let world = World::start();
    let planted = "A".repeat(43);
    let cookie = format!("gatehouse_oauth={planted}");

    // Mallory starts a round trip holding a binding of her choosing.
    let mallory = world.browser();
    let (res, set) = start_with_cookie(&mallory, "idp", &cookie).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let set = set.expect("a binding cookie");
    let minted = cookie_value_of(&set);
    assert_eq!(minted.len(), 43, "{set}");
    assert_ne!(minted, planted, "the server adopted the planted binding");
    let callback = oidc_login(&mallory.client, &location(&res), "mallory").await;

    // The victim's browser holds only the planted value, and is led to Mallory's callback.
    let victim = world.browser();
    let res = arrive_with_cookie(&victim, &callback, &cookie).await;
    assert_refused(&res, "/signin", "expired", "idp");
    assert_eq!(world.count("SELECT COUNT(*) FROM users").await, 0);

    // Control: each start mints anew, and the binding it minted completes the round trip.
    let (_, again) = start_with_cookie(&mallory, "idp", &format!("gatehouse_oauth={minted}")).await;
    assert_ne!(cookie_value_of(&again.expect("a binding cookie")), minted);
    let res = round_trip(&mallory, "idp", "sign_in", "mallory").await;
    assert_signed_in(&res, "/settings");
}

#[tokio::test]
async fn behind_tls_the_binding_cookie_is_host_only() {
    let world = World::start_with_env(&[], &[("GATEHOUSE_SECURE_COOKIES", "true")]);
    let browser = world.browser();
    let (res, set) = start_with_cookie(&browser, "github", "").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let set = set.expect("a binding cookie");
    assert!(
        set.starts_with("__Host-gatehouse_oauth="),
        "not a __Host- cookie: {set}"
    );
    let attributes: Vec<&str> = set.split(';').map(str::trim).collect();
    for attribute in ["Path=/", "Secure", "HttpOnly", "SameSite=Lax"] {
        assert!(attributes.contains(&attribute), "{attribute}: {set}");
    }
    assert!(!set.contains("Domain="), "{set}");
    let binding = cookie_value_of(&set).to_owned();

    // The same value under the unprefixed name, which any sibling host could have set,
    // does not complete the round trip.
    let callback = standin_login(&browser.client, &location(&res), "una").await;
    let res = arrive_with_cookie(&browser, &callback, &format!("gatehouse_oauth={binding}")).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/signin?error=expired&provider=github");

    // Under its own name it does.
    let (res, set) = start_with_cookie(&browser, "github", "").await;
    let binding = cookie_value_of(&set.expect("a binding cookie")).to_owned();
    let callback = standin_login(&browser.client, &location(&res), "una").await;
    let res = arrive_with_cookie(
        &browser,
        &callback,
        &format!("__Host-gatehouse_oauth={binding}"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/settings");
    let session = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.starts_with("__Host-gatehouse_session="));
    assert!(session, "signed in");
}

#[tokio::test]
async fn starts_from_one_address_are_limited_and_so_are_the_flows_they_keep() {
    let world = World::start();
    let browser = world.browser();
    let start = || async {
        browser
            .client
            .post(format!("{}/auth/github/start", browser.base))
            .form(&[("purpose", "sign_in")])
            .send()
            .await
            .expect("POST start")
            .status()
    };
    let statuses = join_all((0..320).map(|_| start())).await;
    let begun = statuses
        .iter()
        .filter(|s| **s == StatusCode::SEE_OTHER)
        .count();
    let limited = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((begun, limited), (300, 20), "{statuses:?}");
    assert_eq!(world.count("SELECT COUNT(*) FROM social_flows").await, 300);
    assert_eq!(start().await, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(world.count("SELECT COUNT(*) FROM social_flows").await, 300);
}

#[tokio::test]
async fn a_state_older_than_ten_minutes_is_refused() {
    let world = World::start();
    let browser = world.browser();
    let authorize = begin(&browser, "idp", "sign_in", None).await;
    let callback = oidc_login(&browser.client, &authorize, "gary").await;
    let aged = sqlx::query("UPDATE social_flows SET expires_at = 0")
        .execute(&world.db().await)
        .await
        .expect("age the flow")
        .rows_affected();
    assert_eq!(aged, 1);
    assert_refused(
        &arrive(&browser, &callback).await,
        "/signin",
        "expired",
        "idp",
    );
    assert_eq!(world.count("SELECT COUNT(*) FROM users").await, 0);

    // Control: the same browser, a round trip within its time.
    let res = round_trip(&browser, "idp", "sign_in", "gary").await;
    assert_signed_in(&res, "/settings");
}

// ---------------------------------------------------------------------------------------
// 4, 5. What the provider sends back

#[tokio::test]
async fn a_tampered_id_token_or_issuer_is_refused() {
    let world = World::start();
    for mode in ["aud", "nonce", "exp", "signature", "alg_none", "iss_param"] {
        world.providers.break_tamper(mode).await;
        let browser = world.browser();
        let res = round_trip(&browser, "tamper", "sign_in", "tess").await;
        assert_eq!(
            location(&res),
            "/signin?error=provider_failed&provider=tamper",
            "break {mode}\n{}",
            world.server.server_log()
        );
        assert!(
            session_cookie(&res).is_none(),
            "break {mode}: a session cookie"
        );
    }
    assert_eq!(world.count("SELECT COUNT(*) FROM users").await, 0);

    // Control: the same issuer, behaving.
    world.providers.break_tamper("none").await;
    let browser = world.browser();
    let res = round_trip(&browser, "tamper", "sign_in", "tess").await;
    assert_signed_in(&res, "/settings");
    assert_eq!(profile_email(&browser).await, "tess@example.test");
}

#[tokio::test]
async fn a_cancel_or_an_error_at_the_provider_is_said_on_the_sign_in_page() {
    let world = World::start();
    let browser = world.browser();

    // The person cancels at the OpenID provider: it answers error=access_denied.
    let authorize = begin(&browser, "idp", "sign_in", None).await;
    let state = query_param(&authorize, "state").expect("state");
    let res = browser
        .client
        .get(format!("{}/auth/idp/callback", browser.base))
        .query(&[("error", "access_denied"), ("state", &state)])
        .send()
        .await
        .unwrap();
    assert_refused(&res, "/signin", "declined", "idp");
    let page = browser.get(&location(&res)).await;
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    assert!(
        page.contains("Signing in with OpenID Test was cancelled."),
        "{page}"
    );
    // Control: the page without the error says nothing of the kind.
    let plain = browser.get("/signin").await.text().await.unwrap();
    assert!(!plain.contains("was cancelled"));

    // Cancel at the Facebook stand-in: error=access_denied&error_reason=user_denied.
    let authorize = begin(&browser, "facebook", "sign_in", None).await;
    let res = browser
        .client
        .get(with_param(&authorize, "deny", "1"))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_redirection());
    let callback = location(&res);
    assert_eq!(
        query_param(&callback, "error").as_deref(),
        Some("access_denied")
    );
    assert_refused(
        &arrive(&browser, &callback).await,
        "/signin",
        "declined",
        "facebook",
    );

    // Any other error from the provider is its failure.
    let authorize = begin(&browser, "idp", "sign_in", None).await;
    let state = query_param(&authorize, "state").expect("state");
    let res = browser
        .client
        .get(format!("{}/auth/idp/callback", browser.base))
        .query(&[("error", "server_error"), ("state", &state)])
        .send()
        .await
        .unwrap();
    assert_refused(&res, "/signin", "provider_failed", "idp");

    // GitHub refuses a bad code with HTTP 200 and an `error` field.
    let authorize = begin(&browser, "github", "sign_in", None).await;
    let callback = standin_login(&browser.client, &authorize, "hana").await;
    assert!(query_param(&callback, "code").is_some());
    let forged = with_param(&callback, "code", "0123456789abcdef0123");
    assert_refused(
        &arrive(&browser, &forged).await,
        "/signin",
        "provider_failed",
        "github",
    );
    let page = browser
        .get("/signin?error=provider_failed&provider=github")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("GitHub could not confirm who you are."),
        "{page}"
    );
    assert_eq!(world.count("SELECT COUNT(*) FROM users").await, 0);

    // Control: GitHub with a real code signs in.
    let res = round_trip(&browser, "github", "sign_in", "hana").await;
    assert_signed_in(&res, "/settings");
}

// ---------------------------------------------------------------------------------------
// 6, 7, 8. The second factor and confirmations

/// Connects `provider` (as `login`) to the account `browser` is signed in to, confirmed
/// with the password and `code` (empty when 2FA is off).
async fn connect(browser: &Browser, provider: &str, login: &str, code: &str) {
    let res = round_trip_confirmed(browser, provider, "link", login, code).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), METHODS_PAGE, "connect {provider}");
}

#[tokio::test]
async fn a_provider_sign_in_to_an_account_with_two_factor_waits_at_the_code_prompt() {
    let world = World::start();
    let (owner, email, key, codes) = account_with_two_factor(&world.server, "social2fa").await;
    // A recovery code confirms the link, so the app's next code is left for the prompt.
    connect(&owner, "idp", "ivan", &codes[1]).await;

    let browser = world.browser();
    let res = round_trip(&browser, "idp", "sign_in", "ivan").await;
    assert_eq!(location(&res), "/signin/code?next=%2Fsettings");
    assert!(session_cookie(&res).is_some(), "a pending session");

    // The pending session opens nothing but the prompt.
    let res = browser.get("/settings").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/signin/code");
    for (function, form) in [
        ("load_profile", vec![]),
        ("load_sign_in_methods", vec![]),
        (
            "disconnect_provider",
            vec![("provider", "idp"), ("password", PASSWORD), ("code", "")],
        ),
    ] {
        let (status, _) = error_message(browser.call(function, &form).await).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{function}");
    }
    // Nor can it connect a provider.
    let res = browser
        .client
        .post(format!("{}/auth/github/start", browser.base))
        .form(&[("purpose", "link")])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&res), "/signin");
    assert_eq!(browser.get("/signin/code").await.status(), StatusCode::OK);

    let res = browser.verify_code(&totp_at(&key, now() + STEP)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(profile_email(&browser).await, email);

    // A later one is finished by a recovery code.
    let later = world.browser();
    let res = round_trip(&later, "idp", "sign_in", "ivan").await;
    assert_eq!(location(&res), "/signin/code?next=%2Fsettings");
    assert_eq!(later.verify_code(&codes[0]).await.status(), StatusCode::OK);
    assert_eq!(profile_email(&later).await, email);
    let user = world.user_id(&email).await;
    assert_eq!(world.links(user).await.len(), 1, "still connected");
}

/// `enable_two_factor` with a current code and no password, as the dialog of an account
/// without one sends it.
async fn enable_without_password(browser: &Browser, key: &str) -> Response {
    let code = totp_at(key, now());
    browser
        .call("enable_two_factor", &[("code", &code), ("password", "")])
        .await
}

#[tokio::test]
async fn an_account_without_a_password_confirms_two_factor_with_a_fresh_provider_sign_in() {
    let world = World::start();
    let browser = signed_in_with(&world, "idp", "jade").await;
    world.verify("jade@example.test").await;

    // Control: without prompt=login the provider signs this browser in by itself.
    let authorize = begin(&browser, "idp", "sign_in", None).await;
    assert_eq!(query_param(&authorize, "prompt"), None);
    let callback = provider_answer(&browser.client, &authorize)
        .await
        .expect("a silent sign-in at the provider");
    let res = arrive(&browser, &callback).await;
    assert_signed_in(&res, "/settings");

    let confirmation = browser.json("load_confirmation", &[]).await;
    assert_eq!(
        confirmation["Reauthenticate"]["providers"][0]["id"], "idp",
        "{confirmation}"
    );
    let enrollment = browser.start_enrollment().await;
    let (status, message) =
        error_message(enable_without_password(&browser, &enrollment.key).await).await;
    assert_eq!(status, StatusCode::CONFLICT, "{message}");
    assert!(message.contains("Confirm"), "{message}");

    // A reauth as another account at the provider: the form is shown again, and refused.
    let authorize = begin(&browser, "idp", "reauth", None).await;
    assert_eq!(query_param(&authorize, "prompt").as_deref(), Some("login"));
    assert_eq!(query_param(&authorize, "max_age").as_deref(), Some("0"));
    let page = provider_answer(&browser.client, &authorize)
        .await
        .expect_err("the login form again");
    assert!(page.contains(r#"name="login""#), "{page}");
    let callback = oidc_login(&browser.client, &authorize, "kurt").await;
    let res = arrive(&browser, &callback).await;
    assert_refused(&res, METHODS_PAGE, "wrong_account", "idp");
    let (status, _) = error_message(enable_without_password(&browser, &enrollment.key).await).await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "a wrong account confirms nothing"
    );

    // A reauth as the linked account: enable works.
    let authorize = begin(&browser, "idp", "reauth", None).await;
    let page = provider_answer(&browser.client, &authorize)
        .await
        .expect_err("the login form again");
    assert!(page.contains(r#"name="login""#), "{page}");
    let callback = oidc_login(&browser.client, &authorize, "jade").await;
    let res = arrive(&browser, &callback).await;
    assert_eq!(location(&res), METHODS_PAGE);
    assert!(
        session_cookie(&res).is_none(),
        "the same session, confirmed"
    );
    let confirmation = browser.json("load_confirmation", &[]).await;
    assert_eq!(
        confirmation["Confirmed"]["provider"], "OpenID Test",
        "{confirmation}"
    );
    let res = enable_without_password(&browser, &enrollment.key).await;
    assert_eq!(res.status(), StatusCode::OK);
    let set: CodeSet = res.json().await.unwrap();
    assert_eq!(set.codes.len(), 10);

    // GitHub cannot confirm a fresh sign-in: no round trip begins.
    let res = browser
        .client
        .post(format!("{}/auth/github/start", browser.base))
        .form(&[("purpose", "reauth")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        location(&res),
        format!("{METHODS_PAGE}?error=cannot_confirm&provider=github")
    );
}

#[tokio::test]
async fn a_reauth_whose_provider_sign_in_is_old_is_refused() {
    let world = World::start();
    let browser = signed_in_with(&world, "tamper", "lena").await;

    world.providers.break_tamper("auth_time").await;
    let res = round_trip(&browser, "tamper", "reauth", "lena").await;
    assert_refused(&res, METHODS_PAGE, "not_fresh", "tamper");
    let confirmation = browser.json("load_confirmation", &[]).await;
    assert!(
        confirmation.get("Reauthenticate").is_some(),
        "not confirmed: {confirmation}"
    );

    // Control: a fresh auth_time confirms.
    world.providers.break_tamper("none").await;
    let res = round_trip(&browser, "tamper", "reauth", "lena").await;
    assert_eq!(location(&res), METHODS_PAGE);
    let confirmation = browser.json("load_confirmation", &[]).await;
    assert!(confirmation.get("Confirmed").is_some(), "{confirmation}");
}

#[tokio::test]
async fn a_provider_sign_in_to_a_locked_account_is_told_to_wait() {
    let world = World::start();
    let (owner, _, key, _) = account_with_two_factor(&world.server, "sociallock").await;
    connect(&owner, "idp", "milo", &totp_at(&key, now() + STEP)).await;

    // Control: before the lock, the provider leads to the code prompt; five wrong codes
    // there lock the account.
    let attacker = world.browser();
    let res = round_trip(&attacker, "idp", "sign_in", "milo").await;
    assert_eq!(location(&res), "/signin/code?next=%2Fsettings");
    let wrong = wrong_code(&key);
    for _ in 0..4 {
        assert_eq!(
            attacker.verify_code(&wrong).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        attacker.verify_code(&wrong).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );

    let browser = world.browser();
    let res = round_trip(&browser, "idp", "sign_in", "milo").await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = header(&res, "retry-after").parse().unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    assert!(session_cookie(&res).is_none());
    let page = res.text().await.unwrap();
    assert!(page.contains("Try again later"), "{page}");
}

// ---------------------------------------------------------------------------------------
// 9. An email is never how an account is found, unless the operator says so and both
//    sides verified it

#[tokio::test]
async fn an_existing_email_is_never_linked_by_default() {
    let world = World::start();
    let owner = world.browser();
    assert_eq!(
        owner.sign_up("alice-9@example.test").await.status(),
        StatusCode::OK
    );
    let attempts = [("idp", "alice-9"), ("github", "alice-9")];
    for (provider, login) in attempts {
        let browser = world.browser();
        let res = round_trip(&browser, provider, "sign_in", login).await;
        assert_refused(&res, "/signin", "email_exists", provider);
    }
    // An address the provider did not prove is not taken as said: it is asked for, and
    // whether it has an account is not told.
    for (provider, login) in [("idp", "unverified:alice-9"), ("facebook", "alice-9")] {
        let browser = world.browser();
        let res = round_trip(&browser, provider, "sign_in", login).await;
        assert_eq!(location(&res), CONFIRM_EMAIL_PAGE, "{provider}");
    }
    // Even with the address verified here: the default config trusts no provider's email.
    world
        .db()
        .await
        .execute_sql("UPDATE users SET email_verified_at = 1")
        .await;
    for (provider, login) in attempts {
        let browser = world.browser();
        let res = round_trip(&browser, provider, "sign_in", login).await;
        assert_refused(&res, "/signin", "email_exists", provider);
    }
    assert_eq!(
        world.count("SELECT COUNT(*) FROM linked_identities").await,
        0
    );
    assert_eq!(world.count("SELECT COUNT(*) FROM users").await, 1);

    // Control: another address signs up.
    let browser = signed_in_with(&world, "idp", "bert-9").await;
    assert_eq!(profile_email(&browser).await, "bert-9@example.test");
}

#[tokio::test]
async fn a_trusted_provider_links_by_email_only_when_both_sides_verified_it() {
    let world = World::start_with(&[
        ("idp", "trust_email", "true"),
        ("github", "trust_email", "true"),
        ("facebook", "trust_email", "true"),
    ]);
    let owner = world.browser();
    assert_eq!(
        owner
            .sign_up_unverified("alice-9@example.test")
            .await
            .status(),
        StatusCode::OK
    );
    let user = world.user_id("alice-9@example.test").await;

    // The local address is not verified: nobody links.
    let browser = world.browser();
    let res = round_trip(&browser, "idp", "sign_in", "alice-9").await;
    assert_refused(&res, "/signin", "email_exists", "idp");

    world
        .db()
        .await
        .execute_sql(&format!(
            "UPDATE users SET email_verified_at = {} WHERE id = {user}",
            now()
        ))
        .await;

    // Verified here, but not at the provider (Facebook never says, the OpenID provider
    // says no): the address is asked for instead, as for anyone.
    for (provider, login) in [("idp", "unverified:alice-9"), ("facebook", "alice-9")] {
        let browser = world.browser();
        let res = round_trip(&browser, provider, "sign_in", login).await;
        assert_eq!(location(&res), CONFIRM_EMAIL_PAGE, "{provider}");
    }
    assert!(world.links(user).await.is_empty());

    // Verified on both sides: linked, and signed in to that account.
    for (provider, name) in [("idp", "OpenID Test"), ("github", "GitHub")] {
        let browser = signed_in_with(&world, provider, "alice-9").await;
        assert_eq!(profile_email(&browser).await, "alice-9@example.test");
        assert!(
            activity(&browser)
                .await
                .iter()
                .any(|(what, detail)| what == "Sign-in provider connected"
                    && detail == &format!("{name} (by its verified email)")),
            "{provider} linked in the activity"
        );
    }
    let links = world.links(user).await;
    assert_eq!(
        links,
        [
            ("github".to_owned(), links[0].1.clone()),
            ("idp".to_owned(), "alice-9".to_owned())
        ]
    );
    assert_eq!(world.count("SELECT COUNT(*) FROM users").await, 1);
}

trait ExecuteSql {
    async fn execute_sql(&self, sql: &str);
}

impl ExecuteSql for sqlx::AnyPool {
    async fn execute_sql(&self, sql: &str) {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(self)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

// ---------------------------------------------------------------------------------------
// 10. Connecting and disconnecting

#[tokio::test]
async fn a_password_account_connects_a_provider_signs_in_with_it_and_disconnects_it() {
    let world = World::start();
    let owner = world.browser();
    let email = unique_email("connect");
    assert_eq!(owner.sign_up(&email).await.status(), StatusCode::OK);
    connect(&owner, "idp", "nora", "").await;

    let methods = owner.json("load_sign_in_methods", &[]).await;
    assert_eq!(methods["has_password"], true);
    assert_eq!(methods["providers"][0]["id"], "idp");
    assert!(
        methods["providers"][0]["linked_on"].is_string(),
        "{methods}"
    );

    let browser = signed_in_with(&world, "idp", "nora").await;
    assert_eq!(profile_email(&browser).await, email, "the same account");

    let res = disconnect(&owner, "idp").await;
    assert!(res.status().is_success(), "{}", res.status());
    let methods = owner.json("load_sign_in_methods", &[]).await;
    assert!(methods["providers"][0]["linked_on"].is_null(), "{methods}");
    let user = world.user_id(&email).await;
    assert!(world.links(user).await.is_empty());
    let events: Vec<String> = activity(&owner).await.into_iter().map(|e| e.0).collect();
    assert!(
        events.contains(&"Sign-in provider connected".to_owned()),
        "{events:?}"
    );
    assert!(
        events.contains(&"Sign-in provider disconnected".to_owned()),
        "{events:?}"
    );

    // The provider account no longer reaches this account: it signs up one of its own.
    let after = signed_in_with(&world, "idp", "nora").await;
    assert_eq!(profile_email(&after).await, "nora@example.test");
}

#[tokio::test]
async fn two_disconnects_at_once_never_leave_an_account_without_a_way_in() {
    let world = World::start();
    let browser = signed_in_with(&world, "idp", "otto").await;
    let user = world.user_id("otto@example.test").await;
    world.verify("otto@example.test").await;
    confirm_at_provider(&browser, "idp", "otto").await;
    let sentence = |name: &str| {
        format!(
            "{name} is your only way to sign in, so it cannot be disconnected. Set a password first."
        )
    };

    // Three rounds: connect the one missing, then disconnect both at once.
    let mut missing = "github";
    for round in 0..3 {
        connect(&browser, missing, "otto", "").await;
        assert_eq!(world.links(user).await.len(), 2, "round {round}");
        let answers = join_all(["idp", "github"].map(|p| {
            let browser = &browser;
            async move { disconnect(browser, p).await }
        }))
        .await;
        let mut ok = Vec::new();
        let mut refused = Vec::new();
        for (provider, res) in ["idp", "github"].into_iter().zip(answers) {
            if res.status().is_success() {
                ok.push(provider);
            } else {
                let (status, message) = error_message(res).await;
                assert_eq!(status, StatusCode::CONFLICT, "{message}");
                refused.push((provider, message));
            }
        }
        assert_eq!(
            (ok.len(), refused.len()),
            (1, 1),
            "round {round}: {ok:?} {refused:?}"
        );
        let (survivor, message) = &refused[0];
        let name = if *survivor == "idp" {
            "OpenID Test"
        } else {
            "GitHub"
        };
        assert_eq!(message, &sentence(name));
        assert_eq!(
            world
                .links(user)
                .await
                .iter()
                .map(|l| l.0.as_str())
                .collect::<Vec<_>>(),
            [*survivor],
            "round {round}"
        );

        // The survivor, alone, cannot go.
        let (status, message) = error_message(disconnect(&browser, survivor).await).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(message, sentence(name));
        missing = ok[0];
    }
}

// ---------------------------------------------------------------------------------------
// 11. Tokens are dropped

/// The first run of `alphabet` bytes of at least `len` after `prefix`.
fn find_token(bytes: &[u8], prefix: &[u8], len: usize, alphabet: fn(u8) -> bool) -> Option<String> {
    (0..bytes.len().saturating_sub(prefix.len())).find_map(|i| {
        if !bytes[i..].starts_with(prefix) {
            return None;
        }
        let rest = &bytes[i + prefix.len()..];
        let run = rest.iter().take_while(|b| alphabet(**b)).count();
        (run >= len)
            .then(|| String::from_utf8_lossy(&bytes[i..i + prefix.len() + run]).into_owned())
    })
}

fn contains(bytes: &[u8], needle: &str) -> bool {
    bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
}

fn base64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

#[tokio::test]
async fn no_provider_token_code_or_state_is_kept_in_the_database() {
    let world = World::start();
    let mut secrets = Vec::new();
    for (provider, login) in [
        ("idp", "pia"),
        ("idp", "pia"),
        ("github", "quin"),
        ("facebook", "rosa"),
        ("tamper", "sven"),
    ] {
        let browser = world.browser();
        let authorize = begin(&browser, provider, "sign_in", None).await;
        let callback = at_provider(&browser, provider, &authorize, login).await;
        let res = arrive(&browser, &callback).await;
        if provider == "facebook" {
            // It proves no address: the sign-up proves one by mail first.
            assert_eq!(location(&res), CONFIRM_EMAIL_PAGE);
            let email = format!("{login}@example.test");
            let res = browser
                .call("send_sign_up_link", &[("email", &email)])
                .await;
            assert_eq!(res.status(), StatusCode::OK);
            let token = new_link_in_log(&world, "/signup/finish", None).await;
            let res = browser.call("finish_sign_up", &[("token", &token)]).await;
            assert_eq!(res.status(), StatusCode::OK);
            secrets.push(("sign-up link".into(), token));
        } else {
            assert_signed_in(&res, "/settings");
        }
        for name in ["code", "state"] {
            secrets.push((
                format!("{provider} {name}"),
                query_param(&callback, name).expect(name),
            ));
        }
        assert_eq!(
            profile_email(&browser).await,
            format!("{login}@example.test")
        );
    }

    let dump = world.server.database_dump();
    assert!(
        contains(&dump, "pia@example.test"),
        "the dump holds the accounts"
    );

    for (what, value) in &secrets {
        assert!(value.len() >= 16, "{what} {value}");
        assert!(!contains(&dump, value), "the {what} is in the database");
    }
    // An ID token (a JWT: header and payload are base64url JSON, "eyJ…"), GitHub's
    // "gho_…" and Facebook's "EAA…" access tokens.
    for (prefix, len, what) in [
        ("eyJ", 10, "a JWT"),
        ("gho_", 30, "a GitHub token"),
        ("EAA", 30, "a Facebook token"),
    ] {
        let sample = format!("\0{prefix}{}\0", "aZ09_-".repeat(8));
        assert!(find_token(sample.as_bytes(), prefix.as_bytes(), len, base64url).is_some());
        let found = find_token(&dump, prefix.as_bytes(), len, base64url);
        assert_eq!(found, None, "{what} is in the database");
    }
}

#[tokio::test]
async fn a_failed_graph_api_call_logs_neither_the_facebook_token_nor_its_proof() {
    // Port 9 (discard) is closed on loopback: the token exchange works, `/me` cannot connect.
    let world = World::start_with_env(
        &[("facebook", "api_url", "\"http://127.0.0.1:9/v19.0\"")],
        &[("RUST_LOG", "trace")],
    );
    let browser = world.browser();
    let res = round_trip(&browser, "facebook", "sign_in", "finn").await;
    assert_refused(&res, "/signin", "provider_failed", "facebook");

    let log = world.server.server_log();
    assert!(
        log.contains("social sign-in failed at the provider"),
        "the failure is logged:\n{log}"
    );
    for word in ["access_token", "appsecret_proof"] {
        let line = log.lines().find(|l| l.contains(word));
        assert_eq!(line, None, "{word} is in the log");
    }
    let token = find_token(log.as_bytes(), b"EAA", 30, base64url);
    assert_eq!(token, None, "the Facebook token is in the log");
}

// ---------------------------------------------------------------------------------------
// 12. Config mistakes stop the start

#[tokio::test]
async fn a_config_mistake_stops_the_start_naming_the_file_the_provider_and_the_key() {
    let data = DataDir::new();
    let dir = data.dir.path();
    let secret = dir.join("corp.secret");
    std::fs::write(&secret, "s3cret\n").unwrap();
    let secret = secret.display().to_string();
    let missing = dir.join("nowhere.secret").display().to_string();
    let nobody = format!("http://127.0.0.1:{}", free_port());
    let provider = |kind: &str, extra: &str| {
        format!(
            "[[providers]]\nid = \"corp\"\nkind = \"{kind}\"\nname = \"Corp\"\n\
             client_id = \"gatehouse\"\n{extra}"
        )
    };
    let cases = [
        (
            "unknown kind",
            provider("ldap", &format!("client_secret_file = \"{secret}\"\n")),
            vec!["kind", "ldap"],
        ),
        (
            "no client_secret_file",
            provider("github", ""),
            vec!["client_secret_file"],
        ),
        (
            "a client_secret_file that is not there",
            provider("github", &format!("client_secret_file = \"{missing}\"\n")),
            vec!["client_secret_file", missing.as_str()],
        ),
        (
            "discovery fails",
            provider(
                "oidc",
                &format!("client_secret_file = \"{secret}\"\nissuer = \"{nobody}\"\n"),
            ),
            vec!["issuer", "discovery", nobody.as_str()],
        ),
    ];
    for (i, (case, toml, words)) in cases.iter().enumerate() {
        let path = dir.join(format!("case{i}.toml"));
        std::fs::write(&path, toml).unwrap();
        let path = path.display().to_string();
        let (status, stderr) = run_to_exit(&data, &[], &[("GATEHOUSE_CONFIG", &path)]);
        assert!(!status.success(), "{case}: started anyway");
        let error = stderr
            .lines()
            .find(|l| l.starts_with("error:"))
            .unwrap_or_else(|| panic!("{case}: no error line in\n{stderr}"));
        for word in [path.as_str(), "\"corp\""].iter().chain(words) {
            assert!(error.contains(word), "{case}: {word:?} not in {error:?}");
        }
    }

    // Control: the same file, right, starts.
    let path = dir.join("right.toml");
    std::fs::write(
        &path,
        provider("github", &format!("client_secret_file = \"{secret}\"\n")),
    )
    .unwrap();
    let server = TestServer::start_with(
        DataDir::new(),
        &[("GATEHOUSE_CONFIG", path.to_str().unwrap())],
    );
    let providers = server.browser().json("list_providers", &[]).await;
    assert_eq!(providers[0]["name"], "Corp", "{providers}");
}

// ---------------------------------------------------------------------------------------
// 13. Sign-up through a provider only where the operator allows it, and buttons only for
//     configured providers

#[tokio::test]
async fn without_providers_no_button_is_shown_and_no_round_trip_begins() {
    let server = TestServer::start().await;
    let browser = server.browser();
    for page in ["/signin", "/signup"] {
        let html = browser.get(page).await.text().await.unwrap();
        assert!(html.contains("<h1>"), "{page} rendered");
        assert!(!html.contains("Sign in with"), "{page} offers a provider");
    }
    assert_eq!(
        browser.json("list_providers", &[]).await,
        serde_json::json!([])
    );
    let res = browser
        .client
        .post(format!("{}/auth/idp/start", server.url))
        .form(&[("purpose", "sign_in")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/signin?error=unknown_provider&provider=");
}

#[tokio::test]
async fn a_provider_without_sign_up_signs_in_only_linked_accounts() {
    let world = World::start_with(&[("idp", "allow_signup", "false")]);
    let html = world.browser().get("/signin").await.text().await.unwrap();
    for name in ["OpenID Test", "GitHub", "Facebook", "Tamper"] {
        assert!(html.contains(&format!("Sign in with {name}")), "{name}");
    }
    let res = round_trip(&world.browser(), "idp", "sign_in", "newcomer-13").await;
    assert_refused(&res, "/signin", "not_linked", "idp");
    assert_eq!(world.count("SELECT COUNT(*) FROM users").await, 0);

    // A provider that shares no address makes no account either: it is asked for one.
    let res = round_trip(&world.browser(), "github", "sign_in", "noemail:dan-13").await;
    assert_eq!(location(&res), CONFIRM_EMAIL_PAGE);
    assert_eq!(world.count("SELECT COUNT(*) FROM users").await, 0);

    // Control: a password account that connects the provider signs in with it.
    let owner = world.browser();
    owner.sign_up("owner-13@example.com").await;
    connect(&owner, "idp", "newcomer-13", "").await;
    let browser = signed_in_with(&world, "idp", "newcomer-13").await;
    assert_eq!(profile_email(&browser).await, "owner-13@example.com");
}

// ---------------------------------------------------------------------------------------
// Ways in: every change to how an account is entered is confirmed, announced, and final

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

#[tokio::test]
async fn connecting_a_provider_asks_for_the_password_and_a_code_and_is_a_factor_change() {
    let world = World::start();
    let (owner, email, key, codes) = account_with_two_factor(&world.server, "connect2fa").await;
    let laptop = world.other_session(&email).await;
    assert_eq!(laptop.verify_code(&codes[0]).await.status(), StatusCode::OK);

    // A stolen session cookie alone starts no round trip: no password, a wrong one, or
    // no code each come back to the tab saying so, and record no flow.
    for (form, refusal) in [
        (vec![("purpose", "link")], "wrong_password"),
        (
            vec![
                ("purpose", "link"),
                ("password", "not-the-Password-77"),
                ("code", ""),
            ],
            "wrong_password",
        ),
        (
            vec![("purpose", "link"), ("password", PASSWORD), ("code", "")],
            "wrong_code",
        ),
    ] {
        let res = post_start(&owner, "github", &form).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            location(&res),
            format!("{METHODS_PAGE}?error={refusal}&provider=github"),
            "{form:?}"
        );
    }
    assert_eq!(world.count("SELECT COUNT(*) FROM social_flows").await, 0);

    connect(&owner, "github", "gwen", &totp_at(&key, now() + STEP)).await;
    let user = world.user_id(&email).await;
    assert_eq!(world.links(user).await.len(), 1);
    assert_signed_out(&laptop, "the other session ended with the new way in").await;
    assert_eq!(
        owner.call("load_profile", &[]).await.status(),
        StatusCode::OK
    );
    world
        .wait_for_notice("GitHub was connected to your account")
        .await;
}

#[tokio::test]
async fn a_stolen_session_cannot_disconnect_a_provider_or_set_a_first_password() {
    let world = World::start();
    // The owner, confirmed at the provider in one session, connects a second provider.
    let owner = signed_in_with(&world, "idp", "vic").await;
    world.verify("vic@example.test").await;
    confirm_at_provider(&owner, "idp", "vic").await;
    connect(&owner, "github", "vic", "").await;
    // The thief holds the cookie of another session, which confirmed nothing.
    let thief = signed_in_with(&world, "idp", "vic").await;

    let (status, message) = error_message(disconnect(&thief, "github").await).await;
    assert_eq!(status, StatusCode::CONFLICT, "{message}");
    assert!(message.contains("Confirm it's you"), "{message}");
    let (status, message) = error_message(
        thief
            .call(
                "set_password",
                &[("password", "Attacker-Horse-battery-77"), ("code", "")],
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{message}");
    let user = world.user_id("vic@example.test").await;
    assert_eq!(world.links(user).await.len(), 2, "nothing was disconnected");
    assert_eq!(
        world
            .count("SELECT COUNT(*) FROM users WHERE password_hash <> ''")
            .await,
        0,
        "no password was set"
    );

    // Confirmed at the provider linked before this session, the owner's own changes go
    // through, each a factor change.
    confirm_at_provider(&thief, "idp", "vic").await;
    assert_eq!(
        thief
            .call(
                "set_password",
                &[("password", "Owner-Horse-battery-77"), ("code", "")],
            )
            .await
            .status(),
        StatusCode::OK
    );
    world
        .wait_for_notice("A password was set for your account")
        .await;
    assert_signed_out(&owner, "the first password ended the other session").await;
    let res = thief
        .call(
            "disconnect_provider",
            &[
                ("provider", "github"),
                ("password", "Owner-Horse-battery-77"),
                ("code", ""),
            ],
        )
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    world
        .wait_for_notice("GitHub was disconnected from your account")
        .await;
}

#[tokio::test]
async fn only_a_provider_connected_before_the_session_began_confirms_it() {
    let world = World::start();
    let browser = signed_in_with(&world, "idp", "lars").await;
    world.verify("lars@example.test").await;
    confirm_at_provider(&browser, "idp", "lars").await;
    connect(&browser, "tamper", "lars", "").await;

    // Connected in this session: it could be the thief's, so it confirms nothing.
    let res = round_trip(&browser, "tamper", "reauth", "lars").await;
    assert_refused(&res, METHODS_PAGE, "linked_this_session", "tamper");
    let confirmation = browser.json("load_confirmation", &[]).await;
    let offered: Vec<&str> = confirmation["Confirmed"]["provider"]
        .as_str()
        .into_iter()
        .collect();
    assert_eq!(offered, ["OpenID Test"], "{confirmation}");

    // A session begun after it was connected takes its confirmation.
    let later = signed_in_with(&world, "tamper", "lars").await;
    let confirmation = later.json("load_confirmation", &[]).await;
    assert_eq!(
        confirmation["Reauthenticate"]["providers"]
            .as_array()
            .map(Vec::len),
        Some(2),
        "{confirmation}"
    );
    confirm_at_provider(&later, "tamper", "lars").await;
}

#[tokio::test]
async fn a_provider_linked_by_its_trusted_verified_email_is_a_factor_change() {
    let world = World::start_with(&[("idp", "trust_email", "true")]);
    let owner = world.browser();
    assert_eq!(
        owner.sign_up("alice@example.test").await.status(),
        StatusCode::OK
    );
    let laptop = world.other_session("alice@example.test").await;

    let browser = signed_in_with(&world, "idp", "alice").await;
    assert_eq!(profile_email(&browser).await, "alice@example.test");
    assert_signed_out(&owner, "a new way in ends every other session").await;
    assert_signed_out(&laptop, "a new way in ends every other session").await;
    world
        .wait_for_notice("OpenID Test was connected to your account")
        .await;
}

#[tokio::test]
async fn an_account_whose_address_is_not_proved_adds_no_way_in() {
    let world = World::start();
    let browser = world.browser();
    let email = unique_email("unproved");
    assert_eq!(
        browser.sign_up_unverified(&email).await.status(),
        StatusCode::OK
    );
    let (status, message) = error_message(browser.call("start_enrollment", &[]).await).await;
    assert_eq!(status, StatusCode::CONFLICT, "{message}");
    assert!(message.contains("Confirm your email address"), "{message}");
    let res = post_start(
        &browser,
        "github",
        &[("purpose", "link"), ("password", PASSWORD), ("code", "")],
    )
    .await;
    assert_eq!(
        location(&res),
        format!("{METHODS_PAGE}?error=verify_email_first&provider=github")
    );
    // A provider sign-up of its own has no proved address either.
    let social = signed_in_with(&world, "idp", "uma").await;
    assert_eq!(
        social.call("start_enrollment", &[]).await.status(),
        StatusCode::CONFLICT
    );

    // Control: once proved, the same account sets up two-factor authentication.
    world.verify(&email).await;
    assert_eq!(
        browser.call("start_enrollment", &[]).await.status(),
        StatusCode::OK
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

/// A sign-up through `provider` as `login`, whose address the provider did not prove:
/// the address `email` is given, and the link sent there opened in the same browser.
async fn signed_up_by_link(world: &World, provider: &str, login: &str, email: &str) -> Browser {
    let browser = world.browser();
    let res = round_trip(&browser, provider, "sign_in", login).await;
    assert_eq!(location(&res), CONFIRM_EMAIL_PAGE);
    let old = last_link_in_log(world, "/signup/finish");
    let res = browser.call("send_sign_up_link", &[("email", email)]).await;
    assert_eq!(res.status(), StatusCode::OK, "send_sign_up_link");
    let token = new_link_in_log(world, "/signup/finish", old.as_deref()).await;
    let res = browser.call("finish_sign_up", &[("token", &token)]).await;
    assert_eq!(res.status(), StatusCode::OK, "finish_sign_up");
    browser
}

#[tokio::test]
async fn a_sign_up_whose_address_the_provider_did_not_prove_waits_for_its_link_in_that_browser() {
    let world = World::start();
    let browser = world.browser();
    let res = round_trip(&browser, "facebook", "sign_in", "fay").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        location(&res),
        CONFIRM_EMAIL_PAGE,
        "the address is asked for"
    );
    assert!(session_cookie(&res).is_none(), "nobody is signed in yet");
    assert_eq!(world.count("SELECT COUNT(*) FROM users").await, 0);
    let pending = browser.json("load_pending_sign_up", &[]).await;
    assert_eq!(pending["provider"], "Facebook", "{pending}");
    assert_eq!(pending["email_hint"], "fay@example.test", "{pending}");

    let chosen = unique_email("fay");
    let res = browser
        .call("send_sign_up_link", &[("email", &chosen)])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let token = new_link_in_log(&world, "/signup/finish", None).await;
    assert_eq!(
        world.count("SELECT COUNT(*) FROM users").await,
        0,
        "no account before the link"
    );

    // The link works only in the browser that signed up, once.
    let elsewhere = world.browser();
    let (status, message) =
        error_message(elsewhere.call("finish_sign_up", &[("token", &token)]).await).await;
    assert_eq!(status, StatusCode::CONFLICT, "{message}");
    assert!(message.contains("browser you signed up in"), "{message}");
    // Eight at once, as a double click or an attacker sends them: one account, once.
    let form = [("token", token.as_str())];
    let answers = join_all((0..8).map(|_| browser.call("finish_sign_up", &form))).await;
    let made = answers
        .iter()
        .filter(|a| a.status() == StatusCode::OK)
        .count();
    assert_eq!(
        made,
        1,
        "{:?}",
        answers.iter().map(|a| a.status()).collect::<Vec<_>>()
    );
    assert!(answers
        .iter()
        .all(|a| a.status() == StatusCode::OK || a.status() == StatusCode::CONFLICT));
    assert_eq!(world.count("SELECT COUNT(*) FROM users").await, 1);
    let profile = browser.json("load_profile", &[]).await;
    assert_eq!(profile["email"], chosen.as_str());
    assert_eq!(profile["verified"], true, "the address is proved");
    let user = world.user_id(&chosen).await;
    assert_eq!(world.links(user).await.len(), 1);
    assert_eq!(
        browser
            .call("finish_sign_up", &[("token", &token)])
            .await
            .status(),
        StatusCode::CONFLICT,
        "spent"
    );
    // The same Facebook account signs in to it from now on.
    let again = signed_in_with(&world, "facebook", "fay").await;
    assert_eq!(profile_email(&again).await, chosen);
}

#[tokio::test]
async fn a_provider_sign_up_to_a_taken_address_is_answered_alike_and_tells_its_owner() {
    let world = World::start();
    let owner = world.browser();
    let taken = unique_email("owned");
    assert_eq!(owner.sign_up(&taken).await.status(), StatusCode::OK);

    let mut answers = Vec::new();
    for (login, email) in [("gus", taken.clone()), ("hal", unique_email("free"))] {
        let browser = world.browser();
        let res = round_trip(&browser, "facebook", "sign_in", login).await;
        assert_eq!(location(&res), CONFIRM_EMAIL_PAGE);
        let res = browser
            .call("send_sign_up_link", &[("email", &email)])
            .await;
        answers.push((
            res.status(),
            header(&res, "location"),
            res.text().await.unwrap(),
        ));
    }
    assert_eq!(
        answers[0], answers[1],
        "a taken address is answered like a free one"
    );
    world
        .wait_for_log("Someone tried to sign up with your email address")
        .await;
    assert_eq!(
        world.count("SELECT COUNT(*) FROM users").await,
        1,
        "no account is made for either before its link"
    );
}

#[tokio::test]
async fn a_provider_sign_in_checked_before_its_disconnect_gets_no_session_after_it() {
    let world = World::start_with_env(
        &[],
        &[("FAILPOINTS", "sign_in.before_session=1*return(4000)")],
    );
    let owner = world.browser();
    let email = unique_email("held");
    assert_eq!(owner.sign_up(&email).await.status(), StatusCode::OK);
    connect(&owner, "github", "gil", "").await;

    // Whoever holds the GitHub account signs in; the sign-in is held after its checks.
    let attacker = world.browser();
    let authorize = begin(&attacker, "github", "sign_in", None).await;
    let callback = at_provider(&attacker, "github", &authorize, "gil").await;
    let held = tokio::spawn(async move {
        let res = arrive(&attacker, &callback).await;
        (attacker, res)
    });
    tokio::time::sleep(std::time::Duration::from_millis(2000)).await;
    assert!(disconnect(&owner, "github").await.status().is_success());
    let (attacker, res) = held.await.unwrap();
    assert_refused(&res, "/signin", "expired", "github");
    assert_signed_out(&attacker, "the held sign-in got no session").await;
}
