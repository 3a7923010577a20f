//! The domain on its real store, with a clock the test moves: a fresh SQLite database
//! with the server's migrations, for tests that need time or concurrency.

use std::sync::{
    atomic::{AtomicI64, Ordering},
    Arc,
};

use crate::auth::{
    adapters::password_hasher::PasswordHasher,
    credentials::sealing::ServerKeys,
    kernel::{client::ClientInfo, clock::Clock, random::Entropy},
    services::{AuthConfig, Services},
};
use crate::store::Db;

/// A clock that stands still until told to move.
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn advance(&self, secs: i64) {
        self.0.fetch_add(secs, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// Randomness a test fixes: the same seed draws the same tokens, keys and codes.
pub struct SeededEntropy(std::sync::Mutex<rand::rngs::StdRng>);

impl SeededEntropy {
    pub fn new(seed: u64) -> Self {
        SeededEntropy(std::sync::Mutex::new(rand::SeedableRng::seed_from_u64(
            seed,
        )))
    }
}

impl Entropy for SeededEntropy {
    fn fill(&self, bytes: &mut [u8]) {
        use rand::Rng as _;
        self.0
            .lock()
            .expect("the test's generator")
            .fill_bytes(bytes);
    }
}

/// Services on a fresh database; keep the returned directory alive as long as them.
pub async fn services() -> (Services, Arc<ManualClock>, tempfile::TempDir) {
    sqlx::any::install_default_drivers();
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}/test.db?mode=rwc", dir.path().display());
    let db = sqlite_pool(&url, 8).await;
    sqlx::migrate!("../server/migrations/sqlite")
        .run(&db)
        .await
        .expect("migrations");
    let clock = Arc::new(ManualClock(AtomicI64::new(1_800_000_000)));
    let services = Services {
        db,
        backend: crate::store::Backend::Sqlite,
        commits: crate::store::group_commit::GroupCommit::grouped(
            &dir.path().join("test.db"),
            SQLITE_PRAGMAS,
        )
        .expect("the writer"),
        reads: crate::store::reads::Reads::sqlite(&dir.path().join("test.db")).expect("reads"),
        keys: ServerKeys::derive(&[7; 32]),
        hasher: PasswordHasher::new(2).expect("hasher"),
        clock: clock.clone(),
        random: Arc::new(SeededEntropy::new(1)),
        config: AuthConfig {
            issuer: "Gatehouse".into(),
            secure_cookies: false,
            trusted_proxies: Vec::new(),
            session_max_age_secs: 30 * 24 * 3600,
            sign_ups_per_hour: 20,
            public_url: crate::auth::kernel::public_url::PublicUrl::parse("http://127.0.0.1:3000")
                .expect("public URL"),
            require_two_factor: false,
        },
        providers: crate::auth::adapters::providers::Providers::default(),
        passkeys: crate::auth::adapters::relying_party::RelyingParty::default(),
    };
    (services, clock, dir)
}

/// The tests' SQLite set-up: like the server's, but commits are not flushed to disk.
pub const SQLITE_PRAGMAS: &str = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                                  PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;";

/// A pool of `connections` on the SQLite file at `url`, set up as the tests need it.
pub async fn sqlite_pool(url: &str, connections: u32) -> Db {
    sqlx::any::AnyPoolOptions::new()
        .max_connections(connections)
        .after_connect(|conn, _| {
            Box::pin(async move {
                sqlx::Executor::execute(conn, SQLITE_PRAGMAS).await?;
                Ok(())
            })
        })
        .connect(url)
        .await
        .expect("open the test database")
}

pub fn client(ip: &str) -> ClientInfo {
    ClientInfo {
        ip: ip.into(),
        user_agent: "test".into(),
    }
}
