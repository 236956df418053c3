//! The provider's (and, read-only, the manager's) pages: patients, series, sessions, logins, previews.

use crate::api::patients::{PatientBody, save_patient, search_patients};
use crate::api::series::{OpenBody, RecordBody, complete_series, open_series, record_session};
use crate::api::{invitations, timeline};
use crate::auth::{Caller, PageCaller};
use crate::csrf;
use crate::error::{AppError, PageError};
use crate::pages::{render, see_other};
use crate::views::{PatientView, SeriesView, TimelineView};
use crate::{AppState, RouteSpec, blocking};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use clinic_db::{patients, series, users};
use clinic_domain::series::{Condition, NextSession};

use clinic_domain::user::Role;
use clinic_domain::{PatientId, SeriesId, SessionId};
use serde::Deserialize;

pub fn routes(v: &mut Vec<RouteSpec>) {
    v.push(RouteSpec::new(Method::GET, "/patients", || web::get().to(list)));
    v.push(RouteSpec::new(Method::GET, "/patients/new", || web::get().to(new_form)));
    v.push(RouteSpec::new(Method::POST, "/patients", || web::post().to(create)));
    v.push(RouteSpec::new(Method::GET, "/patients/{id}", || web::get().to(show)));
    v.push(RouteSpec::new(Method::GET, "/patients/{id}/edit", || {
        web::get().to(edit_form)
    }));
    v.push(RouteSpec::new(Method::POST, "/patients/{id}/edit", || {
        web::post().to(edit)
    }));
    v.push(RouteSpec::new(Method::POST, "/patients/{id}/series", || {
        web::post().to(open)
    }));
    v.push(RouteSpec::new(Method::POST, "/patients/{id}/invitation", || {
        web::post().to(invite)
    }));
    v.push(RouteSpec::new(Method::GET, "/patients/{id}/timeline", || {
        web::get().to(preview)
    }));
    v.push(RouteSpec::new(Method::POST, "/series/{id}/sessions", || {
        web::post().to(record)
    }));
    v.push(RouteSpec::new(Method::POST, "/series/{id}/complete", || {
        web::post().to(complete)
    }));
}

#[derive(Template)]
#[template(path = "patients.html")]
struct PatientsPage {
    manager_nav: bool,
    q: String,
    can_edit: bool,
    patients: Vec<PatientView>,
}

#[derive(Template)]
#[template(path = "patient_form.html")]
struct PatientFormPage {
    heading: String,
    action: String,
    csrf: String,
    error: Option<String>,
    first_name: String,
    last_name: String,
    date_of_birth: String,
    email: String,
    phone: String,
}

#[derive(Template)]
#[template(path = "patient.html")]
struct PatientPage {
    manager_nav: bool,
    patient: PatientView,
    has_login: bool,
    has_open_series: bool,
    series: Vec<SeriesView>,
    can_edit: bool,
    csrf: String,
    today: String,
    conditions: [Condition; 7],
    notice: Option<String>,
    warnings: Vec<String>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "invitation.html")]
struct InvitationPage {
    name: String,
    email: String,
    code: String,
    activation_base: String,
    activation_link: String,
    expires_on: String,
    patient_id: i64,
}

#[derive(Template)]
#[template(path = "timeline.html")]
pub(crate) struct TimelinePage {
    pub t: TimelineView,
    pub preview: bool,
    pub name: String,
    /// (session id, number, date) of every session of the patient.
    pub sessions: Vec<(i64, u8, String)>,
    pub base: String,
}

fn staff(state: &AppState, caller: &Caller) -> Result<(), AppError> {
    caller.require(state, &[Role::Provider, Role::Manager])
}

#[derive(Deserialize)]
struct Search {
    q: Option<String>,
}

async fn list(
    state: web::Data<AppState>,
    caller: PageCaller,
    query: web::Query<Search>,
) -> Result<HttpResponse, PageError> {
    let caller = caller.0;
    let q = query.into_inner().q.unwrap_or_default();
    let found = search_patients(&state, &caller, q.clone(), 100).await?;
    let page = PatientsPage {
        manager_nav: caller.user.role == Role::Manager,
        q,
        can_edit: caller.user.role == Role::Provider,
        patients: found.iter().map(PatientView::from).collect(),
    };
    Ok(render(StatusCode::OK, &page))
}

