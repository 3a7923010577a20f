//! The security activity log each person can read about their own account.

use crate::auth::{
    kernel::{client::ClientInfo, error::AuthError, user_agent},
    services::Services,
};
use crate::store::security_events as table;

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
    ProviderLinked,
    ProviderUnlinked,
    PasswordSet,
    PasswordChanged,
    PasswordReset,
    EmailChangeRequested,
    EmailChanged,
    DeviceRemembered,
    DeviceForgotten,
    TwoFactorRequired,
    AuthenticatorSwitched,
    PasskeyAdded,
    PasskeyUsed,
    PasskeyRenamed,
    PasskeyRemoved,
    PasskeyDisabled,
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
            EventKind::ProviderLinked => "provider_linked",
            EventKind::ProviderUnlinked => "provider_unlinked",
            EventKind::PasswordSet => "password_set",
            EventKind::PasswordChanged => "password_changed",
            EventKind::PasswordReset => "password_reset",
            EventKind::EmailChangeRequested => "email_change_requested",
            EventKind::EmailChanged => "email_changed",
            EventKind::DeviceRemembered => "device_remembered",
            EventKind::DeviceForgotten => "device_forgotten",
            EventKind::TwoFactorRequired => "two_factor_required",
            EventKind::AuthenticatorSwitched => "authenticator_switched",
            EventKind::PasskeyAdded => "passkey_added",
            EventKind::PasskeyUsed => "passkey_used",
            EventKind::PasskeyRenamed => "passkey_renamed",
            EventKind::PasskeyRemoved => "passkey_removed",
            EventKind::PasskeyDisabled => "passkey_disabled",
        }
    }
}

/// What the Security activity page calls each event.
fn describe(kind: &str) -> &'static str {
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
        "provider_linked" => "Sign-in provider connected",
        "provider_unlinked" => "Sign-in provider disconnected",
        "password_set" => "Password set",
        "password_changed" => "Password changed",
        "password_reset" => "Password reset by email",
        "email_change_requested" => "Email change asked for",
        "email_changed" => "Email address changed",
        "device_remembered" => "Device remembered for 30 days",
        "device_forgotten" => "Remembered device forgotten",
        "two_factor_required" => "Two-factor authentication required by policy",
        "authenticator_switched" => "Authenticator app replaced",
        "passkey_added" => "Passkey added",
        "passkey_used" => "Passkey used",
        "passkey_renamed" => "Passkey renamed",
        "passkey_removed" => "Passkey removed",
        // Stored by versions that refused such a passkey without disabling it.
        "passkey_clone_suspected" => {
            "Passkey refused: its counter went backwards (possibly cloned)"
        }
        "passkey_disabled" => "Passkey disabled: its counter went backwards (possibly copied)",
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
) -> Result<(), AuthError> {
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
) -> Result<(), AuthError> {
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

/// One event as the account's owner reads it.
pub struct Event {
    pub id: i64,
    pub what: &'static str,
    pub detail: String,
    pub at: i64,
    pub ip: String,
    /// The browser and system, described; empty when none was recorded.
    pub device: String,
}

pub struct Page {
    pub events: Vec<Event>,
    /// Where the next (older) page starts, if there is one.
    pub older: Option<i64>,
}

/// Up to `size` of the account's events, newest first, below `before` when given.
pub async fn page(
    services: &Services,
    user_id: i64,
    before: Option<i64>,
    size: i64,
) -> Result<Page, AuthError> {
    // One more than a page, to learn whether an older page exists.
    let mut rows = table::page(&services.db, user_id, before, size + 1).await?;
    let older = (rows.len() as i64 > size).then(|| {
        rows.truncate(size as usize);
        rows.last().map(|r| r.id)
    });
    let events = rows
        .into_iter()
        .map(|r| Event {
            id: r.id,
            what: describe(&r.kind),
            detail: r.detail,
            at: r.at,
            ip: r.ip,
            device: if r.user_agent.is_empty() {
                String::new()
            } else {
                user_agent::describe(&r.user_agent)
            },
        })
        .collect();
    Ok(Page {
        events,
        older: older.flatten(),
    })
}

/// A lock started by the attempt just logged: `what` was locked, for `secs`.
pub async fn record_lock_in<'c>(
    ex: impl sqlx::Executor<'c, Database = sqlx::Any>,
    services: &Services,
    user_id: i64,
    client: &ClientInfo,
    what: &str,
    secs: u64,
) -> Result<(), AuthError> {
    let detail = format!(
        "{what} locked for {}",
        crate::shared::words::human_duration(secs)
    );
    record_in(ex, services, user_id, EventKind::LockedOut, client, &detail).await
}
