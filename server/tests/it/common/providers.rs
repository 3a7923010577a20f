//! Identity providers for the social sign-in tests (issue 11), all on loopback:
//! a real OpenID provider (`end2end/providers/oidc.mjs`, the `oidc-provider` library) and
//! stand-ins for GitHub, Facebook and a tampering OpenID issuer
//! (`end2end/providers/standin.mjs`), plus a Gatehouse config file that points at them.
//!
//! ```ignore
//! let port = free_port();
//! let origin = format!("http://127.0.0.1:{port}");
//! let providers = Providers::start(&origin, dir.path());
//! // start Gatehouse on `port` with `--config {providers.config_path}`, then:
//! // POST /auth/idp/start -> 303 Location = authorize URL
//! let callback = oidc_login(&browser.client, &authorize_url, "alice").await;
//! // GET callback with the same client -> Gatehouse signs alice@example.test in
//! ```
//!
//! Who signs in is chosen by the login: `alice` has alice@example.test (verified),
//! `bob@corp.test` has that address, `unverified:carol` has carol@example.test unverified,
//! and `noemail:dan` has no address at all. The login is the OIDC `sub`; the stand-ins
//! derive a stable numeric id from it.

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

use rand::{distr::Alphanumeric, RngExt};
use reqwest::{header, Client, StatusCode, Url};

/// The client id Gatehouse is registered under at every provider.
pub const CLIENT_ID: &str = "gatehouse";

/// The provider ids of the generated config, in order.
pub const PROVIDER_IDS: [&str; 4] = ["idp", "github", "facebook", "tamper"];

const END2END: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../end2end");

/// A port that was free a moment ago, for a server whose URL must be known before it
/// starts (the providers need Gatehouse's callback URLs up front).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind a loopback port")
        .port()
}

