//! The audit log, for managers.

use super::reports::RangeQuery;
use crate::auth::ApiCaller;
use crate::error::{ApiError, ErrorBody};
use crate::routes::RouteSpec;
use crate::run::db;
use crate::state::AppState;
use crate::views::utc;
use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use clinic_app::reports;
use clinic_db::audit::{AuditEvent, AuditFilter};
use clinic_domain::{FieldError, PatientId, UserId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub fn routes(v: &mut Vec<RouteSpec>) {
    v.push(RouteSpec::new(Method::GET, "/api/v1/audit", || {
        web::get().to(audit_json)
    }));
}

#[derive(Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct AuditQuery {
    pub patient_id: Option<i64>,
    pub actor_id: Option<i64>,
    pub action: Option<String>,
    /// First day (inclusive), YYYY-MM-DD.
    #[param(format = Date)]
    pub from: Option<String>,
    /// Last day (inclusive), YYYY-MM-DD.
    #[param(format = Date)]
    pub to: Option<String>,
    /// Only events older than this id (the next page).
    pub before: Option<i64>,
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<i64>,
}

impl AuditQuery {
    pub(crate) fn filter(&self) -> Result<AuditFilter, FieldError> {
        let range = RangeQuery {
            from: self.from.clone(),
            to: self.to.clone(),
        }
        .parse()?;
        Ok(AuditFilter {
            patient: self.patient_id.map(PatientId),
            actor: self.actor_id.map(UserId),
            action: self.action.clone().filter(|a| !a.trim().is_empty()),
            from: range.from.map(|d| d.and_time(chrono::NaiveTime::MIN)),
            until: range
                .to
                .and_then(|d| d.succ_opt())
                .map(|d| d.and_time(chrono::NaiveTime::MIN)),
            before_id: self.before,
        })
    }
}

#[derive(Serialize, ToSchema)]
#[schema(as = AuditEvent)]
pub(crate) struct AuditView {
    pub id: i64,
    pub occurred_at: String,
    pub actor_id: Option<i64>,
    pub action: String,
    pub patient_id: Option<i64>,
    pub subject: Option<String>,
    pub outcome: String,
    pub address: Option<String>,
    pub detail: Option<String>,
}

impl From<&AuditEvent> for AuditView {
    fn from(e: &AuditEvent) -> Self {
        Self {
            id: e.id,
            occurred_at: utc(e.occurred_at),
            actor_id: e.actor_id.map(|a| a.0),
            action: e.action.clone(),
            patient_id: e.patient_id.map(|p| p.0),
            subject: e.subject.clone(),
            outcome: e.outcome.clone(),
            address: e.address.clone(),
            detail: e.detail.clone(),
        }
    }
}

/// Audit events, newest first; `before` pages (manager).
#[utoipa::path(get, path = "/api/v1/audit", tag = "reports", params(AuditQuery),
    responses((status = 200, body = Vec<AuditView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub(crate) async fn audit_json(
    state: web::Data<AppState>,
    caller: ApiCaller,
    q: web::Query<AuditQuery>,
) -> Result<HttpResponse, ApiError> {
    let (actor, filter) = (caller.0, q.filter()?);
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let events = db(&state, move |conn, env| {
        reports::audit_log(conn, env, &actor, &filter, limit)
    })
    .await?;
    Ok(HttpResponse::Ok().json(events.iter().map(AuditView::from).collect::<Vec<_>>()))
}
