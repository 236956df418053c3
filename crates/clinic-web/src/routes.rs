//! The route table: every route of the application, declared once. The server is built from it and
//! the authorization-matrix and OpenAPI tests read it, so a route cannot be served untested.

use crate::error::ApiError;
use crate::{api, health, html, pages};
use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, ResponseError, Route, web};
use clinic_app::Error;
use std::collections::BTreeMap;

/// One route.
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

/// Anything not in the table: the API's 404 body, or the not-found page.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    if req.path().starts_with("/api/") {
        ApiError(Error::NotFound).error_response()
    } else {
        html::not_found_page()
    }
}
