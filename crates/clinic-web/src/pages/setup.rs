//! `/setup`: the one-time link printed on first start creates the first manager and names the clinic
//! (its name and time zone). Once the clinic has a manager the page only says so and links to sign in:
//! no form, and nothing is hashed.

use crate::address::client_address;
use crate::auth::hash_off_worker;
use crate::csrf;
use crate::html::{MessagePage, PageError, render};
use crate::routes::RouteSpec;
use crate::run::db;
use crate::state::AppState;
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use clinic_app::Error;
use clinic_app::clinic::Clinic;
use clinic_app::setup;
use clinic_app::staff::NewStaff;
use clinic_auth::Password;
use clinic_domain::clinic::{ClinicSettings, time_zone};
use clinic_domain::user::{Email, PersonName, Role};
use serde::Deserialize;
use std::sync::Arc;

pub fn routes(v: &mut Vec<RouteSpec>) {
    v.push(RouteSpec::new(Method::GET, "/setup", || web::get().to(setup_form)));
    v.push(RouteSpec::new(Method::POST, "/setup", || web::post().to(setup_submit)));
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    clinic: Arc<Clinic>,
    csrf: String,
    form: SetupForm,
    errors: Vec<String>,
}

#[derive(Deserialize)]
struct CodeQuery {
    code: Option<String>,
}

/// The form; the clinic's name and time zone come pre-filled, and left out they keep those values.
#[derive(Deserialize, Default)]
#[serde(default)]
struct SetupForm {
    csrf: String,
    code: String,
    clinic_name: String,
    time_zone: String,
    display_name: String,
    email: String,
    password: String,
}

fn set_up_already(state: &AppState) -> HttpResponse {
    let page = MessagePage::new(
        state.clinic(),
        "The clinic is set up",
        "This clinic already has a manager. Sign in with your e-mail address and password.",
        Some(("/login", "Sign in")),
    );
    render(StatusCode::OK, &page)
}

async fn is_open(state: &AppState) -> Result<bool, Error> {
    db(state, |conn, _| setup::is_open(conn)).await
}

async fn setup_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<CodeQuery>,
) -> Result<HttpResponse, PageError> {
    if !is_open(&state).await? {
        return Ok(set_up_already(&state));
    }
    let clinic = state.clinic();
    let blank = SetupForm {
        code: query.into_inner().code.unwrap_or_default(),
        clinic_name: clinic.name.clone(),
        time_zone: clinic.time_zone.name().to_owned(),
        ..SetupForm::default()
    };
    form_page(&state, &req, StatusCode::OK, blank, vec![])
}

async fn setup_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<SetupForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    csrf::check_anonymous(&state, &req, &form.csrf)?;
    if !is_open(&state).await? {
        return Ok(set_up_already(&state));
    }
    let mut errors = Vec::new();
    let current = state.clinic();
    let or_current = |typed: &str, current: &str| {
        if typed.trim().is_empty() {
            current.to_owned()
        } else {
            typed.to_owned()
        }
    };
    let clinic_name = ClinicSettings::name(&or_current(&form.clinic_name, &current.name))
        .map_err(|e| errors.push(format!("The clinic's name {}", e.message)))
        .ok();
    let tz = time_zone(&or_current(&form.time_zone, current.time_zone.name()))
        .map_err(|e| errors.push(format!("Time zone: {}", e.message)))
        .ok();
    let name = PersonName::parse("display_name", &form.display_name)
        .map_err(|e| errors.push(format!("Your name {}", e.message)))
        .ok();
    let email = Email::parse("email", &form.email)
        .map_err(|e| errors.push(format!("E-mail: {}", e.message)))
        .ok();
    let password = Password::parse(&form.password)
        .map_err(|e| errors.push(capitalise(&e.to_string())))
        .ok();
    let (Some(clinic_name), Some(tz), Some(name), Some(email), Some(password)) =
        (clinic_name, tz, name, email, password)
    else {
        return form_page(&state, &req, StatusCode::UNPROCESSABLE_ENTITY, form, errors);
    };
    // The code is checked before any hashing: a wrong one costs nothing.
    let (code, address) = (form.code.clone(), client_address(&req, &state.settings.trusted_proxies));
    let usable = db(&state, move |conn, env| {
        setup::code_is_usable(conn, env, &code, &address)
    })
    .await?;
    if let Err(refusal) = usable {
        let errors = vec![refusal.message().to_owned()];
        return form_page(&state, &req, StatusCode::UNPROCESSABLE_ENTITY, form, errors);
    }
    let hash = hash_off_worker(&state, password).await?;
    let new = NewStaff {
        email,
        name,
        role: Role::Manager,
    };
    let code = form.code.clone();
    let outcome = db(&state, move |conn, env| {
        setup::first_manager(conn, env, &code, &new, &hash, &clinic_name, tz)
    })
    .await?;
    match outcome {
        Ok(clinic) => {
            state.clinic.set(clinic);
            let page = MessagePage::new(
                state.clinic(),
                "The clinic is set up",
                "The manager account is ready. Sign in with its e-mail address and password.",
                Some(("/login", "Sign in")),
            );
            Ok(render(StatusCode::CREATED, &page))
        }
        Err(refusal) => form_page(
            &state,
            &req,
            StatusCode::UNPROCESSABLE_ENTITY,
            form,
            vec![refusal.message().to_owned()],
        ),
    }
}

fn form_page(
    state: &AppState,
    req: &HttpRequest,
    status: StatusCode,
    form: SetupForm,
    errors: Vec<String>,
) -> Result<HttpResponse, PageError> {
    let (csrf, cookie) = csrf::anonymous_token(state, req)?;
    let page = SetupPage {
        clinic: state.clinic(),
        csrf,
        form,
        errors,
    };
    let mut resp = render(status, &page);
    if let Some(c) = cookie {
        resp.add_cookie(&c)
            .map_err(|e| Error::internal("setting a cookie", e))?;
    }
    Ok(resp)
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}
