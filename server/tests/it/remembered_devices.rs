//! "Remember this device for 30 days", end to end: it skips the code and never the
//! password, it is good only for its own account, and any factor change or a "Forget"
//! under Sessions ends it.

use crate::common::*;
use reqwest::StatusCode;

const STEP: u64 = 30;
const DEVICE_COOKIE: &str = "gatehouse_device";

/// The value of the `name` cookie a response sets, if it sets one.
fn set_cookie(res: &reqwest::Response, name: &str) -> Option<String> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix(&format!("{name}=")))
        .map(|rest| rest.split(';').next().unwrap_or_default().to_owned())
}

/// Signs in with the password; true when the code prompt comes next.
async fn asks_for_code(browser: &Browser, email: &str) -> bool {
    let res = browser.sign_in(email, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::OK, "sign in");
    let location = header(&res, "location");
    location.starts_with("/signin/code")
}

/// Passes the prompt with `code`, asking to be remembered; returns the device cookie.
async fn verify_and_remember(browser: &Browser, code: &str) -> String {
    let res = browser
        .call("verify_sign_in_code", &[("code", code), ("remember", "on")])
        .await;
    assert_eq!(res.status(), StatusCode::OK, "verify");
    let device = set_cookie(&res, DEVICE_COOKIE).expect("a device cookie");
    let attributes = header(&res, "set-cookie");
    assert!(attributes.contains("HttpOnly"), "{attributes}");
    device
}

#[tokio::test]
async fn a_remembered_device_skips_the_code_until_a_factor_changes() {
    let server = TestServer::start().await;
    let (phone, email, key, codes) = account_with_two_factor(&server, "remember").await;

    let laptop = server.browser();
    assert!(asks_for_code(&laptop, &email).await);
    verify_and_remember(&laptop, &totp_at(&key, now() + STEP)).await;
    laptop.call("sign_out", &[]).await;

    // The next password sign-in from the laptop is full at once; the password still counts.
    let (status, _) = error_message(laptop.sign_in(&email, "not the password").await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(!asks_for_code(&laptop, &email).await);
    assert_eq!(
        laptop.call("load_profile", &[]).await.status(),
        StatusCode::OK
    );
    // What skipped the code is recorded as such, not as a code typed now.
    let proofs = server.newest_session_proofs(&email).await;
    assert!(
        proofs.password_at.is_some() && proofs.device_at.is_some(),
        "{proofs:?}"
    );
    assert_eq!((proofs.totp_at, proofs.recovery_code_at), (None, None));
    let kinds = phone.activity_kinds().await;
    assert!(
        kinds.contains(&"Device remembered for 30 days".to_owned()),
        "{kinds:?}"
    );
    // A browser that was never remembered is still asked.
    assert!(asks_for_code(&server.browser(), &email).await);

    // New recovery codes are a factor change: every remembered device is forgotten.
    let res = phone
        .call(
            "regenerate_recovery_codes",
            &[("code", &codes[0]), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(asks_for_code(&laptop, &email).await);
    let devices = phone.json("list_remembered_devices", &[]).await;
    assert_eq!(devices.as_array().map(Vec::len), Some(0), "{devices}");
}

/// A browser whose jar already holds `name=value`, as if the cookie had been copied in.
fn browser_with_cookie(server: &TestServer, name: &str, value: &str) -> Browser {
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let url: reqwest::Url = server.url.parse().unwrap();
    jar.add_cookie_str(&format!("{name}={value}; Path=/"), &url);
    Browser {
        client: reqwest::Client::builder()
            .cookie_provider(jar)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        base: server.url.clone(),
        verify_sign_ups_in: None,
    }
}

#[tokio::test]
async fn a_device_cookie_copied_to_another_account_does_not_skip_its_code() {
    let server = TestServer::start().await;
    let (_, mallory, mallory_key, _) = account_with_two_factor(&server, "mallory").await;
    let (_, victim, _, _) = account_with_two_factor(&server, "victim").await;
    let attacker = server.browser();
    assert!(asks_for_code(&attacker, &mallory).await);
    let device = verify_and_remember(&attacker, &totp_at(&mallory_key, now() + STEP)).await;
    // Only a keyed hash is stored: the database holds no usable copy of the cookie.
    let dump = server.database_dump();
    assert!(
        !dump.windows(device.len()).any(|w| w == device.as_bytes()),
        "the device token is stored in the clear"
    );

    // The victim's password (phished, say) with Mallory's remembered device: still the code.
    let copied = browser_with_cookie(&server, DEVICE_COOKIE, &device);
    assert!(asks_for_code(&copied, &victim).await);
    // And for Mallory's own account the same cookie works from any browser: it is the
    // token, not the browser, that is remembered.
    let copied = browser_with_cookie(&server, DEVICE_COOKIE, &device);
    assert!(!asks_for_code(&copied, &mallory).await);
    // A made-up token of the right shape is nobody's.
    let forged = browser_with_cookie(&server, DEVICE_COOKIE, &"A".repeat(43));
    assert!(asks_for_code(&forged, &mallory).await);
}

#[tokio::test]
async fn a_device_forgotten_under_sessions_is_asked_for_the_code_again() {
    let server = TestServer::start().await;
    let (phone, email, key, _) = account_with_two_factor(&server, "forget").await;
    let laptop = server.browser();
    assert!(asks_for_code(&laptop, &email).await);
    verify_and_remember(&laptop, &totp_at(&key, now() + STEP)).await;

    let devices = phone.json("list_remembered_devices", &[]).await;
    let devices = devices.as_array().expect("a list");
    assert_eq!(devices.len(), 1);
    let id = devices[0]["id"].as_i64().unwrap().to_string();

    // Another account cannot forget it by its id.
    let (stranger, _, _, _) = account_with_two_factor(&server, "stranger").await;
    let (status, _) = error_message(stranger.call("forget_device", &[("id", &id)]).await).await;
    assert_eq!(status, StatusCode::CONFLICT);
    laptop.call("sign_out", &[]).await;
    assert!(!asks_for_code(&laptop, &email).await);

    let res = phone.call("forget_device", &[("id", &id)]).await;
    assert!(res.status().is_success(), "{}", res.status());
    laptop.call("sign_out", &[]).await;
    assert!(asks_for_code(&laptop, &email).await);
    let kinds = phone.activity_kinds().await;
    assert!(
        kinds.contains(&"Remembered device forgotten".to_owned()),
        "{kinds:?}"
    );
}

#[tokio::test]
async fn a_password_change_forgets_every_remembered_device() {
    let server = TestServer::start().await;
    let (phone, email, key, codes) = account_with_two_factor(&server, "pwchange").await;
    let laptop = server.browser();
    assert!(asks_for_code(&laptop, &email).await);
    verify_and_remember(&laptop, &totp_at(&key, now() + STEP)).await;

    let new_password = "a different long passphrase 42";
    let res = phone
        .call(
            "change_password",
            &[
                ("current_password", PASSWORD),
                ("password", new_password),
                ("code", &codes[0]),
            ],
        )
        .await;
    assert!(res.status().is_success(), "{}", res.status());
    let res = laptop.sign_in(&email, new_password).await;
    assert!(header(&res, "location").starts_with("/signin/code"));
}
