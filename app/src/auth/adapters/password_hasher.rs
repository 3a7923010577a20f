//! Hashing and verifying passwords with argon2id on threads of their own, behind an
//! admission queue: a flood of sign-ins waits its turn or is turned away, and never
//! starves the rest of the server.

use crate::auth::credentials::password::Password;
use std::{
    panic::AssertUnwindSafe,
    sync::{
        atomic::{AtomicU64, AtomicUsize, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};

use argon2::{
    password_hash::{
        self,
        phc::{Output, ParamsString, Salt},
        PasswordHasher as _, PasswordVerifier,
    },
    Algorithm, Argon2, Block, Params, PasswordHash, Version, ARGON2ID_IDENT,
};
use secrecy::ExposeSecret;
use tokio::sync::oneshot;

use crate::auth::kernel::error::AuthError;

/// How long, by default, a password check may expect to wait for a core before it is
/// turned away. Past this a person is better told to try again in a moment (503 with
/// `Retry-After`) than kept waiting behind a queue that only grows, and the queue stays
/// short enough that the cheap steps sharing the cores are not held up by it.
pub const MAX_WAIT: Duration = Duration::from_secs(2);

/// Hashes and verifies with argon2id (m = 19 MiB, t = 2, p = 1, OWASP's baseline).
///
/// Each hash holds 19 MiB for ~25 ms of a core, so hashing runs on one thread per core
/// ([`HashThreads`]), which bounds both the memory and the hashing; checks beyond
/// [`MAX_WAIT`] of queue are refused at once ([`PasswordHasher::admit`]).
/// Each thread keeps and reuses its 19 MiB of working memory: allocated afresh, every
/// check paid thousands of page faults, and glibc kept freed sets in per-thread arenas
/// (580 MB of RSS under a wrong-password flood, against 68 MB with kept sets on glibc
/// and about 100 MB on mimalloc, the server's allocator now).
#[derive(Clone)]
pub struct PasswordHasher {
    argon2: Argon2<'static>,
    threads: HashThreads,
    queue: Arc<Queue>,
    /// Verified against when the email is unknown, so that case costs the same time.
    dummy_hash: Arc<str>,
}

/// Work for a hashing thread, handed that thread's kept working memory.
type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

/// Threads that do nothing but hash, taking checks from one queue. A thread that
/// finishes a hash starts the next at once. Handing a core on through the async runtime
/// (a permit released, the next waiter polled, a blocking task spawned) needed two polls
/// on the runtime's workers between hashes, so the core sat idle whenever those workers
/// were busy rendering pages, which is exactly when sign-ins are many.
#[derive(Clone)]
struct HashThreads {
    jobs: flume::Sender<Job>,
}

impl HashThreads {
    /// Starts `count` threads; they end when the last hasher holding them is dropped.
    fn start(count: usize) -> Result<Self, AuthError> {
        let (jobs, queue) = flume::unbounded::<Job>();
        for i in 0..count {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || {
                    let mut memory = Vec::new();
                    while let Ok(job) = queue.recv() {
                        // A bug in one check must not take a core from all the others.
                        let _ = std::panic::catch_unwind(AssertUnwindSafe(|| job(&mut memory)));
                    }
                })
                .map_err(AuthError::internal)?;
        }
        Ok(HashThreads { jobs })
    }

    /// Runs `job` on the next free thread and waits for its answer.
    async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> Result<T, AuthError> {
        let (answer, answered) = oneshot::channel();
        let queued = crate::auth::kernel::metrics::QueuedHash::enter();
        self.jobs
            .send(Box::new(move |memory: &mut Vec<Block>| {
                drop(queued);
                // The request was dropped while it waited (its connection closed): the
                // core goes to the next check instead.
                if !answer.is_closed() {
                    let _ = answer.send(job(memory));
                }
            }))
            .map_err(|_| AuthError::HasherUnavailable)?;
        answered
            .await
            .map_err(|_| AuthError::internal("a password check ended without an answer"))
    }
}

/// What admission needs to know: how many checks are ahead, and how long one takes.
struct Queue {
    concurrency: usize,
    max_wait: Duration,
    /// Checks admitted and not yet done, whether waiting or hashing.
    in_flight: AtomicUsize,
    /// One hash's wall time, as a moving average, in microseconds.
    hash_micros: AtomicU64,
}

impl Queue {
    /// The wait of a check that arrives with `ahead` checks admitted before it: one
    /// hash's time for every round of `concurrency` checks queued in front of it.
    fn expected_wait(&self, ahead: usize) -> Duration {
        let queued = (ahead + 1).saturating_sub(self.concurrency);
        let rounds = queued.div_ceil(self.concurrency) as u64;
        Duration::from_micros(self.hash_micros.load(Ordering::Relaxed) * rounds)
    }

    /// Moves the average an eighth of the way to a hash just timed.
    fn record(&self, took: Duration) {
        let took = took.as_micros().min(u128::from(u64::MAX)) as u64;
        let mean = self.hash_micros.load(Ordering::Relaxed);
        let next = mean - mean / 8 + took / 8;
        self.hash_micros.store(next.max(1), Ordering::Relaxed);
    }
}

/// A place in the hasher's queue. It is taken before a sign-in counts its attempt, so a
/// check turned away has changed nothing, and it is given up when dropped.
#[must_use]
pub struct Admitted<'h> {
    hasher: &'h PasswordHasher,
}

