//! What the server acknowledged survives `kill -9`: every account a sign-up answered 200
//! for, and every enable of two-factor authentication answered 200, holds after a restart
//! on the same data. Runs on SQLite, and on PostgreSQL under GATEHOUSE_TEST_POSTGRES.
//!
//! A killed process leaves the operating system's page cache intact, so this proves the
//! server answers only after its commit, not that the commit reached the disk: losing
//! power is out of its reach (that is `synchronous = FULL`'s job).

use std::{
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::Duration,
};

use crate::common::*;
use reqwest::{Client, StatusCode};

const CLIENTS: usize = 8;
const LOAD: Duration = Duration::from_secs(3);

/// One account as a client saw it.
#[derive(Default)]
struct Account {
    email: String,
    /// The sign-up was answered 200.
    signed_up: bool,
    enable: Enable,
}

/// What became of the request to turn 2FA on.
#[derive(Default)]
enum Enable {
    #[default]
    NotSent,
    /// Sent, and the server died before answering: committed or not, both are right.
    Unanswered,
    /// Answered with this refusal: it must not have happened.
    Refused(StatusCode),
    /// Answered 200: the key and the recovery codes must work from now on.
    Acknowledged { key: String, codes: Vec<String> },
}

/// A browser profile on `url` whose requests may fail (the server dies under them).
fn browser(url: &str) -> Browser {
    Browser {
        client: Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
        base: url.to_owned(),
        verify_sign_ups_in: None,
    }
}

/// Whether the kill has been sent, and how many requests sent before it failed.
#[derive(Default)]
struct Kill {
    sent: AtomicBool,
    cut_off: AtomicUsize,
}

impl Kill {
    /// Calls a server function; `None` if the server died before answering in full.
    async fn post(
        &self,
        browser: &Browser,
        function: &str,
        form: &[(&str, &str)],
    ) -> Option<(StatusCode, Vec<u8>)> {
        let before_kill = !self.sent.load(Ordering::SeqCst);
        let answer = async {
            let res = browser
                .client
                .post(format!("{}/api/{function}", browser.base))
                .form(form)
                .send()
                .await?;
            let status = res.status();
            Ok::<_, reqwest::Error>((status, res.bytes().await?.to_vec()))
        }
        .await;
        if answer.is_err() && before_kill {
            self.cut_off.fetch_add(1, Ordering::SeqCst);
        }
        answer.ok()
    }
}

/// Signs up and enables 2FA, recording each step the server acknowledged. Returns at
/// the first request that fails or is refused.
async fn sign_up_and_enable(url: &str, database_url: &str, account: &Mutex<Account>, kill: &Kill) {
    let browser = browser(url);
    let email = account.lock().unwrap().email.clone();
    let form = [("email", email.as_str()), ("password", PASSWORD)];
    match kill.post(&browser, "sign_up", &form).await {
        Some((StatusCode::OK, _)) => account.lock().unwrap().signed_up = true,
        _ => return,
    }
    // A second factor needs a proved address; this server's mail goes to its log.
    mark_verified(database_url, &email).await;
    let enrollment: Enrollment = match kill.post(&browser, "start_enrollment", &[]).await {
        Some((StatusCode::OK, body)) => serde_json::from_slice(&body).expect("enrollment JSON"),
        _ => return,
    };
    let code = totp_at(&enrollment.key, now());
    let form = [("code", code.as_str()), ("password", PASSWORD)];
    account.lock().unwrap().enable = match kill.post(&browser, "enable_two_factor", &form).await {
        None => Enable::Unanswered,
        Some((StatusCode::OK, body)) => Enable::Acknowledged {
            key: enrollment.key,
            codes: serde_json::from_slice::<CodeSet>(&body)
                .expect("codes JSON")
                .codes,
        },
        Some((status, _)) => Enable::Refused(status),
    };
}

