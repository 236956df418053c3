//! Consent: a manager publishes the clinic's form (each version immutable); a patient signs it for
//! their open series in the portal; the first session of a series needs a signature unless the provider
//! gives a reason to go ahead without one (audited).

use crate::{Actor, Env, Error, ErrorCode, Result};
use clinic_db::audit::NewAuditEvent;
use clinic_db::consent::{self, Consent, ConsentForm, NewConsent};
use clinic_db::{DbConn, DbError, series};
use clinic_domain::SeriesId;
use clinic_domain::consent::{ConsentText, text_sha256, typed_name};
use clinic_domain::session::Notes;
use clinic_domain::user::Role;
use clinic_domain::{FieldError, PatientId};

/// Publishes a new version of the clinic's consent form (manager).
#[tracing::instrument(level = "debug", skip_all)]
pub fn publish(conn: &mut DbConn, env: &Env<'_>, actor: &Actor, text: &ConsentText) -> Result<ConsentForm> {
    actor.require(env, &[Role::Manager])?;
    conn.write_transaction(|conn| {
        let form = consent::publish(conn, &text.title, &text.body, Some(actor.user.id), env.now())?;
        clinic_db::audit::insert(
            conn,
            &actor
                .event(env, "consent_form.publish", "success")
                .subject(format!("consent_form:{}", form.version))
                .build(),
        )?;
        Ok(form)
    })
}

/// Every version, newest first (staff).
pub fn forms(conn: &mut DbConn, env: &Env<'_>, actor: &Actor) -> Result<Vec<ConsentForm>> {
    actor.require(env, &[Role::Provider, Role::Manager])?;
    Ok(consent::list(conn)?)
}

/// What the patient's portal shows: the form in force, the open series it is for, and the signature.
#[derive(Debug, Clone)]
pub struct Mine {
    pub form: Option<ConsentForm>,
    pub series: Option<SeriesId>,
    pub signed: Option<Consent>,
}

/// The patient's consent for their open series.
#[tracing::instrument(level = "debug", skip_all)]
pub fn mine(conn: &mut DbConn, env: &Env<'_>, actor: &Actor) -> Result<Mine> {
    actor.require(env, &[Role::Patient])?;
    let patient = actor.user.patient_id.ok_or(Error::Forbidden)?;
    let form = consent::current(conn)?;
    let series = open_series_of(conn, patient)?;
    let signed = match series {
        Some(s) => consent::of_series(conn, s)?,
        None => None,
    };
    Ok(Mine { form, series, signed })
}

fn open_series_of(conn: &mut DbConn, patient: PatientId) -> Result<Option<SeriesId>> {
    Ok(series::list_for_patient(conn, patient)?
        .into_iter()
        .find(|s| s.series.is_open())
        .map(|s| s.series.id))
}

/// A patient's signature.
pub struct Signature<'a> {
    pub series: SeriesId,
    pub form_version: i64,
    pub typed_name: &'a str,
    pub agree: bool,
}

/// Signs the form in force for one of the patient's open series: the typed name, the time, the address
/// and the SHA-256 of the exact text are kept.
#[tracing::instrument(level = "debug", skip_all)]
pub fn sign(conn: &mut DbConn, env: &Env<'_>, actor: &Actor, signature: &Signature<'_>) -> Result<Consent> {
    actor.require(env, &[Role::Patient])?;
    let patient = actor.user.patient_id.ok_or(Error::Forbidden)?;
    let name = typed_name(signature.typed_name)?;
    if !signature.agree {
        return Err(FieldError::new("agree", "must be true: tick that you agree to sign").into());
    }
    conn.write_transaction(|conn| {
        let s = series::find(conn, signature.series).map_err(|e| match e {
            DbError::NotFound => Error::NotFound,
            other => other.into(),
        })?;
        if s.patient_id != patient || !s.is_open() {
            return Err(Error::NotFound);
        }
        let form = consent::current(conn)?.ok_or(Error::NotFound)?;
        if form.version != signature.form_version {
            return Err(Error::refused(
                ErrorCode::ConsentFormOutdated,
                "the clinic has published a newer consent form: read it and sign that one",
            ));
        }
        let signed = consent::sign(
            conn,
            &NewConsent {
                series: s.id,
                patient,
                form_version: form.version,
                typed_name: &name,
                text_sha256: &text_sha256(&form.title, &form.body),
                signed_by: actor.user.id,
                address: &actor.address,
                now: env.now(),
            },
        )
        .map_err(|e| match e {
            DbError::Conflict(_) => Error::refused(
                ErrorCode::ConsentAlreadySigned,
                "you have signed this consent for this course already",
            ),
            other => other.into(),
        })?;
        clinic_db::audit::insert(
            conn,
            &actor
                .event(env, "consent.sign", "success")
                .patient(Some(patient))
                .subject(format!("series:{}", s.id))
                .detail(format!("form version {}", form.version))
                .build(),
        )?;
        Ok(signed)
    })
}

/// The consent rule for a session of `s`, a series locked to record it: the first session needs the
/// patient's signature once the clinic has a consent form, or a reason to go ahead without it. Returns
/// the audit row of such an override, for the caller to write with its own.
pub(crate) fn check_first_session(
    conn: &mut DbConn,
    env: &Env<'_>,
    actor: &Actor,
    s: &series::Series,
    override_reason: Option<&Notes>,
) -> Result<Option<NewAuditEvent>> {
    if s.sessions_recorded > 0 || !consent::needed_for(conn, s.id)? {
        return Ok(None);
    }
    let Some(reason) = override_reason else {
        return Err(Error::refused(
            ErrorCode::ConsentRequired,
            "the patient has not signed the clinic's consent for this course: ask them to sign it in the portal, \
             or give the reason to go ahead without it",
        ));
    };
    Ok(Some(
        actor
            .event(env, "consent.override", "success")
            .patient(Some(s.patient_id))
            .subject(format!("series:{}", s.id))
            .detail(reason.as_str().to_owned())
            .build(),
    ))
}
