//! Sessions, the security activity log, and the operator's reset.

use crate::common::*;
use reqwest::StatusCode;

#[tokio::test]
async fn sessions_page_lists_devices_and_marks_this_one() {
    let server = TestServer::start().await;
    let (_phone, laptop) = phone_and_laptop(&server, "list").await;

    let list = laptop.json("list_sessions", &[]).await;
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list.iter().filter(|s| s["current"] == true).count(), 1);
    assert!(list.iter().all(|s| s["ip"] == "127.0.0.1"));
    let html = laptop.get("/settings/sessions").await.text().await.unwrap();
    assert!(html.contains("This device") && html.contains("Sign out everywhere else"));
}

#[tokio::test]
async fn signing_out_another_session_ends_it_at_once() {
    let server = TestServer::start().await;
    let (phone, laptop) = phone_and_laptop(&server, "endone").await;

    let list = laptop.json("list_sessions", &[]).await;
    let other = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == false)
        .unwrap()["id"]
        .to_string();
    assert_eq!(
        laptop.call("end_session", &[("id", &other)]).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        phone.get("/settings").await.status(),
        StatusCode::SEE_OTHER,
        "the phone is signed out"
    );

    let (status, message) =
        error_message(laptop.call("end_session", &[("id", &other)]).await).await;
    assert_eq!(
        (status, message.as_str()),
        (StatusCode::CONFLICT, "That session has already ended.")
    );
}

