//! Patients: providers create and correct them; staff search and read them.

use crate::{Actor, Env, Result};
use clinic_db::patients::Patient;
use clinic_db::series::{SeriesSummary, Session};
use clinic_db::{DbConn, patients, series, users};
use clinic_domain::PatientId;
use clinic_domain::patient::NewPatient;
use clinic_domain::user::Role;

/// Creates a patient (`id` None) or corrects one, keeping the prior version.
#[tracing::instrument(level = "debug", skip_all, fields(id = ?id))]
pub fn save(
    conn: &mut DbConn,
    env: &Env<'_>,
    actor: &Actor,
    id: Option<PatientId>,
    new: &NewPatient,
) -> Result<Patient> {
    actor.require(env, &[Role::Provider])?;
    let now = env.now();
    conn.write_transaction(|conn| {
        let (p, action) = match id {
            None => (patients::insert(conn, new, actor.user.id, now)?, "patient.create"),
            Some(id) => (patients::update(conn, id, new, actor.user.id, now)?, "patient.update"),
        };
        clinic_db::audit::insert(conn, &actor.event(env, action, "success").patient(Some(p.id)).build())?;
        Ok(p)
    })
}

/// Patients matching `q` (all when blank), for staff; the search is audited.
#[tracing::instrument(level = "debug", skip_all)]
pub fn search(conn: &mut DbConn, env: &Env<'_>, actor: &Actor, q: &str, limit: i64) -> Result<Vec<Patient>> {
    actor.require(env, &[Role::Provider, Role::Manager])?;
    let found = patients::search(conn, q, limit)?;
    env.trail.record(
        actor
            .event(env, "patient.list", "success")
            .detail(format!("{} found", found.len()))
            .build(),
    );
    Ok(found)
}

/// A patient's record as staff read it: details, whether they have a portal login, and each series
/// with its sessions (`with_sessions`) or only its counts.
pub struct Chart {
    pub patient: Patient,
    pub has_portal_login: bool,
    pub series: Vec<(SeriesSummary, Vec<Session>)>,
}

/// A patient's chart, for staff (audited as a read of the patient).
#[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
pub fn chart(conn: &mut DbConn, env: &Env<'_>, actor: &Actor, id: PatientId, with_sessions: bool) -> Result<Chart> {
    actor.require(env, &[Role::Provider, Role::Manager])?;
    let patient = patients::find(conn, id)?;
    let has_portal_login = users::find_by_patient(conn, id)?.is_some();
    let mut all = Vec::new();
    for s in series::list_for_patient(conn, id)? {
        let sessions = if with_sessions {
            series::sessions_of(conn, s.series.id)?
        } else {
            Vec::new()
        };
        all.push((s, sessions));
    }
    env.trail
        .record(actor.event(env, "patient.read", "success").patient(Some(id)).build());
    Ok(Chart {
        patient,
        has_portal_login,
        series: all,
    })
}

/// A patient's details for a page that has already read (and audited) their record.
#[tracing::instrument(level = "debug", skip_all)]
pub fn find(conn: &mut DbConn, id: PatientId) -> Result<Patient> {
    Ok(patients::find(conn, id)?)
}
