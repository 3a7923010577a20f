//! Security notices: what each says, and to whom.

use super::*;

// 9 ------------------------------------------------------------------------------------

#[tokio::test]
async fn security_notices_say_what_happened() {
    let world = World::start();
    let (browser, email) = world.verified_account("notices").await;
    let (key, codes) = browser.enable_two_factor().await;
    let on = world
        .mail
        .wait_for(&email, "Two-factor authentication was turned on", MAIL_WAIT)
        .await;
    assert!(on.subject.starts_with("Security notice: "));
    assert!(on.text.contains("IP address: 127.0.0.1"), "{}", on.text);
    assert!(on.text.contains("If it wasn't you"), "{}", on.text);

    let phone = world.server.browser();
    phone.sign_in(&email, PASSWORD).await;
    assert_eq!(phone.verify_code(&codes[0]).await.status(), StatusCode::OK);
    let used = world
        .mail
        .wait_for(&email, "A recovery code was used", MAIL_WAIT)
        .await;
    let left = codes.len() - 1;
    assert!(
        used.text.contains(&format!("{left} are left")),
        "{left} left:\n{}",
        used.text
    );

    let res = browser
        .call(
            "disable_two_factor",
            &[("code", &totp_at(&key, now() + 30)), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let off = world
        .mail
        .wait_for(
            &email,
            "Two-factor authentication was turned off",
            MAIL_WAIT,
        )
        .await;
    assert!(off.text.contains("only for your password"), "{}", off.text);

    // A lockout of the second factor, on a second account.
    let (owner, locked) = world.verified_account("lockout").await;
    let (lkey, _) = owner.enable_two_factor().await;
    let attacker = world.server.browser();
    attacker.sign_in(&locked, PASSWORD).await;
    let wrong = wrong_code(&lkey);
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(attacker.verify_code(&wrong).await.status());
    }
    assert!(
        statuses.contains(&StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    let paused = world
        .mail
        .wait_for(&locked, "Signing in to your account is paused", MAIL_WAIT)
        .await;
    assert!(paused.text.contains("minutes"), "{}", paused.text);
    assert!(
        paused.text.contains("knew your password"),
        "{}",
        paused.text
    );

    // Control: what a notice is about goes only to its own account.
    assert!(!world
        .mail
        .subjects_to(&locked)
        .await
        .iter()
        .any(|s| s.contains("recovery code") || s.contains("turned off")));
}
