//! Attackers send their guesses all at once. Every limit must hold when they do: no more
//! guesses are *checked* than the limit allows, on one instance or two. A checked wrong
//! guess leaves exactly one security event, so the events count what was verified, and
//! the answers that say "wrong" are counted as well.

use crate::common::*;
use futures::future::join_all;
use reqwest::{Response, StatusCode};

/// The `kind` of each error answer, `ok` for a success.
async fn kinds(responses: Vec<Response>) -> Vec<String> {
    join_all(responses.into_iter().map(|res| async move {
        if res.status().is_success() {
            return "ok".to_owned();
        }
        let status = res.status();
        assert!(!status.is_server_error(), "{status}");
        let body: serde_json::Value = res.json().await.expect("JSON error");
        body["kind"].as_str().expect("kind").to_owned()
    }))
    .await
}

fn count(kinds: &[String], kind: &str) -> usize {
    kinds.iter().filter(|k| *k == kind).count()
}

async fn events(server: &TestServer, kind: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM security_events WHERE kind = $1")
        .bind(kind)
        .fetch_one(&server.db().await)
        .await
        .expect("count events")
}

/// `n` sign-ins sent at once with `password`, alternately to `a` and `b`; their kinds.
async fn sign_ins_at_once(
    a: &TestServer,
    b: &TestServer,
    email: &str,
    password: &str,
    n: usize,
) -> Vec<String> {
    let attempts = (0..n).map(|i| {
        let browser = if i % 2 == 0 { a } else { b }.browser();
        async move { browser.sign_in(email, password).await }
    });
    kinds(join_all(attempts).await).await
}

#[tokio::test]
async fn forty_wrong_codes_at_once_on_one_pending_session_check_at_most_five() {
    let server = TestServer::start().await;
    let (_, email, key, _) = account_with_two_factor(&server, "par40").await;
    let attacker = server.browser();
    attacker.sign_in(&email, PASSWORD).await;
    let wrong = wrong_code(&key);
    let answers = kinds(join_all((0..40).map(|_| attacker.verify_code(&wrong))).await).await;
    let checked = events(&server, "second_factor_failed").await;
    println!("answers {answers:?}, checked {checked}");
    assert!(checked <= 5, "{checked} wrong codes were checked");
    assert!(count(&answers, "invalid_code") <= 5, "{answers:?}");
    assert_eq!(count(&answers, "ok"), 0);
    assert_eq!(
        attacker
            .verify_code(&totp_at(&key, now() + 30))
            .await
            .status(),
        StatusCode::UNAUTHORIZED,
        "the pending session is gone"
    );
}

/// Fifty wrong codes spread over ten pending sessions, half of them on a second
/// instance: the account's limit of five holds across all of them.
#[tokio::test]
async fn fifty_wrong_codes_over_ten_sessions_and_two_instances_check_at_most_five() {
    let a = TestServer::start().await;
    let b = a.second_instance();
    let (_, email, key, _) = account_with_two_factor(&a, "par50").await;
    let browsers = pending_browsers(&[&a, &b], &email, 10).await;
    let wrong = wrong_code(&key);
    let sends = browsers
        .iter()
        .flat_map(|browser| (0..5).map(|_| browser.verify_code(&wrong)));
    let answers = kinds(join_all(sends).await).await;
    let checked = events(&a, "second_factor_failed").await;
    println!("checked {checked}; answers {answers:?}");
    assert!(checked <= 5, "{checked} wrong codes were checked");
    assert!(count(&answers, "invalid_code") <= 5, "{answers:?}");
    // The rest were refused unchecked: the lock ends each session it reaches.
    let refused = ["sign_in_ended", "throttled", "unauthorized"]
        .iter()
        .map(|kind| count(&answers, kind))
        .sum::<usize>();
    assert_eq!(refused + count(&answers, "invalid_code"), 50, "{answers:?}");
}

#[tokio::test]
async fn forty_wrong_passwords_at_once_check_at_most_ten() {
    let a = TestServer::start().await;
    let b = a.second_instance();
    let email = unique_email("parpw");
    a.browser().sign_up(&email).await;
    let answers = sign_ins_at_once(&a, &b, &email, "Wrong-guess-password-1", 40).await;
    let checked = events(&a, "sign_in_failed").await;
    println!("checked {checked}; answers {answers:?}");
    assert!(checked <= 10, "{checked} wrong passwords were checked");
    assert!(count(&answers, "invalid_credentials") <= 10, "{answers:?}");
    assert!(count(&answers, "throttled") >= 30, "{answers:?}");
    let res = a.browser().sign_in(&email, PASSWORD).await;
    assert_eq!(
        res.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "locked, so even the right password is not checked"
    );
}

