//! The apps that may sign people in through Gatehouse: `[[clients]]` in the config file.

use std::process::Command;

use crate::common::*;

const SECRET: &str = "notes-client-secret-0123456789-abcdefghij";

fn client(extra: &str) -> String {
    format!(
        "[[clients]]\nclient_id = \"notes\"\nname = \"Notes\"\n\
         redirect_uris = [\"https://notes.example.com/oidc/callback\"]\n{extra}"
    )
}

/// A client that could not work stops the start, naming the file, the client and the
/// key, before anyone is sent to it.
#[tokio::test]
async fn a_client_mistake_stops_the_start_naming_the_file_the_client_and_the_key() {
    let data = DataDir::new();
    let dir = data.dir.path();
    let short = dir.join("short.secret");
    std::fs::write(&short, "too-short\n").unwrap();
    let short = short.display().to_string();
    let missing = dir.join("nowhere.secret").display().to_string();
    let cases = [
        (
            "an http redirect to another machine",
            client("").replace("https://notes", "http://notes"),
            vec!["redirect_uris", "https"],
        ),
        (
            "a redirect with a fragment",
            client("").replace("callback\"", "callback#x\""),
            vec!["redirect_uris", "fragment"],
        ),
        (
            "a secret file that is not there",
            client(&format!("client_secret_file = \"{missing}\"\n")),
            vec!["client_secret_file", missing.as_str()],
        ),
        (
            "a short secret",
            client(&format!("client_secret_file = \"{short}\"\n")),
            vec!["client_secret_file", "shorter than 32"],
        ),
        (
            "two clients with one id",
            format!("{}\n{}", client(""), client("")),
            vec!["two clients"],
        ),
        (
            "an unknown key",
            client("redirect_uri_prefix = \"https://notes.example.com/\"\n"),
            vec!["redirect_uri_prefix"],
        ),
    ];
    assert_configs_refused(&data, "\"notes\"", &cases);
}

/// `server admin clients` says what each app may do and where it may send people back,
/// and never shows a secret.
#[tokio::test]
async fn admin_clients_lists_each_app_without_its_secret() {
    let data = DataDir::new();
    let dir = data.dir.path();
    let secret = dir.join("notes.secret");
    std::fs::write(&secret, format!("{SECRET}\n")).unwrap();
    let toml = format!(
        "{}post_logout_redirect_uris = [\"https://notes.example.com/\"]\n\
         require_two_factor = true\nclient_secret_file = \"{}\"\n\n\
         [[clients]]\nclient_id = \"spa\"\nname = \"Board\"\n\
         redirect_uris = [\"http://localhost:5173/callback\"]\n",
        client(""),
        secret.display()
    );
    let path = dir.join("clients.toml");
    std::fs::write(&path, toml).unwrap();
    let run = |config: Option<&std::path::Path>| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_server"));
        command
            .env("DATABASE_URL", &data.database_url)
            .env("GATEHOUSE_SECRET_KEY_FILE", data.key_file())
            .args(["admin", "clients"]);
        if let Some(config) = config {
            command.env("GATEHOUSE_CONFIG", config);
        }
        let output = command.output().expect("run the admin command");
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).unwrap()
    };
    let listed = run(Some(&path));
    for line in [
        "notes  \"Notes\"  confidential (client secret)",
        "  requires two-factor authentication",
        "  redirect: https://notes.example.com/oidc/callback",
        "  after logout: https://notes.example.com/",
        "spa  \"Board\"  public (PKCE only)",
        "  redirect: http://localhost:5173/callback",
    ] {
        assert!(
            listed.lines().any(|l| l == line),
            "{line:?} not in\n{listed}"
        );
    }
    assert!(!listed.contains(SECRET), "{listed}");
    assert!(run(None).contains("No clients are configured"));
}
