//! Signing in through a provider: the first sign-in makes the account and later ones
//! find it by subject; what the provider sends back is checked; a second factor and a
//! lock still hold.

use super::*;

/// `url` with the query parameter `name` set to `value`.
fn with_param(url: &str, name: &str, value: &str) -> String {
    let mut url = Url::parse(url).expect("URL");
    let pairs: Vec<(String, String)> = url
        .query_pairs()
        .filter(|(k, _)| k != name)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    url.query_pairs_mut()
        .clear()
        .extend_pairs(pairs)
        .append_pair(name, value);
    url.to_string()
}

// ---------------------------------------------------------------------------------------
// 1. Sign-up and sign-in

#[tokio::test]
async fn a_provider_account_signs_up_once_and_signs_in_to_the_same_account_by_subject() {
    let world = World::start();
    let browser = signed_in_with(&world, "idp", "dana").await;
    assert_eq!(profile_email(&browser).await, "dana@example.test");
    let user = world.user_id("dana@example.test").await;
    assert_eq!(
        world.links(user).await,
        [("idp".to_owned(), "dana".to_owned())]
    );
    let methods = browser.json("load_sign_in_methods", &[]).await;
    assert_eq!(methods["has_password"], false, "{methods}");

    // Sign out, and in again in the same browser: the provider session signs in silently.
    assert!(browser.call("sign_out", &[]).await.status().is_success());
    assert_eq!(
        error_message(browser.call("load_profile", &[]).await)
            .await
            .0,
        StatusCode::UNAUTHORIZED,
        "signed out"
    );
    let res = round_trip(&browser, "idp", "sign_in", "dana").await;
    assert_signed_in(&res, "/settings");
    assert_eq!(profile_email(&browser).await, "dana@example.test");

    // Another browser, through the login form: still the same account, found by subject.
    let other = signed_in_with(&world, "idp", "dana").await;
    assert_eq!(profile_email(&other).await, "dana@example.test");
    assert_eq!(world.count("SELECT COUNT(*) FROM users").await, 1);
    assert_eq!(
        world.count("SELECT COUNT(*) FROM linked_identities").await,
        1
    );

    let events = activity(&other).await;
    let signed_in = events
        .iter()
        .filter(|(what, detail)| what == "Signed in" && detail.contains("OpenID Test"))
        .count();
    assert_eq!(signed_in, 3, "{events:?}");
    assert!(
        events
            .iter()
            .any(|(what, detail)| what == "Account created" && detail.contains("OpenID Test")),
        "{events:?}"
    );
    assert!(
        events.iter().any(|(what, _)| what == "Signed out"),
        "{events:?}"
    );

    // GitHub and Facebook through their stand-ins: an account each, found again by id.
    // Facebook proves no address, so its sign-up proves one by mail first.
    for (provider, login, name) in [
        ("github", "gwen", "GitHub"),
        ("facebook", "finn", "Facebook"),
    ] {
        let email = format!("{login}@example.test");
        let first = if provider == "facebook" {
            signed_up_by_link(&world, provider, login, &email).await
        } else {
            signed_in_with(&world, provider, login).await
        };
        assert_eq!(profile_email(&first).await, email);
        let again = signed_in_with(&world, provider, login).await;
        assert_eq!(profile_email(&again).await, email);
        let user = world.user_id(&email).await;
        let links = world.links(user).await;
        assert_eq!(links.len(), 1, "{links:?}");
        assert_eq!(links[0].0, provider);
        assert!(
            !links[0].1.is_empty() && links[0].1.bytes().all(|b| b.is_ascii_digit()),
            "{provider}'s numeric id is the subject: {links:?}"
        );
        assert!(
            activity(&again)
                .await
                .iter()
                .any(|(what, detail)| what == "Signed in" && detail.contains(name)),
            "{provider} sign-in in the activity"
        );
    }
    assert_eq!(world.count("SELECT COUNT(*) FROM users").await, 3);
}

// ---------------------------------------------------------------------------------------
// 4, 5. What the provider sends back

