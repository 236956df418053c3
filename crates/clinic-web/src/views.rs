//! What the API and the pages show of stored records. The API's schemas are generated from these
//! types (utoipa); values with clinical bounds take them from `clinic-domain` (`schemas`).

use crate::schemas;
use chrono::{NaiveDate, NaiveDateTime, SecondsFormat};
use clinic_app::timeline::SessionTimeline;
use clinic_db::patients::Patient;
use clinic_db::series::{Series, SeriesSummary, Session};
use clinic_domain::protocol::StageKey;
use clinic_domain::series::{MAXIMUM, NextSession, TYPICAL_MAX, preview_next_session, wording};
use serde::Serialize;
use utoipa::ToSchema;

/// Every time in the API: RFC 3339 in UTC.
pub fn utc(t: NaiveDateTime) -> String {
    t.and_utc().to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Patient)]
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

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Session)]
pub struct SessionView {
    pub id: i64,
    pub series_id: i64,
    #[schema(schema_with = schemas::session_number)]
    pub session_number: u8,
    pub performed_on: NaiveDate,
    pub provider_id: i64,
    /// Region codes; `eye_area` is true exactly when `periorbital` is among them.
    #[schema(schema_with = schemas::regions)]
    pub treatment_areas: Vec<&'static str>,
    pub eye_area: bool,
    #[schema(schema_with = schemas::device)]
    pub device: &'static str,
    pub needle_depth_mm: f64,
    #[schema(schema_with = schemas::products)]
    pub products_applied: Vec<&'static str>,
    pub notes: Option<String>,
    /// The timeline stage the notes belong to.
    #[schema(schema_with = schemas::stage_key)]
    pub notes_stage: StageKey,
    pub beyond_typical_acknowledged_by: Option<i64>,
    pub created_at: String,
    /// 1 as recorded; each correction adds one.
    pub revision: i32,
    /// A voided session is kept and shown, and counts nowhere.
    pub void: bool,
    pub voided_at: Option<String>,
    pub void_reason: Option<String>,
    /// The areas and products in words, for pages.
    #[serde(skip)]
    pub area_labels: Vec<&'static str>,
    #[serde(skip)]
    pub product_labels: Vec<&'static str>,
}

