//! The personalised aftercare timeline: as JSON, and as an iCalendar file for the patient.

use crate::auth::{ApiCaller, api_read, kept_api_read};
use crate::error::{ApiError, ErrorBody};
use crate::routes::RouteSpec;
use crate::run::read;
use crate::state::AppState;
use crate::views::TimelineView;
use actix_web::http::{Method, header};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Days, Utc};
use clinic_app::timeline::{self, Found};
use clinic_app::{Actor, Env, Error};
use clinic_db::DbConn;
use clinic_db::login_sessions::Latest;
use clinic_domain::user::Role;
use clinic_domain::{PatientId, SessionId};
use icalendar::{Calendar, Component, Event, EventLike, Property};
use serde::Deserialize;
use std::sync::Arc;
use utoipa::IntoParams;

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

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct Which {
    /// An earlier session of the patient's; the latest when absent.
    pub session_id: Option<i64>,
}

/// The signed-in patient's own session for its timeline. The latest session's: from what the kept
/// reads hold, its account's number checked with the audit row's group commit; otherwise the session
/// check and the latest session are one query, or one lookup of a number while what it read last is
/// still current.
async fn own_timeline(state: &AppState, req: &HttpRequest, which: &Which) -> Result<Found, Error> {
    let named = which.session_id.map(SessionId);
    if named.is_none()
        && let Some((_, found)) = kept_api_read(req, |env, actor, latest| latest_of(env, actor, latest.clone())).await?
    {
        return Ok(found);
    }
    let kept = Arc::clone(&state.kept_reads);
    let lookup = move |conn: &mut DbConn, sid: &str| Ok(kept.find_with_latest_session(conn, sid)?);
    let (_, found) = api_read(req, lookup, move |conn, env, actor, latest| match named {
        Some(_) => {
            actor.require(env, &[Role::Patient])?;
            timeline::find_for_patient(conn, env, actor, actor.own_patient()?, named)
        }
        None => latest_of(env, actor, latest),
    })
    .await?;
    Ok(found)
}

/// The patient's own latest session (`latest`, read with their login session), audited.
fn latest_of(env: &Env<'_>, actor: &Actor, latest: Latest) -> Result<Found, Error> {
    actor.require(env, &[Role::Patient])?;
    timeline::audited(env, actor, actor.own_patient()?, latest, false)
}

/// The patient's aftercare timeline (patient).
#[utoipa::path(get, path = "/api/v1/me/timeline", tag = "timeline", params(Which),
    responses((status = 200, body = TimelineView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn mine(
    state: web::Data<AppState>,
    req: HttpRequest,
    which: web::Query<Which>,
) -> Result<HttpResponse, ApiError> {
    let found = own_timeline(&state, &req, &which).await?;
    let body = state
        .timelines
        .json(found)
        .map_err(|e| Error::internal("the timeline could not be serialised", e))?;
    Ok(HttpResponse::Ok().insert_header(header::ContentType::json()).body(body))
}

/// The timeline as an iCalendar file (patient).
#[utoipa::path(get, path = "/api/v1/me/timeline.ics", tag = "timeline", params(Which),
    responses((status = 200, content_type = "text/calendar", body = String), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn mine_ics(
    state: web::Data<AppState>,
    req: HttpRequest,
    which: web::Query<Which>,
) -> Result<HttpResponse, ApiError> {
    let view = TimelineView::from(own_timeline(&state, &req, &which).await?.built());
    Ok(ics_response(&view, state.clock.now()))
}

/// The patient's timeline as they see it (provider, manager).
#[utoipa::path(get, path = "/api/v1/patients/{id}/timeline", tag = "timeline", params(("id" = i64, Path), Which),
    responses((status = 200, body = TimelineView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn of_patient(
    state: web::Data<AppState>,
    caller: ApiCaller,
    path: web::Path<i64>,
    which: web::Query<Which>,
) -> Result<HttpResponse, ApiError> {
    let (actor, id) = (caller.0, PatientId(path.into_inner()));
    actor.require(&state.env(), &[Role::Provider, Role::Manager])?;
    let session = which.session_id.map(SessionId);
    let found = read(&state, move |conn, env| {
        timeline::for_patient(conn, env, &actor, id, session)
    })
    .await?;
    Ok(HttpResponse::Ok().json(TimelineView::from(found)))
}

pub(crate) fn ics_response(view: &TimelineView, now: DateTime<Utc>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/calendar; charset=utf-8"))
        .insert_header((header::CONTENT_DISPOSITION, "attachment; filename=\"aftercare.ics\""))
        .body(to_ics(view, now))
}

/// One all-day event per stage, carrying its cautions and instructions. Titles name no patient.
pub(crate) fn to_ics(view: &TimelineView, now: DateTime<Utc>) -> String {
    let mut calendar = Calendar::empty();
    calendar
        .append_property(Property::new("VERSION", "2.0"))
        .append_property(Property::new(
            "PRODID",
            "-//Micro-needling clinic//Aftercare timeline//EN",
        ))
        .append_property(Property::new("CALSCALE", "GREGORIAN"))
        .append_property(Property::new("METHOD", "PUBLISH"));
    for stage in &view.stages {
        // DTEND is exclusive; the open-ended last stage is shown on its first day.
        let last = stage.ends_on.unwrap_or(stage.starts_on);
        let end = last.checked_add_days(Days::new(1)).unwrap_or(last);
        let mut description: Vec<String> = stage.cautions.iter().map(|c| format!("Caution: {c}")).collect();
        description.extend(stage.instructions.iter().cloned());
        calendar.push(
            Event::new()
                .uid(&format!("session-{}-{}@clinic", view.session.id, stage.key.as_str()))
                .timestamp(now)
                .starts(stage.starts_on)
                .ends(end)
                .summary(&format!("Aftercare: {}", stage.title))
                .description(&description.join("\n"))
                .add_property("TRANSP", "TRANSPARENT")
                .done(),
        );
    }
    calendar.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_calendar_parses_back_with_every_stage_and_its_text() {
        let session = crate::views::tests::session_fixture();
        let now = Utc.with_ymd_and_hms(2026, 11, 25, 9, 0, 0).unwrap();
        let view = TimelineView::from(session);
        let text = to_ics(&view, now);
        assert!(text.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"), "{text}");
        assert!(text.split("\r\n").all(|l| l.len() <= 75), "{text}");
        let parsed: icalendar::Calendar = text.parse().unwrap();
        let events: Vec<&Event> = parsed.components.iter().filter_map(|c| c.as_event()).collect();
        assert_eq!(events.len(), view.stages.len());
        for (event, stage) in events.iter().zip(&view.stages) {
            assert_eq!(
                event.get_summary(),
                Some(format!("Aftercare: {}", stage.title).as_str())
            );
            let description = event.get_description().unwrap_or_default().to_owned();
            for line in stage.cautions.iter().chain(&stage.instructions) {
                assert!(
                    description.contains(line.as_str()),
                    "{line:?} missing from {description:?}"
                );
            }
        }
    }
}
