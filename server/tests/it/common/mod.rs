//! Starts the real server binary on a free port with a fresh database, and drives it
//! over HTTP the way a browser would.

pub mod gate;
pub mod mail;
pub mod providers;

use std::{
    io::{BufRead, BufReader},
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::Duration,
};

use reqwest::{header, redirect::Policy, Client, Response, StatusCode};

pub const PASSWORD: &str = "correct-Horse-battery-staple-92";

pub struct TestServer {
    child: Child,
    pub url: String,
    pub data: DataDir,
    pub log: PathBuf,
    /// No mail server: mail goes to the log, where no person reads it (see [`Browser::sign_up`]).
    mail_in_log: bool,
    _share: gate::Share,
}

/// Whether a server started with `env` writes its mail to its log.
fn mail_in_log(env: &[(&str, &str)]) -> bool {
    !env.iter().any(|(name, _)| *name == "GATEHOUSE_SMTP_URL")
}

/// Where a server keeps its state: a temp dir for the key and logs, and a database that
/// is SQLite in that dir, or a fresh database on the PostgreSQL cluster named by
/// `GATEHOUSE_TEST_POSTGRES` (scripts/test.sh starts one).
pub struct DataDir {
    pub dir: tempfile::TempDir,
    pub database_url: String,
}

impl DataDir {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let database_url = match std::env::var("GATEHOUSE_TEST_POSTGRES") {
            Ok(admin) => fresh_postgres_database(&admin),
            Err(_) => format!("sqlite://{}/gatehouse.db", dir.path().display()),
        };
        DataDir { dir, database_url }
    }

    pub fn key_file(&self) -> PathBuf {
        self.dir.path().join("secret.key")
    }
}

fn fresh_postgres_database(admin: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let name = format!(
        "gh_{}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst),
        now()
    );
    let status = Command::new("psql")
        .args([
            admin,
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            &format!("CREATE DATABASE {name}"),
        ])
        .status()
        .expect("run psql");
    assert!(status.success(), "could not create database {name}");
    let (base, _) = admin.rsplit_once('/').expect("database URL with a path");
    format!("{base}/{name}")
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_in(DataDir::new())
    }

    /// Starts a server on the data of a previous one, as after a restart.
    pub fn start_in(data: DataDir) -> Self {
        Self::start_with(data, &[])
    }

    /// Starts a server with extra environment variables.
    pub fn start_with(data: DataDir, env: &[(&str, &str)]) -> Self {
        let share = gate::share();
        let log = data.dir.path().join("server.log");
        let (child, url) = spawn(&data.database_url, &data.key_file(), &log, env);
        TestServer {
            child,
            url,
            data,
            log,
            mail_in_log: mail_in_log(env),
            _share: share,
        }
    }

    /// A second instance on the same database and key, as behind a load balancer.
    pub fn second_instance(&self) -> TestServer {
        self.second_instance_with(&[])
    }

    /// A second instance with extra environment variables (its own `--smtp-url`, say).
    pub fn second_instance_with(&self, env: &[(&str, &str)]) -> TestServer {
        let data = DataDir {
            dir: tempfile::tempdir().expect("temp dir"),
            database_url: self.data.database_url.clone(),
        };
        let share = gate::share();
        let log = data.dir.path().join("server.log");
        let (child, url) = spawn(&data.database_url, &self.data.key_file(), &log, env);
        TestServer {
            child,
            url,
            data,
            log,
            mail_in_log: self.mail_in_log && mail_in_log(env),
            _share: share,
        }
    }

    /// Stops the server and hands back its data.
    pub fn stop(mut self) -> DataDir {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let placeholder = DataDir {
            dir: tempfile::tempdir().expect("temp dir"),
            database_url: String::new(),
        };
        std::mem::replace(&mut self.data, placeholder)
    }

    pub fn is_postgres(&self) -> bool {
        self.data.database_url.starts_with("postgres")
    }

    /// A pool on the server's own database, for tests that look behind the API.
    pub async fn db(&self) -> sqlx::AnyPool {
        sqlx::any::install_default_drivers();
        sqlx::AnyPool::connect(&self.data.database_url)
            .await
            .expect("connect to the test database")
    }

    /// When each way of proving the person last succeeded in the newest session of the
    /// account with `email`, as the server recorded it.
    pub async fn newest_session_proofs(&self, email: &str) -> Proofs {
        sqlx::query_as(
            "SELECT s.password_at, s.totp_at, s.recovery_code_at, s.passkey_at, s.device_at \
             FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE u.email = $1 ORDER BY s.id DESC LIMIT 1",
        )
        .bind(email)
        .fetch_one(&self.db().await)
        .await
        .expect("the account's newest session")
    }

    pub fn browser(&self) -> Browser {
        Browser {
            client: Client::builder()
                .cookie_store(true)
                .redirect(Policy::none())
                .build()
                .expect("client"),
            base: self.url.clone(),
            verify_sign_ups_in: self.mail_in_log.then(|| self.data.database_url.clone()),
        }
    }

    /// Everything the database holds, as bytes to search: the SQLite file with its WAL and
    /// shared memory, or a `pg_dump`.
    pub fn database_dump(&self) -> Vec<u8> {
        if self.is_postgres() {
            let out = Command::new("/usr/lib/postgresql/15/bin/pg_dump")
                .arg(&self.data.database_url)
                .output()
                .expect("run pg_dump");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            return out.stdout;
        }
        let db = self.data.database_url.trim_start_matches("sqlite://");
        let mut bytes = std::fs::read(db).expect("the SQLite file");
        for suffix in ["-wal", "-shm"] {
            bytes.extend(std::fs::read(format!("{db}{suffix}")).unwrap_or_default());
        }
        bytes
    }

    pub fn server_log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

