//! The security activity log each person can read about their own account.

use super::{ClientInfo, Services};
use crate::{error::AppError, store::security_events as table};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    SignedUp,
    SignedIn,
    SignInFailed,
    WrongPassword,
    SignedOut,
    SecondFactorFailed,
    LockedOut,
    TwoFactorEnabled,
    TwoFactorDisabled,
    RecoveryCodeUsed,
    RecoveryCodesRegenerated,
    SessionEnded,
    AdminReset,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::SignedUp => "signed_up",
            EventKind::SignedIn => "signed_in",
            EventKind::SignInFailed => "sign_in_failed",
            EventKind::WrongPassword => "wrong_password",
            EventKind::SignedOut => "signed_out",
            EventKind::SecondFactorFailed => "second_factor_failed",
            EventKind::LockedOut => "locked_out",
            EventKind::TwoFactorEnabled => "two_factor_enabled",
            EventKind::TwoFactorDisabled => "two_factor_disabled",
            EventKind::RecoveryCodeUsed => "recovery_code_used",
            EventKind::RecoveryCodesRegenerated => "recovery_codes_regenerated",
            EventKind::SessionEnded => "session_ended",
            EventKind::AdminReset => "admin_reset",
        }
    }
}

/// What the Security activity page calls each event.
pub fn describe(kind: &str) -> &'static str {
    match kind {
        "signed_up" => "Account created",
        "signed_in" => "Signed in",
        "sign_in_failed" => "Sign-in failed",
        "wrong_password" => "Wrong password entered in Settings",
        "signed_out" => "Signed out",
        "second_factor_failed" => "Wrong two-factor code",
        "locked_out" => "Locked after too many attempts",
        "two_factor_enabled" => "Two-factor authentication turned on",
        "two_factor_disabled" => "Two-factor authentication turned off",
        "recovery_code_used" => "Recovery code used",
        "recovery_codes_regenerated" => "New recovery codes generated",
        "session_ended" => "Session ended",
        "admin_reset" => "Two-factor authentication reset by an administrator",
        _ => "Account activity",
    }
}

/// Appends one event. `detail` is for people and must never hold a secret.
pub async fn record(
    services: &Services,
    user_id: i64,
    kind: EventKind,
    client: &ClientInfo,
    detail: &str,
) -> Result<(), AppError> {
    record_in(&services.db, services, user_id, kind, client, detail).await
}

/// [`record`] inside a transaction, so the event commits with what it describes.
pub async fn record_in<'c>(
    ex: impl sqlx::Executor<'c, Database = sqlx::Any>,
    services: &Services,
    user_id: i64,
    kind: EventKind,
    client: &ClientInfo,
    detail: &str,
) -> Result<(), AppError> {
    table::insert(
        ex,
        table::NewEvent {
            user_id,
            kind: kind.as_str(),
            at: services.clock.now(),
            ip: &client.ip,
            user_agent: &client.user_agent,
            detail,
        },
    )
    .await?;
    Ok(())
}
