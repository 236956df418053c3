//! The provider's (and, read-only, the manager's) pages: patients, series, sessions, logins, previews.

use crate::api::patients::PatientBody;
use crate::api::series::OpenBody;
use crate::auth::{PageCaller, kept_page_read, page_read};
use crate::csrf;
use crate::html::{Fields, ONCE, PageError, field_message, once_key, render, see_other, shown_on_form};
use crate::idempotency;
use crate::pages::sessions::SessionFields;
use crate::routes::RouteSpec;
use crate::run::{db, read};
use crate::state::AppState;
use crate::views::{PatientView, SeriesView, TimelineView};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use clinic_app::clinic::Clinic;
use clinic_app::{Actor, Error, ErrorCode, check_ins, invitations, patients, series, timeline};
use clinic_db::{DbConn, patient_page};
use clinic_domain::series::{Condition, MAXIMUM, PlannedSessions, admission_warnings, wording};
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
    v.push(RouteSpec::new(Method::POST, "/patients/{id}/portal/disable", || {
        web::post().to(portal_disable)
    }));
    v.push(RouteSpec::new(Method::POST, "/patients/{id}/portal/enable", || {
        web::post().to(portal_enable)
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
    attention: i64,
    manager_nav: bool,
    q: String,
    can_edit: bool,
    patients: Vec<PatientView>,
}

#[derive(Template)]
#[template(path = "patient_form.html")]
struct PatientFormPage {
    clinic: Arc<Clinic>,
    attention: i64,
    /// The new-patient form's one-time key; empty on the edit form.
    once: String,
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
        }
    }
}

#[derive(Template)]
#[template(path = "patient.html")]
struct PatientPage {
    clinic: Arc<Clinic>,
    manager_nav: bool,
    patient: PatientView,
    has_login: bool,
    portal_suspended: bool,
    /// The patient's consent signatures, in words.
    consent_lines: Vec<String>,
    /// Open series whose first session needs a signature or a reason.
    consent_missing: Vec<i64>,
    has_consent_form: bool,
    /// Sessions with their before and after photos, side by side.
    photo_rows: Vec<PhotoRow>,
    has_open_series: bool,
    series: Vec<SeriesView>,
    can_edit: bool,
    csrf: String,
    /// The one-time key of the page's creating forms.
    once: String,
    conditions: [Condition; 7],
    words: FormWords,
    record_form: SessionFields,
    attention: i64,
    notice: Option<String>,
    warnings: Vec<String>,
    error: Option<String>,
    messages: Vec<MessageRow>,
}

/// One session's photos: before and after, by id.
pub(crate) struct PhotoRow {
    session_id: i64,
    label: String,
    before: Vec<i64>,
    after: Vec<i64>,
}

impl PhotoRow {
    /// A row for every session that is not void (upload targets), with its photos.
    fn of(chart: &clinic_app::patients::Chart, photos: &[clinic_db::photos::Photo]) -> Vec<Self> {
        let mut rows = Vec::new();
        for (_, sessions) in &chart.series {
            for s in sessions.iter().filter(|s| s.voided_at.is_none()) {
                let of = |kind: &str| {
                    photos
                        .iter()
                        .filter(|p| p.session_id == s.id && p.kind == kind)
                        .map(|p| p.id)
                        .collect()
                };
                rows.push(PhotoRow {
                    session_id: s.id.0,
                    label: format!("Session {} on {}", s.session_number, s.performed_on),
                    before: of("before"),
                    after: of("after"),
                });
            }
        }
        rows
    }
}

impl PatientPage {
    fn needs_consent(&self, series: &i64) -> bool {
        self.consent_missing.contains(series)
    }
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
    attention: i64,
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
    /// The staff navigation's count of open alerts (a preview).
    pub attention: i64,
    pub t: TimelineView,
    pub preview: bool,
    pub name: String,
    /// (session id, number, date) of every session of the patient.
    pub sessions: Vec<(i64, u8, String)>,
    pub base: String,
    /// The calendar and print links, for the session shown.
    pub ics_href: String,
    pub print_href: String,
    /// The patient's check-ins (the portal, not a preview).
    pub check_in: Option<crate::pages::portal::CheckInSection>,
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
    let (found, attention) = db(&state, move |conn, env| {
        Ok((
            patients::search(conn, env, &a, &text, 100)?,
            check_ins::open_count(conn)?,
        ))
    })
    .await?;
    let page = PatientsPage {
        clinic: state.clinic(),
        attention,
        manager_nav: actor.user.role == Role::Manager,
        q,
        can_edit: actor.user.role == Role::Provider,
        patients: found.iter().map(PatientView::from).collect(),
    };
    Ok(render(StatusCode::OK, &page))
}

