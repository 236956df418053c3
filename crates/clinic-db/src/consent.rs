//! Consent forms (the clinic's versions, immutable once published) and patients' signatures.

use crate::schema::{consent_forms, consents};
use crate::{DbConn, DbResult, Stamp, with_conn, write_conn};
use chrono::NaiveDateTime;
use clinic_domain::{PatientId, SeriesId, UserId};
use diesel::prelude::*;

#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct ConsentForm {
    pub version: i64,
    pub title: String,
    pub body: String,
    #[diesel(deserialize_as = Stamp)]
    pub published_at: NaiveDateTime,
    pub published_by: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable, serde::Deserialize)]
pub struct Consent {
    pub id: i64,
    #[diesel(deserialize_as = i64)]
    pub series_id: SeriesId,
    #[diesel(deserialize_as = i64)]
    pub patient_id: PatientId,
    pub form_version: i64,
    pub typed_name: String,
    pub text_sha256: String,
    #[diesel(deserialize_as = Stamp)]
    pub signed_at: NaiveDateTime,
    #[diesel(deserialize_as = i64)]
    pub signed_by: UserId,
    pub address: String,
}

/// Publishes a new version.
pub fn publish(
    conn: &mut DbConn,
    title: &str,
    body: &str,
    by: Option<UserId>,
    now: NaiveDateTime,
) -> DbResult<ConsentForm> {
    let row = (
        consent_forms::title.eq(title),
        consent_forms::body.eq(body),
        consent_forms::published_at.eq(now),
        consent_forms::published_by.eq(by.map(|u| u.0)),
    );
    Ok(write_conn!(conn, c => diesel::insert_into(consent_forms::table).values(row).get_result(c))?)
}

/// Every version, newest first.
pub fn list(conn: &mut DbConn) -> DbResult<Vec<ConsentForm>> {
    Ok(with_conn!(conn, c => consent_forms::table.order(consent_forms::version.desc()).load(c))?)
}

/// The version in force: the newest.
pub fn current(conn: &mut DbConn) -> DbResult<Option<ConsentForm>> {
    Ok(with_conn!(conn, c => consent_forms::table.order(consent_forms::version.desc()).first(c).optional())?)
}

/// Whether a first session of `series` needs a signature: the clinic has a consent form and nobody
/// signed one for this series. One statement.
pub fn needed_for(conn: &mut DbConn, series: SeriesId) -> DbResult<bool> {
    use diesel::dsl::{exists, not};
    let needed = exists(consent_forms::table.select(consent_forms::version)).and(not(exists(
        consents::table
            .filter(consents::series_id.eq(series.0))
            .select(consents::id),
    )));
    Ok(with_conn!(conn, c => diesel::select(needed).get_result(c))?)
}

pub struct NewConsent<'a> {
    pub series: SeriesId,
    pub patient: PatientId,
    pub form_version: i64,
    pub typed_name: &'a str,
    pub text_sha256: &'a str,
    pub signed_by: UserId,
    pub address: &'a str,
    pub now: NaiveDateTime,
}

/// Stores a signature; a second signature of the same version for the same series is a conflict.
pub fn sign(conn: &mut DbConn, new: &NewConsent<'_>) -> DbResult<Consent> {
    let row = (
        consents::series_id.eq(new.series.0),
        consents::patient_id.eq(new.patient.0),
        consents::form_version.eq(new.form_version),
        consents::typed_name.eq(new.typed_name),
        consents::text_sha256.eq(new.text_sha256),
        consents::signed_at.eq(new.now),
        consents::signed_by.eq(new.signed_by.0),
        consents::address.eq(new.address),
    );
    Ok(write_conn!(conn, c => diesel::insert_into(consents::table).values(row).get_result(c))?)
}

/// The newest signature for a series, if any.
pub fn of_series(conn: &mut DbConn, series: SeriesId) -> DbResult<Option<Consent>> {
    Ok(with_conn!(conn, c => consents::table
        .filter(consents::series_id.eq(series.0))
        .order(consents::id.desc())
        .first(c)
        .optional())?)
}

/// A patient's signatures, newest first.
pub fn of_patient(conn: &mut DbConn, patient: PatientId) -> DbResult<Vec<Consent>> {
    Ok(with_conn!(conn, c => consents::table
        .filter(consents::patient_id.eq(patient.0))
        .order(consents::id.desc())
        .load(c))?)
}
