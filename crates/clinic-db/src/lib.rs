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

#[cfg(test)]
mod tests;
