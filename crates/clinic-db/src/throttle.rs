//! Counters of failed attempts (sign-in, activation codes), shared by every process on the database.

use crate::schema::auth_throttle;
use crate::{DbConn, DbResult, MaybeStamp, Stamp, with_conn};
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

impl Throttle {
    /// Seconds until the lock ends, when locked at `now`.
    pub fn locked_for(&self, now: NaiveDateTime) -> Option<i64> {
        self.locked_until
            .filter(|until| *until > now)
            .map(|until| (until - now).num_seconds().max(1))
    }
}

pub fn get(conn: &mut DbConn, key: &str) -> DbResult<Option<Throttle>> {
    Ok(with_conn!(conn, c => auth_throttle::table.find(key).first(c).optional())?)
}

/// Counts one failure. Failures older than `window` start a new count; `lock_for(failures)` says how
/// long to lock after this one. Returns the counter as it now is.
pub fn record_failure(
    conn: &mut DbConn,
    key: &str,
    now: NaiveDateTime,
    window: Duration,
    lock_for: impl Fn(u32) -> Option<std::time::Duration>,
) -> DbResult<Throttle> {
    conn.write_transaction(|conn| {
        let current: Option<Throttle> = match conn {
            DbConn::Postgres(c) => auth_throttle::table.find(key).for_update().first(c).optional()?,
            DbConn::Sqlite(c) => auth_throttle::table.find(key).first(c).optional()?,
        };
        let (failures, window_started_at) = match &current {
            Some(t) if now - t.window_started_at <= window => (t.failures.saturating_add(1), t.window_started_at),
            _ => (1, now),
        };
        let locked_until = lock_for(u32::try_from(failures).unwrap_or(0))
            .and_then(|d| Duration::from_std(d).ok())
            .map(|d| now + d)
            .or(current.as_ref().and_then(|t| t.locked_until).filter(|u| *u > now));
        let row = Throttle {
            key: key.to_owned(),
            failures,
            window_started_at,
            locked_until,
            updated_at: now,
        };
        let values = (
            auth_throttle::key.eq(&row.key),
            auth_throttle::failures.eq(row.failures),
            auth_throttle::window_started_at.eq(row.window_started_at),
            auth_throttle::locked_until.eq(row.locked_until),
            auth_throttle::updated_at.eq(row.updated_at),
        );
        if current.is_some() {
            with_conn!(&mut *conn, c => diesel::update(auth_throttle::table.find(key)).set(values).execute(c))?;
        } else {
            with_conn!(&mut *conn, c => diesel::insert_into(auth_throttle::table).values(values).execute(c))?;
        }
        Ok(row)
    })
}

/// Forgets the failures of `key` (after a success).
pub fn reset(conn: &mut DbConn, key: &str) -> DbResult<()> {
    with_conn!(conn, c => diesel::delete(auth_throttle::table.find(key)).execute(c))?;
    Ok(())
}
