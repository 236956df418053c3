//! `/login`, `/logout`, `/activate` and the signed-in start page `/`.

use crate::address::client_address;
use crate::auth::{PageCaller, activate, session_cookie_name, sign_in, sign_in_second_factor, sign_out};
use crate::csrf;
use crate::html::{PageError, render, see_other};
use crate::routes::RouteSpec;
use crate::state::AppState;
use actix_web::cookie::{Cookie, SameSite, time};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use clinic_app::Error;
use clinic_app::accounts::{SESSION_ABSOLUTE_HOURS, SignInOutcome, SignedIn};
use clinic_app::clinic::Clinic;
use clinic_domain::user::Role;
use serde::Deserialize;
use std::sync::Arc;

pub fn routes(v: &mut Vec<RouteSpec>) {
    v.push(RouteSpec::new(Method::GET, "/", || web::get().to(home)));
    v.push(RouteSpec::new(Method::GET, "/login", || web::get().to(login_form)));
    v.push(RouteSpec::new(Method::POST, "/login", || web::post().to(login_submit)));
    v.push(RouteSpec::new(Method::POST, "/login/mfa", || {
        web::post().to(login_code_submit)
    }));
    v.push(RouteSpec::new(Method::GET, "/logout", || web::get().to(logout_form)));
    v.push(RouteSpec::new(Method::POST, "/logout", || {
        web::post().to(logout_submit)
    }));
    v.push(RouteSpec::new(Method::GET, "/activate", || {
        web::get().to(activate_form)
    }));
    v.push(RouteSpec::new(Method::POST, "/activate", || {
        web::post().to(activate_submit)
    }));
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    clinic: Arc<Clinic>,
    csrf: String,
    email: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "login_mfa.html")]
struct LoginCodePage {
    clinic: Arc<Clinic>,
    csrf: String,
    mfa_token: String,
    error: Option<String>,
}

#[derive(Deserialize)]
struct LoginCodeForm {
    csrf: String,
    mfa_token: String,
    code: String,
}

#[derive(Template)]
#[template(path = "activate.html")]
struct ActivatePage {
    clinic: Arc<Clinic>,
    csrf: String,
    code: String,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    clinic: Arc<Clinic>,
    name: String,
    role: Role,
    csrf: String,
}

#[derive(Template)]
#[template(path = "logout.html")]
struct LogoutPage {
    clinic: Arc<Clinic>,
    csrf: String,
}

/// An anonymous form page, with the CSRF nonce cookie set when the browser has none.
fn anonymous_form<T: Template>(
    state: &AppState,
    req: &HttpRequest,
    status: StatusCode,
    page: impl FnOnce(String, Arc<Clinic>) -> T,
) -> Result<HttpResponse, PageError> {
    let (token, cookie) = csrf::anonymous_token(state, req)?;
    let mut resp = render(status, &page(token, state.clinic()));
    if let Some(c) = cookie {
        resp.add_cookie(&c)
            .map_err(|e| Error::internal("setting a cookie", e))?;
    }
    Ok(resp)
}

fn session_cookie(state: &AppState, signed: &SignedIn) -> Cookie<'static> {
    let mut cookie = session_cookie_of(state, signed.token.clone());
    cookie.set_max_age(time::Duration::hours(SESSION_ABSOLUTE_HOURS));
    cookie
}

/// The session cookie's name and attributes; its removal must carry the same (a `__Host-` cookie is
/// only replaced by one that is `Secure` with `Path=/`).
fn session_cookie_of(state: &AppState, value: String) -> Cookie<'static> {
    Cookie::build(session_cookie_name(state), value)
        .path("/")
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.settings.secure_cookies)
        .finish()
}

fn signed_in_redirect(state: &AppState, signed: &SignedIn) -> Result<HttpResponse, PageError> {
    let mut resp = see_other(if signed.enrolment_only { "/mfa" } else { "/" });
    resp.add_cookie(&session_cookie(state, signed))
        .map_err(|e| Error::internal("setting a cookie", e))?;
    Ok(resp)
}

/// The start page sends each role to its own place.
async fn home(state: web::Data<AppState>, caller: PageCaller) -> HttpResponse {
    let c = caller.0;
    match c.user.role {
        Role::Provider => return see_other("/patients"),
        Role::Patient => return see_other("/portal"),
        Role::Manager => {}
    }
    let csrf = csrf::session_token(&state, &c.session_id);
    render(
        StatusCode::OK,
        &HomePage {
            clinic: state.clinic(),
            name: c.user.display_name,
            role: c.user.role,
            csrf,
        },
    )
}

