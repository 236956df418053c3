//! The patient's daily check-in after a session, and the provider's attention queue of flagged ones.

use crate::{Actor, Env, Error, ErrorCode, Result};
use clinic_db::check_ins::{self, Alert, AlertRow, CheckIn, NewCheckIn};
use clinic_db::{DbConn, series};
use clinic_domain::checkin::{CheckInRefusal, judge};
use clinic_domain::protocol::Effect;
use clinic_domain::session::Notes;
use clinic_domain::user::Role;
use clinic_domain::{FieldError, SessionId};

/// A check-in as the patient sends it, parsed.
#[derive(Debug, Clone)]
pub struct CheckInInput {
    /// The session it is about; the latest when `None`.
    pub session: Option<SessionId>,
    pub effects: Vec<Effect>,
    pub unexpected: bool,
    pub note: Option<Notes>,
}

fn refusal(r: CheckInRefusal) -> Error {
    match r {
        CheckInRefusal::Closed => Error::refused(ErrorCode::CheckInClosed, r.to_string()),
        CheckInRefusal::NoteRequired => Error::refused(ErrorCode::NoteRequired, r.to_string()),
        CheckInRefusal::EyeAreaNotTreated => Error::Validation(FieldError::new("effects", r.to_string())),
    }
}

/// Records the signed-in patient's check-in for today (a second the same day replaces the first);
/// flagged, it opens an alert in the provider's queue.
#[tracing::instrument(level = "debug", skip_all)]
pub fn check_in(conn: &mut DbConn, env: &Env<'_>, actor: &Actor, input: &CheckInInput) -> Result<CheckIn> {
    actor.require(env, &[Role::Patient])?;
    let patient = actor.own_patient()?;
    let (now, today) = (env.now(), env.today());
    conn.write_transaction(|conn| {
        let session = match input.session {
            Some(id) => Some(series::find_session(conn, id).map_err(|_| Error::NotFound)?)
                .filter(|s| s.patient_id == Some(patient) && !s.is_void())
                .ok_or(Error::NotFound)?,
            None => series::latest_session_of_patient(conn, patient)?
                .map(|(s, _)| s)
                .ok_or_else(|| Error::refused(ErrorCode::NoSession, "no session has been recorded for you yet"))?,
        };
        let day = (today - session.performed_on).num_days();
        let judged = judge(
            day,
            session.eye_area,
            &input.effects,
            input.unexpected,
            input.note.as_ref(),
        )
        .map_err(refusal)?;
        let effects: Vec<&str> = input.effects.iter().map(|e| e.code()).collect();
        let reasons = judged.reasons.join("\n");
        let (check_in, alert) = check_ins::record(
            conn,
            &NewCheckIn {
                session: session.id,
                patient,
                day: i32::try_from(day).unwrap_or_default(),
                effects: &effects.join(","),
                unexpected: input.unexpected,
                note: input.note.as_ref().map(Notes::as_str),
                flagged: judged.flagged,
                flag_reasons: judged.flagged.then_some(reasons.as_str()),
            },
            now,
        )?;
        let detail = match &alert {
            Some(a) => format!("day {day}, flagged (alert {})", a.id),
            None => format!("day {day}"),
        };
        clinic_db::audit::insert(
            conn,
            &actor
                .event(env, "check_in.record", "success")
                .patient(Some(patient))
                .subject(format!("session:{}", session.id))
                .detail(detail)
                .build(),
        )?;
        Ok(check_in)
    })
}

/// The signed-in patient's check-ins, newest first.
pub fn mine(conn: &mut DbConn, env: &Env<'_>, actor: &Actor) -> Result<Vec<CheckIn>> {
    actor.require(env, &[Role::Patient])?;
    Ok(check_ins::of_patient(conn, actor.own_patient()?)?)
}

/// Which alerts to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertFilter {
    Open,
    Resolved,
    All,
}

/// Flagged check-ins, newest first, with the patient and the reasons (staff; audited).
#[tracing::instrument(level = "debug", skip_all)]
pub fn alerts(conn: &mut DbConn, env: &Env<'_>, actor: &Actor, filter: AlertFilter) -> Result<Vec<AlertRow>> {
    actor.require(env, &[Role::Provider, Role::Manager])?;
    let status = match filter {
        AlertFilter::Open => Some(check_ins::OPEN),
        AlertFilter::Resolved => Some(check_ins::RESOLVED),
        AlertFilter::All => None,
    };
    let rows = check_ins::alerts(conn, status, 500)?;
    env.trail.record(actor.event(env, "alerts.list", "success").build());
    Ok(rows)
}

/// How many alerts are open, for the provider's navigation.
pub fn open_count(conn: &mut DbConn) -> Result<i64> {
    Ok(check_ins::count_open(conn)?)
}

/// Resolves an open alert with the provider's note (audited).
#[tracing::instrument(level = "debug", skip_all, fields(alert = id))]
pub fn resolve(conn: &mut DbConn, env: &Env<'_>, actor: &Actor, id: i64, note: Option<&str>) -> Result<Alert> {
    actor.require(env, &[Role::Provider])?;
    let note = Notes::parse("note", note)?
        .ok_or_else(|| Error::refused(ErrorCode::NoteRequired, "say what was done about it: the note is kept"))?;
    let now = env.now();
    conn.write_transaction(|conn| {
        let alert = check_ins::find_alert(conn, id)?;
        if !check_ins::resolve(conn, id, actor.user.id, note.as_str(), now)? {
            return Err(Error::refused(
                ErrorCode::AlertResolved,
                "this alert is already resolved",
            ));
        }
        clinic_db::audit::insert(
            conn,
            &actor
                .event(env, "alert.resolve", "success")
                .patient(Some(alert.patient_id))
                .subject(format!("alert:{id}"))
                .build(),
        )?;
        Ok(check_ins::find_alert(conn, id)?)
    })
}
