//! Corrections of the record: amend a session with a reason, void the most recent one, read every
//! version.

use super::series::{parse_areas, parse_stage};
use crate::auth::ApiCaller;
use crate::error::{ApiError, ErrorBody};
use crate::routes::RouteSpec;
use crate::run::db;
use crate::state::AppState;
use crate::views::{SessionView, utc};
use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use clinic_app::sessions::{self, Changes};
use clinic_db::series::SessionRevision;
use clinic_domain::SessionId;
use clinic_domain::session::{Device, NeedleDepth, Notes, ProductsApplied};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

pub fn routes(v: &mut Vec<RouteSpec>) {
    v.push(RouteSpec::new(Method::PATCH, "/api/v1/sessions/{id}", || {
        web::patch().to(amend)
    }));
    v.push(RouteSpec::new(Method::GET, "/api/v1/sessions/{id}/revisions", || {
        web::get().to(revisions)
    }));
    v.push(RouteSpec::new(Method::POST, "/api/v1/sessions/{id}/void", || {
        web::post().to(void)
    }));
}

/// A present field, even `null`; an absent one stays `None` (unchanged).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SessionCorrection)]
pub(crate) struct AmendBody {
    /// Why the record changes; kept with the new version.
    pub reason: Option<String>,
    #[schema(format = Date)]
    pub performed_on: Option<String>,
    #[schema(schema_with = crate::schemas::regions)]
    pub treatment_areas: Option<Vec<String>>,
    pub eye_area: Option<bool>,
    #[schema(schema_with = crate::schemas::device)]
    pub device: Option<String>,
    #[schema(schema_with = crate::schemas::needle_depth)]
    pub needle_depth_mm: Option<f64>,
    #[schema(schema_with = crate::schemas::products)]
    pub products_applied: Option<Vec<String>>,
    /// Absent: unchanged; null: cleared.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub notes: Option<Option<String>>,
    #[schema(schema_with = crate::schemas::stage_key)]
    pub notes_stage: Option<String>,
}

impl AmendBody {
    pub(crate) fn changes(&self) -> Result<Changes, clinic_domain::FieldError> {
        Ok(Changes {
            performed_on: self
                .performed_on
                .as_deref()
                .map(|d| super::patients::parse_date("performed_on", d))
                .transpose()?,
            treatment_areas: self.treatment_areas.as_deref().map(parse_areas).transpose()?,
            eye_area: self.eye_area,
            device: self.device.as_deref().map(str::parse::<Device>).transpose()?,
            needle_depth: self.needle_depth_mm.map(NeedleDepth::from_mm).transpose()?,
            products_applied: self
                .products_applied
                .as_ref()
                .map(|p| ProductsApplied::parse(p.iter().map(String::as_str)))
                .transpose()?,
            notes: self
                .notes
                .as_ref()
                .map(|n| Notes::parse("notes", n.as_deref()))
                .transpose()?,
            notes_stage: self.notes_stage.as_deref().map(parse_stage).transpose()?,
        })
    }
}

/// Correct a session; the prior version is kept (provider).
#[utoipa::path(patch, path = "/api/v1/sessions/{id}", tag = "corrections", params(("id" = i64, Path)),
    request_body = AmendBody,
    responses((status = 200, body = SessionView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn amend(
    state: web::Data<AppState>,
    caller: ApiCaller,
    path: web::Path<i64>,
    body: web::Json<AmendBody>,
) -> Result<HttpResponse, ApiError> {
    let (actor, id) = (caller.0, SessionId(path.into_inner()));
    actor.require(&state.env(), &[clinic_domain::user::Role::Provider])?;
    let why = sessions::reason(body.reason.as_deref())?;
    let changes = body.changes()?;
    let s = db(&state, move |conn, env| {
        sessions::amend(conn, env, &actor, id, &changes, &why)
    })
    .await?;
    Ok(HttpResponse::Ok().json(SessionView::from(&s)))
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = VoidSession)]
pub(crate) struct VoidBody {
    /// Why it is void (a duplicate, the wrong patient).
    pub reason: Option<String>,
}

/// Void the most recent session of its series: kept, shown as void, no longer counted (provider).
#[utoipa::path(post, path = "/api/v1/sessions/{id}/void", tag = "corrections", params(("id" = i64, Path)),
    request_body = VoidBody,
    responses((status = 200, body = SessionView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn void(
    state: web::Data<AppState>,
    caller: ApiCaller,
    path: web::Path<i64>,
    body: web::Json<VoidBody>,
) -> Result<HttpResponse, ApiError> {
    let (actor, id) = (caller.0, SessionId(path.into_inner()));
    actor.require(&state.env(), &[clinic_domain::user::Role::Provider])?;
    let why = sessions::reason(body.reason.as_deref())?;
    let s = db(&state, move |conn, env| sessions::void(conn, env, &actor, id, &why)).await?;
    Ok(HttpResponse::Ok().json(SessionView::from(&s)))
}

/// One version of a session.
#[derive(Serialize, ToSchema)]
#[schema(as = SessionRevision)]
pub(crate) struct RevisionView {
    pub revision: i32,
    pub changed_at: String,
    pub changed_by: i64,
    pub reason: Option<String>,
    pub session: SessionView,
}

impl RevisionView {
    pub(crate) fn earlier(r: &SessionRevision, current: &clinic_db::series::Session) -> Self {
        let mut session = SessionView::from(current);
        session.revision = r.revision;
        session.performed_on = r.performed_on;
        session.treatment_areas = r.treatment_areas.codes();
        session.eye_area = r.eye_area;
        session.device = r.device.as_str();
        session.needle_depth_mm = r.needle_depth.mm();
        session.products_applied = r.products_applied.as_slice().iter().map(|p| p.code()).collect();
        session.area_labels = r.treatment_areas.labels();
        session.product_labels = r.products_applied.as_slice().iter().map(|p| p.name()).collect();
        session.notes = r.notes.clone();
        session.notes_stage = r.notes_stage;
        Self {
            revision: r.revision,
            changed_at: utc(r.made_at),
            changed_by: r.made_by.0,
            reason: r.reason.clone(),
            session,
        }
    }

    pub(crate) fn current(s: &clinic_db::series::Session) -> Self {
        Self {
            revision: s.revision,
            changed_at: utc(s.revised_at.unwrap_or(s.created_at)),
            changed_by: s.revised_by.unwrap_or(s.provider_id).0,
            reason: s.revision_reason.clone(),
            session: SessionView::from(s),
        }
    }
}

/// Every version of a session, oldest first, the current one last (provider, manager).
#[utoipa::path(get, path = "/api/v1/sessions/{id}/revisions", tag = "corrections", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<RevisionView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub(crate) async fn revisions(
    state: web::Data<AppState>,
    caller: ApiCaller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let (actor, id) = (caller.0, SessionId(path.into_inner()));
    let (earlier, current) = db(&state, move |conn, env| sessions::revisions(conn, env, &actor, id)).await?;
    let mut all: Vec<RevisionView> = earlier.iter().map(|r| RevisionView::earlier(r, &current)).collect();
    all.push(RevisionView::current(&current));
    Ok(HttpResponse::Ok().json(all))
}
