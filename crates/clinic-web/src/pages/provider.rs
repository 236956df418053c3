//! The provider's (and, read-only, the manager's) pages: patients, series, sessions, logins, previews.

use crate::api::patients::PatientBody;
use crate::api::series::{OpenBody, RecordBody};
use crate::auth::PageCaller;
use crate::csrf;
use crate::html::{PageError, field_message, render, see_other, shown_on_form};
use crate::routes::RouteSpec;
use crate::run::{db, read};
use crate::state::AppState;
use crate::views::{PatientView, SeriesView, TimelineView};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use clinic_app::clinic::Clinic;
use clinic_app::{Actor, Error, ErrorCode, invitations, messages, patients, series, timeline};
use clinic_db::series::SessionRecord;
use clinic_domain::series::{Condition, MAXIMUM, PlannedSessions, wording};
use clinic_domain::session::{NeedleDepth, Product};
use clinic_domain::user::Role;
use clinic_domain::{PatientId, SeriesId, SessionId};
use serde::Deserialize;
use std::sync::Arc;

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
    clinic: Arc<Clinic>,
    manager_nav: bool,
    q: String,
    can_edit: bool,
    patients: Vec<PatientView>,
}

#[derive(Template)]
#[template(path = "patient_form.html")]
struct PatientFormPage {
    clinic: Arc<Clinic>,
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

/// The words and bounds of the record-session and open-series forms, all from `clinic-domain`.
struct FormWords {
    planned_label: String,
    planned_max: u8,
    planned_default: u8,
    reason_label: String,
    review_note_label: String,
    flagged: String,
    depth_min: f64,
    depth_max: f64,
    products: Vec<(&'static str, String)>,
}

impl FormWords {
    fn new() -> Self {
        Self {
            planned_label: wording::planned_sessions_label(),
            planned_max: MAXIMUM,
            planned_default: PlannedSessions::DEFAULT.get(),
            reason_label: wording::reason_label(),
            review_note_label: wording::review_note_label(),
            flagged: wording::flagged_after_maximum(),
            depth_min: NeedleDepth::MIN.mm(),
            depth_max: NeedleDepth::MAX.mm(),
            products: Product::ALL.iter().map(|p| (p.code(), capitalise(p.label()))).collect(),
        }
    }
}

/// "a lipo-peptide booster" → "Lipo-peptide booster".
fn capitalise(label: &str) -> String {
    let bare = label.strip_prefix("a ").unwrap_or(label);
    let mut c = bare.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

#[derive(Template)]
#[template(path = "patient.html")]
struct PatientPage {
    clinic: Arc<Clinic>,
    manager_nav: bool,
    patient: PatientView,
    has_login: bool,
    has_open_series: bool,
    series: Vec<SeriesView>,
    can_edit: bool,
    csrf: String,
    today: String,
    conditions: [Condition; 7],
    words: FormWords,
    notice: Option<String>,
    warnings: Vec<String>,
    error: Option<String>,
    messages: Vec<MessageRow>,
}

/// One e-mail on the patient's page.
struct MessageRow {
    id: i64,
    kind: String,
    status: String,
    scheduled_for: String,
    sent_at: String,
    attempts: i32,
    last_error: String,
    retryable: bool,
}

impl From<&clinic_db::outbox::Message> for MessageRow {
    fn from(m: &clinic_db::outbox::Message) -> Self {
        let minutes = |t: chrono::NaiveDateTime| t.format("%Y-%m-%d %H:%M UTC").to_string();
        Self {
            id: m.id,
            kind: m
                .kind
                .parse::<clinic_domain::messages::MessageKind>()
                .map(|k| k.label())
                .unwrap_or_else(|()| m.kind.clone()),
            status: m.status.clone(),
            scheduled_for: minutes(m.scheduled_for),
            sent_at: m.sent_at.map(minutes).unwrap_or_default(),
            attempts: m.attempts,
            last_error: m.last_error.clone().unwrap_or_default(),
            retryable: m.status == clinic_db::outbox::FAILED || m.status == clinic_db::outbox::HELD,
        }
    }
}

#[derive(Template)]
#[template(path = "invitation.html")]
struct InvitationPage {
    clinic: Arc<Clinic>,
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
    pub clinic: Arc<Clinic>,
    pub t: TimelineView,
    pub preview: bool,
    pub name: String,
    /// (session id, number, date) of every session of the patient.
    pub sessions: Vec<(i64, u8, String)>,
    pub base: String,
    /// The calendar and print links, for the session shown.
    pub ics_href: String,
    pub print_href: String,
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
    let actor = caller.0;
    let q = query.into_inner().q.unwrap_or_default();
    let (a, text) = (actor.clone(), q.clone());
    let found = db(&state, move |conn, env| patients::search(conn, env, &a, &text, 100)).await?;
    let page = PatientsPage {
        clinic: state.clinic(),
        manager_nav: actor.user.role == Role::Manager,
        q,
        can_edit: actor.user.role == Role::Provider,
        patients: found.iter().map(PatientView::from).collect(),
    };
    Ok(render(StatusCode::OK, &page))
}

fn blank_form(state: &AppState, actor: &Actor, heading: &str, action: String) -> PatientFormPage {
    PatientFormPage {
        clinic: state.clinic(),
        heading: heading.into(),
        action,
        csrf: csrf::session_token(state, &actor.session_id),
        error: None,
        first_name: String::new(),
        last_name: String::new(),
        date_of_birth: String::new(),
        email: String::new(),
        phone: String::new(),
    }
}

async fn new_form(state: web::Data<AppState>, caller: PageCaller) -> Result<HttpResponse, PageError> {
    caller.0.require(&state.env(), &[Role::Provider])?;
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

/// Saves the form's patient (`id` None: a new one).
async fn save(state: &AppState, actor: &Actor, id: Option<PatientId>, form: &PatientForm) -> Result<PatientId, Error> {
    let new = form.body().parse(state.env().today())?;
    let actor = actor.clone();
    Ok(db(state, move |conn, env| patients::save(conn, env, &actor, id, &new))
        .await?
        .id)
}

async fn create(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: PageCaller,
    form: web::Form<PatientForm>,
) -> Result<HttpResponse, PageError> {
    let actor = caller.0;
    csrf::check_form(&state, &req, &actor, &[Role::Provider], &form.csrf)?;
    let form = form.into_inner();
    match save(&state, &actor, None, &form).await {
        Ok(id) => Ok(see_other(&format!("/patients/{id}"))),
        Err(e @ Error::Validation(_)) => Ok(form.again(
            blank_form(&state, &actor, "New patient", "/patients".into()),
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
    let actor = caller.0;
    actor.require(&state.env(), &[Role::Provider])?;
    let id = PatientId(path.into_inner());
    let a = actor.clone();
    let p = db(&state, move |conn, env| {
        Ok(patients::chart(conn, env, &a, id, false)?.patient)
    })
    .await?;
    let page = PatientFormPage {
        clinic: state.clinic(),
        first_name: p.first_name.clone(),
        last_name: p.last_name.clone(),
        date_of_birth: p.date_of_birth.to_string(),
        email: p.email.clone().unwrap_or_default(),
        phone: p.phone.clone().unwrap_or_default(),
        ..blank_form(&state, &actor, "Edit patient", format!("/patients/{id}/edit"))
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
    let actor = caller.0;
    csrf::check_form(&state, &req, &actor, &[Role::Provider], &form.csrf)?;
    let id = PatientId(path.into_inner());
    let form = form.into_inner();
    match save(&state, &actor, Some(id), &form).await {
        Ok(_) => Ok(see_other(&format!("/patients/{id}"))),
        Err(e @ Error::Validation(_)) => {
            let page = blank_form(&state, &actor, "Edit patient", format!("/patients/{id}/edit"));
            Ok(form.again(page, field_message(&e)))
        }
        Err(e) => Err(e.into()),
    }
}

/// What happened on the patient page just before it is shown again.
#[derive(Default)]
struct Outcome {
    notice: Option<String>,
    warnings: Vec<String>,
    error: Option<String>,
}

impl Outcome {
    fn error(e: &Error) -> Self {
        Self {
            error: Some(field_message(e)),
            ..Self::default()
        }
    }
}

/// The patient page, optionally with the outcome of an action on it.
async fn patient_page(
    state: &AppState,
    actor: &Actor,
    id: PatientId,
    status: StatusCode,
    outcome: Outcome,
) -> Result<HttpResponse, PageError> {
    let a = actor.clone();
    let (chart, mail) = db(state, move |conn, env| {
        let chart = patients::chart(conn, env, &a, id, true)?;
        Ok((chart, messages::list(conn, env, &a, id)?))
    })
    .await?;
    let series: Vec<SeriesView> = chart
        .series
        .iter()
        .map(|(s, sessions)| SeriesView::new(&s.series, s.sessions_recorded, Some(sessions)))
        .collect();
    let page = PatientPage {
        clinic: state.clinic(),
        manager_nav: actor.user.role == Role::Manager,
        has_open_series: series.iter().any(SeriesView::is_open),
        patient: PatientView::from(&chart.patient),
        has_login: chart.has_portal_login,
        series,
        can_edit: actor.user.role == Role::Provider,
        csrf: csrf::session_token(state, &actor.session_id),
        today: state.env().today().to_string(),
        conditions: Condition::ALL,
        words: FormWords::new(),
        notice: outcome.notice,
        warnings: outcome.warnings,
        error: outcome.error,
        messages: mail.iter().map(MessageRow::from).collect(),
    };
    Ok(render(status, &page))
}

async fn show(state: web::Data<AppState>, caller: PageCaller, path: web::Path<i64>) -> Result<HttpResponse, PageError> {
    patient_page(
        &state,
        &caller.0,
        PatientId(path.into_inner()),
        StatusCode::OK,
        Outcome::default(),
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
    let actor = caller.0;
    csrf::check_form(&state, &req, &actor, &[Role::Provider], &form.csrf)?;
    let id = PatientId(path.into_inner());
    let form = form.into_inner();
    let opened = async {
        let planned = form.planned_sessions.trim().parse::<i64>().map_err(|_| {
            clinic_domain::FieldError::new("planned_sessions", format!("must be a number from 1 to {MAXIMUM}"))
        })?;
        let body = OpenBody {
            condition: form.condition,
            planned_sessions: Some(planned),
            reason: Some(form.reason),
            review_note: Some(form.review_note),
        };
        let (plan, review) = body.parse()?;
        let a = actor.clone();
        db(&state, move |conn, env| {
            series::open(conn, env, &a, id, &plan, review.as_ref())
        })
        .await
    };
    match opened.await {
        Ok(_) => Ok(see_other(&format!("/patients/{id}"))),
        Err(e) if shown_on_form(&e) => {
            let status = crate::error::status_of(e.code());
            patient_page(&state, &actor, id, status, Outcome::error(&e)).await
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

impl SessionForm {
    fn record(&self) -> Result<SessionRecord, Error> {
        let depth = self.needle_depth_mm.trim().parse::<f64>().map_err(|_| {
            clinic_domain::FieldError::new(
                "needle_depth_mm",
                format!(
                    "must be a number of millimetres, {} to {}",
                    NeedleDepth::MIN.mm(),
                    NeedleDepth::MAX.mm()
                ),
            )
        })?;
        let products = [
            (self.product_lipo_peptide_booster.is_some(), Product::LipoPeptideBooster),
            (self.product_moisturizer.is_some(), Product::Moisturizer),
            (self.product_sunscreen.is_some(), Product::Sunscreen),
        ];
        let body = RecordBody {
            performed_on: self.performed_on.clone(),
            treatment_areas: self.treatment_areas.split(',').map(str::to_owned).collect(),
            eye_area: self.eye_area.is_some(),
            device: self.device.clone(),
            needle_depth_mm: depth,
            products_applied: products
                .iter()
                .filter(|(on, _)| *on)
                .map(|(_, p)| p.code().to_owned())
                .collect(),
            notes: Some(self.notes.clone()),
            acknowledge_beyond_typical: Some(self.acknowledge_beyond_typical.is_some()),
        };
        Ok(SessionRecord::try_from(&body)?)
    }
}

async fn record(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: PageCaller,
    path: web::Path<i64>,
    form: web::Form<SessionForm>,
) -> Result<HttpResponse, PageError> {
    let actor = caller.0;
    csrf::check_form(&state, &req, &actor, &[Role::Provider], &form.csrf)?;
    let id = SeriesId(path.into_inner());
    let patient = db(&state, move |conn, _| series::patient_of(conn, id)).await?;
    let recorded = async {
        let record = form.record()?;
        let a = actor.clone();
        db(&state, move |conn, env| {
            series::record_session(conn, env, &a, id, &record)
        })
        .await
    };
    match recorded.await {
        Ok(r) => {
            let outcome = Outcome {
                notice: Some(format!("Session {} recorded.", r.session.session_number)),
                warnings: r.warnings,
                error: None,
            };
            patient_page(&state, &actor, patient, StatusCode::CREATED, outcome).await
        }
        Err(e) if shown_on_form(&e) => {
            let status = crate::error::status_of(e.code());
            patient_page(&state, &actor, patient, status, Outcome::error(&e)).await
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
    let actor = caller.0;
    csrf::check_form(&state, &req, &actor, &[Role::Provider], &form.csrf)?;
    let id = SeriesId(path.into_inner());
    let s = db(&state, move |conn, env| series::complete(conn, env, &actor, id)).await?;
    Ok(see_other(&format!("/patients/{}", s.series.patient_id)))
}

async fn invite(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: PageCaller,
    path: web::Path<i64>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, PageError> {
    let actor = caller.0;
    csrf::check_session(&state, &req, &actor.session_id, &form.csrf)?;
    let id = PatientId(path.into_inner());
    let a = actor.clone();
    let issued = db(&state, move |conn, env| {
        let issued = invitations::issue(conn, env, &a, id)?;
        Ok((issued, patients::find(conn, id)?))
    })
    .await;
    match issued {
        Ok((inv, p)) => {
            let page = InvitationPage {
                clinic: state.clinic(),
                name: p.full_name(),
                email: p.email.unwrap_or_default(),
                activation_base: format!("{}/activate", state.settings.public_url),
                activation_link: inv.activation_url,
                code: inv.code.as_str().to_owned(),
                expires_on: inv.expires_at.date().to_string(),
                patient_id: id.0,
            };
            Ok(render(StatusCode::CREATED, &page))
        }
        Err(e @ Error::Refused { .. }) => {
            let status = crate::error::status_of(e.code());
            patient_page(&state, &actor, id, status, Outcome::error(&e)).await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub(crate) struct Which {
    pub session_id: Option<i64>,
}

/// The sessions of a patient as (id, number, date), newest first.
pub(crate) async fn session_list(state: &AppState, patient: PatientId) -> Result<Vec<(i64, u8, String)>, Error> {
    let all = db(state, move |conn, _| timeline::sessions_of_patient(conn, patient)).await?;
    Ok(all.into_iter().map(|(id, n, d)| (id.0, n, d.to_string())).collect())
}

async fn preview(
    state: web::Data<AppState>,
    caller: PageCaller,
    path: web::Path<i64>,
    which: web::Query<Which>,
) -> Result<HttpResponse, PageError> {
    let actor = caller.0;
    actor.require(&state.env(), &[Role::Provider, Role::Manager])?;
    let id = PatientId(path.into_inner());
    let session = which.session_id.map(SessionId);
    let a = actor.clone();
    let found = read(&state, move |conn, env| {
        let t = timeline::for_patient(conn, env, &a, id, session)?;
        Ok((t, patients::find(conn, id)?.full_name()))
    })
    .await;
    let (t, name) = match found {
        Ok(found) => found,
        Err(
            e @ Error::Refused {
                code: ErrorCode::NoSession,
                ..
            },
        ) => {
            return patient_page(&state, &actor, id, StatusCode::NOT_FOUND, Outcome::error(&e)).await;
        }
        Err(e) => return Err(e.into()),
    };
    let sessions = session_list(&state, id).await?;
    let page = TimelinePage {
        clinic: state.clinic(),
        t: TimelineView::from(t),
        preview: true,
        name,
        sessions,
        base: format!("/patients/{id}/timeline"),
        ics_href: String::new(),
        print_href: String::new(),
    };
    Ok(render(StatusCode::OK, &page))
}
