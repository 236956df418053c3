//! Patients' check-ins and the provider's attention queue (alerts on flagged check-ins).

use crate::schema::{alerts, check_ins, patients};
use crate::{DbConn, DbResult, MaybeStamp, Stamp, with_conn, write_conn};
use chrono::NaiveDateTime;
use clinic_domain::{PatientId, SessionId, UserId};
use diesel::prelude::*;

pub const OPEN: &str = "open";
pub const RESOLVED: &str = "resolved";

#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct CheckIn {
    pub id: i64,
    #[diesel(deserialize_as = i64)]
    pub session_id: SessionId,
    #[diesel(deserialize_as = i64)]
    pub patient_id: PatientId,
    pub day: i32,
    /// Comma-separated effect codes.
    pub effects: String,
    pub unexpected: bool,
    pub note: Option<String>,
    pub flagged: bool,
    /// Newline-separated.
    pub flag_reasons: Option<String>,
    #[diesel(deserialize_as = Stamp)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = MaybeStamp)]
    pub replaced_at: Option<NaiveDateTime>,
}

impl CheckIn {
    pub fn effect_codes(&self) -> Vec<&str> {
        self.effects.split(',').filter(|e| !e.is_empty()).collect()
    }

    pub fn reasons(&self) -> Vec<&str> {
        self.flag_reasons
            .as_deref()
            .map(|r| r.split('\n').filter(|l| !l.is_empty()).collect())
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct Alert {
    pub id: i64,
    pub check_in_id: i64,
    #[diesel(deserialize_as = i64)]
    pub patient_id: PatientId,
    pub status: String,
    #[diesel(deserialize_as = Stamp)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = MaybeStamp)]
    pub resolved_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = crate::NullableId)]
    pub resolved_by: Option<UserId>,
    pub resolution_note: Option<String>,
}

/// A check-in to record.
pub struct NewCheckIn<'a> {
    pub session: SessionId,
    pub patient: PatientId,
    pub day: i32,
    pub effects: &'a str,
    pub unexpected: bool,
    pub note: Option<&'a str>,
    pub flagged: bool,
    pub flag_reasons: Option<&'a str>,
}

/// What an earlier alert says when a flagged check-in the same day takes its place.
pub const REPLACED_NOTE: &str = "Replaced by the patient's later flagged check-in the same day.";

/// Records a check-in (inside the caller's transaction): the day's earlier one, if any, is kept and
/// marked replaced; a flagged check-in opens an alert, taking the place of the day's open ones. An
/// unflagged check-in leaves them open: what a patient reported is not withdrawn without the provider
/// seeing it.
pub fn record(conn: &mut DbConn, new: &NewCheckIn<'_>, now: NaiveDateTime) -> DbResult<(CheckIn, Option<Alert>)> {
    // Two check-ins for one session at once take turns (SQLite: the write transaction does).
    if let DbConn::Postgres(c) = conn {
        let _: i64 = crate::schema::sessions::table
            .find(new.session.0)
            .select(crate::schema::sessions::id)
            .for_update()
            .first(c)?;
    }
    let earlier: Option<CheckIn> = with_conn!(&mut *conn, c => check_ins::table
        .filter(check_ins::session_id.eq(new.session.0))
        .filter(check_ins::day.eq(new.day))
        .filter(check_ins::replaced_at.is_null())
        .first(c)
        .optional())?;
    if let Some(e) = &earlier {
        write_conn!(&mut *conn, c => diesel::update(check_ins::table.find(e.id))
            .set(check_ins::replaced_at.eq(Some(now)))
            .execute(c))?;
    }
    if earlier.is_some() && new.flagged {
        // The day's earlier alerts give way to the new one, which says what holds now.
        let same_day = check_ins::table
            .filter(check_ins::session_id.eq(new.session.0))
            .filter(check_ins::day.eq(new.day))
            .select(check_ins::id);
        write_conn!(&mut *conn, c => diesel::update(alerts::table
            .filter(alerts::check_in_id.eq_any(same_day))
            .filter(alerts::status.eq(OPEN)))
            .set((
                alerts::status.eq(RESOLVED),
                alerts::resolved_at.eq(Some(now)),
                alerts::resolution_note.eq(Some(REPLACED_NOTE)),
            ))
            .execute(c))?;
    }
    let row = (
        check_ins::session_id.eq(new.session.0),
        check_ins::patient_id.eq(new.patient.0),
        check_ins::day.eq(new.day),
        check_ins::effects.eq(new.effects),
        check_ins::unexpected.eq(new.unexpected),
        check_ins::note.eq(new.note),
        check_ins::flagged.eq(new.flagged),
        check_ins::flag_reasons.eq(new.flag_reasons),
        check_ins::created_at.eq(now),
    );
    let check_in: CheckIn =
        write_conn!(&mut *conn, c => diesel::insert_into(check_ins::table).values(row).get_result(c))?;
    let alert = if new.flagged {
        let row = (
            alerts::check_in_id.eq(check_in.id),
            alerts::patient_id.eq(new.patient.0),
            alerts::status.eq(OPEN),
            alerts::created_at.eq(now),
        );
        Some(write_conn!(conn, c => diesel::insert_into(alerts::table).values(row).get_result(c))?)
    } else {
        None
    };
    Ok((check_in, alert))
}

