//! Error policy: handlers return [`AppError`]. Validation → 422 naming the field; rule refusals →
//! 409/422 with a stable code; not found → 404; auth → 401/403 (429 when throttled); anything else is
//! logged with its cause and answered with a plain 500 that leaks nothing. API bodies are
//! `{"error": code, "message": text}`; pages get the same status with an HTML page ([`PageError`]).

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError, UrlencodedError};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use clinic_db::DbError;
use clinic_domain::FieldError;
use serde::Serialize;
use std::fmt;

/// Every stable error code the API answers with (an end-to-end test drives the API to each one).
/// Pages answer with HTML; their CSRF refusal is `csrf_failed` (403).
pub const CODES: &[&str] = &[
    "validation_failed",
    "not_found",
    "unauthorized",
    "forbidden",
    "invalid_credentials",
    "too_many_attempts",
    "service_unavailable",
    "internal_error",
    "malformed_json",
    "invalid_body",
    "payload_too_large",
    "unsupported_media_type",
    "email_taken",
    "last_manager",
    "invalid_code",
    "patient_email_required",
    "open_series_exists",
    "review_note_required",
    "beyond_typical_acknowledgement_required",
    "series_maximum_reached",
    "series_closed",
    "no_session",
];

#[derive(Debug)]
pub enum AppError {
    /// A field of the request is not acceptable.
    Validation(FieldError),
    /// A rule refused the request, or the request itself is unusable: a status and a stable code.
    Rule {
        status: StatusCode,
        code: &'static str,
        message: String,
    },
    NotFound,
    Unauthorized,
    Forbidden,
    /// Wrong e-mail or password (the same answer for both).
    InvalidCredentials,
    /// Too many failed attempts; try again after this many seconds.
    Throttled {
        retry_after: i64,
    },
    /// A page that needs a signed-in user was asked for without one.
    LoginRequired,
    /// The database cannot be reached or is busy beyond the pool's wait.
    Unavailable(String),
    Internal(String),
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl AppError {
    pub fn rule(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        AppError::Rule {
            status,
            code,
            message: message.into(),
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            AppError::Validation(_) => "validation_failed",
            AppError::Rule { code, .. } => code,
            AppError::NotFound => "not_found",
            AppError::Unauthorized | AppError::LoginRequired => "unauthorized",
            AppError::Forbidden => "forbidden",
            AppError::InvalidCredentials => "invalid_credentials",
            AppError::Throttled { .. } => "too_many_attempts",
            AppError::Unavailable(_) => "service_unavailable",
            AppError::Internal(_) => "internal_error",
        }
    }

    pub fn public_message(&self) -> String {
        match self {
            AppError::Validation(e) => e.to_string(),
            AppError::Rule { message, .. } => message.clone(),
            AppError::NotFound => "not found".into(),
            AppError::Unauthorized | AppError::LoginRequired => "sign in first".into(),
            AppError::Forbidden => "your account may not do this".into(),
            AppError::InvalidCredentials => "the e-mail address or password is not right".into(),
            AppError::Throttled { retry_after } => {
                format!("too many failed attempts; try again in {retry_after} seconds")
            }
            AppError::Unavailable(_) => "the service is unavailable; try again shortly".into(),
            AppError::Internal(_) => "something went wrong on our side; it has been logged".into(),
        }
    }

    fn log(&self) {
        if let AppError::Internal(cause) | AppError::Unavailable(cause) = self {
            tracing::error!(error = %cause, "request failed");
        }
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppError::Unavailable(cause) | AppError::Internal(cause) => write!(f, "{}: {cause}", self.code()),
            other => write!(f, "{}: {}", other.code(), other.public_message()),
        }
    }
}

