//! The providers linked to an account: linking one (a factor change), disconnecting
//! one, and who owns an identity.

use crate::auth::adapters::provider_apis::Identity;
use crate::auth::adapters::providers::Provider;
use crate::auth::capabilities::factor_change;
use crate::auth::capabilities::step_up;
use crate::auth::guards::account;
use crate::store::tx::Tx;

use crate::auth::capabilities::step_up::StepUp;
use crate::auth::{
    adapters::messages::Notice,
    capabilities::factor_change::AccountChange,
    guards::{audit::EventKind, sessions::Session},
    kernel::{client::ClientInfo, error::AuthError},
    services::Services,
};
use crate::shared::provider_refusal::Refusal;
use crate::store::{
    self,
    linked_identities::{LinkedIdentityRow, Owner},
};

/// Links the identity to the account in `tx`, at a credentials epoch of its own, which it
/// returns: no session begun before the link counts it as linked before it began.
pub(crate) async fn insert_link(
    tx: &mut Tx,
    services: &Services,
    user_id: i64,
    provider_id: &str,
    identity: &IdentityKey<'_>,
) -> Result<i64, AuthError> {
    let epoch = store::users::bump_credentials_epoch(&mut **tx, user_id).await?;
    match store::linked_identities::insert(
        &mut **tx,
        user_id,
        provider_id,
        identity.provider_key,
        identity.subject,
        services.clock.now(),
    )
    .await
    {
        Ok(()) => Ok(epoch),
        // Linked elsewhere a moment ago, or this account has another one of this provider.
        Err(err) if store::is_unique_violation(&err) => {
            let owner = owner_by_key(services, identity).await?;
            Err(AuthError::Social(match owner {
                Some(owner) if owner.user_id != user_id => Refusal::LinkedElsewhere,
                _ => Refusal::AlreadyLinked,
            }))
        }
        Err(err) => Err(err.into()),
    }
}

/// Connects the provider to the signed-in account, confirmed when the round trip began;
/// connecting it again is no change. A factor change: the other sessions end and the
/// owner is told, in the commit that links it.
pub(crate) async fn link(
    services: &Services,
    provider: &Provider,
    identity: &Identity,
    session: &Session,
    client: &ClientInfo,
) -> Result<(), AuthError> {
    let owner = owner_of(services, identity).await?;
    match owner {
        Some(owner) if owner.user_id == session.user_id => return Ok(()),
        Some(_) => return Err(AuthError::Social(Refusal::LinkedElsewhere)),
        None => {}
    }
    let mut tx = Tx::begin(&services.db).await?;
    // The address was proved when the round trip began; it must still be.
    account::require_verified_address(&mut *tx, session.user_id).await?;
    insert_link(
        &mut tx,
        services,
        session.user_id,
        &provider.id,
        &identity.key(),
    )
    .await?;
    let change = AccountChange {
        user_id: session.user_id,
        keep: Some(session.id),
        kind: EventKind::ProviderLinked,
        detail: &provider.name,
        notice: Some(Notice::ProviderConnected {
            provider: provider.name.clone(),
        }),
    };
    factor_change::commit_account_change(tx, services, change, client).await
}

/// The account's ways to sign in.
pub struct Methods {
    pub has_password: bool,
    /// Linked providers by id, with when each was linked.
    pub linked: Vec<LinkedIdentityRow>,
}

pub async fn methods(services: &Services, user_id: i64) -> Result<Methods, AuthError> {
    let user = crate::auth::guards::account::by_id(services, user_id).await?;
    Ok(Methods {
        has_password: user.password_hash.is_some(),
        linked: linked(services, user_id).await?,
    })
}

/// The providers linked to the account, with when each was linked.
pub async fn linked(
    services: &Services,
    user_id: i64,
) -> Result<Vec<LinkedIdentityRow>, AuthError> {
    Ok(store::linked_identities::list_for_user(&services.db, user_id).await?)
}

/// Disconnects a provider, unless it is the account's last way to sign in: confirmed
/// like every change of a way in, and a factor change. The account's row is written
/// first, so two disconnects at once take turns and see each other. Nothing to
/// disconnect spends nothing: the code's claim is rolled back.
pub async fn disconnect(
    services: &Services,
    session: &Session,
    provider_id: &str,
    confirmation: StepUp,
    client: &ClientInfo,
) -> Result<(), AuthError> {
    step_up::confirm_identity(services, session, confirmation.password, client).await?;
    let mut tx =
        step_up::second_factor_if_on(services, session, &confirmation.code, client).await?;
    store::users::lock(&mut *tx, session.user_id).await?;
    let linked = store::linked_identities::list_for_user(&mut *tx, session.user_id).await?;
    if !linked.iter().any(|l| l.provider_id == provider_id) {
        return Ok(());
    }
    if !store::linked_identities::delete_unless_last(&mut *tx, session.user_id, provider_id).await?
    {
        return Err(AuthError::Social(Refusal::LastMethod));
    }
    let name = services
        .providers
        .get(provider_id)
        .map_or(provider_id, |p| p.name.as_str());
    let change = AccountChange {
        user_id: session.user_id,
        keep: Some(session.id),
        kind: EventKind::ProviderUnlinked,
        detail: name,
        notice: Some(Notice::ProviderDisconnected {
            provider: name.to_owned(),
        }),
    };
    factor_change::commit_account_change(tx, services, change, client).await
}

/// The account this provider identity is linked to, if any.
pub(crate) async fn owner_of(
    services: &Services,
    identity: &Identity,
) -> Result<Option<Owner>, AuthError> {
    owner_by_key(services, &identity.key()).await
}

/// What names a provider's account: its issuer (or provider id) and its subject.
pub(crate) struct IdentityKey<'a> {
    pub(crate) provider_key: &'a str,
    pub(crate) subject: &'a str,
}

impl Identity {
    pub(crate) fn key(&self) -> IdentityKey<'_> {
        IdentityKey {
            provider_key: &self.provider_key,
            subject: &self.subject,
        }
    }
}

pub(crate) async fn owner_by_key(
    services: &Services,
    key: &IdentityKey<'_>,
) -> Result<Option<Owner>, AuthError> {
    Ok(store::linked_identities::find_owner(&services.db, key.provider_key, key.subject).await?)
}
