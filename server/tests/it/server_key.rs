//! The server key is created for an empty database only: a lost key is never replaced
//! by a new one that would void every sealed secret.

use std::process::ExitStatus;

use crate::common::*;
use reqwest::StatusCode;

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
    assert_refused_for_missing_key(run_to_exit(&data, &[], &[]), &data);
}

#[tokio::test]
async fn admin_commands_do_not_create_a_key_for_existing_accounts() {
    let data = data_with_one_account().await;
    let exit = run_to_exit(&data, &["admin", "reset-2fa", "nobody@example.com"], &[]);
    assert_refused_for_missing_key(exit, &data);
}

#[tokio::test]
async fn a_fresh_database_gets_a_new_key() {
    let server = TestServer::start().await;
    assert!(server.data.key_file().exists());
}