/// Wrong passwords sent at once to a locked account, over two instances, are refused
/// before they are counted anywhere: the address they came from is not charged for them,
/// so a locked account cannot be used to lock everyone behind an address out. Were the
/// address counted apart from the account, these forty would lock it (limit 30).
#[tokio::test]
async fn wrong_passwords_at_once_to_a_locked_account_do_not_count_against_the_address() {
    let a = TestServer::start().await;
    let b = a.second_instance();
    let (ada, bob) = (unique_email("lockedada"), unique_email("lockedbob"));
    a.browser().sign_up(&ada).await;
    a.browser().sign_up(&bob).await;
    for _ in 0..10 {
        a.browser().sign_in(&ada, "Wrong-guess-password-1").await;
    }
    let answers = sign_ins_at_once(&a, &b, &ada, "Wrong-guess-password-1", 40).await;
    assert_eq!(count(&answers, "throttled"), 40, "{answers:?}");
    let address: Option<i64> = sqlx::query_scalar("SELECT failures FROM throttle WHERE key = $1")
        .bind("ip:127.0.0.1")
        .fetch_optional(&a.db().await)
        .await
        .unwrap();
    assert_eq!(address, Some(10), "only the ten checked passwords count");
    let res = b.browser().sign_in(&bob, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK, "the address is not locked");
}

/// A stolen session cookie is no password oracle: the enable dialog's password counts
/// against the account's limit and every wrong one is logged.
#[tokio::test]
async fn twenty_five_wrong_passwords_through_the_enable_dialog_check_at_most_ten() {
    let server = TestServer::start().await;
    let browser = server.browser();
    let email = unique_email("pardialog");
    browser.sign_up(&email).await;
    let enrollment = browser.start_enrollment().await;
    let code = totp_at(&enrollment.key, now());
    let form = [
        ("code", code.as_str()),
        ("password", "Wrong-guess-password-1"),
    ];
    let attempts = (0..25).map(|_| browser.call("enable_two_factor", &form));
    let answers = kinds(join_all(attempts).await).await;
    let checked = events(&server, "wrong_password").await;
    println!("checked {checked}; answers {answers:?}");
    assert!(checked <= 10, "{checked} wrong passwords were checked");
    assert!(count(&answers, "wrong_password") <= 10, "{answers:?}");
    assert!(count(&answers, "throttled") >= 15, "{answers:?}");
    assert!(
        browser
            .activity_kinds()
            .await
            .iter()
            .any(|k| k == "Locked after too many attempts"),
        "the lock is in the person's activity"
    );
    // The same limit guards signing in.
    let res = server.browser().sign_in(&email, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn sign_ups_from_one_address_are_limited() {
    let server = TestServer::start_with(DataDir::new(), &[("GATEHOUSE_SIGN_UPS_PER_HOUR", "20")]);
    let sign_ups = (0..30).map(|n| {
        let browser = server.browser();
        async move {
            browser
                .sign_up(&unique_email(&format!("signupflood{n}")))
                .await
        }
    });
    let answers = kinds(join_all(sign_ups).await).await;
    assert_eq!(count(&answers, "ok"), 20, "{answers:?}");
    assert_eq!(count(&answers, "throttled"), 10, "{answers:?}");
    let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&server.db().await)
        .await
        .unwrap();
    assert_eq!(users, 20);
}

/// Twenty wrong passwords at once on a server that lets no check queue: those that find
/// no free core are answered 503 with `Retry-After` and a sentence, and are neither
/// checked nor counted. The account's counter holds exactly the wrong passwords that were
/// answered as wrong, and the right password still signs in.
#[tokio::test]
async fn password_checks_turned_away_when_busy_are_not_counted() {
    let server = TestServer::start_with(DataDir::new(), &[("GATEHOUSE_PASSWORD_MAX_WAIT_MS", "0")]);
    let email = unique_email("busy");
    assert!(server.browser().sign_up(&email).await.status().is_success());
    let attacker = server.browser();
    let answers = join_all((0..20).map(|_| attacker.sign_in(&email, "wrong-Password-42"))).await;
    let (mut wrong, mut busy) = (0, 0);
    for res in answers {
        match res.status() {
            StatusCode::UNAUTHORIZED => wrong += 1,
            StatusCode::SERVICE_UNAVAILABLE => {
                assert!(header(&res, "retry-after").parse::<u64>().unwrap() >= 1);
                let (_, message) = error_message(res).await;
                assert!(
                    message.starts_with("Many people are signing in right now."),
                    "{message}"
                );
                busy += 1;
            }
            other => panic!("unexpected {other}"),
        }
    }
    println!("{wrong} checked and wrong, {busy} turned away");
    assert!(busy > 0, "nothing was turned away");
    assert!(
        wrong < 10,
        "{wrong} checked: the account locked, nothing left to compare"
    );
    let counted: i64 = sqlx::query_scalar("SELECT failures FROM throttle WHERE key = $1")
        .bind(format!("pw:{email}"))
        .fetch_one(&server.db().await)
        .await
        .expect("the account's counter");
    assert_eq!(counted, wrong);
    assert!(attacker
        .sign_in(&email, PASSWORD)
        .await
        .status()
        .is_success());
}
