//! HTTP: actix-web routes, askama pages, and the mapping of errors to responses.
//!
//! A handler parses its request into the domain's types, calls the use case in `clinic-app`, and
//! shapes the answer (JSON in `api`, a page in `pages`). Every route is declared once in [`routes`];
//! the server and the authorization-matrix test both read that table, so a route cannot be served
//! without being tested.

mod address;
pub mod api;
pub mod audit;
mod auth;
mod csrf;
mod error;
mod hasher;
mod headers;
mod health;
mod html;
mod idempotency;
mod pages;
pub mod photo_store;
mod request_span;
mod routes;
mod run;
mod schemas;
mod state;
mod timeline_cache;
mod views;
mod writer;

use actix_web::dev::Server;
use actix_web::{App, HttpServer, web};
use std::net::TcpListener;
use tracing_actix_web::TracingLogger;

pub use audit::AuditSink;
pub use error::{ApiError, status_of};
pub use headers::security_headers;
pub use routes::{RouteSpec, configure, routes};
pub use state::{AppState, Settings};

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
            .wrap(TracingLogger::<request_span::RequestSpan>::new())
            .app_data(data.clone())
            .app_data(error::json_config())
            .app_data(error::path_config())
            .app_data(error::query_config())
            .app_data(html::form_config())
            .configure(configure)
            .default_service(web::to(routes::not_found))
    })
    .workers(workers)
    .worker_max_blocking_threads(blocking_threads)
    .shutdown_timeout(10)
    .listen(listener)?
    .run();
    Ok(server)
}
