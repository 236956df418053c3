//! Where blocking work runs. diesel is synchronous: every query runs on actix's blocking pool (at most
//! one thread per pooled connection), never on an async worker, except the short reads by key that
//! [`read`] runs inline on SQLite.

use crate::state::AppState;
use actix_web::web;
use clinic_app::{Env, Error};
use clinic_db::DbConn;

/// Runs blocking work (diesel queries) on the blocking thread pool.
pub async fn blocking<T, F>(f: F) -> Result<T, Error>
where
    F: FnOnce() -> Result<T, Error> + Send + 'static,
    T: Send + 'static,
{
    web::block(f)
        .await
        .map_err(|e| Error::internal("a blocking task failed", e))?
}

/// Runs a use case with a pooled connection on the blocking pool.
pub async fn db<T, F>(state: &AppState, f: F) -> Result<T, Error>
where
    F: FnOnce(&mut DbConn, &Env<'_>) -> Result<T, Error> + Send + 'static,
    T: Send + 'static,
{
    let st = state.clone();
    blocking(move || f(&mut *st.conn()?, &st.env())).await
}

/// A short read by key: on SQLite, when a connection is idle, it runs right here (an indexed lookup in
/// an embedded database takes microseconds, less than handing it to another thread and back, and WAL
/// readers never wait for writers); otherwise, and always on PostgreSQL (a network round trip), it goes
/// to the blocking pool. Only for reads: a write may wait for SQLite's write lock.
pub async fn read<T, F>(state: &AppState, f: F) -> Result<T, Error>
where
    F: FnOnce(&mut DbConn, &Env<'_>) -> Result<T, Error> + Send + 'static,
    T: Send + 'static,
{
    if state.inline_reads
        && let Some(mut conn) = state.pool.try_get()
    {
        return f(&mut conn, &state.env());
    }
    db(state, f).await
}
