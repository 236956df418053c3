//! One's own second factor: `POST /me/mfa/totp` starts enrolment, `POST /me/mfa/totp/confirm` turns
//! it on (and returns the recovery codes, once), `DELETE /me/mfa` removes it.

use crate::auth::{ApiCaller, remove_second_factor};
use crate::error::{ApiError, ErrorBody};
use crate::routes::RouteSpec;
use crate::run::db;
use crate::state::AppState;
use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use clinic_app::mfa;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub fn routes(v: &mut Vec<RouteSpec>) {
    v.push(RouteSpec::new(Method::POST, "/api/v1/me/mfa/totp", || {
        web::post().to(start)
    }));
    v.push(RouteSpec::new(Method::POST, "/api/v1/me/mfa/totp/confirm", || {
        web::post().to(confirm)
    }));
    v.push(RouteSpec::new(Method::DELETE, "/api/v1/me/mfa", || {
        web::delete().to(remove)
    }));
}

#[derive(Serialize, ToSchema)]
#[schema(as = TotpEnrolment)]
pub(crate) struct StartView {
    /// The secret in base32, to type into an authenticator app.
    secret: String,
    /// The same as an `otpauth://` address, for a QR code.
    otpauth_url: String,
}

/// Start setting up an authenticator app (signed in). A new start replaces one not yet confirmed.
#[utoipa::path(post, path = "/api/v1/me/mfa/totp", tag = "accounts",
    responses((status = 200, body = StartView), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(crate) async fn start(state: web::Data<AppState>, caller: ApiCaller) -> Result<HttpResponse, ApiError> {
    let actor = caller.0;
    let st = state.clone();
    let started = db(&state, move |conn, env| mfa::start(conn, env, &actor, &st.totp_key)).await?;
    Ok(HttpResponse::Ok().json(StartView {
        secret: started.secret,
        otpauth_url: started.otpauth_url,
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = TotpConfirm)]
pub(crate) struct ConfirmBody {
    #[schema(max_length = 64)]
    code: String,
}

#[derive(Serialize, ToSchema)]
#[schema(as = RecoveryCodes)]
pub(crate) struct RecoveryCodesView {
    /// Ten single-use codes, shown this once; each signs in once in place of the app's code.
    recovery_codes: Vec<String>,
}

/// Confirm the set-up with a code from the app (signed in): the second factor is on.
#[utoipa::path(post, path = "/api/v1/me/mfa/totp/confirm", tag = "accounts", request_body = ConfirmBody,
    responses((status = 200, body = RecoveryCodesView), (status = 401, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub(crate) async fn confirm(
    state: web::Data<AppState>,
    caller: ApiCaller,
    body: web::Json<ConfirmBody>,
) -> Result<HttpResponse, ApiError> {
    let (actor, code) = (caller.0, body.into_inner().code);
    let st = state.clone();
    let codes = db(&state, move |conn, env| {
        mfa::confirm(conn, env, &actor, &st.totp_key, &code)
    })
    .await?;
    Ok(HttpResponse::Ok().json(RecoveryCodesView {
        recovery_codes: codes.iter().map(|c| c.as_str().to_owned()).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = MfaRemoval)]
pub(crate) struct RemoveBody {
    password: String,
    #[schema(max_length = 64)]
    code: String,
}

/// Remove the second factor, with the password and a current code or recovery code (signed in).
#[utoipa::path(delete, path = "/api/v1/me/mfa", tag = "accounts", request_body = RemoveBody,
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub(crate) async fn remove(
    state: web::Data<AppState>,
    caller: ApiCaller,
    body: web::Json<RemoveBody>,
) -> Result<HttpResponse, ApiError> {
    remove_second_factor(&state, &caller.0, &body.password, &body.code).await?;
    Ok(HttpResponse::NoContent().finish())
}
