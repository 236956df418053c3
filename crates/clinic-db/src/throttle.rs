//! Allowances of attempts (sign-in, second-factor codes, activation, password change and reset) per
//! key and window, kept in the database so that every process shares them.

use crate::schema::auth_throttle;
use crate::{DbConn, DbResult, MaybeStamp, Stamp, with_conn, write_conn};
use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct Throttle {
    pub key: String,
    pub failures: i32,
    #[diesel(deserialize_as = Stamp)]
    pub window_started_at: NaiveDateTime,
    #[diesel(deserialize_as = MaybeStamp)]
    pub locked_until: Option<NaiveDateTime>,
    #[diesel(deserialize_as = Stamp)]
    pub updated_at: NaiveDateTime,
}

pub fn get(conn: &mut DbConn, key: &str) -> DbResult<Option<Throttle>> {
    Ok(with_conn!(conn, c => auth_throttle::table.find(key).first(c).optional())?)
}

/// Takes one attempt from `key`'s allowance of `limit` per `window`, atomically, so that parallel
/// attempts cannot pass the limit between a check and a count (every process shares the row). The
/// attempt stays counted unless [`give_back`] returns it. `Ok(None)`: taken; `Ok(Some(secs))`: none
/// left, try again in `secs`.
pub fn take(conn: &mut DbConn, key: &str, now: NaiveDateTime, window: Duration, limit: i32) -> DbResult<Option<i64>> {
    conn.write_transaction(|conn| {
        let fresh = (
            auth_throttle::key.eq(key),
            auth_throttle::failures.eq(0),
            auth_throttle::window_started_at.eq(now),
            auth_throttle::locked_until.eq(None::<NaiveDateTime>),
            auth_throttle::updated_at.eq(now),
        );
        with_conn!(&mut *conn, c => diesel::insert_into(auth_throttle::table)
            .values(fresh)
            .on_conflict_do_nothing()
            .execute(c))?;
        // Each UPDATE is atomic and re-checks its condition on the current row (PostgreSQL's row
        // lock, SQLite's write lock), so of parallel attempts only `limit` find room.
        let this = auth_throttle::table.filter(auth_throttle::key.eq(key));
        with_conn!(&mut *conn, c => diesel::update(this.filter(auth_throttle::window_started_at.le(now - window)))
            .set((
                auth_throttle::failures.eq(0),
                auth_throttle::window_started_at.eq(now),
                auth_throttle::locked_until.eq(None::<NaiveDateTime>),
            ))
            .execute(c))?;
        let taken = with_conn!(&mut *conn, c => diesel::update(this.filter(auth_throttle::failures.lt(limit)))
            .set((
                auth_throttle::failures.eq(auth_throttle::failures + 1),
                auth_throttle::updated_at.eq(now),
            ))
            .execute(c))?;
        if taken == 1 {
            return Ok(None);
        }
        let ends = get(conn, key)?.map_or(now, |t| t.window_started_at + window);
        Ok(Some((ends - now).num_seconds().max(1)))
    })
}

/// Returns an attempt taken by [`take`] (it succeeded, or was never evaluated).
pub fn give_back(conn: &mut DbConn, key: &str) -> DbResult<()> {
    let this = auth_throttle::table
        .filter(auth_throttle::key.eq(key))
        .filter(auth_throttle::failures.gt(0));
    write_conn!(conn, c => diesel::update(this).set(auth_throttle::failures.eq(auth_throttle::failures - 1)).execute(c))?;
    Ok(())
}

/// Forgets the failures of `key` (after a success).
pub fn reset(conn: &mut DbConn, key: &str) -> DbResult<()> {
    write_conn!(conn, c => diesel::delete(auth_throttle::table.find(key)).execute(c))?;
    Ok(())
}
