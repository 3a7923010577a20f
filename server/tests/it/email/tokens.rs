//! Emailed tokens: each acts only for its own account and purpose, and none is in the
//! log or the database.

use super::*;

// 6 ------------------------------------------------------------------------------------

#[tokio::test]
async fn a_token_acts_only_for_its_own_account_and_purpose() {
    let world = World::start();
    let (alice, alice_email) = world.verified_account("alice").await;
    let bob = world.server.browser();
    let bob_email = unique_email("bob");
    bob.sign_up(&bob_email).await;
    let bob_verify = token_in(&world.mail.wait_for(&bob_email, VERIFY, MAIL_WAIT).await);

    // Alice's reset link, used from Bob's signed-in browser, changes Alice, not Bob.
    request_reset(&alice, "203.0.113.1", &alice_email).await;
    let alice_reset = token_in(&world.mail.wait_for(&alice_email, RESET, MAIL_WAIT).await);

    // Purposes are separate: the verify token is no reset token and vice versa, and
    // trying does not spend it.
    assert_eq!(
        bob.call(
            "reset_password",
            &[
                ("token", &bob_verify),
                ("password", "Stolen-password-for-bob-1")
            ]
        )
        .await
        .status(),
        REFUSED
    );
    assert_eq!(
        bob.json("reset_link_works", &[("token", &bob_verify)])
            .await,
        serde_json::json!(false)
    );
    assert_eq!(
        bob.call("verify_email", &[("token", &alice_reset)])
            .await
            .status(),
        REFUSED
    );
    assert_eq!(
        bob.call("confirm_email_change", &[("token", &alice_reset)])
            .await
            .status(),
        REFUSED
    );
    assert!(!profile(&bob).await["verified"].as_bool().unwrap());

    let res = bob
        .call(
            "reset_password",
            &[
                ("token", &alice_reset),
                ("password", "Alice-new-password-from-bob"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        world
            .server
            .browser()
            .sign_in(&bob_email, PASSWORD)
            .await
            .status(),
        StatusCode::OK,
        "Bob's password is untouched"
    );
    assert_eq!(
        world
            .server
            .browser()
            .sign_in(&alice_email, "Alice-new-password-from-bob")
            .await
            .status(),
        StatusCode::OK,
        "the token's own account was reset"
    );

    // Bob's verify token, still unspent, verifies Bob, even opened by Alice.
    let alice2 = world.server.browser();
    alice2
        .sign_in(&alice_email, "Alice-new-password-from-bob")
        .await;
    assert_eq!(
        alice2
            .call("verify_email", &[("token", &bob_verify)])
            .await
            .status(),
        StatusCode::OK
    );
    let fresh_bob = world.server.browser();
    fresh_bob.sign_in(&bob_email, PASSWORD).await;
    assert!(profile(&fresh_bob).await["verified"].as_bool().unwrap());
    drop(alice);
}

// 7 ------------------------------------------------------------------------------------

#[tokio::test]
async fn tokens_appear_in_neither_the_log_nor_a_database_dump() {
    let world = World::start();
    let (browser, email) = world.verified_account("secret").await;
    let mut tokens = vec![token_in(
        &world.mail.wait_for(&email, VERIFY, MAIL_WAIT).await,
    )];
    request_reset(&browser, "203.0.113.1", &email).await;
    tokens.push(token_in(
        &world.mail.wait_for(&email, RESET, MAIL_WAIT).await,
    ));
    let new_email = unique_email("secretnew");
    let res = browser
        .call(
            "change_email",
            &[
                ("new_email", &new_email),
                ("password", PASSWORD),
                ("code", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    tokens.push(token_in(
        &world
            .mail
            .wait_for(&new_email, NEW_ADDRESS, MAIL_WAIT)
            .await,
    ));
    // A second verification link, still live, and its mail gone out.
    let other = world.server.browser();
    let other_email = unique_email("secretother");
    other.sign_up(&other_email).await;
    tokens.push(token_in(
        &world.mail.wait_for(&other_email, VERIFY, MAIL_WAIT).await,
    ));

    let log = world.server.server_log();
    let dump = world.server.database_dump();
    // Controls: the searches can find what is there.
    assert!(log.contains("mail sent"), "the worker logs its passes");
    assert!(
        contains(&dump, other_email.as_bytes()),
        "the dump holds the accounts"
    );
    for token in &tokens {
        assert_eq!(token.len(), 43);
        assert!(!log.contains(token.as_str()), "token in the log");
        assert!(!contains(&dump, token.as_bytes()), "token in the database");
        // Nor the part of it a truncated log line would keep.
        assert!(!log.contains(&token[..16]), "token prefix in the log");
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}
