//! Changing the address: the password and a code, the link to the new address, word to
//! the old one, and what a change ends.

use super::*;

// 8 ------------------------------------------------------------------------------------

#[tokio::test]
async fn changing_the_address_asks_for_password_and_code_and_waits_for_the_link() {
    let world = World::start();
    let (browser, old) = world.verified_account("move").await;
    let (key, _) = browser.enable_two_factor().await;
    let new = unique_email("moved");
    let change = |password: &str, code: &str| {
        let (browser, new) = (&browser, new.clone());
        let (password, code) = (password.to_owned(), code.to_owned());
        async move {
            browser
                .call(
                    "change_email",
                    &[
                        ("new_email", &new),
                        ("password", &password),
                        ("code", &code),
                    ],
                )
                .await
                .status()
        }
    };
    assert_eq!(
        change("Wrong-password-for-change-1", &totp_at(&key, now() + 30)).await,
        StatusCode::UNAUTHORIZED
    );
    // No code at all is bad input; a wrong one is refused.
    assert_eq!(change(PASSWORD, "").await, StatusCode::BAD_REQUEST);
    assert_eq!(
        change(PASSWORD, &wrong_code(&key)).await,
        StatusCode::UNAUTHORIZED
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert!(
        world.mail.messages_to(&new).await.is_empty(),
        "nothing sent while refused"
    );
    assert_eq!(
        change(PASSWORD, &totp_at(&key, now() + 30)).await,
        StatusCode::OK
    );

    let confirm = world.mail.wait_for(&new, NEW_ADDRESS, MAIL_WAIT).await;
    assert_eq!(confirm.to, vec![new.clone()]);
    let notice = world
        .mail
        .wait_for(&old, "Your email address is about to change", MAIL_WAIT)
        .await;
    assert!(notice.text.contains(&new), "{}", notice.text);
    assert!(
        !notice.text.contains("?token="),
        "the old address gets no link"
    );
    assert_eq!(profile(&browser).await["email"], old.as_str(), "not yet");

    let token = token_in(&confirm);
    assert_eq!(
        browser
            .call("confirm_email_change", &[("token", &token)])
            .await
            .status(),
        StatusCode::OK
    );
    let now_profile = profile(&browser).await;
    assert_eq!(now_profile["email"], new.as_str());
    assert_eq!(
        now_profile["verified"], true,
        "the link proved the new address"
    );
    let changed = world
        .mail
        .wait_for(&old, "Your email address was changed", MAIL_WAIT)
        .await;
    assert!(changed.text.contains(&new), "{}", changed.text);
    assert_eq!(
        browser
            .call("confirm_email_change", &[("token", &token)])
            .await
            .status(),
        REFUSED,
        "once"
    );

    // An unverified old address is not told of the change (it may not be theirs).
    let quiet = world.server.browser();
    let unproved = unique_email("unproved");
    quiet.sign_up(&unproved).await;
    let old_verify = token_in(&world.mail.wait_for(&unproved, VERIFY, MAIL_WAIT).await);
    let next = unique_email("unprovednew");
    assert_eq!(
        quiet
            .call(
                "change_email",
                &[("new_email", &next), ("password", PASSWORD), ("code", "")]
            )
            .await
            .status(),
        StatusCode::OK
    );
    let link = token_in(&world.mail.wait_for(&next, NEW_ADDRESS, MAIL_WAIT).await);
    quiet
        .call("confirm_email_change", &[("token", &link)])
        .await;
    assert_eq!(profile(&quiet).await["email"], next.as_str());
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        world.mail.subjects_to(&unproved).await,
        vec![VERIFY.to_owned()],
        "no notice to an unproved address"
    );
    // The old address's verification link does not prove the new address.
    assert_eq!(
        quiet
            .call("verify_email", &[("token", &old_verify)])
            .await
            .status(),
        REFUSED
    );
}

// Ways in (issue 33) -------------------------------------------------------------------

/// Asks to move the account to `new` with the password and no code (2FA off).
async fn change_email(browser: &Browser, new: &str) -> StatusCode {
    browser
        .call(
            "change_email",
            &[("new_email", new), ("password", PASSWORD), ("code", "")],
        )
        .await
        .status()
}

