//! Corrections of the record: a session amended with a reason (every earlier version kept), the most
//! recent session of a series voided (kept, shown as void, no longer counted). The aftercare e-mails
//! follow: a voided session's queued ones are cancelled, a new date reschedules them.

use crate::{Actor, Env, Error, ErrorCode, Result};
use clinic_db::series::{ChangeError, Session, SessionRecord, SessionRevision};
use clinic_db::{DbConn, outbox, patients, series};
use clinic_domain::session::Notes;
use clinic_domain::user::Role;
use clinic_domain::{FieldError, SessionId};

fn change_refusal(e: ChangeError) -> Error {
    match e {
        ChangeError::Void => Error::refused(ErrorCode::SessionVoid, e.to_string()),
        ChangeError::NotLatest { .. } => Error::refused(ErrorCode::OnlyLatestCanBeVoided, e.to_string()),
        ChangeError::Db(e) => e.into(),
    }
}

/// The reason a change needs (a correction, a void).
pub fn reason(raw: Option<&str>) -> Result<Notes> {
    Notes::parse("reason", raw)?.ok_or_else(|| {
        Error::refused(
            ErrorCode::ReasonRequired,
            "say why the record changes: the reason is kept with it",
        )
    })
}

/// Which fields a correction changes; the others keep their values.
#[derive(Debug, Clone, Default)]
pub struct Changes {
    pub performed_on: Option<chrono::NaiveDate>,
    pub treatment_areas: Option<clinic_domain::session::TreatmentAreas>,
    pub eye_area: Option<bool>,
    pub device: Option<clinic_domain::session::Device>,
    pub needle_depth: Option<clinic_domain::session::NeedleDepth>,
    pub products_applied: Option<clinic_domain::session::ProductsApplied>,
    /// `Some(None)` clears the notes.
    pub notes: Option<Option<Notes>>,
    pub notes_stage: Option<clinic_domain::protocol::StageKey>,
}

impl Changes {
    /// `current` with these changes; the eye area follows the areas (a contradicting one is refused).
    fn apply(&self, current: &Session) -> std::result::Result<SessionRecord, FieldError> {
        let mut r = current.record();
        if let Some(d) = self.performed_on {
            r.performed_on = d;
        }
        if let Some(a) = &self.treatment_areas {
            r.treatment_areas = a.clone();
        }
        r.eye_area = clinic_domain::session::eye_area(self.eye_area, &r.treatment_areas)?;
        if let Some(d) = self.device {
            r.device = d;
        }
        if let Some(n) = self.needle_depth {
            r.needle_depth = n;
        }
        if let Some(p) = &self.products_applied {
            r.products_applied = p.clone();
        }
        if let Some(n) = &self.notes {
            r.notes = n.clone();
        }
        if let Some(s) = self.notes_stage {
            r.notes_stage = s;
        }
        Ok(r)
    }
}

/// Corrects a session (a provider, with a reason; audited). Returns it as it now is.
#[tracing::instrument(level = "debug", skip_all, fields(session = %id))]
pub fn amend(
    conn: &mut DbConn,
    env: &Env<'_>,
    actor: &Actor,
    id: SessionId,
    changes: &Changes,
    why: &Notes,
) -> Result<Session> {
    actor.require(env, &[Role::Provider])?;
    let (now, today) = (env.now(), env.today());
    conn.write_transaction(|conn| {
        let current = series::find_session(conn, id)?;
        let record = changes.apply(&current)?;
        let patient = patients::find(conn, current.patient_id.ok_or(Error::NotFound)?)?;
        clinic_domain::session::performed_on(record.performed_on, today, patient.date_of_birth)?;
        let amended = series::amend_session(conn, id, &record, actor.user.id, why, now).map_err(change_refusal)?;
        if amended.performed_on != current.performed_on {
            // The reminders follow the new date.
            outbox::cancel_for_session(conn, id)?;
            crate::messages::requeue_aftercare(conn, env, &patient, &amended)?;
        }
        clinic_db::audit::insert(
            conn,
            &actor
                .event(env, "session.amend", "success")
                .patient(Some(patient.id))
                .subject(format!("session:{id}"))
                .detail(format!("revision {}: {}", amended.revision, why.as_str()))
                .build(),
        )?;
        Ok(amended)
    })
}

/// Voids the most recent session of its series (a provider, with a reason; audited).
#[tracing::instrument(level = "debug", skip_all, fields(session = %id))]
pub fn void(conn: &mut DbConn, env: &Env<'_>, actor: &Actor, id: SessionId, why: &Notes) -> Result<Session> {
    actor.require(env, &[Role::Provider])?;
    let now = env.now();
    conn.write_transaction(|conn| {
        let voided = series::void_session(conn, id, actor.user.id, why, now).map_err(change_refusal)?;
        let cancelled = outbox::cancel_for_session(conn, id)?;
        clinic_db::audit::insert(
            conn,
            &actor
                .event(env, "session.void", "success")
                .patient(voided.patient_id)
                .subject(format!("session:{id}"))
                .detail(format!("{}; {cancelled} queued e-mail(s) cancelled", why.as_str()))
                .build(),
        )?;
        Ok(voided)
    })
}

/// A session's versions: the earlier ones and the current one, oldest first (staff; audited).
#[tracing::instrument(level = "debug", skip_all, fields(session = %id))]
pub fn revisions(
    conn: &mut DbConn,
    env: &Env<'_>,
    actor: &Actor,
    id: SessionId,
) -> Result<(Vec<SessionRevision>, Session)> {
    actor.require(env, &[Role::Provider, Role::Manager])?;
    let current = series::find_session(conn, id)?;
    let earlier = series::revisions_of(conn, id)?;
    env.trail.record(
        actor
            .event(env, "session.revisions", "success")
            .patient(current.patient_id)
            .subject(format!("session:{id}"))
            .build(),
    );
    Ok((earlier, current))
}

/// A session, for a page that shows it (staff; audited as a read of the patient).
pub fn find(conn: &mut DbConn, env: &Env<'_>, actor: &Actor, id: SessionId) -> Result<Session> {
    actor.require(env, &[Role::Provider, Role::Manager])?;
    let s = series::find_session(conn, id)?;
    env.trail.record(
        actor
            .event(env, "session.read", "success")
            .patient(s.patient_id)
            .subject(format!("session:{id}"))
            .build(),
    );
    Ok(s)
}
