//! Two app instances on one database, as behind a load balancer: every guarantee holds
//! across them. Runs on SQLite (two processes, one file) and on PostgreSQL.

use crate::common::*;
use reqwest::StatusCode;

#[tokio::test]
async fn recovery_code_works_once_across_instances() {
    let a = TestServer::start().await;
    let b = a.second_instance();
    let (_, email, _, codes) = account_with_two_factor(&a, "multi").await;
    let browsers = pending_browsers(&[&a, &b], &email, 50).await;
    let statuses = send_code_at_once(&browsers, &codes[0]).await;
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 1);
    assert!(
        statuses
            .iter()
            .all(|s| s.is_success() || s.is_client_error()),
        "{statuses:?}"
    );
}

#[tokio::test]
async fn totp_code_works_once_across_instances() {
    let a = TestServer::start().await;
    let b = a.second_instance();
    let (_, email, key, _) = account_with_two_factor(&a, "multitotp").await;
    let browsers = pending_browsers(&[&a, &b], &email, 50).await;
    let statuses = send_code_at_once(&browsers, &totp_at(&key, now() + 30)).await;
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 1);
}

#[tokio::test]
async fn lockout_on_one_instance_holds_on_the_other() {
    let a = TestServer::start().await;
    let b = a.second_instance();
    let (_, email, key, _) = account_with_two_factor(&a, "multilock").await;
    let attacker = a.browser();
    attacker.sign_in(&email, PASSWORD).await;
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

    let owner = b.browser();
    assert_eq!(
        owner.sign_in(&email, PASSWORD).await.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "the lock made on one instance answers the password step on the other"
    );
    assert_eq!(
        owner.verify_code(&totp_at(&key, now() + 30)).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn a_session_from_one_instance_works_on_the_other_and_ends_everywhere() {
    let a = TestServer::start().await;
    let b = a.second_instance();
    let email = unique_email("multisession");
    let on_a = a.browser();
    let token = session_cookie(&on_a.sign_up(&email).await).unwrap();

    let on_b = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let with_cookie = |url: String| {
        on_b.get(url)
            .header("cookie", format!("gatehouse_session={token}"))
            .send()
    };
    assert_eq!(
        with_cookie(format!("{}/settings", b.url))
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );

    let res = on_b
        .post(format!("{}/api/sign_out", b.url))
        .header("cookie", format!("gatehouse_session={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        on_a.get("/settings").await.status(),
        StatusCode::SEE_OTHER,
        "signed out on A too"
    );
}