fn blank_form(state: &AppState, caller: &Caller, heading: &str, action: String) -> PatientFormPage {
    PatientFormPage {
        heading: heading.into(),
        action,
        csrf: csrf::session_token(state, &caller.session_id),
        error: None,
        first_name: String::new(),
        last_name: String::new(),
        date_of_birth: String::new(),
        email: String::new(),
        phone: String::new(),
    }
}

async fn new_form(state: web::Data<AppState>, caller: PageCaller) -> Result<HttpResponse, PageError> {
    caller.0.require(&state, &[Role::Provider])?;
    Ok(render(
        StatusCode::OK,
        &blank_form(&state, &caller.0, "New patient", "/patients".into()),
    ))
}

#[derive(Deserialize)]
struct PatientForm {
    csrf: String,
    first_name: String,
    last_name: String,
    date_of_birth: String,
    email: String,
    phone: String,
}

impl PatientForm {
    fn body(&self) -> PatientBody {
        PatientBody {
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            date_of_birth: self.date_of_birth.clone(),
            email: Some(self.email.clone()),
            phone: Some(self.phone.clone()),
        }
    }

    fn again(self, page: PatientFormPage, error: String) -> HttpResponse {
        let page = PatientFormPage {
            error: Some(error),
            first_name: self.first_name,
            last_name: self.last_name,
            date_of_birth: self.date_of_birth,
            email: self.email,
            phone: self.phone,
            ..page
        };
        render(StatusCode::UNPROCESSABLE_ENTITY, &page)
    }
}

fn field_message(e: &AppError) -> String {
    match e {
        AppError::Validation(f) => format!("{}: {}", f.field.replace('_', " "), f.message),
        other => other.public_message(),
    }
}

async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: PageCaller,
    form: web::Form<PatientForm>,
) -> Result<HttpResponse, PageError> {
    let caller = caller.0;
    csrf::check_form(&state, &req, &caller, &[Role::Provider], &form.csrf)?;
    let form = form.into_inner();
    match save_patient(&state, &caller, None, &form.body()).await {
        Ok(p) => Ok(see_other(&format!("/patients/{}", p.id))),
        Err(e @ AppError::Validation(_)) => Ok(form.again(
            blank_form(&state, &caller, "New patient", "/patients".into()),
            field_message(&e),
        )),
        Err(e) => Err(e.into()),
    }
}

async fn edit_form(
    state: web::Data<AppState>,
    caller: PageCaller,
    path: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    let caller = caller.0;
    caller.require(&state, &[Role::Provider])?;
    let id = PatientId(path.into_inner());
    let st = state.clone();
    let p = blocking(move || Ok(patients::find(&mut *st.conn()?, id)?)).await?;
    let page = PatientFormPage {
        first_name: p.first_name.clone(),
        last_name: p.last_name.clone(),
        date_of_birth: p.date_of_birth.to_string(),
        email: p.email.clone().unwrap_or_default(),
        phone: p.phone.clone().unwrap_or_default(),
        ..blank_form(&state, &caller, "Edit patient", format!("/patients/{id}/edit"))
    };
    Ok(render(StatusCode::OK, &page))
}

async fn edit(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: PageCaller,
    path: web::Path<i64>,
    form: web::Form<PatientForm>,
) -> Result<HttpResponse, PageError> {
    let caller = caller.0;
    csrf::check_form(&state, &req, &caller, &[Role::Provider], &form.csrf)?;
    let id = PatientId(path.into_inner());
    let form = form.into_inner();
    match save_patient(&state, &caller, Some(id), &form.body()).await {
        Ok(_) => Ok(see_other(&format!("/patients/{id}"))),
        Err(e @ AppError::Validation(_)) => {
            let page = blank_form(&state, &caller, "Edit patient", format!("/patients/{id}/edit"));
            Ok(form.again(page, field_message(&e)))
        }
        Err(e) => Err(e.into()),
    }
}

