//! An unknown email costs the same time as a wrong password, so timing reveals no
//! account. Alone in its own binary so no other test competes for the cores.

mod common;

use std::time::{Duration, Instant};

use common::*;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

#[tokio::test]
async fn unknown_email_takes_as_long_as_a_wrong_password() {
    let server = TestServer::start().await;
    // One account per wrong guess keeps every attempt under the per-account limit.
    let mut accounts = Vec::new();
    for n in 0..13 {
        let email = unique_email(&format!("known{n}"));
        server.browser().sign_up(&email).await;
        accounts.push(email);
    }
    let browser = server.browser();
    let mut known = Vec::new();
    let mut unknown = Vec::new();
    for (n, email) in accounts.iter().enumerate() {
        let start = Instant::now();
        browser.sign_in(email, "Wrong-password-for-timing").await;
        let wrong = start.elapsed();
        let start = Instant::now();
        browser
            .sign_in(
                &unique_email(&format!("ghost{n}")),
                "Wrong-password-for-timing",
            )
            .await;
        let ghost = start.elapsed();
        // The first pair warms connections and caches.
        if n > 0 {
            known.push(wrong);
            unknown.push(ghost);
        }
    }
    let (known, unknown) = (median(known), median(unknown));
    let gap = known.abs_diff(unknown).as_secs_f64() / known.max(unknown).as_secs_f64();
    println!(
        "median wrong password {known:?}, unknown email {unknown:?}, gap {:.1} %",
        gap * 100.0
    );
    assert!(gap < 0.10, "medians differ by {:.1} %", gap * 100.0);
}
