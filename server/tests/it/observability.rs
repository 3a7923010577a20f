//! What operators see: Prometheus metrics on their own address, and logs as JSON lines.

use crate::common::*;
use reqwest::StatusCode;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port()
}

/// The value of the one series named `name` whose labels include every `labels` pair.
fn series(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines()
        .filter(|line| {
            line.strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('{') || rest.starts_with(' '))
        })
        .find(|line| {
            labels
                .iter()
                .all(|(k, v)| line.contains(&format!("{k}=\"{v}\"")))
        })
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
}

/// A server with metrics on a port of their own; returns it and that port.
fn server_with_metrics() -> (TestServer, u16) {
    let port = free_port();
    let server = TestServer::start_with(
        DataDir::new(),
        &[("GATEHOUSE_METRICS_ADDR", &format!("127.0.0.1:{port}"))],
    );
    (server, port)
}

async fn scrape(port: u16) -> String {
    let res = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await
        .expect("GET /metrics");
    assert_eq!(res.status(), StatusCode::OK);
    res.text().await.expect("metrics text")
}

#[tokio::test]
async fn metrics_count_a_two_factor_sign_in_and_its_requests() {
    let (server, port) = server_with_metrics();
    let (_, email, key, _) = account_with_two_factor(&server, "metrics").await;

    let browser = server.browser();
    assert_eq!(
        browser
            .sign_in(&email, "not-the-password-at-all")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        browser.sign_in(&email, PASSWORD).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        browser.verify_code(&wrong_code(&key)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let code = totp_at(&key, now() + 30);
    assert_eq!(browser.verify_code(&code).await.status(), StatusCode::OK);
    assert_eq!(browser.get("/settings").await.status(), StatusCode::OK);

    let text = scrape(port).await;
    let sign_ins = |step, outcome| {
        series(
            &text,
            "gatehouse_sign_ins_total",
            &[("step", step), ("outcome", outcome)],
        )
    };
    assert_eq!(
        sign_ins("password", "invalid_credentials"),
        Some(1.0),
        "{text}"
    );
    assert_eq!(sign_ins("password", "second_factor_required"), Some(1.0));
    assert_eq!(sign_ins("second_factor", "invalid_code"), Some(1.0));
    assert_eq!(sign_ins("second_factor", "signed_in"), Some(1.0));
    assert_eq!(
        series(&text, "gatehouse_second_factor_failures_total", &[]),
        Some(1.0)
    );
    assert_eq!(
        series(
            &text,
            "gatehouse_two_factor_changes_total",
            &[("change", "enabled")]
        ),
        Some(1.0)
    );
    assert_eq!(
        series(&text, "gatehouse_argon2_queue_depth", &[]),
        Some(0.0)
    );
    assert_eq!(
        series(
            &text,
            "gatehouse_http_requests_total",
            &[("route", "/api/sign_in"), ("status", "401")]
        ),
        Some(1.0)
    );
    assert_eq!(
        series(
            &text,
            "gatehouse_http_requests_total",
            &[("route", "/settings"), ("method", "GET"), ("status", "200")]
        ),
        Some(1.0)
    );
    assert_eq!(
        series(
            &text,
            "gatehouse_http_request_duration_seconds_count",
            &[("route", "/api/verify_sign_in_code")]
        ),
        Some(2.0)
    );
}

#[tokio::test]
async fn lockouts_are_counted_by_scope() {
    let (server, port) = server_with_metrics();
    let (_, email, key, _) = account_with_two_factor(&server, "lockout-metric").await;
    let browser = server.browser();
    let mut locked = false;
    for _ in 0..20 {
        if browser.sign_in(&email, PASSWORD).await.status() != StatusCode::OK {
            break;
        }
        let status = browser.verify_code(&wrong_code(&key)).await.status();
        if status == StatusCode::TOO_MANY_REQUESTS {
            locked = true;
            break;
        }
    }
    assert!(locked, "wrong codes never locked the account");
    let text = scrape(port).await;
    assert_eq!(
        series(
            &text,
            "gatehouse_lockouts_total",
            &[("scope", "second_factor")]
        ),
        Some(1.0),
        "{text}"
    );
}

#[tokio::test]
async fn concurrent_code_checks_share_commits_on_sqlite() {
    const ATTEMPTS: usize = 24;
    let (server, port) = server_with_metrics();
    let (_, email, key, _) = account_with_two_factor(&server, "group-commit").await;
    let browsers = pending_browsers(&[&server], &email, ATTEMPTS).await;
    // Signing in commits through the writer too: count only what the attempts add.
    let pieces_and_commits = |text: &str| {
        (
            series(text, "gatehouse_group_commit_pieces_sum", &[]),
            series(text, "gatehouse_group_commit_pieces_count", &[]),
        )
    };
    let before = pieces_and_commits(&scrape(port).await);
    let statuses = send_code_at_once(&browsers, &totp_at(&key, now() + 30)).await;
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        1,
        "{statuses:?}"
    );
    let text = scrape(port).await;
    let after = pieces_and_commits(&text);
    if server.is_postgres() {
        assert_eq!(
            after,
            (None, None),
            "PostgreSQL commits each attempt alone: {text}"
        );
        return;
    }
    let added = |after: Option<f64>, before: Option<f64>| {
        after.expect("counted") - before.expect("the sign-ins committed through the writer")
    };
    assert_eq!(
        added(after.0, before.0),
        ATTEMPTS as f64,
        "each attempt committed once: {text}"
    );
    let commits = added(after.1, before.1);
    assert!(
        commits < ATTEMPTS as f64,
        "{ATTEMPTS} attempts at once took {commits} commits"
    );
}

#[tokio::test]
async fn metrics_are_off_by_default_and_never_on_the_public_port() {
    let server = TestServer::start().await;
    let res = server.browser().get("/metrics").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn json_logs_carry_the_request_span() {
    let server = TestServer::start_with(DataDir::new(), &[("GATEHOUSE_LOG_FORMAT", "json")]);
    let res = server.browser().get("/signin").await;
    assert_eq!(res.status(), StatusCode::OK);
    let request_id = res.headers()["x-request-id"].to_str().unwrap().to_owned();

    let log = server.server_log();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}")))
        .collect();
    let started = lines
        .iter()
        .find(|l| l["fields"]["message"] == "Gatehouse started")
        .expect("a start-up line");
    for field in ["version", "addr", "backend", "issuer"] {
        assert!(started["fields"][field].is_string(), "{field} in {started}");
    }
    let answered = lines
        .iter()
        .find(|l| {
            l["fields"]["message"] == "answered" && l["span"]["request_id"] == request_id.as_str()
        })
        .unwrap_or_else(|| panic!("no 'answered' line for {request_id}:\n{log}"));
    assert_eq!(answered["fields"]["status"], 200);
    assert!(answered["fields"]["latency_ms"].is_number());
    assert_eq!(answered["span"]["method"], "GET");
    assert_eq!(answered["span"]["route"], "/signin");
}
