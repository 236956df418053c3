//! Patients: providers create and correct them; staff list, search and read them.

use crate::auth::ApiCaller;
use crate::error::{ApiError, ErrorBody};
use crate::idempotency;
use crate::routes::RouteSpec;
use crate::run::db;
use crate::state::AppState;
use crate::views::{PatientView, SeriesView};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::NaiveDate;
use clinic_app::patients;
use clinic_domain::patient::{NewPatient, PatientInput};
use clinic_domain::{FieldError, PatientId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub fn routes(v: &mut Vec<RouteSpec>) {
    v.push(RouteSpec::new(Method::POST, "/api/v1/patients", || {
        web::post().to(create)
    }));
    v.push(RouteSpec::new(Method::GET, "/api/v1/patients", || web::get().to(list)));
    v.push(RouteSpec::new(Method::GET, "/api/v1/patients/{id}", || {
        web::get().to(show)
    }));
    v.push(RouteSpec::new(Method::PUT, "/api/v1/patients/{id}", || {
        web::put().to(update)
    }));
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PatientInput)]
pub(crate) struct PatientBody {
    pub first_name: String,
    pub last_name: String,
    #[schema(format = Date)]
    pub date_of_birth: String,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// Parses a date typed as `YYYY-MM-DD`.
pub(crate) fn parse_date(field: &'static str, raw: &str) -> Result<NaiveDate, FieldError> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .map_err(|_| FieldError::new(field, "must be a date written YYYY-MM-DD"))
}

impl PatientBody {
    /// The patient as the domain takes it; `today` bounds the date of birth.
    pub(crate) fn parse(&self, today: NaiveDate) -> Result<NewPatient, FieldError> {
        let date_of_birth = parse_date("date_of_birth", &self.date_of_birth)?;
        let input = PatientInput {
            first_name: &self.first_name,
            last_name: &self.last_name,
            date_of_birth: Some(date_of_birth),
            email: self.email.as_deref(),
            phone: self.phone.as_deref(),
        };
        NewPatient::parse(input, today).map_err(|mut errors| errors.remove(0))
    }
}

/// Create a patient (provider).
#[utoipa::path(post, path = "/api/v1/patients", tag = "patients", request_body = PatientBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe: the same key from the same account within 24 hours gets the first answer again")),
    responses((status = 201, body = PatientView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub(crate) async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: ApiCaller,
    body: web::Json<PatientBody>,
) -> Result<HttpResponse, ApiError> {
    let actor = caller.0;
    actor.require(&state.env(), &[clinic_domain::user::Role::Provider])?;
    let (key, fingerprint) = (idempotency::key_of(&req)?, idempotency::fingerprint(&req, &*body));
    let new = body.parse(state.env().today())?;
    let a = actor.clone();
    let answer = idempotency::run(&state, &actor, key, fingerprint, move |conn, env| {
        let p = patients::save(conn, env, &a, None, &new)?;
        Ok((StatusCode::CREATED, idempotency::json(&PatientView::from(&p))?))
    })
    .await?;
    Ok(answer.response())
}

/// Correct a patient's details; the prior version is kept (provider).
#[utoipa::path(put, path = "/api/v1/patients/{id}", tag = "patients", params(("id" = i64, Path)),
    request_body = PatientBody,
    responses((status = 200, body = PatientView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn update(
    state: web::Data<AppState>,
    caller: ApiCaller,
    path: web::Path<i64>,
    body: web::Json<PatientBody>,
) -> Result<HttpResponse, ApiError> {
    let (actor, id) = (caller.0, PatientId(path.into_inner()));
    actor.require(&state.env(), &[clinic_domain::user::Role::Provider])?;
    let new = body.parse(state.env().today())?;
    let p = db(&state, move |conn, env| {
        patients::save(conn, env, &actor, Some(id), &new)
    })
    .await?;
    Ok(HttpResponse::Ok().json(PatientView::from(&p)))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct Search {
    /// Part of a first name, last name or e-mail address; all patients when blank.
    q: Option<String>,
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
}

/// List or search patients by name or e-mail (provider, manager).
#[utoipa::path(get, path = "/api/v1/patients", tag = "patients", params(Search),
    responses((status = 200, body = Vec<PatientView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub(crate) async fn list(
    state: web::Data<AppState>,
    caller: ApiCaller,
    query: web::Query<Search>,
) -> Result<HttpResponse, ApiError> {
    let actor = caller.0;
    let q = query.q.clone().unwrap_or_default();
    let limit = query.limit.unwrap_or(50).clamp(1, 200);
    let found = db(&state, move |conn, env| patients::search(conn, env, &actor, &q, limit)).await?;
    Ok(HttpResponse::Ok().json(found.iter().map(PatientView::from).collect::<Vec<_>>()))
}

#[derive(Serialize, ToSchema)]
#[schema(as = PatientDetail)]
pub(crate) struct PatientDetail {
    #[serde(flatten)]
    patient: PatientView,
    has_portal_login: bool,
    /// The portal login is suspended (`POST /patients/{id}/portal/disable`).
    portal_suspended: bool,
    series: Vec<SeriesView>,
}

/// A patient with a summary of their series (provider, manager).
#[utoipa::path(get, path = "/api/v1/patients/{id}", tag = "patients", params(("id" = i64, Path)),
    responses((status = 200, body = PatientDetail), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub(crate) async fn show(
    state: web::Data<AppState>,
    caller: ApiCaller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let (actor, id) = (caller.0, PatientId(path.into_inner()));
    let chart = db(&state, move |conn, env| patients::chart(conn, env, &actor, id, false)).await?;
    Ok(HttpResponse::Ok().json(PatientDetail {
        patient: PatientView::from(&chart.patient),
        has_portal_login: chart.has_portal_login,
        portal_suspended: chart.portal_suspended,
        series: chart.series.iter().map(|(s, _)| SeriesView::summary(s)).collect(),
    }))
}
