//! Two-factor authentication required by policy: `--require-two-factor` for everyone and
//! `server admin require-2fa EMAIL` for one account. Until it is set up, a signed-in
//! account reaches only the enrollment; afterwards it cannot be turned off, though it can
//! move to a new phone.

use crate::common::*;
use reqwest::{Response, StatusCode};

/// Switches to the app of the pending setup, proving the current factor with `current`.
async fn switch(browser: &Browser, current: &str, new_code: &str) -> Response {
    browser
        .call(
            "switch_authenticator_app",
            &[
                ("current_code", current),
                ("code", new_code),
                ("password", PASSWORD),
            ],
        )
        .await
}

const STEP: u64 = 30;
const ENROLL_FIRST: &str = "Your account must use two-factor authentication. Set it up under Settings → Two-Factor Auth to continue.";

fn required_for_everyone() -> TestServer {
    TestServer::start_with(DataDir::new(), &[("GATEHOUSE_REQUIRE_TWO_FACTOR", "true")])
}

/// What an account that must enroll can and cannot reach.
async fn assert_only_the_enrollment_opens(browser: &Browser) {
    for page in ["/settings", "/settings/sessions", "/settings/activity", "/"] {
        let res = browser.get(page).await;
        assert_eq!(
            (res.status(), header(&res, "location")),
            (StatusCode::SEE_OTHER, "/settings/two-factor".to_owned()),
            "{page}"
        );
    }
    assert_eq!(
        browser.get("/settings/two-factor").await.status(),
        StatusCode::OK
    );
    for function in [
        "load_profile",
        "list_sessions",
        "list_activity",
        "end_other_sessions",
    ] {
        let (status, message) = error_message(browser.call(function, &[]).await).await;
        assert_eq!(
            (status, message.as_str()),
            (StatusCode::FORBIDDEN, ENROLL_FIRST),
            "{function}"
        );
    }
    let status = browser.json("load_two_factor_status", &[]).await;
    assert_eq!(status["required"], true);
}

