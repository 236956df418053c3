//! The patient's portal: today's stage first, the whole timeline, the calendar file, a printout, and
//! changing the password.

use crate::api::change_password;
use crate::api::timeline::{self, ics_response};
use crate::auth::{Caller, PageCaller};
use crate::csrf;
use crate::error::{AppError, PageError};
use crate::pages::provider::{TimelinePage, Which, session_list};
use crate::pages::{MessagePage, render};
use crate::views::TimelineView;
use crate::{AppState, RouteSpec};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use clinic_domain::SessionId;
use clinic_domain::user::Role;
use serde::Deserialize;

pub fn routes(v: &mut Vec<RouteSpec>) {
    v.push(RouteSpec::new(Method::GET, "/portal", || web::get().to(portal)));
    v.push(RouteSpec::new(Method::GET, "/portal/timeline.ics", || {
        web::get().to(calendar)
    }));
    v.push(RouteSpec::new(Method::GET, "/portal/print", || web::get().to(print)));
    v.push(RouteSpec::new(Method::GET, "/portal/password", || {
        web::get().to(password_form)
    }));
    v.push(RouteSpec::new(Method::POST, "/portal/password", || {
        web::post().to(password_submit)
    }));
}

#[derive(Template)]
#[template(path = "print.html")]
struct PrintPage {
    t: TimelineView,
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    csrf: String,
    error: Option<String>,
    done: bool,
}

/// The signed-in patient's timeline, or `None` when no session is recorded yet.
async fn own_timeline(state: &AppState, caller: &Caller, which: Option<i64>) -> Result<Option<TimelineView>, AppError> {
    caller.require(state, &[Role::Patient])?;
    let patient = caller.user.patient_id.ok_or(AppError::Forbidden)?;
    match timeline::load(state, caller, patient, which.map(SessionId)).await {
        Ok(t) => Ok(Some(t)),
        Err(AppError::Rule { code: "no_session", .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

fn nothing_yet() -> HttpResponse {
    let page = MessagePage {
        title: "Your aftercare".into(),
        message: "No session has been recorded for you yet. Your timeline appears here after your procedure.".into(),
        link: None,
    };
    render(StatusCode::OK, &page)
}

async fn portal(
    state: web::Data<AppState>,
    caller: PageCaller,
    which: web::Query<Which>,
) -> Result<HttpResponse, PageError> {
    let caller = caller.0;
    let Some(t) = own_timeline(&state, &caller, which.session_id).await? else {
        return Ok(nothing_yet());
    };
    let patient = caller.user.patient_id.ok_or(AppError::Forbidden)?;
    let sessions = session_list(&state, patient).await?;
    let page = TimelinePage {
        t,
        preview: false,
        name: caller.user.display_name,
        sessions,
        base: "/portal".into(),
    };
    Ok(render(StatusCode::OK, &page))
}

async fn calendar(
    state: web::Data<AppState>,
    caller: PageCaller,
    which: web::Query<Which>,
) -> Result<HttpResponse, PageError> {
    match own_timeline(&state, &caller.0, which.session_id).await? {
        Some(t) => Ok(ics_response(&t, state.clock.now())),
        None => Err(AppError::NotFound.into()),
    }
}

async fn print(
    state: web::Data<AppState>,
    caller: PageCaller,
    which: web::Query<Which>,
) -> Result<HttpResponse, PageError> {
    match own_timeline(&state, &caller.0, which.session_id).await? {
        Some(t) => Ok(render(StatusCode::OK, &PrintPage { t })),
        None => Ok(nothing_yet()),
    }
}

async fn password_form(state: web::Data<AppState>, caller: PageCaller) -> HttpResponse {
    let csrf = csrf::session_token(&state, &caller.0.session_id);
    render(
        StatusCode::OK,
        &PasswordPage {
            csrf,
            error: None,
            done: false,
        },
    )
}

#[derive(Deserialize)]
struct PasswordForm {
    csrf: String,
    current_password: String,
    new_password: String,
}

/// Any signed-in account may change its password here; the account's other sessions end.
async fn password_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: PageCaller,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, PageError> {
    let caller = caller.0;
    csrf::check_session(&state, &req, &caller.session_id, &form.csrf)?;
    let csrf = csrf::session_token(&state, &caller.session_id);
    match change_password(&state, &caller, &form.current_password, &form.new_password).await {
        Ok(()) => {}
        Err(e @ (AppError::Validation(_) | AppError::Rule { .. })) => {
            let error = match &e {
                AppError::Validation(f) => f.message.clone(),
                other => other.public_message(),
            };
            return Ok(render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &PasswordPage {
                    csrf,
                    error: Some(error),
                    done: false,
                },
            ));
        }
        Err(e) => return Err(e.into()),
    }
    Ok(render(
        StatusCode::OK,
        &PasswordPage {
            csrf,
            error: None,
            done: true,
        },
    ))
}