#[tokio::test]
async fn a_tampered_id_token_or_issuer_is_refused() {
    let world = World::start();
    for mode in ["aud", "nonce", "exp", "signature", "alg_none", "iss_param"] {
        world.providers.break_tamper(mode).await;
        let browser = world.browser();
        let res = round_trip(&browser, "tamper", "sign_in", "tess").await;
        assert_eq!(
            location(&res),
            "/signin?error=provider_failed&provider=tamper",
            "break {mode}\n{}",
            world.server.server_log()
        );
        assert!(
            session_cookie(&res).is_none(),
            "break {mode}: a session cookie"
        );
    }
    assert_eq!(world.count("SELECT COUNT(*) FROM users").await, 0);

    // Control: the same issuer, behaving.
    world.providers.break_tamper("none").await;
    let browser = world.browser();
    let res = round_trip(&browser, "tamper", "sign_in", "tess").await;
    assert_signed_in(&res, "/settings");
    assert_eq!(profile_email(&browser).await, "tess@example.test");
}

#[tokio::test]
async fn a_cancel_or_an_error_at_the_provider_is_said_on_the_sign_in_page() {
    let world = World::start();
    let browser = world.browser();

    // The person cancels at the OpenID provider: it answers error=access_denied.
    let authorize = begin(&browser, "idp", "sign_in", None).await;
    let state = query_param(&authorize, "state").expect("state");
    let res = browser
        .client
        .get(format!("{}/auth/idp/callback", browser.base))
        .query(&[("error", "access_denied"), ("state", &state)])
        .send()
        .await
        .unwrap();
    assert_refused(&res, "/signin", "declined", "idp");
    let page = browser.get(&location(&res)).await;
    assert_eq!(page.status(), StatusCode::OK);
    let page = page.text().await.unwrap();
    assert!(
        page.contains("Signing in with OpenID Test was cancelled."),
        "{page}"
    );
    // Control: the page without the error says nothing of the kind.
    let plain = browser.get("/signin").await.text().await.unwrap();
    assert!(!plain.contains("was cancelled"));

    // Cancel at the Facebook stand-in: error=access_denied&error_reason=user_denied.
    let authorize = begin(&browser, "facebook", "sign_in", None).await;
    let res = browser
        .client
        .get(with_param(&authorize, "deny", "1"))
        .send()
        .await
        .unwrap();
    assert!(res.status().is_redirection());
    let callback = location(&res);
    assert_eq!(
        query_param(&callback, "error").as_deref(),
        Some("access_denied")
    );
    assert_refused(
        &arrive(&browser, &callback).await,
        "/signin",
        "declined",
        "facebook",
    );

    // Any other error from the provider is its failure.
    let authorize = begin(&browser, "idp", "sign_in", None).await;
    let state = query_param(&authorize, "state").expect("state");
    let res = browser
        .client
        .get(format!("{}/auth/idp/callback", browser.base))
        .query(&[("error", "server_error"), ("state", &state)])
        .send()
        .await
        .unwrap();
    assert_refused(&res, "/signin", "provider_failed", "idp");

    // GitHub refuses a bad code with HTTP 200 and an `error` field.
    let authorize = begin(&browser, "github", "sign_in", None).await;
    let callback = standin_login(&browser.client, &authorize, "hana").await;
    assert!(query_param(&callback, "code").is_some());
    let forged = with_param(&callback, "code", "0123456789abcdef0123");
    assert_refused(
        &arrive(&browser, &forged).await,
        "/signin",
        "provider_failed",
        "github",
    );
    let page = browser
        .get("/signin?error=provider_failed&provider=github")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("GitHub could not confirm who you are."),
        "{page}"
    );
    assert_eq!(world.count("SELECT COUNT(*) FROM users").await, 0);

    // Control: GitHub with a real code signs in.
    let res = round_trip(&browser, "github", "sign_in", "hana").await;
    assert_signed_in(&res, "/settings");
}

// ---------------------------------------------------------------------------------------
// 6, 7, 8. The second factor and confirmations

