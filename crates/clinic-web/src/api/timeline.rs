//! The personalised aftercare timeline: as JSON, and as an iCalendar file for the patient.

use crate::auth::{ApiCaller, Caller, api_read};
use crate::error::AppError;
use crate::views::{TimelineView, timeline};
use crate::{AppState, RouteSpec, quick_read};
use actix_web::http::{Method, StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{Days, NaiveDate};
use clinic_db::series::{Series, Session};
use clinic_db::{DbConn, login_sessions, series};
use clinic_domain::user::Role;
use clinic_domain::{PatientId, SessionId};
use serde::Deserialize;

pub fn routes(v: &mut Vec<RouteSpec>) {
    v.push(RouteSpec::new(Method::GET, "/api/v1/me/timeline", || {
        web::get().to(mine)
    }));
    v.push(RouteSpec::new(Method::GET, "/api/v1/me/timeline.ics", || {
        web::get().to(mine_ics)
    }));
    v.push(RouteSpec::new(Method::GET, "/api/v1/patients/{id}/timeline", || {
        web::get().to(of_patient)
    }));
}

#[derive(Deserialize)]
pub(crate) struct Which {
    pub session_id: Option<i64>,
}

fn no_session() -> AppError {
    AppError::rule(
        StatusCode::NOT_FOUND,
        "no_session",
        "no session has been recorded for this patient yet",
    )
}

/// The timeline of a patient's session (the latest when none is named), as of the clinic's today.
pub(crate) async fn load(
    state: &AppState,
    caller: &Caller,
    patient: PatientId,
    session: Option<SessionId>,
) -> Result<TimelineView, AppError> {
    caller.may_read_patient(state, patient)?;
    let (st, caller) = (state.clone(), caller.clone());
    quick_read(state, move |conn| read(conn, &st, &caller, patient, session)).await
}

/// [`load`]'s reading, on a connection the caller already holds.
fn read(
    conn: &mut DbConn,
    st: &AppState,
    caller: &Caller,
    patient: PatientId,
    session: Option<SessionId>,
) -> Result<TimelineView, AppError> {
    let found = match session {
        Some(id) => {
            let s = series::find_session(conn, id).map_err(|_| AppError::NotFound)?;
            let sr = series::find(conn, s.series_id)?;
            (sr.patient_id == patient).then_some((s, sr))
        }
        None => series::latest_session_of_patient(conn, patient)?,
    };
    view(st, caller, patient, found, session.is_some())
}

/// The timeline of `found`, audited as read; `named` when the caller asked for one session.
fn view(
    st: &AppState,
    caller: &Caller,
    patient: PatientId,
    found: Option<(Session, Series)>,
    named: bool,
) -> Result<TimelineView, AppError> {
    let Some((session, sr)) = found else {
        return Err(if named { AppError::NotFound } else { no_session() });
    };
    st.audit.record(
        caller
            .event(st, "timeline.read", "success")
            .patient(Some(patient))
            .subject(format!("session:{}", session.id)),
    );
    let today = st.clock.today_in(st.settings.timezone);
    Ok(timeline(&session, &sr, sr.recorded(), today))
}

/// The signed-in patient's own timeline: the session check and the latest session are one query.
async fn own_timeline(state: &AppState, req: &HttpRequest, which: &Which) -> Result<TimelineView, AppError> {
    let st = state.clone();
    let named = which.session_id.map(SessionId);
    let lookup = |conn: &mut DbConn, sid: &str| Ok(login_sessions::find_with_latest_session(conn, sid)?);
    let (_, view) = api_read(req, lookup, move |conn, caller, latest| {
        caller.require(&st, &[Role::Patient])?;
        let patient = own_patient(caller)?;
        match named {
            Some(_) => read(conn, &st, caller, patient, named),
            None => self::view(&st, caller, patient, latest, false),
        }
    })
    .await?;
    Ok(view)
}

fn own_patient(caller: &Caller) -> Result<PatientId, AppError> {
    caller.user.patient_id.ok_or(AppError::Forbidden)
}

async fn mine(
    state: web::Data<AppState>,
    req: HttpRequest,
    which: web::Query<Which>,
) -> Result<HttpResponse, AppError> {
    Ok(HttpResponse::Ok().json(own_timeline(&state, &req, &which).await?))
}

async fn of_patient(
    state: web::Data<AppState>,
    caller: ApiCaller,
    path: web::Path<i64>,
    which: web::Query<Which>,
) -> Result<HttpResponse, AppError> {
    let caller = caller.0;
    caller.require(&state, &[Role::Provider, Role::Manager])?;
    let view = load(
        &state,
        &caller,
        PatientId(path.into_inner()),
        which.session_id.map(SessionId),
    )
    .await?;
    Ok(HttpResponse::Ok().json(view))
}

async fn mine_ics(
    state: web::Data<AppState>,
    req: HttpRequest,
    which: web::Query<Which>,
) -> Result<HttpResponse, AppError> {
    let view = own_timeline(&state, &req, &which).await?;
    Ok(ics_response(&view, state.clock.now()))
}

pub(crate) fn ics_response(view: &TimelineView, now: chrono::DateTime<chrono::Utc>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/calendar; charset=utf-8"))
        .insert_header((header::CONTENT_DISPOSITION, "attachment; filename=\"aftercare.ics\""))
        .body(to_ics(view, now))
}

/// RFC 5545 text escaping.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace(';', "\\;")
        .replace(',', "\\,")
        .replace('\n', "\\n")
}

