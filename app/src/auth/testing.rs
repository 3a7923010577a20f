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
use crate::store::testing::{migrated_db, SQLITE_PRAGMAS};

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
    let (db, dir) = migrated_db().await;
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
        clients: crate::auth::adapters::oidc_clients::Clients::default(),
        passkeys: crate::auth::adapters::relying_party::RelyingParty::default(),
    };
    (services, clock, dir)
}

pub fn client(ip: &str) -> ClientInfo {
    ClientInfo {
        ip: ip.into(),
        user_agent: "test".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::kernel::tokens;

    #[test]
    fn a_seed_fixes_every_token_and_code_drawn_from_it() {
        let (a, b) = (SeededEntropy::new(5), SeededEntropy::new(5));
        assert_eq!(tokens::generate(&a), tokens::generate(&b));
        assert_ne!(
            tokens::generate(&a),
            tokens::generate(&SeededEntropy::new(6))
        );
        let codes = |e: &SeededEntropy| {
            crate::auth::credentials::recovery_codes::generate_set(
                &mut crate::auth::kernel::random::Draw::from(e),
            )
            .iter()
            .map(|c| c.display())
            .collect::<Vec<_>>()
        };
        assert_eq!(codes(&SeededEntropy::new(7)), codes(&SeededEntropy::new(7)));
        assert_ne!(codes(&SeededEntropy::new(7)), codes(&SeededEntropy::new(8)));
    }
}
