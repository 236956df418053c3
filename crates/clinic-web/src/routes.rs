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

/// Wires [`routes`], one resource per path so that a wrong method gets 405. Paths that share their
/// first segment (under `/api/v1/`, their first three) go in one scope: the router then tests a path
/// against the resources of its scope only, not against every pattern before it (each dynamic pattern
/// is a regex).
pub fn configure(cfg: &mut web::ServiceConfig) {
    let mut by_path: BTreeMap<&'static str, Vec<RouteSpec>> = BTreeMap::new();
    for r in routes() {
        by_path.entry(r.path).or_default().push(r);
    }
    let mut by_scope: BTreeMap<&'static str, Vec<(&'static str, Vec<RouteSpec>)>> = BTreeMap::new();
    for (path, specs) in by_path {
        by_scope.entry(scope_of(path)).or_default().push((path, specs));
    }
    for (prefix, paths) in by_scope {
        if paths.len() == 1 || prefix.contains('{') {
            for (path, specs) in paths {
                cfg.service(resource(path, specs));
            }
            continue;
        }
        let mut scope = web::scope(prefix);
        for (path, specs) in paths {
            scope = scope.service(resource(&path[prefix.len()..], specs));
        }
        cfg.service(scope);
    }
}

/// `/patients` of `/patients/{id}`, `/api/v1/me` of `/api/v1/me/timeline`; the whole path when it has
/// no more segments.
fn scope_of(path: &str) -> &str {
    let start = if path.starts_with("/api/v1/") {
        "/api/v1".len()
    } else {
        0
    };
    match path[start + 1..].find('/') {
        Some(i) => &path[..=start + i],
        None => path,
    }
}

fn resource(path: &str, specs: Vec<RouteSpec>) -> actix_web::Resource {
    let mut resource = web::resource(path);
    for spec in specs {
        resource = resource.route((spec.make)());
    }
    resource
}

/// Anything not in the table: the API's 404 body, or the not-found page.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    if req.path().starts_with("/api/") {
        ApiError(Error::NotFound).error_response()
    } else {
        html::not_found_page()
    }
}

#[cfg(test)]
mod tests {
    use super::scope_of;

    #[test]
    fn a_path_is_scoped_by_its_first_segment_or_its_first_under_the_api() {
        assert_eq!(scope_of("/api/v1/me/timeline"), "/api/v1/me");
        assert_eq!(scope_of("/api/v1/me"), "/api/v1/me");
        assert_eq!(scope_of("/api/v1/patients/{id}/series"), "/api/v1/patients");
        assert_eq!(scope_of("/patients/{id}"), "/patients");
        assert_eq!(scope_of("/patients"), "/patients");
        assert_eq!(scope_of("/"), "/");
    }
}
