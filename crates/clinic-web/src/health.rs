//! Liveness and readiness.

use crate::{AppError, AppState, blocking};
use actix_web::{HttpResponse, get, web};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(health).service(ready);
}

/// The process is up; does not touch the database.
#[get("/health")]
async fn health() -> HttpResponse {
    HttpResponse::Ok().json(serde_json::json!({ "status": "ok" }))
}

/// The database answers.
#[get("/ready")]
async fn ready(state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let backend = blocking(move || {
        let mut conn = state.conn()?;
        conn.ping()?;
        Ok(conn.backend_name())
    })
    .await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({ "status": "ready", "database": backend })))
}
