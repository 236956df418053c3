//! A provider issues a patient's portal login, and a manager a staff member's invitation: a one-time
//! code, shown once and stored hashed.

use crate::{Actor, Env, Error, ErrorCode, Result};
use chrono::{Duration, NaiveDateTime};
use clinic_auth::{OneTimeCode, generate_code, hash_code};
use clinic_db::{DbConn, invitations, patients, users};
use clinic_domain::messages::MessageKind;
use clinic_domain::user::Role;
use clinic_domain::{PatientId, UserId};

/// How long an activation code is valid.
pub const INVITATION_DAYS: i64 = 7;

/// A code just issued: shown to the provider once.
pub struct Issued {
    pub code: OneTimeCode,
    pub activation_url: String,
    pub expires_at: NaiveDateTime,
}

/// Issues a new code for a patient, voiding any earlier one.
#[tracing::instrument(level = "debug", skip_all, fields(patient = %patient))]
pub fn issue(conn: &mut DbConn, env: &Env<'_>, actor: &Actor, patient: PatientId) -> Result<Issued> {
    actor.require(env, &[Role::Provider])?;
    let code = generate_code().map_err(|e| Error::internal("generating a one-time code", e))?;
    let hash = hash_code(code.as_str());
    let now = env.now();
    let expires_at = conn.write_transaction(|conn| {
        let p = patients::find(conn, patient)?;
        let Some(email) = p.email else {
            return Err(Error::refused(
                ErrorCode::PatientEmailRequired,
                "add the patient's e-mail address first: it is their sign-in name",
            ));
        };
        if let Some(holder) = users::find_by_email(conn, &email)?
            && holder.patient_id != Some(patient)
        {
            return Err(Error::refused(
                ErrorCode::EmailTaken,
                "another account already uses this patient's e-mail address",
            ));
        }
        let expires_at = now + Duration::days(INVITATION_DAYS);
        invitations::replace(
            conn,
            &invitations::NewInvitation {
                purpose: invitations::PURPOSE_PATIENT,
                patient_id: Some(patient.0),
                code_hash: &hash,
                created_by: Some(actor.user.id.0),
                created_at: now,
                expires_at,
                user_id: None,
            },
        )?;
        // The link goes by e-mail too; an earlier one still waiting names a code that no longer works.
        clinic_db::outbox::cancel_for_patient(conn, patient, &[MessageKind::Invitation.as_str()])?;
        crate::messages::queue(
            conn,
            env,
            &crate::messages::Queued {
                kind: MessageKind::Invitation,
                recipient: &email,
                patient: Some(patient),
                user: None,
                session: None,
                payload: Some(code.as_str()),
                at: now,
            },
        )?;
        clinic_db::audit::insert(
            conn,
            &actor
                .event(env, "invitation.create", "success")
                .patient(Some(patient))
                .build(),
        )?;
        Ok(expires_at)
    })?;
    Ok(Issued {
        activation_url: format!("{}/activate?code={}", env.public_url, code.as_str()),
        code,
        expires_at,
    })
}

/// Issues the code with which an invited staff member sets their password, voiding any earlier one.
#[tracing::instrument(level = "debug", skip_all, fields(user = %user))]
pub fn issue_for_staff(conn: &mut DbConn, env: &Env<'_>, actor: &Actor, user: UserId) -> Result<Issued> {
    actor.require(env, &[Role::Manager])?;
    let code = generate_code().map_err(|e| Error::internal("generating a one-time code", e))?;
    let now = env.now();
    let expires_at = now + Duration::days(INVITATION_DAYS);
    conn.write_transaction(|conn| {
        invitations::replace(
            conn,
            &invitations::NewInvitation {
                purpose: invitations::PURPOSE_STAFF,
                patient_id: None,
                code_hash: &hash_code(code.as_str()),
                created_by: Some(actor.user.id.0),
                created_at: now,
                expires_at,
                user_id: Some(user.0),
            },
        )?;
        clinic_db::audit::insert(
            conn,
            &actor
                .event(env, "invitation.create", "success")
                .subject(format!("user:{user}"))
                .build(),
        )
    })?;
    Ok(Issued {
        activation_url: format!("{}/activate?code={}", env.public_url, code.as_str()),
        code,
        expires_at,
    })
}