fn spawn(
    database_url: &str,
    key_file: &std::path::Path,
    log: &std::path::Path,
    env: &[(&str, &str)],
) -> (Child, String) {
    let log_file = std::fs::File::create(log).expect("log file");
    let mut child = Command::new(env!("CARGO_BIN_EXE_server"))
        .env("GATEHOUSE_ADDR", "127.0.0.1:0")
        .env("DATABASE_URL", database_url)
        .env("GATEHOUSE_SECRET_KEY_FILE", key_file)
        // Tests sign up many accounts from 127.0.0.1; the limit has a test of its own.
        .env("GATEHOUSE_SIGN_UPS_PER_HOUR", "1000000")
        // The tests run their servers side by side on two cores, where a hash can
        // take ten times as long as alone, and a 2-s queue then turns checks away that the
        // tests count. Shedding has a test of its own, which sets its own limit.
        .env("GATEHOUSE_PASSWORD_MAX_WAIT_MS", "60000")
        .env(
            "RUST_LOG",
            std::env::var("TEST_RUST_LOG").unwrap_or_else(|_| "info".into()),
        )
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(log_file)
        .spawn()
        .expect("start the server binary");
    let stdout = child.stdout.take().expect("stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(url) = line.strip_prefix("Gatehouse listening on ") {
                let _ = tx.send(url.to_owned());
            }
        }
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(url) => (child, url),
        Err(_) => {
            let _ = child.kill();
            panic!(
                "server did not start:\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A client with its own cookie jar, like one browser profile.
pub struct Browser {
    pub client: Client,
    pub base: String,
    /// The database whose sign-ups [`Browser::sign_up`] marks verified, for a server
    /// that writes its mail to its log.
    pub verify_sign_ups_in: Option<String>,
}

impl Browser {
    /// The same browser, cookies and all, talking to `server` (a restarted one).
    pub fn moved_to(self, server: &TestServer) -> Browser {
        Browser {
            client: self.client,
            base: server.url.clone(),
            verify_sign_ups_in: self.verify_sign_ups_in,
        }
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("GET")
    }

    /// Calls a server function the way the hydrated page does.
    pub async fn call(&self, function: &str, form: &[(&str, &str)]) -> Response {
        self.client
            .post(format!("{}/api/{function}", self.base))
            .form(form)
            .send()
            .await
            .expect("POST")
    }

    /// A server function's JSON answer.
    pub async fn json(&self, function: &str, form: &[(&str, &str)]) -> serde_json::Value {
        self.call(function, form)
            .await
            .json()
            .await
            .unwrap_or_else(|e| panic!("{function} JSON: {e}"))
    }

    /// Signs up. A server without a mail server writes the verification link to its log,
    /// where no person reads it, so there the address is marked proved as if the link had
    /// been opened: most tests add a second factor, which needs a proved address. Tests of
    /// the address itself run with a mail server, or use [`Browser::sign_up_unverified`].
    pub async fn sign_up(&self, email: &str) -> Response {
        let res = self.sign_up_unverified(email).await;
        if let (StatusCode::OK, Some(url)) = (res.status(), &self.verify_sign_ups_in) {
            mark_verified(url, email).await;
        }
        res
    }

    /// Signs up and leaves the address unproved, as until its link is opened.
    pub async fn sign_up_unverified(&self, email: &str) -> Response {
        self.call("sign_up", &[("email", email), ("password", PASSWORD)])
            .await
    }

    pub async fn sign_in(&self, email: &str, password: &str) -> Response {
        self.call("sign_in", &[("email", email), ("password", password)])
            .await
    }
}

/// Marks the account's address proved, behind the API.
pub async fn mark_verified(database_url: &str, email: &str) {
    sqlx::any::install_default_drivers();
    let db = sqlx::AnyPool::connect(database_url)
        .await
        .expect("connect to the test database");
    // As the server keeps it: trimmed and lower-case.
    let email = email.trim().to_lowercase();
    let done = sqlx::query("UPDATE users SET email_verified_at = created_at WHERE email = $1")
        .bind(&email)
        .execute(&db)
        .await
        .expect("mark the address verified");
    assert_eq!(done.rows_affected(), 1, "no account {email}");
    db.close().await;
}

pub fn unique_email(tag: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{tag}-{}-{}@example.com",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// A header the response must carry, as text.
pub fn header(res: &Response, name: &str) -> String {
    res.headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap_or_else(|_| panic!("{name} is not text"))
        .to_owned()
}

/// The session cookie a response set, if any.
pub fn session_cookie(res: &Response) -> Option<String> {
    res.headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("gatehouse_session="))
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim_start_matches("gatehouse_session=")
                .to_owned()
        })
}

