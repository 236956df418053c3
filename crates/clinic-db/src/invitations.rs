//! One-time codes (stored as hashes): a patient's portal login, a staff member's invitation and the
//! first manager's setup link.

use crate::schema::invitations;
use crate::{DbConn, DbResult, MaybeStamp, Stamp, with_conn, write_conn};
use chrono::NaiveDateTime;
use clinic_domain::{PatientId, UserId};
use diesel::prelude::*;

pub const PURPOSE_PATIENT: &str = "patient";
pub const PURPOSE_SETUP: &str = "setup";
pub const PURPOSE_STAFF: &str = "staff";

#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct Invitation {
    pub id: i64,
    pub purpose: String,
    #[diesel(deserialize_as = crate::NullableId)]
    pub patient_id: Option<PatientId>,
    pub code_hash: String,
    #[diesel(deserialize_as = crate::NullableId)]
    pub created_by: Option<UserId>,
    #[diesel(deserialize_as = Stamp)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = Stamp)]
    pub expires_at: NaiveDateTime,
    #[diesel(deserialize_as = MaybeStamp)]
    pub used_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = MaybeStamp)]
    pub voided_at: Option<NaiveDateTime>,
    /// The staff account an invitation sets the password of.
    #[diesel(deserialize_as = crate::NullableId)]
    pub user_id: Option<UserId>,
}

impl Invitation {
    pub fn is_usable(&self, now: NaiveDateTime) -> bool {
        self.used_at.is_none() && self.voided_at.is_none() && now < self.expires_at
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = invitations)]
pub struct NewInvitation<'a> {
    pub purpose: &'a str,
    pub patient_id: Option<i64>,
    pub code_hash: &'a str,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub user_id: Option<i64>,
}

/// Voids every live invitation of the same kind (and patient), then inserts the new one.
pub fn replace(conn: &mut DbConn, new: &NewInvitation<'_>) -> DbResult<Invitation> {
    conn.write_transaction(|conn| {
        let now = new.created_at;
        with_conn!(&mut *conn, c => {
            let live = invitations::table
                .filter(invitations::purpose.eq(new.purpose))
                .filter(invitations::used_at.is_null())
                .filter(invitations::voided_at.is_null());
            match (new.patient_id, new.user_id) {
                (Some(p), _) => diesel::update(live.filter(invitations::patient_id.eq(p)))
                    .set(invitations::voided_at.eq(Some(now)))
                    .execute(c),
                (None, Some(u)) => diesel::update(live.filter(invitations::user_id.eq(u)))
                    .set(invitations::voided_at.eq(Some(now)))
                    .execute(c),
                (None, None) => diesel::update(live.filter(invitations::patient_id.is_null()))
                    .set(invitations::voided_at.eq(Some(now)))
                    .execute(c),
            }
        })?;
        Ok(with_conn!(&mut *conn, c => diesel::insert_into(invitations::table).values(new).get_result(c))?)
    })
}

/// Voids a patient's codes not yet used.
pub fn void_for_patient(conn: &mut DbConn, patient: PatientId, now: NaiveDateTime) -> DbResult<usize> {
    let live = invitations::table
        .filter(invitations::patient_id.eq(patient.0))
        .filter(invitations::used_at.is_null())
        .filter(invitations::voided_at.is_null());
    Ok(write_conn!(conn, c => diesel::update(live).set(invitations::voided_at.eq(Some(now))).execute(c))?)
}

pub fn find_by_hash(conn: &mut DbConn, code_hash: &str) -> DbResult<Option<Invitation>> {
    Ok(with_conn!(conn, c => invitations::table.filter(invitations::code_hash.eq(code_hash)).first(c).optional())?)
}

/// Marks an invitation used, once: returns false if it was already used or voided.
pub fn mark_used(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> DbResult<bool> {
    let n = write_conn!(conn, c => diesel::update(
        invitations::table
            .find(id)
            .filter(invitations::used_at.is_null())
            .filter(invitations::voided_at.is_null()),
    )
    .set(invitations::used_at.eq(Some(now)))
    .execute(c))?;
    Ok(n == 1)
}