#[tokio::test]
async fn with_the_flag_a_new_account_must_enroll_before_anything_else() {
    let server = required_for_everyone();
    let browser = server.browser();
    let email = unique_email("policy");
    assert_eq!(browser.sign_up(&email).await.status(), StatusCode::OK);
    assert_only_the_enrollment_opens(&browser).await;

    let (key, codes) = browser.enable_two_factor().await;
    assert_eq!(
        browser.call("load_profile", &[]).await.status(),
        StatusCode::OK
    );
    assert_eq!(browser.get("/settings").await.status(), StatusCode::OK);

    // It cannot be turned off, and nothing changes for trying.
    let (status, message) = error_message(
        browser
            .call(
                "disable_two_factor",
                &[("code", &codes[0]), ("password", PASSWORD)],
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(message.contains("required for this account"), "{message}");
    let status = browser.json("load_two_factor_status", &[]).await;
    assert!(status["enabled_since"].is_string());
    assert_eq!(status["codes_left"], 10);

    // Signing in again asks for the code as usual.
    let laptop = server.browser();
    let res = laptop.sign_in(&email, PASSWORD).await;
    assert!(header(&res, "location").starts_with("/signin/code"));
    assert_eq!(
        laptop
            .verify_code(&totp_at(&key, now() + STEP))
            .await
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_required_account_switches_phones_in_one_step() {
    let server = required_for_everyone();
    let browser = server.browser();
    let email = unique_email("switch");
    browser.sign_up(&email).await;
    let (old_key, old_codes) = browser.enable_two_factor().await;

    let enrollment = browser.json("start_enrollment", &[]).await;
    assert_eq!(enrollment["switching"], true);
    let new_key = enrollment["key"].as_str().unwrap().to_owned();
    // Without a current factor nothing changes.
    let new_code = totp_at(&new_key, now());
    let (status, _) = error_message(switch(&browser, &wrong_code(&old_key), &new_code).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // Two switches at once with the same setup: one wins.
    let (a, b) = tokio::join!(
        switch(&browser, &old_codes[1], &new_code),
        switch(&browser, &old_codes[2], &new_code)
    );
    let won: Vec<_> = [a, b]
        .into_iter()
        .filter(|r| r.status() == StatusCode::OK)
        .collect();
    assert_eq!(won.len(), 1);
    let set: CodeSet = won.into_iter().next().unwrap().json().await.unwrap();
    assert_eq!(set.codes.len(), 10);

    // The old app and the old recovery codes no longer work; the new ones do.
    let laptop = server.browser();
    laptop.sign_in(&email, PASSWORD).await;
    let (status, _) =
        error_message(laptop.verify_code(&totp_at(&old_key, now() + STEP)).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = error_message(laptop.verify_code(&old_codes[3]).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        laptop
            .verify_code(&totp_at(&new_key, now() + STEP))
            .await
            .status(),
        StatusCode::OK
    );
    let kinds = browser.activity_kinds().await;
    assert!(
        kinds.contains(&"Authenticator app replaced".to_owned()),
        "{kinds:?}"
    );
}

#[tokio::test]
async fn a_switch_sent_three_times_at_once_is_not_counted_as_wrong_codes() {
    // The winner pauses before its commit, holding the account's locks, so the others
    // read the setup before it is used and wait for the commit, as a slow disk would have
    // them do. (On PostgreSQL that is every time; on SQLite, whose writes all take turns,
    // only a loser that read the setup just before the winner began.)
    let server = TestServer::start_with(
        DataDir::new(),
        &[
            ("GATEHOUSE_REQUIRE_TWO_FACTOR", "true"),
            ("FAILPOINTS", "factor_change.held_before_commit=return(400)"),
        ],
    );
    let browser = server.browser();
    browser.sign_up(&unique_email("switch-race")).await;
    let (_, old_codes) = browser.enable_two_factor().await;
    let enrollment = browser.json("start_enrollment", &[]).await;
    let new_code = totp_at(enrollment["key"].as_str().unwrap(), now());

    // Three, as many as the account's five attempts leave room for: each holds two at
    // its peak (the new app's code and the current factor).
    let forms: Vec<_> = old_codes[1..4]
        .iter()
        .map(|current| {
            vec![
                ("current_code", current.as_str()),
                ("code", new_code.as_str()),
                ("password", PASSWORD),
            ]
        })
        .collect();
    // The others are told the setup is used.
    assert_eq!(
        browser
            .statuses_at_once("switch_authenticator_app", &forms)
            .await,
        [StatusCode::OK, StatusCode::CONFLICT, StatusCode::CONFLICT]
    );
    browser.assert_no_wrong_code_logged().await;
}

#[tokio::test]
async fn the_admin_command_requires_it_of_one_account() {
    let server = TestServer::start().await;
    let required = server.browser();
    let email = unique_email("one");
    required.sign_up(&email).await;
    let other = server.browser();
    other.sign_up(&unique_email("other")).await;

    let out = server.admin(&["require-2fa", &email]);
    assert!(out.status.success(), "{out:?}");
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("now required"), "{said}");
    let out = server.admin(&["require-2fa", "nobody@example.com"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no account"));

    // The signed-in session is held to it at once; other accounts are not.
    assert_only_the_enrollment_opens(&required).await;
    assert_eq!(
        other.call("load_profile", &[]).await.status(),
        StatusCode::OK
    );
    let status = other.json("load_two_factor_status", &[]).await;
    assert_eq!(status["required"], false);

    required.enable_two_factor().await;
    let kinds = required.activity_kinds().await;
    assert!(
        kinds.contains(&"Two-factor authentication required by policy".to_owned()),
        "{kinds:?}"
    );
}

/// Every page and server function the app defines, enumerated from the app itself: an
/// account that must enroll reaches the enrollment's, the public ones, and no other.
#[tokio::test]
async fn an_account_that_must_enroll_reaches_no_other_route() {
    let server = required_for_everyone();
    let browser = server.browser();
    browser.sign_up(&unique_email("routes")).await;

    let open_pages = [
        "/settings/two-factor",
        "/settings/two-factor/enable",
        "/settings/two-factor/new-codes",
        "/settings/two-factor/passkeys/add",
        "/verify-email",
        "/confirm-email",
        "/forgot-password",
        "/reset-password",
    ];
    let pages = app_pages();
    for page in pages.iter().filter(|p| !open_pages.contains(&p.as_str())) {
        let res = browser.get(page).await;
        assert_eq!(
            (res.status(), header(&res, "location")),
            (StatusCode::SEE_OTHER, "/settings/two-factor".to_owned()),
            "{page}"
        );
    }

    // The enrollment itself, and what its dialogs need; and what anyone may call.
    let enrollment = [
        "/api/load_two_factor_status",
        "/api/start_enrollment",
        "/api/pending_enrollment",
        "/api/enable_two_factor",
        "/api/load_new_recovery_codes",
        "/api/dismiss_new_recovery_codes",
        "/api/load_confirmation",
        "/api/load_passkeys",
        "/api/begin_passkey_registration",
        "/api/finish_passkey_registration",
        // A second factor needs a proved address first.
        "/api/resend_verification",
    ];
    let functions = server_functions();
    for path in functions
        .iter()
        .filter(|p| !enrollment.contains(&p.as_str()) && !OPEN_FUNCTIONS.contains(&p.as_str()))
    {
        let res = browser.call_with_every_field(path).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path}");
    }
}

/// A switch that checks its setup only after a twin used it (held back here for a moment,
/// as a slow core would) is told the setup was used, not that it expired, and nothing is
/// counted as a wrong code. Whichever of the two reaches the check first is held back,
/// long enough for the other's password check on a busy machine (see the same test in
/// `two_factor.rs`).
#[tokio::test]
async fn a_switch_whose_twin_used_the_setup_first_is_told_so() {
    let server = TestServer::start_with(
        DataDir::new(),
        &[
            ("GATEHOUSE_REQUIRE_TWO_FACTOR", "true"),
            ("FAILPOINTS", "switch.before_new_app_check=1*return(5000)"),
        ],
    );
    let browser = server.browser();
    browser.sign_up(&unique_email("switch-late")).await;
    let (_, old_codes) = browser.enable_two_factor().await;
    let enrollment = browser.json("start_enrollment", &[]).await;
    let new_code = totp_at(enrollment["key"].as_str().unwrap(), now());
    let one = switch(&browser, &old_codes[0], &new_code);
    let two = async {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        switch(&browser, &old_codes[1], &new_code).await
    };
    let (one, two) = tokio::join!(one, two);
    assert_used_by_a_twin([error_message(one).await, error_message(two).await]);
    browser.assert_no_wrong_code_logged().await;
}
