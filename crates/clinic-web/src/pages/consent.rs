//! `/portal/consent`: the patient reads the clinic's consent form and signs it for their open course
//! (typed name and agreement), on a phone as well as a desk; `/consent-forms`: a manager publishes the
//! clinic's wording.

use crate::auth::PageCaller;
use crate::csrf;
use crate::html::{PageError, render, see_other, shown_on_form};
use crate::routes::RouteSpec;
use crate::run::db;
use crate::state::AppState;
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use clinic_app::Actor;
use clinic_app::clinic::Clinic;
use clinic_app::consent::{self, Signature};
use clinic_domain::SeriesId;
use clinic_domain::consent::ConsentText;
use clinic_domain::user::Role;
use serde::Deserialize;
use std::sync::Arc;

pub fn routes(v: &mut Vec<RouteSpec>) {
    v.push(RouteSpec::new(Method::GET, "/portal/consent", || web::get().to(page)));
    v.push(RouteSpec::new(Method::POST, "/portal/consent", || web::post().to(sign)));
    v.push(RouteSpec::new(Method::GET, "/consent-forms", || {
        web::get().to(forms_page)
    }));
    v.push(RouteSpec::new(Method::POST, "/consent-forms", || {
        web::post().to(publish)
    }));
}

#[derive(Template)]
#[template(path = "consent_forms.html")]
struct FormsPage {
    clinic: Arc<Clinic>,
    csrf: String,
    forms: Vec<FormText>,
    title: String,
    body: String,
    error: Option<String>,
}

#[derive(Deserialize)]
struct PublishForm {
    csrf: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
}

fn text_of(f: clinic_db::consent::ConsentForm) -> FormText {
    FormText {
        version: f.version,
        title: f.title,
        body: f.body,
        published_on: f.published_at.date().to_string(),
    }
}

async fn show_forms(
    state: &AppState,
    actor: Actor,
    status: StatusCode,
    typed: PublishForm,
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    actor.require(&state.env(), &[Role::Manager])?;
    let csrf = csrf::session_token(state, &actor.session_id);
    let forms = db(state, move |conn, env| consent::forms(conn, env, &actor)).await?;
    let page = FormsPage {
        clinic: state.clinic(),
        csrf,
        forms: forms.into_iter().map(text_of).collect(),
        title: typed.title,
        body: typed.body,
        error,
    };
    Ok(render(status, &page))
}

async fn forms_page(state: web::Data<AppState>, caller: PageCaller) -> Result<HttpResponse, PageError> {
    let blank = PublishForm {
        csrf: String::new(),
        title: String::new(),
        body: String::new(),
    };
    show_forms(&state, caller.0, StatusCode::OK, blank, None).await
}

async fn publish(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: PageCaller,
    form: web::Form<PublishForm>,
) -> Result<HttpResponse, PageError> {
    let actor = caller.0;
    csrf::check_form(&state, &req, &actor, &[Role::Manager], &form.csrf)?;
    let typed = form.into_inner();
    let published = match ConsentText::parse(&typed.title, &typed.body) {
        Ok(text) => {
            let a = actor.clone();
            db(&state, move |conn, env| consent::publish(conn, env, &a, &text)).await
        }
        Err(e) => Err(e.into()),
    };
    match published {
        Ok(_) => Ok(see_other("/consent-forms")),
        Err(e) if shown_on_form(&e) => {
            let status = crate::error::status_of_error(&e);
            let message = crate::html::field_message(&e);
            show_forms(&state, actor, status, typed, Some(message)).await
        }
        Err(e) => Err(e.into()),
    }
}

struct FormText {
    version: i64,
    title: String,
    body: String,
    published_on: String,
}

#[derive(Template)]
#[template(path = "consent.html")]
struct ConsentPage {
    clinic: Arc<Clinic>,
    csrf: String,
    form: Option<FormText>,
    series_id: Option<i64>,
    signed: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
struct SignForm {
    csrf: String,
    series_id: i64,
    form_version: i64,
    #[serde(default)]
    typed_name: String,
    #[serde(default)]
    agree: Option<String>,
}

async fn show(
    state: &AppState,
    actor: Actor,
    status: StatusCode,
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let csrf = csrf::session_token(state, &actor.session_id);
    let mine = db(state, move |conn, env| consent::mine(conn, env, &actor)).await?;
    let page = ConsentPage {
        clinic: state.clinic(),
        csrf,
        form: mine.form.map(text_of),
        series_id: mine.series.map(|s| s.0),
        signed: mine.signed.map(|c| {
            format!(
                "You signed version {} on {} UTC as \u{201c}{}\u{201d}.",
                c.form_version,
                c.signed_at.format("%Y-%m-%d %H:%M"),
                c.typed_name
            )
        }),
        error,
    };
    Ok(render(status, &page))
}

async fn page(state: web::Data<AppState>, caller: PageCaller) -> Result<HttpResponse, PageError> {
    show(&state, caller.0, StatusCode::OK, None).await
}

async fn sign(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: PageCaller,
    form: web::Form<SignForm>,
) -> Result<HttpResponse, PageError> {
    let actor = caller.0;
    csrf::check_session(&state, &req, &actor.session_id, &form.csrf)?;
    let f = form.into_inner();
    let a = actor.clone();
    let signed = db(&state, move |conn, env| {
        let signature = Signature {
            series: SeriesId(f.series_id),
            form_version: f.form_version,
            typed_name: &f.typed_name,
            agree: f.agree.is_some(),
        };
        consent::sign(conn, env, &a, &signature)
    })
    .await;
    match signed {
        Ok(_) => Ok(see_other("/portal/consent")),
        Err(e) if shown_on_form(&e) => {
            let status = crate::error::status_of_error(&e);
            show(&state, actor, status, Some(crate::html::field_message(&e))).await
        }
        Err(e) => Err(e.into()),
    }
}
