//! CSRF protection for forms: every state-changing form carries a token derived (HMAC) from the login
//! session, or for anonymous forms from a random nonce kept in a SameSite=Strict cookie; and the
//! request's Origin (or Referer) must be this site.

use crate::state::AppState;
use actix_web::HttpRequest;
use actix_web::cookie::{Cookie, SameSite};
use actix_web::http::header;
use clinic_app::{Actor, Error, ErrorCode};
use clinic_auth::{csrf_token, generate_secret, verify_csrf};
use clinic_domain::user::Role;

pub const NONCE_COOKIE: &str = "clinic_csrf";

fn csrf_failed() -> Error {
    Error::refused(
        ErrorCode::CsrfFailed,
        "This form has expired or did not come from this site. Reload the page and try again.",
    )
}

/// The token for a signed-in user's forms.
pub fn session_token(state: &AppState, session_id: &str) -> String {
    csrf_token(&state.csrf_key, session_id)
}

/// The token for an anonymous form, and the nonce cookie to set when the browser has none yet.
pub fn anonymous_token(state: &AppState, req: &HttpRequest) -> Result<(String, Option<Cookie<'static>>), Error> {
    if let Some(c) = req.cookie(NONCE_COOKIE).filter(|c| c.value().len() == 64) {
        return Ok((csrf_token(&state.csrf_key, c.value()), None));
    }
    let nonce = generate_secret().map_err(|e| Error::internal("generating a form nonce", e))?;
    let token = csrf_token(&state.csrf_key, &nonce);
    let cookie = Cookie::build(NONCE_COOKIE, nonce)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.settings.secure_cookies)
        .finish();
    Ok((token, Some(cookie)))
}

/// Checks an anonymous form's token against the nonce cookie, and its origin.
pub fn check_anonymous(state: &AppState, req: &HttpRequest, submitted: &str) -> Result<(), Error> {
    check_origin(state, req)?;
    let nonce = req.cookie(NONCE_COOKIE).ok_or_else(csrf_failed)?;
    if verify_csrf(&state.csrf_key, nonce.value(), submitted) {
        Ok(())
    } else {
        Err(csrf_failed())
    }
}

/// Checks a signed-in form's token against its session, and its origin.
pub fn check_session(state: &AppState, req: &HttpRequest, session_id: &str, submitted: &str) -> Result<(), Error> {
    check_origin(state, req)?;
    if verify_csrf(&state.csrf_key, session_id, submitted) {
        Ok(())
    } else {
        Err(csrf_failed())
    }
}

/// The usual guard of a signed-in form: the caller's role first (403, audited), then the form's token.
pub fn check_form(
    state: &AppState,
    req: &HttpRequest,
    actor: &Actor,
    roles: &[Role],
    submitted: &str,
) -> Result<(), Error> {
    actor.require(&state.env(), roles)?;
    check_session(state, req, &actor.session_id, submitted)
}

/// A browser sends Origin (or Referer) with a form post; when it names a site, it must be this one.
fn check_origin(state: &AppState, req: &HttpRequest) -> Result<(), Error> {
    let own = [state.settings.public_url.clone(), {
        let info = req.connection_info();
        format!("{}://{}", info.scheme(), info.host())
    }];
    let header_value = |name| req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    // Under `Referrer-Policy: no-referrer` browsers send `Origin: null` with form posts: no evidence
    // either way, so the token (and the SameSite=Strict cookies) decide.
    if let Some(origin) = header_value(header::ORIGIN).filter(|o| o != "null") {
        return if own.contains(&origin) {
            Ok(())
        } else {
            Err(csrf_failed())
        };
    }
    if let Some(referer) = header_value(header::REFERER) {
        let same = own
            .iter()
            .any(|o| referer == *o || referer.starts_with(&format!("{o}/")));
        return if same { Ok(()) } else { Err(csrf_failed()) };
    }
    Ok(())
}
