//! The personalised aftercare timeline of a session, as of the clinic's today.

use crate::{Actor, Env, Error, ErrorCode, Result};
use chrono::NaiveDate;
use clinic_db::series::{Series, Session};
use clinic_db::{DbConn, series};
use clinic_domain::protocol::Protocol;
use clinic_domain::session::Notes;
use clinic_domain::timeline::{SessionFacts, Timeline};
use clinic_domain::{PatientId, SessionId};

/// A session, its series, and the timeline built from them.
pub struct SessionTimeline {
    pub session: Session,
    pub series: Series,
    pub timeline: Timeline,
}

/// A session read for its timeline and its read audited, with the clinic's day: all [`build`] takes,
/// so a caller that kept the timeline of equal inputs need not build it again.
#[derive(Debug, Clone)]
pub struct Found {
    pub session: Session,
    pub series: Series,
    pub today: NaiveDate,
}

impl Found {
    /// The session's timeline as of the day it was read on.
    pub fn built(self) -> SessionTimeline {
        let timeline = build(&self.session, &self.series, self.today);
        SessionTimeline {
            session: self.session,
            series: self.series,
            timeline,
        }
    }
}

/// The timeline of `session` as of the clinic's `today`, from the default protocol.
pub fn build(session: &Session, series: &Series, today: NaiveDate) -> Timeline {
    let notes = Notes::parse("notes", session.notes.as_deref()).ok().flatten();
    let facts = SessionFacts {
        performed_on: session.performed_on,
        eye_area: session.eye_area,
        products_applied: &session.products_applied,
        notes: notes.as_ref(),
        notes_stage: session.notes_stage,
        number: session.session_number,
        planned: series.planned_sessions,
    };
    Protocol::default().timeline_on(&facts, today)
}

fn no_session() -> Error {
    Error::refused(
        ErrorCode::NoSession,
        "no session has been recorded for this patient yet",
    )
}

/// The timeline of a patient's session (the latest when none is named), if the actor may read it.
pub fn for_patient(
    conn: &mut DbConn,
    env: &Env<'_>,
    actor: &Actor,
    patient: PatientId,
    session: Option<SessionId>,
) -> Result<SessionTimeline> {
    find_for_patient(conn, env, actor, patient, session).map(Found::built)
}

/// What [`for_patient`] builds from: the session read and its read audited.
#[tracing::instrument(level = "debug", skip_all, fields(patient = %patient))]
pub fn find_for_patient(
    conn: &mut DbConn,
    env: &Env<'_>,
    actor: &Actor,
    patient: PatientId,
    session: Option<SessionId>,
) -> Result<Found> {
    actor.may_read_patient(env, patient)?;
    let found = match session {
        Some(id) => {
            let s = series::find_session(conn, id).map_err(|_| Error::NotFound)?;
            let sr = series::find(conn, s.series_id)?;
            (sr.patient_id == patient).then_some((s, sr))
        }
        None => series::latest_session_of_patient(conn, patient)?,
    };
    audited(env, actor, patient, found, session.is_some())
}

/// A session already read (`found`) for its timeline, audited as a read; `named` when the actor asked
/// for one session rather than the latest.
pub fn audited(
    env: &Env<'_>,
    actor: &Actor,
    patient: PatientId,
    found: Option<(Session, Series)>,
    named: bool,
) -> Result<Found> {
    let Some((session, series)) = found else {
        return Err(if named { Error::NotFound } else { no_session() });
    };
    env.trail.record(
        actor
            .event(env, "timeline.read", "success")
            .patient(Some(patient))
            .subject(format!("session:{}", session.id))
            .build(),
    );
    Ok(Found {
        session,
        series,
        today: env.today(),
    })
}

/// The sessions of a patient as (id, number, date), newest first, for choosing another timeline.
#[tracing::instrument(level = "debug", skip_all)]
pub fn sessions_of_patient(conn: &mut DbConn, patient: PatientId) -> Result<Vec<(SessionId, u8, NaiveDate)>> {
    Ok(series::sessions_of_patient(conn, patient)?
        .iter()
        .map(|(s, _)| (s.id, s.session_number.get(), s.performed_on))
        .collect())
}
