//! The server-only domain: who a person is and how they prove it.

pub mod accounts;
pub mod audit;
pub mod clock;
pub mod code_handoff;
pub mod devices;
pub mod email;
pub mod metrics;
pub mod password;
pub mod recovery_codes;
pub mod sealing;
pub mod server_key;
pub mod sessions;
pub mod sweep;
#[cfg(test)]
pub mod testing;
pub mod throttle;
pub mod totp;
pub mod two_factor;

use std::sync::Arc;

use clock::Clock;
use password::PasswordHasher;
use sealing::ServerKeys;

use crate::store::Db;

/// Settings the domain needs from the operator.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// The name authenticator apps show next to the account.
    pub issuer: String,
    /// Mark cookies `Secure`; on whenever Gatehouse is served over TLS.
    pub secure_cookies: bool,
    /// Proxies whose `X-Forwarded-For` is believed; from anyone else it is ignored.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// How long a signed-in session may last however active it is.
    pub session_max_age_secs: i64,
    /// Accounts one address may create in an hour.
    pub sign_ups_per_hour: i64,
    /// Where people reach Gatehouse: every redirect and same-site check is built on it.
    pub public_url: crate::redirect::PublicUrl,
}

/// Everything the domain depends on, built once by the host.
pub struct Services {
    pub db: Db,
    pub keys: ServerKeys,
    pub hasher: PasswordHasher,
    pub clock: Arc<dyn Clock>,
    pub config: AuthConfig,
}

/// Where a request came from, as recorded on sessions and security events.
#[derive(Debug, Clone, Default)]
pub struct ClientInfo {
    pub ip: String,
    pub user_agent: String,
}

impl From<sqlx::Error> for crate::error::AppError {
    fn from(err: sqlx::Error) -> Self {
        use crate::error::AppError;
        if is_transient(&err) {
            tracing::error!(error = %err, "database unavailable");
            AppError::Unavailable
        } else {
            tracing::error!(error = %err, "database error");
            AppError::Internal
        }
    }
}

/// Errors that pass by themselves: no connection, or a database too busy to take the
/// request now. They are answered 503 with `Retry-After`, not as our fault.
fn is_transient(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => true,
        sqlx::Error::Database(db) => {
            if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some() {
                // SQLITE_BUSY and SQLITE_LOCKED, with any extended code.
                let code = db.code().and_then(|c| c.parse::<i32>().ok());
                return code.is_some_and(|c| matches!(c & 0xff, 5 | 6));
            }
            // lock_not_available, serialization_failure, deadlock_detected,
            // too_many_connections, cannot_connect_now.
            db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>()
                .is_some_and(|pg| {
                    matches!(pg.code(), "55P03" | "40001" | "40P01" | "53300" | "57P03")
                })
        }
        _ => false,
    }
}
