//! Sign-in, sign-out, activation with a one-time code, password change, and `GET /me`.

use crate::address::client_address;
use crate::audit::event;
use crate::auth::{
    ApiCaller, Caller, SignedIn, check_throttle, hash_off_worker, open_session, record_failure, sign_in, sign_out,
};
use crate::error::AppError;
use crate::{AppState, RouteSpec, blocking};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use clinic_auth::{Password, hash_code, verify_password};
use clinic_db::{DbError, invitations, login_sessions, patients, throttle, users};
use clinic_domain::user::Role;
use serde::{Deserialize, Serialize};

pub fn routes(v: &mut Vec<RouteSpec>) {
    v.push(RouteSpec::new(Method::POST, "/api/v1/auth/login", || {
        web::post().to(login)
    }));
    v.push(RouteSpec::new(Method::POST, "/api/v1/auth/logout", || {
        web::post().to(logout)
    }));
    v.push(RouteSpec::new(Method::POST, "/api/v1/auth/activate", || {
        web::post().to(activate_route)
    }));
    v.push(RouteSpec::new(Method::PUT, "/api/v1/auth/password", || {
        web::put().to(change_password_route)
    }));
    v.push(RouteSpec::new(Method::GET, "/api/v1/me", || web::get().to(me)));
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LoginBody {
    email: String,
    password: String,
}

#[derive(Serialize)]
struct UserView {
    id: i64,
    role: Role,
    display_name: String,
}

#[derive(Serialize)]
struct TokenView {
    token: String,
    token_type: &'static str,
    expires_at: String,
    user: UserView,
}

fn token_view(s: SignedIn) -> TokenView {
    TokenView {
        token: s.token,
        token_type: "Bearer",
        expires_at: s
            .expires_at
            .and_utc()
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        user: UserView {
            id: s.user.id.0,
            role: s.user.role,
            display_name: s.user.display_name,
        },
    }
}

async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<LoginBody>,
) -> Result<HttpResponse, AppError> {
    let address = client_address(&req, &state.settings.trusted_proxies);
    let signed = sign_in(&state, &body.email, &body.password, &address).await?;
    Ok(HttpResponse::Ok().json(token_view(signed)))
}

