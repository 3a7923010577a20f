//! "Confirm it's you" through a provider: a fresh sign-in there (`prompt=login`,
//! `max_age=0`), and only at a provider connected before the session began.

use super::*;

/// Follows the provider's redirects without typing anything: the callback URL when the
/// provider signs this browser in by itself, or the page it shows instead.
async fn provider_answer(client: &Client, authorize: &str) -> Result<String, String> {
    let mut url = Url::parse(authorize).expect("authorize URL");
    let provider = url.origin();
    for _ in 0..10 {
        let res = client
            .get(url.clone())
            .send()
            .await
            .expect("reach the provider");
        if !res.status().is_redirection() {
            return Err(res.text().await.unwrap_or_default());
        }
        let next = url
            .join(res.headers()[LOCATION].to_str().unwrap())
            .expect("Location");
        if next.origin() != provider {
            return Ok(next.to_string());
        }
        url = next;
    }
    panic!("the provider kept redirecting");
}

// ---------------------------------------------------------------------------------------
// 6, 7, 8. The second factor and confirmations

/// `enable_two_factor` with a current code and no password, as the dialog of an account
/// without one sends it.
async fn enable_without_password(browser: &Browser, key: &str) -> Response {
    let code = totp_at(key, now());
    browser
        .call("enable_two_factor", &[("code", &code), ("password", "")])
        .await
}

