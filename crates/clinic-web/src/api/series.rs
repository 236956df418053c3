//! Treatment series and the sessions recorded in them.

use crate::api::patients::parse_date;
use crate::auth::{ApiCaller, Caller};
use crate::error::AppError;
use crate::views::{SeriesView, SessionView};
use crate::{AppState, RouteSpec, blocking};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpResponse, web};
use chrono::NaiveDate;
use clinic_db::series::{OpenSeriesError, RecordOutcome, SessionRecord};
use clinic_db::{DbError, patients, series};
use clinic_domain::series::{SeriesPlan, SessionRefusal};
use clinic_domain::session::{Device, NeedleDepth, Notes, ProductsApplied, TreatmentAreas};
use clinic_domain::user::Role;
use clinic_domain::{PatientId, SeriesId};
use serde::{Deserialize, Serialize};

pub fn routes(v: &mut Vec<RouteSpec>) {
    v.push(RouteSpec::new(Method::POST, "/api/v1/patients/{id}/series", || {
        web::post().to(open)
    }));
    v.push(RouteSpec::new(Method::GET, "/api/v1/patients/{id}/series", || {
        web::get().to(list)
    }));
    v.push(RouteSpec::new(Method::GET, "/api/v1/series/{id}", || {
        web::get().to(show)
    }));
    v.push(RouteSpec::new(Method::POST, "/api/v1/series/{id}/sessions", || {
        web::post().to(record)
    }));
    v.push(RouteSpec::new(Method::POST, "/api/v1/series/{id}/complete", || {
        web::post().to(complete)
    }));
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OpenBody {
    pub condition: String,
    pub planned_sessions: Option<i64>,
    pub reason: Option<String>,
    pub review_note: Option<String>,
}

impl OpenBody {
    /// The plan and the review note (needed after a course that reached the maximum).
    pub(crate) fn parse(&self) -> Result<(SeriesPlan, Option<Notes>), AppError> {
        let plan = SeriesPlan::parse(self.condition.parse()?, self.planned_sessions, self.reason.as_deref())?;
        Ok((plan, Notes::parse("review_note", self.review_note.as_deref())?))
    }
}

pub(crate) fn open_refusal(e: OpenSeriesError) -> AppError {
    match e {
        OpenSeriesError::Refused(r) => {
            let status = if r.code() == "open_series_exists" {
                StatusCode::CONFLICT
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            AppError::rule(status, r.code(), r.to_string())
        }
        OpenSeriesError::Db(e) => e.into(),
    }
}

/// Opens a series for a patient (shared by the API and the provider's page).
pub(crate) async fn open_series(
    state: &AppState,
    caller: &Caller,
    patient: PatientId,
    body: OpenBody,
) -> Result<SeriesView, AppError> {
    caller.require(state, &[Role::Provider])?;
    let (plan, review) = body.parse()?;
    let st = state.clone();
    let caller = caller.clone();
    blocking(move || {
        let now = st.now();
        let mut conn = st.conn()?;
        let opened = conn.write_transaction(|conn| {
            patients::find(conn, patient)?;
            let s = series::open(conn, patient, &plan, review.as_ref(), caller.user.id, now)?;
            let detail = if s.flagged_after_maximum {
                "flagged: after a series that reached 5"
            } else {
                ""
            };
            clinic_db::audit::insert(
                conn,
                &caller
                    .event(&st, "series.open", "success")
                    .patient(Some(patient))
                    .subject(format!("series:{}", s.id))
                    .detail(detail)
                    .build(),
            )?;
            Ok::<_, OpenSeriesError>(s)
        });
        match opened {
            Ok(s) => Ok(SeriesView::new(&s, 0, Some(&[]))),
            Err(OpenSeriesError::Refused(r)) => {
                st.audit.record(
                    caller
                        .event(&st, "series.open", "refused")
                        .patient(Some(patient))
                        .detail(r.code()),
                );
                Err(open_refusal(OpenSeriesError::Refused(r)))
            }
            Err(e) => Err(open_refusal(e)),
        }
    })
    .await
}

async fn open(
    state: web::Data<AppState>,
    caller: ApiCaller,
    path: web::Path<i64>,
    body: web::Json<OpenBody>,
) -> Result<HttpResponse, AppError> {
    let view = open_series(&state, &caller.0, PatientId(path.into_inner()), body.into_inner()).await?;
    Ok(HttpResponse::Created().json(view))
}

async fn list(state: web::Data<AppState>, caller: ApiCaller, path: web::Path<i64>) -> Result<HttpResponse, AppError> {
    let caller = caller.0;
    let id = PatientId(path.into_inner());
    caller.may_read_patient(&state, id)?;
    let st = state.clone();
    let list = blocking(move || {
        let mut conn = st.conn()?;
        patients::find(&mut conn, id)?;
        let list = series::list_for_patient(&mut conn, id)?;
        st.audit
            .record(caller.event(&st, "series.list", "success").patient(Some(id)));
        Ok(list)
    })
    .await?;
    Ok(HttpResponse::Ok().json(list.iter().map(SeriesView::summary).collect::<Vec<_>>()))
}

/// A series with its sessions, if the caller may read it (another patient's is "not found").
pub(crate) async fn load_series(state: &AppState, caller: &Caller, id: SeriesId) -> Result<SeriesView, AppError> {
    let st = state.clone();
    let caller = caller.clone();
    blocking(move || {
        let mut conn = st.conn()?;
        let s = series::find(&mut conn, id)?;
        caller.may_read_patient(&st, s.patient_id)?;
        let sessions = series::sessions_of(&mut conn, id)?;
        st.audit.record(
            caller
                .event(&st, "series.read", "success")
                .patient(Some(s.patient_id))
                .subject(format!("series:{id}")),
        );
        let n = u8::try_from(sessions.len()).unwrap_or(u8::MAX);
        Ok(SeriesView::new(&s, n, Some(&sessions)))
    })
    .await
}

async fn show(state: web::Data<AppState>, caller: ApiCaller, path: web::Path<i64>) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(load_series(&state, &caller.0, SeriesId(path.into_inner())).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RecordBody {
    pub performed_on: String,
    pub treatment_areas: Vec<String>,
    pub eye_area: bool,
    pub device: String,
    pub needle_depth_mm: f64,
    #[serde(default)]
    pub products_applied: Vec<String>,
    pub notes: Option<String>,
    pub acknowledge_beyond_typical: Option<bool>,
}

impl RecordBody {
    /// The session as the domain takes it; `today` bounds the date.
    pub(crate) fn parse(&self, today: NaiveDate) -> Result<SessionRecord, AppError> {
        let performed_on = parse_date("performed_on", &self.performed_on)?;
        if performed_on > today {
            return Err(clinic_domain::FieldError::new("performed_on", "may not be in the future").into());
        }
        Ok(SessionRecord {
            performed_on,
            treatment_areas: TreatmentAreas::parse(self.treatment_areas.iter().map(String::as_str))?,
            eye_area: self.eye_area,
            device: self.device.parse::<Device>()?,
            needle_depth: NeedleDepth::from_mm(self.needle_depth_mm)?,
            products_applied: ProductsApplied::parse(self.products_applied.iter().map(String::as_str))?,
            notes: Notes::parse("notes", self.notes.as_deref())?,
            acknowledge_beyond_typical: self.acknowledge_beyond_typical.unwrap_or(false),
        })
    }
}

#[derive(Serialize)]
pub(crate) struct Recorded {
    pub session: SessionView,
    pub series: SeriesView,
    pub warnings: Vec<String>,
}

/// Records the next session of a series under the series rule (shared by the API and the page).
pub(crate) async fn record_session(
    state: &AppState,
    caller: &Caller,
    id: SeriesId,
    body: RecordBody,
) -> Result<Recorded, AppError> {
    caller.require(state, &[Role::Provider])?;
    let record = body.parse(state.clock.today_in(state.settings.timezone))?;
    let performed_on = record.performed_on;
    let st = state.clone();
    let caller = caller.clone();
    blocking(move || {
        let now = st.now();
        let mut conn = st.conn()?;
        let outcome = conn.write_transaction(|conn| {
            let s = series::find(conn, id)?;
            let patient = patients::find(conn, s.patient_id)?;
            if performed_on < patient.date_of_birth {
                return Err(AppError::Validation(clinic_domain::FieldError::new(
                    "performed_on",
                    "may not be before the patient's date of birth",
                )));
            }
            let outcome = series::record_session(conn, id, &record, caller.user.id, now)?;
            let (action, outcome_word, detail) = match &outcome {
                RecordOutcome::Recorded { session, admission, .. } => (
                    "session.record",
                    "success",
                    format!(
                        "session {}{}",
                        session.session_number,
                        if admission.beyond_typical {
                            ", beyond typical (acknowledged)"
                        } else {
                            ""
                        }
                    ),
                ),
                RecordOutcome::Refused { refusal, .. } => ("session.record", "refused", refusal.code().to_owned()),
            };
            clinic_db::audit::insert(
                conn,
                &caller
                    .event(&st, action, outcome_word)
                    .patient(Some(s.patient_id))
                    .subject(format!("series:{id}"))
                    .detail(detail)
                    .build(),
            )
            .map_err(AppError::from)?;
            Ok::<_, AppError>(outcome)
        })?;
        match outcome {
            RecordOutcome::Recorded {
                session,
                series: summary,
                admission,
            } => {
                let sessions = series::sessions_of(&mut conn, id)?;
                Ok(Recorded {
                    session: SessionView::from(&session),
                    series: SeriesView::new(&summary.series, summary.sessions_recorded, Some(&sessions)),
                    warnings: admission.warnings,
                })
            }
            RecordOutcome::Refused { refusal, .. } => {
                let status = match refusal {
                    SessionRefusal::AcknowledgementRequired { .. } => StatusCode::UNPROCESSABLE_ENTITY,
                    SessionRefusal::MaximumReached | SessionRefusal::SeriesClosed => StatusCode::CONFLICT,
                };
                Err(AppError::rule(status, refusal.code(), refusal.to_string()))
            }
        }
    })
    .await
}

async fn record(
    state: web::Data<AppState>,
    caller: ApiCaller,
    path: web::Path<i64>,
    body: web::Json<RecordBody>,
) -> Result<HttpResponse, AppError> {
    let recorded = record_session(&state, &caller.0, SeriesId(path.into_inner()), body.into_inner()).await?;
    Ok(HttpResponse::Created().json(recorded))
}

/// Marks a series completed (shared by the API and the provider's page).
pub(crate) async fn complete_series(state: &AppState, caller: &Caller, id: SeriesId) -> Result<SeriesView, AppError> {
    caller.require(state, &[Role::Provider])?;
    let (st, caller) = (state.clone(), caller.clone());
    blocking(move || {
        let now = st.now();
        let mut conn = st.conn()?;
        let (s, n) = conn.write_transaction(|conn| {
            let s = series::complete(conn, id, now)?;
            let audit = caller
                .event(&st, "series.complete", "success")
                .patient(Some(s.patient_id));
            clinic_db::audit::insert(conn, &audit.subject(format!("series:{id}")).build())?;
            let n = series::summary(conn, id)?.sessions_recorded;
            Ok::<_, DbError>((s, n))
        })?;
        Ok(SeriesView::new(&s, n, None))
    })
    .await
}

async fn complete(
    state: web::Data<AppState>,
    caller: ApiCaller,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(complete_series(&state, &caller.0, SeriesId(path.into_inner())).await?))
}
