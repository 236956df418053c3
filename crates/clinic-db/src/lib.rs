//! Persistence for both databases, chosen at run time by the scheme of `DATABASE_URL`.
//!
//! [`DbConn`] holds a SQLite or a PostgreSQL connection. Each query is written once and compiled for
//! both backends through [`with_conn!`]; where they differ (row locks, immediate transactions) the
//! code matches on the backend. Query functions take `&mut DbConn` so they compose inside a
//! transaction.

pub mod audit;
pub mod bulk;
pub mod check_ins;
pub mod clinic;
mod conn;
pub mod consent;
mod error;
pub mod generations;
pub mod idempotency;
pub mod invitations;
pub mod kept;
pub mod login_sessions;
pub mod mfa;
mod nullable_id;
pub mod outbox;
pub mod password_resets;
pub mod patient_page;
pub mod patients;
pub mod photos;
mod pool;
pub mod reports;
pub mod schema;
pub mod series;
pub mod settings;
mod stamp;
mod telemetry;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod throttle;
mod url;
pub mod users;

pub use conn::DbConn;
pub use error::{DbError, DbResult};
pub(crate) use nullable_id::NullableId;
pub use pool::{KeptConnection, Pool, PoolOptions, PooledConn, connect};
pub(crate) use stamp::{Day, MaybeStamp, Stamp};
pub use url::{DatabaseUrl, redact};

/// Runs `$body` with `$c` bound to the concrete connection, compiled once per backend.
#[macro_export]
macro_rules! with_conn {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            $crate::DbConn::Sqlite($c) => $body,
            $crate::DbConn::Postgres($c) => $body,
        }
    };
}

/// A writing statement by [`with_conn!`], on SQLite behind the process's write gate when no transaction
/// holds it already ([`DbConn::single_write`]): every writer in the process queues there in turn, so none
/// is left waiting in SQLite's sleeping busy handler while others keep taking the lock.
macro_rules! write_conn {
    ($conn:expr, $c:ident => $body:expr) => {
        $conn.single_write(|conn: &mut $crate::DbConn| -> $crate::DbResult<_> {
            Ok($crate::with_conn!(conn, $c => $body)?)
        })
    };
}
pub(crate) use write_conn;

/// The PostgreSQL side of a batch insert whose text never changes, so that the connection keeps it
/// prepared (diesel prepares a multi-row insert afresh each time): `$batch` holds one array per column,
/// listed in the order of `$insert`'s columns and unpacked by `unnest`; diesel caches the statement
/// under `$id`.
macro_rules! pg_unnest_insert {
    ($batch:ident, $id:ident, $insert:expr, $ty0:ty => $field0:ident $(, $ty:ty => $field:ident)* $(,)?) => {
        /// The identity diesel caches the batch's prepared statement under.
        pub(crate) struct $id;

        impl diesel::query_builder::QueryId for $batch<'_> {
            type QueryId = $id;
            const HAS_STATIC_QUERY_ID: bool = true;
        }

        impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for $batch<'_> {
            fn walk_ast<'b>(
                &'b self,
                mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>,
            ) -> diesel::QueryResult<()> {
                out.push_sql($insert);
                out.push_sql("SELECT * FROM unnest(");
                out.push_bind_param::<$ty0, _>(&self.$field0)?;
                $(
                    out.push_sql(", ");
                    out.push_bind_param::<$ty, _>(&self.$field)?;
                )*
                out.push_sql(")");
                Ok(())
            }
        }

        impl<C> diesel::RunQueryDsl<C> for $batch<'_> {}
    };
}
pub(crate) use pg_unnest_insert;

#[cfg(test)]
mod tests;
