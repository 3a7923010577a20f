//! Each test is named for the attack it stops.

use crate::common::*;
use reqwest::StatusCode;

#[tokio::test]
async fn totp_bruteforce_locks_account_across_restart() {
    let server = TestServer::start().await;
    let (_, email, key, _) = account_with_two_factor(&server, "brute").await;
    let wrong = wrong_code(&key);
    // Two pending sessions, as an attacker would use to dodge the per-session limit.
    for _ in 0..2 {
        let attacker = server.browser();
        attacker.sign_in(&email, PASSWORD).await;
        for _ in 0..2 {
            assert_eq!(
                attacker.verify_code(&wrong).await.status(),
                StatusCode::UNAUTHORIZED
            );
        }
    }
    let attacker = server.browser();
    attacker.sign_in(&email, PASSWORD).await;
    assert_eq!(
        attacker.verify_code(&wrong).await.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the 5th failure locks"
    );

    let server = TestServer::start_in(server.stop());
    let browser = server.browser();
    let res = browser.sign_in(&email, PASSWORD).await;
    assert_eq!(
        res.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "still locked after a restart: the right password gets no code prompt"
    );
    let retry: u64 = header(&res, "retry-after").parse().unwrap();
    assert!((1..=900).contains(&retry));
    assert_eq!(
        browser
            .verify_code(&totp_at(&key, now() + 30))
            .await
            .status(),
        StatusCode::UNAUTHORIZED,
        "so there is no pending session to try the right code on"
    );
}

#[tokio::test]
async fn recovery_code_guessing_counts_against_the_same_lock() {
    let server = TestServer::start().await;
    let (_, email, _, codes) = account_with_two_factor(&server, "recbrute").await;
    let attacker = server.browser();
    attacker.sign_in(&email, PASSWORD).await;
    for _ in 0..4 {
        let res = attacker.verify_code("AAAA-BBBB-CCCC-DDDD-EEEE-FFFF").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    assert_eq!(
        attacker
            .verify_code("AAAA-BBBB-CCCC-DDDD-EEEE-GGGG")
            .await
            .status(),
        StatusCode::TOO_MANY_REQUESTS
    );
    let owner = server.browser();
    let (status, message) = error_message(owner.sign_in(&email, PASSWORD).await).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(
        message.contains("signing in to this account is paused"),
        "{message}"
    );
    assert_eq!(
        owner.verify_code(&codes[0]).await.status(),
        StatusCode::UNAUTHORIZED,
        "no code is checked while the lock holds"
    );
}

#[tokio::test]
async fn password_guessing_on_one_account_is_throttled() {
    let server = TestServer::start().await;
    let email = unique_email("pwbrute");
    server.browser().sign_up(&email).await;
    let attacker = server.browser();
    for _ in 0..10 {
        let res = attacker.sign_in(&email, "Wrong-guess-password-1").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = attacker.sign_in(&email, PASSWORD).await;
    // The lock started when the 10th attempt was counted, a moment before this answer.
    let retry: u64 = header(&res, "retry-after").parse().unwrap();
    assert!((899..=900).contains(&retry), "{retry}");
    let (status, message) = error_message(res).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(message, "Too many attempts. Try again in 15 minutes.");
}

#[tokio::test]
async fn password_spraying_from_one_address_is_throttled() {
    let server = TestServer::start().await;
    let attacker = server.browser();
    for n in 0..30 {
        let res = attacker
            .sign_in(&unique_email(&format!("spray{n}")), "Spray-password-2026")
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    let res = attacker
        .sign_in(&unique_email("spray-last"), "Spray-password-2026")
        .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(res.headers().get("retry-after").is_some());
}

#[tokio::test]
async fn cross_site_fetch_metadata_is_rejected() {
    let server = TestServer::start().await;
    let res = server
        .browser()
        .client
        .post(format!("{}/api/sign_in", server.url))
        .header("sec-fetch-site", "cross-site")
        .form(&[("email", "a@example.com"), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn responses_carry_security_headers() {
    let server = TestServer::start().await;
    let res = server.browser().get("/signin").await;
    let headers = res.headers();
    assert_eq!(headers.get("x-content-type-options").unwrap(), "nosniff");
    assert_eq!(headers.get("referrer-policy").unwrap(), "same-origin");
    assert_eq!(headers.get("x-frame-options").unwrap(), "DENY");
}

/// Every page and server function the app defines, enumerated from the app itself, so a
/// route added later cannot escape this test.
#[tokio::test]
async fn pending_session_reaches_no_other_route() {
    let server = TestServer::start().await;
    let (_, email, _, _) = account_with_two_factor(&server, "pending").await;
    let pending = server.browser();
    pending.sign_in(&email, PASSWORD).await;

    // Pages for anyone: the emailed links work whoever is signed in, or no one.
    let public_pages = [
        "/",
        "/signin",
        "/signup",
        "/signin/code",
        "/forgot-password",
        "/reset-password",
        "/verify-email",
        "/confirm-email",
        "/signup/email",
        "/signup/finish",
    ];
    let pages = app_pages();
    assert!(
        pages.iter().any(|p| p == "/settings/two-factor/enable"),
        "{pages:?}"
    );
    for page in pages.iter().filter(|p| !public_pages.contains(&p.as_str())) {
        let res = pending.get(page).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{page}");
        assert_eq!(
            res.headers().get("location").unwrap(),
            "/signin/code",
            "{page}"
        );
    }

    // Open to anyone, or harmless: they return nothing for a pending session.
    let functions = server_functions();
    assert!(functions.len() >= 15, "{functions:?}");
    for path in functions
        .iter()
        .filter(|p| !OPEN_FUNCTIONS.contains(&p.as_str()))
    {
        let res = pending.call_with_every_field(path).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{path}");
    }
    let who = pending.json("signed_in_as", &[]).await;
    assert!(who.is_null(), "a pending session is not signed in");
}

#[tokio::test]
async fn same_origin_form_posts_pass_even_with_a_null_origin() {
    let server = TestServer::start().await;
    let email = unique_email("nullorigin");
    let post = |site: Option<&'static str>, email: String| {
        let mut req = server
            .browser()
            .client
            .post(format!("{}/api/sign_up", server.url))
            .header("origin", "null")
            .form(&[("email", email), ("password", PASSWORD.to_owned())]);
        if let Some(site) = site {
            req = req.header("sec-fetch-site", site);
        }
        req.send()
    };
    // Some browsers send `Origin: null` with their own form posts (under no-referrer policies).
    assert_eq!(
        post(Some("same-origin"), email.clone())
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        post(Some("same-site"), unique_email("x"))
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        post(None, unique_email("y")).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn enable_dialog_code_guessing_is_throttled_too() {
    let server = TestServer::start().await;
    let browser = server.browser();
    browser.sign_up(&unique_email("enablebrute")).await;
    let enrollment = browser.start_enrollment().await;
    let wrong = wrong_code(&enrollment.key);
    let right = totp_at(&enrollment.key, now());
    let expected = [StatusCode::UNAUTHORIZED; 4]
        .into_iter()
        .chain([StatusCode::TOO_MANY_REQUESTS]);
    for status in expected {
        let res = browser
            .call(
                "enable_two_factor",
                &[("code", &wrong), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(res.status(), status);
    }
    let res = browser
        .call(
            "enable_two_factor",
            &[("code", &right), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "locked means not even checked"
    );
}
