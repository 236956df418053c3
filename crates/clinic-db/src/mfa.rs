//! Second factors: an account's TOTP secret (sealed by the caller), its recovery codes (hashed), and
//! the challenges between a right password and a code (hashed tokens).

use crate::schema::{mfa_challenges, recovery_codes, user_mfa};
use crate::{DbConn, DbResult, MaybeStamp, Stamp, with_conn, write_conn};
use chrono::NaiveDateTime;
use clinic_domain::UserId;
use diesel::prelude::*;

#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct UserMfa {
    #[diesel(deserialize_as = i64)]
    pub user_id: UserId,
    pub sealed_secret: String,
    #[diesel(deserialize_as = Stamp)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = MaybeStamp)]
    pub confirmed_at: Option<NaiveDateTime>,
    pub last_step: Option<i64>,
}

pub fn find(conn: &mut DbConn, user: UserId) -> DbResult<Option<UserMfa>> {
    Ok(with_conn!(conn, c => user_mfa::table.find(user.0).first(c).optional())?)
}

/// Whether the account has a confirmed second factor.
pub fn is_enabled(conn: &mut DbConn, user: UserId) -> DbResult<bool> {
    Ok(find(conn, user)?.is_some_and(|m| m.confirmed_at.is_some()))
}

/// Starts enrolment with a new sealed secret, replacing one not yet confirmed. Returns false (and
/// changes nothing) when a confirmed second factor exists.
pub fn start(conn: &mut DbConn, user: UserId, sealed_secret: &str, now: NaiveDateTime) -> DbResult<bool> {
    conn.write_transaction(|conn| {
        if is_enabled(conn, user)? {
            return Ok(false);
        }
        with_conn!(&mut *conn, c => diesel::delete(user_mfa::table.find(user.0)).execute(c))?;
        let row = (
            user_mfa::user_id.eq(user.0),
            user_mfa::sealed_secret.eq(sealed_secret),
            user_mfa::created_at.eq(now),
        );
        with_conn!(&mut *conn, c => diesel::insert_into(user_mfa::table).values(row).execute(c))?;
        Ok(true)
    })
}

/// Confirms enrolment with the step of a right code and stores the recovery codes' hashes; false when
/// there was nothing pending (confirmed meanwhile).
pub fn confirm(
    conn: &mut DbConn,
    user: UserId,
    step: i64,
    recovery_hashes: &[String],
    now: NaiveDateTime,
) -> DbResult<bool> {
    conn.write_transaction(|conn| {
        let pending = user_mfa::table
            .find(user.0)
            .filter(user_mfa::confirmed_at.is_null());
        let n = with_conn!(&mut *conn, c => diesel::update(pending)
            .set((user_mfa::confirmed_at.eq(Some(now)), user_mfa::last_step.eq(Some(step))))
            .execute(c))?;
        if n != 1 {
            return Ok(false);
        }
        with_conn!(&mut *conn, c => diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user.0))).execute(c))?;
        let rows: Vec<_> = recovery_hashes
            .iter()
            .map(|h| (recovery_codes::user_id.eq(user.0), recovery_codes::code_hash.eq(h)))
            .collect();
        with_conn!(&mut *conn, c => diesel::insert_into(recovery_codes::table).values(&rows).execute(c))?;
        Ok(true)
    })
}

/// Takes the TOTP step of a right code, once: false when that step (or a later one) was taken.
pub fn take_step(conn: &mut DbConn, user: UserId, step: i64) -> DbResult<bool> {
    let fresh = user_mfa::table
        .find(user.0)
        .filter(user_mfa::confirmed_at.is_not_null())
        .filter(user_mfa::last_step.is_null().or(user_mfa::last_step.lt(step)));
    let n = write_conn!(conn, c => diesel::update(fresh).set(user_mfa::last_step.eq(Some(step))).execute(c))?;
    Ok(n == 1)
}

/// Takes an unused recovery code by its hash, once.
pub fn take_recovery_code(conn: &mut DbConn, user: UserId, code_hash: &str, now: NaiveDateTime) -> DbResult<bool> {
    let unused = recovery_codes::table
        .filter(recovery_codes::user_id.eq(user.0))
        .filter(recovery_codes::code_hash.eq(code_hash))
        .filter(recovery_codes::used_at.is_null());
    let n = write_conn!(conn, c => diesel::update(unused).set(recovery_codes::used_at.eq(Some(now))).execute(c))?;
    Ok(n == 1)
}

/// Recovery codes not used yet.
pub fn recovery_codes_left(conn: &mut DbConn, user: UserId) -> DbResult<i64> {
    Ok(with_conn!(conn, c => recovery_codes::table
        .filter(recovery_codes::user_id.eq(user.0))
        .filter(recovery_codes::used_at.is_null())
        .count()
        .get_result(c))?)
}

/// Removes the account's second factor and recovery codes.
pub fn remove(conn: &mut DbConn, user: UserId) -> DbResult<()> {
    conn.write_transaction(|conn| {
        with_conn!(&mut *conn, c => diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user.0))).execute(c))?;
        with_conn!(&mut *conn, c => diesel::delete(user_mfa::table.find(user.0)).execute(c))?;
        with_conn!(&mut *conn, c => diesel::delete(mfa_challenges::table.filter(mfa_challenges::user_id.eq(user.0))).execute(c))?;
        Ok(())
    })
}

pub fn insert_challenge(
    conn: &mut DbConn,
    token_hash: &str,
    user: UserId,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
) -> DbResult<()> {
    let row = (
        mfa_challenges::token_hash.eq(token_hash),
        mfa_challenges::user_id.eq(user.0),
        mfa_challenges::created_at.eq(now),
        mfa_challenges::expires_at.eq(expires_at),
    );
    write_conn!(conn, c => diesel::insert_into(mfa_challenges::table).values(row).execute(c))?;
    Ok(())
}

/// The account a live challenge (unused, unexpired) is for.
pub fn challenge_user(conn: &mut DbConn, token_hash: &str, now: NaiveDateTime) -> DbResult<Option<UserId>> {
    let id: Option<i64> = with_conn!(conn, c => mfa_challenges::table
        .find(token_hash)
        .filter(mfa_challenges::used_at.is_null())
        .filter(mfa_challenges::expires_at.gt(now))
        .select(mfa_challenges::user_id)
        .first(c)
        .optional())?;
    Ok(id.map(UserId))
}

/// Uses a live challenge, once.
pub fn use_challenge(conn: &mut DbConn, token_hash: &str, now: NaiveDateTime) -> DbResult<bool> {
    let live = mfa_challenges::table
        .find(token_hash)
        .filter(mfa_challenges::used_at.is_null())
        .filter(mfa_challenges::expires_at.gt(now));
    let n = write_conn!(conn, c => diesel::update(live).set(mfa_challenges::used_at.eq(Some(now))).execute(c))?;
    Ok(n == 1)
}
