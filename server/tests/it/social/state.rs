//! The state of a round trip: spent once, only by the browser that began it (its binding
//! cookie), within ten minutes, and limited per client address.

use super::*;

/// The browser arrives at the callback `url` sending only `cookie`, as one whose jar
/// holds what was planted in it.
async fn arrive_with_cookie(browser: &Browser, url: &str, cookie: &str) -> Response {
    browser
        .client
        .get(url)
        .header(reqwest::header::COOKIE, cookie)
        .send()
        .await
        .expect("GET callback")
}

// ---------------------------------------------------------------------------------------
// 2, 3. The state: once, in its browser, for ten minutes

#[tokio::test]
async fn a_state_is_spent_once_and_only_by_the_browser_that_began_it() {
    let world = World::start();

    // A replay of a callback that signed in.
    let alice = world.browser();
    let authorize = begin(&alice, "idp", "sign_in", None).await;
    let callback = oidc_login(&alice.client, &authorize, "erin").await;
    assert_signed_in(&arrive(&alice, &callback).await, "/settings");
    let res = arrive(&alice, &callback).await;
    assert_refused(&res, "/signin", "expired", "idp");

    // A browser without a binding cookie; the state is spent by that attempt, so the
    // browser that began it cannot use it afterwards either.
    let authorize = begin(&alice, "idp", "sign_in", None).await;
    let callback = oidc_login(&alice.client, &authorize, "erin").await;
    let stranger = world.browser();
    assert_refused(
        &arrive(&stranger, &callback).await,
        "/signin",
        "expired",
        "idp",
    );
    assert_refused(
        &arrive(&alice, &callback).await,
        "/signin",
        "expired",
        "idp",
    );

    // A browser with a binding cookie of its own, from its own round trip.
    let authorize = begin(&alice, "idp", "sign_in", None).await;
    let callback = oidc_login(&alice.client, &authorize, "erin").await;
    let other = world.browser();
    begin(&other, "idp", "sign_in", None).await;
    assert_refused(
        &arrive(&other, &callback).await,
        "/signin",
        "expired",
        "idp",
    );

    // A state brought to another provider's callback.
    let authorize = begin(&alice, "github", "sign_in", None).await;
    let callback = standin_login(&alice.client, &authorize, "erin").await;
    let elsewhere = callback.replace("/auth/github/callback", "/auth/facebook/callback");
    assert_ne!(elsewhere, callback);
    assert_refused(
        &arrive(&alice, &elsewhere).await,
        "/signin",
        "expired",
        "facebook",
    );

    // Control: a fresh round trip in the browser that began it signs in.
    let res = round_trip(&alice, "idp", "sign_in", "erin").await;
    assert_signed_in(&res, "/settings");
    assert_eq!(profile_email(&alice).await, "erin@example.test");

    // Ten tabs arriving with one callback at once: one signs in, nine are told it expired.
    let fresh = world.browser();
    let authorize = begin(&fresh, "idp", "sign_in", None).await;
    let callback = oidc_login(&fresh.client, &authorize, "frank").await;
    let answers = join_all((0..10).map(|_| arrive(&fresh, &callback))).await;
    let signed_in = answers
        .iter()
        .filter(|r| location(r) == "/settings" && session_cookie(r).is_some())
        .count();
    let expired = answers
        .iter()
        .filter(|r| {
            location(r) == "/signin?error=expired&provider=idp" && session_cookie(r).is_none()
        })
        .count();
    assert_eq!((signed_in, expired), (1, 9));
    let frank = world.user_id("frank@example.test").await;
    assert_eq!(
        world
            .count(&format!(
                "SELECT COUNT(*) FROM sessions WHERE user_id = {frank}"
            ))
            .await,
        1,
        "one session"
    );
}

/// `POST /auth/{provider}/start` with `cookie` as the request's only Cookie header (none
/// when empty): the response, and the binding cookie it set (the whole `Set-Cookie`).
async fn start_with_cookie(
    browser: &Browser,
    provider: &str,
    cookie: &str,
) -> (Response, Option<String>) {
    let mut req = browser
        .client
        .post(format!("{}/auth/{provider}/start", browser.base))
        .form(&[("purpose", "sign_in")]);
    if !cookie.is_empty() {
        req = req.header(reqwest::header::COOKIE, cookie);
    }
    let res = req.send().await.expect("POST start");
    let set = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.contains("gatehouse_oauth="))
        .map(str::to_owned);
    (res, set)
}

/// The value of a `Set-Cookie` header.
fn cookie_value_of(set_cookie: &str) -> &str {
    let pair = set_cookie.split(';').next().unwrap_or_default();
    pair.split_once('=').map_or("", |(_, v)| v)
}

