//! Linking a provider to an account: never by email unless the operator trusts it and
//! both sides proved it; connecting and disconnecting, each a factor change.

use super::*;

// ---------------------------------------------------------------------------------------
// 9. An email is never how an account is found, unless the operator says so and both
//    sides verified it

#[tokio::test]
async fn an_existing_email_is_never_linked_by_default() {
    let world = World::start();
    let owner = world.browser();
    assert_eq!(
        owner.sign_up("alice-9@example.test").await.status(),
        StatusCode::OK
    );
    let attempts = [("idp", "alice-9"), ("github", "alice-9")];
    for (provider, login) in attempts {
        let browser = world.browser();
        let res = round_trip(&browser, provider, "sign_in", login).await;
        assert_refused(&res, "/signin", "email_exists", provider);
    }
    // An address the provider did not prove is not taken as said: it is asked for, and
    // whether it has an account is not told.
    for (provider, login) in [("idp", "unverified:alice-9"), ("facebook", "alice-9")] {
        let browser = world.browser();
        let res = round_trip(&browser, provider, "sign_in", login).await;
        assert_eq!(location(&res), CONFIRM_EMAIL_PAGE, "{provider}");
    }
    // Even with the address verified here: the default config trusts no provider's email.
    world
        .db()
        .await
        .execute_sql("UPDATE users SET email_verified_at = 1")
        .await;
    for (provider, login) in attempts {
        let browser = world.browser();
        let res = round_trip(&browser, provider, "sign_in", login).await;
        assert_refused(&res, "/signin", "email_exists", provider);
    }
    assert_eq!(
        world.count("SELECT COUNT(*) FROM linked_identities").await,
        0
    );
    assert_eq!(world.count("SELECT COUNT(*) FROM users").await, 1);

    // Control: another address signs up.
    let browser = signed_in_with(&world, "idp", "bert-9").await;
    assert_eq!(profile_email(&browser).await, "bert-9@example.test");
}

#[tokio::test]
async fn a_trusted_provider_links_by_email_only_when_both_sides_verified_it() {
    let world = World::start_with(&[
        ("idp", "trust_email", "true"),
        ("github", "trust_email", "true"),
        ("facebook", "trust_email", "true"),
    ]);
    let owner = world.browser();
    assert_eq!(
        owner
            .sign_up_unverified("alice-9@example.test")
            .await
            .status(),
        StatusCode::OK
    );
    let user = world.user_id("alice-9@example.test").await;

    // The local address is not verified: nobody links.
    let browser = world.browser();
    let res = round_trip(&browser, "idp", "sign_in", "alice-9").await;
    assert_refused(&res, "/signin", "email_exists", "idp");

    world
        .db()
        .await
        .execute_sql(&format!(
            "UPDATE users SET email_verified_at = {} WHERE id = {user}",
            now()
        ))
        .await;

    // Verified here, but not at the provider (Facebook never says, the OpenID provider
    // says no): the address is asked for instead, as for anyone.
    for (provider, login) in [("idp", "unverified:alice-9"), ("facebook", "alice-9")] {
        let browser = world.browser();
        let res = round_trip(&browser, provider, "sign_in", login).await;
        assert_eq!(location(&res), CONFIRM_EMAIL_PAGE, "{provider}");
    }
    assert!(world.links(user).await.is_empty());

    // Verified on both sides: linked, and signed in to that account.
    for (provider, name) in [("idp", "OpenID Test"), ("github", "GitHub")] {
        let browser = signed_in_with(&world, provider, "alice-9").await;
        assert_eq!(profile_email(&browser).await, "alice-9@example.test");
        assert!(
            activity(&browser)
                .await
                .iter()
                .any(|(what, detail)| what == "Sign-in provider connected"
                    && detail == &format!("{name} (by its verified email)")),
            "{provider} linked in the activity"
        );
    }
    let links = world.links(user).await;
    assert_eq!(
        links,
        [
            ("github".to_owned(), links[0].1.clone()),
            ("idp".to_owned(), "alice-9".to_owned())
        ]
    );
    assert_eq!(world.count("SELECT COUNT(*) FROM users").await, 1);
}

trait ExecuteSql {
    async fn execute_sql(&self, sql: &str);
}

