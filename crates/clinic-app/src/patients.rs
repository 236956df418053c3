//! Patients: providers create and correct them; staff search and read them.

use crate::{Actor, Env, Error, Result};
use clinic_db::consent::Consent;
use clinic_db::outbox::Message;
use clinic_db::patient_page::KeptPages;
use clinic_db::patients::Patient;
use clinic_db::photos::Photo;
use clinic_db::series::{SeriesSummary, Session};
use clinic_db::{DbConn, invitations, login_sessions, patient_page, patients, series, users};
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

/// Suspends a patient's portal access (`active` false: every token of their portal login stops at
/// once and codes not yet used are voided) or restores it (provider, manager). A patient without a
/// portal login has only codes to void.
#[tracing::instrument(level = "debug", skip_all, fields(id = %id, active))]
pub fn set_portal_access(conn: &mut DbConn, env: &Env<'_>, actor: &Actor, id: PatientId, active: bool) -> Result<()> {
    actor.require(env, &[Role::Provider, Role::Manager])?;
    let now = env.now();
    conn.write_transaction(|conn| {
        patients::find(conn, id)?;
        if let Some(user) = users::find_by_patient(conn, id)? {
            let disabled_at = if active { None } else { user.disabled_at.or(Some(now)) };
            users::set_disabled(conn, user.id, disabled_at)?;
            if !active {
                login_sessions::revoke_all_of_user(conn, user.id, None, now)?;
            }
        }
        if !active {
            invitations::void_for_patient(conn, id, now)?;
        }
        let action = if active {
            "patient.portal_enable"
        } else {
            "patient.portal_disable"
        };
        clinic_db::audit::insert(conn, &actor.event(env, action, "success").patient(Some(id)).build())?;
        Ok(())
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
    /// The portal login is suspended.
    pub portal_suspended: bool,
    pub series: Vec<(SeriesSummary, Vec<Session>)>,
}

/// A patient's chart, for staff (audited as a read of the patient).
#[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
pub fn chart(conn: &mut DbConn, env: &Env<'_>, actor: &Actor, id: PatientId, with_sessions: bool) -> Result<Chart> {
    actor.require(env, &[Role::Provider, Role::Manager])?;
    let (patient, login) = users::patient_with_login(conn, id)?;
    let all = if with_sessions {
        series::list_with_sessions(conn, id)?
    } else {
        series::list_for_patient(conn, id)?
            .into_iter()
            .map(|s| (s, Vec::new()))
            .collect()
    };
    let login_active = login.map(|u| u.is_active());
    Ok(read_chart(env, actor, patient, login_active, all, None))
}

/// The chart of what was read, the read audited (with `detail`, what else was shown with it).
fn read_chart(
    env: &Env<'_>,
    actor: &Actor,
    patient: Patient,
    login_active: Option<bool>,
    series: Vec<(SeriesSummary, Vec<Session>)>,
    detail: Option<String>,
) -> Chart {
    let event = actor.event(env, "patient.read", "success").patient(Some(patient.id));
    env.trail.record(match detail {
        Some(d) => event.detail(d).build(),
        None => event.build(),
    });
    Chart {
        patient,
        has_portal_login: login_active.is_some(),
        portal_suspended: login_active == Some(false),
        series,
    }
}

/// What the provider's patient page shows.
pub struct Page {
    /// With every series' sessions.
    pub chart: Chart,
    /// Newest first.
    pub messages: Vec<Message>,
    /// Newest first.
    pub consents: Vec<Consent>,
    /// Not withdrawn, oldest first.
    pub photos: Vec<Photo>,
    /// Open alerts of the whole clinic.
    pub open_alerts: i64,
    pub any_consent_form: bool,
}

/// The patient page's content (provider, manager), audited as one read of the patient whose
/// detail counts what the page showed besides the chart: messages, consents and photos.
/// One statement on PostgreSQL (`clinic_db::patient_page`); the series, sessions, consents and photos
/// from `kept` while the patient's chart has not changed.
#[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
pub fn page(conn: &mut DbConn, env: &Env<'_>, actor: &Actor, kept: &KeptPages, id: PatientId) -> Result<Page> {
    actor.require(env, &[Role::Provider, Role::Manager])?;
    let read = patient_page::read(conn, kept, id)?;
    Ok(audited(env, actor, read))
}

/// [`page`] from what was read beside the session check (`clinic_db::patient_page::with_session`;
/// `None`: no such patient).
pub fn page_read_beside(env: &Env<'_>, actor: &Actor, read: Option<patient_page::Page>) -> Result<Page> {
    actor.require(env, &[Role::Provider, Role::Manager])?;
    let read = read.ok_or(Error::NotFound)?;
    Ok(audited(env, actor, read))
}

fn audited(env: &Env<'_>, actor: &Actor, read: patient_page::Page) -> Page {
    let photos = crate::photos::visible(read.photos);
    let detail = format!(
        "patient page: messages {}, consents {}, photos {}",
        read.messages.len(),
        read.consents.len(),
        photos.len()
    );
    let chart = read_chart(env, actor, read.patient, read.login_active, read.series, Some(detail));
    Page {
        chart,
        messages: read.messages,
        consents: read.consents,
        photos,
        open_alerts: read.open_alerts,
        any_consent_form: read.any_consent_form,
    }
}

/// A patient's details for a page that has already read (and audited) their record.
#[tracing::instrument(level = "debug", skip_all)]
pub fn find(conn: &mut DbConn, id: PatientId) -> Result<Patient> {
    Ok(patients::find(conn, id)?)
}
