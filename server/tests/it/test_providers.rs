//! The test-side identity providers themselves (no Gatehouse here): the real OpenID
//! provider gives a proper code flow, and the stand-ins answer the way the documented
//! providers do, including their odd error shapes. Gatehouse's own social sign-in tests
//! lean on all of this, so it must not be wrong quietly.

use crate::common::providers::*;
use data_encoding::{BASE64URL_NOPAD, HEXLOWER};
use hmac::{Hmac, KeyInit, Mac};
use reqwest::{redirect::Policy, Client, StatusCode, Url};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Nothing listens here; the flows stop at the redirect to it.
const ORIGIN: &str = "http://127.0.0.1:1";

fn browser() -> Client {
    Client::builder()
        .cookie_store(true)
        .redirect(Policy::none())
        .build()
        .unwrap()
}

fn start() -> (Providers, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    (Providers::start(ORIGIN, dir.path()), dir)
}

/// A PKCE pair (verifier, S256 challenge).
fn pkce() -> (String, String) {
    let verifier = format!("v{}", HEXLOWER.encode(&rand::random::<[u8; 32]>()));
    let challenge = BASE64URL_NOPAD.encode(&Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

fn with_query(base: &str, params: &[(&str, &str)]) -> String {
    Url::parse_with_params(base, params).unwrap().to_string()
}

fn query(url: &str, name: &str) -> Option<String> {
    Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// A JWT's payload, unverified (the signature is the provider library's business here).
fn jwt_part(jwt: &str, index: usize) -> Value {
    let part = jwt.split('.').nth(index).expect("JWT part");
    serde_json::from_slice(&BASE64URL_NOPAD.decode(part.as_bytes()).unwrap()).unwrap()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

async fn discovery(issuer: &str) -> Value {
    reqwest::get(format!("{issuer}/.well-known/openid-configuration"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// An OIDC authorize URL as Gatehouse builds it, and the verifier for its code.
fn oidc_authorize(
    config: &Value,
    callback: &str,
    state: &str,
    nonce: &str,
    extra: &[(&str, &str)],
) -> (String, String) {
    let (verifier, challenge) = pkce();
    let mut params = vec![
        ("client_id", CLIENT_ID),
        ("response_type", "code"),
        ("scope", "openid email profile"),
        ("redirect_uri", callback),
        ("state", state),
        ("nonce", nonce),
        ("code_challenge", &challenge),
        ("code_challenge_method", "S256"),
    ];
    params.extend_from_slice(extra);
    let endpoint = config["authorization_endpoint"].as_str().unwrap();
    (with_query(endpoint, &params), verifier)
}

/// The token request Gatehouse makes: client_secret_basic, PKCE verifier.
async fn oidc_token(
    config: &Value,
    secret: &str,
    callback: &str,
    code: &str,
    verifier: &str,
) -> (StatusCode, Value) {
    let res = Client::new()
        .post(config["token_endpoint"].as_str().unwrap())
        .basic_auth(CLIENT_ID, Some(secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", callback),
            ("code_verifier", verifier),
        ])
        .send()
        .await
        .unwrap();
    (res.status(), res.json().await.unwrap())
}

#[tokio::test]
async fn the_oidc_provider_runs_a_code_flow_and_forces_a_fresh_login_on_reauth() {
    let (providers, _dir) = start();
    let issuer = &providers.oidc_url;
    let config = discovery(issuer).await;
    assert_eq!(config["issuer"], issuer.as_str());
    assert_eq!(
        config["authorization_response_iss_parameter_supported"],
        true
    );
    let callback = format!("{ORIGIN}/auth/idp/callback");
    let secret = providers.client_secret("idp");
    let browser = browser();

    // First sign-in: the login form, then the callback with code, state and RFC 9207 iss.
    let (url, verifier) = oidc_authorize(&config, &callback, "st-1", "nonce-1", &[]);
    let back = oidc_login(&browser, &url, "alice").await;
    assert!(back.starts_with(&callback), "{back}");
    assert_eq!(query(&back, "state").as_deref(), Some("st-1"));
    assert_eq!(query(&back, "iss").as_deref(), Some(issuer.as_str()));
    let code = query(&back, "code").expect("code");
    let (status, tokens) = oidc_token(&config, secret, &callback, &code, &verifier).await;
    assert_eq!(status, StatusCode::OK, "{tokens}");
    let claims = jwt_part(tokens["id_token"].as_str().unwrap(), 1);
    assert_eq!(claims["iss"], issuer.as_str());
    assert_eq!(claims["aud"], CLIENT_ID);
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["email"], "alice@example.test");
    assert_eq!(claims["email_verified"], true);
    assert_eq!(claims["nonce"], "nonce-1");
    let first_auth_time = claims["auth_time"].as_i64().expect("auth_time");

    // The code is single-use, and the verifier must match.
    let (status, _) = oidc_token(&config, secret, &callback, &code, &verifier).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // The provider session signs in again without a form...
    let (url, _) = oidc_authorize(&config, &callback, "st-2", "nonce-2", &[]);
    let res = browser.get(&url).send().await.unwrap();
    let location = res.headers()["location"].to_str().unwrap();
    assert!(
        location.starts_with(&callback),
        "silent sign-in went to {location}"
    );

    // ...but a reauth (prompt=login, max_age=0) shows the form again: a later auth_time.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let (url, verifier) = oidc_authorize(
        &config,
        &callback,
        "st-3",
        "nonce-3",
        &[("prompt", "login"), ("max_age", "0")],
    );
    let res = browser.get(&url).send().await.unwrap();
    let location = res.headers()["location"].to_str().unwrap();
    assert!(
        location.starts_with("/interaction/"),
        "reauth went to {location}"
    );
    let back = oidc_login(&browser, &url, "alice").await;
    let (_, tokens) = oidc_token(
        &config,
        secret,
        &callback,
        &query(&back, "code").unwrap(),
        &verifier,
    )
    .await;
    let claims = jwt_part(tokens["id_token"].as_str().unwrap(), 1);
    assert!(
        claims["auth_time"].as_i64().unwrap() > first_auth_time,
        "{claims}"
    );
    assert_eq!(claims["nonce"], "nonce-3");

    // The login decides the address and whether it is verified.
    let (url, verifier) = oidc_authorize(&config, &callback, "st-4", "nonce-4", &[]);
    let back = oidc_login(&self::browser(), &url, "unverified:carol@corp.test").await;
    let (_, tokens) = oidc_token(
        &config,
        secret,
        &callback,
        &query(&back, "code").unwrap(),
        &verifier,
    )
    .await;
    let claims = jwt_part(tokens["id_token"].as_str().unwrap(), 1);
    assert_eq!(claims["sub"], "unverified:carol@corp.test");
    assert_eq!(claims["email"], "carol@corp.test");
    assert_eq!(claims["email_verified"], false);

    // And `noemail:` leaves the email claims out.
    let (url, verifier) = oidc_authorize(&config, &callback, "st-5", "nonce-5", &[]);
    let back = oidc_login(&self::browser(), &url, "noemail:dan").await;
    let code = query(&back, "code").unwrap();
    let (_, tokens) = oidc_token(&config, secret, &callback, &code, &verifier).await;
    let claims = jwt_part(tokens["id_token"].as_str().unwrap(), 1);
    assert_eq!(claims["sub"], "noemail:dan");
    assert!(claims.get("email").is_none(), "{claims}");
}

#[tokio::test]
async fn the_oidc_provider_refuses_a_request_without_pkce() {
    let (providers, _dir) = start();
    let config = discovery(&providers.oidc_url).await;
    let callback = format!("{ORIGIN}/auth/idp/callback");
    let endpoint = config["authorization_endpoint"].as_str().unwrap();
    let url = with_query(
        endpoint,
        &[
            ("client_id", CLIENT_ID),
            ("response_type", "code"),
            ("scope", "openid email"),
            ("redirect_uri", &callback),
            ("state", "s"),
        ],
    );
    let res = browser().get(&url).send().await.unwrap();
    let location = res.headers()["location"].to_str().unwrap();
    assert_eq!(query(location, "error").as_deref(), Some("invalid_request"));
}

/// GitHub's token endpoint, asked for JSON as Gatehouse does.
async fn github_token(
    providers: &Providers,
    secret: &str,
    code: &str,
    verifier: &str,
) -> (StatusCode, Value) {
    let res = Client::new()
        .post(format!(
            "{}/github/login/oauth/access_token",
            providers.standin_url
        ))
        .header("accept", "application/json")
        .form(&[
            ("client_id", CLIENT_ID),
            ("client_secret", secret),
            ("code", code),
            ("redirect_uri", &format!("{ORIGIN}/auth/github/callback")),
            ("code_verifier", verifier),
            ("grant_type", "authorization_code"),
        ])
        .send()
        .await
        .unwrap();
    (res.status(), res.json().await.unwrap())
}

async fn github_code(providers: &Providers, login: &str) -> (String, String) {
    let (verifier, challenge) = pkce();
    let url = with_query(
        &format!("{}/github/login/oauth/authorize", providers.standin_url),
        &[
            ("client_id", CLIENT_ID),
            ("redirect_uri", &format!("{ORIGIN}/auth/github/callback")),
            ("scope", "read:user user:email"),
            ("state", "gh-state"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let back = standin_login(&browser(), &url, login).await;
    assert!(
        back.starts_with(&format!("{ORIGIN}/auth/github/callback?")),
        "{back}"
    );
    assert_eq!(query(&back, "state").as_deref(), Some("gh-state"));
    (query(&back, "code").unwrap(), verifier)
}

#[tokio::test]
async fn the_github_stand_in_answers_bad_codes_with_http_200_and_lists_emails() {
    let (providers, _dir) = start();
    let secret = providers.client_secret("github");

    // A wrong PKCE verifier burns the code, and GitHub says so with HTTP 200.
    let (code, verifier) = github_code(&providers, "unverified:dora").await;
    let (status, body) = github_token(&providers, secret, &code, "wrong-verifier").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["error"], "bad_verification_code", "{body}");
    assert_eq!(
        body["error_description"],
        "The code passed is incorrect or expired."
    );
    let (status, body) = github_token(&providers, secret, &code, &verifier).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::OK, Some("bad_verification_code"))
    );

    // A wrong secret is "incorrect_client_credentials", also HTTP 200.
    let (code, verifier) = github_code(&providers, "unverified:dora").await;
    let (status, body) = github_token(&providers, "not-the-secret", &code, &verifier).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (StatusCode::OK, Some("incorrect_client_credentials"))
    );

    let (status, body) = github_token(&providers, secret, &code, &verifier).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["scope"], "read:user,user:email");
    let token = body["access_token"].as_str().unwrap();
    assert!(token.starts_with("gho_"), "{token}");

    let api = |path: &str| {
        Client::new()
            .get(format!("{}/github/api{path}", providers.standin_url))
            .bearer_auth(token)
            .header("accept", "application/vnd.github+json")
            .header("user-agent", "gatehouse-test")
    };
    let user: Value = api("/user").send().await.unwrap().json().await.unwrap();
    assert!(user["id"].is_u64(), "{user}");
    assert_eq!(user["email"], Value::Null);
    let emails: Value = api("/user/emails")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let primary = emails
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["primary"] == true)
        .unwrap();
    assert_eq!(primary["email"], "dora@example.test");
    assert_eq!(primary["verified"], false);
    assert_eq!(emails.as_array().unwrap().len(), 2, "{emails}");

    // The same login is the same account next time.
    let (code, verifier) = github_code(&providers, "unverified:dora").await;
    let (_, body) = github_token(&providers, secret, &code, &verifier).await;
    let again: Value = Client::new()
        .get(format!("{}/github/api/user", providers.standin_url))
        .bearer_auth(body["access_token"].as_str().unwrap())
        .header("user-agent", "gatehouse-test")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["id"], user["id"]);

    // No User-Agent, or a wrong token: refused as GitHub does.
    let res = Client::new()
        .get(format!("{}/github/api/user", providers.standin_url))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = Client::new()
        .get(format!("{}/github/api/user", providers.standin_url))
        .bearer_auth("gho_nope")
        .header("user-agent", "gatehouse-test")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(
        res.json::<Value>().await.unwrap()["message"],
        "Bad credentials"
    );
}

#[tokio::test]
async fn the_facebook_stand_in_requires_a_correct_appsecret_proof() {
    let (providers, _dir) = start();
    let secret = providers.client_secret("facebook");
    let fb = format!("{}/facebook", providers.standin_url);
    let callback = format!("{ORIGIN}/auth/facebook/callback");
    let (verifier, challenge) = pkce();
    let url = with_query(
        &format!("{fb}/dialog/oauth"),
        &[
            ("client_id", CLIENT_ID),
            ("redirect_uri", &callback),
            ("scope", "email"),
            ("state", "fb-state"),
            ("response_type", "code"),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256"),
        ],
    );
    let back = standin_login(&browser(), &url, "erin").await;
    let code = query(&back, "code").unwrap();

    let exchange = || {
        Client::new()
            .post(format!("{fb}/v19.0/oauth/access_token"))
            .header("accept", "application/json")
            .form(&[
                ("client_id", CLIENT_ID),
                ("client_secret", secret),
                ("code", &code),
                ("redirect_uri", &callback),
                ("code_verifier", &verifier),
                ("grant_type", "authorization_code"),
            ])
            .send()
    };
    let body: Value = exchange().await.unwrap().json().await.unwrap();
    let token = body["access_token"]
        .as_str()
        .expect("access token")
        .to_owned();
    assert_eq!(body["token_type"], "bearer");
    // A replayed code is a Graph API error: HTTP 400, OAuthException.
    let res = exchange().await.unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        res.json::<Value>().await.unwrap()["error"]["type"],
        "OAuthException"
    );

    let me = |proof: String| {
        let url = with_query(
            &format!("{fb}/v19.0/me"),
            &[
                ("fields", "id,name,email"),
                ("access_token", &token),
                ("appsecret_proof", &proof),
            ],
        );
        async move { Client::new().get(url).send().await.unwrap() }
    };
    let proof_with = |key: &str| {
        let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).unwrap();
        mac.update(token.as_bytes());
        HEXLOWER.encode(&mac.finalize().into_bytes())
    };

    let res = me(proof_with("another app's secret")).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let error = &res.json::<Value>().await.unwrap()["error"];
    assert_eq!(error["type"], "OAuthException");
    assert_eq!(error["code"], 100);
    assert_eq!(
        error["message"],
        "Invalid appsecret_proof provided in the API argument"
    );

    let res = me(proof_with(secret)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let user: Value = res.json().await.unwrap();
    assert_eq!(user["email"], "erin@example.test");
    assert_eq!(user["name"], "Erin");
    assert!(
        user["id"]
            .as_str()
            .unwrap()
            .chars()
            .all(|c| c.is_ascii_digit()),
        "{user}"
    );
}

