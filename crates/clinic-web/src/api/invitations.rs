//! A provider issues a patient's portal login: a one-time code (shown once, stored hashed); staff
//! suspend and restore it.

use crate::auth::ApiCaller;
use crate::error::{ApiError, ErrorBody};
use crate::routes::RouteSpec;
use crate::run::db;
use crate::state::AppState;
use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use clinic_app::invitations::{self, Issued};
use clinic_app::patients;
use clinic_domain::PatientId;
use serde::Serialize;
use utoipa::ToSchema;

pub fn routes(v: &mut Vec<RouteSpec>) {
    v.push(RouteSpec::new(Method::POST, "/api/v1/patients/{id}/invitation", || {
        web::post().to(create)
    }));
    v.push(RouteSpec::new(
        Method::POST,
        "/api/v1/patients/{id}/portal/disable",
        || web::post().to(disable),
    ));
    v.push(RouteSpec::new(
        Method::POST,
        "/api/v1/patients/{id}/portal/enable",
        || web::post().to(enable),
    ));
}

#[derive(Serialize, ToSchema)]
#[schema(as = Invitation)]
pub(crate) struct InvitationView {
    pub code: String,
    pub activation_url: String,
    pub expires_at: String,
}

impl From<&Issued> for InvitationView {
    fn from(i: &Issued) -> Self {
        Self {
            code: i.code.as_str().to_owned(),
            activation_url: i.activation_url.clone(),
            expires_at: crate::views::utc(i.expires_at),
        }
    }
}

/// Issue the patient's one-time portal code; a new one voids the old (provider).
#[utoipa::path(post, path = "/api/v1/patients/{id}/invitation", tag = "patients", params(("id" = i64, Path)),
    responses((status = 201, body = InvitationView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn create(
    state: web::Data<AppState>,
    caller: ApiCaller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let (actor, id) = (caller.0, PatientId(path.into_inner()));
    let issued = db(&state, move |conn, env| invitations::issue(conn, env, &actor, id)).await?;
    Ok(HttpResponse::Created().json(InvitationView::from(&issued)))
}

/// Suspend the patient's portal access: their tokens stop working at once and unused codes are voided
/// (provider, manager).
#[utoipa::path(post, path = "/api/v1/patients/{id}/portal/disable", tag = "patients", params(("id" = i64, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub(crate) async fn disable(
    state: web::Data<AppState>,
    caller: ApiCaller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    set_portal(&state, caller, path.into_inner(), false).await
}

/// Restore the patient's portal access (provider, manager).
#[utoipa::path(post, path = "/api/v1/patients/{id}/portal/enable", tag = "patients", params(("id" = i64, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub(crate) async fn enable(
    state: web::Data<AppState>,
    caller: ApiCaller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    set_portal(&state, caller, path.into_inner(), true).await
}

async fn set_portal(state: &AppState, caller: ApiCaller, id: i64, active: bool) -> Result<HttpResponse, ApiError> {
    let (actor, id) = (caller.0, PatientId(id));
    db(state, move |conn, env| {
        patients::set_portal_access(conn, env, &actor, id, active)
    })
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
