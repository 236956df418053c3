//! Password reset links: a hash of the token is kept, the link works once and for a short time.

use crate::schema::password_resets;
use crate::{DbConn, DbResult, MaybeStamp, Stamp, with_conn, write_conn};
use chrono::NaiveDateTime;
use clinic_domain::UserId;
use diesel::prelude::*;

#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct PasswordReset {
    pub id: i64,
    #[diesel(deserialize_as = i64)]
    pub user_id: UserId,
    pub token_hash: String,
    #[diesel(deserialize_as = Stamp)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = Stamp)]
    pub expires_at: NaiveDateTime,
    #[diesel(deserialize_as = MaybeStamp)]
    pub used_at: Option<NaiveDateTime>,
}

/// A new link for `user`; earlier unused links of the account stop working.
pub fn replace(
    conn: &mut DbConn,
    user: UserId,
    token_hash: &str,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> DbResult<()> {
    write_conn!(&mut *conn, c => diesel::update(
        password_resets::table
            .filter(password_resets::user_id.eq(user.0))
            .filter(password_resets::used_at.is_null()),
    )
    .set(password_resets::used_at.eq(Some(now)))
    .execute(c))?;
    let row = (
        password_resets::user_id.eq(user.0),
        password_resets::token_hash.eq(token_hash),
        password_resets::created_at.eq(now),
        password_resets::expires_at.eq(expires_at),
    );
    write_conn!(conn, c => diesel::insert_into(password_resets::table).values(row).execute(c))?;
    Ok(())
}

/// Whether the link with this token hash is unused and unexpired.
pub fn is_usable(conn: &mut DbConn, token_hash: &str, now: NaiveDateTime) -> DbResult<bool> {
    let found: Option<PasswordReset> = with_conn!(conn, c => password_resets::table
        .filter(password_resets::token_hash.eq(token_hash))
        .first(c)
        .optional())?;
    Ok(found.is_some_and(|r| r.used_at.is_none() && now < r.expires_at))
}

/// Takes the link with this token hash, once: its account when the link is unused and unexpired.
pub fn take(conn: &mut DbConn, token_hash: &str, now: NaiveDateTime) -> DbResult<Option<UserId>> {
    let found: Option<PasswordReset> = with_conn!(&mut *conn, c => password_resets::table
        .filter(password_resets::token_hash.eq(token_hash))
        .first(c)
        .optional())?;
    let Some(reset) = found.filter(|r| r.used_at.is_none() && now < r.expires_at) else {
        return Ok(None);
    };
    let n = write_conn!(conn, c => diesel::update(
        password_resets::table.find(reset.id).filter(password_resets::used_at.is_null()),
    )
    .set(password_resets::used_at.eq(Some(now)))
    .execute(c))?;
    Ok((n == 1).then_some(reset.user_id))
}