/// Folds a content line at 75 octets (RFC 5545 §3.1), never inside a UTF-8 character.
fn fold(line: &str) -> String {
    let mut out = String::new();
    let mut width = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += n;
    }
    out.push_str("\r\n");
    out
}

fn ics_date(d: NaiveDate) -> String {
    d.format("%Y%m%d").to_string()
}

/// One all-day event per stage, carrying its cautions and instructions. Titles name no patient.
pub(crate) fn to_ics(view: &TimelineView, now: chrono::DateTime<chrono::Utc>) -> String {
    let stamp = now.format("%Y%m%dT%H%M%SZ").to_string();
    let mut lines = vec![
        "BEGIN:VCALENDAR".to_owned(),
        "VERSION:2.0".to_owned(),
        "PRODID:-//Micro-needling clinic//Aftercare timeline//EN".to_owned(),
        "CALSCALE:GREGORIAN".to_owned(),
        "METHOD:PUBLISH".to_owned(),
    ];
    for stage in &view.stages {
        // DTEND is exclusive; the open-ended last stage is shown on its first day.
        let last = stage.ends_on.unwrap_or(stage.starts_on);
        let end = last.checked_add_days(Days::new(1)).unwrap_or(last);
        let mut description: Vec<String> = stage.cautions.iter().map(|c| format!("Caution: {c}")).collect();
        description.extend(stage.instructions.iter().cloned());
        lines.push("BEGIN:VEVENT".into());
        lines.push(format!("UID:session-{}-{}@clinic", view.session.id, stage.key.as_str()));
        lines.push(format!("DTSTAMP:{stamp}"));
        lines.push(format!("DTSTART;VALUE=DATE:{}", ics_date(stage.starts_on)));
        lines.push(format!("DTEND;VALUE=DATE:{}", ics_date(end)));
        lines.push(format!("SUMMARY:{}", escape(&format!("Aftercare: {}", stage.title))));
        lines.push(format!("DESCRIPTION:{}", escape(&description.join("\n"))));
        lines.push("TRANSP:TRANSPARENT".into());
        lines.push("END:VEVENT".into());
    }
    lines.push("END:VCALENDAR".into());
    lines.iter().map(|l| fold(l)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_fold_at_75_octets_without_splitting_characters() {
        let long = format!("DESCRIPTION:{}", "é".repeat(60));
        let folded = fold(&long);
        for line in folded.split("\r\n") {
            assert!(line.len() <= 75, "{} octets", line.len());
        }
        assert_eq!(folded.replace("\r\n ", "").trim_end(), long);
        assert_eq!(escape("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
    }
}
