//! A provider issues a patient's portal login: a one-time code (shown once, stored hashed).

use crate::audit::event;
use crate::auth::ApiCaller;
use crate::error::AppError;
use crate::{AppState, RouteSpec, blocking};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpResponse, web};
use chrono::Duration;
use clinic_auth::{generate_code, hash_code};
use clinic_db::{invitations, patients, users};
use clinic_domain::PatientId;
use clinic_domain::user::Role;
use serde::Serialize;

/// How long an activation code is valid.
pub const INVITATION_DAYS: i64 = 7;

pub fn routes(v: &mut Vec<RouteSpec>) {
    v.push(RouteSpec::new(Method::POST, "/api/v1/patients/{id}/invitation", || {
        web::post().to(create)
    }));
}

#[derive(Serialize)]
pub(crate) struct InvitationView {
    pub code: String,
    pub activation_url: String,
    pub expires_at: String,
}

/// Issues a new code for a patient (voiding any earlier one).
pub(crate) async fn issue(
    state: &AppState,
    caller: &crate::auth::Caller,
    patient: PatientId,
) -> Result<InvitationView, AppError> {
    caller.require(state, &[Role::Provider])?;
    let code = generate_code().map_err(|e| AppError::Internal(e.to_string()))?;
    let hash = hash_code(code.as_str());
    let st = state.clone();
    let caller = caller.clone();
    let expires_at = blocking(move || {
        let now = st.now();
        let mut conn = st.conn()?;
        conn.write_transaction(|conn| {
            let p = patients::find(conn, patient)?;
            let Some(email) = p.email else {
                return Err(AppError::rule(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "patient_email_required",
                    "add the patient's e-mail address first: it is their sign-in name",
                ));
            };
            if let Some(holder) = users::find_by_email(conn, &email)?
                && holder.patient_id != Some(patient)
            {
                return Err(AppError::rule(
                    StatusCode::CONFLICT,
                    "email_taken",
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
                    created_by: Some(caller.user.id.0),
                    created_at: now,
                    expires_at,
                },
            )?;
            clinic_db::audit::insert(
                conn,
                &event(now, "invitation.create", "success")
                    .actor(Some(caller.user.id))
                    .patient(Some(patient))
                    .address(&caller.address)
                    .build(),
            )
            .map_err(AppError::from)?;
            Ok::<_, AppError>(expires_at)
        })
    })
    .await?;
    Ok(InvitationView {
        activation_url: format!("{}/activate?code={}", state.settings.public_url, code.as_str()),
        code: code.as_str().to_owned(),
        expires_at: expires_at.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    })
}

async fn create(state: web::Data<AppState>, caller: ApiCaller, path: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let view = issue(&state, &caller.0, PatientId(path.into_inner())).await?;
    Ok(HttpResponse::Created().json(view))
}
