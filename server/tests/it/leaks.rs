//! Nothing secret leaks: not into logs, not into the database, not through messages.

use crate::common::*;
use reqwest::StatusCode;

#[tokio::test]
async fn a_full_flow_at_trace_level_logs_no_secret() {
    let server = TestServer::start_with(DataDir::new(), &[("RUST_LOG", "trace")]);
    let (browser, email, key, codes) = account_with_two_factor(&server, "logs").await;
    let signed_in = server.browser();
    let pending = session_cookie(&signed_in.sign_in(&email, PASSWORD).await).unwrap();
    let code = totp_at(&key, now() + 30);
    let full = session_cookie(&signed_in.verify_code(&code).await).unwrap();
    let res = signed_in
        .call(
            "regenerate_recovery_codes",
            &[("code", &codes[0]), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK, "regenerate_recovery_codes");
    let regenerated: CodeSet = res.json().await.expect("codes JSON");
    assert_eq!(regenerated.codes.len(), 10);
    browser.call("sign_out", &[]).await;

    let log = server.server_log();
    assert!(
        log.contains("/api/verify_sign_in_code"),
        "every request was logged:\n{log}"
    );
    let compact_key = key.replace(' ', "");
    let mut secrets = vec![
        PASSWORD.to_owned(),
        key.clone(),
        compact_key,
        pending,
        full,
        code,
    ];
    for code in codes.iter().chain(&regenerated.codes) {
        secrets.push(code.clone());
        secrets.push(code.replace('-', ""));
    }
    for secret in &secrets {
        assert!(
            !log.contains(secret.as_str()),
            "a secret appeared in the log"
        );
    }
}

#[tokio::test]
async fn a_used_code_gets_the_same_message_as_a_wrong_one() {
    let server = TestServer::start().await;
    let (_, email, key, codes) = account_with_two_factor(&server, "samemsg").await;
    let browser = server.browser();
    browser.sign_in(&email, PASSWORD).await;
    assert_eq!(
        browser.verify_code(&codes[0]).await.status(),
        StatusCode::OK
    );

    let again = server.browser();
    again.sign_in(&email, PASSWORD).await;
    let used = error_message(again.verify_code(&codes[0]).await).await;
    let wrong = error_message(again.verify_code(&wrong_code(&key)).await).await;
    assert_eq!(used, wrong);
}
