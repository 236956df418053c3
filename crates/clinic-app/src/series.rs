//! Treatment series and the sessions recorded in them, under the series rule.

use crate::{Actor, Env, Error, ErrorCode, Result};
use clinic_db::series::{OpenSeriesError, RecordOutcome, Series, SeriesSummary, Session, SessionRecord};
use clinic_db::{DbConn, patients, series};
use clinic_domain::series::{MAXIMUM, OpenSeriesRefusal, SeriesPlan, SessionRefusal};
use clinic_domain::session::Notes;
use clinic_domain::user::Role;
use clinic_domain::{PatientId, SeriesId};

fn open_refusal(r: &OpenSeriesRefusal) -> Error {
    let code = match r {
        OpenSeriesRefusal::OpenSeriesExists => ErrorCode::OpenSeriesExists,
        OpenSeriesRefusal::ReviewNoteRequired => ErrorCode::ReviewNoteRequired,
    };
    Error::refused(code, r.to_string())
}

fn session_refusal(r: &SessionRefusal) -> Error {
    let code = match r {
        SessionRefusal::AcknowledgementRequired { .. } => ErrorCode::BeyondTypicalAcknowledgementRequired,
        SessionRefusal::MaximumReached => ErrorCode::SeriesMaximumReached,
        SessionRefusal::SeriesClosed => ErrorCode::SeriesClosed,
    };
    Error::refused(code, r.to_string())
}

/// Opens a series for a patient: one open series at a time; after a course that reached the maximum,
/// only with a medical-review note, and flagged.
#[tracing::instrument(level = "debug", skip_all, fields(patient = %patient))]
pub fn open(
    conn: &mut DbConn,
    env: &Env<'_>,
    actor: &Actor,
    patient: PatientId,
    plan: &SeriesPlan,
    review: Option<&Notes>,
) -> Result<Series> {
    actor.require(env, &[Role::Provider])?;
    let now = env.now();
    let opened = conn.write_transaction(|conn| {
        patients::find(conn, patient)?;
        let s = series::open(conn, patient, plan, review, actor.user.id, now)?;
        let detail = if s.flagged_after_maximum {
            format!("flagged: after a series that reached {MAXIMUM}")
        } else {
            String::new()
        };
        clinic_db::audit::insert(
            conn,
            &actor
                .event(env, "series.open", "success")
                .patient(Some(patient))
                .subject(format!("series:{}", s.id))
                .detail(detail)
                .build(),
        )?;
        Ok::<_, OpenSeriesError>(s)
    });
    match opened {
        Ok(s) => Ok(s),
        Err(OpenSeriesError::Refused(r)) => {
            env.trail.record(
                actor
                    .event(env, "series.open", "refused")
                    .patient(Some(patient))
                    .detail(open_refusal(&r).code().as_str())
                    .build(),
            );
            Err(open_refusal(&r))
        }
        Err(OpenSeriesError::Db(e)) => Err(e.into()),
    }
}

/// A patient's series, newest first (staff, or that patient).
#[tracing::instrument(level = "debug", skip_all)]
pub fn list(conn: &mut DbConn, env: &Env<'_>, actor: &Actor, patient: PatientId) -> Result<Vec<SeriesSummary>> {
    actor.may_read_patient(env, patient)?;
    patients::find(conn, patient)?;
    let list = series::list_for_patient(conn, patient)?;
    env.trail.record(
        actor
            .event(env, "series.list", "success")
            .patient(Some(patient))
            .build(),
    );
    Ok(list)
}

/// A series with its sessions, if the actor may read it (another patient's is "not found").
#[tracing::instrument(level = "debug", skip_all)]
pub fn load(conn: &mut DbConn, env: &Env<'_>, actor: &Actor, id: SeriesId) -> Result<(Series, Vec<Session>)> {
    let s = series::find(conn, id)?;
    actor.may_read_patient(env, s.patient_id)?;
    let sessions = series::sessions_of(conn, id)?;
    env.trail.record(
        actor
            .event(env, "series.read", "success")
            .patient(Some(s.patient_id))
            .subject(format!("series:{id}"))
            .build(),
    );
    Ok((s, sessions))
}

