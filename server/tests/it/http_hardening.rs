//! The HTTP layer: panics, slow clients, a busy database and SIGTERM are answered or
//! handled, never a dropped connection or a hung process; and pages travel compressed
//! to browsers that ask.

use std::time::{Duration, Instant};

use crate::common::*;
use reqwest::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const INTERNAL: &str = "Something went wrong on our side. Please try again.";

#[tokio::test]
async fn hsts_is_sent_only_with_secure_cookies() {
    let secure = TestServer::start_with(DataDir::new(), &[("GATEHOUSE_SECURE_COOKIES", "true")]);
    for path in ["/healthz", "/signin"] {
        let res = secure.browser().get(path).await;
        assert_eq!(
            header(&res, "strict-transport-security"),
            "max-age=63072000; includeSubDomains",
            "{path}"
        );
    }

    let plain = TestServer::start().await;
    let res = plain.browser().get("/signin").await;
    assert!(res.headers().get("strict-transport-security").is_none());
}

/// What Chrome sends.
const BROWSER_ENCODINGS: &str = "gzip, deflate, br, zstd";

#[tokio::test]
async fn pages_travel_as_brotli_to_browsers_that_ask() {
    let server = TestServer::start().await;
    let browser = server.browser();
    let url = format!("{}/signin", browser.base);
    let res = browser
        .client
        .get(&url)
        .header("accept-encoding", BROWSER_ENCODINGS)
        .send()
        .await
        .expect("GET");
    assert_eq!(header(&res, "content-encoding"), "br");
    let packed = res.bytes().await.expect("body");
    let mut page = String::new();
    std::io::Read::read_to_string(
        &mut brotli_decompressor::Decompressor::new(&packed[..], 4096),
        &mut page,
    )
    .expect("a brotli body");
    assert!(page.contains("<h1>Sign in</h1>"), "{page}");
    assert!(
        packed.len() * 2 < page.len(),
        "{} bytes packed from {}",
        packed.len(),
        page.len()
    );

    let plain = browser.get("/signin").await;
    assert!(plain.headers().get("content-encoding").is_none());
    assert!(plain
        .text()
        .await
        .expect("body")
        .contains("<h1>Sign in</h1>"));
}

#[tokio::test]
async fn a_panic_is_answered_500_and_the_server_keeps_serving() {
    let server = TestServer::start_with(DataDir::new(), &[("FAILPOINTS", "http_request=2*panic")]);
    let browser = server.browser();

    let res = browser.call("load_profile", &[]).await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let body: serde_json::Value = res.json().await.expect("JSON body");
    assert_eq!(
        body,
        serde_json::json!({ "kind": "internal", "message": INTERNAL })
    );

    let res = browser.get("/signin").await;
    assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(res.text().await.unwrap(), INTERNAL);

    assert_eq!(browser.get("/signin").await.status(), StatusCode::OK);
    assert!(server.server_log().contains("a request panicked"));
}

#[tokio::test]
async fn a_body_sent_one_byte_a_second_is_cut_off() {
    let server = TestServer::start_with(DataDir::new(), &[("GATEHOUSE_REQUEST_TIMEOUT_SECS", "2")]);
    let addr = server.url.trim_start_matches("http://").to_owned();
    let stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let (mut reader, mut writer) = stream.into_split();
    let length = 60;
    writer
        .write_all(
            format!(
                "POST /api/sign_up HTTP/1.1\r\nHost: {addr}\r\n\
                 Content-Type: application/x-www-form-urlencoded\r\n\
                 Content-Length: {length}\r\n\r\n"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let started = Instant::now();
    let trickle = tokio::spawn(async move {
        for _ in 0..length {
            if writer.write_all(b"a").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });

    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(15), reader.read_to_end(&mut answer)).await;
    trickle.abort();
    assert!(read.is_ok(), "the connection was still open after 15 s");
    let answer = String::from_utf8_lossy(&answer);
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn sigterm_finishes_the_request_in_flight_and_exits_0() {
    // The first request stalls for 2 s inside the server.
    let server = TestServer::start_with(
        DataDir::new(),
        &[("FAILPOINTS", "http_request=1*sleep(2000)")],
    );
    let browser = server.browser();
    let in_flight = tokio::spawn(async move { browser.get("/signin").await.status() });
    tokio::time::sleep(Duration::from_millis(500)).await;

    let started = Instant::now();
    let status = tokio::task::spawn_blocking(move || server.terminate(Duration::from_secs(8)))
        .await
        .unwrap()
        .expect("the server exits after SIGTERM");
    assert!(status.success(), "{status}");
    assert!(started.elapsed() < Duration::from_secs(8));
    assert_eq!(in_flight.await.unwrap(), StatusCode::OK);
}

#[tokio::test]
async fn sigterm_stops_waiting_for_a_slow_client_after_10_seconds() {
    let server = TestServer::start().await;
    let addr = server.url.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&addr).await.unwrap();
    stream
        .write_all(
            format!(
                "POST /api/sign_up HTTP/1.1\r\nHost: {addr}\r\n\
                 Content-Type: application/x-www-form-urlencoded\r\n\
                 Content-Length: 60\r\n\r\n"
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let trickle = tokio::spawn(async move {
        while stream.write_all(b"a").await.is_ok() {
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    tokio::time::sleep(Duration::from_millis(1500)).await;

    let status = tokio::task::spawn_blocking(move || server.terminate(Duration::from_secs(14)))
        .await
        .unwrap()
        .expect("the server exits within the drain period");
    trickle.abort();
    assert!(status.success(), "{status}");
}

#[tokio::test]
async fn a_busy_database_answers_503_with_retry_after() {
    let server = TestServer::start().await;
    let db = server.db().await;
    let mut lock = db.acquire().await.unwrap();
    // Hold the write lock longer than the server waits for it.
    if server.is_postgres() {
        sqlx::query("BEGIN").execute(&mut *lock).await.unwrap();
        sqlx::query("LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
            .execute(&mut *lock)
            .await
            .unwrap();
    } else {
        sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut *lock)
            .await
            .unwrap();
    }

    let browser = server.browser();
    let res = browser.sign_up(&unique_email("busy")).await;
    assert_eq!(header(&res, "retry-after"), "5");
    let (status, message) = error_message(res).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{message}");

    sqlx::query("ROLLBACK").execute(&mut *lock).await.unwrap();
    let res = browser.sign_up(&unique_email("busy")).await;
    assert_eq!(
        res.status(),
        StatusCode::OK,
        "served again once the lock is gone"
    );
}

/// On PostgreSQL only: SQLite in WAL mode never blocks a reader behind a writer, and
/// no lock a second connection can take keeps the server's open connections from reading.
#[tokio::test]
async fn a_page_answers_503_with_retry_after_while_the_database_is_locked() {
    let server = TestServer::start().await;
    if !server.is_postgres() {
        return;
    }
    let browser = server.browser();
    assert_eq!(
        browser.sign_up(&unique_email("page")).await.status(),
        StatusCode::OK
    );
    let db = server.db().await;
    let mut lock = db.acquire().await.unwrap();
    // Resolving the session cookie reads the sessions table.
    sqlx::query("BEGIN").execute(&mut *lock).await.unwrap();
    sqlx::query("LOCK TABLE sessions IN ACCESS EXCLUSIVE MODE")
        .execute(&mut *lock)
        .await
        .unwrap();

    let res = browser.get("/settings").await;
    assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(header(&res, "retry-after"), "5");
    assert_eq!(
        res.text().await.unwrap(),
        "The service is temporarily unavailable. Please try again in a moment."
    );
}
