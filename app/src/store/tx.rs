//! The transaction a write runs in: one of the pool's, or the SQLite writer's own
//! connection ([`crate::store::group_commit`]).
//!
//! sqlx runs every SQLite connection on a thread of its own, so each statement is two
//! thread wake-ups, and on a shared writer those hand-offs, not SQLite, bound how many
//! code checks commit per second. The writer therefore runs its statements on its own
//! thread through `rusqlite`, and so do the reads of [`crate::store::reads`]. The store's
//! functions do not know the difference: both kinds are a sqlx [`Executor`] of the `Any`
//! database, run the same SQL text and give back the same rows.

use std::{
    borrow::Cow,
    fmt,
    ops::{Deref, DerefMut},
    sync::Arc,
};

use futures::{future::BoxFuture, stream::BoxStream, FutureExt, StreamExt};
use sqlx::{
    any::{AnyQueryResult, AnyRow, AnyStatement, AnyTypeInfo, AnyTypeInfoKind, AnyValue},
    error::{DatabaseError, ErrorKind},
    Any, Either, Execute, Executor, Transaction,
};
use sqlx_core::{
    any::{AnyColumn, AnyValueKind},
    describe::Describe,
    ext::ustr::UStr,
    sql_str::SqlStr,
};

use crate::store::Db;

/// An open transaction. Statements run in it through `&mut *tx`; dropping it uncommitted
/// rolls it back.
pub struct Tx(Conn);

/// What a [`Tx`] runs its statements on.
pub struct Conn(Inner);

enum Inner {
    Pooled(Transaction<'static, Any>),
    /// A connection of this thread's: the group-commit writer's, on which the writer
    /// itself begins and commits each batch's transaction, or a reader's.
    Direct(rusqlite::Connection),
    /// No transaction: reads from the pool, where a connection of one's own gains
    /// nothing (PostgreSQL; see [`crate::store::reads`]).
    Pool(Db),
}

impl Tx {
    /// A transaction on a connection of the pool.
    pub async fn begin(db: &Db) -> sqlx::Result<Tx> {
        Ok(Tx(Conn(Inner::Pooled(db.begin().await?))))
    }

    /// Commits a transaction from [`Tx::begin`]. The writer's transaction holds a whole
    /// batch and is committed by the writer alone, never by one of its pieces.
    pub async fn commit(self) -> sqlx::Result<()> {
        match self.0 .0 {
            Inner::Pooled(tx) => tx.commit().await,
            Inner::Direct(_) | Inner::Pool(_) => Err(sqlx::Error::Protocol(
                "a piece of a group commit cannot commit the batch".into(),
            )),
        }
    }

    /// The writer's connection as a transaction, for the writer to lend to its pieces.
    pub(super) fn direct(conn: rusqlite::Connection) -> Tx {
        Tx(Conn::direct(conn))
    }
}

impl Conn {
    /// Statements on `conn`, run where they are issued.
    pub(super) fn direct(conn: rusqlite::Connection) -> Conn {
        Conn(Inner::Direct(conn))
    }

    /// Statements on whichever of `db`'s connections is free, each on its own.
    pub(super) fn pool(db: Db) -> Conn {
        Conn(Inner::Pool(db))
    }

    /// The connection of [`Conn::direct`] back.
    pub(super) fn into_direct(self) -> Option<rusqlite::Connection> {
        match self.0 {
            Inner::Direct(conn) => Some(conn),
            Inner::Pooled(_) | Inner::Pool(_) => None,
        }
    }
}

impl Deref for Tx {
    type Target = Conn;

    fn deref(&self) -> &Conn {
        &self.0
    }
}

impl DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut Conn {
        &mut self.0
    }
}

impl fmt::Debug for Conn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.0 {
            Inner::Pooled(_) => "Conn::Pooled",
            Inner::Direct(_) => "Conn::Direct",
            Inner::Pool(_) => "Conn::Pool",
        })
    }
}