/// How many alerts wait in the attention queue, for the staff navigation.
pub(crate) async fn attention(state: &AppState) -> Result<i64, Error> {
    read(state, |conn, _| check_ins::open_count(conn)).await
}

async fn blank_form(state: &AppState, actor: &Actor, heading: &str, action: String) -> Result<PatientFormPage, Error> {
    Ok(PatientFormPage {
        clinic: state.clinic(),
        attention: attention(state).await?,
        heading: heading.into(),
        action,
        csrf: csrf::session_token(state, &actor.session_id),
        once: once_key()?,
        error: None,
        first_name: String::new(),
        last_name: String::new(),
        date_of_birth: String::new(),
        email: String::new(),
        phone: String::new(),
    })
}

async fn new_form(state: web::Data<AppState>, caller: PageCaller) -> Result<HttpResponse, PageError> {
    caller.0.require(&state.env(), &[Role::Provider])?;
    let page = blank_form(&state, &caller.0, "New patient", "/patients".into()).await?;
    Ok(render(StatusCode::OK, &page))
}

#[derive(Deserialize, serde::Serialize)]
struct PatientForm {
    #[serde(skip_serializing)]
    csrf: String,
    /// The new-patient form's one-time key (not on the edit form).
    #[serde(default, skip_serializing)]
    once: String,
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

