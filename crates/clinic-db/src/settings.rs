//! Settings every process on the database shares.

use crate::schema::settings;
use crate::{DbConn, DbResult, with_conn, write_conn};
use chrono::NaiveDateTime;
use diesel::prelude::*;

pub fn get(conn: &mut DbConn, key: &str) -> DbResult<Option<String>> {
    Ok(with_conn!(conn, c => settings::table.find(key).select(settings::value).first(c).optional())?)
}

/// Stores `value` under `key` unless a value is there already; returns the value that is kept, so
/// processes starting at once all end up with the first one written.
pub fn get_or_insert(conn: &mut DbConn, key: &str, value: &str, now: NaiveDateTime) -> DbResult<String> {
    let row = (
        settings::key.eq(key),
        settings::value.eq(value),
        settings::created_at.eq(now),
    );
    write_conn!(&mut *conn, c => diesel::insert_into(settings::table).values(row).on_conflict_do_nothing().execute(c))?;
    Ok(with_conn!(conn, c => settings::table.find(key).select(settings::value).first(c))?)
}
