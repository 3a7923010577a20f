//! Storage errors, classified once, here, where the backends are known: what passes by
//! itself, which constraint a write broke, and everything else.

/// A storage failure as the layers above need to tell them apart. Its causes are for
/// the log only.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No connection, or a database too busy to take the request now: it passes by
    /// itself, so the request may be tried again.
    #[error("storage unavailable for now: {0}")]
    Transient(sqlx::Error),
    /// A UNIQUE constraint refused the write. PostgreSQL names the constraint; SQLite
    /// does not.
    #[error("unique constraint {constraint:?} violated: {source}")]
    Unique {
        constraint: Option<String>,
        source: sqlx::Error,
    },
    #[error(transparent)]
    Other(sqlx::Error),
}

impl From<sqlx::Error> for Error {
    fn from(err: sqlx::Error) -> Self {
        if is_transient(&err) {
            return Error::Transient(err);
        }
        if is_unique_violation(&err) {
            let constraint = match &err {
                sqlx::Error::Database(db) => db.constraint().map(str::to_owned),
                _ => None,
            };
            return Error::Unique {
                constraint,
                source: err,
            };
        }
        Error::Other(err)
    }
}

/// True when the error is a UNIQUE constraint violation, on either backend.
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// Errors that pass by themselves: no connection, or a database too busy to take the
/// request now.
pub fn is_transient(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => true,
        sqlx::Error::Database(db) => {
            if let Some(pg) = db.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
                // lock_not_available, serialization_failure, deadlock_detected,
                // too_many_connections, cannot_connect_now.
                return matches!(pg.code(), "55P03" | "40001" | "40P01" | "53300" | "57P03");
            }
            // SQLite, through sqlx or the writer: SQLITE_BUSY and SQLITE_LOCKED, with any
            // extended code.
            let code = db.code().and_then(|c| c.parse::<i32>().ok());
            code.is_some_and(|c| matches!(c & 0xff, 5 | 6))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_and_io_failures_are_transient_and_the_rest_is_not() {
        assert!(matches!(
            Error::from(sqlx::Error::PoolTimedOut),
            Error::Transient(_)
        ));
        assert!(matches!(
            Error::from(sqlx::Error::PoolClosed),
            Error::Transient(_)
        ));
        assert!(matches!(
            Error::from(sqlx::Error::RowNotFound),
            Error::Other(_)
        ));
    }
}
