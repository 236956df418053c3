//! Where blocking work runs. diesel is synchronous: every query runs on actix's blocking pool (at most
//! one thread per pooled connection), never on an async worker, except the short reads by key that
//! [`read`] runs inline on SQLite. The audit rows a use case records here are committed before its
//! answer is returned (a group commit shared with the other requests of the moment).

use crate::state::AppState;
use actix_web::web;
use clinic_app::audit::Collected;
use clinic_app::{Env, Error};
use clinic_db::audit::NewAuditEvent;
use clinic_db::{DbConn, DbError};

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
    let (value, rows) = blocking(move || {
        Ok(match st.conn() {
            Ok(mut conn) => traced(&st, &mut conn, f),
            Err(e) => (Err(e.into()), Vec::new()),
        })
    })
    .await?;
    durable(state, rows).await?;
    value
}

/// Runs a write use case: on SQLite in the next group commit (`crate::writer`), answered once that
/// group is durable; on PostgreSQL as [`db`]. Only for work that would write anyway: a group holds
/// SQLite's one write lock while it runs.
pub async fn write<T, F>(state: &AppState, f: F) -> Result<T, Error>
where
    F: FnOnce(&mut DbConn, &Env<'_>) -> Result<T, Error> + Send + 'static,
    T: Send + 'static,
{
    let Some(writer) = state.writer.as_ref() else {
        return db(state, f).await;
    };
    let st = state.clone();
    let (tx, rx) = tokio::sync::oneshot::channel();
    let job: crate::writer::Job = Box::new(move |conn: &mut DbConn| {
        let (value, rows) = traced(&st, conn, f);
        Box::new(move |committed: bool| {
            let value = if committed {
                value
            } else {
                Err(crate::writer::not_committed())
            };
            let _ = tx.send((value, rows));
        })
    });
    if !writer.send(job) {
        return Err(crate::writer::not_committed());
    }
    let (value, rows) = rx.await.map_err(|_| crate::writer::not_committed())?;
    durable(state, rows).await?;
    value
}

/// Runs `f` with the audit rows it records collected rather than sent: the caller waits for their
/// commit ([`durable`]) before answering.
fn traced<T>(
    state: &AppState,
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn, &Env<'_>) -> Result<T, Error>,
) -> (Result<T, Error>, Vec<NewAuditEvent>) {
    let trail = Collected::default();
    let value = f(conn, &state.env_with(&trail));
    (value, trail.take())
}

/// Waits until `rows` are committed to the audit log: an answer whose audit row could not be written
/// is not given.
async fn durable(state: &AppState, rows: Vec<NewAuditEvent>) -> Result<(), Error> {
    if state.audit.commit(rows).await {
        Ok(())
    } else {
        Err(audit_not_written())
    }
}

/// The answer to a request whose audit rows could not be written: it is not given.
pub fn audit_not_written() -> Error {
    Error::Unavailable(DbError::Connect("the audit log could not be written".into()))
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
        let (value, rows) = traced(state, &mut conn, f);
        drop(conn);
        durable(state, rows).await?;
        return value;
    }
    db(state, f).await
}