/// The running providers; dropping this stops them.
pub struct Providers {
    /// Gatehouse's origin, as given to `start` (no trailing slash).
    pub origin: String,
    /// The real OpenID provider's issuer, `http://127.0.0.1:PORT`.
    pub oidc_url: String,
    /// The stand-ins' base URL; GitHub is under `/github`, Facebook under `/facebook`.
    pub standin_url: String,
    /// The tampering issuer, `{standin_url}/tamper`.
    pub tamper_issuer: String,
    /// The Gatehouse config (TOML) naming all four providers.
    pub config_path: PathBuf,
    dir: PathBuf,
    secrets: Vec<(&'static str, String)>,
    children: Vec<Child>,
    _share: super::gate::Share,
}

impl Providers {
    /// Starts both Node servers with Gatehouse (at `gatehouse_origin`) registered as
    /// client `gatehouse`, and writes the secret files, the logs (`oidc.log`,
    /// `standin.log`) and `gatehouse.toml` into `dir`.
    pub fn start(gatehouse_origin: &str, dir: &Path) -> Providers {
        let origin = gatehouse_origin.trim_end_matches('/').to_owned();
        let secrets: Vec<(&'static str, String)> = PROVIDER_IDS
            .iter()
            .map(|id| (*id, random_secret()))
            .collect();
        let secret = |id: &str| &secrets.iter().find(|(p, _)| *p == id).unwrap().1;
        let client = |id: &str| format!("{CLIENT_ID}:{}:{origin}/auth/{id}/callback", secret(id));
        let share = super::gate::share();

        let mut oidc = spawn_node(
            "oidc.mjs",
            &["--port", "0", "--client", &client("idp")],
            &dir.join("oidc.log"),
        );
        let mut standin = spawn_node(
            "standin.mjs",
            &[
                "--port",
                "0",
                "--github",
                &client("github"),
                "--facebook",
                &client("facebook"),
                "--tamper-client",
                &client("tamper"),
            ],
            &dir.join("standin.log"),
        );
        // Both start at once; the deadline covers the slower one.
        let deadline = Instant::now() + Duration::from_secs(60);
        let oidc_url = oidc.ready(deadline, "OIDC provider listening on ");
        let standin_url = standin.ready(deadline, "Stand-in providers listening on ");

        let mut providers = Providers {
            origin,
            tamper_issuer: format!("{standin_url}/tamper"),
            oidc_url,
            standin_url,
            config_path: dir.join("gatehouse.toml"),
            dir: dir.to_owned(),
            secrets,
            children: vec![oidc.child, standin.child],
            _share: share,
        };
        for (id, secret) in &providers.secrets {
            // The trailing newline is what an editor leaves; the contract says it is trimmed.
            std::fs::write(dir.join(format!("{id}.secret")), format!("{secret}\n"))
                .expect("write a client secret file");
        }
        providers.config_path = providers.write_config("gatehouse.toml", &[]);
        providers
    }

    /// The client secret Gatehouse was registered with at provider `id`.
    pub fn client_secret(&self, id: &str) -> &str {
        &self
            .secrets
            .iter()
            .find(|(p, _)| *p == id)
            .unwrap_or_else(|| panic!("no provider {id}"))
            .1
    }

    /// Writes a variant of the config into the providers' dir and returns its path.
    /// `overrides` are `(provider id, key, raw TOML value)`, e.g.
    /// `("github", "trust_email", "true")`; a key not in the default is added.
    pub fn write_config(&self, file_name: &str, overrides: &[(&str, &str, &str)]) -> PathBuf {
        let s = &self.standin_url;
        // Where each provider lives: the issuer for OIDC, the three URLs otherwise.
        let urls = |id: &str| -> Vec<(&str, String)> {
            match id {
                "idp" => vec![("issuer", self.oidc_url.clone())],
                "tamper" => vec![("issuer", self.tamper_issuer.clone())],
                "github" => vec![
                    ("auth_url", format!("{s}/github/login/oauth/authorize")),
                    ("token_url", format!("{s}/github/login/oauth/access_token")),
                    ("api_url", format!("{s}/github/api")),
                ],
                _ => vec![
                    ("auth_url", format!("{s}/facebook/dialog/oauth")),
                    (
                        "token_url",
                        format!("{s}/facebook/v19.0/oauth/access_token"),
                    ),
                    ("api_url", format!("{s}/facebook/v19.0")),
                ],
            }
        };
        let providers = [
            ("idp", "oidc", "OpenID Test"),
            ("github", "github", "GitHub"),
            ("facebook", "facebook", "Facebook"),
            ("tamper", "oidc", "Tamper"),
        ];
        let mut toml = format!("public_url = {}\n", toml_str(&self.origin));
        for (id, kind, name) in providers {
            let secret_file = self.dir.join(format!("{id}.secret"));
            let mut entries: Vec<(&str, String)> = vec![
                ("id", toml_str(id)),
                ("kind", toml_str(kind)),
                ("name", toml_str(name)),
                ("client_id", toml_str(CLIENT_ID)),
                (
                    "client_secret_file",
                    toml_str(&secret_file.display().to_string()),
                ),
                ("allow_signup", "true".into()),
                ("trust_email", "false".into()),
            ];
            entries.extend(urls(id).into_iter().map(|(k, v)| (k, toml_str(&v))));
            for (_, key, value) in overrides.iter().filter(|(p, _, _)| *p == id) {
                match entries.iter_mut().find(|(k, _)| k == key) {
                    Some(entry) => entry.1 = (*value).to_owned(),
                    None => entries.push((key, (*value).to_owned())),
                }
            }
            toml.push_str("\n[[providers]]\n");
            for (key, value) in entries {
                toml.push_str(&format!("{key} = {value}\n"));
            }
        }
        let path = self.dir.join(file_name);
        std::fs::write(&path, toml).expect("write the Gatehouse config");
        path
    }

    /// Makes the tampering issuer break one thing from now on: "aud", "nonce",
    /// "iss_param", "exp", "signature", "alg_none", "auth_time", or "none" to behave.
    pub async fn break_tamper(&self, what: &str) {
        let res = Client::new()
            .post(format!("{}/break", self.tamper_issuer))
            .json(&serde_json::json!({ "break": what }))
            .send()
            .await
            .expect("reach the tamper issuer");
        let status = res.status();
        assert_eq!(
            status,
            StatusCode::OK,
            "break {what}: {}",
            res.text().await.unwrap_or_default()
        );
    }
}

impl Drop for Providers {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A Node child whose stdout is read by a thread until its ready line shows up.
struct Started {
    child: Child,
    lines: mpsc::Receiver<String>,
    log: PathBuf,
}

impl Started {
    /// Waits for the line starting with `prefix` and answers the URL after it.
    fn ready(&mut self, deadline: Instant, prefix: &str) -> String {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(url) = line.strip_prefix(prefix) {
                        return url.trim_end_matches('/').to_owned();
                    }
                }
                Err(_) => {
                    let _ = self.child.kill();
                    let _ = self.child.wait();
                    panic!(
                        "no \"{prefix}\" line from node:\n{}",
                        std::fs::read_to_string(&self.log).unwrap_or_default()
                    );
                }
            }
        }
    }
}

fn spawn_node(script: &str, args: &[&str], log: &Path) -> Started {
    let log_file = std::fs::File::create(log).expect("provider log file");
    // cwd end2end: that is where node_modules (oidc-provider, jose) resolve from.
    let mut child = Command::new("node")
        .arg(format!("providers/{script}"))
        .args(args)
        .current_dir(END2END)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log_file)
        .spawn()
        .unwrap_or_else(|e| panic!("start node {script} (is node on PATH?): {e}"));
    let stdout = child.stdout.take().expect("stdout");
    let (tx, lines) = mpsc::channel();
    // Keep draining stdout after the ready line so the child never blocks on a full pipe.
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    Started {
        child,
        lines,
        log: log.to_owned(),
    }
}