/// The patient page, optionally with the outcome of an action on it.
async fn patient_page(
    state: &AppState,
    caller: &Caller,
    id: PatientId,
    status: StatusCode,
    notice: Option<String>,
    warnings: Vec<String>,
    error: Option<String>,
) -> Result<HttpResponse, PageError> {
    staff(state, caller)?;
    let st = state.clone();
    let c = caller.clone();
    let (patient, has_login, series) = blocking(move || {
        let mut conn = st.conn()?;
        let patient = patients::find(&mut conn, id)?;
        let has_login = users::find_by_patient(&mut conn, id)?.is_some();
        let mut views = Vec::new();
        for s in series::list_for_patient(&mut conn, id)? {
            let sessions = series::sessions_of(&mut conn, s.series.id)?;
            views.push(SeriesView::new(&s.series, s.sessions_recorded, Some(&sessions)));
        }
        st.audit
            .record(c.event(&st, "patient.read", "success").patient(Some(id)));
        Ok((PatientView::from(&patient), has_login, views))
    })
    .await?;
    let page = PatientPage {
        manager_nav: caller.user.role == Role::Manager,
        has_open_series: series.iter().any(|s| s.status == "open"),
        patient,
        has_login,
        series,
        can_edit: caller.user.role == Role::Provider,
        csrf: csrf::session_token(state, &caller.session_id),
        today: state.clock.today_in(state.settings.timezone).to_string(),
        conditions: Condition::ALL,
        notice,
        warnings,
        error,
    };
    Ok(render(status, &page))
}

async fn show(state: web::Data<AppState>, caller: PageCaller, path: web::Path<i64>) -> Result<HttpResponse, PageError> {
    patient_page(
        &state,
        &caller.0,
        PatientId(path.into_inner()),
        StatusCode::OK,
        None,
        vec![],
        None,
    )
    .await
}

#[derive(Deserialize)]
struct OpenForm {
    csrf: String,
    condition: String,
    planned_sessions: String,
    reason: String,
    review_note: String,
}

