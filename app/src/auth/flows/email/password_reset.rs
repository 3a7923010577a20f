//! "Forgot password?": a single-use link, valid 30 minutes, to the account's verified
//! address. A reset ends every session and never touches two-factor authentication.

use crate::store::{tx::Tx, users::UserRow};
use std::time::Duration;

use crate::auth::capabilities::factor_change;
use crate::auth::guards::account;
use crate::auth::{
    adapters::messages::{self, Notice},
    flows::{accounts, email::verification},
    guards::{
        audit::{self, EventKind},
        email_tokens, notices, outbox,
    },
    kernel::{client::ClientInfo, email_address::Email, error::AuthError},
    services::Services,
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
    issue(services, &user).await
}

/// Sends the signed-in account a link to set its password: for an account whose
/// providers cannot confirm a fresh sign-in, the way to its first password. Only to a
/// proved address, counted like every reset.
pub async fn send_to_account(
    services: &Services,
    user_id: i64,
    client: &ClientInfo,
) -> Result<(), AuthError> {
    let user = account::by_id(services, user_id).await?;
    if user.email_verified_at.is_none() {
        return Err(AuthError::EmailNotVerified);
    }
    verification::count_mail(services, &format!("reset:{}", user.email), client).await?;
    issue(services, &user).await
}

/// Queues the link. To an address not proved yet it is a claim: whoever receives mail
/// there owns the address, so the link also removes every way in someone else may have
/// given the account (see [`reset`]), and the message says so.
async fn issue(services: &Services, user: &UserRow) -> Result<(), AuthError> {
    let mut tx = Tx::begin(&services.db).await?;
    let link = email_tokens::issue_in(
        &mut *tx,
        services,
        user.id,
        email_tokens::Purpose::Reset,
        &user.email,
    )
    .await?;
    let message = match user.email_verified_at {
        Some(_) => messages::reset_password(&user.email, &link),
        None => messages::claim_account(&user.email, &link),
    };
    outbox::enqueue_in(&mut *tx, services, user.id, &message).await?;
    tx.commit().await?;
    Ok(())
}

/// Whether the reset page should offer the form, or say the link no longer works.
pub async fn link_works(services: &Services, token: &str) -> Result<bool, AuthError> {
    email_tokens::is_live(services, email_tokens::Purpose::Reset, token).await
}

/// Sets the new password. The link is spent in the commit that sets it, with every
/// session and every other link of the account ended, and the notice queued; it works
/// only while the address it was sent to is still the account's. On an account whose
/// address was not proved, the link proves it and claims the account: every way in it
/// had (providers, passkeys, the authenticator app, recovery codes) goes too, since
/// whoever made the account may not be the address's owner.
pub async fn reset(
    services: &Services,
    token: &str,
    new_password: String,
    client: &ClientInfo,
) -> Result<(), AuthError> {
    let Some((user_id, email)) =
        email_tokens::peek(services, email_tokens::Purpose::Reset, token).await?
    else {
        return Err(AuthError::LinkExpired);
    };
    let password = accounts::new_password_for(&email, new_password)?;
    let hash = services.hasher.hash(&password).await?;
    let mut tx = Tx::begin(&services.db).await?;
    match email_tokens::spend_in(&mut *tx, services, email_tokens::Purpose::Reset, token).await? {
        Some((spent_by, sent_to)) if spent_by == user_id && sent_to == email => {}
        _ => return Err(AuthError::LinkExpired),
    }
    let user = match store::users::find_by_id(&mut *tx, user_id).await? {
        Some(user) if user.email == email => user,
        _ => return Err(AuthError::LinkExpired),
    };
    store::users::set_password_hash(&mut *tx, user_id, &hash).await?;
    let notice = match user.email_verified_at {
        Some(_) => Notice::PasswordReset,
        None => {
            let removed = claim_in(&mut tx, services, user_id, &email).await?;
            Notice::AccountClaimed { removed }
        }
    };
    factor_change::end_sessions_in(&mut tx, user_id, None).await?;
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
    notices::notify_in(&mut tx, services, user_id, &notice, client).await?;
    tx.commit().await?;
    Ok(())
}

/// Proves the address and removes every way in but the new password; returns what was
/// removed, in words for the notice.
async fn claim_in(
    tx: &mut Tx,
    services: &Services,
    user_id: i64,
    email: &str,
) -> Result<Vec<String>, AuthError> {
    let mut removed = Vec::new();
    for link in store::linked_identities::list_for_user(&mut **tx, user_id).await? {
        let name = services
            .providers
            .get(&link.provider_id)
            .map_or(link.provider_id.clone(), |p| p.name.clone());
        removed.push(format!("the connected {name} account"));
    }
    store::linked_identities::delete_all_for_user(&mut **tx, user_id).await?;
    let passkeys = store::passkeys::count_for_user(&mut **tx, user_id).await?;
    if passkeys > 0 {
        removed.push(match passkeys {
            1 => "a passkey".to_owned(),
            n => format!("{n} passkeys"),
        });
        store::passkeys::delete_all(&mut **tx, user_id).await?;
    }
    if store::totp::delete(&mut **tx, user_id).await? {
        removed.push("two-factor authentication with an authenticator app".to_owned());
    }
    store::recovery_codes::delete_all(&mut **tx, user_id).await?;
    if !store::users::mark_email_verified(&mut **tx, user_id, email, services.clock.now()).await? {
        return Err(AuthError::LinkExpired);
    }
    Ok(removed)
}
