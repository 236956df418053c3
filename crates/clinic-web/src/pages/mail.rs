//! Pages around e-mail: forgetting a password and choosing a new one from the e-mailed link, the
//! one-click unsubscribe link of aftercare e-mails, the patient's reminder setting, and a provider's
//! retry of a failed message.

use crate::address::client_address;
use crate::auth::{PageCaller, confirm_reset, request_reset};
use crate::csrf;
use crate::html::{PageError, render, see_other};
use crate::routes::RouteSpec;
use crate::run::db;
use crate::state::AppState;
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use clinic_app::accounts::RESET_MINUTES;
use clinic_app::clinic::Clinic;
use clinic_app::{Error, messages, patients};
use clinic_domain::PatientId;
use clinic_domain::user::Role;
use serde::Deserialize;
use std::sync::Arc;

pub fn routes(v: &mut Vec<RouteSpec>) {
    v.push(RouteSpec::new(Method::GET, "/forgot", || web::get().to(forgot_form)));
    v.push(RouteSpec::new(Method::POST, "/forgot", || {
        web::post().to(forgot_submit)
    }));
    v.push(RouteSpec::new(Method::GET, "/reset", || web::get().to(reset_form)));
    v.push(RouteSpec::new(Method::POST, "/reset", || web::post().to(reset_submit)));
    v.push(RouteSpec::new(Method::GET, "/unsubscribe/{token}", || {
        web::get().to(unsubscribe_form)
    }));
    v.push(RouteSpec::new(Method::POST, "/unsubscribe/{token}", || {
        web::post().to(unsubscribe)
    }));
    v.push(RouteSpec::new(Method::GET, "/portal/reminders", || {
        web::get().to(reminders_form)
    }));
    v.push(RouteSpec::new(Method::POST, "/portal/reminders", || {
        web::post().to(reminders_submit)
    }));
    v.push(RouteSpec::new(Method::POST, "/messages/{id}/retry", || {
        web::post().to(retry)
    }));
}

#[derive(Template)]
#[template(path = "forgot.html")]
struct ForgotPage {
    clinic: Arc<Clinic>,
    csrf: String,
    email: String,
    sent: bool,
    minutes: i64,
}

/// An anonymous form's page, with the CSRF nonce cookie set when the browser has none.
fn anonymous<T: Template>(
    state: &AppState,
    req: &HttpRequest,
    status: StatusCode,
    page: impl FnOnce(String) -> T,
) -> Result<HttpResponse, PageError> {
    let (token, cookie) = csrf::anonymous_token(state, req)?;
    let mut resp = render(status, &page(token));
    if let Some(c) = cookie {
        resp.add_cookie(&c)
            .map_err(|e| Error::internal("setting a cookie", e))?;
    }
    Ok(resp)
}

async fn forgot_form(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, PageError> {
    let clinic = state.clinic();
    anonymous(&state, &req, StatusCode::OK, |csrf| ForgotPage {
        clinic,
        csrf,
        email: String::new(),
        sent: false,
        minutes: RESET_MINUTES,
    })
}

#[derive(Deserialize)]
struct ForgotForm {
    csrf: String,
    email: String,
}

async fn forgot_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<ForgotForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    csrf::check_anonymous(&state, &req, &form.csrf)?;
    let address = client_address(&req, &state.settings.trusted_proxies);
    request_reset(&state, &form.email, &address).await?;
    let clinic = state.clinic();
    anonymous(&state, &req, StatusCode::OK, |csrf| ForgotPage {
        clinic,
        csrf,
        email: form.email,
        sent: true,
        minutes: RESET_MINUTES,
    })
}

#[derive(Template)]
#[template(path = "reset.html")]
struct ResetPage {
    clinic: Arc<Clinic>,
    csrf: String,
    token: String,
    error: Option<String>,
}

#[derive(Deserialize)]
struct TokenQuery {
    token: Option<String>,
}

async fn reset_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<TokenQuery>,
) -> Result<HttpResponse, PageError> {
    let (clinic, token) = (state.clinic(), query.into_inner().token.unwrap_or_default());
    anonymous(&state, &req, StatusCode::OK, |csrf| ResetPage {
        clinic,
        csrf,
        token,
        error: None,
    })
}

#[derive(Deserialize)]
struct ResetForm {
    csrf: String,
    token: String,
    new_password: String,
}

