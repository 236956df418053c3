//! Sign-in, sign-out, activation with a one-time code, password change, and `GET /me`.

use crate::address::client_address;
use crate::auth::{
    ApiCaller, activate, change_password, confirm_reset, request_reset, sign_in, sign_in_second_factor, sign_out,
};
use crate::error::{ApiError, ErrorBody};
use crate::routes::RouteSpec;
use crate::state::AppState;
use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, web};
use clinic_app::accounts::{SignInOutcome, SignedIn};
use clinic_domain::user::Role;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub fn routes(v: &mut Vec<RouteSpec>) {
    v.push(RouteSpec::new(Method::POST, "/api/v1/auth/login", || {
        web::post().to(login)
    }));
    v.push(RouteSpec::new(Method::POST, "/api/v1/auth/mfa", || {
        web::post().to(second_factor)
    }));
    v.push(RouteSpec::new(Method::POST, "/api/v1/auth/logout", || {
        web::post().to(logout)
    }));
    v.push(RouteSpec::new(Method::POST, "/api/v1/auth/activate", || {
        web::post().to(activate_code)
    }));
    v.push(RouteSpec::new(Method::PUT, "/api/v1/auth/password", || {
        web::put().to(password)
    }));
    v.push(RouteSpec::new(Method::GET, "/api/v1/me", || web::get().to(me)));
    v.push(RouteSpec::new(Method::POST, "/api/v1/auth/password-reset", || {
        web::post().to(password_reset)
    }));
    v.push(RouteSpec::new(
        Method::POST,
        "/api/v1/auth/password-reset/confirm",
        || web::post().to(password_reset_confirm),
    ));
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Login)]
pub(crate) struct LoginBody {
    email: String,
    password: String,
}

#[derive(Serialize, ToSchema)]
#[schema(as = User)]
pub(crate) struct UserView {
    id: i64,
    #[schema(schema_with = crate::schemas::role)]
    role: Role,
    display_name: String,
}

#[derive(Serialize, ToSchema)]
#[schema(as = Token)]
pub(crate) struct TokenView {
    token: String,
    #[schema(schema_with = bearer_type)]
    token_type: &'static str,
    expires_at: String,
    user: UserView,
}

fn bearer_type() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .enum_values(Some(["Bearer"]))
        .build()
}

fn token_view(s: SignedIn) -> TokenView {
    TokenView {
        token: s.token,
        token_type: "Bearer",
        expires_at: crate::views::utc(s.expires_at),
        user: UserView {
            id: s.user.id.0,
            role: s.user.role,
            display_name: s.user.display_name,
        },
    }
}

#[derive(Serialize, ToSchema)]
#[schema(as = MfaRequired)]
pub(crate) struct MfaRequiredView {
    #[schema(schema_with = always_true)]
    mfa_required: bool,
    /// Sent back with the code to `POST /auth/mfa`, within five minutes.
    mfa_token: String,
    expires_at: String,
}

fn always_true() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::Boolean)
        .enum_values(Some([true]))
        .build()
}

/// A signed-in token, or (for an account with a second factor) the challenge for its code.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
#[schema(as = LoginAnswer)]
pub(crate) enum LoginAnswer {
    Token(TokenView),
    MfaRequired(MfaRequiredView),
}

/// Sign in (anyone). An account with a second factor gets `{mfa_required: true, mfa_token}` and no
/// token; one the clinic requires a second factor of, but without one, gets a token that reaches
/// only `/me`, `/me/mfa/*` and sign-out.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "accounts", security(()), request_body = LoginBody,
    responses((status = 200, body = LoginAnswer), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(crate) async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<LoginBody>,
) -> Result<HttpResponse, ApiError> {
    let address = client_address(&req, &state.settings.trusted_proxies);
    let answer = match sign_in(&state, &body.email, &body.password, &address).await? {
        SignInOutcome::Signed(signed) => LoginAnswer::Token(token_view(signed)),
        SignInOutcome::SecondFactor { mfa_token, expires_at } => LoginAnswer::MfaRequired(MfaRequiredView {
            mfa_required: true,
            mfa_token,
            expires_at: crate::views::utc(expires_at),
        }),
    };
    Ok(HttpResponse::Ok().json(answer))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SecondFactor)]
pub(crate) struct SecondFactorBody {
    mfa_token: String,
    /// The six digits the authenticator app shows, or an unused recovery code.
    #[schema(max_length = 64)]
    code: String,
}

