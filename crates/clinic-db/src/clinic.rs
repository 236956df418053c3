//! The clinic's settings: one row, shared by every process on the database.

use crate::schema::clinic;
use crate::{DbConn, DbResult, Stamp, with_conn, write_conn};
use chrono::NaiveDateTime;
use clinic_domain::UserId;
use diesel::prelude::*;

/// The settings as stored (text columns are parsed by the caller).
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct ClinicRow {
    pub id: i32,
    pub name: String,
    pub time_zone: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
    pub reminder_hour: i32,
    pub require_mfa_for: String,
    pub patients_see_photos: bool,
    pub updated_by: Option<i64>,
    #[diesel(deserialize_as = Stamp)]
    pub updated_at: NaiveDateTime,
}

/// Every setting, for a write.
#[derive(Debug, Clone, AsChangeset, Insertable)]
#[diesel(table_name = clinic, treat_none_as_null = true)]
pub struct ClinicChanges<'a> {
    pub name: &'a str,
    pub time_zone: &'a str,
    pub phone: Option<&'a str>,
    pub email: Option<&'a str>,
    pub address: Option<&'a str>,
    pub reminder_hour: i32,
    pub require_mfa_for: &'a str,
    pub patients_see_photos: bool,
    pub updated_by: Option<i64>,
    pub updated_at: NaiveDateTime,
}

pub fn get(conn: &mut DbConn) -> DbResult<Option<ClinicRow>> {
    Ok(with_conn!(conn, c => clinic::table.find(1).first(c).optional())?)
}

/// Writes the first settings unless a row is there already (several processes may start at once).
pub fn insert_if_absent(conn: &mut DbConn, first: &ClinicChanges<'_>) -> DbResult<ClinicRow> {
    write_conn!(&mut *conn, c => diesel::insert_into(clinic::table)
        .values((clinic::id.eq(1), first))
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(with_conn!(conn, c => clinic::table.find(1).first(c))?)
}

/// Sets only which accounts must have a second factor (`clinic demo`, tests).
pub fn set_mfa_policy(conn: &mut DbConn, policy: &str) -> DbResult<()> {
    write_conn!(conn, c => diesel::update(clinic::table.find(1)).set(clinic::require_mfa_for.eq(policy)).execute(c))?;
    Ok(())
}

/// Replaces the settings.
pub fn update(conn: &mut DbConn, changes: &ClinicChanges<'_>, by: Option<UserId>) -> DbResult<ClinicRow> {
    let changes = ClinicChanges {
        updated_by: by.map(|u| u.0),
        ..changes.clone()
    };
    write_conn!(&mut *conn, c => diesel::update(clinic::table.find(1)).set(&changes).execute(c))?;
    Ok(with_conn!(conn, c => clinic::table.find(1).first(c))?)
}