async fn login_form(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, PageError> {
    anonymous_form(&state, &req, StatusCode::OK, |csrf, clinic| LoginPage {
        clinic,
        csrf,
        email: String::new(),
        error: None,
    })
}

#[derive(Deserialize)]
struct LoginForm {
    csrf: String,
    email: String,
    password: String,
}

async fn login_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<LoginForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    csrf::check_anonymous(&state, &req, &form.csrf)?;
    let address = client_address(&req, &state.settings.trusted_proxies);
    match sign_in(&state, &form.email, &form.password, &address).await {
        Ok(SignInOutcome::Signed(signed)) => signed_in_redirect(&state, &signed),
        Ok(SignInOutcome::SecondFactor { mfa_token, .. }) => {
            anonymous_form(&state, &req, StatusCode::OK, move |csrf, clinic| LoginCodePage {
                clinic,
                csrf,
                mfa_token,
                error: None,
            })
        }
        Err(e @ (Error::InvalidCredentials | Error::Throttled { .. })) => {
            let status = crate::error::status_of(e.code());
            let error = Some(e.public_message());
            let email = form.email;
            anonymous_form(&state, &req, status, move |csrf, clinic| LoginPage {
                clinic,
                csrf,
                email,
                error,
            })
        }
        Err(e) => Err(e.into()),
    }
}

async fn login_code_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<LoginCodeForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    csrf::check_anonymous(&state, &req, &form.csrf)?;
    let address = client_address(&req, &state.settings.trusted_proxies);
    match sign_in_second_factor(&state, &form.mfa_token, &form.code, &address).await {
        Ok(signed) => signed_in_redirect(&state, &signed),
        Err(e @ (Error::InvalidSecondFactor | Error::Throttled { .. })) => {
            let status = crate::error::status_of_error(&e);
            let error = Some(e.public_message());
            let mfa_token = form.mfa_token;
            anonymous_form(&state, &req, status, move |csrf, clinic| LoginCodePage {
                clinic,
                csrf,
                mfa_token,
                error,
            })
        }
        Err(e) => Err(e.into()),
    }
}

async fn logout_form(state: web::Data<AppState>, caller: PageCaller) -> HttpResponse {
    let csrf = csrf::session_token(&state, &caller.0.session_id);
    render(
        StatusCode::OK,
        &LogoutPage {
            clinic: state.clinic(),
            csrf,
        },
    )
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn logout_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: PageCaller,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, PageError> {
    let caller = caller.0;
    csrf::check_session(&state, &req, &caller.session_id, &form.csrf)?;
    sign_out(&state, &caller).await?;
    let mut resp = see_other("/login");
    let mut gone = session_cookie_of(&state, String::new());
    gone.make_removal();
    resp.add_cookie(&gone)
        .map_err(|e| Error::internal("removing a cookie", e))?;
    Ok(resp)
}

#[derive(Deserialize)]
struct CodeQuery {
    code: Option<String>,
}

async fn activate_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<CodeQuery>,
) -> Result<HttpResponse, PageError> {
    let code = query.into_inner().code.unwrap_or_default();
    anonymous_form(&state, &req, StatusCode::OK, |csrf, clinic| ActivatePage {
        clinic,
        csrf,
        code,
        error: None,
    })
}

#[derive(Deserialize)]
struct ActivateForm {
    csrf: String,
    code: String,
    password: String,
}

async fn activate_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<ActivateForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    csrf::check_anonymous(&state, &req, &form.csrf)?;
    let address = client_address(&req, &state.settings.trusted_proxies);
    match activate(&state, &form.code, &form.password, &address).await {
        Ok(signed) => signed_in_redirect(&state, &signed),
        Err(e @ (Error::Validation(_) | Error::Refused { .. } | Error::Throttled { .. })) => {
            let status = crate::error::status_of(e.code());
            let error = Some(match &e {
                Error::Validation(f) => f.message.clone(),
                other => other.public_message(),
            });
            let code = form.code;
            anonymous_form(&state, &req, status, move |csrf, clinic| ActivatePage {
                clinic,
                csrf,
                code,
                error,
            })
        }
        Err(e) => Err(e.into()),
    }
}