    fn again(self, page: PatientFormPage, status: StatusCode, error: String) -> HttpResponse {
        let page = PatientFormPage {
            error: Some(error),
            first_name: self.first_name,
            last_name: self.last_name,
            date_of_birth: self.date_of_birth,
            email: self.email,
            phone: self.phone,
            ..page
        };
        render(status, &page)
    }
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
    let created = async {
        let new = form.body().parse(state.env().today())?;
        let a = actor.clone();
        idempotency::run_form(&state, &actor, &req, &form.once, &form, move |conn, env| {
            let p = patients::save(conn, env, &a, None, &new)?;
            Ok((StatusCode::CREATED, serde_json::json!({ "patient_id": p.id.0 })))
        })
        .await
    };
    let (status, error) = match created.await {
        Ok(a) if a.status.is_success() => {
            let id = a.body["patient_id"].as_i64().unwrap_or_default();
            return Ok(see_other(&format!("/patients/{id}")));
        }
        Ok(a) => (a.status, a.form_message()),
        Err(e) if shown_on_form(&e) => (crate::error::status_of(e.code()), field_message(&e)),
        Err(e) => return Err(e.into()),
    };
    let page = blank_form(&state, &actor, "New patient", "/patients".into()).await?;
    Ok(form.again(page, status, error))
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
        once: String::new(),
        ..blank_form(&state, &actor, "Edit patient", format!("/patients/{id}/edit")).await?
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
    let saved = async {
        let new = form.body().parse(state.env().today())?;
        let a = actor.clone();
        db(&state, move |conn, env| patients::save(conn, env, &a, Some(id), &new)).await
    };
    match saved.await {
        Ok(_) => Ok(see_other(&format!("/patients/{id}"))),
        Err(e @ Error::Validation(_)) => {
            let page = PatientFormPage {
                once: String::new(),
                ..blank_form(&state, &actor, "Edit patient", format!("/patients/{id}/edit")).await?
            };
            Ok(form.again(page, StatusCode::UNPROCESSABLE_ENTITY, field_message(&e)))
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
    /// The session form as sent, shown again with its error.
    sent: Option<Fields>,
}

impl Outcome {
    fn error(e: &Error) -> Self {
        Self {
            error: Some(field_message(e)),
            ..Self::default()
        }
    }

    /// The notice after a redirect from an action on one of the patient's sessions.
    fn after(done: &Done, chart: &patients::Chart) -> Self {
        let found = |id: i64| {
            chart
                .series
                .iter()
                .find_map(|(s, sessions)| sessions.iter().find(|x| x.id.0 == id).map(|x| (s, x)))
        };
        let (what, id) = match (done.recorded, done.corrected, done.voided) {
            (Some(id), _, _) => ("recorded", id),
            (_, Some(id), _) => ("corrected", id),
            (_, _, Some(id)) => ("voided", id),
            _ => return Self::default(),
        };
        let Some((s, x)) = found(id) else {
            return Self::default();
        };
        let n = x.session_number;
        let (notice, warnings) = match what {
            "recorded" => (
                format!("Session {n} recorded."),
                admission_warnings(n, s.series.planned_sessions),
            ),
            "corrected" => (format!("Session {n} corrected (revision {}).", x.revision), Vec::new()),
            _ => (
                format!("Session {n} voided: it is kept, shown as void, and no longer counts toward the course."),
                Vec::new(),
            ),
        };
        Self {
            notice: Some(notice),
            warnings,
            ..Self::default()
        }
    }
}

/// What a redirect to the patient page reports as done (a session's id).
#[derive(Deserialize, Default)]
struct Done {
    recorded: Option<i64>,
    corrected: Option<i64>,
    voided: Option<i64>,
}

/// The patient page, optionally with the outcome of an action on it.
async fn patient_page(
    state: &AppState,
    actor: &Actor,
    id: PatientId,
    status: StatusCode,
    outcome: Outcome,
) -> Result<HttpResponse, PageError> {
    shown_patient(state, actor, id, status, outcome, &Done::default()).await
}

async fn shown_patient(
    state: &AppState,
    actor: &Actor,
    id: PatientId,
    status: StatusCode,
    outcome: Outcome,
    done: &Done,
) -> Result<HttpResponse, PageError> {
    let (a, kept) = (actor.clone(), Arc::clone(&state.kept_pages));
    let read = db(state, move |conn, env| patients::page(conn, env, &a, &kept, id)).await?;
    render_patient(state, actor, read, status, outcome, done)
}

fn render_patient(
    state: &AppState,
    actor: &Actor,
    read: patients::Page,
    status: StatusCode,
    outcome: Outcome,
    done: &Done,
) -> Result<HttpResponse, PageError> {
    let patients::Page {
        chart,
        messages: mail,
        consents,
        photos,
        open_alerts: attention,
        any_consent_form: has_consent_form,
    } = read;
    let photo_rows = PhotoRow::of(&chart, &photos);
    // Open series whose first session would need the patient's signature (or a reason).
    let consent_missing: Vec<i64> = chart
        .series
        .iter()
        .filter(|(s, _)| has_consent_form && s.series.is_open() && s.sessions_recorded == 0)
        .map(|(s, _)| s.series.id.0)
        .filter(|sid| !consents.iter().any(|c| c.series_id.0 == *sid))
        .collect();
    let consent_lines: Vec<String> = consents
        .iter()
        .map(|c| {
            format!(
                "Series {}: consent version {} signed {} UTC as \u{201c}{}\u{201d}",
                c.series_id,
                c.form_version,
                c.signed_at.format("%Y-%m-%d %H:%M"),
                c.typed_name
            )
        })
        .collect();
    let outcome = match outcome.notice.is_none() && outcome.error.is_none() {
        true => Outcome::after(done, &chart),
        false => outcome,
    };
    let series: Vec<SeriesView> = chart
        .series
        .iter()
        .map(|(s, sessions)| SeriesView::new(&s.series, s.sessions_recorded, Some(sessions)))
        .collect();
    let today = state.env().today();
    let record_form = match &outcome.sent {
        Some(sent) => SessionFields::sent(0, sent),
        None => SessionFields::blank(0, today),
    };
    let page = PatientPage {
        clinic: state.clinic(),
        manager_nav: actor.user.role == Role::Manager,
        attention,
        has_open_series: series.iter().any(SeriesView::is_open),
        patient: PatientView::from(&chart.patient),
        has_login: chart.has_portal_login,
        portal_suspended: chart.portal_suspended,
        consent_lines,
        consent_missing,
        has_consent_form,
        photo_rows,
        series,
        can_edit: actor.user.role == Role::Provider,
        csrf: csrf::session_token(state, &actor.session_id),
        once: once_key()?,
        conditions: Condition::ALL,
        words: FormWords::new(),
        record_form,
        notice: outcome.notice,
        warnings: outcome.warnings,
        error: outcome.error,
        messages: mail.iter().map(MessageRow::from).collect(),
    };
    Ok(render(status, &page))
}

/// The patient page: from what is kept while its numbers stand (checked with its audit row), else the
/// session check and the page's reads in one trip to the pool (one statement on PostgreSQL).
async fn show(
    state: web::Data<AppState>,
    req: HttpRequest,
    path: web::Path<i64>,
    done: web::Query<Done>,
) -> Result<HttpResponse, PageError> {
    let id = PatientId(path.into_inner());
    let held = state.kept_pages.unchecked(id);
    let from_kept = move |env: &clinic_app::Env<'_>, actor: &Actor, _: &_| {
        let page = held.ok_or(Error::NotFound)?;
        let read = patients::page_read_beside(env, actor, Some(patient_page::Page::clone(&page)))?;
        Ok((read, page.numbers().to_vec()))
    };
    if let Some((actor, read)) = kept_page_read(&req, from_kept).await? {
        return render_patient(&state, &actor, read, StatusCode::OK, Outcome::default(), &done);
    }
    let (kept, reads) = (Arc::clone(&state.kept_pages), Arc::clone(&state.kept_reads));
    let lookup = move |conn: &mut DbConn, sid: &str| Ok(patient_page::with_session(conn, &kept, &reads, sid, id)?);
    let (actor, read) = page_read(&req, lookup, move |_, env, actor, read| {
        patients::page_read_beside(env, actor, read)
    })
    .await?;
    render_patient(&state, &actor, read, StatusCode::OK, Outcome::default(), &done)
}

async fn open(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: PageCaller,
    path: web::Path<i64>,
    form: web::Form<Fields>,
) -> Result<HttpResponse, PageError> {
    let actor = caller.0;
    csrf::check_form(&state, &req, &actor, &[Role::Provider], form.get("csrf"))?;
    let id = PatientId(path.into_inner());
    let opened = async {
        let planned = form.get("planned_sessions").trim().parse::<i64>().map_err(|_| {
            clinic_domain::FieldError::new("planned_sessions", format!("must be a number from 1 to {MAXIMUM}"))
        })?;
        let body = OpenBody {
            condition: form.get("condition").to_owned(),
            planned_sessions: Some(planned),
            reason: Some(form.get("reason").to_owned()),
            review_note: Some(form.get("review_note").to_owned()),
        };
        let (plan, review) = body.parse()?;
        let a = actor.clone();
        idempotency::run_form(
            &state,
            &actor,
            &req,
            form.get(ONCE),
            &form.request(),
            move |conn, env| {
                let s = series::open(conn, env, &a, id, &plan, review.as_ref())?;
                Ok((StatusCode::CREATED, serde_json::json!({ "series_id": s.id.0 })))
            },
        )
        .await
    };
    let error = match opened.await {
        Ok(a) if a.status.is_success() => return Ok(see_other(&format!("/patients/{id}"))),
        Ok(a) => (a.status, a.form_message()),
        Err(e) if shown_on_form(&e) => (crate::error::status_of(e.code()), field_message(&e)),
        Err(e) => return Err(e.into()),
    };
    let outcome = Outcome {
        error: Some(error.1),
        ..Outcome::default()
    };
    patient_page(&state, &actor, id, error.0, outcome).await
}

async fn record(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: PageCaller,
    path: web::Path<i64>,
    form: web::Form<Fields>,
) -> Result<HttpResponse, PageError> {
    let actor = caller.0;
    csrf::check_form(&state, &req, &actor, &[Role::Provider], form.get("csrf"))?;
    let id = SeriesId(path.into_inner());
    let patient = db(&state, move |conn, _| series::patient_of(conn, id)).await?;
    let recorded = async {
        let record = SessionFields::record(&form)?;
        let consent_override = crate::api::series::override_reason(Some(form.get("consent_override_reason")))?;
        let a = actor.clone();
        idempotency::run_form(
            &state,
            &actor,
            &req,
            form.get(ONCE),
            &form.request(),
            move |conn, env| {
                let r = series::record_session_with(conn, env, &a, id, &record, consent_override.as_ref())?;
                Ok((StatusCode::CREATED, serde_json::json!({ "session_id": r.session.id.0 })))
            },
        )
        .await
    };
    let (status, error) = match recorded.await {
        Ok(a) if a.status.is_success() => {
            let session = a.body["session_id"].as_i64().unwrap_or_default();
            return Ok(see_other(&format!(
                "/patients/{patient}?recorded={session}#series-{id}"
            )));
        }
        Ok(a) => (a.status, a.form_message()),
        Err(e) if shown_on_form(&e) => (crate::error::status_of(e.code()), field_message(&e)),
        Err(e) => return Err(e.into()),
    };
    let outcome = Outcome {
        error: Some(error),
        sent: Some(form.into_inner()),
        ..Outcome::default()
    };
    patient_page(&state, &actor, patient, status, outcome).await
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

async fn portal_disable(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: PageCaller,
    path: web::Path<i64>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, PageError> {
    set_portal(&state, &req, caller, path.into_inner(), &form.csrf, false).await
}

async fn portal_enable(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: PageCaller,
    path: web::Path<i64>,
    form: web::Form<CsrfForm>,
) -> Result<HttpResponse, PageError> {
    set_portal(&state, &req, caller, path.into_inner(), &form.csrf, true).await
}

async fn set_portal(
    state: &AppState,
    req: &HttpRequest,
    caller: PageCaller,
    id: i64,
    csrf_field: &str,
    active: bool,
) -> Result<HttpResponse, PageError> {
    let actor = caller.0;
    csrf::check_session(state, req, &actor.session_id, csrf_field)?;
    let id = PatientId(id);
    db(state, move |conn, env| {
        patients::set_portal_access(conn, env, &actor, id, active)
    })
    .await?;
    Ok(see_other(&format!("/patients/{}#portal-h", id.0)))
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
                attention: attention(&state).await?,
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
        attention: attention(&state).await?,
        t: TimelineView::from(t),
        preview: true,
        name,
        sessions,
        base: format!("/patients/{id}/timeline"),
        ics_href: String::new(),
        print_href: String::new(),
        check_in: None,
    };
    Ok(render(StatusCode::OK, &page))
}
