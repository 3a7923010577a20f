//! A factor change is one transaction: the change, the end of every other session, the
//! dropped enrollments and handoffs, and its event commit together or not at all. Fail
//! points (active in test builds only) break it in the middle, by an error or by
//! killing the process, and the database must show all of it or none of it.

mod common;

use std::time::Duration;

use common::*;
use reqwest::StatusCode;

async fn count(server: &TestServer, sql: &'static str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(&server.db().await)
        .await
        .expect(sql)
}

/// Nothing of an enable happened: 2FA off, no codes, no event, the other device still
/// signed in and the setup still pending.
async fn assert_enable_did_not_happen(server: &TestServer, phone: &Browser, laptop: &Browser) {
    let status = phone.json("load_two_factor_status", &[]).await;
    assert!(status["enabled_since"].is_null(), "2FA stays off");
    assert_eq!(
        count(server, "SELECT COUNT(*) FROM recovery_codes").await,
        0
    );
    assert_eq!(
        count(
            server,
            "SELECT COUNT(*) FROM security_events WHERE kind = 'two_factor_enabled'"
        )
        .await,
        0
    );
    assert_eq!(
        count(server, "SELECT COUNT(*) FROM totp_enrollments").await,
        1
    );
    assert_eq!(
        laptop.get("/settings").await.status(),
        StatusCode::OK,
        "the other session lives on"
    );
}

#[tokio::test]
async fn an_error_midway_through_enabling_leaves_nothing_behind() {
    for point in ["factor_change.after_change", "factor_change.before_commit"] {
        let failing = format!("{point}=return");
        let server = TestServer::start_with(DataDir::new(), &[("FAILPOINTS", &failing)]);
        let (phone, laptop) = phone_and_laptop(&server, "fperr").await;
        let enrollment = phone.start_enrollment().await;
        let res = phone
            .call(
                "enable_two_factor",
                &[
                    ("code", &totp_at(&enrollment.key, now())),
                    ("password", PASSWORD),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR, "{point}");
        assert_enable_did_not_happen(&server, &phone, &laptop).await;

        // Without the fault the same setup goes through, and all of it happens.
        let server = TestServer::start_in(server.stop());
        let res = phone
            .client
            .post(format!("{}/api/enable_two_factor", server.url))
            .form(&[
                ("code", totp_at(&enrollment.key, now() + 30)),
                ("password", PASSWORD.to_owned()),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{point}");
        assert_eq!(
            count(&server, "SELECT COUNT(*) FROM recovery_codes").await,
            10
        );
        assert_eq!(
            count(&server, "SELECT COUNT(*) FROM totp_enrollments").await,
            0
        );
        let laptop = laptop.moved_to(&server);
        assert_ne!(
            laptop.get("/settings").await.status(),
            StatusCode::OK,
            "the other session ended with the change"
        );
    }
}

#[tokio::test]
async fn a_crash_before_the_commit_of_disabling_leaves_two_factor_on() {
    let server = TestServer::start().await;
    let (phone, email, key, codes) = account_with_two_factor(&server, "fpcrash").await;
    let laptop = server.browser();
    laptop.sign_in(&email, PASSWORD).await;
    assert_eq!(
        laptop
            .verify_code(&totp_at(&key, now() + 30))
            .await
            .status(),
        StatusCode::OK
    );

    // The fault holds the transaction open; the process dies while it is.
    let data = server.stop();
    let server = TestServer::start_with(
        data,
        &[("FAILPOINTS", "factor_change.before_commit=sleep(60000)")],
    );
    let phone = phone.moved_to(&server);
    let disabling = phone
        .client
        .post(format!("{}/api/disable_two_factor", phone.base))
        .form(&[("code", codes[0].as_str()), ("password", PASSWORD)])
        .send();
    let disabling = tokio::spawn(disabling);
    tokio::time::sleep(Duration::from_secs(2)).await;
    let server = TestServer::start_in(server.stop());
    assert!(
        disabling.await.unwrap().is_err(),
        "the request died with the process, unanswered"
    );

    assert_eq!(
        count(&server, "SELECT COUNT(*) FROM totp_credentials").await,
        1
    );
    assert_eq!(
        count(
            &server,
            "SELECT COUNT(*) FROM recovery_codes WHERE used_at IS NULL"
        )
        .await,
        10,
        "the code was not spent either"
    );
    assert_eq!(
        count(
            &server,
            "SELECT COUNT(*) FROM security_events WHERE kind = 'two_factor_disabled'"
        )
        .await,
        0
    );
    let laptop = laptop.moved_to(&server);
    assert_eq!(
        laptop.get("/settings").await.status(),
        StatusCode::OK,
        "no part of the change happened, so the other session lives"
    );
}