#[tokio::test]
async fn a_reset_link_sent_before_an_email_change_no_longer_works() {
    let world = World::start();
    let (owner, old) = world.verified_account("stale").await;
    // Whoever still reads the old mailbox asks for a reset before the owner moves away.
    let attacker = world.server.browser();
    assert_eq!(
        request_reset(&attacker, "203.0.113.9", &old).await,
        StatusCode::OK
    );
    let reset = token_in(&world.mail.wait_for(&old, RESET, MAIL_WAIT).await);

    let new = unique_email("fresh");
    assert_eq!(change_email(&owner, &new).await, StatusCode::OK);
    let link = token_in(&world.mail.wait_for(&new, NEW_ADDRESS, MAIL_WAIT).await);
    let res = owner
        .call("confirm_email_change", &[("token", &link)])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(profile(&owner).await["email"], new.as_str());

    let stolen = "Attacker-Horse-battery-77";
    let res = attacker
        .call("reset_password", &[("token", &reset), ("password", stolen)])
        .await;
    assert_eq!(
        error_message(res).await,
        (
            REFUSED,
            "This link has expired or was already used. Ask for a new one.".to_owned()
        )
    );
    for email in [&new, &old] {
        assert_eq!(
            world.server.browser().sign_in(email, stolen).await.status(),
            StatusCode::UNAUTHORIZED,
            "{email}"
        );
    }
    assert_eq!(
        world
            .server
            .browser()
            .sign_in(&new, PASSWORD)
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn only_the_latest_change_email_link_can_move_the_account() {
    let world = World::start();
    let (owner, _) = world.verified_account("twice").await;
    let typo = unique_email("typo");
    let meant = unique_email("meant");
    assert_eq!(change_email(&owner, &typo).await, StatusCode::OK);
    let typo_link = token_in(&world.mail.wait_for(&typo, NEW_ADDRESS, MAIL_WAIT).await);
    assert_eq!(change_email(&owner, &meant).await, StatusCode::OK);
    let meant_link = token_in(&world.mail.wait_for(&meant, NEW_ADDRESS, MAIL_WAIT).await);

    let res = owner
        .call("confirm_email_change", &[("token", &typo_link)])
        .await;
    assert_eq!(
        res.status(),
        REFUSED,
        "asked for again: the earlier link is stale"
    );
    let res = owner
        .call("confirm_email_change", &[("token", &meant_link)])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(profile(&owner).await["email"], meant.as_str());
}

/// What a change-email request answers, as bytes: status, Location and body.
async fn change_answer(
    browser: &Browser,
    ip: &str,
    new: &str,
    code: &str,
) -> (StatusCode, String, String) {
    let res = browser
        .client
        .post(format!("{}/api/change_email", browser.base))
        .header("x-forwarded-for", ip)
        .form(&[("new_email", new), ("password", PASSWORD), ("code", code)])
        .send()
        .await
        .expect("POST");
    let status = res.status();
    let location = res
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, location, res.text().await.unwrap())
}

const ADDRESS_TAKEN: &str = "Someone tried to move another Gatehouse account to this address";

#[tokio::test]
async fn a_taken_address_is_answered_like_a_free_one_and_its_owner_is_told() {
    let world = World::start();
    let (prober, _) = world.verified_account("prober").await;
    let (key, codes) = prober.enable_two_factor().await;
    let (_, taken) = world.verified_account("owner").await;
    let free = unique_email("free");
    let ip = "198.51.100.77";

    // A wrong code: the same refusal whether or not the address has an account.
    let wrong = wrong_code(&key);
    assert_eq!(
        change_answer(&prober, ip, &taken, &wrong).await,
        change_answer(&prober, ip, &free, &wrong).await
    );
    assert_eq!(
        change_answer(&prober, ip, &free, &wrong).await.0,
        StatusCode::UNAUTHORIZED
    );
    // A right code: the same answer too.
    let on_taken = change_answer(&prober, ip, &taken, &codes[0]).await;
    assert_eq!(on_taken.0, StatusCode::OK, "{on_taken:?}");
    assert_eq!(on_taken, change_answer(&prober, ip, &free, &codes[1]).await);
    // Five messages an hour for the account, counted before anything is looked up.
    let (on_taken, on_free) = (
        change_answer(&prober, ip, &taken, &wrong).await,
        change_answer(&prober, ip, &free, &wrong).await,
    );
    assert_eq!(on_taken.0, StatusCode::TOO_MANY_REQUESTS, "{on_taken:?}");
    // The bodies say how long to wait, which a second's tick may change.
    assert_eq!((on_taken.0, on_taken.1), (on_free.0, on_free.1));

    // The free address got its link; the taken one's owner got word, and no link.
    world.mail.wait_for(&free, NEW_ADDRESS, MAIL_WAIT).await;
    let told = world.mail.wait_for(&taken, ADDRESS_TAKEN, MAIL_WAIT).await;
    assert_eq!(told.to, vec![taken.clone()]);
    assert!(told.text.contains("Nothing was changed"), "{}", told.text);
    assert!(!told.text.contains("?token="), "{}", told.text);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        world.mail.subjects_to(&taken).await,
        vec![VERIFY.to_owned(), ADDRESS_TAKEN.to_owned()],
        "one word to the owner, and no confirmation link"
    );
    let links: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM email_tokens WHERE email = $1 AND purpose = 'change_email'",
    )
    .bind(&taken)
    .fetch_one(&world.server.db().await)
    .await
    .unwrap();
    assert_eq!(links, 0);
}

#[tokio::test]
async fn changing_the_address_signs_out_every_other_session() {
    let world = World::start();
    let (owner, email) = world.verified_account("moving").await;
    let laptop = world.server.browser();
    assert_eq!(
        laptop.sign_in(&email, PASSWORD).await.status(),
        StatusCode::OK
    );
    let new = unique_email("moved");
    assert_eq!(change_email(&owner, &new).await, StatusCode::OK);
    let link = token_in(&world.mail.wait_for(&new, NEW_ADDRESS, MAIL_WAIT).await);
    let res = owner
        .call("confirm_email_change", &[("token", &link)])
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(profile(&owner).await["email"], new.as_str());
    assert_eq!(
        laptop.call("load_profile", &[]).await.status(),
        StatusCode::UNAUTHORIZED,
        "the other session ended with the move"
    );
}
