//! Email (issue 13) end to end: the real server binary sends over SMTP to a real mail
//! server (maildev, `common::mail`), and the tests follow the links in what arrives.
//! Runs on SQLite, and on PostgreSQL when `GATEHOUSE_TEST_POSTGRES` is set.

use std::time::{Duration, Instant};

use crate::common::{mail::*, *};
use futures::future::join_all;
use reqwest::StatusCode;

const MAIL_WAIT: Duration = Duration::from_secs(15);
const VERIFY: &str = "Confirm your email address";
const RESET: &str = "Reset your Gatehouse password";
const NEW_ADDRESS: &str = "Confirm your new email address";
/// A used, expired or foreign link: `AuthError::LinkExpired`.
const REFUSED: StatusCode = StatusCode::CONFLICT;

/// A Gatehouse that sends to its own maildev, and believes `X-Forwarded-For` from
/// loopback so a test can speak from many addresses.
struct World {
    server: TestServer,
    mail: MailServer,
}

impl World {
    fn start() -> World {
        let mail = MailServer::start();
        let server = TestServer::start_with(DataDir::new(), &Self::env(&mail.smtp_url()));
        World { server, mail }
    }

    fn env(smtp_url: &str) -> Vec<(&'static str, &str)> {
        vec![
            ("GATEHOUSE_SMTP_URL", smtp_url),
            ("GATEHOUSE_TRUSTED_PROXIES", "127.0.0.1"),
        ]
    }

    /// A new account whose address is proved by the link it was sent.
    async fn verified_account(&self, tag: &str) -> (Browser, String) {
        let browser = self.server.browser();
        let email = unique_email(tag);
        assert_eq!(browser.sign_up(&email).await.status(), StatusCode::OK);
        let mail = self.mail.wait_for(&email, VERIFY, MAIL_WAIT).await;
        let res = browser
            .call("verify_email", &[("token", &token_in(&mail))])
            .await;
        assert_eq!(res.status(), StatusCode::OK, "verify_email");
        assert!(profile(&browser).await["verified"].as_bool().unwrap());
        (browser, email)
    }
}

async fn profile(browser: &Browser) -> serde_json::Value {
    browser.json("load_profile", &[]).await
}

/// A server function call as the client at `ip`.
async fn call_from(
    browser: &Browser,
    ip: &str,
    function: &str,
    form: &[(&str, &str)],
) -> StatusCode {
    browser
        .client
        .post(format!("{}/api/{function}", browser.base))
        .header("x-forwarded-for", ip)
        .form(form)
        .send()
        .await
        .expect("POST")
        .status()
}

async fn request_reset(browser: &Browser, ip: &str, email: &str) -> StatusCode {
    call_from(browser, ip, "request_password_reset", &[("email", email)]).await
}

async fn user_id(db: &sqlx::AnyPool, email: &str) -> i64 {
    sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind(email)
        .fetch_one(db)
        .await
        .expect("user id")
}

/// What a reset request answers, as bytes: status, body and the Location it redirects to.
async fn reset_answer(browser: &Browser, ip: &str, email: &str) -> (StatusCode, String, String) {
    let res = browser
        .client
        .post(format!("{}/api/request_password_reset", browser.base))
        .header("x-forwarded-for", ip)
        .form(&[("email", email)])
        .send()
        .await
        .expect("POST");
    let status = res.status();
    let location = res
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, location, res.text().await.unwrap())
}

// 1 ------------------------------------------------------------------------------------

