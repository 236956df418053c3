//! Server-rendered pages (askama templates in `web/templates`), and the shared pieces they use.

mod auth;
mod manager;
mod portal;
mod provider;

use crate::RouteSpec;
use actix_web::http::{Method, StatusCode, header};
use actix_web::{HttpResponse, web};
use askama::Template;

pub fn routes(v: &mut Vec<RouteSpec>) {
    v.push(RouteSpec::new(Method::GET, "/static/icon.svg", || web::get().to(icon)));
    v.push(RouteSpec::new(Method::GET, "/static/app.css", || {
        web::get().to(stylesheet)
    }));
    auth::routes(v);
    provider::routes(v);
    portal::routes(v);
    manager::routes(v);
}

/// A titled message with an optional link (href, text).
#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub title: String,
    pub message: String,
    pub link: Option<(String, String)>,
}

/// Renders a template as an HTML response with `status`.
pub fn render(status: StatusCode, page: &impl Template) -> HttpResponse {
    match page.render() {
        Ok(html) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(html),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body("Something went wrong.")
        }
    }
}

/// The HTML page for an error status.
pub fn error_page(status: StatusCode, message: &str) -> HttpResponse {
    let title = match status {
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::FORBIDDEN => "Not allowed",
        StatusCode::UNAUTHORIZED => "Please sign in",
        StatusCode::TOO_MANY_REQUESTS => "Too many attempts",
        s if s.is_server_error() => "Something went wrong",
        _ => "Please check and try again",
    };
    let link = Some(("/".to_owned(), "Back to the start".to_owned()));
    render(
        status,
        &MessagePage {
            title: title.into(),
            message: message.into(),
            link,
        },
    )
}

pub fn not_found_page() -> HttpResponse {
    error_page(StatusCode::NOT_FOUND, "There is no page at this address.")
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

/// A redirect after a successful form post.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}