async fn logout(state: web::Data<AppState>, caller: ApiCaller) -> Result<HttpResponse, AppError> {
    sign_out(&state, &caller.0).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActivateBody {
    code: String,
    password: String,
}

fn invalid_code() -> AppError {
    AppError::rule(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_code",
        "this code is not valid: it may be mistyped, already used, replaced by a newer one, or expired",
    )
}

/// Turns a patient's one-time code into their portal login (or a new password for it) and signs in.
pub(crate) async fn activate(
    state: &AppState,
    code: &str,
    password: &str,
    address: &str,
) -> Result<SignedIn, AppError> {
    let password = Password::parse(password)
        .map_err(|e| AppError::Validation(clinic_domain::FieldError::new("password", e.to_string())))?;
    let hash = hash_off_worker(state, password).await?;
    let code_hash = hash_code(code);
    let address = address.to_owned();
    let st = state.clone();
    blocking(move || {
        let now = st.now();
        let mut conn = st.conn()?;
        let address_key = format!("activate-address:{address}");
        check_throttle(&mut conn, &[&address_key], now)?;
        let outcome = conn.write_transaction(|conn| {
            let invitation = invitations::find_by_hash(conn, &code_hash)?
                .filter(|i| i.purpose == invitations::PURPOSE_PATIENT && i.is_usable(now));
            let Some((invitation, patient_id)) = invitation.and_then(|i| i.patient_id.map(|p| (i, p))) else {
                return Ok(None);
            };
            let patient = patients::find(conn, patient_id)?;
            let Some(email) = patient.email.clone() else {
                return Ok(None);
            };
            if !invitations::mark_used(conn, invitation.id, now)? {
                return Ok(None);
            }
            let user = match users::find_by_patient(conn, patient_id)? {
                Some(existing) => {
                    users::set_password_hash(conn, existing.id, &hash)?;
                    login_sessions::revoke_all_of_user(conn, existing.id, None, now)?;
                    users::find(conn, existing.id)?
                }
                None => users::insert(
                    conn,
                    &users::NewUser {
                        email: &email,
                        display_name: &patient.full_name(),
                        role: Role::Patient.as_str(),
                        password_hash: &hash,
                        patient_id: Some(patient_id.0),
                        created_at: now,
                    },
                )?,
            };
            clinic_db::audit::insert(
                conn,
                &event(now, "auth.activate", "success")
                    .actor(Some(user.id))
                    .patient(Some(patient_id))
                    .address(&address)
                    .build(),
            )?;
            Ok::<_, DbError>(Some(user))
        })?;
        match outcome {
            Some(user) => {
                throttle::reset(&mut conn, &address_key)?;
                open_session(&st, &mut conn, user, now)
            }
            None => {
                throttle::record_failure(
                    &mut conn,
                    &address_key,
                    now,
                    chrono::Duration::hours(24),
                    clinic_auth::backoff_after,
                )?;
                st.audit
                    .record(event(now, "auth.activate", "failure").address(&address));
                Err(invalid_code())
            }
        }
    })
    .await
}

async fn activate_route(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<ActivateBody>,
) -> Result<HttpResponse, AppError> {
    let address = client_address(&req, &state.settings.trusted_proxies);
    let signed = activate(&state, &body.code, &body.password, &address).await?;
    Ok(HttpResponse::Ok().json(token_view(signed)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PasswordBody {
    current_password: String,
    new_password: String,
}

/// Changes the caller's password after checking the current one (a wrong one counts as a failed
/// sign-in); the account's other sessions end. Shared by the API and the password page.
pub(crate) async fn change_password(
    state: &AppState,
    caller: &Caller,
    current: &str,
    new: &str,
) -> Result<(), AppError> {
    let new = Password::parse(new)
        .map_err(|e| AppError::Validation(clinic_domain::FieldError::new("new_password", e.to_string())))?;
    let (current, stored) = (current.to_owned(), caller.user.password_hash.clone());
    let matches = state.hasher.run(move || verify_password(&current, &stored)).await?;
    if !matches {
        let (st, c) = (state.clone(), caller.clone());
        blocking(move || {
            let account = format!("account:{}", c.user.email);
            record_failure(&mut *st.conn()?, Some(&account), "login", &c.address, st.now())?;
            st.audit.record(c.event(&st, "auth.password_change", "failure"));
            Ok(())
        })
        .await?;
        return Err(AppError::rule(
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
            "the current password is not right",
        ));
    }
    let hash = hash_off_worker(state, new).await?;
    let (st, c) = (state.clone(), caller.clone());
    blocking(move || {
        let now = st.now();
        let mut conn = st.conn()?;
        conn.write_transaction(|conn| {
            users::set_password_hash(conn, c.user.id, &hash)?;
            login_sessions::revoke_all_of_user(conn, c.user.id, Some(&c.session_id), now)?;
            clinic_db::audit::insert(conn, &c.event(&st, "auth.password_change", "success").build())
        })?;
        Ok(())
    })
    .await
}

async fn change_password_route(
    state: web::Data<AppState>,
    caller: ApiCaller,
    body: web::Json<PasswordBody>,
) -> Result<HttpResponse, AppError> {
    change_password(&state, &caller.0, &body.current_password, &body.new_password).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Serialize)]
struct MeView {
    id: i64,
    role: Role,
    display_name: String,
    email: String,
    patient_id: Option<i64>,
}

async fn me(caller: ApiCaller) -> HttpResponse {
    let u = caller.0.user;
    HttpResponse::Ok().json(MeView {
        id: u.id.0,
        role: u.role,
        display_name: u.display_name,
        email: u.email,
        patient_id: u.patient_id.map(|p| p.0),
    })
}