#[tokio::test]
async fn the_tamper_issuer_breaks_exactly_what_it_is_told() {
    let (providers, _dir) = start();
    let issuer = &providers.tamper_issuer;
    let config = discovery(issuer).await;
    assert_eq!(config["issuer"], issuer.as_str());
    assert_eq!(
        config["authorization_response_iss_parameter_supported"],
        true
    );
    let jwks: Value = reqwest::get(config["jwks_uri"].as_str().unwrap())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let kid = jwks["keys"][0]["kid"].clone();
    let callback = format!("{ORIGIN}/auth/tamper/callback");
    let secret = providers.client_secret("tamper");

    let (config, callback) = (&config, &callback);
    // One flow under the current break: the callback URL and the ID token's header and claims.
    let flow = |nonce: &'static str| async move {
        let (url, verifier) = oidc_authorize(config, callback, "t-state", nonce, &[]);
        let back = standin_login(&browser(), &url, "gina").await;
        let (status, tokens) = oidc_token(
            config,
            secret,
            callback,
            &query(&back, "code").unwrap(),
            &verifier,
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{tokens}");
        let jwt = tokens["id_token"].as_str().unwrap().to_owned();
        (back, jwt_part(&jwt, 0), jwt_part(&jwt, 1))
    };

    let (back, header, claims) = flow("n-good").await;
    assert_eq!(query(&back, "iss").as_deref(), Some(issuer.as_str()));
    assert_eq!(
        (header["alg"].as_str(), &header["kid"]),
        (Some("RS256"), &kid)
    );
    assert_eq!(claims["iss"], issuer.as_str());
    assert_eq!(claims["aud"], CLIENT_ID);
    assert_eq!(claims["sub"], "gina");
    assert_eq!(claims["nonce"], "n-good");
    assert_eq!(claims["email"], "gina@example.test");
    assert_eq!(claims["email_verified"], true);
    assert!(claims["exp"].as_i64().unwrap() > now());

    providers.break_tamper("aud").await;
    assert_ne!(flow("n").await.2["aud"], CLIENT_ID);
    providers.break_tamper("nonce").await;
    assert_ne!(flow("n-sent").await.2["nonce"], "n-sent");
    providers.break_tamper("iss_param").await;
    assert_ne!(
        query(&flow("n").await.0, "iss").as_deref(),
        Some(issuer.as_str())
    );
    providers.break_tamper("exp").await;
    assert!(flow("n").await.2["exp"].as_i64().unwrap() < now() - 3000);
    providers.break_tamper("auth_time").await;
    assert!(flow("n").await.2["auth_time"].as_i64().unwrap() < now() - 3000);
    providers.break_tamper("alg_none").await;
    assert_eq!(flow("n").await.1["alg"], "none");
    // A rogue key under the published kid: only a signature check can tell.
    providers.break_tamper("signature").await;
    let (_, header, claims) = flow("n-sig").await;
    assert_eq!(
        (&header["kid"], &claims["nonce"]),
        (&kid, &Value::from("n-sig"))
    );

    providers.break_tamper("none").await;
    let (back, _, claims) = flow("n-back").await;
    assert_eq!(query(&back, "iss").as_deref(), Some(issuer.as_str()));
    assert_eq!(claims["aud"], CLIENT_ID);
}

#[tokio::test]
async fn the_config_names_all_four_providers() {
    let (providers, dir) = start();
    let toml = std::fs::read_to_string(&providers.config_path).unwrap();
    for id in PROVIDER_IDS {
        assert!(toml.contains(&format!("id = \"{id}\"")), "{toml}");
        let secret = std::fs::read_to_string(dir.path().join(format!("{id}.secret"))).unwrap();
        assert_eq!(secret.trim_end(), providers.client_secret(id));
    }
    assert!(toml.contains(&format!("issuer = \"{}\"", providers.oidc_url)));
    let strict = providers.write_config("strict.toml", &[("github", "allow_signup", "false")]);
    let strict = std::fs::read_to_string(strict).unwrap();
    assert_eq!(
        strict.matches("allow_signup = false").count(),
        1,
        "{strict}"
    );
}
