//! Server-rendered pages (askama templates in `web/templates`): each handler checks the caller, calls
//! the use case, and renders its answer; forms redirect after success (303).

mod alerts;
mod auth;
mod consent;
mod mail;
mod manager;
mod mfa;
mod photos;
mod portal;
mod provider;
mod sessions;
mod setup;

pub(crate) use portal::KeptPortals;

use crate::routes::RouteSpec;
use actix_web::http::{Method, header};
use actix_web::{HttpResponse, web};

pub fn routes(v: &mut Vec<RouteSpec>) {
    v.push(RouteSpec::new(Method::GET, "/static/icon.svg", || web::get().to(icon)));
    v.push(RouteSpec::new(Method::GET, "/static/app.css", || {
        web::get().to(stylesheet)
    }));
    auth::routes(v);
    mfa::routes(v);
    setup::routes(v);
    mail::routes(v);
    provider::routes(v);
    sessions::routes(v);
    alerts::routes(v);
    portal::routes(v);
    consent::routes(v);
    photos::routes(v);
    manager::routes(v);
}

async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/css; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(include_str!("../../../../web/static/app.css"))
}

async fn icon() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "image/svg+xml"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=86400"))
        .body(include_str!("../../../../web/static/icon.svg"))
}
