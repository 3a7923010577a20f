//! The operator's config: a mistake stops the start, and buttons and sign-ups are there
//! only for configured providers that allow them.

use super::*;

// ---------------------------------------------------------------------------------------
// 12. Config mistakes stop the start

#[tokio::test]
async fn a_config_mistake_stops_the_start_naming_the_file_the_provider_and_the_key() {
    let data = DataDir::new();
    let dir = data.dir.path();
    let secret = dir.join("corp.secret");
    std::fs::write(&secret, "s3cret\n").unwrap();
    let secret = secret.display().to_string();
    let missing = dir.join("nowhere.secret").display().to_string();
    let nobody = format!("http://127.0.0.1:{}", free_port());
    let provider = |kind: &str, extra: &str| {
        format!(
            "[[providers]]\nid = \"corp\"\nkind = \"{kind}\"\nname = \"Corp\"\n\
             client_id = \"gatehouse\"\n{extra}"
        )
    };
    let cases = [
        (
            "unknown kind",
            provider("ldap", &format!("client_secret_file = \"{secret}\"\n")),
            vec!["kind", "ldap"],
        ),
        (
            "no client_secret_file",
            provider("github", ""),
            vec!["client_secret_file"],
        ),
        (
            "a client_secret_file that is not there",
            provider("github", &format!("client_secret_file = \"{missing}\"\n")),
            vec!["client_secret_file", missing.as_str()],
        ),
        (
            "discovery fails",
            provider(
                "oidc",
                &format!("client_secret_file = \"{secret}\"\nissuer = \"{nobody}\"\n"),
            ),
            vec!["issuer", "discovery", nobody.as_str()],
        ),
    ];
    assert_configs_refused(&data, "\"corp\"", &cases);

    // Control: the same file, right, starts.
    let path = dir.join("right.toml");
    std::fs::write(
        &path,
        provider("github", &format!("client_secret_file = \"{secret}\"\n")),
    )
    .unwrap();
    let server = TestServer::start_with(
        DataDir::new(),
        &[("GATEHOUSE_CONFIG", path.to_str().unwrap())],
    );
    let providers = server.browser().json("list_providers", &[]).await;
    assert_eq!(providers[0]["name"], "Corp", "{providers}");
}

// ---------------------------------------------------------------------------------------
// 13. Sign-up through a provider only where the operator allows it, and buttons only for
//     configured providers

#[tokio::test]
async fn without_providers_no_button_is_shown_and_no_round_trip_begins() {
    let server = TestServer::start().await;
    let browser = server.browser();
    for page in ["/signin", "/signup"] {
        let html = browser.get(page).await.text().await.unwrap();
        assert!(html.contains("<h1>"), "{page} rendered");
        assert!(!html.contains("Sign in with"), "{page} offers a provider");
    }
    assert_eq!(
        browser.json("list_providers", &[]).await,
        serde_json::json!([])
    );
    let res = browser
        .client
        .post(format!("{}/auth/idp/start", server.url))
        .form(&[("purpose", "sign_in")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/signin?error=unknown_provider&provider=");
}

#[tokio::test]
async fn a_provider_without_sign_up_signs_in_only_linked_accounts() {
    let world = World::start_with(&[("idp", "allow_signup", "false")]);
    let html = world.browser().get("/signin").await.text().await.unwrap();
    for name in ["OpenID Test", "GitHub", "Facebook", "Tamper"] {
        assert!(html.contains(&format!("Sign in with {name}")), "{name}");
    }
    let res = round_trip(&world.browser(), "idp", "sign_in", "newcomer-13").await;
    assert_refused(&res, "/signin", "not_linked", "idp");
    assert_eq!(world.count("SELECT COUNT(*) FROM users").await, 0);

    // A provider that shares no address makes no account either: it is asked for one.
    let res = round_trip(&world.browser(), "github", "sign_in", "noemail:dan-13").await;
    assert_eq!(location(&res), CONFIRM_EMAIL_PAGE);
    assert_eq!(world.count("SELECT COUNT(*) FROM users").await, 0);

    // Control: a password account that connects the provider signs in with it.
    let owner = world.browser();
    owner.sign_up("owner-13@example.com").await;
    connect(&owner, "idp", "newcomer-13", "").await;
    let browser = signed_in_with(&world, "idp", "newcomer-13").await;
    assert_eq!(profile_email(&browser).await, "owner-13@example.com");
}
