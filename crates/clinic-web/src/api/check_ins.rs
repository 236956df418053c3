//! The patient's check-in, and the provider's attention queue of flagged check-ins.

use crate::auth::ApiCaller;
use crate::error::{ApiError, ErrorBody};
use crate::idempotency;
use crate::routes::RouteSpec;
use crate::run::db;
use crate::state::AppState;
use crate::views::utc;
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use clinic_app::check_ins::{self, AlertFilter, CheckInInput};
use clinic_db::check_ins::{Alert, AlertRow, CheckIn};
use clinic_domain::checkin::parse_effects;
use clinic_domain::session::Notes;
use clinic_domain::{FieldError, SessionId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub fn routes(v: &mut Vec<RouteSpec>) {
    v.push(RouteSpec::new(Method::POST, "/api/v1/me/check-ins", || {
        web::post().to(check_in)
    }));
    v.push(RouteSpec::new(Method::GET, "/api/v1/alerts", || web::get().to(alerts)));
    v.push(RouteSpec::new(Method::POST, "/api/v1/alerts/{id}/resolve", || {
        web::post().to(resolve)
    }));
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewCheckIn)]
pub(crate) struct CheckInBody {
    /// The session it is about; the latest when absent.
    pub session_id: Option<i64>,
    #[schema(schema_with = crate::schemas::effects)]
    pub effects: Vec<String>,
    /// Something the aftercare did not say to expect; then `note` is required.
    pub unexpected: bool,
    pub note: Option<String>,
}

impl TryFrom<&CheckInBody> for CheckInInput {
    type Error = FieldError;

    fn try_from(b: &CheckInBody) -> Result<Self, FieldError> {
        Ok(CheckInInput {
            session: b.session_id.map(SessionId),
            effects: parse_effects(b.effects.iter().map(String::as_str))?,
            unexpected: b.unexpected,
            note: Notes::parse("note", b.note.as_deref())?,
        })
    }
}

#[derive(Serialize, ToSchema)]
#[schema(as = CheckIn)]
pub(crate) struct CheckInView {
    pub id: i64,
    pub session_id: i64,
    /// Days since the procedure (0 to 7).
    pub day: i32,
    #[schema(schema_with = crate::schemas::effects)]
    pub effects: Vec<String>,
    pub unexpected: bool,
    pub note: Option<String>,
    pub flagged: bool,
    pub flag_reasons: Vec<String>,
    pub created_at: String,
}

impl From<&CheckIn> for CheckInView {
    fn from(c: &CheckIn) -> Self {
        Self {
            id: c.id,
            session_id: c.session_id.0,
            day: c.day,
            effects: c.effect_codes().into_iter().map(str::to_owned).collect(),
            unexpected: c.unexpected,
            note: c.note.clone(),
            flagged: c.flagged,
            flag_reasons: c.reasons().into_iter().map(str::to_owned).collect(),
            created_at: utc(c.created_at),
        }
    }
}

/// Check in about today: the effects the aftercare described, and anything it did not (patient).
#[utoipa::path(post, path = "/api/v1/me/check-ins", tag = "check-ins", request_body = CheckInBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe: the same key from the same account within 24 hours gets the first answer again")),
    responses((status = 201, body = CheckInView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn check_in(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: ApiCaller,
    body: web::Json<CheckInBody>,
) -> Result<HttpResponse, ApiError> {
    let actor = caller.0;
    actor.require(&state.env(), &[clinic_domain::user::Role::Patient])?;
    let (key, fingerprint) = (idempotency::key_of(&req)?, idempotency::fingerprint(&req, &*body));
    let input = CheckInInput::try_from(&*body)?;
    let a = actor.clone();
    let answer = idempotency::run(&state, &actor, key, fingerprint, move |conn, env| {
        let c = check_ins::check_in(conn, env, &a, &input)?;
        Ok((StatusCode::CREATED, idempotency::json(&CheckInView::from(&c))?))
    })
    .await?;
    Ok(answer.response())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AlertQuery {
    /// `open` (the default) or `resolved`.
    #[param(schema_with = crate::schemas::alert_status)]
    pub status: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = Alert)]
pub(crate) struct AlertView {
    pub id: i64,
    #[schema(schema_with = crate::schemas::alert_status)]
    pub status: String,
    pub patient_id: i64,
    pub patient_name: String,
    pub check_in: CheckInView,
    pub reasons: Vec<String>,
    pub created_at: String,
    pub resolved_at: Option<String>,
    pub resolved_by: Option<i64>,
    pub resolution_note: Option<String>,
}

impl AlertView {
    pub(crate) fn new(a: &Alert, c: &CheckIn, first: &str, last: &str) -> Self {
        Self {
            id: a.id,
            status: a.status.clone(),
            patient_id: a.patient_id.0,
            patient_name: format!("{first} {last}"),
            check_in: CheckInView::from(c),
            reasons: c.reasons().into_iter().map(str::to_owned).collect(),
            created_at: utc(a.created_at),
            resolved_at: a.resolved_at.map(utc),
            resolved_by: a.resolved_by.map(|u| u.0),
            resolution_note: a.resolution_note.clone(),
        }
    }
}

impl From<&AlertRow> for AlertView {
    fn from((a, c, first, last): &AlertRow) -> Self {
        Self::new(a, c, first, last)
    }
}

pub(crate) fn alert_filter(status: Option<&str>) -> Result<AlertFilter, FieldError> {
    match status.map(str::trim) {
        None | Some("") | Some("open") => Ok(AlertFilter::Open),
        Some("resolved") => Ok(AlertFilter::Resolved),
        Some(_) => Err(FieldError::new("status", "must be open or resolved")),
    }
}

/// Flagged check-ins, newest first, with the patient and the reasons (provider, manager).
#[utoipa::path(get, path = "/api/v1/alerts", tag = "check-ins", params(AlertQuery),
    responses((status = 200, body = Vec<AlertView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub(crate) async fn alerts(
    state: web::Data<AppState>,
    caller: ApiCaller,
    q: web::Query<AlertQuery>,
) -> Result<HttpResponse, ApiError> {
    let actor = caller.0;
    let filter = alert_filter(q.status.as_deref())?;
    let rows = db(&state, move |conn, env| check_ins::alerts(conn, env, &actor, filter)).await?;
    Ok(HttpResponse::Ok().json(rows.iter().map(AlertView::from).collect::<Vec<_>>()))
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ResolveAlert)]
pub(crate) struct ResolveBody {
    /// What was done about it.
    pub note: Option<String>,
}

/// Resolve an alert with a note (provider).
#[utoipa::path(post, path = "/api/v1/alerts/{id}/resolve", tag = "check-ins", params(("id" = i64, Path)),
    request_body = ResolveBody,
    responses((status = 200, body = AlertView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn resolve(
    state: web::Data<AppState>,
    caller: ApiCaller,
    path: web::Path<i64>,
    body: web::Json<ResolveBody>,
) -> Result<HttpResponse, ApiError> {
    let (actor, id) = (caller.0, path.into_inner());
    let note = body.note.clone();
    let view = db(&state, move |conn, env| {
        check_ins::resolve(conn, env, &actor, id, note.as_deref())?;
        Ok(AlertView::from(&clinic_db::check_ins::alert_row(conn, id)?))
    })
    .await?;
    Ok(HttpResponse::Ok().json(view))
}
