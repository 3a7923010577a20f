//! The link a sign-up sends to prove the address, and Send again.

use super::*;

// 1 ------------------------------------------------------------------------------------

#[tokio::test]
async fn sign_up_sends_a_single_use_verification_link_and_send_again_is_limited() {
    let world = World::start();
    let browser = world.server.browser();
    let email = unique_email("verify");
    assert_eq!(browser.sign_up(&email).await.status(), StatusCode::OK);
    assert!(!profile(&browser).await["verified"].as_bool().unwrap());

    let mail = world.mail.wait_for(&email, VERIFY, MAIL_WAIT).await;
    assert_eq!(mail.to, vec![email.clone()]);
    let link = link_in(&mail);
    assert!(
        link.starts_with(&format!("{}/verify-email?token=", world.server.url)),
        "{link}"
    );
    assert!(mail.text.contains("24 hours"), "{}", mail.text);
    let token = token_in(&mail);

    // Control: a token one character off proves nothing.
    let mut forged = token.clone().into_bytes();
    forged[10] = if forged[10] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    assert_eq!(
        browser
            .call("verify_email", &[("token", &forged)])
            .await
            .status(),
        REFUSED
    );
    assert!(!profile(&browser).await["verified"].as_bool().unwrap());

    // Opened from another browser, not signed in: the link alone proves the address.
    let elsewhere = world.server.browser();
    let res = elsewhere.call("verify_email", &[("token", &token)]).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(profile(&browser).await["verified"].as_bool().unwrap());
    assert_eq!(
        browser
            .call("verify_email", &[("token", &token)])
            .await
            .status(),
        REFUSED,
        "the same link twice"
    );
    assert_eq!(
        browser.call("resend_verification", &[]).await.status(),
        REFUSED,
        "already verified: nothing to send"
    );

    // "Send again", on a second account: counted per account, from any address.
    let other = world.server.browser();
    let other_email = unique_email("resend");
    other.sign_up(&other_email).await;
    world.mail.wait_for(&other_email, VERIFY, MAIL_WAIT).await;
    let mut statuses = Vec::new();
    for n in 0..7 {
        let ip = format!("198.51.100.{}", n + 1);
        statuses.push(call_from(&other, &ip, "resend_verification", &[]).await);
    }
    let allowed = statuses
        .iter()
        .take_while(|s| **s == StatusCode::OK)
        .count();
    assert_eq!(allowed, 5, "{statuses:?}");
    assert!(
        statuses[allowed..]
            .iter()
            .all(|s| *s == StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    // The sign-up's message and one per allowed resend, and each of them works once.
    let deadline = Instant::now() + MAIL_WAIT;
    while world.mail.messages_to(&other_email).await.len() < 1 + allowed
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let sent = world.mail.messages_to(&other_email).await;
    assert_eq!(sent.len(), 1 + allowed, "nothing sent past the limit");
    let last = token_in(sent.last().unwrap());
    assert_eq!(
        other
            .call("verify_email", &[("token", &last)])
            .await
            .status(),
        StatusCode::OK
    );
}