impl Drop for Admitted<'_> {
    fn drop(&mut self) {
        self.hasher.queue.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

impl PasswordHasher {
    /// A hasher for `concurrency` cores that turns checks away past [`MAX_WAIT`].
    pub fn new(concurrency: usize) -> Result<Self, AuthError> {
        Self::with_max_wait(concurrency, MAX_WAIT)
    }

    /// A hasher that turns checks away past `max_wait` (`--password-max-wait-ms`).
    pub fn with_max_wait(concurrency: usize, max_wait: Duration) -> Result<Self, AuthError> {
        let params = Params::new(19 * 1024, 2, 1, None).map_err(AuthError::internal)?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let started = Instant::now();
        let dummy_hash: PasswordHash = argon2
            .hash_password(b"gatehouse dummy password")
            .map_err(AuthError::internal)?;
        let concurrency = concurrency.max(1);
        Ok(PasswordHasher {
            argon2,
            threads: HashThreads::start(concurrency)?,
            queue: Arc::new(Queue {
                concurrency,
                max_wait,
                in_flight: AtomicUsize::new(0),
                // The first hash allocates its memory, so it overestimates the rest.
                hash_micros: AtomicU64::new(started.elapsed().as_micros().max(1) as u64),
            }),
            dummy_hash: dummy_hash.to_string().into(),
        })
    }

    /// Takes a place in the queue, or refuses with how long to wait when the checks
    /// ahead would keep this one waiting longer than the limit. The place is counted
    /// before the wait is estimated, so checks arriving together cannot all slip in.
    pub fn admit(&self) -> Result<Admitted<'_>, AuthError> {
        let ahead = self.queue.in_flight.fetch_add(1, Ordering::AcqRel);
        let admitted = Admitted { hasher: self };
        let wait = self.queue.expected_wait(ahead);
        if wait > self.queue.max_wait {
            crate::auth::kernel::metrics::password_check_shed();
            return Err(AuthError::HasherBusy {
                retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
            });
        }
        Ok(admitted)
    }

    /// Hashes in the PHC string format.
    pub async fn hash(&self, password: &Password) -> Result<String, AuthError> {
        self.admit()?.hash(password).await
    }

    /// Checks a password against a stored hash, or against the dummy hash when `stored` is
    /// `None`, which always fails but takes as long as a real check.
    pub async fn verify(
        &self,
        password: &Password,
        stored: Option<&str>,
    ) -> Result<bool, AuthError> {
        self.admit()?.verify(password, stored).await
    }
}

impl Admitted<'_> {
    /// Hashes in the PHC string format.
    pub async fn hash(self, password: &Password) -> Result<String, AuthError> {
        let argon2 = self.hasher.argon2.clone();
        let password = password.to_secret();
        self.run(move |memory| {
            hash_with(
                &argon2,
                password.expose_secret().as_bytes(),
                Salt::generate(),
                Params::DEFAULT_OUTPUT_LEN,
                memory,
            )
            .map(|h| h.to_string())
            .map_err(AuthError::internal)
        })
        .await?
    }

    /// See [`PasswordHasher::verify`].
    pub async fn verify(
        self,
        password: &Password,
        stored: Option<&str>,
    ) -> Result<bool, AuthError> {
        let argon2 = self.hasher.argon2.clone();
        let password = password.to_secret();
        let known = stored.is_some();
        let phc = stored
            .map(str::to_owned)
            .unwrap_or_else(|| self.hasher.dummy_hash.to_string());
        self.run(move |memory| {
            let parsed = PasswordHash::new(&phc).map_err(AuthError::internal)?;
            // Verify first: the dummy hash must cost exactly what a real one does.
            let matches = verify_with(
                &argon2,
                password.expose_secret().as_bytes(),
                &parsed,
                memory,
            );
            Ok(known && matches)
        })
        .await?
    }

    async fn run<T: Send + 'static>(
        self,
        job: impl FnOnce(&mut [Block]) -> T + Send + 'static,
    ) -> Result<T, AuthError> {
        let queue = self.hasher.queue.clone();
        let blocks = self.hasher.argon2.params().block_count();
        self.hasher
            .threads
            .run(move |memory| {
                if memory.len() != blocks {
                    *memory = vec![Block::default(); blocks];
                }
                let started = Instant::now();
                let out = job(memory);
                queue.record(started.elapsed());
                out
            })
            .await
    }
}

