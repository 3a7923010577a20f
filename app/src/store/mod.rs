//! Storage: all SQL lives here, one module per table.
//!
//! The pool is sqlx's `Any` driver, so the same statements run on SQLite and PostgreSQL.
//! Every integer is `i64` and every time is Unix seconds; both backends accept `$n`
//! placeholders. A write that must be atomic is a single statement. A statement built
//! from shared parts is a `LazyLock<String>` static: sqlx takes SQL as `&'static str`, and
//! this assembles it once rather than on every call.

/// SQL for 1 when the account `$user` (a column or a placeholder) has a second factor,
/// an authenticator app or a passkey, and 0 otherwise. A disabled passkey counts: losing
/// it to a suspected copy must not drop the account to the password alone, so sign-in
/// keeps meeting the code prompt, where recovery codes answer. A macro, so statements
/// that use it stay `&'static str`.
macro_rules! has_second_factor {
    ($user:literal) => {
        concat!(
            "CAST(CASE WHEN EXISTS (SELECT 1 FROM totp_credentials t WHERE t.user_id = ",
            $user,
            ") OR EXISTS (SELECT 1 FROM passkeys p WHERE p.user_id = ",
            $user,
            ") THEN 1 ELSE 0 END AS BIGINT)"
        )
    };
}

pub mod code_handoffs;
pub mod email_tokens;
pub mod error;
pub mod group_commit;
pub mod linked_identities;
pub mod outbox;
pub mod passkeys;
pub mod pending_sign_ups;
pub mod reads;
pub mod recovery_codes;
pub mod remembered_devices;
pub mod security_events;
pub mod sessions;
pub mod social_flows;
#[cfg(test)]
pub mod testing;
pub mod throttle;
pub mod totp;
pub mod tx;
pub mod users;
pub mod webauthn_ceremonies;
pub mod wrapped_keys;

pub type Db = sqlx::AnyPool;
pub use error::{is_transient, is_unique_violation, Error};

/// Which database the pool talks to; only the host needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Option<Self> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }
}
