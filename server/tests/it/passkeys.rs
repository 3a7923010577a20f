//! Passkeys end to end, with a software authenticator in place of the browser's: as the
//! second factor at the code prompt, as a passwordless sign-in, and every way an answer
//! must be refused (another account's, a replay, an expired ceremony, a wrong origin, a
//! counter going backwards), counted like wrong codes, also when sent all at once.

use crate::common::*;
use reqwest::StatusCode;
use url::Url;
use webauthn_authenticator_rs::{prelude::WebauthnAuthenticator, softpasskey::SoftPasskey};
use webauthn_rs_proto::{
    AllowCredentials, CreationChallengeResponse, PublicKeyCredential, RequestChallengeResponse,
};

/// A server whose public URL is `http://localhost:PORT`: browsers take no IP address as a
/// passkey's site.
fn passkey_server() -> (TestServer, Url) {
    passkey_server_with(&[])
}

/// A server on a host name, as passkeys need, with `env` besides.
fn passkey_server_with(env: &[(&str, &str)]) -> (TestServer, Url) {
    let port = providers::free_port();
    let addr = format!("127.0.0.1:{port}");
    let origin = format!("http://localhost:{port}");
    let mut env = env.to_vec();
    env.extend([
        ("GATEHOUSE_ADDR", addr.as_str()),
        ("GATEHOUSE_PUBLIC_URL", origin.as_str()),
    ]);
    let server = TestServer::start_with(DataDir::new(), &env);
    (server, Url::parse(&origin).unwrap())
}

/// One person's authenticator, and what registering it taught the test.
struct Key {
    soft: SoftPasskey,
    origin: Url,
    credential_id: Vec<u8>,
    /// The user handle the server gave the authenticator.
    user_handle: Vec<u8>,
}

#[derive(serde::Deserialize)]
struct Challenge {
    ceremony: String,
    options: String,
}

async fn challenge(browser: &Browser, function: &str) -> Challenge {
    let res = browser.call(function, &[]).await;
    assert_eq!(res.status(), StatusCode::OK, "{function}");
    res.json().await.unwrap()
}

/// Registers a new software passkey for the browser's account; returns it and the answer.
async fn add_passkey(
    browser: &Browser,
    origin: &Url,
    code: Option<&str>,
) -> (Key, reqwest::Response) {
    let mut soft = SoftPasskey::new(true);
    let c = challenge(browser, "begin_passkey_registration").await;
    let options: CreationChallengeResponse = serde_json::from_str(&c.options).unwrap();
    let user_handle = options.public_key.user.id.to_vec();
    let credential = soft.do_registration(origin.clone(), options).unwrap();
    let credential_id = credential.raw_id.to_vec();
    let credential = serde_json::to_string(&credential).unwrap();
    let mut form = vec![
        ("ceremony", c.ceremony.as_str()),
        ("name", "Test key"),
        ("credential", credential.as_str()),
        ("password", PASSWORD),
    ];
    if let Some(code) = code {
        form.push(("code", code));
    }
    let res = browser.call("finish_passkey_registration", &form).await;
    let key = Key {
        soft,
        origin: origin.clone(),
        credential_id,
        user_handle,
    };
    (key, res)
}

impl Key {
    /// The authenticator's answer to `options`, from `origin`.
    fn answer(&mut self, options: &str, origin: &Url) -> String {
        let options: RequestChallengeResponse = serde_json::from_str(options).unwrap();
        let answer = self
            .soft
            .do_authentication(origin.clone(), options)
            .unwrap();
        serde_json::to_string(&answer).unwrap()
    }

    /// The answer to a passwordless request: the soft authenticator keeps no discoverable
    /// credentials, so the test names its credential and adds the user handle a
    /// discoverable one returns (neither is signed).
    fn answer_discoverable(&mut self, options: &str, user_handle: &[u8]) -> String {
        let mut options: RequestChallengeResponse = serde_json::from_str(options).unwrap();
        options.public_key.allow_credentials = vec![AllowCredentials {
            type_: "public-key".into(),
            id: self.credential_id.clone(),
            transports: None,
        }];
        let mut answer: PublicKeyCredential = self
            .soft
            .do_authentication(self.origin.clone(), options)
            .unwrap();
        answer.response.user_handle = Some(user_handle.to_vec());
        serde_json::to_string(&answer).unwrap()
    }
}