impl From<&Session> for SessionView {
    fn from(s: &Session) -> Self {
        Self {
            id: s.id.0,
            series_id: s.series_id.0,
            session_number: s.session_number.get(),
            performed_on: s.performed_on,
            provider_id: s.provider_id.0,
            treatment_areas: s.treatment_areas.codes(),
            eye_area: s.eye_area,
            device: s.device.as_str(),
            needle_depth_mm: s.needle_depth.mm(),
            products_applied: s.products_applied.as_slice().iter().map(|p| p.code()).collect(),
            notes: s.notes.clone(),
            notes_stage: s.notes_stage,
            beyond_typical_acknowledged_by: s.beyond_typical_ack_by.map(|u| u.0),
            created_at: utc(s.created_at),
            revision: s.revision,
            void: s.is_void(),
            voided_at: s.voided_at.map(utc),
            void_reason: s.void_reason.clone(),
            area_labels: s.treatment_areas.labels(),
            product_labels: s.products_applied.as_slice().iter().map(|p| p.name()).collect(),
        }
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Series)]
pub struct SeriesView {
    pub id: i64,
    pub patient_id: i64,
    #[schema(schema_with = schemas::condition)]
    pub condition: &'static str,
    pub condition_label: &'static str,
    #[schema(schema_with = schemas::planned_sessions)]
    pub planned_sessions: u8,
    pub reason: Option<String>,
    pub review_note: Option<String>,
    pub flagged_after_maximum: bool,
    #[schema(schema_with = schemas::series_status)]
    pub status: String,
    pub opened_at: String,
    pub completed_at: Option<String>,
    pub sessions_recorded: u8,
    #[schema(schema_with = schemas::typical_max)]
    pub typical_max: u8,
    #[schema(schema_with = schemas::maximum)]
    pub maximum: u8,
    /// What recording the next session would do.
    #[schema(schema_with = schemas::next_session)]
    pub next_session: NextSession,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sessions: Option<Vec<SessionView>>,
    /// The same, in words for the provider's page.
    #[serde(skip)]
    pub next_session_notice: String,
    #[serde(skip)]
    pub course_summary: String,
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
            next_session_notice: wording::next_session_notice(sessions_recorded, s.planned_sessions, s.is_open()),
            course_summary: wording::course_summary(sessions_recorded, s.planned_sessions),
        }
    }

    pub fn summary(s: &SeriesSummary) -> Self {
        Self::new(&s.series, s.sessions_recorded, None)
    }

    pub fn is_open(&self) -> bool {
        self.status == clinic_db::series::STATUS_OPEN
    }

    /// The number the next session would take.
    pub fn next_number(&self) -> u8 {
        self.sessions_recorded.saturating_add(1)
    }

    /// How the notice about the next session is shown: a warning when it goes beyond typical or the
    /// maximum.
    pub fn notice_class(&self) -> &'static str {
        match self.next_session {
            NextSession::Typical => "notice",
            NextSession::NeedsAcknowledgement | NextSession::Refused => "warning",
            NextSession::SeriesClosed => "",
        }
    }

    pub fn needs_acknowledgement(&self) -> bool {
        self.next_session == NextSession::NeedsAcknowledgement
    }
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Stage)]
pub struct StageView {
    #[schema(schema_with = schemas::stage_key)]
    pub key: StageKey,
    pub title: &'static str,
    pub starts_on: NaiveDate,
    /// Null for the open-ended last stage.
    pub ends_on: Option<NaiveDate>,
    pub instructions: Vec<String>,
    pub cautions: Vec<String>,
    pub is_current: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[schema(as = Timeline)]
pub struct TimelineView {
    pub session: SessionView,
    pub series: SeriesView,
    pub today: NaiveDate,
    /// Days since the procedure (negative while upcoming).
    pub day_number: i64,
    pub upcoming: bool,
    #[schema(schema_with = schemas::optional_stage_key)]
    pub current_stage: Option<StageKey>,
    pub position: String,
    pub stages: Vec<StageView>,
}

impl From<SessionTimeline> for TimelineView {
    fn from(st: SessionTimeline) -> Self {
        let t = st.timeline;
        TimelineView {
            session: SessionView::from(&st.session),
            series: SeriesView::new(&st.series, st.series.recorded(), None),
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
}

#[cfg(test)]
pub(crate) mod tests {
    use clinic_app::timeline::{SessionTimeline, build};
    use clinic_db::series::{Series, Session};
    use clinic_domain::series::{Condition, PlannedSessions, SessionNumber};
    use clinic_domain::session::{Device, NeedleDepth, Product, ProductsApplied, TreatmentAreas};
    use clinic_domain::{PatientId, SeriesId, SessionId, UserId};

    /// A second session around the eyes, with every product and a note, seen two days later.
    pub(crate) fn session_fixture() -> SessionTimeline {
        let day = |d| chrono::NaiveDate::from_ymd_opt(2026, 11, d).unwrap();
        let at = day(20).and_hms_opt(10, 0, 0).unwrap();
        let series = Series {
            id: SeriesId(3),
            patient_id: PatientId(7),
            condition: Condition::AcneScars,
            planned_sessions: PlannedSessions::DEFAULT,
            reason: None,
            review_note: None,
            flagged_after_maximum: false,
            status: "open".into(),
            opened_by: UserId(2),
            opened_at: at,
            completed_at: None,
            sessions_recorded: 2,
        };
        let session = Session {
            id: SessionId(11),
            series_id: series.id,
            session_number: SessionNumber::parse(2).unwrap(),
            performed_on: day(20),
            provider_id: UserId(2),
            treatment_areas: TreatmentAreas::parse(["cheeks", "periorbital"]).unwrap(),
            eye_area: true,
            device: Device::Pen,
            needle_depth: NeedleDepth::from_mm(0.5).unwrap(),
            products_applied: ProductsApplied::new(Product::ALL),
            notes: Some("Serum at night; no retinol, please.".into()),
            beyond_typical_ack_by: None,
            created_at: at,
            patient_id: Some(series.patient_id),
            notes_stage: clinic_domain::protocol::StageKey::Days2To7,
            revision: 1,
            revised_at: None,
            revised_by: None,
            revision_reason: None,
            voided_at: None,
            voided_by: None,
            void_reason: None,
        };
        let timeline = build(&session, &series, day(22));
        SessionTimeline {
            session,
            series,
            timeline,
        }
    }
}
