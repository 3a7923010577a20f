//! `--public-url` is the one origin redirects and the same-site check are built on; the
//! `Host` header a client sends changes neither.

use crate::common::*;
use reqwest::{Response, StatusCode};

async fn post_sign_up(server: &TestServer, host: Option<&str>, origin: &str) -> Response {
    let mut req = server
        .browser()
        .client
        .post(format!("{}/api/sign_up", server.url))
        .header("origin", origin);
    if let Some(host) = host {
        req = req.header("host", host);
    }
    req.form(&[
        ("email", unique_email("origin").as_str()),
        ("password", PASSWORD),
    ])
    .send()
    .await
    .unwrap()
}

#[tokio::test]
async fn a_forged_host_header_does_not_make_a_post_same_site() {
    let server = TestServer::start().await;
    let res = post_sign_up(&server, Some("evil.example"), "http://evil.example").await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    let res = post_sign_up(&server, None, &server.url).await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "the default is the bound address"
    );
}

#[tokio::test]
async fn only_the_public_origin_may_post() {
    let public = "https://accounts.example.com";
    let server = TestServer::start_with(DataDir::new(), &[("GATEHOUSE_PUBLIC_URL", public)]);
    let res = post_sign_up(&server, None, &server.url).await;
    assert_eq!(
        res.status(),
        StatusCode::FORBIDDEN,
        "the address listened on is not the public origin"
    );
    assert_eq!(
        post_sign_up(&server, None, public).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn the_sign_in_redirect_keeps_only_a_safe_path() {
    let server = TestServer::start().await;
    let res = server.browser().get("/settings/two-factor?x=1").await;
    assert_eq!(
        header(&res, "location"),
        "/signin?next=%2Fsettings%2Ftwo-factor%3Fx%3D1"
    );
    let res = server.browser().get("/settings/%0d%0aevil").await;
    assert_eq!(header(&res, "location"), "/signin?next=%2Fsettings");

    let email = unique_email("next");
    server.browser().sign_up(&email).await;
    for hostile in ["/%09/evil.example", "/.//evil.example", "/%5cevil.example"] {
        let res = server
            .browser()
            .call(
                "sign_in",
                &[("email", &email), ("password", PASSWORD), ("next", hostile)],
            )
            .await;
        assert_eq!(header(&res, "location"), "/settings", "{hostile}");
    }
}

/// A failed sign-in posted by a form without JavaScript, coming from `referer`; returns
/// where the server sends the browser.
async fn failed_form_sign_in_from(server: &TestServer, referer: &str) -> String {
    let res = server
        .browser()
        .client
        .post(format!("{}/api/sign_in", server.url))
        .header("accept", "text/html")
        .header("referer", referer)
        .form(&[
            ("email", "nobody@example.com"),
            ("password", "wrong-password"),
        ])
        .send()
        .await
        .unwrap();
    header(&res, "location")
}

#[tokio::test]
async fn a_plain_form_post_is_not_sent_back_to_a_foreign_referer() {
    let server = TestServer::start().await;
    assert_eq!(
        failed_form_sign_in_from(&server, "http://evil.example/phish").await,
        "/settings"
    );
    let location = failed_form_sign_in_from(&server, &format!("{}/signin?x=1", server.url)).await;
    assert!(
        location.starts_with("/signin?x=1&"),
        "our own page gets the error back: {location}"
    );
}

#[tokio::test]
async fn a_public_url_with_a_path_stops_the_start() {
    let data = DataDir::new();
    let (status, stderr) = run_to_exit(
        &data,
        &[],
        &[("GATEHOUSE_PUBLIC_URL", "https://accounts.example.com/login")],
    );
    assert!(!status.success());
    assert!(stderr.contains("--public-url"), "{stderr}");
}
