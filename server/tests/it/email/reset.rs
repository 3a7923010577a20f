//! Forgot password: the reset link and what it ends and keeps, the same answer for an
//! unknown address, the limits, one use under concurrency, and a reset that claims an
//! account whose address was never proved.

use super::*;

async fn user_id(db: &sqlx::AnyPool, email: &str) -> i64 {
    sqlx::query_scalar("SELECT id FROM users WHERE email = $1")
        .bind(email)
        .fetch_one(db)
        .await
        .expect("user id")
}

/// What a reset request answers, as bytes: status, body and the Location it redirects to.
async fn reset_answer(browser: &Browser, ip: &str, email: &str) -> (StatusCode, String, String) {
    let res = browser
        .client
        .post(format!("{}/api/request_password_reset", browser.base))
        .header("x-forwarded-for", ip)
        .form(&[("email", email)])
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

// 2 ------------------------------------------------------------------------------------

#[tokio::test]
async fn forgot_password_resets_ends_every_session_and_keeps_two_factor() {
    let world = World::start();
    let (old_browser, email) = world.verified_account("reset").await;
    let (key, _) = old_browser.enable_two_factor().await;
    assert_eq!(
        old_browser.get("/settings").await.status(),
        StatusCode::OK,
        "control: signed in before the reset"
    );

    let anonymous = world.server.browser();
    assert_eq!(
        request_reset(&anonymous, "203.0.113.1", &email).await,
        StatusCode::OK
    );
    let mail = world.mail.wait_for(&email, RESET, MAIL_WAIT).await;
    assert!(mail.text.contains("30 minutes"), "{}", mail.text);
    assert!(mail.text.contains("ignore this message"), "{}", mail.text);
    let link = link_in(&mail);
    assert!(
        link.starts_with(&format!("{}/reset-password?token=", world.server.url)),
        "{link}"
    );
    let token = token_in(&mail);

    // Valid 30 minutes, by the clock of the database row.
    let db = world.server.db().await;
    let id = user_id(&db, &email).await;
    let expires: i64 = sqlx::query_scalar(
        "SELECT MAX(expires_at) FROM email_tokens WHERE user_id = $1 AND purpose = 'reset'",
    )
    .bind(id)
    .fetch_one(&db)
    .await
    .unwrap();
    let ttl = expires - now() as i64;
    assert!((1790..=1800).contains(&ttl), "reset link lives {ttl} s");

    let works = anonymous
        .json("reset_link_works", &[("token", &token)])
        .await;
    assert_eq!(works, serde_json::json!(true));

    // Same policy as sign-up: a weak password is refused and the link not spent.
    let weak = anonymous
        .call(
            "reset_password",
            &[("token", &token), ("password", "short")],
        )
        .await;
    assert_eq!(weak.status(), StatusCode::BAD_REQUEST);

    let new_password = "Brand-new-password-for-reset-77";
    let res = anonymous
        .call(
            "reset_password",
            &[("token", &token), ("password", new_password)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        anonymous
            .json("reset_link_works", &[("token", &token)])
            .await,
        serde_json::json!(false),
        "spent"
    );
    assert_eq!(
        old_browser.get("/settings").await.status(),
        StatusCode::SEE_OTHER,
        "the old session is gone"
    );
    let notice = world
        .mail
        .wait_for(&email, "Your password was reset", MAIL_WAIT)
        .await;
    assert!(
        notice
            .text
            .contains("Two-factor authentication is unchanged"),
        "{}",
        notice.text
    );

    let fresh = world.server.browser();
    assert_eq!(
        fresh.sign_in(&email, PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED,
        "the old password"
    );
    let res = fresh.sign_in(&email, new_password).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        fresh.get("/settings").await.status(),
        StatusCode::SEE_OTHER,
        "the password alone does not sign in: the code is still asked"
    );
    assert_eq!(
        fresh.verify_code(&totp_at(&key, now() + 30)).await.status(),
        StatusCode::OK
    );
    assert_eq!(fresh.get("/settings").await.status(), StatusCode::OK);
    assert_eq!(profile(&fresh).await["two_factor_on"], true);

    // An unverified account is sent a claim instead, and is answered byte for byte the same.
    let unverified = unique_email("unverified");
    world.server.browser().sign_up(&unverified).await;
    world.mail.wait_for(&unverified, VERIFY, MAIL_WAIT).await;
    let to_verified = reset_answer(&anonymous, "203.0.113.2", &email).await;
    let to_unverified = reset_answer(&anonymous, "203.0.113.3", &unverified).await;
    let to_nobody = reset_answer(&anonymous, "203.0.113.4", &unique_email("ghost")).await;
    assert_eq!(to_verified.0, StatusCode::OK);
    assert_eq!(to_verified, to_unverified);
    assert_eq!(to_verified, to_nobody);
    // Control: the verified account's second request did arrive.
    let deadline = Instant::now() + MAIL_WAIT;
    while world
        .mail
        .subjects_to(&email)
        .await
        .iter()
        .filter(|s| *s == RESET)
        .count()
        < 2
    {
        assert!(Instant::now() < deadline, "second reset mail");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let claim = world.mail.wait_for(&unverified, RESET, MAIL_WAIT).await;
    assert!(
        claim.text.contains("never confirmed"),
        "an unproved address is told the link claims the account: {}",
        claim.text
    );
}

// 3 ------------------------------------------------------------------------------------

#[tokio::test]
async fn an_unknown_email_gets_the_same_answer_in_the_same_time() {
    const PAIRS: usize = 20;
    const WARM_UP: usize = 2;
    let world = World::start();
    let mut accounts = Vec::new();
    for n in 0..WARM_UP + PAIRS {
        accounts.push(world.verified_account(&format!("timed{n}")).await.1);
    }
    let browser = world.server.browser();
    let timed = |ip: String, email: String| {
        let browser = &browser;
        async move {
            let start = Instant::now();
            let answer = reset_answer(browser, &ip, &email).await;
            (start.elapsed(), answer)
        }
    };
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    let mut ghosts = Vec::new();
    for (n, email) in accounts.iter().enumerate() {
        // Its own client address per request: the per-address limit is not what's timed.
        let ghost = unique_email(&format!("nobody{n}"));
        let ip = |k: usize| format!("203.0.113.{}", 2 * n + k + 1);
        let ((t_known, a_known), (t_unknown, a_unknown)) = if n % 2 == 0 {
            let k = timed(ip(0), email.clone()).await;
            (k, timed(ip(1), ghost.clone()).await)
        } else {
            let u = timed(ip(1), ghost.clone()).await;
            (timed(ip(0), email.clone()).await, u)
        };
        assert_eq!(a_known.0, StatusCode::OK);
        assert_eq!(a_known, a_unknown, "the same answer");
        if n >= WARM_UP {
            known.push(t_known);
            unknown.push(t_unknown);
        }
        ghosts.push(ghost);
    }
    let median = |mut v: Vec<Duration>| {
        v.sort();
        (v[v.len() / 2 - 1] + v[v.len() / 2]) / 2
    };
    let (known, unknown) = (median(known), median(unknown));
    let ratio = known.max(unknown).as_secs_f64() / known.min(unknown).as_secs_f64();
    println!("{PAIRS} pairs, medians: known {known:?}, unknown {unknown:?}, ratio {ratio:.3}");
    assert!(
        known >= Duration::from_millis(400) && unknown >= Duration::from_millis(400),
        "both padded to 400 ms: {known:?} {unknown:?}"
    );
    assert!(ratio <= 1.10, "known {known:?} vs unknown {unknown:?}");

    // Control: the known accounts really were sent a link; the ghosts nothing.
    for email in &accounts {
        world.mail.wait_for(email, RESET, MAIL_WAIT).await;
    }
    for ghost in &ghosts {
        assert!(world.mail.messages_to(ghost).await.is_empty());
    }
}

// 4 ------------------------------------------------------------------------------------

#[tokio::test]
async fn reset_requests_are_limited_per_address_and_per_client() {
    let world = World::start();
    let (_, email) = world.verified_account("limits").await;
    let browser = world.server.browser();

    // Per email address, from ever-new client addresses: five, then 429, known or not.
    for target in [email.clone(), unique_email("ghostlimit")] {
        let mut statuses = Vec::new();
        for n in 0..8 {
            let ip = format!(
                "198.51.100.{}",
                n + 1 + if target == email { 0 } else { 50 }
            );
            statuses.push(request_reset(&browser, &ip, &target).await);
        }
        assert_eq!(
            statuses,
            [
                [StatusCode::OK; 5].as_slice(),
                &[StatusCode::TOO_MANY_REQUESTS; 3]
            ]
            .concat(),
            "{target}"
        );
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let resets = world
        .mail
        .subjects_to(&email)
        .await
        .into_iter()
        .filter(|s| s == RESET)
        .count();
    assert_eq!(resets, 5, "one message per allowed request");

    // Per client address, over different email addresses: twenty, then 429.
    let mut statuses = Vec::new();
    for _ in 0..23 {
        statuses.push(request_reset(&browser, "203.0.113.99", &unique_email("spray")).await);
    }
    let allowed = statuses
        .iter()
        .take_while(|s| **s == StatusCode::OK)
        .count();
    assert_eq!(allowed, 20, "{statuses:?}");
    assert!(statuses[allowed..]
        .iter()
        .all(|s| *s == StatusCode::TOO_MANY_REQUESTS));
    // Control: another client address is not held back by that one.
    assert_eq!(
        request_reset(&browser, "203.0.113.100", &unique_email("spray")).await,
        StatusCode::OK
    );

    // Verification resends share the client's count: an address that sprayed is refused.
    let unverified = world.server.browser();
    let address = unique_email("sprayer");
    unverified.sign_up(&address).await;
    assert_eq!(
        call_from(&unverified, "203.0.113.99", "resend_verification", &[]).await,
        StatusCode::TOO_MANY_REQUESTS
    );
    assert_eq!(
        call_from(&unverified, "203.0.113.101", "resend_verification", &[]).await,
        StatusCode::OK
    );
}

// 5 ------------------------------------------------------------------------------------

#[tokio::test]
async fn a_reset_link_works_once_under_twenty_concurrent_uses() {
    let world = World::start();
    let (_, email) = world.verified_account("race").await;
    let browser = world.server.browser();
    assert_eq!(
        request_reset(&browser, "203.0.113.1", &email).await,
        StatusCode::OK
    );
    let token = token_in(&world.mail.wait_for(&email, RESET, MAIL_WAIT).await);

    let passwords: Vec<String> = (0..20)
        .map(|n| format!("Concurrent-reset-password-{n:02}"))
        .collect();
    let browsers: Vec<Browser> = (0..20).map(|_| world.server.browser()).collect();
    let statuses: Vec<StatusCode> = join_all(browsers.iter().zip(&passwords).map(|(b, p)| async {
        b.call("reset_password", &[("token", &token), ("password", p)])
            .await
            .status()
    }))
    .await;
    let winners: Vec<usize> = (0..20).filter(|i| statuses[*i] == StatusCode::OK).collect();
    assert_eq!(winners.len(), 1, "{statuses:?}");
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::OK || *s == REFUSED),
        "{statuses:?}"
    );
    // One password notice, not twenty.
    world
        .mail
        .wait_for(&email, "Your password was reset", MAIL_WAIT)
        .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let notices = world
        .mail
        .subjects_to(&email)
        .await
        .into_iter()
        .filter(|s| s.contains("password was reset"))
        .count();
    assert_eq!(notices, 1);

    // The winner's password works; the old one and (below the account's lock) the
    // losers' do not.
    let check = world.server.browser();
    assert_eq!(
        check.sign_in(&email, &passwords[winners[0]]).await.status(),
        StatusCode::OK
    );
    let mut wrong = vec![PASSWORD.to_owned()];
    wrong.extend(
        (0..20)
            .filter(|i| *i != winners[0])
            .take(6)
            .map(|i| passwords[i].clone()),
    );
    for password in &wrong {
        assert_eq!(
            world
                .server
                .browser()
                .sign_in(&email, password)
                .await
                .status(),
            StatusCode::UNAUTHORIZED,
            "{password}"
        );
    }
}

// Ways in (issue 33) -------------------------------------------------------------------

#[tokio::test]
async fn forgot_password_to_an_unproved_address_claims_the_account_from_whoever_made_it() {
    let world = World::start();
    let address = unique_email("claimed");
    // Someone else made an account with the address first, and gave it a way in of its
    // own (as an earlier Gatehouse let an account with an unproved address do).
    let squatter = world.server.browser();
    assert_eq!(squatter.sign_up(&address).await.status(), StatusCode::OK);
    let db = world.server.db().await;
    let id = user_id(&db, &address).await;
    sqlx::query(
        "INSERT INTO linked_identities (user_id, provider_id, provider_key, subject, linked_at) \
         VALUES ($1, 'github', 'github', 'squatter', 0)",
    )
    .bind(id)
    .execute(&db)
    .await
    .unwrap();

    // The address's owner asks for a reset: the link comes, and says it claims.
    let owner = world.server.browser();
    assert_eq!(
        request_reset(&owner, "203.0.113.20", &address).await,
        StatusCode::OK
    );
    let mail = world.mail.wait_for(&address, RESET, MAIL_WAIT).await;
    assert!(mail.text.contains("never confirmed"), "{}", mail.text);
    let mine = "Owners-Horse-battery-77";
    let res = owner
        .call(
            "reset_password",
            &[("token", &token_in(&mail)), ("password", mine)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);

    assert_eq!(
        squatter.call("load_profile", &[]).await.status(),
        StatusCode::UNAUTHORIZED,
        "whoever made the account is signed out"
    );
    assert_eq!(
        squatter.sign_in(&address, PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let links: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM linked_identities WHERE user_id = $1")
            .bind(id)
            .fetch_one(&db)
            .await
            .unwrap();
    assert_eq!(links, 0, "the way in someone else added is gone");
    assert_eq!(owner.sign_in(&address, mine).await.status(), StatusCode::OK);
    assert_eq!(profile(&owner).await["verified"], true);
    let notice = world
        .mail
        .wait_for(
            &address,
            "Security notice: You claimed your account",
            MAIL_WAIT,
        )
        .await;
    assert!(
        notice.text.contains("the connected github account"),
        "{}",
        notice.text
    );
}
