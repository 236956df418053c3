//! The session form (to record and to correct), corrections with a reason, voiding the most recent
//! session, and every version of a session.

use crate::api::series::RecordBody;
use crate::api::sessions::RevisionView;
use crate::auth::PageCaller;
use crate::csrf;
use crate::html::{Fields, PageError, field_message, render, see_other, shown_on_form};
use crate::routes::RouteSpec;
use crate::run::db;
use crate::state::AppState;
use crate::views::SessionView;
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::NaiveDate;
use clinic_app::clinic::Clinic;
use clinic_app::sessions::{self, Changes};
use clinic_app::{Actor, Error};
use clinic_db::series::{Session, SessionRecord};
use clinic_domain::SessionId;
use clinic_domain::protocol::StageKey;
use clinic_domain::session::{Device, NeedleDepth, Product, Region};
use clinic_domain::user::Role;
use std::sync::Arc;

pub fn routes(v: &mut Vec<RouteSpec>) {
    v.push(RouteSpec::new(Method::GET, "/sessions/{id}/edit", || {
        web::get().to(edit_form)
    }));
    v.push(RouteSpec::new(Method::POST, "/sessions/{id}/edit", || {
        web::post().to(edit)
    }));
    v.push(RouteSpec::new(Method::POST, "/sessions/{id}/void", || {
        web::post().to(void)
    }));
    v.push(RouteSpec::new(Method::GET, "/sessions/{id}/revisions", || {
        web::get().to(revisions)
    }));
}

/// One box of a list of checkboxes.
pub(crate) struct Choice {
    pub code: &'static str,
    pub label: &'static str,
    pub checked: bool,
}

/// The fields of the session form with their values: blank for a new session (no clinical value is
/// filled in for the provider), the session's own for a correction, or what was sent when it is shown
/// again with an error, so nothing typed is lost.
pub(crate) struct SessionFields {
    /// Makes the fields' element ids unique on the page.
    pub suffix: i64,
    /// True when no device is chosen yet.
    pub no_device: bool,
    pub performed_on: String,
    pub regions: Vec<Choice>,
    pub devices: Vec<Choice>,
    pub depth: String,
    pub depth_min: f64,
    pub depth_max: f64,
    pub products: Vec<Choice>,
    pub notes: String,
    pub stages: Vec<Choice>,
    pub eye_region: &'static str,
}

impl SessionFields {
    fn with(suffix: i64, regions: &[&str], products: &[&str], device: &str, stage: &str) -> Self {
        let stage = if stage.is_empty() {
            StageKey::Days2To7.as_str()
        } else {
            stage
        };
        Self {
            suffix,
            no_device: !Device::ALL.iter().any(|d| d.as_str() == device),
            performed_on: String::new(),
            regions: Region::ALL
                .iter()
                .map(|r| Choice {
                    code: r.code(),
                    label: r.label(),
                    checked: regions.contains(&r.code()),
                })
                .collect(),
            devices: Device::ALL
                .into_iter()
                .map(|d| Choice {
                    code: d.as_str(),
                    label: d.label(),
                    checked: d.as_str() == device,
                })
                .collect(),
            depth: String::new(),
            depth_min: NeedleDepth::MIN.mm(),
            depth_max: NeedleDepth::MAX.mm(),
            products: Product::ALL
                .iter()
                .map(|p| Choice {
                    code: p.code(),
                    label: p.name(),
                    checked: products.contains(&p.code()),
                })
                .collect(),
            notes: String::new(),
            stages: StageKey::ALL
                .iter()
                .map(|k| Choice {
                    code: k.as_str(),
                    label: k.title(),
                    checked: k.as_str() == stage,
                })
                .collect(),
            eye_region: Region::Periorbital.label(),
        }
    }

    /// A new session's form: only the date (today) is filled in.
    pub fn blank(suffix: i64, today: NaiveDate) -> Self {
        Self {
            performed_on: today.to_string(),
            ..Self::with(suffix, &[], &[], "", "")
        }
    }

