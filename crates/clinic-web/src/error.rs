//! Errors to HTTP. Use cases return `clinic_app::Error`; API handlers answer with [`ApiError`]
//! (`{"error": code, "message": text}`, with `field` for a validation error) and pages with
//! `html::PageError`. Validation → 422 naming the field; rule refusals → their code's status (409/422);
//! not found → 404; auth → 401/403 (429 when throttled); an unreachable database → 503 with
//! `Retry-After`; anything else is logged with its whole cause chain and answered with a plain 500.

use actix_web::error::{JsonPayloadError, PathError, QueryPayloadError};
use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, ResponseError, web};
use clinic_app::{Error, ErrorCode};
use serde::Serialize;
use std::fmt;
use utoipa::ToSchema;

/// The status each code answers with.
pub fn status_of(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::ValidationFailed
        | ErrorCode::InvalidBody
        | ErrorCode::InvalidCode
        | ErrorCode::PatientEmailRequired
        | ErrorCode::ReviewNoteRequired
        | ErrorCode::BeyondTypicalAcknowledgementRequired
        | ErrorCode::InvalidTimeZone
        | ErrorCode::ReasonRequired
        | ErrorCode::IdempotencyKeyReused
        | ErrorCode::NoteRequired
        | ErrorCode::CheckInClosed
        | ErrorCode::ConsentRequired
        | ErrorCode::UnsupportedImage => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::NotFound | ErrorCode::NoSession => StatusCode::NOT_FOUND,
        ErrorCode::Unauthorized | ErrorCode::InvalidCredentials => StatusCode::UNAUTHORIZED,
        ErrorCode::Forbidden | ErrorCode::CsrfFailed | ErrorCode::MfaEnrolmentRequired => StatusCode::FORBIDDEN,
        ErrorCode::TooManyAttempts => StatusCode::TOO_MANY_REQUESTS,
        ErrorCode::ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        ErrorCode::InternalError => StatusCode::INTERNAL_SERVER_ERROR,
        ErrorCode::MalformedJson => StatusCode::BAD_REQUEST,
        ErrorCode::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorCode::EmailTaken
        | ErrorCode::LastManager
        | ErrorCode::OpenSeriesExists
        | ErrorCode::SeriesMaximumReached
        | ErrorCode::SeriesClosed
        | ErrorCode::NotRetryable
        | ErrorCode::OnlyLatestCanBeVoided
        | ErrorCode::SessionVoid
        | ErrorCode::AlertResolved
        | ErrorCode::MfaAlreadyEnabled
        | ErrorCode::MfaNotStarted
        | ErrorCode::ConsentFormOutdated
        | ErrorCode::ConsentAlreadySigned
        | ErrorCode::PhotoWithdrawn => StatusCode::CONFLICT,
    }
}

/// Seconds a client should wait before retrying while the database is unavailable.
const UNAVAILABLE_RETRY_SECS: i64 = 2;

/// Logs what a client is not told: the whole cause chain of a 500 or 503.
pub fn log(e: &Error) {
    if matches!(e, Error::Database(_) | Error::Internal { .. } | Error::Unavailable(_)) {
        tracing::error!(error = %e.chain(), "request failed");
    }
}

/// The body of every API error.
#[derive(Serialize, ToSchema)]
#[schema(as = Error)]
pub struct ErrorBody {
    #[schema(schema_with = crate::schemas::error_code)]
    pub error: ErrorCode,
    pub message: String,
    /// The field a validation error is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<&'static str>,
}

/// An API handler's error.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl<E: Into<Error>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.0.code(), self.0)
    }
}

/// Seconds a refused client should wait (429 and 503 answers, API and pages alike).
pub fn retry_after(e: &Error) -> Option<i64> {
    match e {
        Error::Throttled { retry_after } => Some(*retry_after),
        Error::Unavailable(_) | Error::Busy => Some(UNAVAILABLE_RETRY_SECS),
        _ => None,
    }
}

/// The status an error answers with: its code's, except a wrong second-factor code at sign-in (401).
pub fn status_of_error(e: &Error) -> StatusCode {
    match e {
        Error::InvalidSecondFactor => StatusCode::UNAUTHORIZED,
        e => status_of(e.code()),
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        status_of_error(&self.0)
    }

    fn error_response(&self) -> HttpResponse {
        log(&self.0);
        let message = self.0.public_message();
        let field = match &self.0 {
            Error::Validation(e) => Some(e.field),
            _ => None,
        };
        let mut resp = HttpResponse::build(self.status_code());
        if let Some(secs) = retry_after(&self.0) {
            resp.insert_header((header::RETRY_AFTER, secs.to_string()));
        }
        if let Error::Unauthorized | Error::InvalidCredentials = &self.0 {
            resp.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        resp.json(ErrorBody {
            error: self.0.code(),
            message,
            field,
        })
    }
}

fn refused(code: ErrorCode, message: &str) -> HttpResponse {
    ApiError(Error::refused(code, message)).error_response()
}

/// JSON bodies: at most 64 KiB; parser details never reach the client.
pub fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(64 * 1024)
        .error_handler(|err, _req: &HttpRequest| {
            let resp = match &err {
                JsonPayloadError::Overflow { .. } | JsonPayloadError::OverflowKnownLength { .. } => {
                    refused(ErrorCode::PayloadTooLarge, "the request body is too large")
                }
                JsonPayloadError::ContentType => {
                    refused(ErrorCode::UnsupportedMediaType, "send the body as application/json")
                }
                JsonPayloadError::Deserialize(de) if de.is_data() => refused(
                    ErrorCode::InvalidBody,
                    "the request body has unknown or missing fields, or a value of the wrong type",
                ),
                JsonPayloadError::Deserialize(_) => {
                    refused(ErrorCode::MalformedJson, "the request body is not valid JSON")
                }
                _ => refused(ErrorCode::MalformedJson, "the request body could not be read"),
            };
            actix_web::error::InternalError::from_response(err, resp).into()
        })
}

pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|err: PathError, _req| {
        actix_web::error::InternalError::from_response(err, ApiError(Error::NotFound).error_response()).into()
    })
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err: QueryPayloadError, _req| {
        let resp = refused(
            ErrorCode::ValidationFailed,
            "the query string is not valid for this address",
        );
        actix_web::error::InternalError::from_response(err, resp).into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::body::to_bytes;
    use clinic_db::DbError;
    use clinic_domain::FieldError;

    #[actix_web::test]
    async fn internal_errors_leak_nothing() {
        let e = Error::internal("x", std::io::Error::other("password authentication failed for user x"));
        let resp = ApiError(e).error_response();
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
        let resp = ApiError::from(FieldError::new("email", "an e-mail address needs an @")).error_response();
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body: serde_json::Value = serde_json::from_slice(&to_bytes(resp.into_body()).await.unwrap()).unwrap();
        assert_eq!(body["error"], "validation_failed");
        assert_eq!(body["field"], "email");
    }

    #[test]
    fn throttling_and_an_unavailable_database_say_when_to_retry() {
        let resp = ApiError(Error::Throttled { retry_after: 30 }).error_response();
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(resp.headers().get(header::RETRY_AFTER).unwrap(), "30");
        let resp = ApiError::from(DbError::Connect("refused".into())).error_response();
        assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(resp.headers().get(header::RETRY_AFTER).is_some());
    }

    #[test]
    fn database_errors_map_to_status() {
        assert_eq!(ApiError::from(DbError::NotFound).status_code(), StatusCode::NOT_FOUND);
        assert_eq!(
            ApiError::from(DbError::Migration("x".into())).status_code(),
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
}
