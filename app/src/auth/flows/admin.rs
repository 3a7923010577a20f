//! Admin recovery from the command line, for a person who lost every second factor.

use crate::auth::capabilities::factor_change::end_sessions_in;
use crate::auth::guards::passkey_assertion;

use crate::auth::{
    adapters::messages::Notice,
    guards::{
        audit::{self, EventKind},
        notices, throttle,
    },
    kernel::{
        client::ClientInfo,
        error::AuthError,
        metrics::{self, Change},
    },
    services::Services,
};
use crate::store::{self, tx::Tx};

/// For a person who lost both their phone and their recovery codes: turns 2FA off, clears
/// the second-factor lock and ends every session, in one commit with its event. Returns
/// how many sessions ended, or `None` for an unknown email.
pub async fn admin_reset(services: &Services, email: &str) -> Result<Option<u64>, AuthError> {
    let email = crate::auth::kernel::email_address::Email::parse(email)?;
    let Some(user) = store::users::find_by_email(&services.db, email.as_str()).await? else {
        return Ok(None);
    };
    let mut tx = Tx::begin(&services.db).await?;
    store::totp::delete(&mut *tx, user.id).await?;
    passkey_assertion::delete_all_in(&mut tx, user.id).await?;
    fail::fail_point!("factor_change.after_change", |_| Err(AuthError::internal(
        "failpoint"
    )));
    store::recovery_codes::delete_all(&mut *tx, user.id).await?;
    store::throttle::clear(&mut *tx, &throttle::second_factor_key(user.id)).await?;
    let ended = end_sessions_in(&mut tx, user.id, None).await?;
    let client = ClientInfo {
        ip: String::new(),
        user_agent: "admin command line".into(),
    };
    let detail = format!("{ended} session(s) ended");
    audit::record_in(
        &mut *tx,
        services,
        user.id,
        EventKind::AdminReset,
        &client,
        &detail,
    )
    .await?;
    notices::notify_in(&mut tx, services, user.id, &Notice::AdminReset, &client).await?;
    fail::fail_point!("factor_change.before_commit", |_| Err(AuthError::internal(
        "failpoint"
    )));
    tx.commit().await?;
    metrics::two_factor_change(Change::AdminReset);
    Ok(Some(ended))
}