    /// A correction's form, with the session as it is.
    pub fn of(s: &Session) -> Self {
        let codes: Vec<&str> = s.products_applied.as_slice().iter().map(|p| p.code()).collect();
        Self {
            performed_on: s.performed_on.to_string(),
            depth: s.needle_depth.mm().to_string(),
            notes: s.notes.clone().unwrap_or_default(),
            ..Self::with(
                s.id.0,
                &s.treatment_areas.codes(),
                &codes,
                s.device.as_str(),
                s.notes_stage.as_str(),
            )
        }
    }

    /// The form as it was sent.
    pub fn sent(suffix: i64, form: &Fields) -> Self {
        let (regions, products) = (form.all("treatment_areas"), form.all("products_applied"));
        let regions: Vec<&str> = regions.iter().map(String::as_str).collect();
        let products: Vec<&str> = products.iter().map(String::as_str).collect();
        Self {
            performed_on: form.get("performed_on").to_owned(),
            depth: form.get("needle_depth_mm").to_owned(),
            notes: form.get("notes").to_owned(),
            ..Self::with(suffix, &regions, &products, form.get("device"), form.get("notes_stage"))
        }
    }

    /// The session the form describes, checked as the API checks it.
    pub fn record(form: &Fields) -> Result<SessionRecord, Error> {
        let depth = form.get("needle_depth_mm").trim();
        let needle_depth_mm = depth.parse::<f64>().map_err(|_| {
            clinic_domain::FieldError::new(
                "needle_depth_mm",
                format!(
                    "must be a number of millimetres, {} to {}",
                    NeedleDepth::MIN.mm(),
                    NeedleDepth::MAX.mm()
                ),
            )
        })?;
        let stage = form.get("notes_stage").trim();
        let body = RecordBody {
            performed_on: form.get("performed_on").to_owned(),
            treatment_areas: form.all("treatment_areas"),
            eye_area: None,
            device: form.get("device").to_owned(),
            needle_depth_mm,
            products_applied: form.all("products_applied"),
            notes: Some(form.get("notes").to_owned()),
            notes_stage: (!stage.is_empty()).then(|| stage.to_owned()),
            acknowledge_beyond_typical: Some(form.ticked("acknowledge_beyond_typical")),
            consent_override_reason: None,
        };
        Ok(SessionRecord::try_from(&body)?)
    }
}

#[derive(Template)]
#[template(path = "session_edit.html")]
struct EditPage {
    clinic: Arc<Clinic>,
    attention: i64,
    session: SessionView,
    patient_id: i64,
    f: SessionFields,
    reason: String,
    csrf: String,
    error: Option<String>,
    /// Only the most recent session of a series can be voided.
    voidable: bool,
}

#[derive(Template)]
#[template(path = "revisions.html")]
struct RevisionsPage {
    clinic: Arc<Clinic>,
    attention: i64,
    manager_nav: bool,
    session: SessionView,
    patient_id: i64,
    /// Each version with the name of who made it.
    versions: Vec<(RevisionView, String)>,
}

/// The session, whether it can be voided, and the open alerts' count for the navigation.
async fn load(state: &AppState, actor: &Actor, id: SessionId) -> Result<(Session, bool, i64), Error> {
    let a = actor.clone();
    db(state, move |conn, env| {
        let s = sessions::find(conn, env, &a, id)?;
        let latest = clinic_db::series::latest_live_session(conn, s.series_id)?;
        let attention = clinic_app::check_ins::open_count(conn)?;
        Ok((s, latest == Some(id), attention))
    })
    .await
}

async fn edit_page(
    state: &AppState,
    actor: &Actor,
    id: SessionId,
    status: StatusCode,
    sent: Option<(&Fields, String)>,
) -> Result<HttpResponse, PageError> {
    let (s, voidable, attention) = load(state, actor, id).await?;
    let (f, reason, error) = match sent {
        Some((form, error)) => (
            SessionFields::sent(id.0, form),
            form.get("reason").to_owned(),
            Some(error),
        ),
        None => (SessionFields::of(&s), String::new(), None),
    };
    let page = EditPage {
        clinic: state.clinic(),
        attention,
        patient_id: s.patient_id.map_or(0, |p| p.0),
        session: SessionView::from(&s),
        f,
        reason,
        csrf: csrf::session_token(state, &actor.session_id),
        error,
        voidable: voidable && !s.is_void(),
    };
    Ok(render(status, &page))
}

