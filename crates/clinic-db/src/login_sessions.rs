//! Signed-in sessions, one row per token, so a token can be revoked at once on every process.

use crate::kept::Kept;
use crate::schema::{login_sessions, series, sessions, users};
use crate::series::{Series, Session};
use crate::users::User;
use crate::{DbConn, DbResult, MaybeStamp, Stamp, with_conn, write_conn};
use chrono::NaiveDateTime;
use clinic_domain::UserId;
use diesel::prelude::*;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct LoginSession {
    pub id: String,
    #[diesel(deserialize_as = i64)]
    pub user_id: UserId,
    #[diesel(deserialize_as = Stamp)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = Stamp)]
    pub last_seen_at: NaiveDateTime,
    #[diesel(deserialize_as = Stamp)]
    pub expires_at: NaiveDateTime,
    #[diesel(deserialize_as = MaybeStamp)]
    pub revoked_at: Option<NaiveDateTime>,
    /// Opened for an account that must enrol a second factor first: reaches only enrolment.
    pub enrolment_only: bool,
}

pub fn insert(
    conn: &mut DbConn,
    id: &str,
    user: UserId,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
    enrolment_only: bool,
) -> DbResult<()> {
    let row = (
        login_sessions::id.eq(id),
        login_sessions::user_id.eq(user.0),
        login_sessions::created_at.eq(now),
        login_sessions::last_seen_at.eq(now),
        login_sessions::expires_at.eq(expires_at),
        login_sessions::enrolment_only.eq(enrolment_only),
    );
    write_conn!(conn, c => diesel::insert_into(login_sessions::table).values(row).execute(c))?;
    Ok(())
}

/// The session has a second factor now: it reaches everything its account may.
pub fn end_enrolment_only(conn: &mut DbConn, id: &str) -> DbResult<()> {
    write_conn!(conn, c => diesel::update(login_sessions::table.find(id)).set(login_sessions::enrolment_only.eq(false)).execute(c))?;
    Ok(())
}

pub fn find(conn: &mut DbConn, id: &str) -> DbResult<Option<LoginSession>> {
    Ok(with_conn!(conn, c => login_sessions::table.find(id).first(c).optional())?)
}

/// A session with its account, in one query: what [`KeptReads::find_with_user`] answers, read afresh
/// (tests hold the two equal).
#[cfg(test)]
pub fn find_with_user(conn: &mut DbConn, id: &str) -> DbResult<Option<(LoginSession, User)>> {
    Ok(with_conn!(conn, c => login_sessions::table
        .inner_join(users::table)
        .filter(login_sessions::id.eq(id))
        .select((login_sessions::all_columns, users::all_columns))
        .first(c)
        .optional())?)
}

/// A patient's latest session and its series, if any.
pub type Latest = Option<(Session, Series)>;

/// A login session with its account and, for a patient, their latest session and its series.
pub type WithLatest = (LoginSession, User, Latest);

/// Login sessions read by [`find_with_latest_session`] at most kept by [`KeptReads`].
const KEPT_READS: usize = 1_024;

/// What [`find_with_latest_session`] read, per login session, kept while its account's
/// `read_generation` stands. The database raises that number in the transaction of every change to
/// the account, its login sessions, or its patient's sessions or series — everything the read holds —
/// so a kept read whose number is still the stored one equals a read made now. Checking it is one
/// lookup by key instead of the join (several processes may share a database: the number is in it).
#[derive(Default)]
pub struct KeptReads {
    reads: Kept<String, WithLatest, KEPT_READS>,
}

impl KeptReads {
    /// [`find_with_latest_session`], from what is kept when it is still current.
    pub fn find_with_latest_session(&self, conn: &mut DbConn, id: &str) -> DbResult<Option<WithLatest>> {
        if let Some(kept) = self.reads.get(id)
            && read_generation(conn, kept.1.id)? == Some(kept.1.read_generation)
        {
            return Ok(Some(WithLatest::clone(&kept)));
        }
        let found = find_with_latest_session(conn, id)?;
        match &found {
            Some(read) => self.reads.keep(id.to_owned(), read.clone()),
            None => self.reads.forget(id),
        }
        Ok(found)
    }

    /// What is kept for login session `id`, not checked against the database: current only while
    /// its account's `read_generation` is still the kept one ([`read_generations`] checks it).
    pub fn unchecked(&self, id: &str) -> Option<Arc<WithLatest>> {
        self.reads.get(id)
    }