#[tokio::test]
async fn acknowledged_sign_ups_and_enables_survive_kill_9() {
    let server = TestServer::start().await;
    let url = server.url.clone();
    let database_url = server.data.database_url.clone();
    let stop = Arc::new(AtomicBool::new(false));
    let kill = Arc::new(Kill::default());
    let accounts: Arc<Mutex<Vec<Arc<Mutex<Account>>>>> = Arc::default();

    let clients: Vec<_> = (0..CLIENTS)
        .map(|n| {
            let (url, database_url, stop, kill, accounts) = (
                url.clone(),
                database_url.clone(),
                stop.clone(),
                kill.clone(),
                accounts.clone(),
            );
            tokio::spawn(async move {
                while !stop.load(Ordering::SeqCst) {
                    let account = Arc::new(Mutex::new(Account {
                        email: unique_email(&format!("durable{n}")),
                        ..Account::default()
                    }));
                    accounts.lock().unwrap().push(account.clone());
                    sign_up_and_enable(&url, &database_url, &account, &kill).await;
                }
            })
        })
        .collect();

    tokio::time::sleep(LOAD).await;
    // SIGKILL while the clients are still sending: no shutdown, no flush.
    kill.sent.store(true, Ordering::SeqCst);
    let data = server.stop();
    stop.store(true, Ordering::SeqCst);
    for client in clients {
        client.await.expect("client task");
    }
    let cut_off = kill.cut_off.load(Ordering::SeqCst);
    assert!(cut_off > 0, "the kill landed while requests were in flight");

    let server = TestServer::start_in(data);
    let accounts: Vec<Account> = std::mem::take(&mut *accounts.lock().unwrap())
        .into_iter()
        .map(|a| Arc::try_unwrap(a).ok().unwrap().into_inner().unwrap())
        .collect();
    let signed_up = accounts.iter().filter(|a| a.signed_up).count();
    let count = |what: fn(&Enable) -> bool| accounts.iter().filter(|a| what(&a.enable)).count();
    let enabled = count(|e| matches!(e, Enable::Acknowledged { .. }));
    let refused = count(|e| matches!(e, Enable::Refused(_)));
    let unanswered = count(|e| matches!(e, Enable::Unanswered));
    assert!(
        signed_up >= CLIENTS && enabled >= CLIENTS,
        "the load acknowledged too little to prove anything: {signed_up} sign-ups, {enabled} enables"
    );

    let (mut by_app_code, mut by_recovery_code) = (0, 0);
    for (n, account) in accounts.iter().filter(|a| a.signed_up).enumerate() {
        let browser = server.browser();
        let res = browser.sign_in(&account.email, PASSWORD).await;
        assert_eq!(res.status(), StatusCode::OK, "{} was lost", account.email);
        let asks_for_code = header(&res, "location").starts_with("/signin/code");
        match &account.enable {
            Enable::NotSent => {
                assert!(
                    !asks_for_code,
                    "{}: 2FA on without an enable",
                    account.email
                )
            }
            Enable::Refused(status) => assert!(
                !asks_for_code,
                "{}: 2FA on after an enable refused with {status}",
                account.email
            ),
            Enable::Unanswered => {}
            Enable::Acknowledged { key, codes } => {
                assert!(asks_for_code, "{}: the enable was lost", account.email);
                let code = if n % 2 == 1 {
                    by_recovery_code += 1;
                    codes[n % codes.len()].clone()
                } else {
                    by_app_code += 1;
                    // The enable spent the step of its moment; a later one is fresh.
                    totp_at(key, now() + 30)
                };
                let res = browser.verify_code(&code).await;
                assert_eq!(
                    res.status(),
                    StatusCode::OK,
                    "{}: the second factor saved with the enable does not work",
                    account.email
                );
            }
        }
    }
    println!(
        "{} backend: {} accounts attempted, {signed_up} sign-ups and {enabled} enables \
         acknowledged ({refused} enables refused, {unanswered} unanswered), {cut_off} \
         requests cut off by the kill; all {signed_up} accounts sign in after the restart, \
         and all {enabled} enables hold ({by_app_code} checked with an app code, \
         {by_recovery_code} with a recovery code)",
        if server.is_postgres() {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        accounts.len(),
    );
}