/// The person-readable message of a server function's error.
pub async fn error_message(res: Response) -> (StatusCode, String) {
    let status = res.status();
    let body: serde_json::Value = res.json().await.expect("JSON error body");
    let message = body["message"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| body.to_string());
    (status, message)
}

/// What the enable dialog shows, as the browser receives it.
#[derive(Debug, serde::Deserialize)]
pub struct Enrollment {
    pub qr_svg: String,
    pub key: String,
}

#[derive(Debug, serde::Deserialize)]
pub struct CodeSet {
    pub codes: Vec<String>,
}

/// Two submits of one setup: one turned the app on, the other was told a twin used it.
pub fn assert_used_by_a_twin(answers: [(StatusCode, String); 2]) {
    let mut answers = answers;
    answers.sort();
    assert_eq!(answers[0].0, StatusCode::OK, "{answers:?}");
    assert_eq!(
        answers[1],
        (
            StatusCode::CONFLICT,
            "This setup was already used. Press Enable to start again.".to_owned()
        ),
        "{answers:?}"
    );
}

pub fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// The code an authenticator app with this key shows at `unix` time.
///
/// RFC 6238 written out here with the `hmac` and `sha1` crates, so the tests do not
/// share the server's TOTP library (totp-rs) and a bug in it cannot agree with itself.
/// Written by hand rather than calling `oathtool`: the concurrency tests compute many
/// codes, and a process per code would be slow and would need the tool installed.
pub fn totp_at(key: &str, unix: u64) -> String {
    let secret = data_encoding::BASE32_NOPAD
        .decode(key.replace(' ', "").as_bytes())
        .expect("base32 key");
    format!("{:06}", rfc6238(&secret, unix, 8) % 1_000_000)
}

