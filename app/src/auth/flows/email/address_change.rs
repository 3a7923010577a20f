//! Changing the account's address: confirmed like any security change, proved by a link
//! sent to the new address, and told to the old one.

use crate::auth::capabilities::factor_change;
use crate::auth::capabilities::step_up;
use crate::auth::guards::account;
use crate::auth::{
    adapters::messages::{self, Notice},
    capabilities::factor_change::AccountChange,
    flows::email::verification,
    guards::{
        audit::{self, EventKind},
        email_tokens, notices, outbox,
        sessions::Session,
    },
    kernel::{client::ClientInfo, email_address::Email, error::AuthError},
    services::Services,
};
use crate::store;
use crate::store::tx::Tx;

/// Sends the confirmation link to `new_email` (ending any earlier one) and the notice to
/// the current address. The address changes only when the link is opened.
///
/// An address that already has an account is answered exactly as a free one, after the
/// same count and the same second factor, so this is no way to learn who has an account:
/// its owner is told someone tried, and no link is sent.
pub async fn request(
    services: &Services,
    session: &Session,
    new_email: &str,
    password: String,
    code: &str,
    client: &ClientInfo,
) -> Result<(), AuthError> {
    let new_email = Email::parse(new_email)?;
    let user = account::by_id(services, session.user_id).await?;
    if new_email.as_str() == user.email {
        return Err(AuthError::SameEmail);
    }
    step_up::confirm_identity(services, session, password, client).await?;
    verification::count_mail(services, &format!("change:{}", user.id), client).await?;
    let mut tx = step_up::second_factor_if_on(services, session, code, client).await?;
    email_tokens::revoke_in(&mut *tx, user.id, email_tokens::Purpose::ChangeEmail).await?;
    match store::users::find_by_email(&mut *tx, new_email.as_str()).await? {
        Some(owner) => {
            // Only a proved address is told: an unproved one may be someone else's.
            if owner.email_verified_at.is_some() {
                let word = messages::address_taken(&owner.email);
                outbox::enqueue_in(&mut *tx, services, owner.id, &word).await?;
            }
        }
        None => {
            let link = email_tokens::issue_in(
                &mut *tx,
                services,
                user.id,
                email_tokens::Purpose::ChangeEmail,
                new_email.as_str(),
            )
            .await?;
            let confirm = messages::confirm_new_email(new_email.as_str(), &link);
            outbox::enqueue_in(&mut *tx, services, user.id, &confirm).await?;
        }
    }
    let notice = Notice::EmailChangeRequested {
        new_email: new_email.as_str().to_owned(),
    };
    // Like every notice, only to a proved address: an unproved one may be someone else's.
    if user.email_verified_at.is_some() {
        notices::notify_address_in(&mut tx, services, user.id, &user.email, &notice, client)
            .await?;
    }
    audit::record_in(
        &mut *tx,
        services,
        user.id,
        EventKind::EmailChangeRequested,
        client,
        new_email.as_str(),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Opens the link sent to the new address: the account moves there, every other link it
/// was sent ends, and the old address is told. The address is how the account is reset,
/// so this is a factor change: every session but `session` (the browser that opened the
/// link, if it is the account's) ends, and remembered devices are forgotten.
pub async fn confirm(
    services: &Services,
    token: &str,
    session: Option<&Session>,
    client: &ClientInfo,
) -> Result<(), AuthError> {
    let mut tx = Tx::begin(&services.db).await?;
    let Some((user_id, new_email)) = email_tokens::spend_in(
        &mut *tx,
        services,
        email_tokens::Purpose::ChangeEmail,
        token,
    )
    .await?
    else {
        return Err(AuthError::LinkExpired);
    };
    let Some(user) = store::users::find_by_id(&mut *tx, user_id).await? else {
        return Err(AuthError::LinkExpired);
    };
    match store::users::change_email(&mut *tx, user_id, &new_email, services.clock.now()).await {
        Ok(()) => {}
        Err(err) if store::is_unique_violation(&err) => return Err(AuthError::EmailTaken),
        Err(err) => return Err(err.into()),
    }
    // A reset link or another pending move sent before now would act on the old address.
    store::email_tokens::delete_for_user(&mut *tx, user_id).await?;
    let notice = Notice::EmailChanged {
        new_email: new_email.clone(),
    };
    if user.email_verified_at.is_some() {
        notices::notify_address_in(&mut tx, services, user_id, &user.email, &notice, client)
            .await?;
    }
    let change = AccountChange {
        user_id,
        keep: session.filter(|s| s.user_id == user_id).map(|s| s.id),
        kind: EventKind::EmailChanged,
        detail: &new_email,
        notice: None,
    };
    factor_change::commit_account_change(tx, services, change, client).await
}
