//! `/setup`: the one-time link printed on first start creates the first manager.

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
use clinic_app::setup;
use clinic_app::staff::NewStaff;
use clinic_auth::Password;
use clinic_domain::user::{Email, PersonName, Role};
use serde::Deserialize;

pub fn routes(v: &mut Vec<RouteSpec>) {
    v.push(RouteSpec::new(Method::GET, "/setup", || web::get().to(setup_form)));
    v.push(RouteSpec::new(Method::POST, "/setup", || web::post().to(setup_submit)));
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    csrf: String,
    code: String,
    display_name: String,
    email: String,
    errors: Vec<String>,
}

#[derive(Deserialize)]
struct CodeQuery {
    code: Option<String>,
}

async fn setup_form(
    state: web::Data<AppState>,
    req: HttpRequest,
    query: web::Query<CodeQuery>,
) -> Result<HttpResponse, PageError> {
    let code = query.into_inner().code.unwrap_or_default();
    let blank = SetupForm {
        csrf: String::new(),
        code,
        display_name: String::new(),
        email: String::new(),
        password: String::new(),
    };
    form_page(&state, &req, StatusCode::OK, blank, vec![])
}

#[derive(Deserialize)]
struct SetupForm {
    csrf: String,
    code: String,
    display_name: String,
    email: String,
    password: String,
}

async fn setup_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    form: web::Form<SetupForm>,
) -> Result<HttpResponse, PageError> {
    let form = form.into_inner();
    csrf::check_anonymous(&state, &req, &form.csrf)?;
    let mut errors = Vec::new();
    let name = PersonName::parse("display_name", &form.display_name)
        .map_err(|e| errors.push(format!("Your name {}", e.message)))
        .ok();
    let email = Email::parse("email", &form.email)
        .map_err(|e| errors.push(format!("E-mail: {}", e.message)))
        .ok();
    let password = Password::parse(&form.password)
        .map_err(|e| errors.push(capitalise(&e.to_string())))
        .ok();
    let (Some(name), Some(email), Some(password)) = (name, email, password) else {
        return form_page(&state, &req, StatusCode::UNPROCESSABLE_ENTITY, form, errors);
    };
    let new = NewStaff {
        email,
        name,
        role: Role::Manager,
    };
    let hash = hash_off_worker(&state, password).await?;
    let code = form.code.clone();
    let outcome = db(&state, move |conn, env| {
        setup::first_manager(conn, env, &code, &new, &hash)
    })
    .await?;
    match outcome {
        Ok(()) => {
            let page = MessagePage {
                title: "The clinic is set up".into(),
                message: "The manager account is ready. Sign in with its e-mail address and password.".into(),
                link: Some(("/login".into(), "Sign in".into())),
            };
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
        csrf,
        code: form.code,
        display_name: form.display_name,
        email: form.email,
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
