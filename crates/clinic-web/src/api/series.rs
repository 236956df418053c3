//! Treatment series and the sessions recorded in them.

use crate::auth::ApiCaller;
use crate::error::{ApiError, ErrorBody};
use crate::idempotency;
use crate::routes::RouteSpec;
use crate::run::db;
use crate::state::AppState;
use crate::views::{SeriesView, SessionView};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use clinic_app::series::{self, Recorded};
use clinic_db::series::SessionRecord;
use clinic_domain::FieldError;
use clinic_domain::protocol::StageKey;
use clinic_domain::series::{Condition, SeriesPlan};
use clinic_domain::session::{Device, NeedleDepth, Notes, ProductsApplied, TreatmentAreas};
use clinic_domain::{PatientId, SeriesId};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub fn routes(v: &mut Vec<RouteSpec>) {
    v.push(RouteSpec::new(Method::POST, "/api/v1/patients/{id}/series", || {
        web::post().to(open)
    }));
    v.push(RouteSpec::new(Method::GET, "/api/v1/patients/{id}/series", || {
        web::get().to(list)
    }));
    v.push(RouteSpec::new(Method::GET, "/api/v1/series/{id}", || {
        web::get().to(show)
    }));
    v.push(RouteSpec::new(Method::POST, "/api/v1/series/{id}/sessions", || {
        web::post().to(record)
    }));
    v.push(RouteSpec::new(Method::POST, "/api/v1/series/{id}/complete", || {
        web::post().to(complete)
    }));
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = OpenSeries)]
pub(crate) struct OpenBody {
    #[schema(schema_with = crate::schemas::condition)]
    pub condition: String,
    #[schema(schema_with = crate::schemas::planned_sessions)]
    pub planned_sessions: Option<i64>,
    pub reason: Option<String>,
    pub review_note: Option<String>,
}

impl OpenBody {
    /// The plan and the review note (needed after a course that reached the maximum).
    pub(crate) fn parse(&self) -> Result<(SeriesPlan, Option<Notes>), FieldError> {
        let condition: Condition = self.condition.parse()?;
        let plan = SeriesPlan::parse(condition, self.planned_sessions, self.reason.as_deref())?;
        Ok((plan, Notes::parse("review_note", self.review_note.as_deref())?))
    }
}

