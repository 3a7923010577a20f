//! The server key's life: checked against the database at start, and replaced by
//! `server admin rotate-key` without losing a secret.
//!
//! Values sealed under the key (TOTP secrets, pending enrollments, codes on their way
//! to a page) are re-sealed when it changes. Hashes cannot be recomputed, so the key
//! that makes them (session tokens, recovery codes) is kept in the database, sealed
//! under the server key, and only re-sealed.

use zeroize::Zeroizing;

use crate::auth::credentials::sealing::{KeyId, SealingError, SealingKey, ServerKeys};
use crate::auth::kernel::random::{Draw, Entropy};
use crate::store::{self, Db};

const HASHING: &str = "hashing";
/// The wrapped key is bound to no user; 0 is no user's id.
const NO_USER: i64 = 0;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "this server key ({ours}) is not the one the database was sealed with ({found}); \
         start with the right key file (see README, Backups)"
    )]
    WrongKey { found: KeyId, ours: KeyId },
    #[error(
        "this server key ({ours}) does not open the secrets in the database; start with \
         the key file they were sealed with (see README, Backups)"
    )]
    DoesNotOpen { ours: KeyId },
    #[error("the new server key is the one in use ({0}); give a new key file")]
    SameKey(KeyId),
    #[error("a sealed value in the database is damaged: {0}")]
    Damaged(SealingError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

fn opened(result: Result<Vec<u8>, SealingError>, ours: KeyId) -> Result<Vec<u8>, KeyError> {
    result.map_err(|err| match err {
        SealingError::OtherKey { found, .. } => KeyError::WrongKey { found, ours },
        other => KeyError::Damaged(other),
    })
}

/// The keys for `master`, checked against the database: a key file that is not the one
/// the database was sealed with is refused before anything is served. On the first start
/// the hashing key is derived from `master`, as before keys were kept, and stored.
pub async fn load(
    db: &Db,
    master: &[u8; 32],
    now: i64,
    entropy: &dyn Entropy,
) -> Result<ServerKeys, KeyError> {
    let derived = ServerKeys::derive(master);
    let ours = derived.key_id();
    if store::wrapped_keys::find(db, HASHING).await?.is_none() {
        // The first start with kept keys, on a database that may hold secrets already:
        // keeping a hashing key from the wrong key file would void every hash for good.
        if let Some((user_id, sealed)) = store::totp::any_sealed_credential(db).await? {
            derived
                .sealing
                .open(user_id, &sealed)
                .map_err(|_| KeyError::DoesNotOpen { ours })?;
        }
        let sealed = seal(entropy, &derived.wrapping, &derived.hashing[..])?;
        store::wrapped_keys::insert_if_absent(db, HASHING, &sealed, now).await?;
    }
    // Read back: another instance starting at the same moment may have stored its own.
    let sealed = store::wrapped_keys::find(db, HASHING)
        .await?
        .ok_or(KeyError::Database(sqlx::Error::RowNotFound))?;
    let hashing = unwrap_key(&derived.wrapping, &sealed, ours)?;
    Ok(ServerKeys::with_hashing(master, hashing))
}

/// What a rotation re-sealed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Rotated {
    pub secrets: usize,
    pub enrollments: usize,
    pub handoffs: usize,
}

/// Re-seals everything sealed under `old` under `new_master`, in one transaction: after
/// it, only the new key opens the database, and sessions and recovery codes still work.
pub async fn rotate(
    db: &Db,
    old: &ServerKeys,
    new_master: &[u8; 32],
    entropy: &dyn Entropy,
) -> Result<Rotated, KeyError> {
    let new = ServerKeys::with_hashing(new_master, old.hashing.clone());
    let ours = old.key_id();
    if new.key_id() == ours {
        return Err(KeyError::SameKey(ours));
    }
    let mut tx = db.begin().await?;
    let wrapped = seal(entropy, &new.wrapping, &old.hashing[..])?;
    if !store::wrapped_keys::replace(&mut *tx, HASHING, &wrapped).await? {
        return Err(KeyError::Database(sqlx::Error::RowNotFound));
    }
    let mut rotated = Rotated::default();
    for (user_id, sealed) in store::totp::all_sealed_credentials(&mut *tx).await? {
        let secret = Zeroizing::new(opened(old.sealing.open(user_id, &sealed), ours)?);
        let resealed = seal_for(entropy, &new.sealing, user_id, &secret)?;
        store::totp::reseal_credential(&mut *tx, user_id, &sealed, &resealed).await?;
        rotated.secrets += 1;
    }
    for (session_id, user_id, sealed) in store::totp::all_sealed_enrollments(&mut *tx).await? {
        let secret = Zeroizing::new(opened(old.sealing.open(user_id, &sealed), ours)?);
        let resealed = seal_for(entropy, &new.sealing, user_id, &secret)?;
        store::totp::reseal_enrollment(&mut *tx, session_id, &sealed, &resealed).await?;
        rotated.enrollments += 1;
    }
    for (session_id, user_id, sealed) in store::code_handoffs::all_sealed(&mut *tx).await? {
        let codes = Zeroizing::new(opened(old.handoff.open(user_id, &sealed), ours)?);
        let resealed = seal_for(entropy, &new.handoff, user_id, &codes)?;
        store::code_handoffs::reseal(&mut *tx, session_id, &sealed, &resealed).await?;
        rotated.handoffs += 1;
    }
    for (id, user_id, sealed) in store::outbox::all_sealed(&mut *tx).await? {
        let message = Zeroizing::new(opened(old.outbox.open(user_id, &sealed), ours)?);
        let resealed = seal_for(entropy, &new.outbox, user_id, &message)?;
        store::outbox::reseal(&mut *tx, id, &resealed).await?;
    }
    tx.commit().await?;
    Ok(rotated)
}