/// RFC 6238 TOTP with HMAC-SHA-1 and a 30 s step, `digits` long (RFC 4226 truncation).
fn rfc6238(secret: &[u8], unix: u64, digits: u32) -> u32 {
    use hmac::{Hmac, KeyInit, Mac};
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(secret).expect("any key length");
    mac.update(&(unix / 30).to_be_bytes());
    let hash = mac.finalize().into_bytes();
    let offset = usize::from(hash[19] & 0x0f);
    let word = u32::from_be_bytes(hash[offset..offset + 4].try_into().unwrap()) & 0x7fff_ffff;
    word % 10u32.pow(digits)
}

#[test]
fn totp_matches_the_rfc_6238_sha1_vectors() {
    // RFC 6238 Appendix B, SHA-1 column: the seed is the ASCII "12345678901234567890".
    let seed = b"12345678901234567890";
    let key = data_encoding::BASE32_NOPAD.encode(seed);
    for (unix, eight_digits) in [
        (59, "94287082"),
        (1_111_111_109, "07081804"),
        (1_111_111_111, "14050471"),
        (1_234_567_890, "89005924"),
        (2_000_000_000, "69279037"),
        (20_000_000_000, "65353130"),
    ] {
        assert_eq!(
            format!("{:08}", rfc6238(seed, unix, 8)),
            eight_digits,
            "T = {unix}"
        );
        assert_eq!(
            totp_at(&key, unix),
            eight_digits[2..],
            "T = {unix}, 6 digits"
        );
    }
}

impl Browser {
    pub async fn start_enrollment(&self) -> Enrollment {
        let res = self.call("start_enrollment", &[]).await;
        assert_eq!(res.status(), StatusCode::OK, "start_enrollment");
        res.json().await.expect("enrollment JSON")
    }

    /// Turns 2FA on with a code for the current time step; returns the key and the codes.
    pub async fn enable_two_factor(&self) -> (String, Vec<String>) {
        let enrollment = self.start_enrollment().await;
        let code = totp_at(&enrollment.key, now());
        let res = self
            .call(
                "enable_two_factor",
                &[("code", &code), ("password", PASSWORD)],
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK, "enable_two_factor");
        let set: CodeSet = res.json().await.expect("codes JSON");
        (enrollment.key, set.codes)
    }

    /// The no-JavaScript download of the codes a plain form post left on the server.
    pub async fn download_codes(&self) -> Response {
        self.client
            .post(format!(
                "{}/settings/two-factor/recovery-codes.txt",
                self.base
            ))
            .send()
            .await
            .expect("POST the codes download")
    }

    pub async fn verify_code(&self, code: &str) -> Response {
        self.call("verify_sign_in_code", &[("code", code)]).await
    }
}

/// Signs up a new account and turns 2FA on; returns the browser, email, key and codes.
pub async fn account_with_two_factor(
    server: &TestServer,
    tag: &str,
) -> (Browser, String, String, Vec<String>) {
    let browser = server.browser();
    let email = unique_email(tag);
    assert_eq!(browser.sign_up(&email).await.status(), StatusCode::OK);
    let (key, codes) = browser.enable_two_factor().await;
    (browser, email, key, codes)
}

