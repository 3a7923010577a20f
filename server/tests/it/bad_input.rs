//! Hostile and malformed input gets a 4xx with a message and changes nothing.

use crate::common::*;
use proptest::prelude::*;
use reqwest::StatusCode;

async fn user_count(server: &TestServer) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM users")
        .fetch_one(&server.db().await)
        .await
        .unwrap()
}

fn field() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "\\PC{0,40}",
        "[ \t]{0,3}[a-zA-Z0-9.+-]{1,20}@[a-z]{1,10}\\.[a-z]{2,4}[ \t]{0,3}",
        "[аеорсух]{1,6}@example\\.com",
        ".{300,600}",
    ]
}

fn code() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9]{5}",
        "[0-9]{7}",
        "[ \t]{1,3}[0-9]{6}[ \t]{1,3}",
        "[0-9a-z]{6}",
        "\\PC{0,30}",
        Just(String::new()),
    ]
}

#[test]
fn sign_up_never_fails_on_the_server_and_refusals_change_nothing() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt.block_on(TestServer::start());
    let config = ProptestConfig {
        cases: 48,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |(email in field(), password in field())| {
        rt.block_on(async {
            let before = user_count(&server).await;
            let res = server.browser().call("sign_up", &[("email", &email), ("password", &password)]).await;
            let status = res.status();
            prop_assert!(status.is_success() || status.is_client_error(), "{status} for {email:?}");
            if !status.is_success() {
                let (_, message) = error_message(res).await;
                prop_assert!(!message.is_empty());
                prop_assert_eq!(user_count(&server).await, before);
            }
            Ok(())
        })?;
    });
}

#[test]
fn malformed_codes_get_a_clear_refusal() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let server = rt.block_on(TestServer::start());
    let (_, email, _, _) = rt.block_on(account_with_two_factor(&server, "codes"));
    let config = ProptestConfig {
        cases: 24,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |(code in code())| {
        rt.block_on(async {
            let browser = server.browser();
            browser.sign_in(&email, PASSWORD).await;
            let res = browser.verify_code(&code).await;
            let status = res.status();
            prop_assert!(
                matches!(status, StatusCode::BAD_REQUEST | StatusCode::UNAUTHORIZED | StatusCode::TOO_MANY_REQUESTS),
                "{status} for {code:?}"
            );
            let (_, message) = error_message(res).await;
            prop_assert!(!message.is_empty());
            Ok(())
        })?;
    });
}

#[tokio::test]
async fn codes_with_letters_or_the_wrong_length_say_what_is_expected() {
    let server = TestServer::start().await;
    let (_, email, _, _) = account_with_two_factor(&server, "shape").await;
    let browser = server.browser();
    browser.sign_in(&email, PASSWORD).await;
    for (code, expected) in [
        ("12345", "The code must be exactly 6 digits."),
        ("1234567", "The code must be exactly 6 digits."),
        ("12a456", "Enter the 6-digit code from your authenticator app, or a recovery code (24 letters and digits)."),
        ("", "Enter the 6-digit code from your authenticator app, or a recovery code."),
    ] {
        let (status, message) = error_message(browser.verify_code(code).await).await;
        assert_eq!((status, message.as_str()), (StatusCode::BAD_REQUEST, expected), "{code:?}");
    }
}

#[tokio::test]
async fn an_expired_code_prompt_sends_the_person_back_to_sign_in() {
    let server = TestServer::start().await;
    let (_, email, key, _) = account_with_two_factor(&server, "stale").await;
    let browser = server.browser();
    browser.sign_in(&email, PASSWORD).await;
    sqlx::query("UPDATE sessions SET expires_at = 0 WHERE stage = 'pending_second_factor'")
        .execute(&server.db().await)
        .await
        .unwrap();

    let res = browser.get("/signin/code").await;
    assert_eq!(res.headers().get("location").unwrap(), "/signin");
    let (status, _) = error_message(browser.verify_code(&totp_at(&key, now() + 30)).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}