async fn reset_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<ResetForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    csrf::check_anonymous(&state, &req, &form.csrf)?;
    let address = client_address(&req, &state.settings.trusted_proxies);
    match confirm_reset(&state, &form.token, &form.new_password, &address).await {
        Ok(()) => Ok(render(
            StatusCode::OK,
            &crate::html::MessagePage::new(
                state.clinic(),
                "Your password is changed",
                "Sign in with your new password. Every device that was signed in has been signed out.",
                Some(("/login", "Sign in")),
            ),
        )),
        Err(e @ (Error::Validation(_) | Error::Refused { .. } | Error::Throttled { .. })) => {
            let status = crate::error::status_of(e.code());
            let error = Some(match &e {
                Error::Validation(f) => f.message.clone(),
                other => other.public_message(),
            });
            let clinic = state.clinic();
            anonymous(&state, &req, status, |csrf| ResetPage {
                clinic,
                csrf,
                token: form.token,
                error,
            })
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "unsubscribe.html")]
struct UnsubscribePage {
    clinic: Arc<Clinic>,
    token: String,
    done: bool,
}

fn patient_of(state: &AppState, token: &str) -> Result<PatientId, Error> {
    state.unsubscribe.verify_id(token).map(PatientId).ok_or(Error::NotFound)
}

/// The link in an aftercare e-mail: a page with one button (a link followed by a mail scanner changes
/// nothing).
async fn unsubscribe_form(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse, PageError> {
    let token = path.into_inner();
    patient_of(&state, &token)?;
    let page = UnsubscribePage {
        clinic: state.clinic(),
        token,
        done: false,
    };
    Ok(render(StatusCode::OK, &page))
}

/// The button, or a mail program's one-click POST (RFC 8058): the signed link is the authority, so no
/// session or form token is asked for.
async fn unsubscribe(state: web::Data<AppState>, path: web::Path<String>) -> Result<HttpResponse, PageError> {
    let token = path.into_inner();
    let patient = patient_of(&state, &token)?;
    db(&state, move |conn, env| {
        messages::set_reminders(conn, env, patient, false, None)
    })
    .await?;
    let page = UnsubscribePage {
        clinic: state.clinic(),
        token,
        done: true,
    };
    Ok(render(StatusCode::OK, &page))
}

#[derive(Template)]
#[template(path = "reminders.html")]
struct RemindersPage {
    clinic: Arc<Clinic>,
    csrf: String,
    wanted: bool,
    has_email: bool,
    saved: bool,
}

async fn reminders_page(state: &AppState, actor: &clinic_app::Actor, saved: bool) -> Result<HttpResponse, PageError> {
    actor.require(&state.env(), &[Role::Patient])?;
    let patient = actor.own_patient()?;
    let p = db(state, move |conn, _| patients::find(conn, patient)).await?;
    let page = RemindersPage {
        clinic: state.clinic(),
        csrf: csrf::session_token(state, &actor.session_id),
        wanted: !p.reminders_opt_out,
        has_email: p.email.is_some(),
        saved,
    };
    Ok(render(StatusCode::OK, &page))
}

async fn reminders_form(state: web::Data<AppState>, caller: PageCaller) -> Result<HttpResponse, PageError> {
    reminders_page(&state, &caller.0, false).await
}

#[derive(Deserialize)]
struct RemindersForm {
    csrf: String,
    wanted: Option<String>,
}

async fn reminders_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: PageCaller,
    form: web::Form<RemindersForm>,
) -> Result<HttpResponse, PageError> {
    let actor = caller.0;
    csrf::check_form(&state, &req, &actor, &[Role::Patient], &form.csrf)?;
    let patient = actor.own_patient()?;
    let wanted = form.wanted.is_some();
    let a = actor.clone();
    db(&state, move |conn, env| {
        messages::set_reminders(conn, env, patient, wanted, Some(&a))
    })
    .await?;
    reminders_page(&state, &actor, true).await
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

/// A provider sends a failed message again from the patient's page.
async fn retry(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: PageCaller,
    path: web::Path<i64>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, PageError> {
    let actor = caller.0;
    csrf::check_form(&state, &req, &actor, &[Role::Provider], &form.csrf)?;
    let id = path.into_inner();
    let m = db(&state, move |conn, env| messages::retry(conn, env, &actor, id)).await?;
    Ok(see_other(&format!(
        "/patients/{}#messages",
        m.patient_id.map(|p| p.0).unwrap_or_default()
    )))
}
