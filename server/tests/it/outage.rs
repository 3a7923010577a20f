//! PostgreSQL going away: a clear refusal at start, 503 while it is down, and recovery
//! without a restart once it is back. Uses a private cluster, so it can stop it.

use std::process::Command;

use crate::common::*;
use reqwest::StatusCode;

struct Cluster {
    dir: String,
    admin_url: String,
}

impl Cluster {
    fn start() -> Self {
        let out = Command::new("bash")
            .arg(script())
            .arg("start")
            .output()
            .expect("run postgres.sh");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let exports = String::from_utf8(out.stdout).unwrap();
        let value = |name: &str| {
            exports
                .lines()
                .find_map(|l| l.strip_prefix(&format!("export {name}='")))
                .map(|v| v.trim_end_matches('\'').to_owned())
                .unwrap()
        };
        Cluster {
            dir: value("PG_TEST_DIR"),
            admin_url: value("GATEHOUSE_TEST_POSTGRES"),
        }
    }

    fn run(&self, action: &str) {
        assert!(Command::new("bash")
            .arg(script())
            .args([action, &self.dir])
            .status()
            .unwrap()
            .success());
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.run("stop");
    }
}

fn script() -> String {
    format!("{}/../scripts/postgres.sh", env!("CARGO_MANIFEST_DIR"))
}

#[tokio::test]
async fn an_unreachable_database_at_start_is_named_and_fails_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_server"))
        .env("DATABASE_URL", "postgres://gatehouse@127.0.0.1:1/accounts")
        .env("GATEHOUSE_SECRET_KEY_FILE", dir.path().join("secret.key"))
        .env("GATEHOUSE_ADDR", "127.0.0.1:0")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot connect to PostgreSQL database \"accounts\" on 127.0.0.1:1"),
        "{stderr}"
    );
}

#[tokio::test]
async fn a_database_outage_answers_503_and_recovers_by_itself() {
    let cluster = Cluster::start();
    let database_url = cluster.admin_url.clone();
    let server = TestServer::start_in(DataDir {
        dir: tempfile::tempdir().unwrap(),
        database_url,
    });
    let browser = server.browser();
    assert_eq!(
        browser.sign_up(&unique_email("outage")).await.status(),
        StatusCode::OK
    );

    cluster.run("pause");
    let (status, message) = error_message(browser.call("load_profile", &[]).await).await;
    // The session lookup itself needs the database, so the whole request is refused.
    assert!(
        status == StatusCode::SERVICE_UNAVAILABLE,
        "{status} {message}"
    );
    assert_eq!(
        browser.get("/readyz").await.status(),
        StatusCode::SERVICE_UNAVAILABLE
    );
    assert_eq!(browser.get("/healthz").await.status(), StatusCode::OK);

    cluster.run("resume");
    let mut recovered = false;
    for _ in 0..20 {
        if browser.get("/readyz").await.status() == StatusCode::OK {
            recovered = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    }
    assert!(recovered, "the server reconnects without a restart");
    assert_eq!(
        browser.call("load_profile", &[]).await.status(),
        StatusCode::OK,
        "the session survived the outage"
    );
}