async fn prompt_with(browser: &Browser, ceremony: &str, credential: &str) -> reqwest::Response {
    browser
        .call(
            "finish_passkey_prompt",
            &[("ceremony", ceremony), ("credential", credential)],
        )
        .await
}

async fn passwordless(browser: &Browser, ceremony: &str, credential: &str) -> reqwest::Response {
    browser
        .call(
            "finish_passkey_sign_in",
            &[("ceremony", ceremony), ("credential", credential)],
        )
        .await
}

/// An account whose only second factor is a passkey; returns its browser, email and key.
async fn account_with_passkey(
    server: &TestServer,
    origin: &Url,
    tag: &str,
) -> (Browser, String, Key) {
    let browser = server.browser();
    let email = unique_email(tag);
    assert_eq!(browser.sign_up(&email).await.status(), StatusCode::OK);
    let (key, res) = add_passkey(&browser, origin, None).await;
    assert_eq!(res.status(), StatusCode::OK);
    (browser, email, key)
}

#[tokio::test]
async fn a_passkey_turns_two_factor_on_and_answers_the_code_prompt() {
    let (server, origin) = passkey_server();
    let browser = server.browser();
    let email = unique_email("passkey");
    browser.sign_up(&email).await;
    let (mut key, res) = add_passkey(&browser, &origin, None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let set: Option<CodeSet> = res.json().await.unwrap();
    assert_eq!(set.expect("recovery codes").codes.len(), 10);
    let status = browser.json("load_two_factor_status", &[]).await;
    assert!(status["enabled_since"].is_string(), "{status}");
    assert_eq!(status["app"], false);
    let list = browser.json("load_passkeys", &[]).await;
    assert_eq!(list["list"][0]["name"], "Test key");

    // The password, then the passkey.
    let laptop = server.browser();
    let res = laptop.sign_in(&email, PASSWORD).await;
    assert!(header(&res, "location").starts_with("/signin/code"));
    let options = laptop.json("load_prompt_options", &[]).await;
    assert_eq!(
        (options["passkey"].clone(), options["app"].clone()),
        (true.into(), false.into())
    );
    let c = challenge(&laptop, "begin_passkey_prompt").await;
    let answer = key.answer(&c.options, &origin);
    let res = prompt_with(&laptop, &c.ceremony, &answer).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        laptop.call("load_profile", &[]).await.status(),
        StatusCode::OK
    );
    let kinds = laptop.activity_kinds().await;
    for kind in [
        "Passkey used",
        "Passkey added",
        "Two-factor authentication turned on",
    ] {
        assert!(kinds.contains(&kind.to_owned()), "{kind}: {kinds:?}");
    }

    // The same answer again is a replay: its challenge was spent.
    let again = server.browser();
    again.sign_in(&email, PASSWORD).await;
    let (status, message) = error_message(prompt_with(&again, &c.ceremony, &answer).await).await;
    assert_eq!(
        (status, message.as_str()),
        (
            StatusCode::UNAUTHORIZED,
            "Your passkey was not accepted. Try again, or use another way to sign in."
        )
    );
}

