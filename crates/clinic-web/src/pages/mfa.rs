//! `/mfa`: set up, confirm and remove one's own second factor; the QR code is drawn on the server as
//! SVG, so the page works without JavaScript. A session that must enrol first is sent here.

use crate::auth::{PageCaller, remove_second_factor};
use crate::csrf;
use crate::html::{PageError, render, see_other, shown_on_form};
use crate::routes::RouteSpec;
use crate::run::db;
use crate::state::AppState;
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use clinic_app::clinic::Clinic;
use clinic_app::{Actor, Error, mfa};
use serde::Deserialize;
use std::sync::Arc;

pub fn routes(v: &mut Vec<RouteSpec>) {
    v.push(RouteSpec::new(Method::GET, "/mfa", || web::get().to(page)));
    v.push(RouteSpec::new(Method::POST, "/mfa/start", || web::post().to(start)));
    v.push(RouteSpec::new(Method::POST, "/mfa/confirm", || web::post().to(confirm)));
    v.push(RouteSpec::new(Method::POST, "/mfa/remove", || web::post().to(remove)));
}

struct Pending {
    secret: String,
    qr_svg: String,
}

#[derive(Template)]
#[template(path = "mfa.html")]
struct MfaPage {
    clinic: Arc<Clinic>,
    csrf: String,
    required: bool,
    recovery_left: Option<i64>,
    pending: Option<Pending>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "mfa_codes.html")]
struct CodesPage {
    clinic: Arc<Clinic>,
    codes: Vec<String>,
}

#[derive(Deserialize)]
struct CodeForm {
    csrf: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    password: String,
}

fn qr_svg(url: &str) -> Result<String, Error> {
    let code = qrcode::QrCode::new(url.as_bytes()).map_err(|e| Error::internal("drawing the QR code", e))?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build())
}

async fn show(
    state: &AppState,
    actor: Actor,
    status: StatusCode,
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let csrf = csrf::session_token(state, &actor.session_id);
    let required = actor.enrolment_only;
    let st = state.clone();
    let (left, pending) = db(state, move |conn, env| {
        let left = mfa::status(conn, &actor)?;
        let pending = mfa::pending(conn, env, &actor, &st.totp_key)?;
        Ok((left, pending))
    })
    .await?;
    let pending = match pending {
        Some(p) => Some(Pending {
            qr_svg: qr_svg(&p.otpauth_url)?,
            secret: p.secret,
        }),
        None => None,
    };
    let page = MfaPage {
        clinic: state.clinic(),
        csrf,
        required,
        recovery_left: left,
        pending,
        error,
    };
    Ok(render(status, &page))
}

async fn page(state: web::Data<AppState>, caller: PageCaller) -> Result<HttpResponse, PageError> {
    show(&state, caller.0, StatusCode::OK, None).await
}

async fn start(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: PageCaller,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, PageError> {
    let actor = caller.0;
    csrf::check_session(&state, &req, &actor.session_id, &form.csrf)?;
    let st = state.clone();
    let started = db(&state, move |conn, env| mfa::start(conn, env, &actor, &st.totp_key)).await;
    match started {
        Ok(_) => Ok(see_other("/mfa")),
        Err(e) => Err(e.into()),
    }
}

async fn confirm(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: PageCaller,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, PageError> {
    let actor = caller.0;
    csrf::check_session(&state, &req, &actor.session_id, &form.csrf)?;
    let (a, st, code) = (actor.clone(), state.clone(), form.code.clone());
    let confirmed = db(&state, move |conn, env| {
        mfa::confirm(conn, env, &a, &st.totp_key, &code)
    })
    .await;
    match confirmed {
        Ok(codes) => {
            let page = CodesPage {
                clinic: state.clinic(),
                codes: codes.iter().map(|c| c.as_str().to_owned()).collect(),
            };
            Ok(render(StatusCode::OK, &page))
        }
        Err(e) if shown_on_form(&e) => {
            let status = crate::error::status_of_error(&e);
            show(&state, actor, status, Some(e.public_message())).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn remove(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: PageCaller,
    form: web::Form<CodeForm>,
) -> Result<HttpResponse, PageError> {
    let actor = caller.0;
    csrf::check_session(&state, &req, &actor.session_id, &form.csrf)?;
    match remove_second_factor(&state, &actor, &form.password, &form.code).await {
        Ok(()) => Ok(see_other("/mfa")),
        Err(e) if shown_on_form(&e) => {
            let status = crate::error::status_of_error(&e);
            show(&state, actor, status, Some(e.public_message())).await
        }
        Err(e) => Err(e.into()),
    }
}
