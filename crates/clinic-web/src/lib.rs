//! HTTP: actix-web routes, askama pages, and the mapping of errors to responses.
//!
//! Each area has a module with a `configure(cfg)` that wires its routes; [`configure`] wires them all.

mod error;
mod headers;
mod health;
mod pages;
mod setup;
mod state;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};
use std::net::TcpListener;
use tracing_actix_web::TracingLogger;

/// The largest JSON body accepted; larger ones get 413.
const JSON_LIMIT_BYTES: usize = 64 * 1024;

pub use error::AppError;
pub use headers::security_headers;
pub use state::{AppState, Settings};

/// Every route of the application.
pub fn configure(cfg: &mut web::ServiceConfig) {
    health::configure(cfg);
    pages::configure(cfg);
    setup::configure(cfg);
}

/// The HTTP server on `listener`; it stops gracefully on SIGTERM or Ctrl-C.
pub fn serve(listener: TcpListener, state: AppState) -> std::io::Result<Server> {
    let data = web::Data::new(state);
    let server = HttpServer::new(move || {
        App::new()
            .wrap(security_headers())
            .wrap(TracingLogger::default())
            .app_data(data.clone())
            .app_data(web::JsonConfig::default().limit(JSON_LIMIT_BYTES))
            .configure(configure)
    })
    .shutdown_timeout(10)
    .listen(listener)?
    .run();
    Ok(server)
}

/// Runs blocking work (diesel queries, argon2) on the blocking thread pool, never on an actix worker.
pub async fn blocking<T, F>(f: F) -> Result<T, AppError>
where
    F: FnOnce() -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    web::block(f)
        .await
        .map_err(|e| AppError::Internal(format!("blocking task failed: {e}")))?
}
