//! Photos: the rows, and their bytes in the database's content-addressed blob table (the default
//! store: several processes share it and one backup holds everything).

use crate::schema::{photo_blobs, photos};
use crate::{DbConn, DbResult, MaybeStamp, Stamp, with_conn, write_conn};
use chrono::NaiveDateTime;
use clinic_domain::{PatientId, SessionId, UserId};
use diesel::prelude::*;

#[derive(Debug, Clone, PartialEq, Eq, Queryable, serde::Deserialize)]
pub struct Photo {
    pub id: i64,
    #[diesel(deserialize_as = i64)]
    pub session_id: SessionId,
    #[diesel(deserialize_as = i64)]
    pub patient_id: PatientId,
    pub kind: String,
    pub sha256: String,
    pub thumbnail_sha256: String,
    pub width: i32,
    pub height: i32,
    #[diesel(deserialize_as = i64)]
    pub uploaded_by: UserId,
    #[diesel(deserialize_as = Stamp)]
    pub uploaded_at: NaiveDateTime,
    #[diesel(deserialize_as = MaybeStamp)]
    pub withdrawn_at: Option<NaiveDateTime>,
    pub withdrawn_by: Option<i64>,
    pub withdraw_reason: Option<String>,
}

impl Photo {
    pub fn is_withdrawn(&self) -> bool {
        self.withdrawn_at.is_some()
    }
}

/// Stores bytes under their SHA-256 unless they are there already.
pub fn put_blob(conn: &mut DbConn, sha256: &str, bytes: &[u8], now: NaiveDateTime) -> DbResult<()> {
    let row = (
        photo_blobs::sha256.eq(sha256),
        photo_blobs::bytes.eq(bytes),
        photo_blobs::size.eq(i64::try_from(bytes.len()).unwrap_or(i64::MAX)),
        photo_blobs::created_at.eq(now),
    );
    write_conn!(conn, c => diesel::insert_into(photo_blobs::table).values(row).on_conflict_do_nothing().execute(c))?;
    Ok(())
}

pub fn blob(conn: &mut DbConn, sha256: &str) -> DbResult<Option<Vec<u8>>> {
    Ok(with_conn!(conn, c => photo_blobs::table.find(sha256).select(photo_blobs::bytes).first(c).optional())?)
}

/// Every blob's key, for an integrity check.
pub fn blob_keys(conn: &mut DbConn) -> DbResult<Vec<String>> {
    Ok(with_conn!(conn, c => photo_blobs::table.select(photo_blobs::sha256).order(photo_blobs::sha256).load(c))?)
}

pub struct NewPhoto<'a> {
    pub session: SessionId,
    pub patient: PatientId,
    pub kind: &'a str,
    pub sha256: &'a str,
    pub thumbnail_sha256: &'a str,
    pub width: i32,
    pub height: i32,
    pub by: UserId,
    pub now: NaiveDateTime,
}

pub fn insert(conn: &mut DbConn, new: &NewPhoto<'_>) -> DbResult<Photo> {
    let row = (
        photos::session_id.eq(new.session.0),
        photos::patient_id.eq(new.patient.0),
        photos::kind.eq(new.kind),
        photos::sha256.eq(new.sha256),
        photos::thumbnail_sha256.eq(new.thumbnail_sha256),
        photos::width.eq(new.width),
        photos::height.eq(new.height),
        photos::uploaded_by.eq(new.by.0),
        photos::uploaded_at.eq(new.now),
    );
    Ok(write_conn!(conn, c => diesel::insert_into(photos::table).values(row).get_result(c))?)
}

pub fn find(conn: &mut DbConn, id: i64) -> DbResult<Photo> {
    Ok(with_conn!(conn, c => photos::table.find(id).first(c))?)
}

/// A patient's photos, oldest first.
pub fn of_patient(conn: &mut DbConn, patient: PatientId) -> DbResult<Vec<Photo>> {
    Ok(with_conn!(conn, c => photos::table
        .filter(photos::patient_id.eq(patient.0))
        .order(photos::id.asc())
        .load(c))?)
}

/// Every photo row, for an integrity check.
pub fn all(conn: &mut DbConn) -> DbResult<Vec<Photo>> {
    Ok(with_conn!(conn, c => photos::table.order(photos::id.asc()).load(c))?)
}

/// Hides a photo (kept); false when it was withdrawn already.
pub fn withdraw(conn: &mut DbConn, id: i64, by: UserId, reason: &str, now: NaiveDateTime) -> DbResult<bool> {
    let live = photos::table.find(id).filter(photos::withdrawn_at.is_null());
    let n = write_conn!(conn, c => diesel::update(live)
        .set((
            photos::withdrawn_at.eq(Some(now)),
            photos::withdrawn_by.eq(Some(by.0)),
            photos::withdraw_reason.eq(Some(reason)),
        ))
        .execute(c))?;
    Ok(n == 1)
}
