//! The attention queue: check-ins a patient flagged, for the provider to look at and resolve.

use crate::api::{AlertView, alert_filter};
use crate::auth::PageCaller;
use crate::csrf;
use crate::html::{Fields, PageError, field_message, render, see_other, shown_on_form};
use crate::routes::RouteSpec;
use crate::run::db;
use crate::state::AppState;
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use clinic_app::check_ins::{self, AlertFilter};
use clinic_app::clinic::Clinic;
use clinic_app::{Actor, Error};
use clinic_domain::protocol::Effect;
use clinic_domain::user::Role;
use serde::Deserialize;
use std::sync::Arc;

pub fn routes(v: &mut Vec<RouteSpec>) {
    v.push(RouteSpec::new(Method::GET, "/alerts", || web::get().to(list)));
    v.push(RouteSpec::new(Method::POST, "/alerts/{id}/resolve", || {
        web::post().to(resolve)
    }));
}

/// An alert as the queue shows it.
struct Row {
    alert: AlertView,
    effects: String,
}

#[derive(Template)]
#[template(path = "alerts.html")]
struct AlertsPage {
    clinic: Arc<Clinic>,
    manager_nav: bool,
    attention: i64,
    resolved: bool,
    can_resolve: bool,
    csrf: String,
    rows: Vec<Row>,
    notice: Option<String>,
    error: Option<(i64, String)>,
}

#[derive(Deserialize)]
struct Query {
    status: Option<String>,
    resolved: Option<i64>,
}

async fn page(
    state: &AppState,
    actor: &Actor,
    filter: AlertFilter,
    status: StatusCode,
    notice: Option<String>,
    error: Option<(i64, String)>,
) -> Result<HttpResponse, PageError> {
    let a = actor.clone();
    let (rows, attention) = db(state, move |conn, env| {
        Ok((check_ins::alerts(conn, env, &a, filter)?, check_ins::open_count(conn)?))
    })
    .await?;
    let rows = rows
        .iter()
        .map(|r| {
            let alert = AlertView::from(r);
            let effects: Vec<&str> = alert
                .check_in
                .effects
                .iter()
                .filter_map(|e| e.parse::<Effect>().ok())
                .map(Effect::label)
                .collect();
            Row {
                effects: effects.join(", "),
                alert,
            }
        })
        .collect();
    let page = AlertsPage {
        clinic: state.clinic(),
        manager_nav: actor.user.role == Role::Manager,
        attention,
        resolved: filter == AlertFilter::Resolved,
        can_resolve: actor.user.role == Role::Provider,
        csrf: csrf::session_token(state, &actor.session_id),
        rows,
        notice,
        error,
    };
    Ok(render(status, &page))
}

async fn list(state: web::Data<AppState>, caller: PageCaller, q: web::Query<Query>) -> Result<HttpResponse, PageError> {
    let filter = alert_filter(q.status.as_deref()).map_err(Error::from)?;
    let notice = q.resolved.map(|id| format!("Alert {id} resolved."));
    page(&state, &caller.0, filter, StatusCode::OK, notice, None).await
}

async fn resolve(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: PageCaller,
    path: web::Path<i64>,
    form: web::Form<Fields>,
) -> Result<HttpResponse, PageError> {
    let actor = caller.0;
    csrf::check_form(&state, &req, &actor, &[Role::Provider], form.get("csrf"))?;
    let id = path.into_inner();
    let note = form.get("note").to_owned();
    let a = actor.clone();
    match db(&state, move |conn, env| {
        check_ins::resolve(conn, env, &a, id, Some(&note))
    })
    .await
    {
        Ok(_) => Ok(see_other(&format!("/alerts?resolved={id}"))),
        Err(e) if shown_on_form(&e) => {
            let status = crate::error::status_of(e.code());
            page(
                &state,
                &actor,
                AlertFilter::Open,
                status,
                None,
                Some((id, field_message(&e))),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}
