//! The e-mails sent to a patient (no bodies), and a provider's retry of a failed one.

use crate::auth::ApiCaller;
use crate::error::{ApiError, ErrorBody};
use crate::routes::RouteSpec;
use crate::run::db;
use crate::state::AppState;
use crate::views::utc;
use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use clinic_app::messages;
use clinic_db::outbox::Message;
use clinic_domain::PatientId;
use serde::Serialize;
use utoipa::ToSchema;

pub fn routes(v: &mut Vec<RouteSpec>) {
    v.push(RouteSpec::new(Method::GET, "/api/v1/patients/{id}/messages", || {
        web::get().to(list)
    }));
    v.push(RouteSpec::new(Method::POST, "/api/v1/messages/{id}/retry", || {
        web::post().to(retry)
    }));
}

#[derive(Serialize, ToSchema)]
#[schema(as = Message)]
pub(crate) struct MessageView {
    pub id: i64,
    #[schema(schema_with = crate::schemas::message_kind)]
    pub kind: String,
    #[schema(schema_with = crate::schemas::message_status)]
    pub status: String,
    pub scheduled_for: String,
    pub sent_at: Option<String>,
    pub attempts: i32,
    pub last_error: Option<String>,
}

impl From<&Message> for MessageView {
    fn from(m: &Message) -> Self {
        Self {
            id: m.id,
            kind: m.kind.clone(),
            status: m.status.clone(),
            scheduled_for: utc(m.scheduled_for),
            sent_at: m.sent_at.map(utc),
            attempts: m.attempts,
            last_error: m.last_error.clone(),
        }
    }
}

/// A patient's e-mails, newest first, without their bodies (provider, manager).
#[utoipa::path(get, path = "/api/v1/patients/{id}/messages", tag = "messages", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<MessageView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub(crate) async fn list(
    state: web::Data<AppState>,
    caller: ApiCaller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let (actor, id) = (caller.0, PatientId(path.into_inner()));
    let all = db(&state, move |conn, env| messages::list(conn, env, &actor, id)).await?;
    Ok(HttpResponse::Ok().json(all.iter().map(MessageView::from).collect::<Vec<_>>()))
}

/// Send a failed (or held) message again (provider).
#[utoipa::path(post, path = "/api/v1/messages/{id}/retry", tag = "messages", params(("id" = i64, Path)),
    responses((status = 200, body = MessageView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(crate) async fn retry(
    state: web::Data<AppState>,
    caller: ApiCaller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let (actor, id) = (caller.0, path.into_inner());
    let m = db(&state, move |conn, env| messages::retry(conn, env, &actor, id)).await?;
    Ok(HttpResponse::Ok().json(MessageView::from(&m)))
}
