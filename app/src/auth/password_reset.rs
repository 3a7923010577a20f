//! "Forgot password?": a single-use link, valid 30 minutes, to the account's verified
//! address. A reset ends every session and never touches two-factor authentication.

use crate::store::Tx;
use std::time::Duration;

use super::{
    accounts,
    audit::{self, EventKind},
    email::Email,
    error::AuthError,
    mail::{messages, outbox, tokens},
    notices::{self, Notice},
    sessions, verification, ClientInfo, Services,
};
use crate::store;

/// Every request is answered this long after it arrived (or later), whether or not the
/// account exists, so the time of the answer tells nothing.
pub const ANSWER_AFTER: Duration = Duration::from_millis(400);

/// Sends a reset link if the address belongs to an account and is verified. The answer
/// is the same either way; only a refused address or a limit is told apart.
pub async fn request(
    services: &Services,
    email: &str,
    client: &ClientInfo,
) -> Result<(), AuthError> {
    let answer_at = tokio::time::Instant::now() + ANSWER_AFTER;
    let result = send_link(services, email, client).await;
    tokio::time::sleep_until(answer_at).await;
    result
}

async fn send_link(services: &Services, email: &str, client: &ClientInfo) -> Result<(), AuthError> {
    let email = Email::parse(email)?;
    verification::count_mail(services, &format!("reset:{}", email.as_str()), client).await?;
    let Some(user) = store::users::find_by_email(&services.db, email.as_str()).await? else {
        return Ok(());
    };
    if user.email_verified_at.is_none() {
        return Ok(());
    }
    let mut tx = Tx::begin(&services.db).await?;
    let link = tokens::issue_in(
        &mut *tx,
        services,
        user.id,
        tokens::Purpose::Reset,
        &user.email,
    )
    .await?;
    outbox::enqueue_in(
        &mut *tx,
        services,
        user.id,
        &messages::reset_password(&user.email, &link),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Whether the reset page should offer the form, or say the link no longer works.
pub async fn link_works(services: &Services, token: &str) -> Result<bool, AuthError> {
    tokens::is_live(services, tokens::Purpose::Reset, token).await
}

/// Sets the new password. The link is spent in the commit that sets it, with every
/// session and every other link of the account ended, and the notice queued.
pub async fn reset(
    services: &Services,
    token: &str,
    new_password: String,
    client: &ClientInfo,
) -> Result<(), AuthError> {
    let Some((user_id, email)) = tokens::peek(services, tokens::Purpose::Reset, token).await?
    else {
        return Err(AuthError::LinkExpired);
    };
    let password = accounts::new_password_for(&email, new_password)?;
    let hash = services.hasher.hash(&password).await?;
    let mut tx = Tx::begin(&services.db).await?;
    let Some((spent_by, sent_to)) =
        tokens::spend_in(&mut *tx, services, tokens::Purpose::Reset, token).await?
    else {
        return Err(AuthError::LinkExpired);
    };
    // The link proves the mailbox it was sent to, which must still be the account's.
    let current = store::users::find_by_id(&mut *tx, user_id).await?;
    if spent_by != user_id || current.is_none_or(|user| user.email != sent_to) {
        return Err(AuthError::LinkExpired);
    }
    store::users::set_password_hash(&mut *tx, user_id, &hash).await?;
    sessions::end_others(&mut *tx, user_id, None).await?;
    super::remembered_devices::forget_all_in(&mut *tx, user_id).await?;
    store::email_tokens::delete_for_user(&mut *tx, user_id).await?;
    audit::record_in(
        &mut *tx,
        services,
        user_id,
        EventKind::PasswordReset,
        client,
        "",
    )
    .await?;
    notices::notify_in(&mut tx, services, user_id, &Notice::PasswordReset, client).await?;
    tx.commit().await?;
    Ok(())
}
