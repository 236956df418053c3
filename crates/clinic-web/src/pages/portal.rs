//! The patient's portal: today's stage first, the whole timeline, the calendar file, a printout, and
//! changing the password.

use crate::api::timeline::ics_response;
use crate::auth::{PageCaller, change_password};
use crate::csrf;
use crate::html::{MessagePage, PageError, render};
use crate::pages::provider::{TimelinePage, Which, session_list};
use crate::routes::RouteSpec;
use crate::run::read;
use crate::state::AppState;
use crate::views::TimelineView;
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use clinic_app::clinic::Clinic;
use clinic_app::{Actor, Error, ErrorCode, timeline};
use clinic_domain::SessionId;
use clinic_domain::user::Role;
use serde::Deserialize;
use std::sync::Arc;

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
    clinic: Arc<Clinic>,
    t: TimelineView,
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    clinic: Arc<Clinic>,
    csrf: String,
    error: Option<String>,
    done: bool,
}

/// The signed-in patient's timeline, or `None` when no session is recorded yet.
async fn own_timeline(state: &AppState, actor: &Actor, which: Option<i64>) -> Result<Option<TimelineView>, Error> {
    actor.require(&state.env(), &[Role::Patient])?;
    let patient = actor.own_patient()?;
    let a = actor.clone();
    let found = read(state, move |conn, env| {
        timeline::for_patient(conn, env, &a, patient, which.map(SessionId))
    })
    .await;
    match found {
        Ok(t) => Ok(Some(TimelineView::from(t))),
        Err(Error::Refused {
            code: ErrorCode::NoSession,
            ..
        }) => Ok(None),
        Err(e) => Err(e),
    }
}

fn nothing_yet(state: &AppState) -> HttpResponse {
    let page = MessagePage::new(
        state.clinic(),
        "Your aftercare",
        "No session has been recorded for you yet. Your timeline appears here after your procedure.",
        None,
    );
    render(StatusCode::OK, &page)
}

async fn portal(
    state: web::Data<AppState>,
    caller: PageCaller,
    which: web::Query<Which>,
) -> Result<HttpResponse, PageError> {
    let actor = caller.0;
    let Some(t) = own_timeline(&state, &actor, which.session_id).await? else {
        return Ok(nothing_yet(&state));
    };
    let patient = actor.own_patient()?;
    let sessions = session_list(&state, patient).await?;
    let page = TimelinePage {
        clinic: state.clinic(),
        t,
        preview: false,
        name: actor.user.display_name,
        sessions,
        base: "/portal".into(),
        ics_href: "/portal/timeline.ics".into(),
        print_href: "/portal/print".into(),
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
        None => Err(Error::NotFound.into()),
    }
}

async fn print(
    state: web::Data<AppState>,
    caller: PageCaller,
    which: web::Query<Which>,
) -> Result<HttpResponse, PageError> {
    match own_timeline(&state, &caller.0, which.session_id).await? {
        Some(t) => Ok(render(
            StatusCode::OK,
            &PrintPage {
                clinic: state.clinic(),
                t,
            },
        )),
        None => Ok(nothing_yet(&state)),
    }
}

async fn password_form(state: web::Data<AppState>, caller: PageCaller) -> HttpResponse {
    let csrf = csrf::session_token(&state, &caller.0.session_id);
    render(
        StatusCode::OK,
        &PasswordPage {
            clinic: state.clinic(),
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
    let actor = caller.0;
    csrf::check_session(&state, &req, &actor.session_id, &form.csrf)?;
    let csrf = csrf::session_token(&state, &actor.session_id);
    match change_password(&state, &actor, &form.current_password, &form.new_password).await {
        Ok(()) => {}
        Err(e @ (Error::Validation(_) | Error::Refused { .. })) => {
            let error = match &e {
                Error::Validation(f) => f.message.clone(),
                other => other.public_message(),
            };
            return Ok(render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &PasswordPage {
                    clinic: state.clinic(),
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
            clinic: state.clinic(),
            csrf,
            error: None,
            done: true,
        },
    ))
}