async fn open(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: PageCaller,
    path: web::Path<i64>,
    form: web::Form<OpenForm>,
) -> Result<HttpResponse, PageError> {
    let caller = caller.0;
    csrf::check_form(&state, &req, &caller, &[Role::Provider], &form.csrf)?;
    let id = PatientId(path.into_inner());
    let form = form.into_inner();
    let planned = match form.planned_sessions.trim().parse::<i64>() {
        Ok(n) => Some(n),
        Err(_) => {
            let msg = "planned sessions: must be a number from 1 to 5".to_owned();
            return patient_page(
                &state,
                &caller,
                id,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                vec![],
                Some(msg),
            )
            .await;
        }
    };
    let body = OpenBody {
        condition: form.condition,
        planned_sessions: planned,
        reason: Some(form.reason),
        review_note: Some(form.review_note),
    };
    match open_series(&state, &caller, id, body).await {
        Ok(_) => Ok(see_other(&format!("/patients/{id}"))),
        Err(e @ (AppError::Validation(_) | AppError::Rule { .. })) => {
            let status = actix_web::ResponseError::status_code(&e);
            patient_page(&state, &caller, id, status, None, vec![], Some(field_message(&e))).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct SessionForm {
    csrf: String,
    performed_on: String,
    treatment_areas: String,
    eye_area: Option<String>,
    device: String,
    needle_depth_mm: String,
    product_lipo_peptide_booster: Option<String>,
    product_moisturizer: Option<String>,
    product_sunscreen: Option<String>,
    notes: String,
    acknowledge_beyond_typical: Option<String>,
}

async fn record(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: PageCaller,
    path: web::Path<i64>,
    form: web::Form<SessionForm>,
) -> Result<HttpResponse, PageError> {
    let caller = caller.0;
    csrf::check_form(&state, &req, &caller, &[Role::Provider], &form.csrf)?;
    let id = SeriesId(path.into_inner());
    let st = state.clone();
    let patient = blocking(move || Ok(series::find(&mut *st.conn()?, id)?.patient_id)).await?;
    let form = form.into_inner();
    let Ok(depth) = form.needle_depth_mm.trim().parse::<f64>() else {
        let msg = "needle depth: must be a number of millimetres, 0.1 to 3.0".to_owned();
        return patient_page(
            &state,
            &caller,
            patient,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            vec![],
            Some(msg),
        )
        .await;
    };
    let products = [
        (form.product_lipo_peptide_booster.is_some(), "lipo_peptide_booster"),
        (form.product_moisturizer.is_some(), "moisturizer"),
        (form.product_sunscreen.is_some(), "sunscreen"),
    ];
    let body = RecordBody {
        performed_on: form.performed_on,
        treatment_areas: form.treatment_areas.split(',').map(str::to_owned).collect(),
        eye_area: form.eye_area.is_some(),
        device: form.device,
        needle_depth_mm: depth,
        products_applied: products
            .iter()
            .filter(|(on, _)| *on)
            .map(|(_, code)| (*code).to_owned())
            .collect(),
        notes: Some(form.notes),
        acknowledge_beyond_typical: Some(form.acknowledge_beyond_typical.is_some()),
    };
    match record_session(&state, &caller, id, body).await {
        Ok(r) => {
            let notice = format!("Session {} recorded.", r.session.session_number);
            patient_page(
                &state,
                &caller,
                patient,
                StatusCode::CREATED,
                Some(notice),
                r.warnings,
                None,
            )
            .await
        }
        Err(e @ (AppError::Validation(_) | AppError::Rule { .. })) => {
            let status = actix_web::ResponseError::status_code(&e);
            patient_page(&state, &caller, patient, status, None, vec![], Some(field_message(&e))).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    csrf: String,
}

async fn complete(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: PageCaller,
    path: web::Path<i64>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, PageError> {
    let caller = caller.0;
    csrf::check_form(&state, &req, &caller, &[Role::Provider], &form.csrf)?;
    let s = complete_series(&state, &caller, SeriesId(path.into_inner())).await?;
    Ok(see_other(&format!("/patients/{}", s.patient_id)))
}

async fn invite(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: PageCaller,
    path: web::Path<i64>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, PageError> {
    let caller = caller.0;
    csrf::check_session(&state, &req, &caller.session_id, &form.csrf)?;
    let id = PatientId(path.into_inner());
    match invitations::issue(&state, &caller, id).await {
        Ok(inv) => {
            let st = state.clone();
            let p = blocking(move || Ok(patients::find(&mut *st.conn()?, id)?)).await?;
            let page = InvitationPage {
                name: p.full_name(),
                email: p.email.unwrap_or_default(),
                activation_base: format!("{}/activate", state.settings.public_url),
                activation_link: inv.activation_url,
                code: inv.code,
                expires_on: inv.expires_at.chars().take(10).collect(),
                patient_id: id.0,
            };
            Ok(render(StatusCode::CREATED, &page))
        }
        Err(e @ AppError::Rule { .. }) => {
            let status = actix_web::ResponseError::status_code(&e);
            patient_page(&state, &caller, id, status, None, vec![], Some(e.public_message())).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub(crate) struct Which {
    pub session_id: Option<i64>,
}

/// The sessions of a patient as (id, number, date), newest first.
pub(crate) async fn session_list(state: &AppState, patient: PatientId) -> Result<Vec<(i64, u8, String)>, AppError> {
    let st = state.clone();
    blocking(move || {
        let all = series::sessions_of_patient(&mut *st.conn()?, patient)?;
        Ok(all
            .iter()
            .map(|(s, _)| (s.id.0, s.session_number.get(), s.performed_on.to_string()))
            .collect())
    })
    .await
}

async fn preview(
    state: web::Data<AppState>,
    caller: PageCaller,
    path: web::Path<i64>,
    which: web::Query<Which>,
) -> Result<HttpResponse, PageError> {
    let caller = caller.0;
    staff(&state, &caller)?;
    let id = PatientId(path.into_inner());
    let t = match timeline::load(&state, &caller, id, which.session_id.map(SessionId)).await {
        Ok(t) => t,
        Err(AppError::Rule {
            code: "no_session",
            message,
            ..
        }) => {
            return patient_page(&state, &caller, id, StatusCode::NOT_FOUND, None, vec![], Some(message)).await;
        }
        Err(e) => return Err(e.into()),
    };
    let st = state.clone();
    let name = blocking(move || Ok(patients::find(&mut *st.conn()?, id)?.full_name())).await?;
    let sessions = session_list(&state, id).await?;
    let page = TimelinePage {
        t,
        preview: true,
        name,
        sessions,
        base: format!("/patients/{id}/timeline"),
    };
    Ok(render(StatusCode::OK, &page))
}
