//! Signing up, in and out against the real server and a real SQLite file.

use crate::common::{error_message, header, session_cookie, unique_email, TestServer, PASSWORD};
use reqwest::StatusCode;

#[tokio::test]
async fn sign_up_signs_the_person_in() {
    let server = TestServer::start().await;
    let browser = server.browser();
    let email = unique_email("new");

    let res = browser.sign_up(&email).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(session_cookie(&res).is_some(), "a session cookie is set");
    let cookie = header(&res, "set-cookie");
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/")
    );
    assert!(
        !cookie.contains("Secure"),
        "no Secure flag on plain-HTTP loopback by default"
    );

    let settings = browser.get("/settings").await;
    assert_eq!(settings.status(), StatusCode::OK);
    let html = settings.text().await.unwrap();
    assert!(html.contains(&email), "settings shows the email");
    assert!(html.contains("Member since"));
}

#[tokio::test]
async fn email_is_normalised_before_it_is_stored() {
    let server = TestServer::start().await;
    let email = unique_email("mixed");
    assert_eq!(
        server
            .browser()
            .sign_up(&format!("  {}  ", email.to_uppercase()))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        server.browser().sign_in(&email, PASSWORD).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn duplicate_email_is_refused() {
    let server = TestServer::start().await;
    let email = unique_email("dup");
    assert_eq!(
        server.browser().sign_up(&email).await.status(),
        StatusCode::OK
    );

    let (status, message) =
        error_message(server.browser().sign_up(&email.to_uppercase()).await).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(message, "An account with this email already exists.");
}

#[tokio::test]
async fn weak_password_is_refused_with_the_reason() {
    let server = TestServer::start().await;
    let browser = server.browser();
    let email = unique_email("weak");

    let (status, message) = error_message(
        browser
            .call("sign_up", &[("email", &email), ("password", "password1")])
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        message.starts_with("This password is too easy to guess."),
        "{message}"
    );

    let (status, message) = error_message(
        browser
            .call("sign_up", &[("email", &email), ("password", "short")])
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(message, "Use at least 8 characters for your password.");

    // Nothing was created: the email is still free.
    assert_eq!(browser.sign_up(&email).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn wrong_password_and_unknown_email_get_the_same_answer() {
    let server = TestServer::start().await;
    let email = unique_email("known");
    server.browser().sign_up(&email).await;

    let wrong = error_message(
        server
            .browser()
            .sign_in(&email, "not-the-password-at-all")
            .await,
    )
    .await;
    let unknown = error_message(
        server
            .browser()
            .sign_in(&unique_email("nobody"), PASSWORD)
            .await,
    )
    .await;
    assert_eq!(
        wrong,
        (
            StatusCode::UNAUTHORIZED,
            "Email or password is incorrect.".to_owned()
        )
    );
    assert_eq!(unknown, wrong);
}

#[tokio::test]
async fn sign_in_issues_a_new_token() {
    let server = TestServer::start().await;
    let browser = server.browser();
    let email = unique_email("signin");
    let first = session_cookie(&browser.sign_up(&email).await).unwrap();

    let res = browser.sign_in(&email, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
    let second = session_cookie(&res).unwrap();
    assert_ne!(first, second, "every sign-in gets a fresh token");
    assert_eq!(res.headers().get("location").unwrap(), "/settings");
    assert_eq!(browser.get("/settings").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn sign_in_returns_to_the_page_asked_for_but_never_off_site() {
    let server = TestServer::start().await;
    let email = unique_email("next");
    server.browser().sign_up(&email).await;

    let browser = server.browser();
    let res = browser
        .call(
            "sign_in",
            &[
                ("email", &email),
                ("password", PASSWORD),
                ("next", "/settings?tab=x"),
            ],
        )
        .await;
    assert_eq!(res.headers().get("location").unwrap(), "/settings?tab=x");

    let res = browser
        .call(
            "sign_in",
            &[
                ("email", &email),
                ("password", PASSWORD),
                ("next", "//evil.example/"),
            ],
        )
        .await;
    assert_eq!(res.headers().get("location").unwrap(), "/settings");
}

#[tokio::test]
async fn settings_redirect_to_sign_in_when_signed_out() {
    let server = TestServer::start().await;
    let res = server.browser().get("/settings").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        res.headers().get("location").unwrap(),
        "/signin?next=%2Fsettings"
    );

    let res = server.browser().call("load_profile", &[]).await;
    assert_eq!(
        error_message(res).await,
        (
            StatusCode::UNAUTHORIZED,
            "Please sign in to continue.".to_owned()
        )
    );
}

#[tokio::test]
async fn sign_out_ends_the_session_on_the_server() {
    let server = TestServer::start().await;
    let browser = server.browser();
    let email = unique_email("out");
    let token = session_cookie(&browser.sign_up(&email).await).unwrap();

    let res = browser.call("sign_out", &[]).await;
    assert_eq!(res.status(), StatusCode::OK);

    // Replaying the old cookie from another client finds no session.
    let replay = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = replay
        .get(format!("{}/settings", server.url))
        .header("cookie", format!("gatehouse_session={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn oversized_and_malformed_input_is_refused_without_a_server_error() {
    let server = TestServer::start().await;
    let browser = server.browser();

    let long_email = format!("{}@example.com", "a".repeat(5000));
    let (status, message) = error_message(browser.sign_up(&long_email).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(message.contains("too long"), "{message}");

    let long_password = "p".repeat(10_000);
    let (status, message) =
        error_message(browser.sign_in(&unique_email("x"), &long_password).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(message.contains("at most 128"), "{message}");

    let (status, message) =
        error_message(browser.call("sign_up", &[("email", "a@example.com")]).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(message.contains("password"), "{message}");

    let res = browser
        .client
        .post(format!("{}/api/sign_in", server.url))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(vec![0xff, 0xfe, b'=', 0xfd])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);

    // Refused before it is read; the server then drops the connection, so a client of
    // its own.
    let huge = "x".repeat(200_000);
    let res = server
        .browser()
        .call("sign_up", &[("email", &huge), ("password", PASSWORD)])
        .await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn cross_origin_post_is_rejected() {
    let server = TestServer::start().await;
    let email = unique_email("csrf");
    let res = server
        .browser()
        .client
        .post(format!("{}/api/sign_up", server.url))
        .header("origin", "http://evil.example")
        .form(&[("email", email.as_str()), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // Nothing happened: the email is still free.
    assert_eq!(
        server.browser().sign_up(&email).await.status(),
        StatusCode::OK
    );
}
