//! Every server function, fed arbitrary form bodies through the real HTTP server, with
//! and without a full session: the answer is a 4xx with a message for a person (or a 200
//! where the input happens to be harmless), never a 5xx, and nothing changes.

use crate::common::*;
use proptest::prelude::*;
use reqwest::{Client, Method, StatusCode};

/// The server's request body limit; bodies here stay within it.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// Row counts that no refused request may move. `MAX(id)` catches a session replaced by
/// another, `MAX(last_used_step)` a TOTP step spent.
const STATE: &str = "SELECT \
    (SELECT COUNT(*) FROM users), \
    (SELECT COUNT(*) FROM sessions), \
    (SELECT COUNT(*) FROM sessions WHERE stage = 'full'), \
    (SELECT COALESCE(MAX(id), 0) FROM sessions), \
    (SELECT COUNT(*) FROM totp_credentials), \
    (SELECT COALESCE(MAX(last_used_step), 0) FROM totp_credentials), \
    (SELECT COUNT(*) FROM totp_enrollments), \
    (SELECT COUNT(*) FROM recovery_codes WHERE used_at IS NULL), \
    (SELECT COUNT(*) FROM code_handoffs)";

type State = (i64, i64, i64, i64, i64, i64, i64, i64, i64);

async fn state(db: &sqlx::AnyPool) -> State {
    sqlx::query_as(STATE).fetch_one(db).await.expect("state")
}

/// One part of a form body, already encoded as it goes on the wire.
fn piece(email: String) -> impl Strategy<Value = Vec<u8>> {
    let encode = |s: String| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    prop_oneof![
        Just(Vec::new()),
        prop::sample::select(vec!["email", "password", "code", "id", "next"])
            .prop_map(|s| s.as_bytes().to_vec()),
        Just(email.into_bytes()),
        "-?[0-9]{1,20}".prop_map(String::into_bytes),
        "\\PC{0,40}".prop_map(move |s| encode(s).into_bytes()),
        // Percent-encoded bytes: mostly invalid UTF-8 once decoded.
        prop::collection::vec(any::<u8>(), 0..40).prop_map(|bytes| {
            bytes
                .iter()
                .flat_map(|b| format!("%{b:02X}").into_bytes())
                .collect()
        }),
        // Raw bytes as they come, broken escapes and separators included.
        prop::collection::vec(any::<u8>(), 0..40),
        prop::sample::select(vec![
            "%", "%G1", "%F", "%00", "%FF%FE", "+", "=", "&&", "=&="
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
        // Huge: up to the body limit.
        (
            1_000usize..MAX_BODY_BYTES,
            prop::sample::select(vec!["a", "9", "%FF", "%E2%82"])
        )
            .prop_map(|(n, unit)| unit.repeat(n / unit.len()).into_bytes()),
    ]
}

/// A value of the right shape for the field `name`, wrong in what it says, so the
/// checks after parsing run (a password is checked, a code looked up).
fn plausible(name: &str, email: String) -> BoxedStrategy<Vec<u8>> {
    let text = |s: &'static str| Just(s.as_bytes().to_vec());
    match name {
        "email" => prop_oneof![
            Just(email.into_bytes()),
            "[a-z]{1,10}@example\\.(com|org)".prop_map(String::into_bytes),
        ]
        .boxed(),
        "password" => "[a-zA-Z0-9!-]{8,24}".prop_map(String::into_bytes).boxed(),
        "code" => prop_oneof![
            "[0-9]{6}".prop_map(String::into_bytes),
            "[A-HJ-NP-Z2-9]{4}(-[A-HJ-NP-Z2-9]{4}){5}".prop_map(String::into_bytes),
        ]
        .boxed(),
        "id" => any::<i64>()
            .prop_map(|n| n.to_string().into_bytes())
            .boxed(),
        _ => prop_oneof![
            text("/settings"),
            text("//evil.example"),
            text("https%3A%2F%2Fevil.example%2F"),
        ]
        .boxed(),
    }
}

fn join(pairs: Vec<(Vec<u8>, Option<Vec<u8>>)>) -> Vec<u8> {
    let mut body = Vec::new();
    for (n, (name, value)) in pairs.into_iter().enumerate() {
        if n > 0 {
            body.push(b'&');
        }
        body.extend(name);
        if let Some(value) = value {
            body.push(b'=');
            body.extend(value);
        }
    }
    body.truncate(MAX_BODY_BYTES);
    body
}

/// A form body, cut to the limit: either every field a server function takes, each
/// present or not, with arbitrary values, and some pairs of junk after them, so the
/// checks behind the parser are reached too; or up to six pairs of junk alone.
fn body(email: String) -> impl Strategy<Value = Vec<u8>> {
    let junk = || (piece(email.clone()), prop::option::of(piece(email.clone())));
    let fields = ["email", "password", "code", "id", "next"].map(|name| {
        let value = prop_oneof![3 => plausible(name, email.clone()), 1 => piece(email.clone())];
        prop::option::weighted(0.8, value)
            .prop_map(move |value| value.map(|v| (name.as_bytes().to_vec(), Some(v))))
    });
    prop_oneof![
        3 => (fields, prop::collection::vec(junk(), 0..2)).prop_map(|(fields, junk)| {
            join(fields.into_iter().flatten().chain(junk).collect())
        }),
        1 => prop::collection::vec(junk(), 0..6).prop_map(join),
    ]
}

/// The app's server functions, from the app itself, so a new one cannot escape.
fn server_functions() -> Vec<(String, Method)> {
    // Links the app, whose server functions register themselves.
    std::hint::black_box(app::App);
    let mut functions: Vec<(String, Method)> = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, method)| (path.to_owned(), method))
        .collect();
    // Sign-up last: an account it makes would turn the same body into a valid sign-in.
    functions.sort_by_key(|(path, _)| (path == "/api/sign_up", path.clone()));
    assert!(functions.len() >= 15, "{functions:?}");
    functions
}