fn random_secret() -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(32)
        .map(char::from)
        .collect()
}

/// A TOML basic string.
fn toml_str(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Drives the real OpenID provider the way a person at a browser would: from Gatehouse's
/// authorize URL through oidc-provider's redirects and its login form (typing `login`, any
/// password), and answers the redirect back to Gatehouse's callback without following it.
///
/// `client` must keep cookies and must not follow redirects (like `TestServer::browser()`):
/// the provider's interaction and session cookies tie the steps together, and a session
/// left from an earlier login signs in again without the form (unless Gatehouse sent
/// `prompt=login`), just as in a browser.
pub async fn oidc_login(client: &Client, authorize_url: &str, login: &str) -> String {
    let start = Url::parse(authorize_url).expect("authorize URL");
    let provider = start.origin();
    let mut url = start;
    let mut logged_in = false;
    for _ in 0..10 {
        let res = client
            .get(url.clone())
            .send()
            .await
            .expect("reach the OIDC provider");
        if res.status().is_redirection() {
            let next = location(&url, &res);
            if next.origin() != provider {
                return next.to_string();
            }
            url = next;
            continue;
        }
        let status = res.status();
        let page = res.text().await.unwrap_or_default();
        // A page that submits itself at once, which a browser's script does: oidc-provider
        // signs the previous account out this way when another one signs in.
        if status == StatusCode::OK && page.contains("document.forms[0].submit()") {
            let action = url.join(&form_action(&page)).expect("form action");
            let res = client
                .post(action.clone())
                .form(&hidden_inputs(&page))
                .send()
                .await
                .expect("post the self-submitting form");
            assert!(
                res.status().is_redirection(),
                "self-submitting form answered {}",
                res.status()
            );
            url = location(&action, &res);
            if url.origin() != provider {
                return url.to_string();
            }
            continue;
        }
        assert!(
            status == StatusCode::OK && page.contains(r#"name="login""#) && !logged_in,
            "expected oidc-provider's login form at {url}, got {status}:\n{page}"
        );
        // The dev-interaction form: hidden prompt=login, text `login`, password `password`.
        let action = url.join(&form_action(&page)).expect("form action");
        let res = client
            .post(action.clone())
            .form(&[("prompt", "login"), ("login", login), ("password", "any")])
            .send()
            .await
            .expect("post the login form");
        assert!(
            res.status().is_redirection(),
            "login form answered {}",
            res.status()
        );
        logged_in = true;
        url = location(&action, &res);
        if url.origin() != provider {
            return url.to_string();
        }
    }
    panic!("the OIDC provider kept redirecting without reaching the callback");
}

/// Signs in at a stand-in (GitHub, Facebook or the tamper issuer) by adding `login` to its
/// authorize URL, as the "Authorize" button does, and answers the redirect to Gatehouse's
/// callback without following it.
pub async fn standin_login(client: &Client, authorize_url: &str, login: &str) -> String {
    let mut url = Url::parse(authorize_url).expect("authorize URL");
    url.query_pairs_mut().append_pair("login", login);
    let res = client
        .get(url.clone())
        .send()
        .await
        .expect("reach the stand-in");
    let status = res.status();
    if !status.is_redirection() {
        panic!(
            "stand-in answered {status} instead of a redirect:\n{}",
            res.text().await.unwrap_or_default()
        );
    }
    location(&url, &res).to_string()
}

/// The absolute URL a redirect points at.
fn location(from: &Url, res: &reqwest::Response) -> Url {
    let value = res
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("redirect from {from} without Location"));
    from.join(value).expect("Location URL")
}

/// The `name` and `value` of each hidden input on an HTML page.
fn hidden_inputs(page: &str) -> Vec<(String, String)> {
    let attribute = |tag: &str, name: &str| {
        let start = tag.find(&format!(r#"{name}=""#))? + name.len() + 2;
        let end = start + tag[start..].find('"')?;
        Some(decode_entities(&tag[start..end]))
    };
    page.split("<input")
        .skip(1)
        .filter_map(|rest| {
            let tag = &rest[..rest.find('>')?];
            if !tag.contains(r#"type="hidden""#) {
                return None;
            }
            Some((
                attribute(tag, "name")?,
                attribute(tag, "value").unwrap_or_default(),
            ))
        })
        .collect()
}

/// The `action` of the first form on an HTML page, entities decoded.
fn form_action(page: &str) -> String {
    let form = &page[page.find("<form").expect("a form on the page")..];
    let start = form.find(r#"action=""#).expect("form action") + r#"action=""#.len();
    let end = start + form[start..].find('"').expect("closing quote");
    decode_entities(&form[start..end])
}

fn decode_entities(text: &str) -> String {
    text.replace("&#x2F;", "/")
        .replace("&#x3D;", "=")
        .replace("&#39;", "'")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}
