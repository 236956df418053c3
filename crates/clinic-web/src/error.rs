//! Error policy: handlers return [`AppError`]. Validation → 422 naming the field; rule refusals →
//! 409/422 with a stable code; not found → 404; auth → 401/403; anything else is logged with its
//! cause and answered with a plain 500 that leaks nothing. Bodies are `{"error": code, "message": text}`.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use clinic_db::DbError;
use clinic_domain::FieldError;
use serde::Serialize;
use std::fmt;

#[derive(Debug)]
pub enum AppError {
    /// A field of the request is not acceptable.
    Validation(FieldError),
    /// A clinical or business rule refused the request.
    Rule {
        status: StatusCode,
        code: &'static str,
        message: String,
    },
    NotFound,
    Unauthorized,
    Forbidden,
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
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Validation(_) => "validation_failed",
            AppError::Rule { code, .. } => code,
            AppError::NotFound => "not_found",
            AppError::Unauthorized => "unauthorized",
            AppError::Forbidden => "forbidden",
            AppError::Unavailable(_) => "service_unavailable",
            AppError::Internal(_) => "internal_error",
        }
    }

    fn public_message(&self) -> String {
        match self {
            AppError::Validation(e) => e.to_string(),
            AppError::Rule { message, .. } => message.clone(),
            AppError::NotFound => "not found".into(),
            AppError::Unauthorized => "sign in first".into(),
            AppError::Forbidden => "your account may not do this".into(),
            AppError::Unavailable(_) => "the service is unavailable; try again shortly".into(),
            AppError::Internal(_) => "something went wrong on our side; it has been logged".into(),
        }
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppError::Unavailable(cause) | AppError::Internal(cause) => {
                write!(f, "{}: {cause}", self.code())
            }
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
            AppError::Unauthorized => StatusCode::UNAUTHORIZED,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        if let AppError::Internal(cause) | AppError::Unavailable(cause) = self {
            tracing::error!(error = %cause, "request failed");
        }
        let field = match self {
            AppError::Validation(e) => Some(e.field),
            _ => None,
        };
        let message = self.public_message();
        HttpResponse::build(self.status_code()).json(Body {
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
            DbError::Pool(_) | DbError::Connect(_) => AppError::Unavailable(e.to_string()),
            other => AppError::Internal(other.to_string()),
        }
    }
}

impl From<FieldError> for AppError {
    fn from(e: FieldError) -> Self {
        AppError::Validation(e)
    }
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
}