/// The crate's own hashing, on memory we keep instead of memory it allocates.
fn hash_with(
    argon2: &Argon2<'_>,
    password: &[u8],
    salt: Salt,
    output_len: usize,
    memory: &mut [Block],
) -> password_hash::Result<PasswordHash> {
    let mut buffer = [0u8; Output::MAX_LENGTH];
    let out = buffer
        .get_mut(..output_len)
        .ok_or(password_hash::Error::OutputSize)?;
    argon2.hash_password_into_with_memory(password, &salt, out, &mut *memory)?;
    Ok(PasswordHash {
        algorithm: ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(argon2.params())?,
        salt: Some(salt),
        hash: Some(Output::new(out)?),
    })
}

/// A hash made with our parameters is checked on the kept memory; one made with other
/// parameters (an older configuration) is checked by the crate, which allocates its own.
fn verify_with(
    argon2: &Argon2<'_>,
    password: &[u8],
    stored: &PasswordHash,
    memory: &mut [Block],
) -> bool {
    let (Some(salt), Some(expected)) = (stored.salt, stored.hash) else {
        return false;
    };
    let ours = stored.algorithm == ARGON2ID_IDENT
        && stored.version == Some(Version::V0x13.into())
        && Params::try_from(stored).is_ok_and(|p| {
            let mine = argon2.params();
            (p.m_cost(), p.t_cost(), p.p_cost()) == (mine.m_cost(), mine.t_cost(), mine.p_cost())
        });
    if !ours {
        return argon2.verify_password(password, stored).is_ok();
    }
    hash_with(argon2, password, salt, expected.len(), memory)
        .ok()
        .and_then(|computed| computed.hash)
        // `Output` compares in constant time.
        .is_some_and(|computed| computed == expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::auth::credentials::password::Password;

    #[tokio::test]
    async fn hash_then_verify_round_trips() {
        let hasher = PasswordHasher::new(2).unwrap();
        let password = Password::for_sign_in("correct-Horse-battery-staple-92".into()).unwrap();
        let hash = hasher.hash(&password).await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(hasher.verify(&password, Some(&hash)).await.unwrap());
        let wrong = Password::for_sign_in("correct-Horse-battery-staple-93".into()).unwrap();
        assert!(!hasher.verify(&wrong, Some(&hash)).await.unwrap());
    }

    #[tokio::test]
    async fn unknown_account_never_verifies() {
        let hasher = PasswordHasher::new(1).unwrap();
        let password = Password::for_sign_in("gatehouse dummy password".into()).unwrap();
        assert!(!hasher.verify(&password, None).await.unwrap());
    }

    #[tokio::test]
    async fn hashes_agree_with_the_argon2_crate_both_ways() {
        let hasher = PasswordHasher::new(1).unwrap();
        let password = Password::for_sign_in("correct-Horse-battery-staple-92".into()).unwrap();
        let ours = hasher.hash(&password).await.unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(hasher
            .argon2
            .verify_password(password.expose().as_bytes(), &parsed)
            .is_ok());

        let theirs: PasswordHash = hasher
            .argon2
            .hash_password(password.expose().as_bytes())
            .unwrap();
        let theirs = theirs.to_string();
        assert!(hasher.verify(&password, Some(&theirs)).await.unwrap());
    }

    #[tokio::test]
    async fn a_hash_made_with_other_parameters_still_verifies() {
        let hasher = PasswordHasher::new(1).unwrap();
        let password = Password::for_sign_in("correct-Horse-battery-staple-92".into()).unwrap();
        let older = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(8 * 1024, 3, 1, None).unwrap(),
        );
        let hash: PasswordHash = older.hash_password(password.expose().as_bytes()).unwrap();
        let hash = hash.to_string();
        assert!(hasher.verify(&password, Some(&hash)).await.unwrap());
        let wrong = Password::for_sign_in("correct-Horse-battery-staple-93".into()).unwrap();
        assert!(!hasher.verify(&wrong, Some(&hash)).await.unwrap());
    }

    /// Accounts made before the move to argon2 0.6 keep signing in: this hash was stored
    /// by a release server built with argon2 0.5.3 (commit 0e18d42) at sign-up.
    #[tokio::test]
    async fn a_hash_stored_by_the_argon2_0_5_build_still_verifies() {
        const STORED: &str = "$argon2id$v=19$m=19456,t=2,p=1$DuWiujS1gXanzqCnaAOsRA$\
                              SA7ebVHmod46JyP6cQT89ibxhW7wQP6f/DdUXRdsW80";
        let hasher = PasswordHasher::new(1).unwrap();
        let right = Password::for_sign_in("correct horse battery staple 42".into()).unwrap();
        assert!(hasher.verify(&right, Some(STORED)).await.unwrap());
        let wrong = Password::for_sign_in("correct horse battery staple 43".into()).unwrap();
        assert!(!hasher.verify(&wrong, Some(STORED)).await.unwrap());
    }

    /// Eight checks at once on one core with no waiting allowed: the one that finds the
    /// core free is checked, the seven queued behind it are refused at once with a wait,
    /// and the places they took are given back.
    #[tokio::test]
    async fn checks_that_would_wait_too_long_are_turned_away_at_once() {
        let hasher = PasswordHasher::with_max_wait(1, Duration::ZERO).unwrap();
        let password = Password::for_sign_in("correct-Horse-battery-staple-92".into()).unwrap();
        let answers =
            futures::future::join_all((0..8).map(|_| hasher.verify(&password, None))).await;
        let checked = answers.iter().filter(|a| matches!(a, Ok(false))).count();
        let waits: Vec<u64> = answers
            .iter()
            .filter_map(|a| match a {
                Err(AuthError::HasherBusy { retry_after_secs }) => Some(*retry_after_secs),
                _ => None,
            })
            .collect();
        assert_eq!((checked, waits.len()), (1, 7), "{answers:?}");
        assert!(waits.iter().all(|&secs| secs >= 1), "{waits:?}");
        assert_eq!(hasher.queue.in_flight.load(Ordering::Acquire), 0);
        assert!(!hasher.verify(&password, None).await.unwrap());
    }

    /// With the default limit, a queue as deep as the bench's highest concurrency is
    /// still admitted, and one far deeper is not.
    #[test]
    fn the_limit_is_measured_in_time_not_places() {
        let queue = Queue {
            concurrency: 2,
            max_wait: MAX_WAIT,
            in_flight: AtomicUsize::new(0),
            hash_micros: AtomicU64::new(30_000),
        };
        assert_eq!(queue.expected_wait(0), Duration::ZERO);
        assert_eq!(queue.expected_wait(1), Duration::ZERO);
        assert_eq!(queue.expected_wait(2), Duration::from_millis(30));
        assert_eq!(queue.expected_wait(4), Duration::from_millis(60));
        assert!(queue.expected_wait(63) <= MAX_WAIT);
        assert!(queue.expected_wait(200) > MAX_WAIT);
        queue.record(Duration::from_millis(110));
        assert_eq!(queue.hash_micros.load(Ordering::Relaxed), 40_000);
    }

    #[tokio::test]
    async fn working_memory_is_kept_for_the_next_check() {
        let hasher = PasswordHasher::new(1).unwrap();
        let password = Password::for_sign_in("correct-Horse-battery-staple-92".into()).unwrap();
        let mut seen = Vec::new();
        for _ in 0..3 {
            hasher.hash(&password).await.unwrap();
            let memory = hasher
                .threads
                .run(|memory| (memory.as_ptr() as usize, memory.len()))
                .await
                .unwrap();
            seen.push(memory);
        }
        assert_eq!(seen[0].1, 19 * 1024);
        assert!(
            seen.iter().all(|&m| m == seen[0]),
            "one thread, one set of blocks: {seen:?}"
        );
    }

    /// A check whose request was dropped while it waited (its connection closed) is not
    /// hashed: the core goes to the checks still wanted.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_check_nobody_waits_for_any_more_is_skipped() {
        let hasher = PasswordHasher::new(1).unwrap();
        let (started, blocked) = std::sync::mpsc::channel::<()>();
        let (release, released) = std::sync::mpsc::channel::<()>();
        let threads = hasher.threads.clone();
        let busy = tokio::spawn(async move {
            threads
                .run(move |_| {
                    started.send(()).unwrap();
                    released.recv().unwrap();
                })
                .await
        });
        blocked.recv().unwrap();
        let ran = Arc::new(AtomicUsize::new(0));
        let counted = ran.clone();
        let abandoned = hasher
            .threads
            .run(move |_| counted.fetch_add(1, Ordering::SeqCst));
        // Queued behind the busy job, then given up before a thread reaches it.
        assert!(tokio::time::timeout(Duration::from_millis(50), abandoned)
            .await
            .is_err());
        release.send(()).unwrap();
        busy.await.unwrap().unwrap();
        let password = Password::for_sign_in("correct-Horse-battery-staple-92".into()).unwrap();
        assert!(!hasher.verify(&password, None).await.unwrap());
        assert_eq!(ran.load(Ordering::SeqCst), 0);
    }
}