fn seal(entropy: &dyn Entropy, key: &SealingKey, bytes: &[u8]) -> Result<Vec<u8>, KeyError> {
    seal_for(entropy, key, NO_USER, bytes)
}

fn seal_for(
    entropy: &dyn Entropy,
    key: &SealingKey,
    user_id: i64,
    bytes: &[u8],
) -> Result<Vec<u8>, KeyError> {
    key.seal(user_id, bytes, &mut Draw::from(entropy))
        .map_err(KeyError::Damaged)
}

fn unwrap_key(
    wrapping: &SealingKey,
    sealed: &[u8],
    ours: KeyId,
) -> Result<Zeroizing<[u8; 32]>, KeyError> {
    let bytes = Zeroizing::new(opened(wrapping.open(NO_USER, sealed), ours)?);
    let mut key = Zeroizing::new([0u8; 32]);
    if bytes.len() != key.len() {
        return Err(KeyError::Damaged(SealingError::Open));
    }
    key.copy_from_slice(&bytes);
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::kernel::random::OsEntropy;
    use crate::auth::testing;

    #[tokio::test]
    async fn a_rotation_keeps_every_secret_and_hash_under_the_new_key_only() {
        let (services, _clock, _dir) = testing::services().await;
        let db = &services.db;
        let old_master = [7u8; 32];
        let old = load(db, &old_master, 1, &OsEntropy).await.unwrap();
        let user = store::users::insert(db, "rotate@example.com", "x", 1)
            .await
            .unwrap();
        let sealed = old
            .sealing
            .seal(user, b"twenty bytes secret!", &mut Draw::from(&OsEntropy))
            .unwrap();
        store::totp::insert(db, user, &sealed, 1, 1).await.unwrap();

        let new_master = [8u8; 32];
        let rotated = rotate(db, &old, &new_master, &OsEntropy).await.unwrap();
        assert_eq!(rotated.secrets, 1);

        let new = load(db, &new_master, 2, &OsEntropy).await.unwrap();
        assert_eq!(*new.hashing, *old.hashing, "hashes made before still match");
        let credential = store::totp::find(db, user).await.unwrap().unwrap();
        assert_eq!(
            new.sealing.open(user, &credential.sealed_secret).unwrap(),
            b"twenty bytes secret!"
        );
        match load(db, &old_master, 3, &OsEntropy).await {
            Err(KeyError::WrongKey { found, ours }) => {
                assert_eq!((found, ours), (new.key_id(), old.key_id()));
            }
            other => panic!("the old key must be refused, got {other:?}"),
        }
    }

    #[tokio::test]
    async fn the_first_start_with_kept_keys_refuses_a_key_that_does_not_open_the_secrets() {
        let (services, _clock, _dir) = testing::services().await;
        let db = &services.db;
        // A database from before keys were kept: a secret sealed under one key, no row.
        let user = store::users::insert(db, "upgrade@example.com", "x", 1)
            .await
            .unwrap();
        let right = ServerKeys::derive(&[7u8; 32]);
        let sealed = right
            .sealing
            .seal(user, b"twenty bytes secret!", &mut Draw::from(&OsEntropy))
            .unwrap();
        store::totp::insert(db, user, &sealed, 1, 1).await.unwrap();

        match load(db, &[9u8; 32], 1, &OsEntropy).await {
            Err(KeyError::DoesNotOpen { .. }) => {}
            other => panic!("a wrong key must be refused before it is kept, got {other:?}"),
        }
        assert!(store::wrapped_keys::find(db, HASHING)
            .await
            .unwrap()
            .is_none());
        let keys = load(db, &[7u8; 32], 2, &OsEntropy)
            .await
            .expect("the right key still starts");
        assert!(matches!(
            rotate(db, &keys, &[7u8; 32], &OsEntropy).await,
            Err(KeyError::SameKey(_))
        ));
    }
}
