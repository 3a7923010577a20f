//! A provider's account that no account is linked to yet: linked to the account with its
//! trusted verified email, made a new account where sign-up is open, or held until its
//! address is proved.

use crate::auth::adapters::provider_apis::Identity;
use crate::auth::adapters::providers::Provider;
use crate::auth::capabilities::factor_change;
use crate::auth::flows::social::links::insert_link;
use crate::auth::flows::social::sign_up;
use crate::store::tx::Tx;

use crate::auth::{
    adapters::messages::Notice,
    capabilities::factor_change::AccountChange,
    guards::audit::{self, EventKind},
    kernel::{client::ClientInfo, email_address::Email, error::AuthError},
    services::Services,
};
use crate::shared::provider_refusal::Refusal;
use crate::store::{self, users::UserRow};

/// What a provider's account with no link comes to.
pub(crate) enum NewIdentity {
    /// Linked to an account, new or found by its trusted email.
    Linked,
    /// Waiting for an address, in the browser bound by this cookie value.
    ConfirmEmail(String),
}

pub(crate) async fn account_for_new_identity(
    services: &Services,
    provider: &Provider,
    identity: &Identity,
    client: &ClientInfo,
) -> Result<NewIdentity, AuthError> {
    let email = identity.email.as_deref().and_then(|e| Email::parse(e).ok());
    let Some(email) = email.filter(|_| identity.email_verified) else {
        if !provider.allow_signup {
            return Err(AuthError::Social(Refusal::NotLinked));
        }
        return Ok(NewIdentity::ConfirmEmail(
            sign_up::hold(services, provider, identity).await?,
        ));
    };
    if let Some(existing) = store::users::find_by_email(&services.db, email.as_str()).await? {
        link_by_email(services, provider, identity, &existing, client).await?;
        return Ok(NewIdentity::Linked);
    }
    if !provider.allow_signup {
        return Err(AuthError::Social(Refusal::NotLinked));
    }
    sign_up_with(services, provider, identity, &email, client).await?;
    Ok(NewIdentity::Linked)
}

/// Links the identity to the account with its email, where the operator trusts the
/// provider's email and the account proved its own. A new way in like any other: every
/// session ends, and the owner is told.
async fn link_by_email(
    services: &Services,
    provider: &Provider,
    identity: &Identity,
    existing: &UserRow,
    client: &ClientInfo,
) -> Result<(), AuthError> {
    let may_link = provider.trust_email && existing.email_verified_at.is_some();
    if !may_link {
        return Err(AuthError::Social(Refusal::EmailExists));
    }
    let mut tx = Tx::begin(&services.db).await?;
    insert_link(
        &mut tx,
        services,
        existing.id,
        &provider.id,
        &identity.key(),
    )
    .await?;
    let change = AccountChange {
        user_id: existing.id,
        keep: None,
        kind: EventKind::ProviderLinked,
        detail: &format!("{} (by its verified email)", provider.name),
        notice: Some(Notice::ProviderConnected {
            provider: provider.name.clone(),
        }),
    };
    factor_change::commit_account_change(tx, services, change, client).await?;
    Ok(())
}

/// A new account for the identity, linked to it. The provider proved the address; where
/// the operator trusts that, so does Gatehouse, and otherwise it is sent a link.
async fn sign_up_with(
    services: &Services,
    provider: &Provider,
    identity: &Identity,
    email: &Email,
    client: &ClientInfo,
) -> Result<(), AuthError> {
    crate::auth::flows::accounts::count_sign_up(services, client).await?;
    let mut tx = Tx::begin(&services.db).await?;
    let user_id =
        match store::users::insert_without_password(&mut *tx, email.as_str(), services.clock.now())
            .await
        {
            Ok(id) => id,
            Err(err) if store::is_unique_violation(&err) => {
                return Err(AuthError::Social(Refusal::EmailExists))
            }
            Err(err) => return Err(err.into()),
        };
    insert_link(&mut tx, services, user_id, &provider.id, &identity.key()).await?;
    let detail = format!("with {}", provider.name);
    audit::record_in(
        &mut *tx,
        services,
        user_id,
        EventKind::SignedUp,
        client,
        &detail,
    )
    .await?;
    if provider.trust_email {
        store::users::mark_email_verified(&mut *tx, user_id, email.as_str(), services.clock.now())
            .await?;
    } else {
        crate::auth::flows::email::verification::send_in(
            &mut tx,
            services,
            user_id,
            email.as_str(),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