#[tokio::test]
async fn an_account_without_a_password_confirms_two_factor_with_a_fresh_provider_sign_in() {
    let world = World::start();
    let browser = signed_in_with(&world, "idp", "jade").await;
    world.verify("jade@example.test").await;

    // Control: without prompt=login the provider signs this browser in by itself.
    let authorize = begin(&browser, "idp", "sign_in", None).await;
    assert_eq!(query_param(&authorize, "prompt"), None);
    let callback = provider_answer(&browser.client, &authorize)
        .await
        .expect("a silent sign-in at the provider");
    let res = arrive(&browser, &callback).await;
    assert_signed_in(&res, "/settings");

    let confirmation = browser.json("load_confirmation", &[]).await;
    assert_eq!(
        confirmation["Reauthenticate"]["providers"][0]["id"], "idp",
        "{confirmation}"
    );
    let enrollment = browser.start_enrollment().await;
    let (status, message) =
        error_message(enable_without_password(&browser, &enrollment.key).await).await;
    assert_eq!(status, StatusCode::CONFLICT, "{message}");
    assert!(message.contains("Confirm"), "{message}");

    // A reauth as another account at the provider: the form is shown again, and refused.
    let authorize = begin(&browser, "idp", "reauth", None).await;
    assert_eq!(query_param(&authorize, "prompt").as_deref(), Some("login"));
    assert_eq!(query_param(&authorize, "max_age").as_deref(), Some("0"));
    let page = provider_answer(&browser.client, &authorize)
        .await
        .expect_err("the login form again");
    assert!(page.contains(r#"name="login""#), "{page}");
    let callback = oidc_login(&browser.client, &authorize, "kurt").await;
    let res = arrive(&browser, &callback).await;
    assert_refused(&res, METHODS_PAGE, "wrong_account", "idp");
    let (status, _) = error_message(enable_without_password(&browser, &enrollment.key).await).await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "a wrong account confirms nothing"
    );

    // A reauth as the linked account: enable works.
    let authorize = begin(&browser, "idp", "reauth", None).await;
    let page = provider_answer(&browser.client, &authorize)
        .await
        .expect_err("the login form again");
    assert!(page.contains(r#"name="login""#), "{page}");
    let callback = oidc_login(&browser.client, &authorize, "jade").await;
    let res = arrive(&browser, &callback).await;
    assert_eq!(location(&res), METHODS_PAGE);
    assert!(
        session_cookie(&res).is_none(),
        "the same session, confirmed"
    );
    let confirmation = browser.json("load_confirmation", &[]).await;
    assert_eq!(
        confirmation["Confirmed"]["provider"], "OpenID Test",
        "{confirmation}"
    );
    let res = enable_without_password(&browser, &enrollment.key).await;
    assert_eq!(res.status(), StatusCode::OK);
    let set: CodeSet = res.json().await.unwrap();
    assert_eq!(set.codes.len(), 10);

    // GitHub cannot confirm a fresh sign-in: no round trip begins.
    let res = browser
        .client
        .post(format!("{}/auth/github/start", browser.base))
        .form(&[("purpose", "reauth")])
        .send()
        .await
        .unwrap();
    assert_eq!(
        location(&res),
        format!("{METHODS_PAGE}?error=cannot_confirm&provider=github")
    );
}

#[tokio::test]
async fn a_reauth_whose_provider_sign_in_is_old_is_refused() {
    let world = World::start();
    let browser = signed_in_with(&world, "tamper", "lena").await;

    world.providers.break_tamper("auth_time").await;
    let res = round_trip(&browser, "tamper", "reauth", "lena").await;
    assert_refused(&res, METHODS_PAGE, "not_fresh", "tamper");
    let confirmation = browser.json("load_confirmation", &[]).await;
    assert!(
        confirmation.get("Reauthenticate").is_some(),
        "not confirmed: {confirmation}"
    );

    // Control: a fresh auth_time confirms.
    world.providers.break_tamper("none").await;
    let res = round_trip(&browser, "tamper", "reauth", "lena").await;
    assert_eq!(location(&res), METHODS_PAGE);
    let confirmation = browser.json("load_confirmation", &[]).await;
    assert!(confirmation.get("Confirmed").is_some(), "{confirmation}");
}

// ---------------------------------------------------------------------------------------
// Ways in: every change to how an account is entered is confirmed, announced, and final

#[tokio::test]
async fn a_stolen_session_cannot_disconnect_a_provider_or_set_a_first_password() {
    let world = World::start();
    // The owner, confirmed at the provider in one session, connects a second provider.
    let owner = signed_in_with(&world, "idp", "vic").await;
    world.verify("vic@example.test").await;
    confirm_at_provider(&owner, "idp", "vic").await;
    connect(&owner, "github", "vic", "").await;
    // The thief holds the cookie of another session, which confirmed nothing.
    let thief = signed_in_with(&world, "idp", "vic").await;

    let (status, message) = error_message(disconnect(&thief, "github").await).await;
    assert_eq!(status, StatusCode::CONFLICT, "{message}");
    assert!(message.contains("Confirm it's you"), "{message}");
    let (status, message) = error_message(
        thief
            .call(
                "set_password",
                &[("password", "Attacker-Horse-battery-77"), ("code", "")],
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT, "{message}");
    let user = world.user_id("vic@example.test").await;
    assert_eq!(world.links(user).await.len(), 2, "nothing was disconnected");
    assert_eq!(
        world
            .count("SELECT COUNT(*) FROM users WHERE password_hash <> ''")
            .await,
        0,
        "no password was set"
    );

    // Confirmed at the provider linked before this session, the owner's own changes go
    // through, each a factor change.
    confirm_at_provider(&thief, "idp", "vic").await;
    assert_eq!(
        thief
            .call(
                "set_password",
                &[("password", "Owner-Horse-battery-77"), ("code", "")],
            )
            .await
            .status(),
        StatusCode::OK
    );
    world
        .wait_for_notice("A password was set for your account")
        .await;
    assert_signed_out(&owner, "the first password ended the other session").await;
    let res = thief
        .call(
            "disconnect_provider",
            &[
                ("provider", "github"),
                ("password", "Owner-Horse-battery-77"),
                ("code", ""),
            ],
        )
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    world
        .wait_for_notice("GitHub was disconnected from your account")
        .await;
}

#[tokio::test]
async fn only_a_provider_connected_before_the_session_began_confirms_it() {
    let world = World::start();
    let browser = signed_in_with(&world, "idp", "lars").await;
    world.verify("lars@example.test").await;
    confirm_at_provider(&browser, "idp", "lars").await;
    connect(&browser, "tamper", "lars", "").await;

    // Connected in this session: it could be the thief's, so it confirms nothing.
    let res = round_trip(&browser, "tamper", "reauth", "lars").await;
    assert_refused(&res, METHODS_PAGE, "linked_this_session", "tamper");
    let confirmation = browser.json("load_confirmation", &[]).await;
    let offered: Vec<&str> = confirmation["Confirmed"]["provider"]
        .as_str()
        .into_iter()
        .collect();
    assert_eq!(offered, ["OpenID Test"], "{confirmation}");

    // A session begun after it was connected takes its confirmation.
    let later = signed_in_with(&world, "tamper", "lars").await;
    let confirmation = later.json("load_confirmation", &[]).await;
    assert_eq!(
        confirmation["Reauthenticate"]["providers"]
            .as_array()
            .map(Vec::len),
        Some(2),
        "{confirmation}"
    );
    confirm_at_provider(&later, "tamper", "lars").await;
}
