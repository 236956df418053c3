//! HTTP: actix-web routes, askama pages, and the mapping of errors to responses.
//!
//! Every route is declared once in [`routes`] (method, path, handler); the server and the
//! authorization-matrix test both read that table, so a route cannot be served without being tested.

mod address;
pub mod api;
pub mod audit;
mod auth;
mod csrf;
mod error;
mod hasher;
mod headers;
mod health;
mod pages;
mod setup;
mod state;
mod views;

use actix_web::dev::Server;
use actix_web::http::Method;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, Route, web};
use std::collections::BTreeMap;
use std::net::TcpListener;
use tracing_actix_web::TracingLogger;

pub use audit::AuditSink;
pub use auth::{SESSION_ABSOLUTE_HOURS, SESSION_IDLE_MINUTES};
pub use error::{AppError, CODES};
pub use headers::security_headers;
pub use state::{AppState, Settings};

/// One route: the table is the single source of what the server answers.
pub struct RouteSpec {
    pub method: Method,
    pub path: &'static str,
    make: fn() -> Route,
}

impl RouteSpec {
    pub(crate) fn new(method: Method, path: &'static str, make: fn() -> Route) -> Self {
        Self { method, path, make }
    }
}

/// Every route of the application.
pub fn routes() -> Vec<RouteSpec> {
    let mut v = Vec::new();
    health::routes(&mut v);
    pages::routes(&mut v);
    setup::routes(&mut v);
    api::routes(&mut v);
    v
}

/// Wires [`routes`], one resource per path so that a wrong method gets 405.
pub fn configure(cfg: &mut web::ServiceConfig) {
    let mut by_path: BTreeMap<&'static str, Vec<RouteSpec>> = BTreeMap::new();
    for r in routes() {
        by_path.entry(r.path).or_default().push(r);
    }
    for (path, specs) in by_path {
        let mut resource = web::resource(path);
        for spec in specs {
            resource = resource.route((spec.make)());
        }
        cfg.service(resource);
    }
}

/// The HTTP server on `listener`; it stops gracefully on SIGTERM or Ctrl-C.
pub fn serve(listener: TcpListener, state: AppState) -> std::io::Result<Server> {
    let hsts = state.settings.secure_cookies;
    // Blocking work is database work, one pooled connection each: threads beyond the pool's size
    // would only queue on it, switching in and out (measured: a third of the CPU at 64 connections).
    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    let pool_size = usize::try_from(state.pool.max_size()).unwrap_or(usize::MAX);
    let blocking_threads = pool_size.div_ceil(workers).max(2);
    let data = web::Data::new(state);
    let server = HttpServer::new(move || {
        App::new()
            .wrap(security_headers(hsts))
            .wrap(TracingLogger::default())
            .app_data(data.clone())
            .app_data(error::json_config())
            .app_data(error::path_config())
            .app_data(error::query_config())
            .app_data(error::form_config())
            .configure(configure)
            .default_service(web::to(not_found))
    })
    .workers(workers)
    .worker_max_blocking_threads(blocking_threads)
    .shutdown_timeout(10)
    .listen(listener)?
    .run();
    Ok(server)
}

async fn not_found(req: HttpRequest) -> HttpResponse {
    if req.path().starts_with("/api/") {
        actix_web::ResponseError::error_response(&AppError::NotFound)
    } else {
        pages::not_found_page()
    }
}

/// A short read by key: on SQLite, when a connection is idle, it runs right here (an indexed lookup in
/// an embedded database takes microseconds, less than handing it to another thread and back, and WAL
/// readers never wait for writers); otherwise, and always on PostgreSQL (a network round trip), it goes
/// to the blocking pool. Only for reads: a write may wait for SQLite's write lock.
pub async fn quick_read<T, F>(state: &AppState, f: F) -> Result<T, AppError>
where
    F: FnOnce(&mut clinic_db::DbConn) -> Result<T, AppError> + Send + 'static,
    T: Send + 'static,
{
    if state.inline_reads
        && let Some(mut conn) = state.pool.try_get()
    {
        return f(&mut conn);
    }
    let st = state.clone();
    blocking(move || f(&mut *st.conn()?)).await
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