struct Target {
    server: TestServer,
    db: sqlx::AnyPool,
    client: Client,
    functions: Vec<(String, Method)>,
    /// The account's id: the only user, but for sign-ups on their way out.
    account: i64,
    /// The full session's cookie, for the signed-in runs.
    cookie: Option<String>,
    /// How each function answered, for the summary.
    tally: std::cell::RefCell<std::collections::BTreeMap<(String, u16), usize>>,
}

impl Target {
    /// Sends `body` to `path` as client `ip`; returns the status and the answer's body.
    async fn send(
        &self,
        path: &str,
        method: &Method,
        body: &[u8],
        ip: &str,
    ) -> (StatusCode, Vec<u8>) {
        let url = format!("{}{path}", self.server.url);
        let mut req = if method == Method::GET {
            let query = String::from_utf8_lossy(body);
            self.client.get(format!("{url}?{query}"))
        } else {
            self.client
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body.to_vec())
        };
        req = req.header("x-forwarded-for", ip);
        if let Some(cookie) = &self.cookie {
            req = req.header("cookie", format!("gatehouse_session={cookie}"));
        }
        let res = req.send().await.expect("an answer");
        let status = res.status();
        (status, res.bytes().await.expect("answer body").to_vec())
    }

    /// The server log's lines that speak of trouble, for a failure's report.
    fn trouble(&self) -> String {
        self.server
            .server_log()
            .lines()
            .filter(|l| l.contains("ERROR") || l.contains("WARN") || l.contains("panic"))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Throws `body` at every server function but `skip`, checking each answer and that
    /// the state stays as it was.
    async fn throw(&self, body: &[u8], case: u32, skip: &[&str]) -> Result<(), TestCaseError> {
        // Its own address per case, so the per-address password limit never answers.
        let ip = format!(
            "{}.{}",
            ["203.0.113", "198.51.100"][case as usize % 2],
            case / 2 % 250 + 1
        );
        let shown = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
        let mut before = state(&self.db).await;
        for (path, method) in &self.functions {
            if skip.contains(&path.as_str()) {
                continue;
            }
            let (status, answer) = self.send(path, method, body, &ip).await;
            *self
                .tally
                .borrow_mut()
                .entry((path.clone(), status.as_u16()))
                .or_default() += 1;
            let answer_text =
                String::from_utf8_lossy(&answer[..answer.len().min(300)]).into_owned();
            prop_assert!(
                status == StatusCode::OK || status.is_client_error(),
                "{path} answered {status} to {} bytes {shown:?}: {answer_text}\nserver log:\n{}",
                body.len(),
                self.trouble()
            );
            let json: Option<serde_json::Value> = serde_json::from_slice(&answer).ok();
            prop_assert!(
                json.is_some(),
                "{path} answered {status} with no JSON to {shown:?}: {answer_text}"
            );
            let after = state(&self.db).await;
            if status.is_client_error() {
                let message = json
                    .as_ref()
                    .and_then(|j| j["message"].as_str())
                    .unwrap_or_default();
                prop_assert!(
                    !message.trim().is_empty(),
                    "{path} answered {status} without a message to {shown:?}: {answer_text}"
                );
                prop_assert_eq!(
                    after,
                    before,
                    "{} refused {:?} but changed the state",
                    path,
                    shown
                );
            } else if path == "/api/sign_up" {
                // A valid new email and password make an account, as they should. It goes
                // again, so later cases (and shrinking, which replays them) start alike.
                sqlx::query("DELETE FROM users WHERE id <> $1")
                    .bind(self.account)
                    .execute(&self.db)
                    .await
                    .expect("delete the new account");
                prop_assert_eq!(state(&self.db).await, before, "the new account is gone");
                continue;
            } else {
                prop_assert_eq!(
                    after,
                    before,
                    "{} accepted {:?} and changed the state",
                    path,
                    shown
                );
            }
            before = after;
        }
        Ok(())
    }
}

