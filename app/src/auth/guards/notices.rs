//! Security notices: a message to the account's verified address whenever its security
//! changes, written in the transaction of the change.

use crate::store::tx::Tx;

use crate::auth::adapters::messages::Notice;
use crate::auth::{
    adapters::messages,
    guards::outbox,
    kernel::{client::ClientInfo, error::AuthError},
    services::Services,
};
use crate::store;

/// Queues `notice` for the account, if its address is verified: an unproved address may
/// be someone else's, and must not learn about this account.
pub async fn notify_in(
    tx: &mut Tx,
    services: &Services,
    user_id: i64,
    notice: &Notice,
    client: &ClientInfo,
) -> Result<(), AuthError> {
    let Some(user) = store::users::find_by_id(&mut **tx, user_id).await? else {
        return Ok(());
    };
    if user.email_verified_at.is_none() {
        return Ok(());
    }
    notify_address_in(tx, services, user_id, &user.email, notice, client).await
}

/// Queues `notice` for a given address of the account (the old one, when it changes).
pub async fn notify_address_in(
    tx: &mut Tx,
    services: &Services,
    user_id: i64,
    address: &str,
    notice: &Notice,
    client: &ClientInfo,
) -> Result<(), AuthError> {
    let message = messages::security_notice(address, notice, client, services.clock.now());
    outbox::enqueue_in(&mut **tx, services, user_id, &message).await
}