impl<'c> Executor<'c> for &'c mut Conn {
    type Database = Any;

    fn fetch_many<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxStream<'e, sqlx::Result<Either<AnyQueryResult, AnyRow>>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Any>,
    {
        match &mut self.0 {
            Inner::Pooled(tx) => (&mut **tx).fetch_many(query),
            Inner::Pool(db) => (&*db).fetch_many(query),
            Inner::Direct(conn) => {
                let steps: Vec<_> = match run(conn, query, usize::MAX) {
                    Ok((rows, done)) => rows
                        .into_iter()
                        .map(|row| Ok(Either::Right(row)))
                        .chain([Ok(Either::Left(done))])
                        .collect(),
                    Err(err) => vec![Err(err)],
                };
                futures::stream::iter(steps).boxed()
            }
        }
    }

    fn fetch_optional<'e, 'q: 'e, E>(self, query: E) -> BoxFuture<'e, sqlx::Result<Option<AnyRow>>>
    where
        'c: 'e,
        E: 'q + Execute<'q, Any>,
    {
        match &mut self.0 {
            Inner::Pooled(tx) => (&mut **tx).fetch_optional(query),
            Inner::Pool(db) => (&*db).fetch_optional(query),
            Inner::Direct(conn) => {
                let row = run(conn, query, 1).map(|(rows, _)| rows.into_iter().next());
                futures::future::ready(row).boxed()
            }
        }
    }

    fn prepare_with<'e>(
        self,
        sql: SqlStr,
        parameters: &'e [AnyTypeInfo],
    ) -> BoxFuture<'e, sqlx::Result<AnyStatement>>
    where
        'c: 'e,
    {
        match &mut self.0 {
            Inner::Pooled(tx) => (&mut **tx).prepare_with(sql, parameters),
            Inner::Pool(db) => (&*db).prepare_with(sql, parameters),
            Inner::Direct(_) => futures::future::ready(Err(unsupported("prepare"))).boxed(),
        }
    }

    fn describe<'e>(self, sql: SqlStr) -> BoxFuture<'e, sqlx::Result<Describe<Any>>>
    where
        'c: 'e,
    {
        match &mut self.0 {
            Inner::Pooled(tx) => (&mut **tx).describe(sql),
            Inner::Pool(db) => (&*db).describe(sql),
            Inner::Direct(_) => futures::future::ready(Err(unsupported("describe"))).boxed(),
        }
    }
}

/// Runs one statement on the writer's connection: up to `limit` of its rows, and what it
/// changed.
fn run<'q>(
    conn: &rusqlite::Connection,
    mut query: impl Execute<'q, Any>,
    limit: usize,
) -> sqlx::Result<(Vec<AnyRow>, AnyQueryResult)> {
    let arguments = query.take_arguments().map_err(sqlx::Error::Encode)?;
    let values = arguments.map(|a| a.values.0).unwrap_or_default();
    let sql = query.sql();
    let mut statement = conn.prepare_cached(sql.as_str()).map_err(database_error)?;
    for index in 1..=statement.parameter_count() {
        // The store writes `$n`, which SQLite numbers in order of first appearance, not by
        // `n`: bind by name, as sqlx's own driver does.
        let value = statement
            .parameter_name(index)
            .and_then(|name| name.strip_prefix('$'))
            .and_then(|n| n.parse::<usize>().ok())
            .and_then(|n| values.get(n.checked_sub(1)?))
            .ok_or_else(|| sqlx::Error::Protocol(format!("no argument for parameter {index}")))?;
        statement
            .raw_bind_parameter(index, Argument(value))
            .map_err(database_error)?;
    }
    let names: Vec<UStr> = statement
        .column_names()
        .into_iter()
        .map(UStr::new)
        .collect();
    let column_names: Arc<sqlx_core::HashMap<UStr, usize>> = Arc::new(
        names
            .iter()
            .enumerate()
            .map(|(i, name)| (name.clone(), i))
            .collect(),
    );
    let read_only = statement.readonly();
    let mut rows = Vec::new();
    let mut cursor = statement.raw_query();
    while let Some(row) = cursor.next().map_err(database_error)? {
        let mut columns = Vec::with_capacity(names.len());
        let mut values = Vec::with_capacity(names.len());
        for (ordinal, name) in names.iter().enumerate() {
            let kind = value_kind(row.get_ref(ordinal).map_err(database_error)?)?;
            columns.push(AnyColumn {
                ordinal,
                name: name.clone(),
                type_info: AnyTypeInfo {
                    kind: kind_of(&kind),
                },
            });
            values.push(AnyValue { kind });
        }
        rows.push(AnyRow {
            column_names: column_names.clone(),
            columns,
            values,
        });
        // A write is done by its first step, RETURNING or not; a read can stop here.
        if rows.len() == limit {
            break;
        }
    }
    let rows_affected = if read_only { 0 } else { conn.changes() };
    Ok((
        rows,
        AnyQueryResult {
            rows_affected,
            last_insert_id: None,
        },
    ))
}