    /// Keeps a staff account's session read by another statement (the patient page's), as
    /// [`Self::find_with_latest_session`] would have: a staff account has no latest session to read.
    /// A patient's account is left to that read.
    pub fn keep_staff(&self, session: &LoginSession, user: &User) {
        if user.patient_id.is_none() {
            self.reads
                .keep(session.id.clone(), (session.clone(), user.clone(), None));
        }
    }

    /// Forgets what is kept for login session `id` (found gone).
    pub fn forget(&self, id: &str) {
        self.reads.forget(id);
    }

    /// A login session with its account, through the same kept reads: any signed-in account's
    /// session check costs the lookup of one number while nothing it holds has changed.
    pub fn find_with_user(&self, conn: &mut DbConn, id: &str) -> DbResult<Option<(LoginSession, User)>> {
        Ok(self
            .find_with_latest_session(conn, id)?
            .map(|(session, user, _)| (session, user)))
    }
}

/// The account's `read_generation` (see [`KeptReads`]); `None` when there is no such account.
pub fn read_generation(conn: &mut DbConn, user: UserId) -> DbResult<Option<i64>> {
    Ok(with_conn!(conn, c => users::table.find(user.0).select(users::read_generation).first(c).optional())?)
}

/// The `read_generation` of each of `accounts` that exists, in one statement.
pub fn read_generations(conn: &mut DbConn, accounts: &[UserId]) -> DbResult<Vec<(UserId, i64)>> {
    let ids: Vec<i64> = accounts.iter().map(|u| u.0).collect();
    let found: Vec<(i64, i64)> = with_conn!(conn, c => users::table
        .filter(users::id.eq_any(&ids))
        .select((users::id, users::read_generation))
        .load(c))?;
    Ok(found
        .into_iter()
        .map(|(id, generation)| (UserId(id), generation))
        .collect())
}

/// A session with its account and, for a patient's account, their latest session and its series, in
/// one query: the patient's own timeline costs one round trip.
pub fn find_with_latest_session(conn: &mut DbConn, id: &str) -> DbResult<Option<WithLatest>> {
    // The latest session by a correlated subquery that walks the patient index backwards: joining all
    // the patient's sessions and sorting them took a temporary b-tree per request on SQLite.
    let other = diesel::alias!(sessions as latest);
    let latest = other
        .filter(other.field(sessions::patient_id).eq(users::patient_id))
        .filter(other.field(sessions::voided_at).is_null())
        .order((
            other.field(sessions::performed_on).desc(),
            other.field(sessions::id).desc(),
        ))
        .select(other.field(sessions::id))
        .limit(1)
        .single_value();
    let row: Option<(LoginSession, User, Option<Session>, Option<Series>)> = with_conn!(conn, c => login_sessions::table
        .inner_join(users::table)
        .left_join(sessions::table.on(sessions::id.nullable().eq(latest)))
        .left_join(series::table.on(series::id.eq(sessions::series_id)))
        .filter(login_sessions::id.eq(id))
        .select((
            login_sessions::all_columns,
            users::all_columns,
            sessions::all_columns.nullable(),
            series::all_columns.nullable(),
        ))
        .first(c)
        .optional())?;
    Ok(row.map(|(login, user, session, series)| (login, user, session.zip(series))))
}

pub fn touch(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> DbResult<()> {
    write_conn!(conn, c => diesel::update(login_sessions::table.find(id)).set(login_sessions::last_seen_at.eq(now)).execute(c))?;
    Ok(())
}

pub fn revoke(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> DbResult<()> {
    write_conn!(conn, c => diesel::update(login_sessions::table.find(id).filter(login_sessions::revoked_at.is_null()))
        .set(login_sessions::revoked_at.eq(Some(now)))
        .execute(c))?;
    Ok(())
}

/// Revokes every live session of a user except `keep` (e.g. the one changing the password).
pub fn revoke_all_of_user(conn: &mut DbConn, user: UserId, keep: Option<&str>, now: NaiveDateTime) -> DbResult<usize> {
    let keep = keep.unwrap_or("");
    Ok(write_conn!(conn, c => diesel::update(
        login_sessions::table
            .filter(login_sessions::user_id.eq(user.0))
            .filter(login_sessions::id.ne(keep))
            .filter(login_sessions::revoked_at.is_null()),
    )
    .set(login_sessions::revoked_at.eq(Some(now)))
    .execute(c))?)
}