#[tokio::test]
async fn a_start_mints_its_own_binding_so_a_planted_cookie_completes_nothing() {
    let world = World::start();
    let planted = "A".repeat(43);
    let cookie = format!("gatehouse_oauth={planted}");

    // Mallory starts a round trip holding a binding of her choosing.
    let mallory = world.browser();
    let (res, set) = start_with_cookie(&mallory, "idp", &cookie).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let set = set.expect("a binding cookie");
    let minted = cookie_value_of(&set);
    assert_eq!(minted.len(), 43, "{set}");
    assert_ne!(minted, planted, "the server adopted the planted binding");
    let callback = oidc_login(&mallory.client, &location(&res), "mallory").await;

    // The victim's browser holds only the planted value, and is led to Mallory's callback.
    let victim = world.browser();
    let res = arrive_with_cookie(&victim, &callback, &cookie).await;
    assert_refused(&res, "/signin", "expired", "idp");
    assert_eq!(world.count("SELECT COUNT(*) FROM users").await, 0);

    // Control: each start mints anew, and the binding it minted completes the round trip.
    let (_, again) = start_with_cookie(&mallory, "idp", &format!("gatehouse_oauth={minted}")).await;
    assert_ne!(cookie_value_of(&again.expect("a binding cookie")), minted);
    let res = round_trip(&mallory, "idp", "sign_in", "mallory").await;
    assert_signed_in(&res, "/settings");
}

#[tokio::test]
async fn behind_tls_the_binding_cookie_is_host_only() {
    let world = World::start_with_env(&[], &[("GATEHOUSE_SECURE_COOKIES", "true")]);
    let browser = world.browser();
    let (res, set) = start_with_cookie(&browser, "github", "").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let set = set.expect("a binding cookie");
    assert!(
        set.starts_with("__Host-gatehouse_oauth="),
        "not a __Host- cookie: {set}"
    );
    let attributes: Vec<&str> = set.split(';').map(str::trim).collect();
    for attribute in ["Path=/", "Secure", "HttpOnly", "SameSite=Lax"] {
        assert!(attributes.contains(&attribute), "{attribute}: {set}");
    }
    assert!(!set.contains("Domain="), "{set}");
    let binding = cookie_value_of(&set).to_owned();

    // The same value under the unprefixed name, which any sibling host could have set,
    // does not complete the round trip.
    let callback = standin_login(&browser.client, &location(&res), "una").await;
    let res = arrive_with_cookie(&browser, &callback, &format!("gatehouse_oauth={binding}")).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/signin?error=expired&provider=github");

    // Under its own name it does.
    let (res, set) = start_with_cookie(&browser, "github", "").await;
    let binding = cookie_value_of(&set.expect("a binding cookie")).to_owned();
    let callback = standin_login(&browser.client, &location(&res), "una").await;
    let res = arrive_with_cookie(
        &browser,
        &callback,
        &format!("__Host-gatehouse_oauth={binding}"),
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/settings");
    let session = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.starts_with("__Host-gatehouse_session="));
    assert!(session, "signed in");
}

#[tokio::test]
async fn starts_from_one_address_are_limited_and_so_are_the_flows_they_keep() {
    let world = World::start();
    let browser = world.browser();
    let start = || async {
        browser
            .client
            .post(format!("{}/auth/github/start", browser.base))
            .form(&[("purpose", "sign_in")])
            .send()
            .await
            .expect("POST start")
            .status()
    };
    let statuses = join_all((0..320).map(|_| start())).await;
    let begun = statuses
        .iter()
        .filter(|s| **s == StatusCode::SEE_OTHER)
        .count();
    let limited = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!((begun, limited), (300, 20), "{statuses:?}");
    assert_eq!(world.count("SELECT COUNT(*) FROM social_flows").await, 300);
    assert_eq!(start().await, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(world.count("SELECT COUNT(*) FROM social_flows").await, 300);
}

#[tokio::test]
async fn a_state_older_than_ten_minutes_is_refused() {
    let world = World::start();
    let browser = world.browser();
    let authorize = begin(&browser, "idp", "sign_in", None).await;
    let callback = oidc_login(&browser.client, &authorize, "gary").await;
    let aged = sqlx::query("UPDATE social_flows SET expires_at = 0")
        .execute(&world.db().await)
        .await
        .expect("age the flow")
        .rows_affected();
    assert_eq!(aged, 1);
    assert_refused(
        &arrive(&browser, &callback).await,
        "/signin",
        "expired",
        "idp",
    );
    assert_eq!(world.count("SELECT COUNT(*) FROM users").await, 0);

    // Control: the same browser, a round trip within its time.
    let res = round_trip(&browser, "idp", "sign_in", "gary").await;
    assert_signed_in(&res, "/settings");
}