/// A row's value as sqlx's SQLite driver hands it to `Any`: by what it holds, not by its
/// column's declared type.
fn value_kind(value: rusqlite::types::ValueRef<'_>) -> sqlx::Result<AnyValueKind> {
    use rusqlite::types::ValueRef;
    Ok(match value {
        ValueRef::Null => AnyValueKind::Null(AnyTypeInfoKind::Null),
        ValueRef::Integer(i) => AnyValueKind::BigInt(i),
        ValueRef::Real(r) => AnyValueKind::Double(r),
        ValueRef::Text(t) => {
            let text = std::str::from_utf8(t).map_err(|err| sqlx::Error::Decode(err.into()))?;
            AnyValueKind::Text(Arc::new(text.to_owned()))
        }
        ValueRef::Blob(b) => AnyValueKind::Blob(Arc::new(b.to_vec())),
    })
}

fn kind_of(value: &AnyValueKind) -> AnyTypeInfoKind {
    match value {
        AnyValueKind::BigInt(_) => AnyTypeInfoKind::BigInt,
        AnyValueKind::Double(_) => AnyTypeInfoKind::Double,
        AnyValueKind::Text(_) => AnyTypeInfoKind::Text,
        AnyValueKind::Blob(_) => AnyTypeInfoKind::Blob,
        _ => AnyTypeInfoKind::Null,
    }
}

/// An argument bound as sqlx's SQLite driver binds it.
struct Argument<'a>(&'a AnyValueKind);

impl rusqlite::ToSql for Argument<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, Value, ValueRef};
        Ok(match self.0 {
            AnyValueKind::Null(_) => ToSqlOutput::Owned(Value::Null),
            AnyValueKind::Bool(b) => ToSqlOutput::Owned(Value::Integer(i64::from(*b))),
            AnyValueKind::SmallInt(i) => ToSqlOutput::Owned(Value::Integer(i64::from(*i))),
            AnyValueKind::Integer(i) => ToSqlOutput::Owned(Value::Integer(i64::from(*i))),
            AnyValueKind::BigInt(i) => ToSqlOutput::Owned(Value::Integer(*i)),
            AnyValueKind::Real(r) => ToSqlOutput::Owned(Value::Real(f64::from(*r))),
            AnyValueKind::Double(d) => ToSqlOutput::Owned(Value::Real(*d)),
            AnyValueKind::Text(t) => ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes())),
            AnyValueKind::TextSlice(t) => ToSqlOutput::Borrowed(ValueRef::Text(t.as_bytes())),
            AnyValueKind::Blob(b) => ToSqlOutput::Borrowed(ValueRef::Blob(b)),
            other => {
                return Err(rusqlite::Error::ToSqlConversionFailure(
                    format!("no SQLite type for {other:?}").into(),
                ))
            }
        })
    }
}

fn unsupported(what: &str) -> sqlx::Error {
    sqlx::Error::Protocol(format!(
        "a direct SQLite connection does not {what} statements"
    ))
}

/// A failure of a direct connection, as a database error like sqlx's own, so the
/// callers' checks (a UNIQUE violation, a busy database) read it the same way.
pub(super) fn database_error(err: rusqlite::Error) -> sqlx::Error {
    match err {
        rusqlite::Error::SqliteFailure(failure, message) => {
            sqlx::Error::Database(Box::new(WriterError {
                code: failure.extended_code,
                message: message.unwrap_or_else(|| failure.to_string()),
            }))
        }
        other => sqlx::Error::Protocol(other.to_string()),
    }
}

/// An error SQLite reported on a direct connection, with its extended result code.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct WriterError {
    code: i32,
    message: String,
}

impl DatabaseError for WriterError {
    fn message(&self) -> &str {
        &self.message
    }