#[tokio::test]
async fn sign_up_sends_a_single_use_verification_link_and_send_again_is_limited() {
    let world = World::start();
    let browser = world.server.browser();
    let email = unique_email("verify");
    assert_eq!(browser.sign_up(&email).await.status(), StatusCode::OK);
    assert!(!profile(&browser).await["verified"].as_bool().unwrap());

    let mail = world.mail.wait_for(&email, VERIFY, MAIL_WAIT).await;
    assert_eq!(mail.to, vec![email.clone()]);
    let link = link_in(&mail);
    assert!(
        link.starts_with(&format!("{}/verify-email?token=", world.server.url)),
        "{link}"
    );
    assert!(mail.text.contains("24 hours"), "{}", mail.text);
    let token = token_in(&mail);

    // Control: a token one character off proves nothing.
    let mut forged = token.clone().into_bytes();
    forged[10] = if forged[10] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    assert_eq!(
        browser
            .call("verify_email", &[("token", &forged)])
            .await
            .status(),
        REFUSED
    );
    assert!(!profile(&browser).await["verified"].as_bool().unwrap());

    // Opened from another browser, not signed in: the link alone proves the address.
    let elsewhere = world.server.browser();
    let res = elsewhere.call("verify_email", &[("token", &token)]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(profile(&browser).await["verified"].as_bool().unwrap());
    assert_eq!(
        browser
            .call("verify_email", &[("token", &token)])
            .await
            .status(),
        REFUSED,
        "the same link twice"
    );
    assert_eq!(
        browser.call("resend_verification", &[]).await.status(),
        REFUSED,
        "already verified: nothing to send"
    );

    // "Send again", on a second account: counted per account, from any address.
    let other = world.server.browser();
    let other_email = unique_email("resend");
    other.sign_up(&other_email).await;
    world.mail.wait_for(&other_email, VERIFY, MAIL_WAIT).await;
    let mut statuses = Vec::new();
    for n in 0..7 {
        let ip = format!("198.51.100.{}", n + 1);
        statuses.push(call_from(&other, &ip, "resend_verification", &[]).await);
    }
    let allowed = statuses
        .iter()
        .take_while(|s| **s == StatusCode::OK)
        .count();
    assert_eq!(allowed, 5, "{statuses:?}");
    assert!(
        statuses[allowed..]
            .iter()
            .all(|s| *s == StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    // The sign-up's message and one per allowed resend, and each of them works once.
    let deadline = Instant::now() + MAIL_WAIT;
    while world.mail.messages_to(&other_email).await.len() < 1 + allowed
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let sent = world.mail.messages_to(&other_email).await;
    assert_eq!(sent.len(), 1 + allowed, "nothing sent past the limit");
    let last = token_in(sent.last().unwrap());
    assert_eq!(
        other
            .call("verify_email", &[("token", &last)])
            .await
            .status(),
        StatusCode::OK
    );
}

// 2 ------------------------------------------------------------------------------------

#[tokio::test]
async fn forgot_password_resets_ends_every_session_and_keeps_two_factor() {
    let world = World::start();
    let (old_browser, email) = world.verified_account("reset").await;
    let (key, _) = old_browser.enable_two_factor().await;
    assert_eq!(
        old_browser.get("/settings").await.status(),
        StatusCode::OK,
        "control: signed in before the reset"
    );

    let anonymous = world.server.browser();
    assert_eq!(
        request_reset(&anonymous, "203.0.113.1", &email).await,
        StatusCode::OK
    );
    let mail = world.mail.wait_for(&email, RESET, MAIL_WAIT).await;
    assert!(mail.text.contains("30 minutes"), "{}", mail.text);
    assert!(mail.text.contains("ignore this message"), "{}", mail.text);
    let link = link_in(&mail);
    assert!(
        link.starts_with(&format!("{}/reset-password?token=", world.server.url)),
        "{link}"
    );
    let token = token_in(&mail);

    // Valid 30 minutes, by the clock of the database row.
    let db = world.server.db().await;
    let id = user_id(&db, &email).await;
    let expires: i64 = sqlx::query_scalar(
        "SELECT MAX(expires_at) FROM email_tokens WHERE user_id = $1 AND purpose = 'reset'",
    )
    .bind(id)
    .fetch_one(&db)
    .await
    .unwrap();
    let ttl = expires - now() as i64;
    assert!((1790..=1800).contains(&ttl), "reset link lives {ttl} s");

    let works = anonymous
        .json("reset_link_works", &[("token", &token)])
        .await;
    assert_eq!(works, serde_json::json!(true));

    // Same policy as sign-up: a weak password is refused and the link not spent.
    let weak = anonymous
        .call(
            "reset_password",
            &[("token", &token), ("password", "short")],
        )
        .await;
    assert_eq!(weak.status(), StatusCode::BAD_REQUEST);

    let new_password = "Brand-new-password-for-reset-77";
    let res = anonymous
        .call(
            "reset_password",
            &[("token", &token), ("password", new_password)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        anonymous
            .json("reset_link_works", &[("token", &token)])
            .await,
        serde_json::json!(false),
        "spent"
    );
    assert_eq!(
        old_browser.get("/settings").await.status(),
        StatusCode::SEE_OTHER,
        "the old session is gone"
    );
    let notice = world
        .mail
        .wait_for(&email, "Your password was reset", MAIL_WAIT)
        .await;
    assert!(
        notice
            .text
            .contains("Two-factor authentication is unchanged"),
        "{}",
        notice.text
    );

    let fresh = world.server.browser();
    assert_eq!(
        fresh.sign_in(&email, PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED,
        "the old password"
    );
    let res = fresh.sign_in(&email, new_password).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        fresh.get("/settings").await.status(),
        StatusCode::SEE_OTHER,
        "the password alone does not sign in: the code is still asked"
    );
    assert_eq!(
        fresh.verify_code(&totp_at(&key, now() + 30)).await.status(),
        StatusCode::OK
    );
    assert_eq!(fresh.get("/settings").await.status(), StatusCode::OK);
    assert_eq!(profile(&fresh).await["two_factor_on"], true);

    // An unverified account is sent a claim instead, and is answered byte for byte the same.
    let unverified = unique_email("unverified");
    world.server.browser().sign_up(&unverified).await;
    world.mail.wait_for(&unverified, VERIFY, MAIL_WAIT).await;
    let to_verified = reset_answer(&anonymous, "203.0.113.2", &email).await;
    let to_unverified = reset_answer(&anonymous, "203.0.113.3", &unverified).await;
    let to_nobody = reset_answer(&anonymous, "203.0.113.4", &unique_email("ghost")).await;
    assert_eq!(to_verified.0, StatusCode::OK);
    assert_eq!(to_verified, to_unverified);
    assert_eq!(to_verified, to_nobody);
    // Control: the verified account's second request did arrive.
    let deadline = Instant::now() + MAIL_WAIT;
    while world
        .mail
        .subjects_to(&email)
        .await
        .iter()
        .filter(|s| *s == RESET)
        .count()
        < 2
    {
        assert!(Instant::now() < deadline, "second reset mail");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let claim = world.mail.wait_for(&unverified, RESET, MAIL_WAIT).await;
    assert!(
        claim.text.contains("never confirmed"),
        "an unproved address is told the link claims the account: {}",
        claim.text
    );
}

// 3 ------------------------------------------------------------------------------------

#[tokio::test]
async fn an_unknown_email_gets_the_same_answer_in_the_same_time() {
    const PAIRS: usize = 20;
    const WARM_UP: usize = 2;
    let world = World::start();
    let mut accounts = Vec::new();
    for n in 0..WARM_UP + PAIRS {
        accounts.push(world.verified_account(&format!("timed{n}")).await.1);
    }
    let browser = world.server.browser();
    let timed = |ip: String, email: String| {
        let browser = &browser;
        async move {
            let start = Instant::now();
            let answer = reset_answer(browser, &ip, &email).await;
            (start.elapsed(), answer)
        }
    };
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    let mut ghosts = Vec::new();
    for (n, email) in accounts.iter().enumerate() {
        // Its own client address per request: the per-address limit is not what's timed.
        let ghost = unique_email(&format!("nobody{n}"));
        let ip = |k: usize| format!("203.0.113.{}", 2 * n + k + 1);
        let ((t_known, a_known), (t_unknown, a_unknown)) = if n % 2 == 0 {
            let k = timed(ip(0), email.clone()).await;
            (k, timed(ip(1), ghost.clone()).await)
        } else {
            let u = timed(ip(1), ghost.clone()).await;
            (timed(ip(0), email.clone()).await, u)
        };
        assert_eq!(a_known.0, StatusCode::OK);
        assert_eq!(a_known, a_unknown, "the same answer");
        if n >= WARM_UP {
            known.push(t_known);
            unknown.push(t_unknown);
        }
        ghosts.push(ghost);
    }
    let median = |mut v: Vec<Duration>| {
        v.sort();
        (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2
    };
    let (known, unknown) = (median(known), median(unknown));
    let ratio = known.max(unknown).as_secs_f64() / known.min(unknown).as_secs_f64();
    println!("{PAIRS} pairs, medians: known {known:?}, unknown {unknown:?}, ratio {ratio:.3}");
    assert!(
        known >= Duration::from_millis(400) && unknown >= Duration::from_millis(400),
        "both padded to 400 ms: {known:?} {unknown:?}"
    );
    assert!(ratio <= 1.10, "known {known:?} vs unknown {unknown:?}");

    // Control: the known accounts really were sent a link; the ghosts nothing.
    for email in &accounts {
        world.mail.wait_for(email, RESET, MAIL_WAIT).await;
    }
    for ghost in &ghosts {
        assert!(world.mail.messages_to(ghost).await.is_empty());
    }
}

// 4 ------------------------------------------------------------------------------------

#[tokio::test]
async fn reset_requests_are_limited_per_address_and_per_client() {
    let world = World::start();
    let (_, email) = world.verified_account("limits").await;
    let browser = world.server.browser();

    // Per email address, from ever-new client addresses: five, then 429, known or not.
    for target in [email.clone(), unique_email("ghostlimit")] {
        let mut statuses = Vec::new();
        for n in 0..8 {
            let ip = format!(
                "198.51.100.{}",
                n + 1 + if target == email { 0 } else { 50 }
            );
            statuses.push(request_reset(&browser, &ip, &target).await);
        }
        assert_eq!(
            statuses,
            [
                [StatusCode::OK; 5].as_slice(),
                &[StatusCode::TOO_MANY_REQUESTS; 3]
            ]
            .concat(),
            "{target}"
        );
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let resets = world
        .mail
        .subjects_to(&email)
        .await
        .into_iter()
        .filter(|s| s == RESET)
        .count();
    assert_eq!(resets, 5, "one message per allowed request");

    // Per client address, over different email addresses: twenty, then 429.
    let mut statuses = Vec::new();
    for _ in 0..23 {
        statuses.push(request_reset(&browser, "203.0.113.99", &unique_email("spray")).await);
    }
    let allowed = statuses
        .iter()
        .take_while(|s| **s == StatusCode::OK)
        .count();
    assert_eq!(allowed, 20, "{statuses:?}");
    assert!(statuses[allowed..]
        .iter()
        .all(|s| *s == StatusCode::TOO_MANY_REQUESTS));
    // Control: another client address is not held back by that one.
    assert_eq!(
        request_reset(&browser, "203.0.113.100", &unique_email("spray")).await,
        StatusCode::OK
    );

    // Verification resends share the client's count: an address that sprayed is refused.
    let unverified = world.server.browser();
    let address = unique_email("sprayer");
    unverified.sign_up(&address).await;
    assert_eq!(
        call_from(&unverified, "203.0.113.99", "resend_verification", &[]).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        call_from(&unverified, "203.0.113.101", "resend_verification", &[]).await,
        StatusCode::OK
    );
}

// 5 ------------------------------------------------------------------------------------

#[tokio::test]
async fn a_reset_link_works_once_under_twenty_concurrent_uses() {
    let world = World::start();
    let (_, email) = world.verified_account("race").await;
    let browser = world.server.browser();
    assert_eq!(
        request_reset(&browser, "203.0.113.1", &email).await,
        StatusCode::OK
    );
    let token = token_in(&world.mail.wait_for(&email, RESET, MAIL_WAIT).await);

    let passwords: Vec<String> = (0..20)
        .map(|n| format!("Concurrent-reset-password-{n:02}"))
        .collect();
    let browsers: Vec<Browser> = (0..20).map(|_| world.server.browser()).collect();
    let statuses: Vec<StatusCode> = join_all(browsers.iter().zip(&passwords).map(|(b, p)| async {
        b.call("reset_password", &[("token", &token), ("password", p)])
            .await
            .status()
    }))
    .await;
    let winners: Vec<usize> = (0..20).filter(|i| statuses[*i] == StatusCode::OK).collect();
    assert_eq!(winners.len(), 1, "{statuses:?}");
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::OK || *s == REFUSED),
        "{statuses:?}"
    );
    // One password notice, not twenty.
    world
        .mail
        .wait_for(&email, "Your password was reset", MAIL_WAIT)
        .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let notices = world
        .mail
        .subjects_to(&email)
        .await
        .into_iter()
        .filter(|s| s.contains("password was reset"))
        .count();
    assert_eq!(notices, 1);

    // The winner's password works; the old one and (below the account's lock) the
    // losers' do not.
    let check = world.server.browser();
    assert_eq!(
        check.sign_in(&email, &passwords[winners[0]]).await.status(),
        StatusCode::OK
    );
    let mut wrong = vec![PASSWORD.to_owned()];
    wrong.extend(
        (0..20)
            .filter(|i| *i != winners[0])
            .take(6)
            .map(|i| passwords[i].clone()),
    );
    for password in &wrong {
        assert_eq!(
            world
                .server
                .browser()
                .sign_in(&email, password)
                .await
                .status(),
            StatusCode::UNAUTHORIZED,
            "{password}"
        );
    }
}

// 6 ------------------------------------------------------------------------------------

#[tokio::test]
async fn a_token_acts_only_for_its_own_account_and_purpose() {
    let world = World::start();
    let (alice, alice_email) = world.verified_account("alice").await;
    let bob = world.server.browser();
    let bob_email = unique_email("bob");
    bob.sign_up(&bob_email).await;
    let bob_verify = token_in(&world.mail.wait_for(&bob_email, VERIFY, MAIL_WAIT).await);

    // Alice's reset link, used from Bob's signed-in browser, changes Alice, not Bob.
    request_reset(&alice, "203.0.113.1", &alice_email).await;
    let alice_reset = token_in(&world.mail.wait_for(&alice_email, RESET, MAIL_WAIT).await);

    // Purposes are separate: the verify token is no reset token and vice versa, and
    // trying does not spend it.
    assert_eq!(
        bob.call(
            "reset_password",
            &[
                ("token", &bob_verify),
                ("password", "Stolen-password-for-bob-1")
            ]
        )
        .await
        .status(),
        REFUSED
    );
    assert_eq!(
        bob.json("reset_link_works", &[("token", &bob_verify)])
            .await,
        serde_json::json!(false)
    );
    assert_eq!(
        bob.call("verify_email", &[("token", &alice_reset)])
            .await
            .status(),
        REFUSED
    );
    assert_eq!(
        bob.call("confirm_email_change", &[("token", &alice_reset)])
            .await
            .status(),
        REFUSED
    );
    assert!(!profile(&bob).await["verified"].as_bool().unwrap());

    let res = bob
        .call(
            "reset_password",
            &[
                ("token", &alice_reset),
                ("password", "Alice-new-password-from-bob"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        world
            .server
            .browser()
            .sign_in(&bob_email, PASSWORD)
            .await
            .status(),
        StatusCode::OK,
        "Bob's password is untouched"
    );
    assert_eq!(
        world
            .server
            .browser()
            .sign_in(&alice_email, "Alice-new-password-from-bob")
            .await
            .status(),
        StatusCode::OK,
        "the token's own account was reset"
    );

    // Bob's verify token, still unspent, verifies Bob, even opened by Alice.
    let alice2 = world.server.browser();
    alice2
        .sign_in(&alice_email, "Alice-new-password-from-bob")
        .await;
    assert_eq!(
        alice2
            .call("verify_email", &[("token", &bob_verify)])
            .await
            .status(),
        StatusCode::OK
    );
    let fresh_bob = world.server.browser();
    fresh_bob.sign_in(&bob_email, PASSWORD).await;
    assert!(profile(&fresh_bob).await["verified"].as_bool().unwrap());
    drop(alice);
}

// 7 ------------------------------------------------------------------------------------

#[tokio::test]
async fn tokens_appear_in_neither_the_log_nor_a_database_dump() {
    let world = World::start();
    let (browser, email) = world.verified_account("secret").await;
    let mut tokens = vec![token_in(
        &world.mail.wait_for(&email, VERIFY, MAIL_WAIT).await,
    )];
    request_reset(&browser, "203.0.113.1", &email).await;
    tokens.push(token_in(
        &world.mail.wait_for(&email, RESET, MAIL_WAIT).await,
    ));
    let new_email = unique_email("secretnew");
    let res = browser
        .call(
            "change_email",
            &[
                ("new_email", &new_email),
                ("password", PASSWORD),
                ("code", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    tokens.push(token_in(
        &world
            .mail
            .wait_for(&new_email, NEW_ADDRESS, MAIL_WAIT)
            .await,
    ));
    // A second verification link, still live, and its mail gone out.
    let other = world.server.browser();
    let other_email = unique_email("secretother");
    other.sign_up(&other_email).await;
    tokens.push(token_in(
        &world.mail.wait_for(&other_email, VERIFY, MAIL_WAIT).await,
    ));

    let log = world.server.server_log();
    let dump = world.server.database_dump();
    // Controls: the searches can find what is there.
    assert!(log.contains("mail sent"), "the worker logs its passes");
    assert!(
        contains(&dump, other_email.as_bytes()),
        "the dump holds the accounts"
    );
    for token in &tokens {
        assert_eq!(token.len(), 43);
        assert!(!log.contains(token.as_str()), "token in the log");
        assert!(!contains(&dump, token.as_bytes()), "token in the database");
        // Nor the part of it a truncated log line would keep.
        assert!(!log.contains(&token[..16]), "token prefix in the log");
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

// 8 ------------------------------------------------------------------------------------

#[tokio::test]
async fn changing_the_address_asks_for_password_and_code_and_waits_for_the_link() {
    let world = World::start();
    let (browser, old) = world.verified_account("move").await;
    let (key, _) = browser.enable_two_factor().await;
    let new = unique_email("moved");
    let change = |password: &str, code: &str| {
        let (browser, new) = (&browser, new.clone());
        let (password, code) = (password.to_owned(), code.to_owned());
        async move {
            browser
                .call(
                    "change_email",
                    &[
                        ("new_email", &new),
                        ("password", &password),
                        ("code", &code),
                    ],
                )
                .await
                .status()
        }
    };
    assert_eq!(
        change("Wrong-password-for-change-1", &totp_at(&key, now() + 30)).await,
        StatusCode::UNAUTHORIZED
    );
    // No code at all is bad input; a wrong one is refused.
    assert_eq!(change(PASSWORD, "").await, StatusCode::BAD_REQUEST);
    assert_eq!(
        change(PASSWORD, &wrong_code(&key)).await,
        StatusCode::UNAUTHORIZED
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        world.mail.messages_to(&new).await.is_empty(),
        "nothing sent while refused"
    );
    assert_eq!(
        change(PASSWORD, &totp_at(&key, now() + 30)).await,
        StatusCode::OK
    );

    let confirm = world.mail.wait_for(&new, NEW_ADDRESS, MAIL_WAIT).await;
    assert_eq!(confirm.to, vec![new.clone()]);
    let notice = world
        .mail
        .wait_for(&old, "Your email address is about to change", MAIL_WAIT)
        .await;
    assert!(notice.text.contains(&new), "{}", notice.text);
    assert!(
        !notice.text.contains("?token="),
        "the old address gets no link"
    );
    assert_eq!(profile(&browser).await["email"], old.as_str(), "not yet");

    let token = token_in(&confirm);
    assert_eq!(
        browser
            .call("confirm_email_change", &[("token", &token)])
            .await
            .status(),
        StatusCode::OK
    );
    let now_profile = profile(&browser).await;
    assert_eq!(now_profile["email"], new.as_str());
    assert_eq!(
        now_profile["verified"], true,
        "the link proved the new address"
    );
    let changed = world
        .mail
        .wait_for(&old, "Your email address was changed", MAIL_WAIT)
        .await;
    assert!(changed.text.contains(&new), "{}", changed.text);
    assert_eq!(
        browser
            .call("confirm_email_change", &[("token", &token)])
            .await
            .status(),
        REFUSED,
        "once"
    );

    // An unverified old address is not told of the change (it may not be theirs).
    let quiet = world.server.browser();
    let unproved = unique_email("unproved");
    quiet.sign_up(&unproved).await;
    let old_verify = token_in(&world.mail.wait_for(&unproved, VERIFY, MAIL_WAIT).await);
    let next = unique_email("unprovednew");
    assert_eq!(
        quiet
            .call(
                "change_email",
                &[("new_email", &next), ("password", PASSWORD), ("code", "")]
            )
            .await
            .status(),
        StatusCode::OK
    );
    let link = token_in(&world.mail.wait_for(&next, NEW_ADDRESS, MAIL_WAIT).await);
    quiet
        .call("confirm_email_change", &[("token", &link)])
        .await;
    assert_eq!(profile(&quiet).await["email"], next.as_str());
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        world.mail.subjects_to(&unproved).await,
        vec![VERIFY.to_owned()],
        "no notice to an unproved address"
    );
    // The old address's verification link does not prove the new address.
    assert_eq!(
        quiet
            .call("verify_email", &[("token", &old_verify)])
            .await
            .status(),
        REFUSED
    );
}

// 9 ------------------------------------------------------------------------------------

#[tokio::test]
async fn security_notices_say_what_happened() {
    let world = World::start();
    let (browser, email) = world.verified_account("notices").await;
    let (key, codes) = browser.enable_two_factor().await;
    let on = world
        .mail
        .wait_for(&email, "Two-factor authentication was turned on", MAIL_WAIT)
        .await;
    assert!(on.subject.starts_with("Security notice: "));
    assert!(on.text.contains("IP address: 127.0.0.1"), "{}", on.text);
    assert!(on.text.contains("If it wasn't you"), "{}", on.text);

    let phone = world.server.browser();
    phone.sign_in(&email, PASSWORD).await;
    assert_eq!(phone.verify_code(&codes[0]).await.status(), StatusCode::OK);
    let used = world
        .mail
        .wait_for(&email, "A recovery code was used", MAIL_WAIT)
        .await;
    let left = codes.len() - 1;
    assert!(
        used.text.contains(&format!("{left} are left")),
        "{left} left:\n{}",
        used.text
    );

    let res = browser
        .call(
            "disable_two_factor",
            &[("code", &totp_at(&key, now() + 30)), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let off = world
        .mail
        .wait_for(
            &email,
            "Two-factor authentication was turned off",
            MAIL_WAIT,
        )
        .await;
    assert!(off.text.contains("only for your password"), "{}", off.text);

    // A lockout of the second factor, on a second account.
    let (owner, locked) = world.verified_account("lockout").await;
    let (lkey, _) = owner.enable_two_factor().await;
    let attacker = world.server.browser();
    attacker.sign_in(&locked, PASSWORD).await;
    let wrong = wrong_code(&lkey);
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(attacker.verify_code(&wrong).await.status());
    }
    assert!(
        statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    let paused = world
        .mail
        .wait_for(&locked, "Signing in to your account is paused", MAIL_WAIT)
        .await;
    assert!(paused.text.contains("minutes"), "{}", paused.text);
    assert!(
        paused.text.contains("knew your password"),
        "{}",
        paused.text
    );

    // Control: what a notice is about goes only to its own account.
    assert!(!world
        .mail
        .subjects_to(&locked)
        .await
        .iter()
        .any(|s| s.contains("recovery code") || s.contains("turned off")));
}

// 10 -----------------------------------------------------------------------------------

/// Changes that each queue mail while the mail server is away: a notice for 2FA on, one
/// for new recovery codes, a reset link and the notice for a changed password.
async fn changes_during_outage(browser: &Browser, email: &str) -> Vec<String> {
    let (key, _) = browser.enable_two_factor().await;
    let res = browser
        .call(
            "regenerate_recovery_codes",
            &[("code", &totp_at(&key, now() + 30)), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK, "regenerate");
    assert_eq!(
        request_reset(browser, "203.0.113.7", email).await,
        StatusCode::OK
    );
    let mut expected = vec![
        "Security notice: Two-factor authentication was turned on".to_owned(),
        "Security notice: New recovery codes were made".to_owned(),
        RESET.to_owned(),
        VERIFY.to_owned(),
    ];
    expected.sort();
    expected
}

/// Waits until every address has its `expected` subjects, then a little longer, and
/// asserts each arrived exactly once.
async fn exactly_once(mail: &MailServer, expected: &[(String, Vec<String>)], within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let mut complete = true;
        for (address, subjects) in expected {
            if mail.messages_to(address).await.len() < subjects.len() {
                complete = false;
            }
        }
        if complete {
            break;
        }
        if Instant::now() > deadline {
            for (address, _) in expected {
                println!("{address}: {:?}", mail.subjects_to(address).await);
            }
            panic!("not everything arrived within {within:?}");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // A duplicate would come from a second claim, a second later at most.
    tokio::time::sleep(Duration::from_secs(4)).await;
    for (address, subjects) in expected {
        assert_eq!(&mail.subjects_to(address).await, subjects, "{address}");
    }
}

async fn outage(instances: usize) {
    let mut world = World::start();
    let smtp_url = world.mail.smtp_url();
    let second =
        (instances == 2).then(|| world.server.second_instance_with(&World::env(&smtp_url)));
    let servers: Vec<&TestServer> = std::iter::once(&world.server)
        .chain(second.as_ref())
        .collect();

    // Control: mail flows before the outage.
    let (_, before) = world.verified_account("before").await;
    world.mail.stop();

    let mut expected = Vec::new();
    for n in 0..6 {
        let server = servers[n % servers.len()];
        let browser = server.browser();
        let email = unique_email(&format!("outage{n}"));
        assert_eq!(browser.sign_up(&email).await.status(), StatusCode::OK);
        // Verified behind the API, so the notices have somewhere to go.
        sqlx::query("UPDATE users SET email_verified_at = 1 WHERE email = $1")
            .bind(&email)
            .execute(&server.db().await)
            .await
            .unwrap();
        let subjects = changes_during_outage(&browser, &email).await;
        expected.push((email, subjects));
    }
    // The worker did try, and failed, while the server was away.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !servers
        .iter()
        .any(|s| s.server_log().contains("could not send a message"))
    {
        assert!(Instant::now() < deadline, "no failed attempt was logged");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(8)).await;
    world.mail.restart();

    exactly_once(&world.mail, &expected, Duration::from_secs(90)).await;
    assert!(
        world.mail.messages_to(&before).await.is_empty(),
        "what was sent before the outage is not sent again"
    );
    let db = world.server.db().await;
    let waiting: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(waiting, 0, "the outbox is empty");
    if let Some(second) = &second {
        // Both instances sent some of it, or the test proved nothing about claims.
        for server in [&world.server, second] {
            println!(
                "{}: {}",
                server.url,
                server
                    .server_log()
                    .lines()
                    .filter(|l| l.contains("mail sent"))
                    .count()
            );
        }
    }
}

#[tokio::test]
async fn an_smtp_outage_delays_mail_and_loses_none() {
    outage(1).await;
}

#[tokio::test]
async fn an_smtp_outage_with_two_instances_sends_each_message_once() {
    outage(2).await;
}

// Ways in (issue 33) -------------------------------------------------------------------

/// Asks to move the account to `new` with the password and no code (2FA off).
async fn change_email(browser: &Browser, new: &str) -> StatusCode {
    browser
        .call(
            "change_email",
            &[("new_email", new), ("password", PASSWORD), ("code", "")],
        )
        .await
        .status()
}

#[tokio::test]
async fn a_reset_link_sent_before_an_email_change_no_longer_works() {
    let world = World::start();
    let (owner, old) = world.verified_account("stale").await;
    // Whoever still reads the old mailbox asks for a reset before the owner moves away.
    let attacker = world.server.browser();
    assert_eq!(
        request_reset(&attacker, "203.0.113.9", &old).await,
        StatusCode::OK
    );
    let reset = token_in(&world.mail.wait_for(&old, RESET, MAIL_WAIT).await);

    let new = unique_email("fresh");
    assert_eq!(change_email(&owner, &new).await, StatusCode::OK);
    let link = token_in(&world.mail.wait_for(&new, NEW_ADDRESS, MAIL_WAIT).await);
    let res = owner
        .call("confirm_email_change", &[("token", &link)])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(profile(&owner).await["email"], new.as_str());

    let stolen = "Attacker-Horse-battery-77";
    let res = attacker
        .call("reset_password", &[("token", &reset), ("password", stolen)])
        .await;
    assert_eq!(
        error_message(res).await,
        (
            REFUSED,
            "This link has expired or was already used. Ask for a new one.".to_owned()
        )
    );
    for email in [&new, &old] {
        assert_eq!(
            world.server.browser().sign_in(email, stolen).await.status(),
            StatusCode::UNAUTHORIZED,
            "{email}"
        );
    }
    assert_eq!(
        world
            .server
            .browser()
            .sign_in(&new, PASSWORD)
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn only_the_latest_change_email_link_can_move_the_account() {
    let world = World::start();
    let (owner, _) = world.verified_account("twice").await;
    let typo = unique_email("typo");
    let meant = unique_email("meant");
    assert_eq!(change_email(&owner, &typo).await, StatusCode::OK);
    let typo_link = token_in(&world.mail.wait_for(&typo, NEW_ADDRESS, MAIL_WAIT).await);
    assert_eq!(change_email(&owner, &meant).await, StatusCode::OK);
    let meant_link = token_in(&world.mail.wait_for(&meant, NEW_ADDRESS, MAIL_WAIT).await);

    let res = owner
        .call("confirm_email_change", &[("token", &typo_link)])
        .await;
    assert_eq!(
        res.status(),
        REFUSED,
        "asked for again: the earlier link is stale"
    );
    let res = owner
        .call("confirm_email_change", &[("token", &meant_link)])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(profile(&owner).await["email"], meant.as_str());
}

/// What a change-email request answers, as bytes: status, Location and body.
async fn change_answer(
    browser: &Browser,
    ip: &str,
    new: &str,
    code: &str,
) -> (StatusCode, String, String) {
    let res = browser
        .client
        .post(format!("{}/api/change_email", browser.base))
        .header("x-forwarded-for", ip)
        .form(&[("new_email", new), ("password", PASSWORD), ("code", code)])
        .send()
        .await
        .expect("POST");
    let status = res.status();
    let location = res
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, location, res.text().await.unwrap())
}

const ADDRESS_TAKEN: &str = "Someone tried to move another Gatehouse account to this address";

#[tokio::test]
async fn a_taken_address_is_answered_like_a_free_one_and_its_owner_is_told() {
    let world = World::start();
    let (prober, _) = world.verified_account("prober").await;
    let (key, codes) = prober.enable_two_factor().await;
    let (_, taken) = world.verified_account("owner").await;
    let free = unique_email("free");
    let ip = "198.51.100.77";

    // A wrong code: the same refusal whether or not the address has an account.
    let wrong = wrong_code(&key);
    assert_eq!(
        change_answer(&prober, ip, &taken, &wrong).await,
        change_answer(&prober, ip, &free, &wrong).await
    );
    assert_eq!(
        change_answer(&prober, ip, &free, &wrong).await.0,
        StatusCode::UNAUTHORIZED
    );
    // A right code: the same answer too.
    let on_taken = change_answer(&prober, ip, &taken, &codes[0]).await;
    assert_eq!(on_taken.0, StatusCode::OK, "{on_taken:?}");
    assert_eq!(on_taken, change_answer(&prober, ip, &free, &codes[1]).await);
    // Five messages an hour for the account, counted before anything is looked up.
    let (on_taken, on_free) = (
        change_answer(&prober, ip, &taken, &wrong).await,
        change_answer(&prober, ip, &free, &wrong).await,
    );
    assert_eq!(on_taken.0, StatusCode::TOO_MANY_REQUESTS, "{on_taken:?}");
    // The bodies say how long to wait, which a second's tick may change.
    assert_eq!((on_taken.0, on_taken.1), (on_free.0, on_free.1));

    // The free address got its link; the taken one's owner got word, and no link.
    world.mail.wait_for(&free, NEW_ADDRESS, MAIL_WAIT).await;
    let told = world.mail.wait_for(&taken, ADDRESS_TAKEN, MAIL_WAIT).await;
    assert_eq!(told.to, vec![taken.clone()]);
    assert!(told.text.contains("Nothing was changed"), "{}", told.text);
    assert!(!told.text.contains("?token="), "{}", told.text);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        world.mail.subjects_to(&taken).await,
        vec![VERIFY.to_owned(), ADDRESS_TAKEN.to_owned()],
        "one word to the owner, and no confirmation link"
    );
    let links: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM email_tokens WHERE email = $1 AND purpose = 'change_email'",
    )
    .bind(&taken)
    .fetch_one(&world.server.db().await)
    .await
    .unwrap();
    assert_eq!(links, 0);
}

#[tokio::test]
async fn forgot_password_to_an_unproved_address_claims_the_account_from_whoever_made_it() {
    let world = World::start();
    let address = unique_email("claimed");
    // Someone else made an account with the address first, and gave it a way in of its
    // own (as an earlier Gatehouse let an account with an unproved address do).
    let squatter = world.server.browser();
    assert_eq!(squatter.sign_up(&address).await.status(), StatusCode::OK);
    let db = world.server.db().await;
    let id = user_id(&db, &address).await;
    sqlx::query(
        "INSERT INTO linked_identities (user_id, provider_id, provider_key, subject, linked_at) \
         VALUES ($1, 'github', 'github', 'squatter', 0)",
    )
    .bind(id)
    .execute(&db)
    .await
    .unwrap();

    // The address's owner asks for a reset: the link comes, and says it claims.
    let owner = world.server.browser();
    assert_eq!(
        request_reset(&owner, "203.0.113.20", &address).await,
        StatusCode::OK
    );
    let mail = world.mail.wait_for(&address, RESET, MAIL_WAIT).await;
    assert!(mail.text.contains("never confirmed"), "{}", mail.text);
    let mine = "Owners-Horse-battery-77";
    let res = owner
        .call(
            "reset_password",
            &[("token", &token_in(&mail)), ("password", mine)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    assert_eq!(
        squatter.call("load_profile", &[]).await.status(),
        StatusCode::UNAUTHORIZED,
        "whoever made the account is signed out"
    );
    assert_eq!(
        squatter.sign_in(&address, PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let links: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM linked_identities WHERE user_id = $1")
            .bind(id)
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(links, 0, "the way in someone else added is gone");
    assert_eq!(owner.sign_in(&address, mine).await.status(), StatusCode::OK);
    assert_eq!(profile(&owner).await["verified"], true);
    let notice = world
        .mail
        .wait_for(
            &address,
            "Security notice: You claimed your account",
            MAIL_WAIT,
        )
        .await;
    assert!(
        notice.text.contains("the connected github account"),
        "{}",
        notice.text
    );
}

#[tokio::test]
async fn changing_the_address_signs_out_every_other_session() {
    let world = World::start();
    let (owner, email) = world.verified_account("moving").await;
    let laptop = world.server.browser();
    assert_eq!(
        laptop.sign_in(&email, PASSWORD).await.status(),
        StatusCode::OK
    );
    let new = unique_email("moved");
    assert_eq!(change_email(&owner, &new).await, StatusCode::OK);
    let link = token_in(&world.mail.wait_for(&new, NEW_ADDRESS, MAIL_WAIT).await);
    let res = owner
        .call("confirm_email_change", &[("token", &link)])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(profile(&owner).await["email"], new.as_str());
    assert_eq!(
        laptop.call("load_profile", &[]).await.status(),
        StatusCode::UNAUTHORIZED,
        "the other session ended with the move"
    );
}