#[tokio::test]
async fn a_provider_sign_in_to_an_account_with_two_factor_waits_at_the_code_prompt() {
    let world = World::start();
    let (owner, email, key, codes) = account_with_two_factor(&world.server, "social2fa").await;
    // A recovery code confirms the link, so the app's next code is left for the prompt.
    connect(&owner, "idp", "ivan", &codes[1]).await;

    let browser = world.browser();
    let res = round_trip(&browser, "idp", "sign_in", "ivan").await;
    assert_eq!(location(&res), "/signin/code?next=%2Fsettings");
    assert!(session_cookie(&res).is_some(), "a pending session");

    // The pending session opens nothing but the prompt.
    let res = browser.get("/settings").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/signin/code");
    for (function, form) in [
        ("load_profile", vec![]),
        ("load_sign_in_methods", vec![]),
        (
            "disconnect_provider",
            vec![("provider", "idp"), ("password", PASSWORD), ("code", "")],
        ),
    ] {
        let (status, _) = error_message(browser.call(function, &form).await).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{function}");
    }
    // Nor can it connect a provider.
    let res = browser
        .client
        .post(format!("{}/auth/github/start", browser.base))
        .form(&[("purpose", "link")])
        .send()
        .await
        .unwrap();
    assert_eq!(location(&res), "/signin");
    assert_eq!(browser.get("/signin/code").await.status(), StatusCode::OK);

    let res = browser.verify_code(&totp_at(&key, now() + STEP)).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(profile_email(&browser).await, email);

    // A later one is finished by a recovery code.
    let later = world.browser();
    let res = round_trip(&later, "idp", "sign_in", "ivan").await;
    assert_eq!(location(&res), "/signin/code?next=%2Fsettings");
    assert_eq!(later.verify_code(&codes[0]).await.status(), StatusCode::OK);
    assert_eq!(profile_email(&later).await, email);
    let user = world.user_id(&email).await;
    assert_eq!(world.links(user).await.len(), 1, "still connected");
}

#[tokio::test]
async fn a_provider_sign_in_to_a_locked_account_is_told_to_wait() {
    let world = World::start();
    let (owner, _, key, _) = account_with_two_factor(&world.server, "sociallock").await;
    connect(&owner, "idp", "milo", &totp_at(&key, now() + STEP)).await;

    // Control: before the lock, the provider leads to the code prompt; five wrong codes
    // there lock the account.
    let attacker = world.browser();
    let res = round_trip(&attacker, "idp", "sign_in", "milo").await;
    assert_eq!(location(&res), "/signin/code?next=%2Fsettings");
    let wrong = wrong_code(&key);
    for _ in 0..4 {
        assert_eq!(
            attacker.verify_code(&wrong).await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        attacker.verify_code(&wrong).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );

    let browser = world.browser();
    let res = round_trip(&browser, "idp", "sign_in", "milo").await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = header(&res, "retry-after").parse().unwrap();
    assert!((1..=900).contains(&retry), "{retry}");
    assert!(session_cookie(&res).is_none());
    let page = res.text().await.unwrap();
    assert!(page.contains("Try again later"), "{page}");
}

/// A sign-up through `provider` as `login`, whose address the provider did not prove:
/// the address `email` is given, and the link sent there opened in the same browser.
async fn signed_up_by_link(world: &World, provider: &str, login: &str, email: &str) -> Browser {
    let browser = world.browser();
    let res = round_trip(&browser, provider, "sign_in", login).await;
    assert_eq!(location(&res), CONFIRM_EMAIL_PAGE);
    let old = last_link_in_log(world, "/signup/finish");
    let res = browser.call("send_sign_up_link", &[("email", email)]).await;
    assert_eq!(res.status(), StatusCode::OK, "send_sign_up_link");
    let token = new_link_in_log(world, "/signup/finish", old.as_deref()).await;
    let res = browser.call("finish_sign_up", &[("token", &token)]).await;
    assert_eq!(res.status(), StatusCode::OK, "finish_sign_up");
    browser
}
