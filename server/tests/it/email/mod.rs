//! Email (issue 13) end to end: the real server binary sends over SMTP to a real mail
//! server (maildev, `common::mail`), and the tests follow the links in what arrives.
//! Runs on SQLite, and on PostgreSQL when `GATEHOUSE_TEST_POSTGRES` is set.

mod change;
mod notices;
mod outbox;
mod reset;
mod tokens;
mod verification;

use std::time::{Duration, Instant};

use crate::common::{mail::*, *};
use futures::future::join_all;
use reqwest::StatusCode;

const MAIL_WAIT: Duration = Duration::from_secs(15);
const VERIFY: &str = "Confirm your email address";
const RESET: &str = "Reset your Gatehouse password";
const NEW_ADDRESS: &str = "Confirm your new email address";
/// A used, expired or foreign link: `AuthError::LinkExpired`.
const REFUSED: StatusCode = StatusCode::CONFLICT;

/// A Gatehouse that sends to its own maildev, and believes `X-Forwarded-For` from
/// loopback so a test can speak from many addresses.
struct World {
    server: TestServer,
    mail: MailServer,
}

impl World {
    fn start() -> World {
        let mail = MailServer::start();
        let server = TestServer::start_with(DataDir::new(), &Self::env(&mail.smtp_url()));
        World { server, mail }
    }

    fn env(smtp_url: &str) -> Vec<(&'static str, &str)> {
        vec![
            ("GATEHOUSE_SMTP_URL", smtp_url),
            ("GATEHOUSE_TRUSTED_PROXIES", "127.0.0.1"),
        ]
    }

    /// A new account whose address is proved by the link it was sent.
    async fn verified_account(&self, tag: &str) -> (Browser, String) {
        let browser = self.server.browser();
        let email = unique_email(tag);
        assert_eq!(browser.sign_up(&email).await.status(), StatusCode::OK);
        let mail = self.mail.wait_for(&email, VERIFY, MAIL_WAIT).await;
        let res = browser
            .call("verify_email", &[("token", &token_in(&mail))])
            .await;
        assert_eq!(res.status(), StatusCode::OK, "verify_email");
        assert!(profile(&browser).await["verified"].as_bool().unwrap());
        (browser, email)
    }
}

async fn profile(browser: &Browser) -> serde_json::Value {
    browser.json("load_profile", &[]).await
}

/// A server function call as the client at `ip`.
async fn call_from(
    browser: &Browser,
    ip: &str,
    function: &str,
    form: &[(&str, &str)],
) -> StatusCode {
    browser
        .client
        .post(format!("{}/api/{function}", browser.base))
        .header("x-forwarded-for", ip)
        .form(form)
        .send()
        .await
        .expect("POST")
        .status()
}

async fn request_reset(browser: &Browser, ip: &str, email: &str) -> StatusCode {
    call_from(browser, ip, "request_password_reset", &[("email", email)]).await
}
