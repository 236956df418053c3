//! The first answers to creating requests sent with an `Idempotency-Key`, per account, for 24 hours.

use crate::schema::idempotency_keys;
use crate::{DbConn, DbResult, Stamp, with_conn, write_conn};
use chrono::NaiveDateTime;
use clinic_domain::UserId;
use diesel::prelude::*;

#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct Stored {
    pub user_id: i64,
    pub key: String,
    pub request_hash: String,
    pub status: i32,
    pub body: String,
    #[diesel(deserialize_as = Stamp)]
    pub created_at: NaiveDateTime,
}

/// What holding a key came to.
pub enum Reservation {
    /// The key is this request's: run it, then [`finish`].
    Reserved,
    /// A request with this key was answered (or, on SQLite, is being answered) since `since`.
    Answered(Stored),
}

/// Takes `key` for this request (inside the caller's transaction). Two requests with one key at once:
/// the second waits on the first's row (its unique key) until the first commits, then finds its answer.
pub fn reserve(
    conn: &mut DbConn,
    user: UserId,
    key: &str,
    request_hash: &str,
    since: NaiveDateTime,
    now: NaiveDateTime,
) -> DbResult<Reservation> {
    let placeholder = (
        idempotency_keys::user_id.eq(user.0),
        idempotency_keys::key.eq(key),
        idempotency_keys::request_hash.eq(request_hash),
        idempotency_keys::status.eq(0),
        idempotency_keys::body.eq(""),
        idempotency_keys::created_at.eq(now),
    );
    let taken = write_conn!(&mut *conn, c => diesel::insert_into(idempotency_keys::table)
        .values(placeholder)
        .on_conflict_do_nothing()
        .execute(c))?;
    if taken == 1 {
        return Ok(Reservation::Reserved);
    }
    let stored: Stored = with_conn!(&mut *conn, c => idempotency_keys::table.find((user.0, key)).first(c))?;
    if stored.created_at >= since {
        return Ok(Reservation::Answered(stored));
    }
    // An answer older than the window answers nothing: the key starts again.
    write_conn!(&mut *conn, c => diesel::delete(idempotency_keys::table.find((user.0, key))).execute(c))?;
    write_conn!(conn, c => diesel::insert_into(idempotency_keys::table).values(placeholder).execute(c))?;
    Ok(Reservation::Reserved)
}

/// Stores the answer of the request that reserved `key`.
pub fn finish(conn: &mut DbConn, user: UserId, key: &str, status: i32, body: &str) -> DbResult<()> {
    write_conn!(conn, c => diesel::update(idempotency_keys::table.find((user.0, key)))
        .set((idempotency_keys::status.eq(status), idempotency_keys::body.eq(body)))
        .execute(c))?;
    Ok(())
}

/// Forgets answers older than `before` (they no longer answer a repeat).
pub fn purge(conn: &mut DbConn, before: NaiveDateTime) -> DbResult<usize> {
    Ok(
        write_conn!(conn, c => diesel::delete(idempotency_keys::table.filter(idempotency_keys::created_at.lt(before))).execute(c))?,
    )
}
