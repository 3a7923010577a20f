//! Proving an address: a single-use link, valid 24 hours, sent after sign-up and again on
//! request (a few times an hour at most).

use crate::auth::guards::account;
use crate::auth::{
    adapters::messages,
    guards::{email_tokens, outbox, throttle},
    kernel::{client::ClientInfo, error::AuthError},
    services::Services,
};
use crate::store;
use crate::store::tx::Tx;

/// Queues the verification message in the caller's transaction (sign-up's own).
pub async fn send_in(
    tx: &mut Tx,
    services: &Services,
    user_id: i64,
    email: &str,
) -> Result<(), AuthError> {
    let link = email_tokens::issue_in(
        &mut **tx,
        services,
        user_id,
        email_tokens::Purpose::Verify,
        email,
    )
    .await?;
    outbox::enqueue_in(
        &mut **tx,
        services,
        user_id,
        &messages::verify_email(email, &link),
    )
    .await
}

/// "Send again": counted per account and per address before anything is sent.
pub async fn resend(
    services: &Services,
    user_id: i64,
    client: &ClientInfo,
) -> Result<(), AuthError> {
    let user = account::by_id(services, user_id).await?;
    if user.email_verified_at.is_some() {
        return Err(AuthError::AlreadyVerified);
    }
    count_mail(services, &format!("verify:{user_id}"), client).await?;
    let mut tx = Tx::begin(&services.db).await?;
    send_in(&mut tx, services, user_id, &user.email).await?;
    tx.commit().await?;
    Ok(())
}

/// Opens a verification link: the address is proved if it is still the account's.
pub async fn confirm(services: &Services, token: &str) -> Result<(), AuthError> {
    let mut tx = Tx::begin(&services.db).await?;
    let Some((user_id, email)) =
        email_tokens::spend_in(&mut *tx, services, email_tokens::Purpose::Verify, token).await?
    else {
        return Err(AuthError::LinkExpired);
    };
    if !store::users::mark_email_verified(&mut *tx, user_id, &email, services.clock.now()).await? {
        return Err(AuthError::LinkExpired);
    }
    tx.commit().await?;
    Ok(())
}

/// Counts one message asked for, against `key` (the account) and the client's address.
/// Asking is never given back: every message sent counts.
pub async fn count_mail(
    services: &Services,
    key: &str,
    client: &ClientInfo,
) -> Result<(), AuthError> {
    let address = throttle::reserve(
        services,
        throttle::address_key("mail", &client.ip),
        throttle::MAIL_PER_IP,
    )
    .await?;
    throttle::stands(services, &address).await?;
    let account =
        throttle::reserve(services, format!("mail:{key}"), throttle::MAIL_PER_ACCOUNT).await?;
    throttle::stands(services, &account).await?;
    Ok(())
}
