//! Housekeeping: what has expired or stopped counting is deleted, so no table grows
//! without bound.

use crate::auth::{guards::throttle, kernel::error::AuthError, services::Services};
use crate::store;

/// How many rows one sweep removed, by kind.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Swept {
    pub sessions: u64,
    pub throttles: u64,
    pub enrollments: u64,
    pub handoffs: u64,
    pub social_flows: u64,
    pub mail: u64,
    pub devices: u64,
    pub ceremonies: u64,
}

impl Swept {
    pub fn total(&self) -> u64 {
        self.sessions
            + self.throttles
            + self.enrollments
            + self.handoffs
            + self.social_flows
            + self.mail
            + self.devices
            + self.ceremonies
    }
}

pub async fn run(services: &Services) -> Result<Swept, AuthError> {
    let now = services.clock.now();
    Ok(Swept {
        sessions: store::sessions::delete_expired(&services.db, now).await?,
        throttles: throttle::sweep(services).await?,
        enrollments: store::totp::delete_expired_enrollments(&services.db, now).await?,
        handoffs: store::code_handoffs::delete_expired(&services.db, now).await?,
        // Round trips to providers, and sign-ups waiting for their address.
        social_flows: store::social_flows::delete_expired(&services.db, now).await?
            + store::pending_sign_ups::delete_expired(&services.db, now).await?,
        // Links that expired, and the records of mail sent or given up on a month ago.
        mail: store::email_tokens::delete_expired(&services.db, now).await?
            + store::outbox::delete_done(&services.db, now - 30 * 24 * 3600).await?,
        devices: store::remembered_devices::delete_expired(&services.db, now).await?,
        ceremonies: store::webauthn_ceremonies::delete_expired(&services.db, now).await?,
    })
}
