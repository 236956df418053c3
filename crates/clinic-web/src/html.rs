//! Rendering pages: askama templates to responses, the error page, and [`PageError`], the pages'
//! counterpart of the API's error (same statuses, an HTML page, or a redirect to sign in).

use crate::error::log;
use actix_web::error::UrlencodedError;
use actix_web::http::{StatusCode, header};
use actix_web::{HttpResponse, ResponseError, web};
use askama::Template;
use clinic_app::Error;
use clinic_app::clinic::Clinic;
use std::fmt;
use std::sync::Arc;

/// A titled message with an optional link (href, text).
#[derive(Template)]
#[template(path = "message.html")]
pub struct MessagePage {
    pub clinic: Arc<Clinic>,
    pub title: String,
    pub message: String,
    pub link: Option<(String, String)>,
}

impl MessagePage {
    pub fn new(clinic: Arc<Clinic>, title: &str, message: &str, link: Option<(&str, &str)>) -> Self {
        Self {
            clinic,
            title: title.to_owned(),
            message: message.to_owned(),
            link: link.map(|(h, t)| (h.to_owned(), t.to_owned())),
        }
    }
}

/// The header of a page rendered where the clinic's settings are not at hand (an error page).
fn unnamed() -> Arc<Clinic> {
    Arc::new(Clinic::named("Clinic", chrono_tz::UTC))
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
    render(
        status,
        &MessagePage::new(unnamed(), title, message, Some(("/", "Back to the start"))),
    )
}

pub fn not_found_page() -> HttpResponse {
    error_page(StatusCode::NOT_FOUND, "There is no page at this address.")
}

/// A redirect after a successful form post.
pub fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .finish()
}

/// A page handler's error: the error page with the status, or (not signed in) a redirect to sign in.
#[derive(Debug)]
pub struct PageError(pub Error);

impl fmt::Display for PageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.0.code(), self.0)
    }
}

impl<E: Into<Error>> From<E> for PageError {
    fn from(e: E) -> Self {
        PageError(e.into())
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self.0 {
            Error::Unauthorized => StatusCode::SEE_OTHER,
            ref e if is_enrolment_required(e) => StatusCode::SEE_OTHER,
            ref e => crate::error::status_of_error(e),
        }
    }

    fn error_response(&self) -> HttpResponse {
        log(&self.0);
        if let Error::Unauthorized = self.0 {
            return see_other("/login");
        }
        if is_enrolment_required(&self.0) {
            return see_other("/mfa");
        }
        let mut resp = error_page(self.status_code(), &self.0.public_message());
        if let Some(secs) = crate::error::retry_after(&self.0)
            && let Ok(value) = header::HeaderValue::from_str(&secs.to_string())
        {
            resp.headers_mut().insert(header::RETRY_AFTER, value);
        }
        resp
    }
}

/// A signed-in page of a session that must enrol a second factor first: it goes to the enrolment page.
fn is_enrolment_required(e: &Error) -> bool {
    matches!(
        e,
        Error::Refused {
            code: clinic_app::ErrorCode::MfaEnrolmentRequired,
            ..
        }
    )
}

/// A form's error in words for the form's page: "needle depth: must be …".
pub fn field_message(e: &Error) -> String {
    match e {
        Error::Validation(f) => format!("{}: {}", f.field.replace('_', " "), f.message),
        other => other.public_message(),
    }
}

/// True for the errors a form shows on its own page (bad input, a rule's refusal) rather than as an
/// error page.
pub fn shown_on_form(e: &Error) -> bool {
    matches!(e, Error::Validation(_) | Error::Refused { .. })
}

/// A form's fields in order, for forms that repeat a name (checkboxes sharing one).
#[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
#[serde(transparent)]
pub struct Fields(pub Vec<(String, String)>);

impl Fields {
    /// The first value of `name`, or "".
    pub fn get(&self, name: &str) -> &str {
        self.0.iter().find(|(k, _)| k == name).map_or("", |(_, v)| v.as_str())
    }

    /// Every value of `name`.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// True when a checkbox `name` was ticked.
    pub fn ticked(&self, name: &str) -> bool {
        self.0.iter().any(|(k, _)| k == name)
    }

    /// The fields that say what the form asks for: all but the CSRF token and the one-time key.
    pub fn request(&self) -> Vec<&(String, String)> {
        self.0.iter().filter(|(k, _)| k != "csrf" && k != ONCE).collect()
    }
}

/// The name of the one-time key a creating form carries, so a reload or a second click records once.
pub const ONCE: &str = "once";

/// A fresh one-time key for a form.
pub fn once_key() -> Result<String, Error> {
    clinic_auth::generate_secret().map_err(|e| Error::internal("generating a form key", e))
}

pub fn form_config() -> web::FormConfig {
    web::FormConfig::default()
        .limit(64 * 1024)
        .error_handler(|err: UrlencodedError, _req| {
            let status = match err {
                UrlencodedError::Overflow { .. } => StatusCode::PAYLOAD_TOO_LARGE,
                _ => StatusCode::BAD_REQUEST,
            };
            let page = error_page(status, "The form could not be read. Go back and try again.");
            actix_web::error::InternalError::from_response(err, page).into()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_redirect_to_sign_in() {
        let resp = PageError(Error::Unauthorized).error_response();
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        assert_eq!(resp.headers().get(header::LOCATION).unwrap(), "/login");
    }
}