impl ResponseError for AppError {
    fn status_code(&self) -> StatusCode {
        match self {
            AppError::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Rule { status, .. } => *status,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Unauthorized | AppError::InvalidCredentials | AppError::LoginRequired => StatusCode::UNAUTHORIZED,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::Throttled { .. } => StatusCode::TOO_MANY_REQUESTS,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        self.log();
        let field = match self {
            AppError::Validation(e) => Some(e.field),
            _ => None,
        };
        let message = self.public_message();
        let mut resp = HttpResponse::build(self.status_code());
        if let AppError::Throttled { retry_after } = self {
            resp.insert_header((header::RETRY_AFTER, retry_after.to_string()));
        }
        if matches!(self, AppError::Unauthorized | AppError::InvalidCredentials) {
            resp.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        resp.json(Body {
            error: self.code(),
            message: &message,
            field,
        })
    }
}

impl From<DbError> for AppError {
    fn from(e: DbError) -> Self {
        match e {
            DbError::NotFound => AppError::NotFound,
            DbError::Pool(_) | DbError::Connect(_) | DbError::Busy => AppError::Unavailable(e.to_string()),
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<FieldError> for AppError {
    fn from(e: FieldError) -> Self {
        AppError::Validation(e)
    }
}

/// The same errors for pages: an HTML page with the status, or a redirect to sign in.
#[derive(Debug)]
pub struct PageError(pub AppError);

impl fmt::Display for PageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<E: Into<AppError>> From<E> for PageError {
    fn from(e: E) -> Self {
        PageError(e.into())
    }
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self.0 {
            AppError::LoginRequired => StatusCode::SEE_OTHER,
            ref e => e.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        self.0.log();
        if let AppError::LoginRequired = self.0 {
            return HttpResponse::SeeOther()
                .insert_header((header::LOCATION, "/login"))
                .finish();
        }
        crate::pages::error_page(self.status_code(), &self.0.public_message())
    }
}

/// JSON bodies: at most 64 KiB; parser details never reach the client.
pub fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(64 * 1024)
        .error_handler(|err, _req: &HttpRequest| {
            let e = match &err {
                JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => AppError::rule(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "payload_too_large",
                    "the request body is too large",
                ),
                JsonPayloadError::ContentType => AppError::rule(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                    "send the body as application/json",
                ),
                JsonPayloadError::Deserialize(de) if de.is_data() => AppError::rule(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_body",
                    "the request body has unknown or missing fields, or a value of the wrong type",
                ),
                JsonPayloadError::Deserialize(_) => AppError::rule(
                    StatusCode::BAD_REQUEST,
                    "malformed_json",
                    "the request body is not valid JSON",
                ),
                _ => AppError::rule(
                    StatusCode::BAD_REQUEST,
                    "malformed_json",
                    "the request body could not be read",
                ),
            };
            actix_web::error::InternalError::from_response(err, e.error_response()).into()
        })
}

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err: PathError, _req| {
        actix_web::error::InternalError::from_response(err, AppError::NotFound.error_response()).into()
    })
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err: QueryPayloadError, _req| {
        let e = AppError::rule(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "the query string is not valid for this address",
        );
        actix_web::error::InternalError::from_response(err, e.error_response()).into()
    })
}

pub fn form_config() -> web::FormConfig {
    web::FormConfig::default()
        .limit(64 * 1024)
        .error_handler(|err: UrlencodedError, _req| {
            let status = match err {
                UrlencodedError::Overflow { .. } => StatusCode::PAYLOAD_TOO_LARGE,
                _ => StatusCode::BAD_REQUEST,
            };
            let page = crate::pages::error_page(status, "The form could not be read. Go back and try again.");
            actix_web::error::InternalError::from_response(err, page).into()
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::to_bytes;

    #[actix_web::test]
    async fn internal_errors_leak_nothing() {
        let resp = AppError::Internal("password authentication failed for user x".into()).error_response();
        assert_eq!(resp.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = to_bytes(resp.into_body()).await.unwrap();
        let text = std::str::from_utf8(&body).unwrap();
        assert!(
            text.contains("\"error\":\"internal_error\"") && !text.contains("password"),
            "{text}"
        );
    }

    #[actix_web::test]
    async fn validation_names_the_field() {
        let resp = AppError::from(FieldError::new("email", "an e-mail address needs an @")).error_response();
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body: serde_json::Value = serde_json::from_slice(&to_bytes(resp.into_body()).await.unwrap()).unwrap();
        assert_eq!(body["error"], "validation_failed");
        assert_eq!(body["field"], "email");
    }

    #[test]
    fn throttling_says_when_to_retry() {
        let resp = AppError::Throttled { retry_after: 30 }.error_response();
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(resp.headers().get(header::RETRY_AFTER).unwrap(), "30");
    }

    #[test]
    fn database_errors_map_to_status() {
        assert_eq!(AppError::from(DbError::NotFound).status_code(), StatusCode::NOT_FOUND);
        assert_eq!(
            AppError::from(DbError::Connect("x".into())).status_code(),
            StatusCode::SERVICE_UNAVAILABLE
        );
        assert_eq!(
            AppError::from(DbError::Migration("x".into())).status_code(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }

    #[test]
    fn pages_redirect_to_sign_in() {
        let resp = PageError(AppError::LoginRequired).error_response();
        assert_eq!(resp.status(), StatusCode::SEE_OTHER);
        assert_eq!(resp.headers().get(header::LOCATION).unwrap(), "/login");
    }
}
