//! Storage: all SQL lives here, one module per table.
//!
//! The pool is sqlx's `Any` driver, so the same statements run on SQLite and PostgreSQL.
//! Every integer is `i64` and every time is Unix seconds; both backends accept `$n`
//! placeholders. A write that must be atomic is a single statement.

pub mod code_handoffs;
pub mod recovery_codes;
pub mod security_events;
pub mod sessions;
pub mod throttle;
pub mod totp;
pub mod users;
pub mod wrapped_keys;

pub type Db = sqlx::AnyPool;

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

/// True when the error is a UNIQUE constraint violation, on either backend.
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}
