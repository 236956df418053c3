//! A provider issues a patient's portal login: a one-time code (shown once, stored hashed).

use crate::auth::ApiCaller;
use crate::error::{ApiError, ErrorBody};
use crate::routes::RouteSpec;
use crate::run::db;
use crate::state::AppState;
use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use clinic_app::invitations::{self, Issued};
use clinic_domain::PatientId;
use serde::Serialize;
use utoipa::ToSchema;

pub fn routes(v: &mut Vec<RouteSpec>) {
    v.push(RouteSpec::new(Method::POST, "/api/v1/patients/{id}/invitation", || {
        web::post().to(create)
    }));
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
