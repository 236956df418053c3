//! `/setup`: the one-time link printed on first start creates the first manager.

use crate::error::PageError;
use crate::pages::{MessagePage, render};
use crate::{AppError, AppState, RouteSpec, blocking, csrf};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use clinic_auth::{Password, hash_code, hash_password};
use clinic_db::{DbError, audit, invitations, users};
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

enum Outcome {
    Created,
    Invalid(Vec<String>),
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
    let code_hash = hash_code(&form.code);
    let st = state.clone();
    let outcome = blocking(move || {
        let hash = hash_password(&password).map_err(|e| AppError::Internal(e.to_string()))?;
        let now = st.clock.now().naive_utc();
        let mut conn = st.conn()?;
        let outcome = conn.write_transaction(|conn| {
            let usable = invitations::find_by_hash(conn, &code_hash)?
                .filter(|i| i.purpose == invitations::PURPOSE_SETUP && i.is_usable(now));
            let Some(invitation) = usable else {
                return Ok(Outcome::Invalid(vec!["This setup code is not valid: it may be mistyped, used or expired. Restart the server for a new one.".into()]));
            };
            if users::count_active_managers(conn)? > 0 {
                return Ok(Outcome::Invalid(vec!["The clinic already has a manager; sign in instead.".into()]));
            }
            if users::find_by_email(conn, email.as_str())?.is_some() {
                return Ok(Outcome::Invalid(vec!["An account with this e-mail address already exists.".into()]));
            }
            invitations::mark_used(conn, invitation.id, now)?;
            let user = users::insert(
                conn,
                &users::NewUser {
                    email: email.as_str(),
                    display_name: name.as_str(),
                    role: Role::Manager.as_str(),
                    password_hash: &hash,
                    patient_id: None,
                    created_at: now,
                },
            )?;
            audit::insert(
                conn,
                &audit::NewAuditEvent {
                    occurred_at: now,
                    actor_id: Some(user.id.0),
                    action: "setup.first_manager".into(),
                    patient_id: None,
                    subject: Some(format!("user:{}", user.id)),
                    outcome: "success".into(),
                    address: None,
                    detail: None,
                },
            )?;
            Ok::<_, DbError>(Outcome::Created)
        })?;
        Ok(outcome)
    })
    .await?;
    match outcome {
        Outcome::Created => {
            let page = MessagePage {
                title: "The clinic is set up".into(),
                message: "The manager account is ready. Sign in with its e-mail address and password.".into(),
                link: Some(("/login".into(), "Sign in".into())),
            };
            Ok(render(StatusCode::CREATED, &page))
        }
        Outcome::Invalid(errors) => form_page(&state, &req, StatusCode::UNPROCESSABLE_ENTITY, form, errors),
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
        resp.add_cookie(&c).map_err(|e| AppError::Internal(e.to_string()))?;
    }
    Ok(resp)
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}
