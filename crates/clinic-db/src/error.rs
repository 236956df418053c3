//! Error policy: every function here returns [`DbError`]. Connection failures keep the driver's own
//! words ("password authentication failed ...") so the operator sees the real cause; a stored value
//! that no longer parses is `Corrupt`, never a panic. Rule refusals are not errors: they are
//! outcomes (`RecordOutcome::Refused`), because a refusal is itself written down.

use diesel::r2d2;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum DbError {
    #[error("{0}")]
    Url(String),
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    #[error("database migrations failed: {0}")]
    Migration(String),
    #[error("no connection available from the pool: {0}")]
    Pool(#[from] r2d2::PoolError),
    #[error("not found")]
    NotFound,
    #[error("a conflicting record exists: {0}")]
    Conflict(String),
    #[error("the database is busy with other writes; try again")]
    Busy,
    #[error(transparent)]
    Query(diesel::result::Error),
}

impl From<diesel::result::Error> for DbError {
    fn from(e: diesel::result::Error) -> Self {
        use diesel::result::{DatabaseErrorKind, Error};
        match e {
            Error::NotFound => DbError::NotFound,
            Error::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                DbError::Conflict(info.message().to_owned())
            }
            // The database went away under an open connection: unavailable, not a failed query; the
            // pool then checks its connections before reusing them (see `pool::Manager`).
            Error::DatabaseError(
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
                info,
            ) => {
                crate::pool::connection_lost();
                DbError::Connect(info.message().trim().to_owned())
            }
            other => DbError::Query(other),
        }
    }
}

impl DbError {
    /// A row referred to a row that does not exist.
    pub fn is_foreign_key_violation(&self) -> bool {
        use diesel::result::{DatabaseErrorKind, Error};
        matches!(
            self,
            DbError::Query(Error::DatabaseError(DatabaseErrorKind::ForeignKeyViolation, _))
        )
    }
}

pub type DbResult<T> = Result<T, DbError>;
