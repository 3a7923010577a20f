//! `server admin rotate-key` moves the database to a new server key: every account keeps
//! working under the new key, and the old key no longer opens the database.

use crate::common::*;
use reqwest::StatusCode;

#[tokio::test]
async fn after_a_rotation_every_factor_works_under_the_new_key_only() {
    let server = TestServer::start().await;
    let (browser, email, key, codes) = account_with_two_factor(&server, "rotate").await;
    let data = server.stop();
    let new_key = data.dir.path().join("new-secret.key");
    let new_key = new_key.to_str().expect("UTF-8 path");

    let (status, output) = run_to_exit(&data, &["admin", "rotate-key", new_key], &[]);
    assert!(status.success(), "{output}");
    let old_key = std::fs::read(data.key_file()).unwrap();
    assert_ne!(
        std::fs::read(new_key).unwrap(),
        old_key,
        "a new key was made"
    );

    // The old key is refused with a sentence, not used to fail every code later.
    let (status, stderr) = run_to_exit(&data, &[], &[]);
    assert!(!status.success(), "the old key must not start the server");
    assert!(
        stderr.contains("is not the one the database was sealed with"),
        "{stderr}"
    );

    let server = TestServer::start_with(data, &[("GATEHOUSE_SECRET_KEY_FILE", new_key)]);
    let browser = browser.moved_to(&server);
    assert_eq!(
        browser.get("/settings").await.status(),
        StatusCode::OK,
        "sessions survive: their hashes are made with a key the rotation kept"
    );
    let laptop = server.browser();
    laptop.sign_in(&email, PASSWORD).await;
    assert_eq!(
        laptop
            .verify_code(&totp_at(&key, now() + 30))
            .await
            .status(),
        StatusCode::OK,
        "the TOTP secret opens under the new key"
    );
    let tablet = server.browser();
    tablet.sign_in(&email, PASSWORD).await;
    assert_eq!(
        tablet.verify_code(&codes[0]).await.status(),
        StatusCode::OK,
        "recovery codes still match"
    );
}
