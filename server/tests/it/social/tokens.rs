//! What a provider sends is kept nowhere: no token, code or state in the database, and
//! no token in the log.

use super::*;

// ---------------------------------------------------------------------------------------
// 11. Tokens are dropped

/// The first run of `alphabet` bytes of at least `len` after `prefix`.
fn find_token(bytes: &[u8], prefix: &[u8], len: usize, alphabet: fn(u8) -> bool) -> Option<String> {
    (0..bytes.len().saturating_sub(prefix.len())).find_map(|i| {
        if !bytes[i..].starts_with(prefix) {
            return None;
        }
        let rest = &bytes[i + prefix.len()..];
        let run = rest.iter().take_while(|b| alphabet(**b)).count();
        (run >= len)
            .then(|| String::from_utf8_lossy(&bytes[i..i + prefix.len() + run]).into_owned())
    })
}

fn contains(bytes: &[u8], needle: &str) -> bool {
    bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
}

fn base64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'-' || b == b'_'
}

#[tokio::test]
async fn no_provider_token_code_or_state_is_kept_in_the_database() {
    let world = World::start();
    let mut secrets = Vec::new();
    for (provider, login) in [
        ("idp", "pia"),
        ("idp", "pia"),
        ("github", "quin"),
        ("facebook", "rosa"),
        ("tamper", "sven"),
    ] {
        let browser = world.browser();
        let authorize = begin(&browser, provider, "sign_in", None).await;
        let callback = at_provider(&browser, provider, &authorize, login).await;
        let res = arrive(&browser, &callback).await;
        if provider == "facebook" {
            // It proves no address: the sign-up proves one by mail first.
            assert_eq!(location(&res), CONFIRM_EMAIL_PAGE);
            let email = format!("{login}@example.test");
            let res = browser
                .call("send_sign_up_link", &[("email", &email)])
                .await;
            assert_eq!(res.status(), StatusCode::OK);
            let token = new_link_in_log(&world, "/signup/finish", None).await;
            let res = browser.call("finish_sign_up", &[("token", &token)]).await;
            assert_eq!(res.status(), StatusCode::OK);
            secrets.push(("sign-up link".into(), token));
        } else {
            assert_signed_in(&res, "/settings");
        }
        for name in ["code", "state"] {
            secrets.push((
                format!("{provider} {name}"),
                query_param(&callback, name).expect(name),
            ));
        }
        assert_eq!(
            profile_email(&browser).await,
            format!("{login}@example.test")
        );
    }

    let dump = world.server.database_dump();
    assert!(
        contains(&dump, "pia@example.test"),
        "the dump holds the accounts"
    );

    for (what, value) in &secrets {
        assert!(value.len() >= 16, "{what} {value}");
        assert!(!contains(&dump, value), "the {what} is in the database");
    }
    // An ID token (a JWT: header and payload are base64url JSON, "eyJ…"), GitHub's
    // "gho_…" and Facebook's "EAA…" access tokens.
    for (prefix, len, what) in [
        ("eyJ", 10, "a JWT"),
        ("gho_", 30, "a GitHub token"),
        ("EAA", 30, "a Facebook token"),
    ] {
        let sample = format!("\0{prefix}{}\0", "aZ09_-".repeat(8));
        assert!(find_token(sample.as_bytes(), prefix.as_bytes(), len, base64url).is_some());
        let found = find_token(&dump, prefix.as_bytes(), len, base64url);
        assert_eq!(found, None, "{what} is in the database");
    }
}

#[tokio::test]
async fn a_failed_graph_api_call_logs_neither_the_facebook_token_nor_its_proof() {
    // Port 9 (discard) is closed on loopback: the token exchange works, `/me` cannot connect.
    let world = World::start_with_env(
        &[("facebook", "api_url", "\"http://127.0.0.1:9/v19.0\"")],
        &[("RUST_LOG", "trace")],
    );
    let browser = world.browser();
    let res = round_trip(&browser, "facebook", "sign_in", "finn").await;
    assert_refused(&res, "/signin", "provider_failed", "facebook");

    let log = world.server.server_log();
    assert!(
        log.contains("social sign-in failed at the provider"),
        "the failure is logged:\n{log}"
    );
    for word in ["access_token", "appsecret_proof"] {
        let line = log.lines().find(|l| l.contains(word));
        assert_eq!(line, None, "{word} is in the log");
    }
    let token = find_token(log.as_bytes(), b"EAA", 30, base64url);
    assert_eq!(token, None, "the Facebook token is in the log");
}