impl ExecuteSql for sqlx::AnyPool {
    async fn execute_sql(&self, sql: &str) {
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .execute(self)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
    }
}

// ---------------------------------------------------------------------------------------
// 10. Connecting and disconnecting

#[tokio::test]
async fn a_password_account_connects_a_provider_signs_in_with_it_and_disconnects_it() {
    let world = World::start();
    let owner = world.browser();
    let email = unique_email("connect");
    assert_eq!(owner.sign_up(&email).await.status(), StatusCode::OK);
    connect(&owner, "idp", "nora", "").await;

    let methods = owner.json("load_sign_in_methods", &[]).await;
    assert_eq!(methods["has_password"], true);
    assert_eq!(methods["providers"][0]["id"], "idp");
    assert!(
        methods["providers"][0]["linked_on"].is_string(),
        "{methods}"
    );

    let browser = signed_in_with(&world, "idp", "nora").await;
    assert_eq!(profile_email(&browser).await, email, "the same account");

    let res = disconnect(&owner, "idp").await;
    assert!(res.status().is_success(), "{}", res.status());
    let methods = owner.json("load_sign_in_methods", &[]).await;
    assert!(methods["providers"][0]["linked_on"].is_null(), "{methods}");
    let user = world.user_id(&email).await;
    assert!(world.links(user).await.is_empty());
    let events: Vec<String> = activity(&owner).await.into_iter().map(|e| e.0).collect();
    assert!(
        events.contains(&"Sign-in provider connected".to_owned()),
        "{events:?}"
    );
    assert!(
        events.contains(&"Sign-in provider disconnected".to_owned()),
        "{events:?}"
    );

    // The provider account no longer reaches this account: it signs up one of its own.
    let after = signed_in_with(&world, "idp", "nora").await;
    assert_eq!(profile_email(&after).await, "nora@example.test");
}

#[tokio::test]
async fn two_disconnects_at_once_never_leave_an_account_without_a_way_in() {
    let world = World::start();
    let browser = signed_in_with(&world, "idp", "otto").await;
    let user = world.user_id("otto@example.test").await;
    world.verify("otto@example.test").await;
    confirm_at_provider(&browser, "idp", "otto").await;
    let sentence = |name: &str| {
        format!(
            "{name} is your only way to sign in, so it cannot be disconnected. Set a password first."
        )
    };

    // Three rounds: connect the one missing, then disconnect both at once.
    let mut missing = "github";
    for round in 0..3 {
        connect(&browser, missing, "otto", "").await;
        assert_eq!(world.links(user).await.len(), 2, "round {round}");
        let answers = join_all(["idp", "github"].map(|p| {
            let browser = &browser;
            async move { disconnect(browser, p).await }
        }))
        .await;
        let mut ok = Vec::new();
        let mut refused = Vec::new();
        for (provider, res) in ["idp", "github"].into_iter().zip(answers) {
            if res.status().is_success() {
                ok.push(provider);
            } else {
                let (status, message) = error_message(res).await;
                assert_eq!(status, StatusCode::CONFLICT, "{message}");
                refused.push((provider, message));
            }
        }
        assert_eq!(
            (ok.len(), refused.len()),
            (1, 1),
            "round {round}: {ok:?} {refused:?}"
        );
        let (survivor, message) = &refused[0];
        let name = if *survivor == "idp" {
            "OpenID Test"
        } else {
            "GitHub"
        };
        assert_eq!(message, &sentence(name));
        assert_eq!(
            world
                .links(user)
                .await
                .iter()
                .map(|l| l.0.as_str())
                .collect::<Vec<_>>(),
            [*survivor],
            "round {round}"
        );

        // The survivor, alone, cannot go.
        let (status, message) = error_message(disconnect(&browser, survivor).await).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(message, sentence(name));
        missing = ok[0];
    }
}

// ---------------------------------------------------------------------------------------
// Ways in: every change to how an account is entered is confirmed, announced, and final

