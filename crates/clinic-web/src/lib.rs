//! HTTP: actix-web routes, askama pages, and the mapping of errors to responses.
//!
//! Each area has a module with a `configure(cfg)` that wires its routes; [`configure`] wires them all.

mod error;
mod health;
mod headers;
mod setup;
mod state;

use actix_web::web;

pub use error::AppError;
pub use headers::security_headers;
pub use state::{AppState, Settings};

/// Every route of the application.
pub fn configure(cfg: &mut web::ServiceConfig) {
    health::configure(cfg);
    setup::configure(cfg);
}

/// Runs blocking work (diesel queries, argon2) on the blocking thread pool, never on an actix worker.
pub async fn blocking<T, F>(f: F) -> Result<T, AppError>
where
    F: FnOnce() -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    web::block(f).await.map_err(|e| AppError::Internal(format!("blocking task failed: {e}")))?
}
