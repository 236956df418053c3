//! Liveness and readiness.

use crate::error::ApiError;
use crate::routes::RouteSpec;
use crate::run::db;
use crate::state::AppState;
use actix_web::http::Method;
use actix_web::{HttpResponse, web};

pub fn routes(v: &mut Vec<RouteSpec>) {
    v.push(RouteSpec::new(Method::GET, "/health", || web::get().to(health)));
    v.push(RouteSpec::new(Method::GET, "/ready", || web::get().to(ready)));
}

/// The process is up; does not touch the database.
async fn health() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

/// The database answers.
async fn ready(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let backend = db(&state, |conn, _| {
        conn.ping()?;
        Ok(conn.backend_name())
    })
    .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "status": "ready", "database": backend })))
}
