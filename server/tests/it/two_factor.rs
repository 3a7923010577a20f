//! Two-factor authentication end to end, against the real server and database.

use crate::common::*;
use reqwest::StatusCode;
use std::time::Duration;

const STEP: u64 = 30;

#[tokio::test]
async fn enable_shows_a_qr_code_of_the_key_and_returns_ten_recovery_codes() {
    let server = TestServer::start().await;
    let browser = server.browser();
    browser.sign_up(&unique_email("enable")).await;

    let enrollment = browser.start_enrollment().await;
    assert!(enrollment.qr_svg.starts_with("<?xml") || enrollment.qr_svg.contains("<svg"));
    let key = enrollment.key.replace(' ', "");
    assert_eq!(key.len(), 32, "160-bit secret as base32");

    let code = totp_at(&enrollment.key, now());
    let res = browser
        .call(
            "enable_two_factor",
            &[("code", &code), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.headers().get("cache-control").unwrap(), "no-store");
    let set: CodeSet = res.json().await.unwrap();
    assert_eq!(set.codes.len(), 10);
    let unique: std::collections::HashSet<_> = set.codes.iter().collect();
    assert_eq!(unique.len(), 10);

    let status = browser.json("load_two_factor_status", &[]).await;
    assert_eq!(status["codes_left"], 10);
    assert!(status["enabled_since"].is_string());
}

#[tokio::test]
async fn wrong_code_or_password_at_enable_leaves_two_factor_off() {
    let server = TestServer::start().await;
    let browser = server.browser();
    let email = unique_email("wrong");
    browser.sign_up(&email).await;
    let enrollment = browser.start_enrollment().await;
    let good = totp_at(&enrollment.key, now());
    let bad = wrong_code(&enrollment.key);

    let (status, message) = error_message(
        browser
            .call(
                "enable_two_factor",
                &[("code", &bad), ("password", PASSWORD)],
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        message,
        "That code is not valid. Check your authenticator app and try again."
    );

    let (status, message) = error_message(
        browser
            .call(
                "enable_two_factor",
                &[("code", &good), ("password", "wrong-password-here")],
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(message, "That password is not correct.");

    let (status, _) =
        error_message(browser.call("enable_two_factor", &[("code", &good)]).await).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "the password is required");

    let status = browser.json("load_two_factor_status", &[]).await;
    assert!(status["enabled_since"].is_null(), "2FA stays off");
    // And signing in still asks for no code.
    let res = server.browser().sign_in(&email, PASSWORD).await;
    assert_eq!(res.headers().get("location").unwrap(), "/settings");
}

#[tokio::test]
async fn expired_pending_secret_is_rejected() {
    let server = TestServer::start().await;
    let browser = server.browser();
    browser.sign_up(&unique_email("expired")).await;
    let enrollment = browser.start_enrollment().await;

    age_enrollments(&server).await;

    let code = totp_at(&enrollment.key, now());
    let (status, message) = error_message(
        browser
            .call(
                "enable_two_factor",
                &[("code", &code), ("password", PASSWORD)],
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(message.contains("expired"), "{message}");
}

#[tokio::test]
async fn pending_secret_belongs_to_the_session_that_asked_for_it() {
    let server = TestServer::start().await;
    let email = unique_email("foreign");
    let first = server.browser();
    first.sign_up(&email).await;
    let enrollment = first.start_enrollment().await;

    // Same account, another browser: it has no pending secret of its own.
    let second = server.browser();
    second.sign_in(&email, PASSWORD).await;
    let code = totp_at(&enrollment.key, now());
    let (status, message) = error_message(
        second
            .call(
                "enable_two_factor",
                &[("code", &code), ("password", PASSWORD)],
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(message.contains("expired"), "{message}");
}

#[tokio::test]
async fn enable_while_already_on_and_disable_while_off_are_refused() {
    let server = TestServer::start().await;
    let browser = server.browser();
    browser.sign_up(&unique_email("twice")).await;

    let (status, message) = error_message(
        browser
            .call(
                "disable_two_factor",
                &[("code", "123456"), ("password", PASSWORD)],
            )
            .await,
    )
    .await;
    assert_eq!(
        (status, message.as_str()),
        (
            StatusCode::CONFLICT,
            "Two-factor authentication is already off."
        )
    );

    browser.enable_two_factor().await;
    let (status, message) = error_message(browser.call("start_enrollment", &[]).await).await;
    assert_eq!(
        (status, message.as_str()),
        (
            StatusCode::CONFLICT,
            "Two-factor authentication is already on."
        )
    );
}

#[tokio::test]
async fn enable_sent_eight_times_at_once_turns_on_once() {
    let server = TestServer::start().await;
    let browser = server.browser();
    let email = unique_email("enable-race");
    browser.sign_up(&email).await;
    let enrollment = browser.start_enrollment().await;
    let code = totp_at(&enrollment.key, now());

    let form = [("code", code.as_str()), ("password", PASSWORD)];
    let responses =
        futures::future::join_all((0..8).map(|_| browser.call("enable_two_factor", &form))).await;
    let (mut winner, mut told) = (None, Vec::new());
    for response in responses {
        if response.status() == StatusCode::OK {
            assert!(winner.replace(response).is_none(), "two submits won");
        } else {
            told.push(error_message(response).await);
        }
    }
    // One double submit wins; every other one is told the setup is used or 2FA is on,
    // never that it expired (it did not) nor that its code was wrong (it was not).
    for (status, message) in &told {
        assert_eq!(*status, StatusCode::CONFLICT, "{message}");
        assert!(
            [
                "Two-factor authentication is already on.",
                "This setup was already used. Press Enable to start again."
            ]
            .contains(&message.as_str()),
            "{message}"
        );
    }
    assert_eq!(told.len(), 7);

    // Only the winner's commit stands: one app, one set of ten codes.
    assert_eq!(table_count(&server, "totp_credentials").await, 1);
    assert_eq!(table_count(&server, "recovery_codes").await, 10);
    assert_eq!(table_count(&server, "totp_enrollments").await, 0);
    let winner = winner.expect("one submit won");
    let codes: serde_json::Value = winner.json().await.unwrap();
    let first = codes["codes"][0].as_str().unwrap();
    let pending = server.browser();
    pending.sign_in(&email, PASSWORD).await;
    assert_eq!(
        pending.verify_code(first).await.status(),
        StatusCode::OK,
        "the winner's codes are the ones kept"
    );
}

/// A submit that checks its setup only after a twin used it (held back here for a
/// moment, as a slow core would) is told the setup was used, as a twin that loses the
/// race for the account's lock is, not that the setup expired. Whichever of the two
/// reaches the check first is the one held back: on a busy machine that need not be the
/// one sent first. The hold must outlast the other's password check on two busy cores.
#[tokio::test]
async fn a_submit_whose_twin_used_the_setup_first_is_told_so() {
    let server = TestServer::start_with(
        DataDir::new(),
        &[("FAILPOINTS", "enable.before_new_app_check=1*return(5000)")],
    );
    let browser = server.browser();
    browser.sign_up(&unique_email("enable-late")).await;
    let enrollment = browser.start_enrollment().await;
    let code = totp_at(&enrollment.key, now());
    let form = [("code", code.as_str()), ("password", PASSWORD)];
    let one = browser.call("enable_two_factor", &form);
    let two = async {
        tokio::time::sleep(Duration::from_millis(500)).await;
        browser.call("enable_two_factor", &form).await
    };
    let (one, two) = tokio::join!(one, two);
    assert_used_by_a_twin([error_message(one).await, error_message(two).await]);
    browser.assert_no_wrong_code_logged().await;
}

#[tokio::test]
async fn disable_sent_eight_times_at_once_turns_off_once() {
    let server = TestServer::start().await;
    let (browser, _, key, _) = account_with_two_factor(&server, "disable-race").await;
    let code = totp_at(&key, now() + STEP);

    let form = [("code", code.as_str()), ("password", PASSWORD)];
    let responses =
        futures::future::join_all((0..8).map(|_| browser.call("disable_two_factor", &form))).await;
    let mut answers = Vec::new();
    for response in responses {
        answers.push(error_message(response).await);
    }
    answers.sort();
    // A double submit is told 2FA is off, not that its code was wrong.
    let off = (
        StatusCode::CONFLICT,
        "Two-factor authentication is already off.".to_owned(),
    );
    assert_eq!(answers[0].0, StatusCode::OK, "{answers:?}");
    assert_eq!(answers[1..], vec![off; 7], "{answers:?}");

    assert_eq!(table_count(&server, "totp_credentials").await, 0);
    assert_eq!(table_count(&server, "recovery_codes").await, 0);
    browser.assert_no_wrong_code_logged().await;
}

#[tokio::test]
async fn sign_in_with_two_factor_asks_for_the_code() {
    let server = TestServer::start().await;
    let (_, email, key, _) = account_with_two_factor(&server, "signin2fa").await;

    let browser = server.browser();
    let res = browser.sign_in(&email, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers().get("location").unwrap(),
        "/signin/code?next=%2Fsettings"
    );
    let pending_token = session_cookie(&res).unwrap();

    // The pending session opens nothing but the prompt.
    let res = browser.get("/settings").await;
    assert_eq!(res.headers().get("location").unwrap(), "/signin/code");
    let (status, _) = error_message(browser.call("load_profile", &[]).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(browser.get("/signin/code").await.status(), StatusCode::OK);

    let (status, message) = error_message(browser.verify_code(&wrong_code(&key)).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        message,
        "That code is not valid. Check your authenticator app and try again."
    );

    let res = browser.verify_code(&totp_at(&key, now() + STEP)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let full_token = session_cookie(&res).unwrap();
    assert_ne!(
        full_token, pending_token,
        "a new token once the second factor is proven"
    );
    assert_eq!(browser.get("/settings").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn reused_totp_code_is_rejected() {
    let server = TestServer::start().await;
    let (_, email, key, _) = account_with_two_factor(&server, "replay").await;
    let code = totp_at(&key, now() + STEP);

    let first = server.browser();
    first.sign_in(&email, PASSWORD).await;
    assert_eq!(first.verify_code(&code).await.status(), StatusCode::OK);

    let second = server.browser();
    second.sign_in(&email, PASSWORD).await;
    let (status, message) = error_message(second.verify_code(&code).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        message, "That code is not valid. Check your authenticator app and try again.",
        "same message as a wrong code"
    );
}

#[tokio::test]
async fn recovery_code_works_once_and_ignores_case_spaces_and_dashes() {
    let server = TestServer::start().await;
    let (owner, email, _, codes) = account_with_two_factor(&server, "recovery").await;
    let typed = codes[0].to_lowercase().replace('-', " ");

    let browser = server.browser();
    browser.sign_in(&email, PASSWORD).await;
    assert_eq!(browser.verify_code(&typed).await.status(), StatusCode::OK);

    let status = owner.json("load_two_factor_status", &[]).await;
    assert_eq!(status["codes_left"], 9);

    let again = server.browser();
    again.sign_in(&email, PASSWORD).await;
    let (status, _) = error_message(again.verify_code(&codes[0]).await).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "a recovery code works once"
    );
    assert_eq!(again.verify_code(&codes[1]).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn five_wrong_codes_end_the_pending_session_and_lock_the_account() {
    let server = TestServer::start().await;
    let (_, email, key, _) = account_with_two_factor(&server, "fivefail").await;
    let browser = server.browser();
    browser.sign_in(&email, PASSWORD).await;
    let good = totp_at(&key, now() + STEP);
    let wrong = wrong_code(&key);
    for _ in 0..4 {
        assert_eq!(
            browser.verify_code(&wrong).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let res = browser.verify_code(&wrong).await;
    assert_eq!(res.headers().get("retry-after").unwrap(), "900");
    let (status, message) = error_message(res).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        message,
        "Too many wrong codes. For your safety, signing in to this account is paused: try again in 15 minutes."
    );
    // The session is gone: even the right code no longer helps.
    assert_eq!(
        browser.verify_code(&good).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn disable_needs_a_code_and_the_password_then_sign_in_asks_for_no_code() {
    let server = TestServer::start().await;
    let (browser, email, key, codes) = account_with_two_factor(&server, "disable").await;

    let (status, _) = error_message(
        browser
            .call(
                "disable_two_factor",
                &[("code", &codes[0]), ("password", "wrong-password-here")],
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = error_message(
        browser
            .call("disable_two_factor", &[("password", PASSWORD)])
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    let code = totp_at(&key, now() + STEP);
    let res = browser
        .call(
            "disable_two_factor",
            &[("code", &code), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    let res = server.browser().sign_in(&email, PASSWORD).await;
    assert_eq!(
        res.headers().get("location").unwrap(),
        "/settings",
        "no code asked"
    );
    assert_eq!(
        table_count(&server, "recovery_codes").await,
        0,
        "every recovery code is deleted"
    );
    assert_eq!(
        table_count(&server, "totp_credentials").await,
        0,
        "the secret is deleted"
    );
}

#[tokio::test]
async fn switching_phones_voids_the_old_secret_and_codes() {
    let server = TestServer::start().await;
    let (browser, email, old_key, old_codes) = account_with_two_factor(&server, "switch").await;
    let res = browser
        .call(
            "disable_two_factor",
            &[("code", &old_codes[0]), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    let (new_key, _) = browser.enable_two_factor().await;
    assert_ne!(new_key, old_key, "a new secret");

    let attempt = server.browser();
    attempt.sign_in(&email, PASSWORD).await;
    let old_code = totp_at(&old_key, now() + STEP);
    if old_code != totp_at(&new_key, now() + STEP) {
        assert_eq!(
            attempt.verify_code(&old_code).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        attempt.verify_code(&old_codes[1]).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        attempt
            .verify_code(&totp_at(&new_key, now() + STEP))
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn regenerated_codes_void_the_old_set() {
    let server = TestServer::start().await;
    let (browser, email, _, old_codes) = account_with_two_factor(&server, "regen").await;
    let res = browser
        .call(
            "regenerate_recovery_codes",
            &[("code", &old_codes[0]), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let new_codes: CodeSet = res.json().await.unwrap();
    assert_eq!(new_codes.codes.len(), 10);

    let attempt = server.browser();
    attempt.sign_in(&email, PASSWORD).await;
    assert_eq!(
        attempt.verify_code(&old_codes[1]).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        attempt.verify_code(&new_codes.codes[0]).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn factor_change_signs_out_every_other_session() {
    let server = TestServer::start().await;
    let email = unique_email("others");
    let first = server.browser();
    first.sign_up(&email).await;
    let second = server.browser();
    second.sign_in(&email, PASSWORD).await;
    assert_eq!(second.get("/settings").await.status(), StatusCode::OK);

    first.enable_two_factor().await;
    assert_eq!(
        second.get("/settings").await.status(),
        StatusCode::SEE_OTHER,
        "the other browser is signed out"
    );
    assert_eq!(
        first.get("/settings").await.status(),
        StatusCode::OK,
        "this one stays signed in"
    );
}

#[tokio::test]
async fn recovery_code_works_once_under_concurrency() {
    let server = TestServer::start().await;
    let (_, email, _, codes) = account_with_two_factor(&server, "race").await;
    let browsers = pending_browsers(&[&server], &email, 50).await;
    let statuses = send_code_at_once(&browsers, &codes[3]).await;

    let mut tally = std::collections::BTreeMap::<u16, usize>::new();
    for status in &statuses {
        *tally.entry(status.as_u16()).or_default() += 1;
    }
    println!("answers by status: {tally:?}");
    let ok = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    // Every loser is refused: 401 for a code already spent (or, once the account is
    // locked, a session ended for too many wrong codes), 429 when the account's lock
    // answers, 409 when this pending session's own attempts are used up.
    let refused = statuses
        .iter()
        .filter(|s| {
            matches!(
                **s,
                StatusCode::UNAUTHORIZED | StatusCode::CONFLICT | StatusCode::TOO_MANY_REQUESTS
            )
        })
        .count();
    assert_eq!((ok, refused), (1, statuses.len() - 1), "{tally:?}");
    let (spent,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM recovery_codes WHERE used_at IS NOT NULL")
            .fetch_one(&server.db().await)
            .await
            .unwrap();
    assert_eq!(spent, 1, "the code is spent exactly once");
}

#[tokio::test]
async fn totp_code_works_once_under_concurrency() {
    let server = TestServer::start().await;
    let (_, email, key, _) = account_with_two_factor(&server, "totprace").await;
    let browsers = pending_browsers(&[&server], &email, 50).await;
    let statuses = send_code_at_once(&browsers, &totp_at(&key, now() + STEP)).await;
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 1);
}

#[tokio::test]
async fn database_holds_no_readable_secret() {
    let server = TestServer::start().await;
    let (browser, email, key, codes) = account_with_two_factor(&server, "dump").await;
    let token = {
        let res = browser.sign_in(&email, PASSWORD).await;
        session_cookie(&res).unwrap()
    };
    drop(browser);
    let dump = dump_database(&server).await;
    let secret_bytes = data_encoding::BASE32_NOPAD
        .decode(key.replace(' ', "").as_bytes())
        .unwrap();
    let mut needles: Vec<Vec<u8>> = vec![
        key.replace(' ', "").into_bytes(),
        key.clone().into_bytes(),
        data_encoding::HEXLOWER.encode(&secret_bytes).into_bytes(),
        secret_bytes,
        PASSWORD.as_bytes().to_vec(),
        token.into_bytes(),
    ];
    for code in &codes {
        needles.push(code.as_bytes().to_vec());
        needles.push(code.replace('-', "").into_bytes());
    }
    for needle in needles {
        assert!(
            !dump.windows(needle.len()).any(|w| w == needle.as_slice()),
            "found a secret in the database"
        );
    }
}

/// Moves every pending enrollment past its expiry, as if 10 minutes had passed.
async fn age_enrollments(server: &TestServer) {
    sqlx::query("UPDATE totp_enrollments SET expires_at = 0")
        .execute(&server.db().await)
        .await
        .unwrap();
}

async fn table_count(server: &TestServer, table: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}")))
        .fetch_one(&server.db().await)
        .await
        .unwrap()
}

/// Every byte the database holds: the SQLite files, or every PostgreSQL row as text.
async fn dump_database(server: &TestServer) -> Vec<u8> {
    let pool = server.db().await;
    if server.is_postgres() {
        let mut dump = Vec::new();
        for table in [
            "users",
            "sessions",
            "totp_credentials",
            "totp_enrollments",
            "recovery_codes",
            "throttle",
            "security_events",
        ] {
            let rows: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "SELECT CAST(row_to_json(t) AS TEXT) FROM {table} t"
            )))
            .fetch_all(&pool)
            .await
            .unwrap();
            dump.extend(rows.join("\n").into_bytes());
        }
        return dump;
    }
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;
    let path = server
        .data
        .database_url
        .trim_start_matches("sqlite://")
        .to_owned();
    let mut bytes = std::fs::read(&path).unwrap();
    if let Ok(wal) = std::fs::read(format!("{path}-wal")) {
        bytes.extend(wal);
    }
    bytes
}

/// Without JavaScript the enable form is a plain POST that must redirect, so the codes
/// wait on the server: shown while they last, downloadable once, never cached.
#[tokio::test]
async fn without_javascript_the_codes_are_handed_to_a_page_and_downloaded_once() {
    let server = TestServer::start().await;
    let browser = server.browser();
    let email = unique_email("nojs");
    assert_eq!(browser.sign_up(&email).await.status(), StatusCode::OK);
    let enrollment = browser.start_enrollment().await;
    let code = totp_at(&enrollment.key, now());
    let res = browser
        .client
        .post(format!("{}/api/enable_two_factor", browser.base))
        .header("accept", "text/html,application/xhtml+xml")
        .header(
            "referer",
            format!("{}/settings/two-factor/enable", browser.base),
        )
        .form(&[("code", code.as_str()), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert!(res.status().is_redirection(), "{}", res.status());
    assert_eq!(res.headers()["location"], "/settings/two-factor/new-codes");
    assert_eq!(res.headers()["cache-control"], "no-store");

    let page = browser.get("/settings/two-factor/new-codes").await;
    assert_eq!(page.headers()["cache-control"], "no-store");
    let html = page.text().await.unwrap();
    let shown: Vec<String> = html
        .split("<code>")
        .skip(1)
        .filter_map(|s| s.split("</code>").next())
        // Hydration markers (`<!>`) sit between a view's pieces; a person sees none.
        .map(|s| s.replace("<!>", ""))
        .collect();
    assert_eq!(shown.len(), 10, "{html}");

    let file = browser.download_codes().await;
    assert_eq!(file.status(), StatusCode::OK);
    assert_eq!(file.headers()["content-type"], "text/plain; charset=utf-8");
    assert_eq!(
        file.headers()["content-disposition"],
        "attachment; filename=\"gatehouse-recovery-codes.txt\""
    );
    assert_eq!(file.headers()["cache-control"], "no-store");
    let text = file.text().await.unwrap();
    for code in &shown {
        assert!(text.contains(code.as_str()), "{code} missing from\n{text}");
    }
    assert!(text.contains(&email));

    let again = browser.download_codes().await;
    assert!(again.status().is_redirection());
    assert_eq!(
        again.headers()["location"],
        "/settings/two-factor/new-codes"
    );
    let html = browser
        .get("/settings/two-factor/new-codes")
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("no longer shown"), "{html}");
    assert!(!html.contains(shown[0].as_str()));

    // The codes that were shown are the account's codes.
    let other = server.browser();
    assert_eq!(
        other.sign_in(&email, PASSWORD).await.status(),
        StatusCode::OK
    );
    assert_eq!(other.verify_code(&shown[3]).await.status(), StatusCode::OK);
}

/// The hydrated app gets the codes in the response; nothing is left on the server.
#[tokio::test]
async fn with_javascript_no_codes_are_kept_on_the_server() {
    let server = TestServer::start().await;
    let (browser, ..) = account_with_two_factor(&server, "js-codes").await;
    let db = server.db().await;
    let (kept,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM code_handoffs")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(kept, 0);
    assert!(browser.download_codes().await.status().is_redirection());
}

/// Each sign-in records what proved it, and when: the password when the code prompt
/// begins, the app's code or a recovery code when it ends. An app signing in through
/// Gatehouse is told this, so it must match what happened.
#[tokio::test]
async fn a_session_records_the_factors_that_proved_it() {
    let server = TestServer::start().await;
    let (_, email, key, codes) = account_with_two_factor(&server, "proofs").await;

    let browser = server.browser();
    browser.sign_in(&email, PASSWORD).await;
    let pending = server.newest_session_proofs(&email).await;
    assert!(pending.password_at.is_some(), "{pending:?}");
    assert_eq!(
        (pending.totp_at, pending.recovery_code_at, pending.device_at),
        (None, None, None)
    );
    let res = browser.verify_code(&totp_at(&key, now() + STEP)).await;
    assert_eq!(res.status(), StatusCode::OK);
    let full = server.newest_session_proofs(&email).await;
    assert!(
        full.password_at.is_some() && full.totp_at >= full.password_at,
        "{full:?}"
    );
    assert_eq!(full.recovery_code_at, None);

    let other = server.browser();
    other.sign_in(&email, PASSWORD).await;
    let res = other.verify_code(&codes[0]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let recovered = server.newest_session_proofs(&email).await;
    assert!(recovered.password_at.is_some() && recovered.recovery_code_at.is_some());
    assert_eq!(recovered.totp_at, None);
}
