//! A factor change is one transaction: the change, the end of every other session, the
//! dropped enrollments and handoffs, and its event commit together or not at all. Fail
//! points (active in test builds only) break it in the middle, by an error or by
//! killing the process, and the database must show all of it or none of it.

use std::time::Duration;

use crate::common::*;
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
        &[(
            "FAILPOINTS",
            "factor_change.held_before_commit=return(60000)",
        )],
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

// ---------------------------------------------------------------------------------------
// Nothing in flight outlives a factor change

const NEW_PASSWORD: &str = "another-Horse-battery-staple-93";

/// Changes the password from `browser`, which is signed in with `PASSWORD`. Sign-ins in
/// flight hold the account's password attempts for a moment, so a change that meets
/// them all taken is tried again, as its owner would.
async fn change_password(browser: &Browser) {
    for _ in 0..100 {
        let res = browser
            .call(
                "change_password",
                &[
                    ("current_password", PASSWORD),
                    ("password", NEW_PASSWORD),
                    ("code", ""),
                ],
            )
            .await;
        match res.status() {
            StatusCode::OK => return,
            StatusCode::TOO_MANY_REQUESTS => tokio::time::sleep(Duration::from_millis(50)).await,
            status => panic!("change_password: {status}"),
        }
    }
    panic!("change_password was refused 100 times");
}

/// A sign-in with the old password, held after its check; the owner changes something
/// meanwhile (`change`); the held sign-in must then get no session that works.
async fn held_sign_in_across(tag: &str, change: impl AsyncFnOnce(&Browser)) {
    let server = TestServer::start_with(
        DataDir::new(),
        &[("FAILPOINTS", "sign_in.before_session=1*return(4000)")],
    );
    let (owner, email) = (server.browser(), unique_email(tag));
    assert_eq!(owner.sign_up(&email).await.status(), StatusCode::OK);
    let attacker = server.browser();
    let held = {
        let email = email.clone();
        async move {
            let res = attacker.sign_in(&email, PASSWORD).await;
            (attacker, res)
        }
    };
    let held = tokio::spawn(held);
    // The held sign-in checks its password well within this, then waits 4 s.
    tokio::time::sleep(Duration::from_millis(2000)).await;
    change(&owner).await;
    let (attacker, res) = held.await.unwrap();
    let (status, message) = error_message(res).await;
    assert_eq!(status, StatusCode::CONFLICT, "{message}");
    assert!(
        message.contains("changed while you were signing in"),
        "{message}"
    );
    assert_eq!(
        attacker.call("load_profile", &[]).await.status(),
        StatusCode::UNAUTHORIZED,
        "the held sign-in has no session"
    );
    assert_eq!(
        attacker.get("/signin/code").await.status(),
        StatusCode::SEE_OTHER,
        "nor a pending one"
    );
    assert_eq!(
        count(&server, "SELECT COUNT(*) FROM sessions").await,
        1,
        "only the owner's session"
    );
}

#[tokio::test]
async fn a_sign_in_checked_before_a_password_change_gets_no_session_after_it() {
    held_sign_in_across("heldpw", async |owner: &Browser| {
        change_password(owner).await
    })
    .await;
}

#[tokio::test]
async fn a_sign_in_checked_before_two_factor_was_enabled_gets_no_full_session_after_it() {
    held_sign_in_across("held2fa", async |owner: &Browser| {
        owner.enable_two_factor().await;
    })
    .await;
}

/// The attack as it is made: sign-ins with the old password kept in flight, 24 at a
/// time, while the owner changes it. Every session any of them got must be over.
#[tokio::test]
async fn sign_ins_in_flight_with_the_old_password_do_not_outlive_its_change() {
    use std::sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    };
    let server = Arc::new(TestServer::start().await);
    let (owner, email) = (server.browser(), unique_email("inflight"));
    assert_eq!(owner.sign_up(&email).await.status(), StatusCode::OK);
    let stop = Arc::new(AtomicBool::new(false));
    let signed_in: Arc<Mutex<Vec<Browser>>> = Arc::default();
    let attackers: Vec<_> = (0..24)
        .map(|_| {
            let (server, stop, signed_in, email) = (
                server.clone(),
                stop.clone(),
                signed_in.clone(),
                email.clone(),
            );
            tokio::spawn(async move {
                while !stop.load(Ordering::SeqCst) {
                    let browser = server.browser();
                    let res = browser.sign_in(&email, PASSWORD).await;
                    if res.status() == StatusCode::OK {
                        signed_in.lock().unwrap().push(browser);
                    } else {
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                }
            })
        })
        .collect();
    // Let the queue of password checks fill, change the password behind it, and let
    // every check begun before the change come back.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    change_password(&owner).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    stop.store(true, Ordering::SeqCst);
    for attacker in attackers {
        attacker.await.unwrap();
    }
    let signed_in = std::mem::take(&mut *signed_in.lock().unwrap());
    assert!(
        !signed_in.is_empty(),
        "the old password signed in before the change"
    );
    for browser in &signed_in {
        assert_eq!(
            browser.call("load_profile", &[]).await.status(),
            StatusCode::UNAUTHORIZED,
            "a session of the old password outlived its change ({} sign-ins)",
            signed_in.len()
        );
    }
    assert_eq!(
        owner.call("load_profile", &[]).await.status(),
        StatusCode::OK
    );
}
