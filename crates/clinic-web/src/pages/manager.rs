//! The manager's pages: staff accounts, the series report with its chart and CSV, the audit log.

use crate::api::AuditQuery;
use crate::api::invite_staff;
use crate::api::reports::{RangeQuery, ReportView, csv_response, report_csv_text};
use crate::auth::PageCaller;
use crate::csrf;
use crate::html::{PageError, render, see_other, shown_on_form};
use crate::routes::RouteSpec;
use crate::run::db;
use crate::state::AppState;
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use clinic_app::clinic::Clinic;
use clinic_app::clinic::SettingsInput;
use clinic_app::{Actor, Error, reports, staff};
use clinic_db::audit::AuditEvent;
use clinic_db::reports::{DateRange, SeriesReport};
use clinic_db::users::User;
use clinic_domain::UserId;
use clinic_domain::clinic::MfaPolicy;
use clinic_domain::series::{MAXIMUM, TYPICAL_MAX, wording};
use clinic_domain::user::Role;
use serde::Deserialize;
use std::sync::Arc;

pub fn routes(v: &mut Vec<RouteSpec>) {
    v.push(RouteSpec::new(Method::GET, "/staff", || web::get().to(staff)));
    v.push(RouteSpec::new(Method::POST, "/staff", || web::post().to(add_staff)));
    v.push(RouteSpec::new(Method::POST, "/staff/{id}/disable", || {
        web::post().to(disable)
    }));
    v.push(RouteSpec::new(Method::POST, "/staff/{id}/enable", || {
        web::post().to(enable)
    }));
    v.push(RouteSpec::new(Method::GET, "/reports/series", || web::get().to(report)));
    v.push(RouteSpec::new(Method::GET, "/reports/series.csv", || {
        web::get().to(report_csv)
    }));
    v.push(RouteSpec::new(Method::GET, "/audit", || web::get().to(audit)));
    v.push(RouteSpec::new(Method::GET, "/clinic", || web::get().to(clinic_form)));
    v.push(RouteSpec::new(Method::POST, "/clinic", || {
        web::post().to(clinic_submit)
    }));
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ClinicForm {
    csrf: String,
    name: String,
    time_zone: String,
    phone: String,
    email: String,
    address: String,
    reminder_hour: String,
    require_mfa_for: String,
    patients_see_photos: Option<String>,
}

impl ClinicForm {
    fn of(c: &Clinic) -> Self {
        Self {
            csrf: String::new(),
            name: c.name.clone(),
            time_zone: c.time_zone.name().to_owned(),
            phone: c.phone.clone().unwrap_or_default(),
            email: c.email.clone().unwrap_or_default(),
            address: c.address.clone().unwrap_or_default(),
            reminder_hour: c.reminder_hour.get().to_string(),
            require_mfa_for: c.require_mfa_for.as_str().to_owned(),
            patients_see_photos: c.patients_see_photos.then(|| "on".to_owned()),
        }
    }

    fn input(&self) -> Result<SettingsInput, Error> {
        let hour = self
            .reminder_hour
            .trim()
            .parse::<i64>()
            .map_err(|_| clinic_domain::FieldError::new("reminder_hour", "must be an hour from 0 to 23"))?;
        Ok(SettingsInput {
            name: self.name.clone(),
            time_zone: self.time_zone.clone(),
            phone: Some(Some(self.phone.clone())),
            email: Some(Some(self.email.clone())),
            address: Some(Some(self.address.clone())),
            reminder_hour: Some(hour),
            require_mfa_for: Some(self.require_mfa_for.clone()),
            patients_see_photos: Some(self.patients_see_photos.is_some()),
        })
    }
}

#[derive(Template)]
#[template(path = "clinic.html")]
struct ClinicPage {
    clinic: Arc<Clinic>,
    csrf: String,
    form: ClinicForm,
    mfa_choices: Vec<(&'static str, &'static str)>,
    saved: bool,
    error: Option<String>,
}

fn clinic_page(
    state: &AppState,
    actor: &Actor,
    status: StatusCode,
    form: ClinicForm,
    saved: bool,
    error: Option<String>,
) -> HttpResponse {
    let page = ClinicPage {
        clinic: state.clinic(),
        csrf: csrf::session_token(state, &actor.session_id),
        form,
        mfa_choices: MfaPolicy::ALL
            .iter()
            .map(|p| {
                let label = match p {
                    MfaPolicy::Managers => "Managers",
                    MfaPolicy::Staff => "All staff (managers and providers)",
                    MfaPolicy::None => "Nobody",
                };
                (p.as_str(), label)
            })
            .collect(),
        saved,
        error,
    };
    render(status, &page)
}

async fn clinic_form(state: web::Data<AppState>, caller: PageCaller) -> Result<HttpResponse, PageError> {
    let actor = caller.0;
    actor.require(&state.env(), &[Role::Manager])?;
    let form = ClinicForm::of(&state.clinic());
    Ok(clinic_page(&state, &actor, StatusCode::OK, form, false, None))
}

async fn clinic_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: PageCaller,
    form: web::Form<ClinicForm>,
) -> Result<HttpResponse, PageError> {
    let actor = caller.0;
    csrf::check_form(&state, &req, &actor, &[Role::Manager], &form.csrf)?;
    let form = form.into_inner();
    let saved = async {
        let input = form.input()?;
        let a = actor.clone();
        db(&state, move |conn, env| {
            clinic_app::clinic::update(conn, env, &a, &input)
        })
        .await
    };
    match saved.await {
        Ok(updated) => {
            state.clinic.set(updated);
            let form = ClinicForm::of(&state.clinic());
            Ok(clinic_page(&state, &actor, StatusCode::OK, form, true, None))
        }
        Err(e) if shown_on_form(&e) => {
            let status = crate::error::status_of(e.code());
            Ok(clinic_page(
                &state,
                &actor,
                status,
                form,
                false,
                Some(crate::html::field_message(&e)),
            ))
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Template)]
#[template(path = "staff.html")]
struct StaffPage {
    clinic: Arc<Clinic>,
    staff: Vec<User>,
    csrf: String,
    notice: Option<String>,
    error: Option<String>,
}

async fn staff_page(
    state: &AppState,
    actor: &Actor,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    let a = actor.clone();
    let staff = db(state, move |conn, env| staff::list(conn, env, &a)).await?;
    let page = StaffPage {
        clinic: state.clinic(),
        staff,
        csrf: csrf::session_token(state, &actor.session_id),
        notice,
        error,
    };
    Ok(render(status, &page))
}

async fn staff(state: web::Data<AppState>, caller: PageCaller) -> Result<HttpResponse, PageError> {
    staff_page(&state, &caller.0, StatusCode::OK, None, None).await
}

#[derive(Deserialize)]
struct NewStaffForm {
    csrf: String,
    display_name: String,
    email: String,
    role: String,
}

async fn add_staff(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: PageCaller,
    form: web::Form<NewStaffForm>,
) -> Result<HttpResponse, PageError> {
    let caller = caller.0;
    csrf::check_form(&state, &req, &caller, &[Role::Manager], &form.csrf)?;
    match invite_staff(&state, &caller, &form.email, &form.display_name, &form.role).await {
        Ok((user, issued)) => {
            let notice = format!(
                "{} is invited. Give them this code, in person or by a channel you trust: {} — or the link {} — \
                 valid until {}. With it they choose their own password.",
                user.email,
                issued.code.as_str(),
                issued.activation_url,
                issued.expires_at.date()
            );
            staff_page(&state, &caller, StatusCode::CREATED, Some(notice), None).await
        }
        Err(e) if shown_on_form(&e) => {
            let status = crate::error::status_of(e.code());
            let message = match &e {
                Error::Validation(f) => f.to_string(),
                other => other.public_message(),
            };
            staff_page(&state, &caller, status, None, Some(message)).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn change_status(
    state: &AppState,
    req: &HttpRequest,
    caller: &Actor,
    id: UserId,
    csrf_value: &str,
    active: bool,
) -> Result<HttpResponse, PageError> {
    csrf::check_form(state, req, caller, &[Role::Manager], csrf_value)?;
    let a = caller.clone();
    match db(state, move |conn, env| staff::set_active(conn, env, &a, id, active)).await {
        Ok(()) => Ok(see_other("/staff")),
        Err(e @ Error::Refused { .. }) => {
            let status = crate::error::status_of(e.code());
            staff_page(state, caller, status, None, Some(e.public_message())).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn disable(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: PageCaller,
    path: web::Path<i64>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, PageError> {
    change_status(&state, &req, &caller.0, UserId(path.into_inner()), &form.csrf, false).await
}

async fn enable(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: PageCaller,
    path: web::Path<i64>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, PageError> {
    change_status(&state, &req, &caller.0, UserId(path.into_inner()), &form.csrf, true).await
}

struct Bar {
    x: u32,
    y: u32,
    w: u32,
    h: u32,
    value: i64,
    label: String,
    fill: &'static str,
}

struct Chart {
    width: u32,
    height: u32,
    bars: Vec<Bar>,
    description: String,
}

/// Bars for series with 1 to the maximum of sessions, scaled to the tallest; beyond-typical bars amber.
fn chart(by_sessions: &[i64]) -> Chart {
    let (width, height, top, bottom) = (520u32, 260u32, 24u32, 28u32);
    let counts: Vec<i64> = (1..=MAXIMUM)
        .map(|n| by_sessions.get(usize::from(n)).copied().unwrap_or(0))
        .collect();
    let max = counts.iter().copied().max().unwrap_or(0).max(1);
    let slot = width / u32::from(MAXIMUM);
    let bars = (1..=MAXIMUM)
        .zip(&counts)
        .map(|(n, &value)| {
            let usable = i64::from(height - top - bottom);
            let h = u32::try_from(value * usable / max).unwrap_or(0);
            Bar {
                x: slot * u32::from(n - 1) + 12,
                y: height - bottom - h,
                w: slot - 24,
                h,
                value,
                label: wording::sessions_count(n),
                fill: if n <= TYPICAL_MAX { "#0b5cad" } else { "#8a4b00" },
            }
        })
        .collect();
    let description = (1..=MAXIMUM)
        .zip(&counts)
        .map(|(n, c)| format!("{c} series with {n}"))
        .collect::<Vec<_>>()
        .join(", ");
    Chart {
        width,
        height,
        bars,
        description: format!("{description} sessions recorded."),
    }
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    clinic: Arc<Clinic>,
    r: ReportView,
    chart: Chart,
    from: String,
    to: String,
    labels: ReportLabels,
}

/// The report's row labels, from `clinic-domain`.
struct ReportLabels {
    within_typical: String,
    beyond_typical: String,
    at_maximum: String,
    refused: String,
    caption: String,
}

impl ReportLabels {
    fn new() -> Self {
        Self {
            within_typical: wording::within_typical(),
            beyond_typical: wording::beyond_typical(),
            at_maximum: wording::at_maximum(),
            refused: wording::refused_attempts(),
            caption: wording::chart_caption(),
        }
    }
}

/// The report for the range asked, for a manager.
async fn load_report(state: &AppState, actor: &Actor, range: DateRange) -> Result<SeriesReport, Error> {
    let a = actor.clone();
    db(state, move |conn, env| reports::series(conn, env, &a, range)).await
}

impl ReportPage {
    fn pct(&self, share: &f64) -> String {
        format!("{:.1}%", share * 100.0)
    }
}

async fn report(
    state: web::Data<AppState>,
    caller: PageCaller,
    q: web::Query<RangeQuery>,
) -> Result<HttpResponse, PageError> {
    let range = q.parse()?;
    let r = load_report(&state, &caller.0, range).await?;
    let page = ReportPage {
        clinic: state.clinic(),
        chart: chart(&r.by_sessions),
        r: ReportView::from(&r),
        from: range.from.map(|d| d.to_string()).unwrap_or_default(),
        to: range.to.map(|d| d.to_string()).unwrap_or_default(),
        labels: ReportLabels::new(),
    };
    Ok(render(StatusCode::OK, &page))
}

async fn report_csv(
    state: web::Data<AppState>,
    caller: PageCaller,
    q: web::Query<RangeQuery>,
) -> Result<HttpResponse, PageError> {
    let range = q.parse()?;
    let r = load_report(&state, &caller.0, range).await?;
    Ok(csv_response(report_csv_text(&r)?))
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    clinic: Arc<Clinic>,
    events: Vec<AuditEvent>,
    q_patient: String,
    q_actor: String,
    q_action: String,
    q_from: String,
    q_to: String,
    next_page: Option<String>,
}

const AUDIT_PAGE: i64 = 50;

async fn audit(
    state: web::Data<AppState>,
    caller: PageCaller,
    q: web::Query<AuditQuery>,
) -> Result<HttpResponse, PageError> {
    let q = q.into_inner();
    let filter = q.filter()?;
    let actor = caller.0;
    let events = db(&state, move |conn, env| {
        reports::audit_log(conn, env, &actor, &filter, AUDIT_PAGE)
    })
    .await?;
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let num = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
    let next_page = (events.len() == usize::try_from(AUDIT_PAGE).unwrap_or(50)).then(|| {
        let last = events.last().map(|e| e.id).unwrap_or_default();
        let pairs = [
            ("patient_id", num(q.patient_id)),
            ("actor_id", num(q.actor_id)),
            ("action", text(&q.action)),
            ("from", text(&q.from)),
            ("to", text(&q.to)),
            ("before", last.to_string()),
        ];
        let query = serde_urlencoded::to_string(pairs.iter().filter(|(_, v)| !v.is_empty()).collect::<Vec<_>>())
            .unwrap_or_default();
        format!("/audit?{query}")
    });
    let page = AuditPage {
        clinic: state.clinic(),
        events,
        q_patient: num(q.patient_id),
        q_actor: num(q.actor_id),
        q_action: text(&q.action),
        q_from: text(&q.from),
        q_to: text(&q.to),
        next_page,
    };
    Ok(render(StatusCode::OK, &page))
}