#[tokio::test]
async fn connecting_a_provider_asks_for_the_password_and_a_code_and_is_a_factor_change() {
    let world = World::start();
    let (owner, email, key, codes) = account_with_two_factor(&world.server, "connect2fa").await;
    let laptop = world.other_session(&email).await;
    assert_eq!(laptop.verify_code(&codes[0]).await.status(), StatusCode::OK);

    // A stolen session cookie alone starts no round trip: no password, a wrong one, or
    // no code each come back to the tab saying so, and record no flow.
    for (form, refusal) in [
        (vec![("purpose", "link")], "wrong_password"),
        (
            vec![
                ("purpose", "link"),
                ("password", "not-the-Password-77"),
                ("code", ""),
            ],
            "wrong_password",
        ),
        (
            vec![("purpose", "link"), ("password", PASSWORD), ("code", "")],
            "wrong_code",
        ),
    ] {
        let res = post_start(&owner, "github", &form).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            location(&res),
            format!("{METHODS_PAGE}?error={refusal}&provider=github"),
            "{form:?}"
        );
    }
    assert_eq!(world.count("SELECT COUNT(*) FROM social_flows").await, 0);

    connect(&owner, "github", "gwen", &totp_at(&key, now() + STEP)).await;
    let user = world.user_id(&email).await;
    assert_eq!(world.links(user).await.len(), 1);
    assert_signed_out(&laptop, "the other session ended with the new way in").await;
    assert_eq!(
        owner.call("load_profile", &[]).await.status(),
        StatusCode::OK
    );
    world
        .wait_for_notice("GitHub was connected to your account")
        .await;
}

#[tokio::test]
async fn a_provider_linked_by_its_trusted_verified_email_is_a_factor_change() {
    let world = World::start_with(&[("idp", "trust_email", "true")]);
    let owner = world.browser();
    assert_eq!(
        owner.sign_up("alice@example.test").await.status(),
        StatusCode::OK
    );
    let laptop = world.other_session("alice@example.test").await;

    let browser = signed_in_with(&world, "idp", "alice").await;
    assert_eq!(profile_email(&browser).await, "alice@example.test");
    assert_signed_out(&owner, "a new way in ends every other session").await;
    assert_signed_out(&laptop, "a new way in ends every other session").await;
    world
        .wait_for_notice("OpenID Test was connected to your account")
        .await;
}

#[tokio::test]
async fn an_account_whose_address_is_not_proved_adds_no_way_in() {
    let world = World::start();
    let browser = world.browser();
    let email = unique_email("unproved");
    assert_eq!(
        browser.sign_up_unverified(&email).await.status(),
        StatusCode::OK
    );
    let (status, message) = error_message(browser.call("start_enrollment", &[]).await).await;
    assert_eq!(status, StatusCode::CONFLICT, "{message}");
    assert!(message.contains("Confirm your email address"), "{message}");
    let res = post_start(
        &browser,
        "github",
        &[("purpose", "link"), ("password", PASSWORD), ("code", "")],
    )
    .await;
    assert_eq!(
        location(&res),
        format!("{METHODS_PAGE}?error=verify_email_first&provider=github")
    );
    // A provider sign-up of its own has no proved address either.
    let social = signed_in_with(&world, "idp", "uma").await;
    assert_eq!(
        social.call("start_enrollment", &[]).await.status(),
        StatusCode::CONFLICT
    );

    // Control: once proved, the same account sets up two-factor authentication.
    world.verify(&email).await;
    assert_eq!(
        browser.call("start_enrollment", &[]).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_provider_sign_in_checked_before_its_disconnect_gets_no_session_after_it() {
    let world = World::start_with_env(
        &[],
        &[("FAILPOINTS", "sign_in.before_session=1*return(4000)")],
    );
    let owner = world.browser();
    let email = unique_email("held");
    assert_eq!(owner.sign_up(&email).await.status(), StatusCode::OK);
    connect(&owner, "github", "gil", "").await;

    // Whoever holds the GitHub account signs in; the sign-in is held after its checks.
    let attacker = world.browser();
    let authorize = begin(&attacker, "github", "sign_in", None).await;
    let callback = at_provider(&attacker, "github", &authorize, "gil").await;
    let held = tokio::spawn(async move {
        let res = arrive(&attacker, &callback).await;
        (attacker, res)
    });
    tokio::time::sleep(std::time::Duration::from_millis(2000)).await;
    assert!(disconnect(&owner, "github").await.status().is_success());
    let (attacker, res) = held.await.unwrap();
    assert_refused(&res, "/signin", "expired", "github");
    assert_signed_out(&attacker, "the held sign-in got no session").await;
}
