//! Accounts.

use crate::patients::Patient;
use crate::schema::{patients, users};
use crate::{DbConn, DbResult, MaybeStamp, Stamp, with_conn, write_conn};
use chrono::NaiveDateTime;
use clinic_domain::user::Role;
use clinic_domain::{PatientId, UserId};
use diesel::prelude::*;

#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct User {
    #[diesel(deserialize_as = i64)]
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    #[diesel(deserialize_as = String)]
    pub role: Role,
    pub password_hash: String,
    #[diesel(deserialize_as = crate::NullableId)]
    pub patient_id: Option<PatientId>,
    #[diesel(deserialize_as = MaybeStamp)]
    pub disabled_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = Stamp)]
    pub created_at: NaiveDateTime,
    /// Raised by the database whenever the account, one of its login sessions, or a session or series
    /// of its patient changes (see [`crate::login_sessions::KeptReads`]).
    pub read_generation: i64,
}

impl User {
    pub fn is_active(&self) -> bool {
        self.disabled_at.is_none()
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub email: &'a str,
    pub display_name: &'a str,
    pub role: &'a str,
    pub password_hash: &'a str,
    pub patient_id: Option<i64>,
    pub created_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConn, new: &NewUser<'_>) -> DbResult<User> {
    Ok(write_conn!(conn, c => diesel::insert_into(users::table).values(new).get_result(c))?)
}

pub fn find(conn: &mut DbConn, id: UserId) -> DbResult<User> {
    Ok(with_conn!(conn, c => users::table.find(id.0).first(c))?)
}

pub fn find_by_email(conn: &mut DbConn, email: &str) -> DbResult<Option<User>> {
    Ok(with_conn!(conn, c => users::table.filter(users::email.eq(email)).first(c).optional())?)
}

pub fn find_by_patient(conn: &mut DbConn, patient: PatientId) -> DbResult<Option<User>> {
    Ok(with_conn!(conn, c => users::table.filter(users::patient_id.eq(patient.0)).first(c).optional())?)
}

/// A patient and their portal login, if they have one: one statement.
pub fn patient_with_login(conn: &mut DbConn, patient: PatientId) -> DbResult<(Patient, Option<User>)> {
    Ok(with_conn!(conn, c => patients::table
        .find(patient.0)
        .left_join(users::table.on(users::patient_id.eq(patients::id.nullable())))
        .select((patients::all_columns, users::all_columns.nullable()))
        .first(c))?)
}

/// Staff accounts (managers and providers), by name.
pub fn list_staff(conn: &mut DbConn) -> DbResult<Vec<User>> {
    Ok(with_conn!(conn, c => users::table
        .filter(users::role.ne(Role::Patient.as_str()))
        .order((users::display_name, users::id))
        .load(c))?)
}

pub fn count_active_managers(conn: &mut DbConn) -> DbResult<i64> {
    Ok(with_conn!(conn, c => users::table
        .filter(users::role.eq(Role::Manager.as_str()))
        .filter(users::disabled_at.is_null())
        .count()
        .get_result(c))?)
}

/// Counts the active managers inside a write transaction, locking their rows on PostgreSQL (SQLite's
/// write transaction holds the whole database), so that two managers disabled at once cannot both
/// see the other still active.
pub fn lock_active_managers(conn: &mut DbConn) -> DbResult<i64> {
    let active = users::table
        .filter(users::role.eq(Role::Manager.as_str()))
        .filter(users::disabled_at.is_null())
        .select(users::id);
    let ids: Vec<i64> = match conn {
        DbConn::Postgres(c) => active.for_update().load(c)?,
        DbConn::Sqlite(c) => active.load(c)?,
    };
    Ok(i64::try_from(ids.len()).unwrap_or(i64::MAX))
}

/// Disables (or with `None`, re-enables) an account. Returns false when there is no such account.
pub fn set_disabled(conn: &mut DbConn, id: UserId, at: Option<NaiveDateTime>) -> DbResult<bool> {
    let n = write_conn!(conn, c => diesel::update(users::table.find(id.0)).set(users::disabled_at.eq(at)).execute(c))?;
    Ok(n == 1)
}

pub fn set_password_hash(conn: &mut DbConn, id: UserId, hash: &str) -> DbResult<bool> {
    let n =
        write_conn!(conn, c => diesel::update(users::table.find(id.0)).set(users::password_hash.eq(hash)).execute(c))?;
    Ok(n == 1)
}

pub fn count(conn: &mut DbConn) -> DbResult<i64> {
    Ok(with_conn!(conn, c => users::table.count().get_result(c))?)
}
