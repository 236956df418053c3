//! Patients: providers create and correct them; staff list, search and read them.

use crate::auth::{ApiCaller, Caller};
use crate::error::AppError;
use crate::views::{PatientView, SeriesView};
use crate::{AppState, RouteSpec, blocking};
use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use chrono::NaiveDate;
use clinic_db::patients::Patient;
use clinic_db::{patients, series, users};
use clinic_domain::patient::{NewPatient, PatientInput};
use clinic_domain::user::Role;
use clinic_domain::{FieldError, PatientId};
use serde::{Deserialize, Serialize};

pub fn routes(v: &mut Vec<RouteSpec>) {
    v.push(RouteSpec::new(Method::POST, "/api/v1/patients", || {
        web::post().to(create)
    }));
    v.push(RouteSpec::new(Method::GET, "/api/v1/patients", || web::get().to(list)));
    v.push(RouteSpec::new(Method::GET, "/api/v1/patients/{id}", || {
        web::get().to(show)
    }));
    v.push(RouteSpec::new(Method::PUT, "/api/v1/patients/{id}", || {
        web::put().to(update)
    }));
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PatientBody {
    pub first_name: String,
    pub last_name: String,
    pub date_of_birth: String,
    pub email: Option<String>,
    pub phone: Option<String>,
}

/// Parses a date typed as `YYYY-MM-DD`.
pub(crate) fn parse_date(field: &'static str, raw: &str) -> Result<NaiveDate, FieldError> {
    NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
        .map_err(|_| FieldError::new(field, "must be a date written YYYY-MM-DD"))
}

impl PatientBody {
    pub(crate) fn parse(&self, today: NaiveDate) -> Result<NewPatient, AppError> {
        let date_of_birth = parse_date("date_of_birth", &self.date_of_birth)?;
        let input = PatientInput {
            first_name: &self.first_name,
            last_name: &self.last_name,
            date_of_birth: Some(date_of_birth),
            email: self.email.as_deref(),
            phone: self.phone.as_deref(),
        };
        NewPatient::parse(input, today).map_err(|mut errors| AppError::Validation(errors.remove(0)))
    }
}

/// Creates a patient (`id` None) or corrects one, keeping the prior version; shared by the API and
/// the provider's pages.
pub(crate) async fn save_patient(
    state: &AppState,
    caller: &Caller,
    id: Option<PatientId>,
    body: &PatientBody,
) -> Result<Patient, AppError> {
    caller.require(state, &[Role::Provider])?;
    let parsed = body.parse(state.clock.today_in(state.settings.timezone))?;
    let (st, caller) = (state.clone(), caller.clone());
    blocking(move || {
        let now = st.now();
        let mut conn = st.conn()?;
        Ok(conn.write_transaction(|conn| {
            let (p, action) = match id {
                None => (patients::insert(conn, &parsed, caller.user.id, now)?, "patient.create"),
                Some(id) => (
                    patients::update(conn, id, &parsed, caller.user.id, now)?,
                    "patient.update",
                ),
            };
            clinic_db::audit::insert(conn, &caller.event(&st, action, "success").patient(Some(p.id)).build())?;
            Ok::<_, clinic_db::DbError>(p)
        })?)
    })
    .await
}

async fn create(
    state: web::Data<AppState>,
    caller: ApiCaller,
    body: web::Json<PatientBody>,
) -> Result<HttpResponse, AppError> {
    let patient = save_patient(&state, &caller.0, None, &body).await?;
    Ok(HttpResponse::Created().json(PatientView::from(&patient)))
}

async fn update(
    state: web::Data<AppState>,
    caller: ApiCaller,
    path: web::Path<i64>,
    body: web::Json<PatientBody>,
) -> Result<HttpResponse, AppError> {
    let patient = save_patient(&state, &caller.0, Some(PatientId(path.into_inner())), &body).await?;
    Ok(HttpResponse::Ok().json(PatientView::from(&patient)))
}

#[derive(Deserialize)]
struct Search {
    q: Option<String>,
    limit: Option<i64>,
}

async fn list(
    state: web::Data<AppState>,
    caller: ApiCaller,
    query: web::Query<Search>,
) -> Result<HttpResponse, AppError> {
    let q = query.q.clone().unwrap_or_default();
    let limit = query.limit.unwrap_or(50).clamp(1, 200);
    let found = search_patients(&state, &caller.0, q, limit).await?;
    Ok(HttpResponse::Ok().json(found.iter().map(PatientView::from).collect::<Vec<_>>()))
}

/// Patients matching `q` (all when blank), for staff; the search is audited. Shared by the API and the
/// patient list page.
pub(crate) async fn search_patients(
    state: &AppState,
    caller: &Caller,
    q: String,
    limit: i64,
) -> Result<Vec<Patient>, AppError> {
    caller.require(state, &[Role::Provider, Role::Manager])?;
    let st = state.clone();
    let caller = caller.clone();
    blocking(move || {
        let found = patients::search(&mut *st.conn()?, &q, limit)?;
        st.audit.record(
            caller
                .event(&st, "patient.list", "success")
                .detail(format!("{} found", found.len())),
        );
        Ok(found)
    })
    .await
}

#[derive(Serialize)]
struct PatientDetail {
    #[serde(flatten)]
    patient: PatientView,
    has_portal_login: bool,
    series: Vec<SeriesView>,
}

async fn show(state: web::Data<AppState>, caller: ApiCaller, path: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let caller = caller.0;
    caller.require(&state, &[Role::Provider, Role::Manager])?;
    let id = PatientId(path.into_inner());
    let st = state.clone();
    let detail = blocking(move || {
        let mut conn = st.conn()?;
        let patient = patients::find(&mut conn, id)?;
        let series = series::list_for_patient(&mut conn, id)?;
        let has_portal_login = users::find_by_patient(&mut conn, id)?.is_some();
        st.audit
            .record(caller.event(&st, "patient.read", "success").patient(Some(id)));
        Ok(PatientDetail {
            patient: PatientView::from(&patient),
            has_portal_login,
            series: series.iter().map(SeriesView::summary).collect(),
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(detail))
}