async fn edit_form(
    state: web::Data<AppState>,
    caller: PageCaller,
    path: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    caller.0.require(&state.env(), &[Role::Provider])?;
    edit_page(&state, &caller.0, SessionId(path.into_inner()), StatusCode::OK, None).await
}

/// Where the patient page shows what was done to a session.
fn back_to_patient(s: &Session, what: &str) -> HttpResponse {
    let patient = s.patient_id.map_or(0, |p| p.0);
    see_other(&format!("/patients/{patient}?{what}={}#series-{}", s.id, s.series_id))
}

async fn edit(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: PageCaller,
    path: web::Path<i64>,
    form: web::Form<Fields>,
) -> Result<HttpResponse, PageError> {
    let actor = caller.0;
    csrf::check_form(&state, &req, &actor, &[Role::Provider], form.get("csrf"))?;
    let id = SessionId(path.into_inner());
    let amended = async {
        let why = sessions::reason(Some(form.get("reason")))?;
        let r = SessionFields::record(&form)?;
        let changes = Changes {
            performed_on: Some(r.performed_on),
            treatment_areas: Some(r.treatment_areas),
            eye_area: None,
            device: Some(r.device),
            needle_depth: Some(r.needle_depth),
            products_applied: Some(r.products_applied),
            notes: Some(r.notes),
            notes_stage: Some(r.notes_stage),
        };
        let a = actor.clone();
        db(&state, move |conn, env| {
            sessions::amend(conn, env, &a, id, &changes, &why)
        })
        .await
    };
    match amended.await {
        Ok(s) => Ok(back_to_patient(&s, "corrected")),
        Err(e) if shown_on_form(&e) => {
            let status = crate::error::status_of(e.code());
            edit_page(&state, &actor, id, status, Some((&form, field_message(&e)))).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn void(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: PageCaller,
    path: web::Path<i64>,
    form: web::Form<Fields>,
) -> Result<HttpResponse, PageError> {
    let actor = caller.0;
    csrf::check_form(&state, &req, &actor, &[Role::Provider], form.get("csrf"))?;
    let id = SessionId(path.into_inner());
    let voided = async {
        let why = sessions::reason(Some(form.get("void_reason")))?;
        let a = actor.clone();
        db(&state, move |conn, env| sessions::void(conn, env, &a, id, &why)).await
    };
    match voided.await {
        Ok(s) => Ok(back_to_patient(&s, "voided")),
        Err(e) if shown_on_form(&e) => {
            let status = crate::error::status_of(e.code());
            edit_page(&state, &actor, id, status, Some((&form, field_message(&e)))).await
        }
        Err(e) => Err(e.into()),
    }
}

async fn revisions(
    state: web::Data<AppState>,
    caller: PageCaller,
    path: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    let actor = caller.0;
    let id = SessionId(path.into_inner());
    let a = actor.clone();
    let (versions, current, names, attention) = db(&state, move |conn, env| {
        let (earlier, current) = sessions::revisions(conn, env, &a, id)?;
        let mut versions: Vec<RevisionView> = earlier.iter().map(|r| RevisionView::earlier(r, &current)).collect();
        versions.push(RevisionView::current(&current));
        versions.reverse();
        let mut names = Vec::new();
        for v in &versions {
            let user = clinic_db::users::find(conn, clinic_domain::UserId(v.changed_by))?;
            names.push(user.display_name);
        }
        Ok((versions, current, names, clinic_app::check_ins::open_count(conn)?))
    })
    .await?;
    let versions = versions.into_iter().zip(names).collect();
    let page = RevisionsPage {
        clinic: state.clinic(),
        attention,
        manager_nav: actor.user.role == Role::Manager,
        patient_id: current.patient_id.map_or(0, |p| p.0),
        session: SessionView::from(&current),
        versions,
    };
    Ok(render(StatusCode::OK, &page))
}