#[tokio::test]
async fn answers_that_must_not_work_are_refused() {
    let (server, origin) = passkey_server();
    let (_, alice, mut alice_key) = account_with_passkey(&server, &origin, "alice").await;
    let (_, _, mut bob_key) = account_with_passkey(&server, &origin, "bob").await;
    let refused = |res: reqwest::Response| async move { error_message(res).await.0 };

    // Bob's passkey, signing Alice's challenge.
    let browser = server.browser();
    browser.sign_in(&alice, PASSWORD).await;
    let c = challenge(&browser, "begin_passkey_prompt").await;
    let mut options: RequestChallengeResponse = serde_json::from_str(&c.options).unwrap();
    options.public_key.allow_credentials[0].id = bob_key.credential_id.clone();
    let bobs = bob_key.answer(&serde_json::to_string(&options).unwrap(), &origin);
    assert_eq!(
        refused(prompt_with(&browser, &c.ceremony, &bobs).await).await,
        StatusCode::UNAUTHORIZED
    );

    // Alice's own passkey, from another site.
    let c = challenge(&browser, "begin_passkey_prompt").await;
    let port = origin.port().unwrap();
    let phished = alice_key.answer(
        &c.options,
        &Url::parse(&format!("https://evil.localhost:{port}")).unwrap(),
    );
    assert_eq!(
        refused(prompt_with(&browser, &c.ceremony, &phished).await).await,
        StatusCode::UNAUTHORIZED
    );

    // An expired ceremony.
    let c = challenge(&browser, "begin_passkey_prompt").await;
    let answer = alice_key.answer(&c.options, &origin);
    sqlx::query("UPDATE webauthn_ceremonies SET expires_at = 0")
        .execute(&server.db().await)
        .await
        .unwrap();
    assert_eq!(
        refused(prompt_with(&browser, &c.ceremony, &answer).await).await,
        StatusCode::UNAUTHORIZED
    );

    // A counter that goes backwards: the stored one is ahead of what the key says, as
    // when a copy of the key has been used. The passkey is disabled for it.
    let db = server.db().await;
    let (id, record): (i64, String) = sqlx::query_as(
        "SELECT id, passkey FROM passkeys WHERE name = 'Test key' ORDER BY id LIMIT 1",
    )
    .fetch_one(&db)
    .await
    .unwrap();
    let mut record: serde_json::Value = serde_json::from_str(&record).unwrap();
    record["cred"]["counter"] = 1000.into();
    sqlx::query("UPDATE passkeys SET passkey = $1, counter = 1000 WHERE id = $2")
        .bind(record.to_string())
        .bind(id)
        .execute(&db)
        .await
        .unwrap();
    let c = challenge(&browser, "begin_passkey_prompt").await;
    let cloned = alice_key.answer(&c.options, &origin);
    assert_eq!(
        refused(prompt_with(&browser, &c.ceremony, &cloned).await).await,
        StatusCode::UNAUTHORIZED
    );
    let kinds: Vec<String> =
        sqlx::query_scalar("SELECT kind FROM security_events WHERE kind LIKE 'passkey%'")
            .fetch_all(&db)
            .await
            .unwrap();
    assert!(kinds.contains(&"passkey_disabled".to_owned()), "{kinds:?}");
    // Disabled, it is offered no more.
    let (status, _) = error_message(browser.call("begin_passkey_prompt", &[]).await).await;
    assert_eq!(status, StatusCode::CONFLICT);
    // Four refusals so far, each counted: the fifth ends the pending session.
    assert_ne!(browser.verify_code("000000").await.status(), StatusCode::OK);
    assert_eq!(
        browser.call("begin_passkey_prompt", &[]).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn wrong_passkey_answers_sent_at_once_are_limited_like_wrong_codes() {
    let (server, origin) = passkey_server();
    let (_, email, mut key) = account_with_passkey(&server, &origin, "parallel").await;
    let port = origin.port().unwrap();
    let evil = Url::parse(&format!("https://evil.localhost:{port}")).unwrap();
    let browsers = pending_browsers(&[&server], &email, 10).await;
    let mut answers = Vec::new();
    for browser in &browsers {
        let c = challenge(browser, "begin_passkey_prompt").await;
        let answer = key.answer(&c.options, &evil);
        answers.push((c.ceremony, answer));
    }
    let results = futures::future::join_all(
        browsers
            .iter()
            .zip(&answers)
            .map(|(b, (ceremony, answer))| prompt_with(b, ceremony, answer)),
    )
    .await;
    let statuses: Vec<StatusCode> = results.iter().map(|r| r.status()).collect();
    let checked: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM security_events WHERE kind = 'second_factor_failed'",
    )
    .fetch_one(&server.db().await)
    .await
    .unwrap();
    assert_eq!(checked, 5, "{statuses:?}");
    // Four refused as wrong; the fifth started the lock, which answers the rest unchecked.
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    assert_eq!(refused, 4, "{statuses:?}");
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::UNAUTHORIZED || *s == StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );

    // The account's second step is now locked: even the right passkey waits.
    let browser = server.browser();
    let res = browser.sign_in(&email, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let c = challenge(&server.browser(), "begin_passkey_sign_in").await;
    let answer = key.answer_discoverable(&c.options, &key.user_handle.clone());
    let res = passwordless(&server.browser(), &c.ceremony, &answer).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_passkey_signs_in_without_a_password_once_per_challenge() {
    let (server, origin) = passkey_server();
    let (_, email, mut key) = account_with_passkey(&server, &origin, "passwordless").await;
    let (_, _, other) = account_with_passkey(&server, &origin, "other").await;

    let c = challenge(&server.browser(), "begin_passkey_sign_in").await;
    let handle = key.user_handle.clone();
    let answer = key.answer_discoverable(&c.options, &handle);
    // Five browsers send the same answer at once: one is signed in.
    let browsers: Vec<Browser> = (0..5).map(|_| server.browser()).collect();
    let results = futures::future::join_all(
        browsers
            .iter()
            .map(|b| passwordless(b, &c.ceremony, &answer)),
    )
    .await;
    let signed_in: Vec<&Browser> = browsers
        .iter()
        .zip(&results)
        .filter(|(_, r)| r.status() == StatusCode::OK)
        .map(|(b, _)| b)
        .collect();
    assert_eq!(signed_in.len(), 1);
    let profile = signed_in[0].json("load_profile", &[]).await;
    assert_eq!(profile["email"], email.as_str());
    // Both factors at once, recorded as the passkey alone.
    let proofs = server.newest_session_proofs(&email).await;
    assert!(proofs.passkey_at.is_some(), "{proofs:?}");
    assert_eq!((proofs.password_at, proofs.totp_at), (None, None));

    // A user handle that is not the credential's owner's.
    let c = challenge(&server.browser(), "begin_passkey_sign_in").await;
    let forged = key.answer_discoverable(&c.options, &other.user_handle);
    let (status, _) =
        error_message(passwordless(&server.browser(), &c.ceremony, &forged).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Bad input is named, and changes nothing.
    let c = challenge(&server.browser(), "begin_passkey_sign_in").await;
    let (status, message) =
        error_message(passwordless(&server.browser(), &c.ceremony, "not json").await).await;
    assert_eq!(
        (status, message.as_str()),
        (
            StatusCode::BAD_REQUEST,
            "Your browser's answer could not be read. Try again."
        )
    );
}

/// Signs up and registers a passkey; returns the browser, the key and the recovery codes.
async fn new_account_with_codes(
    server: &TestServer,
    origin: &Url,
    tag: &str,
) -> (Browser, Key, Vec<String>) {
    let browser = server.browser();
    browser.sign_up(&unique_email(tag)).await;
    let (key, res) = add_passkey(&browser, origin, None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let set: Option<CodeSet> = res.json().await.unwrap();
    (browser, key, set.expect("recovery codes").codes)
}

async fn first_passkey_id(browser: &Browser) -> String {
    browser.json("load_passkeys", &[]).await["list"][0]["id"]
        .as_i64()
        .expect("a passkey")
        .to_string()
}

#[tokio::test]
async fn removing_the_only_passkey_turns_two_factor_off() {
    let (server, origin) = passkey_server();
    let (browser, _key, codes) = new_account_with_codes(&server, &origin, "remove").await;
    let id = first_passkey_id(&browser).await;

    // Renaming is checked and logged.
    let (status, _) = error_message(
        browser
            .call("rename_passkey", &[("id", &id), ("name", "  ")])
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let res = browser
        .call("rename_passkey", &[("id", &id), ("name", "Phone")])
        .await;
    assert!(!res.status().is_client_error() && !res.status().is_server_error());
    assert_eq!(
        browser.json("load_passkeys", &[]).await["list"][0]["name"],
        "Phone"
    );

    // Removing needs the password and a recovery code; without one nothing changes.
    let remove = |code: &str| {
        let (browser, id, code) = (&browser, id.clone(), code.to_owned());
        async move {
            browser
                .call(
                    "remove_passkey",
                    &[("id", id.as_str()), ("password", PASSWORD), ("code", &code)],
                )
                .await
        }
    };
    let (status, _) = error_message(remove("").await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(first_passkey_id(&browser).await, id);

    let res = remove(&codes[0]).await;
    assert!(!res.status().is_client_error() && !res.status().is_server_error());
    let status = browser.json("load_two_factor_status", &[]).await;
    assert!(status["enabled_since"].is_null(), "{status}");
    assert_eq!(status["codes_left"], 0);
    let kinds = browser.activity_kinds().await;
    for kind in [
        "Passkey removed",
        "Passkey renamed",
        "Two-factor authentication turned off",
    ] {
        assert!(kinds.contains(&kind.to_owned()), "{kind}: {kinds:?}");
    }
}

#[tokio::test]
async fn where_policy_requires_it_the_last_passkey_stays() {
    let port = providers::free_port();
    let addr = format!("127.0.0.1:{port}");
    let origin = format!("http://localhost:{port}");
    let server = TestServer::start_with(
        DataDir::new(),
        &[
            ("GATEHOUSE_ADDR", &addr),
            ("GATEHOUSE_PUBLIC_URL", &origin),
            ("GATEHOUSE_REQUIRE_TWO_FACTOR", "true"),
        ],
    );
    let origin = Url::parse(&origin).unwrap();
    // Registering a passkey is an enrollment: it opens the rest of the account.
    let (browser, _key, codes) = new_account_with_codes(&server, &origin, "policy").await;
    assert_eq!(
        browser.call("load_profile", &[]).await.status(),
        StatusCode::OK
    );
    let id = first_passkey_id(&browser).await;
    let (status, message) = error_message(
        browser
            .call(
                "remove_passkey",
                &[
                    ("id", id.as_str()),
                    ("password", PASSWORD),
                    ("code", &codes[0]),
                ],
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(message.contains("required for this account"), "{message}");
    assert_eq!(first_passkey_id(&browser).await, id);
    // The recovery code was not spent by the refusal.
    let left = browser.json("load_two_factor_status", &[]).await["codes_left"].clone();
    assert_eq!(left, 10);
}

#[tokio::test]
async fn adding_the_app_to_an_account_with_a_passkey_takes_a_recovery_code() {
    let (server, origin) = passkey_server();
    let (browser, _key, codes) = new_account_with_codes(&server, &origin, "addapp").await;
    let enrollment = browser.json("start_enrollment", &[]).await;
    assert_eq!(enrollment["protected"], true);
    let code = totp_at(enrollment["key"].as_str().unwrap(), now());

    // A stolen session and the password are not enough to add a factor.
    let (status, _) = error_message(
        browser
            .call(
                "enable_two_factor",
                &[("code", &code), ("password", PASSWORD)],
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        browser.json("load_two_factor_status", &[]).await["app"],
        false
    );
    let res = browser
        .call(
            "enable_two_factor",
            &[
                ("code", &code),
                ("password", PASSWORD),
                ("current_code", &codes[0]),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let status = browser.json("load_two_factor_status", &[]).await;
    assert_eq!(
        (status["app"].clone(), status["codes_left"].clone()),
        (true.into(), 10.into())
    );
}

#[tokio::test]
async fn adding_the_app_beside_a_passkey_three_times_at_once_is_not_counted_as_wrong_codes() {
    // The winner pauses before its commit, holding the account's lock, so the others
    // read the setup before it is used and wait for the commit (every time on
    // PostgreSQL; on SQLite, whose writes take turns, only now and then).
    let (server, origin) =
        passkey_server_with(&[("FAILPOINTS", "factor_change.held_before_commit=return(400)")]);
    let (browser, _key, codes) = new_account_with_codes(&server, &origin, "addapp-race").await;
    let enrollment = browser.json("start_enrollment", &[]).await;
    let code = totp_at(enrollment["key"].as_str().unwrap(), now());

    // Three, as many as the account's five attempts leave room for: each holds two at
    // its peak (the new app's code and the recovery code).
    let forms: Vec<_> = codes[..3]
        .iter()
        .map(|current| {
            vec![
                ("code", code.as_str()),
                ("password", PASSWORD),
                ("current_code", current.as_str()),
            ]
        })
        .collect();
    // The others are told the setup is used (or, arriving after the commit, that the
    // app is on).
    assert_eq!(
        browser.statuses_at_once("enable_two_factor", &forms).await,
        [StatusCode::OK, StatusCode::CONFLICT, StatusCode::CONFLICT]
    );
    browser.assert_no_wrong_code_logged().await;
    let status = browser.json("load_two_factor_status", &[]).await;
    assert_eq!(
        (status["app"].clone(), status["codes_left"].clone()),
        (true.into(), 10.into())
    );
}

/// `answer` naming a credential that no account has (well-formed, never checkable).
fn with_unknown_credential(answer: &str, n: u8) -> String {
    let mut answer: PublicKeyCredential = serde_json::from_str(answer).unwrap();
    answer.raw_id = vec![n; 32];
    answer.id = data_encoding::BASE64URL_NOPAD.encode(&answer.raw_id);
    serde_json::to_string(&answer).unwrap()
}

/// Marks the account's address proved, so it is sent security notices.
/// The security notices queued for the account `email`.
async fn notices(server: &TestServer, email: &str) -> i64 {
    count(
        server,
        "SELECT COUNT(*) FROM outbox o JOIN users u ON u.id = o.user_id \
         WHERE u.email = $1 AND o.kind = 'notice'",
        email,
    )
    .await
}

async fn count(server: &TestServer, sql: &str, email: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .bind(email)
        .fetch_one(&server.db().await)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

#[tokio::test]
async fn a_passwordless_success_gives_back_only_its_own_attempt_on_the_address() {
    let (server, origin) = passkey_server();
    let (_, _, mut own) = account_with_passkey(&server, &origin, "wipe").await;
    let handle = own.user_handle.clone();

    // 29 wrong answers at once, one short of the address's limit of 30.
    let mut wrong = Vec::new();
    for n in 0..29 {
        let c = challenge(&server.browser(), "begin_passkey_sign_in").await;
        let answer = own.answer_discoverable(&c.options, &handle);
        wrong.push((c.ceremony, with_unknown_credential(&answer, n)));
    }
    let browsers: Vec<Browser> = (0..29).map(|_| server.browser()).collect();
    let results = futures::future::join_all(
        browsers
            .iter()
            .zip(&wrong)
            .map(|(b, (ceremony, answer))| passwordless(b, ceremony, answer)),
    )
    .await;
    let statuses: Vec<StatusCode> = results.iter().map(|r| r.status()).collect();
    assert!(
        statuses.iter().all(|s| *s == StatusCode::UNAUTHORIZED),
        "{statuses:?}"
    );

    // The attacker's own genuine sign-in gives back its own attempt, not the 29.
    let c = challenge(&server.browser(), "begin_passkey_sign_in").await;
    let answer = own.answer_discoverable(&c.options, &handle);
    let res = passwordless(&server.browser(), &c.ceremony, &answer).await;
    assert_eq!(res.status(), StatusCode::OK);
    let failures: i64 =
        sqlx::query_scalar("SELECT failures FROM throttle WHERE key = 'passkey:127.0.0.1'")
            .fetch_one(&server.db().await)
            .await
            .unwrap();
    assert_eq!(failures, 29);

    // The 30th failure fills the limit and starts the address's lock.
    let mut next = Vec::new();
    for n in 100..102 {
        let c = challenge(&server.browser(), "begin_passkey_sign_in").await;
        let answer = own.answer_discoverable(&c.options, &handle);
        let wrong = with_unknown_credential(&answer, n);
        next.push(
            passwordless(&server.browser(), &c.ceremony, &wrong)
                .await
                .status(),
        );
    }
    assert_eq!(
        next,
        [StatusCode::UNAUTHORIZED, StatusCode::TOO_MANY_REQUESTS]
    );
    let c = challenge(&server.browser(), "begin_passkey_sign_in").await;
    let answer = own.answer_discoverable(&c.options, &handle);
    let res = passwordless(&server.browser(), &c.ceremony, &answer).await;
    assert_eq!(
        res.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "locked: even a right answer waits"
    );
    assert!(
        header(&res, "retry-after").parse::<u64>().unwrap() > 60,
        "a lock, not a retry"
    );
}

#[tokio::test]
async fn wrong_passwordless_answers_at_once_never_lock_the_owners_password_sign_in() {
    let (server, origin) = passkey_server();
    let (_, email, mut victim) = account_with_passkey(&server, &origin, "victim").await;
    let handle = victim.user_handle.clone();
    // The passkey's own notice, sent when it was added.
    let notices_before = notices(&server, &email).await;

    // The credential id and user handle are not secret; the signature is. Each answer here
    // names the victim's credential and handle but signs another ceremony's challenge.
    let mut answers = Vec::new();
    for _ in 0..12 {
        let c = challenge(&server.browser(), "begin_passkey_sign_in").await;
        let other = challenge(&server.browser(), "begin_passkey_sign_in").await;
        answers.push((
            c.ceremony,
            victim.answer_discoverable(&other.options, &handle),
        ));
    }
    let browsers: Vec<Browser> = (0..12).map(|_| server.browser()).collect();
    let results = futures::future::join_all(
        browsers
            .iter()
            .zip(&answers)
            .map(|(b, (ceremony, answer))| passwordless(b, ceremony, answer)),
    )
    .await;
    let statuses: Vec<StatusCode> = results.iter().map(|r| r.status()).collect();
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::UNAUTHORIZED || *s == StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    assert!(
        statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
        "passwordless sign-in of the account is limited: {statuses:?}"
    );

    // The password and the passkey at the code prompt still work.
    let browser = server.browser();
    let res = browser.sign_in(&email, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK, "the password is not locked");
    assert!(header(&res, "location").starts_with("/signin/code"));
    let c = challenge(&browser, "begin_passkey_prompt").await;
    let answer = victim.answer(&c.options, &origin);
    assert_eq!(
        prompt_with(&browser, &c.ceremony, &answer).await.status(),
        StatusCode::OK
    );

    // Nobody was told that someone knew the password.
    assert_eq!(
        notices(&server, &email).await,
        notices_before,
        "no lock notice"
    );
    let second_factor_locks = count(
        &server,
        "SELECT COUNT(*) FROM security_events e JOIN users u ON u.id = e.user_id \
         WHERE u.email = $1 AND e.kind IN ('second_factor_failed', 'locked_out') \
         AND e.detail NOT LIKE 'passkey sign-in%'",
        &email,
    )
    .await;
    assert_eq!(
        second_factor_locks, 0,
        "no wrong code, no second-factor lock"
    );
}

#[tokio::test]
async fn a_passkey_whose_counter_goes_backwards_is_disabled_and_its_owner_told() {
    let mail = crate::common::mail::MailServer::start();
    let smtp = mail.smtp_url();
    let (server, origin) = passkey_server_with(&[("GATEHOUSE_SMTP_URL", &smtp)]);
    let browser = server.browser();
    let email = unique_email("clone");
    browser.sign_up(&email).await;
    // A second factor needs a proved address; this server's mail goes to a mail server.
    mark_verified(&server.data.database_url, &email).await;
    let (mut key, res) = add_passkey(&browser, &origin, None).await;
    assert_eq!(res.status(), StatusCode::OK);
    let codes = res.json::<Option<CodeSet>>().await.unwrap().unwrap().codes;
    let handle = key.user_handle.clone();

    // An answer kept back, as a copy of the key would make it; then a newer one is used.
    let kept = challenge(&server.browser(), "begin_passkey_sign_in").await;
    let old = key.answer_discoverable(&kept.options, &handle);
    let c = challenge(&server.browser(), "begin_passkey_sign_in").await;
    let newer = key.answer_discoverable(&c.options, &handle);
    let res = passwordless(&server.browser(), &c.ceremony, &newer).await;
    assert_eq!(res.status(), StatusCode::OK);

    // The kept answer's counter is behind the stored one: refused, and the passkey is
    // disabled, so not even the genuine key's next answer works.
    let res = passwordless(&server.browser(), &kept.ceremony, &old).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let c = challenge(&server.browser(), "begin_passkey_sign_in").await;
    let next = key.answer_discoverable(&c.options, &handle);
    let res = passwordless(&server.browser(), &c.ceremony, &next).await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "disabled for good");

    // Nor at the code prompt, which the password still meets: the account keeps its
    // second step, and a recovery code answers it.
    let laptop = server.browser();
    let res = laptop.sign_in(&email, PASSWORD).await;
    assert!(header(&res, "location").starts_with("/signin/code"));
    let options = laptop.json("load_prompt_options", &[]).await;
    assert_eq!(options["passkey"], false, "{options}");
    let (status, _) = error_message(laptop.call("begin_passkey_prompt", &[]).await).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(laptop.verify_code(&codes[0]).await.status(), StatusCode::OK);

    // The list says so, and why; the owner is told, and the activity shows it.
    let list = laptop.json("load_passkeys", &[]).await;
    let listed = &list["list"][0];
    assert!(listed["disabled"].is_string(), "{list}");
    let notice = mail
        .wait_for(
            &email,
            "Security notice: A passkey was disabled",
            std::time::Duration::from_secs(15),
        )
        .await;
    assert!(notice.text.contains("Test key"), "{}", notice.text);
    let kinds = laptop.activity_kinds().await;
    assert!(
        kinds.iter().any(|k| k.starts_with("Passkey disabled")),
        "{kinds:?}"
    );
}

#[tokio::test]
async fn a_code_prompt_answer_older_than_the_passkeys_last_use_disables_it() {
    let (server, origin) = passkey_server();
    let (browser, email, mut key) = account_with_passkey(&server, &origin, "stale").await;

    // Two code prompts begin; the second is answered first, so the first one's answer,
    // though newer than its own challenge, is behind the counter stored since.
    let first = server.browser();
    first.sign_in(&email, PASSWORD).await;
    let c1 = challenge(&first, "begin_passkey_prompt").await;
    let kept = key.answer(&c1.options, &origin);
    let second = server.browser();
    second.sign_in(&email, PASSWORD).await;
    let c2 = challenge(&second, "begin_passkey_prompt").await;
    let newer = key.answer(&c2.options, &origin);
    assert_eq!(
        prompt_with(&second, &c2.ceremony, &newer).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        prompt_with(&first, &c1.ceremony, &kept).await.status(),
        StatusCode::UNAUTHORIZED
    );

    let list = browser.json("load_passkeys", &[]).await;
    assert!(list["list"][0]["disabled"].is_string(), "{list}");
    let c = challenge(&server.browser(), "begin_passkey_sign_in").await;
    let handle = key.user_handle.clone();
    let answer = key.answer_discoverable(&c.options, &handle);
    assert_eq!(
        passwordless(&server.browser(), &c.ceremony, &answer)
            .await
            .status(),
        StatusCode::UNAUTHORIZED,
        "disabled for every purpose"
    );
}
