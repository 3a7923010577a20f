//! A factor change: a change to how an account is entered ends every other session,
//! forgets remembered devices, moves the credentials epoch on, is logged and announced,
//! all in the commit that makes it.

use crate::auth::kernel::fail_points;
use crate::auth::{
    adapters::messages::Notice,
    guards::{
        audit::{self, EventKind},
        notices, remembered_devices,
        sessions::{self, Session},
    },
    kernel::{client::ClientInfo, error::AuthError},
    services::Services,
};
use crate::store::{self, tx::Tx};

/// Finishes a factor change in the transaction that made it: every other session of the
/// account ends (taking its pending enrollments and code handoffs along), this session's
/// leftovers go, and the change is logged. All of it commits together, or none of it.
pub(crate) async fn commit_factor_change(
    tx: Tx,
    services: &Services,
    session: &Session,
    kind: EventKind,
    detail: &str,
    client: &ClientInfo,
) -> Result<(), AuthError> {
    let change = AccountChange {
        user_id: session.user_id,
        keep: Some(session.id),
        kind,
        detail,
        notice: notice_for(kind),
    };
    commit_account_change(tx, services, change, client).await
}

/// A change to how an account is entered, as [`commit_account_change`] finishes it.
pub(crate) struct AccountChange<'a> {
    pub user_id: i64,
    /// The session that made the change, which stays signed in; `None` where the change
    /// came from no session of the account's (a sign-in that linked a provider by email,
    /// an emailed link opened elsewhere).
    pub keep: Option<i64>,
    pub kind: EventKind,
    pub detail: &'a str,
    /// The security notice to the account's verified address, if the change sends one.
    pub notice: Option<Notice>,
}

/// [`commit_factor_change`] for any change to how the account is entered, with or
/// without a session of the account's making it.
pub(crate) async fn commit_account_change(
    mut tx: Tx,
    services: &Services,
    change: AccountChange<'_>,
    client: &ClientInfo,
) -> Result<(), AuthError> {
    let AccountChange {
        user_id,
        keep,
        kind,
        detail,
        notice,
    } = change;
    let ended = end_sessions_in(&mut tx, user_id, keep).await?;
    audit::record_in(&mut *tx, services, user_id, kind, client, detail).await?;
    if let Some(notice) = notice {
        notices::notify_in(&mut tx, services, user_id, &notice, client).await?;
    }
    if ended > 0 {
        let detail = match keep {
            Some(_) => format!("{ended} other session(s) signed out after a security change"),
            None => format!("{ended} session(s) signed out after a security change"),
        };
        audit::record_in(
            &mut *tx,
            services,
            user_id,
            EventKind::SessionEnded,
            client,
            &detail,
        )
        .await?;
    }
    fail::fail_point!("factor_change.before_commit", |_| Err(AuthError::internal(
        "failpoint"
    )));
    fail_points::hold("factor_change.held_before_commit").await;
    tx.commit().await?;
    Ok(())
}

/// The security notice a change made in Settings sends, if any.
fn notice_for(kind: EventKind) -> Option<Notice> {
    Some(match kind {
        EventKind::TwoFactorEnabled => Notice::TwoFactorEnabled,
        EventKind::TwoFactorDisabled => Notice::TwoFactorDisabled,
        EventKind::RecoveryCodesRegenerated => Notice::RecoveryCodesRegenerated,
        EventKind::AuthenticatorSwitched => Notice::AuthenticatorSwitched,
        EventKind::PasskeyAdded => Notice::PasskeyAdded,
        EventKind::PasskeyRemoved => Notice::PasskeyRemoved,
        EventKind::PasswordChanged => Notice::PasswordChanged,
        EventKind::PasswordSet => Notice::PasswordSet,
        _ => return None,
    })
}

/// Ends the account's sessions but `keep`, forgets its remembered devices, drops every
/// pending enrollment and code handoff of the account (the ended sessions' go with them
/// by cascade; `keep`'s are stale after a change), and moves the account's credentials
/// epoch on, so that no sign-in checked before the change starts a session after it.
pub(crate) async fn end_sessions_in(
    tx: &mut Tx,
    user_id: i64,
    keep: Option<i64>,
) -> Result<u64, AuthError> {
    // First: once the row is locked, no session can be inserted under the old epoch, and
    // every one inserted before is committed and ended below.
    store::users::bump_credentials_epoch(&mut **tx, user_id).await?;
    let ended = sessions::end_others(&mut **tx, user_id, keep).await?;
    remembered_devices::forget_all_in(&mut **tx, user_id).await?;
    store::totp::delete_enrollments_of_user(&mut **tx, user_id).await?;
    store::code_handoffs::delete_for_user(&mut **tx, user_id).await?;
    Ok(ended)
}