/// A patient's current check-ins (not replaced), newest first.
pub fn of_patient(conn: &mut DbConn, patient: PatientId) -> DbResult<Vec<CheckIn>> {
    Ok(with_conn!(conn, c => check_ins::table
        .filter(check_ins::patient_id.eq(patient.0))
        .filter(check_ins::replaced_at.is_null())
        .order(check_ins::id.desc())
        .load(c))?)
}

/// An alert with its check-in and the patient's name.
pub type AlertRow = (Alert, CheckIn, String, String);

/// Alerts with `status` (all when `None`), newest first.
pub fn alerts(conn: &mut DbConn, status: Option<&str>, limit: i64) -> DbResult<Vec<AlertRow>> {
    Ok(with_conn!(conn, c => {
        let mut q = alerts::table
            .inner_join(check_ins::table)
            .inner_join(patients::table)
            .select((alerts::all_columns, check_ins::all_columns, patients::first_name, patients::last_name))
            .order(alerts::id.desc())
            .limit(limit)
            .into_boxed();
        if let Some(s) = status {
            q = q.filter(alerts::status.eq(s.to_owned()));
        }
        q.load(c)
    })?)
}

/// One alert with its check-in and the patient's name.
pub fn alert_row(conn: &mut DbConn, id: i64) -> DbResult<AlertRow> {
    Ok(with_conn!(conn, c => alerts::table
        .inner_join(check_ins::table)
        .inner_join(patients::table)
        .filter(alerts::id.eq(id))
        .select((alerts::all_columns, check_ins::all_columns, patients::first_name, patients::last_name))
        .first(c))?)
}

/// How many alerts are open (the provider's "Needs attention (N)").
pub fn count_open(conn: &mut DbConn) -> DbResult<i64> {
    Ok(with_conn!(conn, c => alerts::table.filter(alerts::status.eq(OPEN)).count().get_result(c))?)
}

/// How many alerts are open and whether the clinic has published a consent form: what the provider's
/// patient page needs besides the chart, in one statement.
pub fn count_open_and_any_consent_form(conn: &mut DbConn) -> DbResult<(i64, bool)> {
    use crate::schema::consent_forms;
    use diesel::dsl::exists;
    let open = alerts::table.filter(alerts::status.eq(OPEN)).count().single_value();
    let any_form = exists(consent_forms::table.select(consent_forms::version));
    let (n, any): (Option<i64>, bool) = with_conn!(conn, c => diesel::select((open, any_form)).get_result(c))?;
    Ok((n.unwrap_or(0), any))
}

pub fn find_alert(conn: &mut DbConn, id: i64) -> DbResult<Alert> {
    Ok(with_conn!(conn, c => alerts::table.find(id).first(c))?)
}

/// Resolves an open alert; false when it is not open.
pub fn resolve(conn: &mut DbConn, id: i64, by: UserId, note: &str, now: NaiveDateTime) -> DbResult<bool> {
    let n = write_conn!(conn, c => diesel::update(alerts::table.find(id).filter(alerts::status.eq(OPEN)))
        .set((
            alerts::status.eq(RESOLVED),
            alerts::resolved_at.eq(Some(now)),
            alerts::resolved_by.eq(Some(by.0)),
            alerts::resolution_note.eq(Some(note)),
        ))
        .execute(c))?;
    Ok(n == 1)
}
