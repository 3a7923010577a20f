//! The single-use links mail carries: 256 random bits, stored only as keyed hashes, spent
//! with one atomic statement, and ended by a password change.

use sqlx::{Any, Executor};

use crate::{
    auth::{
        kernel::{error::AuthError, tokens},
        services::Services,
    },
    store,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Proves the address after sign-up; 24 hours.
    Verify,
    /// Sets a new password; 30 minutes.
    Reset,
    /// Moves the account to the address it was sent to; 24 hours.
    ChangeEmail,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Verify => "verify",
            Purpose::Reset => "reset",
            Purpose::ChangeEmail => "change_email",
        }
    }

    fn ttl_secs(self) -> i64 {
        match self {
            Purpose::Reset => 30 * 60,
            Purpose::Verify | Purpose::ChangeEmail => 24 * 3600,
        }
    }

    /// The page the link opens.
    fn path(self) -> &'static str {
        match self {
            Purpose::Verify => "/verify-email",
            Purpose::Reset => "/reset-password",
            Purpose::ChangeEmail => "/confirm-email",
        }
    }
}

/// Makes a token for `user_id` and `email` in the caller's transaction, and returns the
/// link that carries it, built on the public URL.
pub async fn issue_in<'c>(
    ex: impl Executor<'c, Database = Any>,
    services: &Services,
    user_id: i64,
    purpose: Purpose,
    email: &str,
) -> Result<String, AuthError> {
    let token = tokens::generate(&*services.random);
    let expires_at = services.clock.now() + purpose.ttl_secs();
    store::email_tokens::insert(
        ex,
        &hash(services, &token),
        user_id,
        purpose.as_str(),
        email,
        expires_at,
    )
    .await?;
    let base = services
        .config
        .public_url
        .as_url()
        .as_str()
        .trim_end_matches('/');
    Ok(format!("{base}{}?token={token}", purpose.path()))
}

/// Ends the account's earlier links of `purpose` in the caller's transaction, so only the
/// newest one works.
pub async fn revoke_in<'c>(
    ex: impl Executor<'c, Database = Any>,
    user_id: i64,
    purpose: Purpose,
) -> Result<(), AuthError> {
    Ok(store::email_tokens::delete_for_user_and_purpose(ex, user_id, purpose.as_str()).await?)
}

/// Spends a token in the caller's transaction: the account and address it was for, or
/// `None` when it is unknown, used, expired or for another purpose.
pub async fn spend_in<'c>(
    ex: impl Executor<'c, Database = Any>,
    services: &Services,
    purpose: Purpose,
    token: &str,
) -> Result<Option<(i64, String)>, AuthError> {
    if !tokens::is_well_formed(token) {
        return Ok(None);
    }
    Ok(store::email_tokens::take(
        ex,
        &hash(services, token),
        purpose.as_str(),
        services.clock.now(),
    )
    .await?)
}

/// Whether the link still works, to show its page (or say it does not) before anything
/// is typed.
pub async fn is_live(
    services: &Services,
    purpose: Purpose,
    token: &str,
) -> Result<bool, AuthError> {
    if !tokens::is_well_formed(token) {
        return Ok(false);
    }
    Ok(peek(services, purpose, token).await?.is_some())
}

fn hash(services: &Services, token: &str) -> Vec<u8> {
    tokens::keyed_hash(&services.keys.hashing, &[b"email-token/", token.as_bytes()])
}

/// The account and address a live token is for, without spending it.
pub async fn peek(
    services: &Services,
    purpose: Purpose,
    token: &str,
) -> Result<Option<(i64, String)>, AuthError> {
    if !tokens::is_well_formed(token) {
        return Ok(None);
    }
    Ok(store::email_tokens::find(
        &services.db,
        &hash(services, token),
        purpose.as_str(),
        services.clock.now(),
    )
    .await?)
}