/// Open a treatment series (provider).
#[utoipa::path(post, path = "/api/v1/patients/{id}/series", tag = "series", params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe: the same key from the same account within 24 hours gets the first answer again")),
    request_body = OpenBody,
    responses((status = 201, body = SeriesView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn open(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: ApiCaller,
    path: web::Path<i64>,
    body: web::Json<OpenBody>,
) -> Result<HttpResponse, ApiError> {
    let (actor, id) = (caller.0, PatientId(path.into_inner()));
    actor.require(&state.env(), &[clinic_domain::user::Role::Provider])?;
    let (key, fingerprint) = (idempotency::key_of(&req)?, idempotency::fingerprint(&req, &*body));
    let (plan, review) = body.parse()?;
    let a = actor.clone();
    let answer = idempotency::run(&state, &actor, key, fingerprint, move |conn, env| {
        let s = series::open(conn, env, &a, id, &plan, review.as_ref())?;
        Ok((
            StatusCode::CREATED,
            idempotency::json(&SeriesView::new(&s, 0, Some(&[])))?,
        ))
    })
    .await?;
    Ok(answer.response())
}

/// A patient's series (provider, manager, that patient).
#[utoipa::path(get, path = "/api/v1/patients/{id}/series", tag = "series", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<SeriesView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub(crate) async fn list(
    state: web::Data<AppState>,
    caller: ApiCaller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let (actor, id) = (caller.0, PatientId(path.into_inner()));
    let list = db(&state, move |conn, env| series::list(conn, env, &actor, id)).await?;
    Ok(HttpResponse::Ok().json(list.iter().map(SeriesView::summary).collect::<Vec<_>>()))
}

/// A series with its sessions (provider, manager, that patient).
#[utoipa::path(get, path = "/api/v1/series/{id}", tag = "series", params(("id" = i64, Path)),
    responses((status = 200, body = SeriesView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub(crate) async fn show(
    state: web::Data<AppState>,
    caller: ApiCaller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let (actor, id) = (caller.0, SeriesId(path.into_inner()));
    let (s, sessions) = db(&state, move |conn, env| series::load(conn, env, &actor, id)).await?;
    let live = sessions.iter().filter(|x| !x.is_void()).count();
    let n = u8::try_from(live).unwrap_or(u8::MAX);
    Ok(HttpResponse::Ok().json(SeriesView::new(&s, n, Some(&sessions))))
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = RecordSession)]
pub(crate) struct RecordBody {
    #[schema(format = Date)]
    pub performed_on: String,
    /// Regions from the fixed list; the eye area is treated exactly when `periorbital` is among them.
    #[schema(schema_with = crate::schemas::regions)]
    pub treatment_areas: Vec<String>,
    /// Optional: follows the areas; one that contradicts them is refused.
    pub eye_area: Option<bool>,
    #[schema(schema_with = crate::schemas::device)]
    pub device: String,
    #[schema(schema_with = crate::schemas::needle_depth)]
    pub needle_depth_mm: f64,
    #[serde(default)]
    #[schema(schema_with = crate::schemas::products)]
    pub products_applied: Vec<String>,
    pub notes: Option<String>,
    /// The timeline stage the notes belong to (days_2_7 when absent).
    #[schema(schema_with = crate::schemas::stage_key)]
    pub notes_stage: Option<String>,
    pub acknowledge_beyond_typical: Option<bool>,
    /// Why the first session of a series goes ahead without the patient's signed consent (audited);
    /// without it, such a session is refused with `consent_required` once the clinic has a consent form.
    pub consent_override_reason: Option<String>,
}

/// The reason to record a first session without a signed consent, if one is given.
pub(crate) fn override_reason(raw: Option<&str>) -> Result<Option<Notes>, FieldError> {
    Notes::parse("consent_override_reason", raw.filter(|r| !r.trim().is_empty()))
}

/// Region codes as a request gives them.
pub(crate) fn parse_areas(codes: &[String]) -> Result<TreatmentAreas, FieldError> {
    TreatmentAreas::parse(codes.iter().map(String::as_str))
}

/// The stage named for provider notes.
pub(crate) fn parse_stage(raw: &str) -> Result<StageKey, FieldError> {
    StageKey::parse("notes_stage", raw)
}

impl TryFrom<&RecordBody> for SessionRecord {
    type Error = FieldError;

    /// The session as the domain takes it; its date is checked against the clinic's today and the
    /// patient's date of birth when it is recorded.
    fn try_from(b: &RecordBody) -> Result<Self, FieldError> {
        let performed_on = super::patients::parse_date("performed_on", &b.performed_on)?;
        let treatment_areas = parse_areas(&b.treatment_areas)?;
        Ok(SessionRecord {
            performed_on,
            eye_area: clinic_domain::session::eye_area(b.eye_area, &treatment_areas)?,
            treatment_areas,
            device: b.device.parse::<Device>()?,
            needle_depth: NeedleDepth::from_mm(b.needle_depth_mm)?,
            products_applied: ProductsApplied::parse(b.products_applied.iter().map(String::as_str))?,
            notes: Notes::parse("notes", b.notes.as_deref())?,
            notes_stage: b
                .notes_stage
                .as_deref()
                .map(parse_stage)
                .transpose()?
                .unwrap_or(StageKey::Days2To7),
            acknowledge_beyond_typical: b.acknowledge_beyond_typical.unwrap_or(false),
        })
    }
}

#[derive(Serialize, ToSchema)]
#[schema(as = Recorded)]
pub(crate) struct RecordedView {
    pub session: SessionView,
    pub series: SeriesView,
    pub warnings: Vec<String>,
}

impl From<&Recorded> for RecordedView {
    fn from(r: &Recorded) -> Self {
        Self {
            session: SessionView::from(&r.session),
            series: SeriesView::new(&r.series.series, r.series.sessions_recorded, Some(&r.sessions)),
            warnings: r.warnings.clone(),
        }
    }
}

/// Record the next session under the series rule (provider).
#[utoipa::path(post, path = "/api/v1/series/{id}/sessions", tag = "series", params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header, description = "Repeat-safe: the same key from the same account within 24 hours gets the first answer again")),
    request_body = RecordBody,
    responses((status = 201, body = RecordedView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn record(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: ApiCaller,
    path: web::Path<i64>,
    body: web::Json<RecordBody>,
) -> Result<HttpResponse, ApiError> {
    let (actor, id) = (caller.0, SeriesId(path.into_inner()));
    actor.require(&state.env(), &[clinic_domain::user::Role::Provider])?;
    let (key, fingerprint) = (idempotency::key_of(&req)?, idempotency::fingerprint(&req, &*body));
    let record = SessionRecord::try_from(&*body)?;
    let consent_override = override_reason(body.consent_override_reason.as_deref())?;
    let a = actor.clone();
    let answer = idempotency::run(&state, &actor, key, fingerprint, move |conn, env| {
        let recorded = series::record_session_with(conn, env, &a, id, &record, consent_override.as_ref())?;
        Ok((StatusCode::CREATED, idempotency::json(&RecordedView::from(&recorded))?))
    })
    .await?;
    Ok(answer.response())
}

/// Complete a series (provider).
#[utoipa::path(post, path = "/api/v1/series/{id}/complete", tag = "series", params(("id" = i64, Path)),
    responses((status = 200, body = SeriesView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub(crate) async fn complete(
    state: web::Data<AppState>,
    caller: ApiCaller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let (actor, id) = (caller.0, SeriesId(path.into_inner()));
    let s = db(&state, move |conn, env| series::complete(conn, env, &actor, id)).await?;
    Ok(HttpResponse::Ok().json(SeriesView::summary(&s)))
}
