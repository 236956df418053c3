//! `Idempotency-Key` on creating requests: the same key from the same account within 24 hours gets the
//! first answer again (its status and body) and nothing new is written; the same key with a different
//! request is refused (`idempotency_key_reused`). The key is taken, the action run and its answer stored
//! in one transaction, so two requests with one key at once run the action once.

use crate::error::{ErrorBody, status_of};
use crate::html::ONCE;
use crate::run::write;
use crate::state::AppState;
use actix_web::HttpRequest;
use actix_web::http::StatusCode;
use clinic_app::{Actor, Env, Error, ErrorCode};
use clinic_db::DbConn;
use clinic_db::idempotency::{self, Reservation};
use clinic_domain::FieldError;
use sha2::{Digest, Sha256};

pub const HEADER: &str = "Idempotency-Key";
/// How long a key answers a repeat.
const WINDOW_HOURS: i64 = 24;

/// An action's answer: its status and JSON body.
pub struct Answer {
    pub status: StatusCode,
    pub body: serde_json::Value,
    /// True when this is a stored answer given again.
    pub replayed: bool,
}

/// The request's key, if it sent one.
pub fn key_of(req: &HttpRequest) -> Result<Option<String>, Error> {
    let Some(value) = req.headers().get(HEADER) else {
        return Ok(None);
    };
    let key = value.to_str().unwrap_or_default().trim();
    if key.is_empty() || key.len() > 255 || !key.chars().all(|c| c.is_ascii_graphic()) {
        return Err(FieldError::new(HEADER, "must be 1 to 255 visible ASCII characters").into());
    }
    Ok(Some(key.to_owned()))
}

/// What identifies a request: its method, path and body.
pub fn fingerprint(req: &HttpRequest, body: &impl serde::Serialize) -> String {
    let mut h = Sha256::new();
    h.update(req.method().as_str());
    h.update(b" ");
    h.update(req.path());
    h.update(b"\n");
    h.update(serde_json::to_vec(body).unwrap_or_default());
    format!("{:x}", h.finalize())
}

/// A view as the JSON an [`Answer`] holds.
pub fn json(view: &impl serde::Serialize) -> Result<serde_json::Value, Error> {
    serde_json::to_value(view).map_err(|e| Error::internal("writing an answer as JSON", e))
}

/// An error as the answer a client gets, for storing.
fn error_answer(e: &Error) -> Answer {
    let field = match e {
        Error::Validation(f) => Some(f.field),
        _ => None,
    };
    Answer {
        status: status_of(e.code()),
        body: serde_json::to_value(ErrorBody {
            error: e.code(),
            message: e.public_message(),
            field,
        })
        .unwrap_or_default(),
        replayed: false,
    }
}

/// Runs `action` once per key (when `key` is given) and answers with its first answer. A refusal (4xx)
/// is an answer like any other and is stored; a failure of the server (5xx) is not, so a retry runs
/// again.
pub async fn run<F>(
    state: &AppState,
    actor: &Actor,
    key: Option<String>,
    fingerprint: String,
    action: F,
) -> Result<Answer, Error>
where
    F: FnOnce(&mut DbConn, &Env<'_>) -> Result<(StatusCode, serde_json::Value), Error> + Send + 'static,
{
    let Some(key) = key else {
        return write(state, move |conn, env| {
            action(conn, env).map(|(status, body)| Answer {
                status,
                body,
                replayed: false,
            })
        })
        .await;
    };
    let user = actor.user.id;
    write(state, move |conn, env| {
        let now = env.now();
        let since = now - chrono::Duration::hours(WINDOW_HOURS);
        conn.write_transaction(
            |conn| match idempotency::reserve(conn, user, &key, &fingerprint, since, now)? {
                Reservation::Answered(stored) if stored.request_hash != fingerprint => Err(Error::refused(
                    ErrorCode::IdempotencyKeyReused,
                    "this Idempotency-Key was used for a different request; use a new key for a new request",
                )),
                Reservation::Answered(stored) => Ok(Answer {
                    status: u16::try_from(stored.status)
                        .ok()
                        .and_then(|s| StatusCode::from_u16(s).ok())
                        .unwrap_or(StatusCode::OK),
                    body: serde_json::from_str(&stored.body).unwrap_or_default(),
                    replayed: true,
                }),
                Reservation::Reserved => {
                    let answer = match action(conn, env) {
                        Ok((status, body)) => Answer {
                            status,
                            body,
                            replayed: false,
                        },
                        Err(e) if status_of(e.code()).is_client_error() => error_answer(&e),
                        Err(e) => return Err(e),
                    };
                    let body = answer.body.to_string();
                    idempotency::finish(conn, user, &key, i32::from(answer.status.as_u16()), &body)?;
                    Ok(answer)
                }
            },
        )
    })
    .await
}

/// [`run`] for a page form: its one-time key `once` is the key, kept apart from API keys; `request` is
/// what the form asks for (without its CSRF token and key).
pub async fn run_form<F>(
    state: &AppState,
    actor: &Actor,
    req: &HttpRequest,
    once: &str,
    request: &impl serde::Serialize,
    action: F,
) -> Result<Answer, Error>
where
    F: FnOnce(&mut DbConn, &Env<'_>) -> Result<(StatusCode, serde_json::Value), Error> + Send + 'static,
{
    let once = once.trim();
    if once.len() > 128 || !once.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(FieldError::new(ONCE, "this form is not one this site made; reload the page").into());
    }
    let key = (!once.is_empty()).then(|| format!("form:{once}"));
    run(state, actor, key, fingerprint(req, request), action).await
}

impl Answer {
    /// A refusal's message as a form shows it: "needle depth: must be …".
    pub fn form_message(&self) -> String {
        let message = self.body["message"].as_str().unwrap_or_default();
        match self.body["field"].as_str() {
            Some(f) => format!("{}: {message}", f.replace('_', " ")),
            None => message.to_owned(),
        }
    }

    pub fn response(&self) -> actix_web::HttpResponse {
        let mut r = actix_web::HttpResponse::build(self.status);
        if self.replayed {
            r.insert_header(("Idempotent-Replayed", "true"));
        }
        r.json(&self.body)
    }
}
