//! The accounts and sessions the measurements start from, written through the app's own
//! domain and storage code on the server's database, outside every measured window.

use std::sync::{Arc, Mutex};

use anyhow::Context;
use app::{
    auth::{
        adapters::password_hasher::PasswordHasher,
        credentials::{
            password::Password,
            sealing::ServerKeys,
            totp::{self, TotpSecret},
        },
        guards::sessions::{self, SessionToken, Stage},
        kernel::{client::ClientInfo, clock::SystemClock, random::OsEntropy},
        services::{AuthConfig, Services},
    },
    store,
};

pub const PASSWORD: &str = "bench-Horse-battery-staple-92";

pub struct BenchUser {
    pub id: i64,
    pub email: String,
    secret: TotpSecret,
}

/// Hands out TOTP steps so that no code is ever sent twice: each user's steps must rise,
/// exactly as the server enforces, and only the current step ±1 is accepted.
pub struct Codes {
    users: Arc<Vec<BenchUser>>,
    last_step: Mutex<Vec<i64>>,
    /// The next account to sign in, shared by every run, so a run never starts again on
    /// the accounts the run before it used up in the same step.
    cursor: std::sync::atomic::AtomicUsize,
}

impl Codes {
    /// Every user starts as if last signed in a minute ago: the current step and the next
    /// are usable now (the previous one could age out during a run), then one per step.
    pub fn new(users: Arc<Vec<BenchUser>>, start_step: i64) -> Self {
        let last_step = Mutex::new(vec![start_step; users.len()]);
        Codes {
            users,
            last_step,
            cursor: std::sync::atomic::AtomicUsize::new(0),
        }
    }

    /// The account to sign in next: each in turn, around again once all have been used,
    /// by which time their steps have moved on.
    pub fn next_user(&self) -> usize {
        self.cursor
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            % self.users.len()
    }

    pub fn users(&self) -> &[BenchUser] {
        &self.users
    }

    /// The next unused code of `user` that the server accepts now, if it has one left.
    pub fn next_code(&self, user: usize) -> Option<String> {
        let now_step = now() / totp::STEP_SECS;
        let mut last = self.last_step.lock().unwrap_or_else(|e| e.into_inner());
        let step = (last[user] + 1).max(now_step);
        if step > now_step + 1 {
            return None;
        }
        last[user] = step;
        drop(last);
        let period = totp::STEP_SECS as u64;
        totp::code_at(
            self.users[user].secret.as_bytes(),
            totp::Algorithm::SHA1,
            totp::DIGITS,
            period,
            step as u64 * period,
        )
        .ok()
    }
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// The domain services on the server's database and key, as a second process would
/// build them.
pub async fn services(database_url: &str, master: &[u8; 32]) -> anyhow::Result<Services> {
    sqlx::any::install_default_drivers();
    let db = sqlx::any::AnyPoolOptions::new()
        .max_connections(4)
        .connect(database_url)
        .await
        .context("connecting to the benchmark database")?;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let backend = app::store::Backend::from_url(database_url)
        .ok_or_else(|| anyhow::anyhow!("not a SQLite or PostgreSQL URL: {database_url}"))?;
    Ok(Services {
        backend,
        commits: app::store::group_commit::GroupCommit::separate(db.clone()),
        reads: app::store::reads::Reads::pooled(db.clone()),
        db,
        keys: ServerKeys::derive(master),
        hasher: PasswordHasher::new(cores).map_err(|e| anyhow::anyhow!("{e}"))?,
        clock: Arc::new(SystemClock),
        random: Arc::new(OsEntropy),
        config: AuthConfig {
            issuer: "Gatehouse".into(),
            secure_cookies: false,
            trusted_proxies: Vec::new(),
            session_max_age_secs: 30 * 24 * 3600,
            sign_ups_per_hour: 20,
            public_url: app::auth::kernel::public_url::PublicUrl::parse("http://127.0.0.1:3000")?,
            require_two_factor: false,
        },
        providers: app::auth::adapters::providers::Providers::default(),
        clients: app::auth::adapters::oidc_clients::Clients::default(),
        passkeys: app::auth::adapters::relying_party::RelyingParty::default(),
    })
}

/// `count` accounts with two-factor authentication on. They share one argon2 hash of
/// the same password (made once, with the server's parameters) so seeding costs seconds.
pub async fn seed_users(
    services: &Services,
    tag: &str,
    count: usize,
) -> anyhow::Result<Vec<BenchUser>> {
    let password = Password::for_sign_in(PASSWORD.into()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let hash = services
        .hasher
        .hash(&password)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let created = now();
    let mut users = Vec::with_capacity(count);
    for chunk in (0..count).collect::<Vec<_>>().chunks(500) {
        let mut tx = services.db.begin().await?;
        for i in chunk {
            let email = format!("bench-{tag}-{i}@example.com");
            let id = store::users::insert(&mut *tx, &email, &hash, created).await?;
            let secret = TotpSecret::generate(&mut services.rng());
            let sealed = services
                .keys
                .sealing
                .seal(id, secret.as_bytes(), &mut services.rng())
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            store::totp::insert(&mut *tx, id, &sealed, 0, created).await?;
            users.push(BenchUser { id, email, secret });
        }
        tx.commit().await?;
    }
    Ok(users)
}

/// Folds SQLite's write-ahead log back into the database file after seeding, so a
/// measurement starts from the database a running server keeps, not with a checkpoint
/// of the seeding inside its window. (Once, after seeding the code step's 50,000
/// sessions through this pool, the log held 1.1 GB against a 6-MB file.) PostgreSQL
/// needs nothing.
pub async fn settle(services: &Services) -> anyhow::Result<()> {
    if services.db.connect_options().database_url.scheme() != "sqlite" {
        return Ok(());
    }
    let busy: i64 = sqlx::query_scalar("PRAGMA wal_checkpoint(TRUNCATE)")
        .fetch_one(&services.db)
        .await
        .context("checkpointing the seeded database")?;
    anyhow::ensure!(busy == 0, "the seeded database could not be checkpointed");
    Ok(())
}

/// A session for `user` at `stage`, as the password step (or a finished sign-in) leaves it.
pub async fn session(
    services: &Services,
    user: &BenchUser,
    stage: Stage,
) -> anyhow::Result<SessionToken> {
    let client = ClientInfo {
        ip: "127.0.0.1".into(),
        user_agent: "gatehouse-bench".into(),
    };
    let row = app::store::users::find_by_id(&services.db, user.id)
        .await?
        .context("a seeded account is gone")?;
    sessions::start(
        services,
        sessions::Checked::of(&row),
        stage,
        &client,
        "password",
        &[app::auth::credentials::proofs::Method::Password],
    )
    .await
    .map_err(|e| anyhow::anyhow!("{e}"))
}
