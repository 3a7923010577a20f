//! "Remember this device for 30 days": after a second factor, a browser may get a token
//! that lets a later sign-in to the same account skip the second step. The first factor is
//! always asked. The token is random, lives in its own HttpOnly cookie, is stored only as a
//! keyed hash, is good for the account it was issued for, and is forgotten whenever a
//! factor of the account changes.

use crate::store::tx::Tx;
use secrecy::{ExposeSecret, SecretString};
use sqlx::{Any, Executor};

use crate::auth::{
    guards::audit::{self, EventKind},
    kernel::{client::ClientInfo, error::AuthError, random::Entropy, tokens, user_agent},
    services::Services,
};
use crate::store::remembered_devices::{self as table, NewDevice};

/// How long a device is remembered.
pub const REMEMBER_SECS: i64 = 30 * 24 * 3600;

/// Like the session cookie, `__Host-` whenever Gatehouse is behind TLS.
pub fn cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-gatehouse_device"
    } else {
        "gatehouse_device"
    }
}

/// The cookie value. `Debug` never shows it.
#[derive(Debug)]
pub struct DeviceToken(SecretString);

impl DeviceToken {
    fn generate(entropy: &dyn Entropy) -> Self {
        DeviceToken(tokens::generate(entropy).into())
    }

    pub fn from_cookie(value: &str) -> Option<Self> {
        tokens::is_well_formed(value).then(|| DeviceToken(value.into()))
    }

    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

fn hash(services: &Services, token: &DeviceToken) -> Vec<u8> {
    tokens::keyed_hash(
        &services.keys.hashing,
        &[b"remembered-device/", token.expose().as_bytes()],
    )
}

/// Remembers this browser for the account, in the transaction that proved its second
/// factor, and logs it there.
pub async fn remember_in(
    tx: &mut Tx,
    services: &Services,
    user_id: i64,
    client: &ClientInfo,
) -> Result<DeviceToken, AuthError> {
    let token = DeviceToken::generate(&*services.random);
    let now = services.clock.now();
    table::insert(
        &mut **tx,
        NewDevice {
            token_hash: &hash(services, &token),
            user_id,
            user_agent: &client.user_agent,
            ip: &client.ip,
            now,
            expires_at: now + REMEMBER_SECS,
        },
    )
    .await?;
    let detail = user_agent::describe(&client.user_agent);
    audit::record_in(
        &mut **tx,
        services,
        user_id,
        EventKind::DeviceRemembered,
        client,
        &detail,
    )
    .await?;
    Ok(token)
}

/// True when `token` is a live remembered device of `user_id`; a token issued for any
/// other account is not.
pub async fn recognise(
    services: &Services,
    user_id: i64,
    token: &DeviceToken,
) -> Result<bool, AuthError> {
    let now = services.clock.now();
    Ok(table::use_token(&services.db, user_id, &hash(services, token), now).await?)
}

/// A remembered device as its owner sees it under Sessions.
pub struct Device {
    pub id: i64,
    pub description: String,
    pub ip: String,
    pub created_at: i64,
    pub last_used_at: i64,
    pub expires_at: i64,
}

pub async fn list(services: &Services, user_id: i64) -> Result<Vec<Device>, AuthError> {
    let rows = table::list_for_user(&services.db, user_id, services.clock.now()).await?;
    Ok(rows
        .into_iter()
        .map(|row| Device {
            id: row.id,
            description: user_agent::describe(&row.user_agent),
            ip: row.ip,
            created_at: row.created_at,
            last_used_at: row.last_used_at,
            expires_at: row.expires_at,
        })
        .collect())
}

/// Forgets one of the account's devices: its next sign-in asks for the second factor.
pub async fn forget(
    services: &Services,
    user_id: i64,
    id: i64,
    client: &ClientInfo,
) -> Result<(), AuthError> {
    if !table::delete_for_user(&services.db, user_id, id).await? {
        return Err(AuthError::DeviceNotFound);
    }
    audit::record(services, user_id, EventKind::DeviceForgotten, client, "").await
}

/// Forgets every device of the account, in the transaction of a factor change.
pub async fn forget_all_in<'c>(
    ex: impl Executor<'c, Database = Any>,
    user_id: i64,
) -> Result<u64, AuthError> {
    Ok(table::delete_all(ex, user_id).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{auth::testing, store};

    async fn user(services: &Services, email: &str) -> i64 {
        let now = services.clock.now();
        store::users::insert(&services.db, email, "hash", now)
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn a_device_is_recognised_only_for_its_own_account_until_it_expires() {
        let (services, clock, _dir) = testing::services().await;
        let alice = user(&services, "alice@example.com").await;
        let bob = user(&services, "bob@example.com").await;
        let client = ClientInfo::default();
        let mut tx = Tx::begin(&services.db).await.unwrap();
        let token = remember_in(&mut tx, &services, alice, &client)
            .await
            .unwrap();
        tx.commit().await.unwrap();

        assert!(recognise(&services, alice, &token).await.unwrap());
        assert!(!recognise(&services, bob, &token).await.unwrap());
        let forged = DeviceToken::generate(&crate::auth::kernel::random::OsEntropy);
        assert!(!recognise(&services, alice, &forged).await.unwrap());

        clock.advance(REMEMBER_SECS);
        assert!(!recognise(&services, alice, &token).await.unwrap());
    }

    #[tokio::test]
    async fn forgetting_is_checked_against_the_owner() {
        let (services, _clock, _dir) = testing::services().await;
        let alice = user(&services, "alice@example.com").await;
        let bob = user(&services, "bob@example.com").await;
        let client = ClientInfo::default();
        let mut tx = Tx::begin(&services.db).await.unwrap();
        let token = remember_in(&mut tx, &services, alice, &client)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let id = list(&services, alice).await.unwrap()[0].id;

        assert!(matches!(
            forget(&services, bob, id, &client).await,
            Err(AuthError::DeviceNotFound)
        ));
        assert!(recognise(&services, alice, &token).await.unwrap());
        forget(&services, alice, id, &client).await.unwrap();
        assert!(!recognise(&services, alice, &token).await.unwrap());
    }
}