/// The patient a series belongs to (for a page to return to after an action on the series).
#[tracing::instrument(level = "debug", skip_all)]
pub fn patient_of(conn: &mut DbConn, id: SeriesId) -> Result<PatientId> {
    Ok(series::find(conn, id)?.patient_id)
}

/// A session just recorded, with its series as it now is.
pub struct Recorded {
    pub session: Session,
    pub series: SeriesSummary,
    pub sessions: Vec<Session>,
    pub warnings: Vec<String>,
}

/// Records the next session of a series under the series rule. The refusal of a session beyond the
/// maximum is itself stored (with its audit row) before it is answered.
pub fn record_session(
    conn: &mut DbConn,
    env: &Env<'_>,
    actor: &Actor,
    id: SeriesId,
    record: &SessionRecord,
) -> Result<Recorded> {
    record_session_with(conn, env, actor, id, record, None)
}

/// [`record_session`]; the first session of a series without the patient's signed consent needs
/// `consent_override` (a reason, audited) once the clinic has a consent form.
#[tracing::instrument(level = "debug", skip_all, fields(series = %id))]
pub fn record_session_with(
    conn: &mut DbConn,
    env: &Env<'_>,
    actor: &Actor,
    id: SeriesId,
    record: &SessionRecord,
    consent_override: Option<&clinic_domain::session::Notes>,
) -> Result<Recorded> {
    actor.require(env, &[Role::Provider])?;
    let (now, today) = (env.now(), env.today());
    // Few statements, each one round trip on PostgreSQL: the series and patient locked in one, the
    // session inserted with the series' sessions read back in one, its e-mails and the audit rows in one.
    conn.write_transaction(|conn| -> Result<Result<Recorded>> {
        let (s, patient) = series::lock_with_patient(conn, id)?;
        let consent_override = crate::consent::check_first_session(conn, env, actor, &s, consent_override)?;
        clinic_domain::session::performed_on(record.performed_on, today, patient.date_of_birth)?;
        let outcome = series::record_locked(conn, s, record, actor.user.id, now)?;
        let (outcome_word, detail) = match &outcome {
            RecordOutcome::Recorded { session, admission, .. } => (
                "success",
                format!(
                    "session {}{}",
                    session.session_number,
                    if admission.beyond_typical {
                        ", beyond typical (acknowledged)"
                    } else {
                        ""
                    }
                ),
            ),
            RecordOutcome::Refused { refusal, .. } => ("refused", session_refusal(refusal).code().as_str().to_owned()),
        };
        let recorded = actor
            .event(env, "session.record", outcome_word)
            .patient(Some(patient.id))
            .subject(format!("series:{id}"))
            .detail(detail)
            .build();
        let events: Vec<_> = consent_override.into_iter().chain([recorded]).collect();
        match outcome {
            RecordOutcome::Recorded {
                session,
                sessions,
                series: summary,
                admission,
            } => {
                // The audit rows go with the e-mails: one statement on PostgreSQL.
                crate::messages::queue_aftercare(conn, env, &patient, &session, &events)?;
                Ok(Ok(Recorded {
                    session,
                    series: summary,
                    sessions,
                    warnings: admission.warnings,
                }))
            }
            RecordOutcome::Refused { refusal, .. } => {
                // A refusal is stored, with its audit row, before it is answered.
                clinic_db::audit::insert_many(conn, &events)?;
                Ok(Err(session_refusal(&refusal)))
            }
        }
    })?
}

/// Marks a series completed.
#[tracing::instrument(level = "debug", skip_all, fields(series = %id))]
pub fn complete(conn: &mut DbConn, env: &Env<'_>, actor: &Actor, id: SeriesId) -> Result<SeriesSummary> {
    actor.require(env, &[Role::Provider])?;
    let now = env.now();
    conn.write_transaction(|conn| {
        let s = series::complete(conn, id, now)?;
        clinic_db::audit::insert(
            conn,
            &actor
                .event(env, "series.complete", "success")
                .patient(Some(s.patient_id))
                .subject(format!("series:{id}"))
                .build(),
        )?;
        Ok(SeriesSummary::from(s))
    })
}