/// Finish signing in with a second-factor code (anyone with an `mfa_token`). A code is accepted once;
/// a wrong, used or expired code is 401 `invalid_code` and counts toward the sign-in limits.
#[utoipa::path(post, path = "/api/v1/auth/mfa", tag = "accounts", security(()), request_body = SecondFactorBody,
    responses((status = 200, body = TokenView), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub(crate) async fn second_factor(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<SecondFactorBody>,
) -> Result<HttpResponse, ApiError> {
    let address = client_address(&req, &state.settings.trusted_proxies);
    let signed = sign_in_second_factor(&state, &body.mfa_token, &body.code, &address).await?;
    Ok(HttpResponse::Ok().json(token_view(signed)))
}

/// End this token's session (signed in).
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "accounts",
    responses((status = 204), (status = 401, body = ErrorBody)))]
pub(crate) async fn logout(state: web::Data<AppState>, caller: ApiCaller) -> Result<HttpResponse, ApiError> {
    sign_out(&state, &caller.0).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = Activate)]
pub(crate) struct ActivateBody {
    code: String,
    #[schema(min_length = 8, max_length = 128)]
    password: String,
}

/// Set a password with a one-time code and sign in (anyone with a code).
#[utoipa::path(post, path = "/api/v1/auth/activate", tag = "accounts", security(()), request_body = ActivateBody,
    responses((status = 200, body = TokenView), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub(crate) async fn activate_code(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<ActivateBody>,
) -> Result<HttpResponse, ApiError> {
    let address = client_address(&req, &state.settings.trusted_proxies);
    let signed = activate(&state, &body.code, &body.password, &address).await?;
    Ok(HttpResponse::Ok().json(token_view(signed)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PasswordChange)]
pub(crate) struct PasswordBody {
    current_password: String,
    #[schema(min_length = 8, max_length = 128)]
    new_password: String,
}

/// Change password; the account's other tokens end (signed in).
#[utoipa::path(put, path = "/api/v1/auth/password", tag = "accounts", request_body = PasswordBody,
    responses((status = 204), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub(crate) async fn password(
    state: web::Data<AppState>,
    caller: ApiCaller,
    body: web::Json<PasswordBody>,
) -> Result<HttpResponse, ApiError> {
    change_password(&state, &caller.0, &body.current_password, &body.new_password).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Serialize, ToSchema)]
#[schema(as = Me)]
pub(crate) struct MeView {
    id: i64,
    #[schema(schema_with = crate::schemas::role)]
    role: Role,
    display_name: String,
    email: String,
    patient_id: Option<i64>,
}

/// The signed-in account.
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts",
    responses((status = 200, body = MeView), (status = 401, body = ErrorBody)))]
pub(crate) async fn me(caller: ApiCaller) -> HttpResponse {
    let u = caller.0.user;
    HttpResponse::Ok().json(MeView {
        id: u.id.0,
        role: u.role,
        display_name: u.display_name,
        email: u.email,
        patient_id: u.patient_id.map(|p| p.0),
    })
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PasswordResetRequest)]
pub(crate) struct ResetBody {
    email: String,
}

/// Ask for a password reset link (anyone). Always 202: the answer never says whether the address has
/// an account; an active one is e-mailed a single-use link valid 30 minutes.
#[utoipa::path(post, path = "/api/v1/auth/password-reset", tag = "accounts", security(()), request_body = ResetBody,
    responses((status = 202), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub(crate) async fn password_reset(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<ResetBody>,
) -> Result<HttpResponse, ApiError> {
    let address = client_address(&req, &state.settings.trusted_proxies);
    request_reset(&state, &body.email, &address).await?;
    Ok(HttpResponse::Accepted().finish())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PasswordResetConfirm)]
pub(crate) struct ResetConfirmBody {
    token: String,
    #[schema(min_length = 8, max_length = 128)]
    new_password: String,
}

/// Set a new password with a reset link's token; every session of the account ends (anyone with a link).
#[utoipa::path(post, path = "/api/v1/auth/password-reset/confirm", tag = "accounts", security(()),
    request_body = ResetConfirmBody,
    responses((status = 204), (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub(crate) async fn password_reset_confirm(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<ResetConfirmBody>,
) -> Result<HttpResponse, ApiError> {
    let address = client_address(&req, &state.settings.trusted_proxies);
    confirm_reset(&state, &body.token, &body.new_password, &address).await?;
    Ok(HttpResponse::NoContent().finish())
}
