//! Patient records.

use crate::schema::{patient_revisions, patients};
use crate::{Day, DbConn, DbResult, Stamp, with_conn, write_conn};
use chrono::{NaiveDate, NaiveDateTime};
use clinic_domain::patient::NewPatient as ParsedPatient;
use clinic_domain::{PatientId, UserId};
use diesel::prelude::*;

diesel::define_sql_function!(fn lower(x: diesel::sql_types::Text) -> diesel::sql_types::Text);
diesel::define_sql_function!(
    fn coalesce(x: diesel::sql_types::Nullable<diesel::sql_types::Text>, y: diesel::sql_types::Text) -> diesel::sql_types::Text
);

#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct Patient {
    #[diesel(deserialize_as = i64)]
    pub id: PatientId,
    pub first_name: String,
    pub last_name: String,
    #[diesel(deserialize_as = Day)]
    pub date_of_birth: NaiveDate,
    pub email: Option<String>,
    pub phone: Option<String>,
    #[diesel(deserialize_as = i64)]
    pub created_by: UserId,
    #[diesel(deserialize_as = Stamp)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = Stamp)]
    pub updated_at: NaiveDateTime,
    /// The patient refused aftercare e-mails and reminders.
    pub reminders_opt_out: bool,
}

impl Patient {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = patients)]
struct NewPatientRow<'a> {
    first_name: &'a str,
    last_name: &'a str,
    date_of_birth: NaiveDate,
    email: Option<&'a str>,
    phone: Option<&'a str>,
    created_by: i64,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConn, p: &ParsedPatient, created_by: UserId, now: NaiveDateTime) -> DbResult<Patient> {
    let row = NewPatientRow {
        first_name: p.first_name.as_str(),
        last_name: p.last_name.as_str(),
        date_of_birth: p.date_of_birth.date(),
        email: p.email.as_ref().map(|e| e.as_str()),
        phone: p.phone.as_ref().map(|e| e.as_str()),
        created_by: created_by.0,
        created_at: now,
        updated_at: now,
    };
    Ok(write_conn!(conn, c => diesel::insert_into(patients::table).values(&row).get_result(c))?)
}

/// Corrects a patient's details, keeping the previous version in `patient_revisions`.
pub fn update(
    conn: &mut DbConn,
    id: PatientId,
    p: &ParsedPatient,
    by: UserId,
    now: NaiveDateTime,
) -> DbResult<Patient> {
    conn.write_transaction(|conn| {
        let before = find(conn, id)?;
        let revision = (
            patient_revisions::patient_id.eq(id.0),
            patient_revisions::first_name.eq(&before.first_name),
            patient_revisions::last_name.eq(&before.last_name),
            patient_revisions::date_of_birth.eq(before.date_of_birth),
            patient_revisions::email.eq(&before.email),
            patient_revisions::phone.eq(&before.phone),
            patient_revisions::replaced_by.eq(by.0),
            patient_revisions::replaced_at.eq(now),
        );
        with_conn!(&mut *conn, c => diesel::insert_into(patient_revisions::table).values(revision).execute(c))?;
        let changes = (
            patients::first_name.eq(p.first_name.as_str()),
            patients::last_name.eq(p.last_name.as_str()),
            patients::date_of_birth.eq(p.date_of_birth.date()),
            patients::email.eq(p.email.as_ref().map(|e| e.as_str())),
            patients::phone.eq(p.phone.as_ref().map(|e| e.as_str())),
            patients::updated_at.eq(now),
        );
        with_conn!(&mut *conn, c => diesel::update(patients::table.find(id.0)).set(changes).execute(c))?;
        find(conn, id)
    })
}

/// How many earlier versions of a patient's details are kept.
pub fn count_revisions(conn: &mut DbConn, id: PatientId) -> DbResult<i64> {
    Ok(with_conn!(conn, c => patient_revisions::table
        .filter(patient_revisions::patient_id.eq(id.0))
        .count()
        .get_result(c))?)
}

pub fn find(conn: &mut DbConn, id: PatientId) -> DbResult<Patient> {
    Ok(with_conn!(conn, c => patients::table.find(id.0).first(c))?)
}

/// Patients whose first name, last name or e-mail contains `q` (any case), by last name.
pub fn search(conn: &mut DbConn, q: &str, limit: i64) -> DbResult<Vec<Patient>> {
    let q = q.trim().to_lowercase();
    let pattern = format!("%{}%", q.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
    Ok(with_conn!(conn, c => {
        let mut query = patients::table.order((patients::last_name, patients::first_name, patients::id)).limit(limit).into_boxed();
        if !q.is_empty() {
            query = query.filter(
                lower(patients::first_name)
                    .like(pattern.clone())
                    .escape('\\')
                    .or(lower(patients::last_name).like(pattern.clone()).escape('\\'))
                    .or(lower(coalesce(patients::email, "")).like(pattern.clone()).escape('\\')),
            );
        }
        query.load(c)
    })?)
}

/// Records whether the patient refuses aftercare e-mails and reminders.
pub fn set_reminders_opt_out(conn: &mut DbConn, id: PatientId, opt_out: bool) -> DbResult<bool> {
    let n = write_conn!(conn, c => diesel::update(patients::table.find(id.0))
        .set(patients::reminders_opt_out.eq(opt_out))
        .execute(c))?;
    Ok(n == 1)
}

pub fn count(conn: &mut DbConn) -> DbResult<i64> {
    Ok(with_conn!(conn, c => patients::table.count().get_result(c))?)
}