/// A 6-digit code that no step within the skew window accepts right now.
pub fn wrong_code(key: &str) -> String {
    let t = now();
    let valid: Vec<String> = (0..4).map(|i| totp_at(key, t - 30 + i * 30)).collect();
    (0..)
        .map(|n| format!("{:06}", 100_000 + n))
        .find(|c| !valid.contains(c))
        .unwrap()
}

impl TestServer {
    /// Runs `server admin …` against this server's database and key.
    pub fn admin(&self, args: &[&str]) -> std::process::Output {
        Command::new(env!("CARGO_BIN_EXE_server"))
            .env("DATABASE_URL", &self.data.database_url)
            .env("GATEHOUSE_SECRET_KEY_FILE", self.data.key_file())
            .arg("admin")
            .args(args)
            .output()
            .expect("run the admin command")
    }
}

impl Browser {
    /// The kinds of the account's security events, newest first.
    pub async fn activity_kinds(&self) -> Vec<String> {
        let page = self.json("list_activity", &[]).await;
        page["events"]
            .as_array()
            .expect("events")
            .iter()
            .map(|e| e["what"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Sends `function` once per form, all at once, as a double submit (or an attacker)
    /// does; returns the statuses, sorted.
    pub async fn statuses_at_once(
        &self,
        function: &str,
        forms: &[Vec<(&str, &str)>],
    ) -> Vec<StatusCode> {
        let answers =
            futures::future::join_all(forms.iter().map(|form| self.call(function, form))).await;
        let mut statuses: Vec<_> = answers.iter().map(|a| a.status()).collect();
        statuses.sort();
        statuses
    }

    /// Fails when the activity holds a wrong two-factor code: a double submit is not one.
    pub async fn assert_no_wrong_code_logged(&self) {
        let kinds = self.activity_kinds().await;
        assert!(
            !kinds.iter().any(|k| k == "Wrong two-factor code"),
            "a double submit is not a wrong code: {kinds:?}"
        );
    }
}

/// One account signed in on two devices: the phone signed up, then the laptop signed in.
pub async fn phone_and_laptop(server: &TestServer, tag: &str) -> (Browser, Browser) {
    let email = unique_email(tag);
    let phone = server.browser();
    phone.sign_up(&email).await;
    let laptop = server.browser();
    laptop.sign_in(&email, PASSWORD).await;
    (phone, laptop)
}

/// Signs `n` browsers in with the password, round-robin over `servers`; each then waits
/// at the code prompt with its own pending session.
pub async fn pending_browsers(servers: &[&TestServer], email: &str, n: usize) -> Vec<Browser> {
    let mut browsers = Vec::with_capacity(n);
    for i in 0..n {
        let browser = servers[i % servers.len()].browser();
        assert_eq!(
            browser.sign_in(email, PASSWORD).await.status(),
            StatusCode::OK
        );
        browsers.push(browser);
    }
    browsers
}

/// Sends one code from every browser at the same moment; returns the statuses.
pub async fn send_code_at_once(browsers: &[Browser], code: &str) -> Vec<StatusCode> {
    let results = futures::future::join_all(browsers.iter().map(|b| b.verify_code(code))).await;
    results.iter().map(|r| r.status()).collect()
}

impl TestServer {
    /// Sends SIGTERM and waits up to `within` for the process to end; `None` if it is
    /// still running then.
    pub fn terminate(mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM failed");
        let deadline = std::time::Instant::now() + within;
        while std::time::Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().expect("wait for the server") {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

/// Runs the server binary on `data` until it exits by itself; one that is still running
/// after 30 seconds is killed and fails the test.
pub fn run_to_exit(
    data: &DataDir,
    args: &[&str],
    env: &[(&str, &str)],
) -> (std::process::ExitStatus, String) {
    let _share = gate::share();
    let stderr_path = data.dir.path().join("exit.log");
    let mut child = Command::new(env!("CARGO_BIN_EXE_server"))
        .env("GATEHOUSE_ADDR", "127.0.0.1:0")
        .env("DATABASE_URL", &data.database_url)
        .env("GATEHOUSE_SECRET_KEY_FILE", data.key_file())
        .envs(env.iter().copied())
        .args(args)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr_path).expect("log file"))
        .spawn()
        .expect("run the server binary");
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the server") {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("the server kept running");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    (
        status,
        std::fs::read_to_string(stderr_path).unwrap_or_default(),
    )
}

/// Starts the server on each config file of `cases` (what it is, its text, the words its
/// error must hold) and expects each start refused with an error line that names the
/// file, `subject` and the case's words.
pub fn assert_configs_refused(data: &DataDir, subject: &str, cases: &[(&str, String, Vec<&str>)]) {
    for (i, (case, toml, words)) in cases.iter().enumerate() {
        let path = data.dir.path().join(format!("case{i}.toml"));
        std::fs::write(&path, toml).unwrap();
        let path = path.display().to_string();
        let (status, stderr) = run_to_exit(data, &[], &[("GATEHOUSE_CONFIG", &path)]);
        assert!(!status.success(), "{case}: started anyway");
        let error = stderr
            .lines()
            .find(|l| l.starts_with("error:"))
            .unwrap_or_else(|| panic!("{case}: no error line in\n{stderr}"));
        for word in [path.as_str(), subject].iter().chain(words) {
            assert!(error.contains(word), "{case}: {word:?} not in {error:?}");
        }
    }
}

/// Every page the app routes, enumerated from the app itself, so a route added later
/// cannot escape the tests that sweep them.
pub fn app_pages() -> Vec<String> {
    leptos_axum::generate_route_list(app::App)
        .iter()
        .map(|r| r.path().to_owned())
        .collect()
}

/// Every server function's path, from the app itself.
pub fn server_functions() -> Vec<String> {
    leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.to_owned())
        .collect()
}

/// Server functions any session, or none, may call: signing in and out, the code
/// prompt's own (which a pending session needs), the passwordless sign-in, the
/// providers' names the sign-in page shows, and the emailed links' functions (the token
/// is the proof, not the session), a provider sign-up's among them (its cookie too).
pub const OPEN_FUNCTIONS: &[&str] = &[
    "/api/sign_in",
    "/api/sign_up",
    "/api/sign_out",
    "/api/verify_sign_in_code",
    "/api/signed_in_as",
    "/api/load_prompt_options",
    "/api/begin_passkey_prompt",
    "/api/finish_passkey_prompt",
    "/api/passkeys_available",
    "/api/begin_passkey_sign_in",
    "/api/finish_passkey_sign_in",
    "/api/list_providers",
    "/api/request_password_reset",
    "/api/reset_link_works",
    "/api/reset_password",
    "/api/verify_email",
    "/api/confirm_email_change",
    "/api/load_pending_sign_up",
    "/api/send_sign_up_link",
    "/api/finish_sign_up",
];

impl Browser {
    /// Calls a server function with every field any of them reads, so none is refused
    /// for a missing one before its session is checked.
    pub async fn call_with_every_field(&self, path: &str) -> Response {
        self.call(
            path.trim_start_matches("/api/"),
            &[
                ("code", "123456"),
                ("current_code", "123456"),
                ("ceremony", "c"),
                ("credential", "{}"),
                ("name", "n"),
                ("password", PASSWORD),
                ("current_password", PASSWORD),
                ("id", "1"),
                ("provider", "idp"),
                ("new_email", "other@example.com"),
            ],
        )
        .await
    }
}

/// A session's record of how it was proven (Unix seconds; `None`: never in it).
#[derive(Debug, sqlx::FromRow)]
pub struct Proofs {
    pub password_at: Option<i64>,
    pub totp_at: Option<i64>,
    pub recovery_code_at: Option<i64>,
    pub passkey_at: Option<i64>,
    pub device_at: Option<i64>,
}
