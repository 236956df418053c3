//! What the API and the pages show of stored records, and the timeline built from them.

use chrono::{NaiveDate, NaiveDateTime, SecondsFormat};
use clinic_db::patients::Patient;
use clinic_db::series::{Series, SeriesSummary, Session};
use clinic_domain::protocol::{Protocol, StageKey};
use clinic_domain::series::{MAXIMUM, NextSession, TYPICAL_MAX, preview_next_session};
use clinic_domain::session::Notes;
use clinic_domain::timeline::{SessionFacts, Timeline};
use serde::Serialize;

pub fn utc(t: NaiveDateTime) -> String {
    t.and_utc().to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[derive(Debug, Clone, Serialize)]
pub struct PatientView {
    pub id: i64,
    pub first_name: String,
    pub last_name: String,
    pub date_of_birth: NaiveDate,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}

impl From<&Patient> for PatientView {
    fn from(p: &Patient) -> Self {
        Self {
            id: p.id.0,
            first_name: p.first_name.clone(),
            last_name: p.last_name.clone(),
            date_of_birth: p.date_of_birth,
            email: p.email.clone(),
            phone: p.phone.clone(),
            created_at: utc(p.created_at),
            updated_at: utc(p.updated_at),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct SessionView {
    pub id: i64,
    pub series_id: i64,
    pub session_number: u8,
    pub performed_on: NaiveDate,
    pub provider_id: i64,
    pub treatment_areas: Vec<String>,
    pub eye_area: bool,
    pub device: &'static str,
    pub needle_depth_mm: f64,
    pub products_applied: Vec<&'static str>,
    pub notes: Option<String>,
    pub beyond_typical_acknowledged_by: Option<i64>,
    pub created_at: String,
}

impl From<&Session> for SessionView {
    fn from(s: &Session) -> Self {
        Self {
            id: s.id.0,
            series_id: s.series_id.0,
            session_number: s.session_number.get(),
            performed_on: s.performed_on,
            provider_id: s.provider_id.0,
            treatment_areas: s.treatment_areas.as_slice().to_vec(),
            eye_area: s.eye_area,
            device: s.device.as_str(),
            needle_depth_mm: s.needle_depth.mm(),
            products_applied: s.products_applied.as_slice().iter().map(|p| p.code()).collect(),
            notes: s.notes.clone(),
            beyond_typical_acknowledged_by: s.beyond_typical_ack_by.map(|u| u.0),
            created_at: utc(s.created_at),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct SeriesView {
    pub id: i64,
    pub patient_id: i64,
    pub condition: &'static str,
    pub condition_label: &'static str,
    pub planned_sessions: u8,
    pub reason: Option<String>,
    pub review_note: Option<String>,
    pub flagged_after_maximum: bool,
    pub status: String,
    pub opened_at: String,
    pub completed_at: Option<String>,
    pub sessions_recorded: u8,
    pub typical_max: u8,
    pub maximum: u8,
    /// What recording the next session would do: typical, needs_acknowledgement, refused, series_closed.
    pub next_session: NextSession,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sessions: Option<Vec<SessionView>>,
}

impl SeriesView {
    pub fn new(s: &Series, sessions_recorded: u8, sessions: Option<&[Session]>) -> Self {
        Self {
            id: s.id.0,
            patient_id: s.patient_id.0,
            condition: s.condition.code(),
            condition_label: s.condition.label(),
            planned_sessions: s.planned_sessions.get(),
            reason: s.reason.clone(),
            review_note: s.review_note.clone(),
            flagged_after_maximum: s.flagged_after_maximum,
            status: s.status.clone(),
            opened_at: utc(s.opened_at),
            completed_at: s.completed_at.map(utc),
            sessions_recorded,
            typical_max: TYPICAL_MAX,
            maximum: MAXIMUM,
            next_session: preview_next_session(sessions_recorded, s.planned_sessions, s.is_open()),
            sessions: sessions.map(|v| v.iter().map(SessionView::from).collect()),
        }
    }

    pub fn summary(s: &SeriesSummary) -> Self {
        Self::new(&s.series, s.sessions_recorded, None)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct StageView {
    pub key: StageKey,
    pub title: &'static str,
    pub starts_on: NaiveDate,
    pub ends_on: Option<NaiveDate>,
    pub instructions: Vec<String>,
    pub cautions: Vec<String>,
    pub is_current: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct TimelineView {
    pub session: SessionView,
    pub series: SeriesView,
    pub today: NaiveDate,
    /// Days since the procedure (negative while upcoming).
    pub day_number: i64,
    pub upcoming: bool,
    pub current_stage: Option<StageKey>,
    pub position: String,
    pub stages: Vec<StageView>,
}

/// The timeline of `session` as of the clinic's `today`.
pub fn timeline(session: &Session, series: &Series, sessions_recorded: u8, today: NaiveDate) -> TimelineView {
    let notes = Notes::parse("notes", session.notes.as_deref()).ok().flatten();
    let facts = SessionFacts {
        performed_on: session.performed_on,
        eye_area: session.eye_area,
        products_applied: &session.products_applied,
        notes: notes.as_ref(),
        number: session.session_number,
        planned: series.planned_sessions,
    };
    let t: Timeline = Protocol::default().timeline_on(&facts, today);
    TimelineView {
        session: SessionView::from(session),
        series: SeriesView::new(series, sessions_recorded, None),
        today: t.today,
        day_number: t.day_number,
        upcoming: t.upcoming,
        current_stage: t.current,
        position: t.position,
        stages: t
            .stages
            .into_iter()
            .map(|s| StageView {
                key: s.key,
                title: s.title,
                starts_on: s.starts_on,
                ends_on: s.ends_on,
                instructions: s.instructions,
                cautions: s.cautions,
                is_current: s.is_current,
            })
            .collect(),
    }
}
