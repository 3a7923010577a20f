//! The outbox: an SMTP outage delays mail and loses none, with one instance or two.

use super::*;

// 10 -----------------------------------------------------------------------------------

/// Changes that each queue mail while the mail server is away: a notice for 2FA on, one
/// for new recovery codes, a reset link and the notice for a changed password.
async fn changes_during_outage(browser: &Browser, email: &str) -> Vec<String> {
    let (key, _) = browser.enable_two_factor().await;
    let res = browser
        .call(
            "regenerate_recovery_codes",
            &[("code", &totp_at(&key, now() + 30)), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK, "regenerate");
    assert_eq!(
        request_reset(browser, "203.0.113.7", email).await,
        StatusCode::OK
    );
    let mut expected = vec![
        "Security notice: Two-factor authentication was turned on".to_owned(),
        "Security notice: New recovery codes were made".to_owned(),
        RESET.to_owned(),
        VERIFY.to_owned(),
    ];
    expected.sort();
    expected
}

/// Waits until every address has its `expected` subjects, then a little longer, and
/// asserts each arrived exactly once.
async fn exactly_once(mail: &MailServer, expected: &[(String, Vec<String>)], within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let mut complete = true;
        for (address, subjects) in expected {
            if mail.messages_to(address).await.len() < subjects.len() {
                complete = false;
            }
        }
        if complete {
            break;
        }
        if Instant::now() > deadline {
            for (address, _) in expected {
                println!("{address}: {:?}", mail.subjects_to(address).await);
            }
            panic!("not everything arrived within {within:?}");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    // A duplicate would come from a second claim, a second later at most.
    tokio::time::sleep(Duration::from_secs(4)).await;
    for (address, subjects) in expected {
        assert_eq!(&mail.subjects_to(address).await, subjects, "{address}");
    }
}

async fn outage(instances: usize) {
    let mut world = World::start();
    let smtp_url = world.mail.smtp_url();
    let second =
        (instances == 2).then(|| world.server.second_instance_with(&World::env(&smtp_url)));
    let servers: Vec<&TestServer> = std::iter::once(&world.server)
        .chain(second.as_ref())
        .collect();

    // Control: mail flows before the outage.
    let (_, before) = world.verified_account("before").await;
    world.mail.stop();

    let mut expected = Vec::new();
    for n in 0..6 {
        let server = servers[n % servers.len()];
        let browser = server.browser();
        let email = unique_email(&format!("outage{n}"));
        assert_eq!(browser.sign_up(&email).await.status(), StatusCode::OK);
        // Verified behind the API, so the notices have somewhere to go.
        sqlx::query("UPDATE users SET email_verified_at = 1 WHERE email = $1")
            .bind(&email)
            .execute(&server.db().await)
            .await
            .unwrap();
        let subjects = changes_during_outage(&browser, &email).await;
        expected.push((email, subjects));
    }
    // The worker did try, and failed, while the server was away.
    let deadline = Instant::now() + Duration::from_secs(10);
    while !servers
        .iter()
        .any(|s| s.server_log().contains("could not send a message"))
    {
        assert!(Instant::now() < deadline, "no failed attempt was logged");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(8)).await;
    world.mail.restart();

    exactly_once(&world.mail, &expected, Duration::from_secs(90)).await;
    assert!(
        world.mail.messages_to(&before).await.is_empty(),
        "what was sent before the outage is not sent again"
    );
    let db = world.server.db().await;
    let waiting: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL")
        .fetch_one(&db)
        .await
        .unwrap();
    assert_eq!(waiting, 0, "the outbox is empty");
    if let Some(second) = &second {
        // Both instances sent some of it, or the test proved nothing about claims.
        for server in [&world.server, second] {
            println!(
                "{}: {}",
                server.url,
                server
                    .server_log()
                    .lines()
                    .filter(|l| l.contains("mail sent"))
                    .count()
            );
        }
    }
}

#[tokio::test]
async fn an_smtp_outage_delays_mail_and_loses_none() {
    outage(1).await;
}

#[tokio::test]
async fn an_smtp_outage_with_two_instances_sends_each_message_once() {
    outage(2).await;
}