/// A server with one account that has 2FA on and exactly one session, a full one.
fn target(signed_in: bool) -> (tokio::runtime::Runtime, Target, String) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let target = rt.block_on(async {
        let server = TestServer::start_with(
            DataDir::new(),
            &[("GATEHOUSE_TRUSTED_PROXIES", "127.0.0.1")],
        );
        let (first, email, key, _) = account_with_two_factor(&server, "props").await;
        let browser = server.browser();
        browser.sign_in(&email, PASSWORD).await;
        let res = browser.verify_code(&totp_at(&key, now() + 30)).await;
        assert_eq!(res.status(), StatusCode::OK);
        let cookie = session_cookie(&res).expect("a full session");
        assert_eq!(
            browser.call("end_other_sessions", &[]).await.status(),
            StatusCode::OK
        );
        drop(first);
        let db = server.db().await;
        let account: i64 = sqlx::query_scalar("SELECT id FROM users")
            .fetch_one(&db)
            .await
            .unwrap();
        let functions = server_functions();
        (
            Target {
                server,
                db,
                account,
                client: Client::builder()
                    .redirect(reqwest::redirect::Policy::none())
                    .build()
                    .unwrap(),
                functions,
                cookie: signed_in.then_some(cookie),
                tally: Default::default(),
            },
            email,
        )
    });
    (rt, target.0, target.1)
}

impl Drop for Target {
    fn drop(&mut self) {
        let tally = self.tally.borrow();
        println!(
            "{} requests; answers by function and status: {tally:?}",
            tally.values().sum::<usize>()
        );
    }
}

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 64,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

#[test]
fn every_server_function_refuses_garbage_from_a_stranger() {
    let (rt, target, email) = target(false);
    let case = std::cell::Cell::new(0);
    proptest!(config(), |(body in body(email.clone()))| {
        case.set(case.get() + 1);
        rt.block_on(target.throw(&body, case.get(), &[]))?;
    });
}

#[test]
fn every_server_function_refuses_garbage_with_a_full_session() {
    let (rt, target, email) = target(true);
    let case = std::cell::Cell::new(0);
    // Signing out ends the session by design, whatever else the body holds.
    proptest!(config(), |(body in body(email.clone()))| {
        case.set(case.get() + 1);
        rt.block_on(target.throw(&body, case.get(), &["/api/sign_out"]))?;
    });
    let who = rt.block_on(async {
        let (status, answer) = target
            .send("/api/signed_in_as", &Method::POST, b"", "192.0.2.1")
            .await;
        assert_eq!(status, StatusCode::OK);
        serde_json::from_slice::<serde_json::Value>(&answer).unwrap()
    });
    assert_eq!(who["email"], email, "the session outlived all of it");
}

/// One byte over the limit is refused before any server function runs, with the same
/// JSON sentence as every other refusal.
#[test]
fn a_body_over_the_limit_is_refused_by_every_server_function() {
    let (rt, mut target, _) = target(true);
    // A connection of its own for each: a refusal may close it with the body unread.
    target.client = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let body = vec![b'a'; MAX_BODY_BYTES + 1];
    rt.block_on(async {
        let before = state(&target.db).await;
        for (path, method) in &target.functions {
            let (status, answer) = target.send(path, method, &body, "192.0.2.2").await;
            assert_eq!(
                status,
                StatusCode::PAYLOAD_TOO_LARGE,
                "{path}: {}",
                String::from_utf8_lossy(&answer)
            );
            let answer: serde_json::Value = serde_json::from_slice(&answer).expect("JSON");
            assert_eq!(answer["message"], "The request is too large.", "{path}");
        }
        assert_eq!(state(&target.db).await, before);
    });
}