#[tokio::test]
async fn another_account_cannot_end_my_session() {
    let server = TestServer::start().await;
    let mine = server.browser();
    mine.sign_up(&unique_email("mine")).await;
    let list = mine.json("list_sessions", &[]).await;
    let my_id = list[0]["id"].to_string();

    let theirs = server.browser();
    theirs.sign_up(&unique_email("theirs")).await;
    let (status, _) = error_message(theirs.call("end_session", &[("id", &my_id)]).await).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(mine.get("/settings").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn sign_out_everywhere_else_keeps_only_this_session() {
    let server = TestServer::start().await;
    let email = unique_email("others");
    let browsers: Vec<Browser> = (0..3).map(|_| server.browser()).collect();
    browsers[0].sign_up(&email).await;
    for b in &browsers[1..] {
        b.sign_in(&email, PASSWORD).await;
    }
    assert_eq!(browsers[2].json("end_other_sessions", &[]).await, 2);
    assert_eq!(
        browsers[0].get("/settings").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        browsers[1].get("/settings").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(browsers[2].get("/settings").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn each_action_adds_exactly_one_event_newest_first() {
    let server = TestServer::start().await;
    let email = unique_email("audit");
    let browser = server.browser();
    browser.sign_up(&email).await;
    assert_eq!(browser.activity_kinds().await, ["Account created"]);

    server
        .browser()
        .sign_in(&email, "Wrong-password-guess-1")
        .await;
    let (key, codes) = browser.enable_two_factor().await;
    let kinds = browser.activity_kinds().await;
    assert_eq!(
        kinds[..2],
        ["Two-factor authentication turned on", "Sign-in failed"]
    );

    let attempt = server.browser();
    attempt.sign_in(&email, PASSWORD).await;
    attempt.verify_code(&wrong_code(&key)).await;
    attempt.verify_code(&codes[0]).await;
    let kinds = browser.activity_kinds().await;
    assert_eq!(
        kinds[..4],
        [
            "Signed in",
            "Recovery code used",
            "Wrong two-factor code",
            "Two-factor authentication turned on"
        ]
    );
    let page = browser.json("list_activity", &[]).await;
    assert_eq!(page["events"][1]["detail"], "9 left");
}

#[tokio::test]
async fn admin_reset_turns_two_factor_off_and_ends_sessions() {
    let server = TestServer::start().await;
    let (browser, email, _, _) = account_with_two_factor(&server, "reset").await;

    let out = server.admin(&["reset-2fa", &email]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains(&format!("Two-factor authentication is now off for {email}")),
        "{said}"
    );

    assert_eq!(
        browser.get("/settings").await.status(),
        StatusCode::SEE_OTHER,
        "sessions ended"
    );
    let again = server.browser();
    let res = again.sign_in(&email, PASSWORD).await;
    assert_eq!(
        res.headers().get("location").unwrap(),
        "/settings",
        "no code asked any more"
    );
    let kinds = again.activity_kinds().await;
    assert!(kinds.contains(&"Two-factor authentication reset by an administrator".to_owned()));

    let out = server.admin(&["reset-2fa", "nobody@example.com"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("there is no account with the email nobody@example.com"));
}

#[tokio::test]
async fn pages_send_a_nonce_policy_that_matches_their_script() {
    let server = TestServer::start().await;
    let res = server.browser().get("/signin").await;
    let csp = header(&res, "content-security-policy");
    assert!(
        csp.contains("frame-ancestors 'none'") && csp.contains("'wasm-unsafe-eval'"),
        "{csp}"
    );
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .unwrap()
        .split('\'')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(res.headers().get("cache-control").unwrap(), "no-store");
    let html = res.text().await.unwrap();
    assert!(
        html.contains(&format!("nonce=\"{nonce}\"")),
        "the hydration script carries the nonce"
    );

    let second = server.browser().get("/signin").await;
    assert_ne!(
        csp,
        header(&second, "content-security-policy"),
        "a new nonce per response"
    );
}

#[tokio::test]
async fn the_client_address_comes_from_a_trusted_proxy_only() {
    let behind_proxy = TestServer::start_with(
        DataDir::new(),
        &[("GATEHOUSE_TRUSTED_PROXIES", "127.0.0.1")],
    );
    let direct = TestServer::start().await;
    for (server, expected) in [(&behind_proxy, "203.0.113.7"), (&direct, "127.0.0.1")] {
        let browser = server.browser();
        let res = browser
            .client
            .post(format!("{}/api/sign_up", server.url))
            .header("x-forwarded-for", "203.0.113.7")
            .form(&[
                ("email", unique_email("proxy").as_str()),
                ("password", PASSWORD),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let list = browser.json("list_sessions", &[]).await;
        assert_eq!(list[0]["ip"], expected);
    }
}

#[tokio::test]
async fn security_activity_is_paged_newest_first() {
    let server = TestServer::start().await;
    let email = unique_email("paged");
    let browser = server.browser();
    browser.sign_up(&email).await;
    for _ in 0..24 {
        browser.sign_in(&email, PASSWORD).await;
    }
    // 1 sign-up and 24 sign-ins: 25 events.
    let first = browser.json("list_activity", &[]).await;
    let events = first["events"].as_array().unwrap();
    assert_eq!(events.len(), 20);
    let ids: Vec<i64> = events.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first");
    let older = first["older"].as_i64().expect("a second page");
    let second = browser
        .json("list_activity", &[("before", &older.to_string())])
        .await;
    let rest = second["events"].as_array().unwrap();
    assert_eq!(rest.len(), 5);
    assert!(second["older"].is_null());
    assert_eq!(rest.last().unwrap()["what"], "Account created");
}

#[tokio::test]
async fn expired_sessions_are_refused_and_swept_at_start() {
    let server = TestServer::start().await;
    let browser = server.browser();
    browser.sign_up(&unique_email("sweep")).await;
    let db = server.db().await;
    sqlx::query("UPDATE sessions SET expires_at = 1")
        .execute(&db)
        .await
        .unwrap();
    assert_eq!(
        browser.get("/settings").await.status(),
        StatusCode::SEE_OTHER,
        "an idle session has expired"
    );

    let server = TestServer::start_in(server.stop());
    let db = server.db().await;
    let mut left = -1;
    for _ in 0..50 {
        left = sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
            .fetch_one(&db)
            .await
            .unwrap();
        if left == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(left, 0, "expired rows are deleted");
}