    fn code(&self) -> Option<Cow<'_, str>> {
        Some(self.code.to_string().into())
    }

    fn as_error(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn as_error_mut(&mut self) -> &mut (dyn std::error::Error + Send + Sync + 'static) {
        self
    }

    fn into_error(self: Box<Self>) -> Box<dyn std::error::Error + Send + Sync + 'static> {
        self
    }

    fn kind(&self) -> ErrorKind {
        use rusqlite::ffi;
        match self.code {
            ffi::SQLITE_CONSTRAINT_UNIQUE | ffi::SQLITE_CONSTRAINT_PRIMARYKEY => {
                ErrorKind::UniqueViolation
            }
            ffi::SQLITE_CONSTRAINT_FOREIGNKEY => ErrorKind::ForeignKeyViolation,
            ffi::SQLITE_CONSTRAINT_NOTNULL => ErrorKind::NotNullViolation,
            ffi::SQLITE_CONSTRAINT_CHECK => ErrorKind::CheckViolation,
            _ => ErrorKind::Other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The writer's kind of transaction, on a database of its own in memory.
    fn direct() -> Tx {
        let conn = rusqlite::Connection::open_in_memory().expect("open");
        conn.execute_batch(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, \
             secret BLOB, seen INTEGER)",
        )
        .expect("table");
        Tx::direct(conn)
    }

    #[tokio::test]
    async fn arguments_are_bound_by_their_number_not_their_place() {
        let mut tx = direct();
        // `$2` comes first, so SQLite numbers it 1.
        sqlx::query("INSERT INTO t (name, id, secret, seen) VALUES ($2, $1, $3, $4)")
            .bind(7_i64)
            .bind("alice")
            .bind(vec![1_u8, 2, 3])
            .bind(None::<i64>)
            .execute(&mut *tx)
            .await
            .expect("insert");
        let (id, name, secret, seen): (i64, String, Vec<u8>, Option<i64>) =
            sqlx::query_as("SELECT id, name, secret, seen FROM t WHERE name = $1")
                .bind("alice")
                .fetch_one(&mut *tx)
                .await
                .expect("read back");
        assert_eq!(
            (id, name.as_str(), secret, seen),
            (7, "alice", vec![1, 2, 3], None)
        );
    }

    #[tokio::test]
    async fn a_write_says_how_many_rows_it_changed_and_returns_its_rows() {
        let mut tx = direct();
        for name in ["a", "b", "c"] {
            sqlx::query("INSERT INTO t (name) VALUES ($1)")
                .bind(name)
                .execute(&mut *tx)
                .await
                .expect("insert");
        }
        let done = sqlx::query("UPDATE t SET seen = $1 WHERE name <> $2")
            .bind(5_i64)
            .bind("b")
            .execute(&mut *tx)
            .await
            .expect("update");
        assert_eq!(done.rows_affected(), 2);
        let read = sqlx::query("SELECT name FROM t")
            .execute(&mut *tx)
            .await
            .expect("select");
        assert_eq!(read.rows_affected(), 0, "a read changes nothing");
        let claimed: Option<String> =
            sqlx::query_scalar("UPDATE t SET seen = 6 WHERE seen IS NULL RETURNING name")
                .fetch_optional(&mut *tx)
                .await
                .expect("claim");
        assert_eq!(claimed.as_deref(), Some("b"));
        let again: Option<String> =
            sqlx::query_scalar("UPDATE t SET seen = 6 WHERE seen IS NULL RETURNING name")
                .fetch_optional(&mut *tx)
                .await
                .expect("claim again");
        assert_eq!(again, None, "the claim was made once");
    }

    #[tokio::test]
    async fn errors_read_like_sqlx_ones() {
        let mut tx = direct();
        let insert =
            |name: &'static str| sqlx::query("INSERT INTO t (name) VALUES ($1)").bind(name);
        insert("a").execute(&mut *tx).await.expect("first");
        let duplicate = insert("a")
            .execute(&mut *tx)
            .await
            .expect_err("a duplicate");
        assert!(
            crate::store::is_unique_violation(&duplicate),
            "{duplicate:?}"
        );
        assert!(!crate::store::is_transient(&duplicate));
        let wrong = sqlx::query("SELECT nothing FROM t")
            .execute(&mut *tx)
            .await
            .expect_err("no such column");
        assert!(!crate::store::is_unique_violation(&wrong));
        let missing = sqlx::query("SELECT name FROM t WHERE id = $2")
            .bind(1_i64)
            .execute(&mut *tx)
            .await
            .expect_err("no second argument");
        assert!(missing.to_string().contains("no argument"), "{missing}");
    }

    #[tokio::test]
    async fn a_busy_database_is_transient() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("busy.db");
        let holder = rusqlite::Connection::open(&path).expect("open");
        holder
            .execute_batch(
                "PRAGMA journal_mode = WAL; CREATE TABLE t (id INTEGER); BEGIN IMMEDIATE;",
            )
            .expect("hold the write lock");
        let conn = rusqlite::Connection::open(&path).expect("open");
        conn.busy_timeout(std::time::Duration::ZERO)
            .expect("no waiting");
        let mut tx = Tx::direct(conn);
        let busy = sqlx::query("BEGIN IMMEDIATE")
            .execute(&mut *tx)
            .await
            .expect_err("the lock is held");
        assert!(crate::store::is_transient(&busy), "{busy:?}");
    }

    #[tokio::test]
    async fn a_piece_cannot_commit_the_writers_transaction() {
        let tx = direct();
        assert!(tx.commit().await.is_err());
    }
}
