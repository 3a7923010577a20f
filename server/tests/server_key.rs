//! The server key is created for an empty database only: a lost key is never replaced
//! by a new one that would void every sealed secret.

mod common;

use std::{
    process::{Command, ExitStatus, Stdio},
    time::{Duration, Instant},
};

use common::*;
use reqwest::StatusCode;

/// Runs the server binary on `data` until it exits by itself; one that is still running
/// after 30 seconds (it started serving) is killed and fails the test.
fn run_to_exit(data: &DataDir, args: &[&str]) -> (ExitStatus, String) {
    let stderr_path = data.dir.path().join("exit.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_server"))
        .env("GATEHOUSE_ADDR", "127.0.0.1:0")
        .env("DATABASE_URL", &data.database_url)
        .env("GATEHOUSE_SECRET_KEY_FILE", data.key_file())
        .args(args)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr_path).expect("log file"))
        .spawn()
        .expect("run the server binary");
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the server") {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the server kept running without its key");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    (
        status,
        std::fs::read_to_string(stderr_path).unwrap_or_default(),
    )
}

async fn data_with_one_account() -> DataDir {
    let server = TestServer::start().await;
    let res = server.browser().sign_up(&unique_email("key")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let data = server.stop();
    std::fs::remove_file(data.key_file()).expect("delete the key");
    data
}

fn assert_refused_for_missing_key((status, stderr): (ExitStatus, String), data: &DataDir) {
    assert!(!status.success(), "the server must not run without its key");
    let expected = format!(
        "the server key {} is missing but the database has 1 accounts; \
         restore the key (see README, Backups)",
        data.key_file().display()
    );
    assert!(stderr.contains(&expected), "{stderr}");
    assert!(!data.key_file().exists(), "no new key was written");
}

#[tokio::test]
async fn a_lost_key_stops_the_start_instead_of_being_replaced() {
    let data = data_with_one_account().await;
    assert_refused_for_missing_key(run_to_exit(&data, &[]), &data);
}

#[tokio::test]
async fn admin_commands_do_not_create_a_key_for_existing_accounts() {
    let data = data_with_one_account().await;
    let exit = run_to_exit(&data, &["admin", "reset-2fa", "nobody@example.com"]);
    assert_refused_for_missing_key(exit, &data);
}

#[tokio::test]
async fn a_fresh_database_gets_a_new_key() {
    let server = TestServer::start().await;
    assert!(server.data.key_file().exists());
}
