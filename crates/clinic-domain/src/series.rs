//! The series rule: a course is typically 1–3 sessions and never more than 5 (the clinic's sheet:
//! "a course of 1-3 treatments ... maximum of 5, depending on the condition").

use crate::FieldError;
use crate::session::Notes;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Sessions in a typical course.
pub const TYPICAL_MAX: u8 = 3;
/// Sessions a course may never exceed.
pub const MAXIMUM: u8 = 5;

/// The sheet's advice, shown whenever a course would need more than [`MAXIMUM`] sessions.
pub const BEYOND_MAXIMUM_ADVICE: &str = concat!(
    "A course of micro-needling is at most ",
    // Mirrors MAXIMUM (a test holds them equal).
    "5",
    " sessions. Needing more may point to an unrecognised underlying medical condition: the patient should consult \
     their provider before any further treatment."
);

/// "1st", "2nd", "6th": how people count sessions.
pub fn ordinal(n: u8) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// The condition a course treats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    AcneScars,
    FineLinesAndWrinkles,
    EnlargedPores,
    Hyperpigmentation,
    StretchMarks,
    SurgicalScars,
    Other,
}

impl Condition {
    pub const ALL: [Condition; 7] = [
        Condition::AcneScars,
        Condition::FineLinesAndWrinkles,
        Condition::EnlargedPores,
        Condition::Hyperpigmentation,
        Condition::StretchMarks,
        Condition::SurgicalScars,
        Condition::Other,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Condition::AcneScars => "acne_scars",
            Condition::FineLinesAndWrinkles => "fine_lines_and_wrinkles",
            Condition::EnlargedPores => "enlarged_pores",
            Condition::Hyperpigmentation => "hyperpigmentation",
            Condition::StretchMarks => "stretch_marks",
            Condition::SurgicalScars => "surgical_scars",
            Condition::Other => "other",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Condition::AcneScars => "Acne scars",
            Condition::FineLinesAndWrinkles => "Fine lines and wrinkles",
            Condition::EnlargedPores => "Enlarged pores",
            Condition::Hyperpigmentation => "Hyperpigmentation",
            Condition::StretchMarks => "Stretch marks",
            Condition::SurgicalScars => "Surgical scars",
            Condition::Other => "Other",
        }
    }
}

impl FromStr for Condition {
    type Err = FieldError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Condition::ALL.into_iter().find(|c| c.code() == s.trim()).ok_or_else(|| {
            FieldError::new(
                "condition",
                "must be one of acne_scars, fine_lines_and_wrinkles, enlarged_pores, hyperpigmentation, stretch_marks, surgical_scars, other",
            )
        })
    }
}

impl fmt::Display for Condition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Sessions planned for a course: 1..=5, 3 when not given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PlannedSessions(u8);

impl PlannedSessions {
    pub const DEFAULT: PlannedSessions = PlannedSessions(TYPICAL_MAX);

    pub fn parse(n: i64) -> Result<Self, FieldError> {
        u8::try_from(n)
            .ok()
            .filter(|n| (1..=MAXIMUM).contains(n))
            .map(Self)
            .ok_or_else(|| FieldError::new("planned_sessions", format!("must be from 1 to {MAXIMUM}")))
    }

    pub fn get(self) -> u8 {
        self.0
    }

    pub fn is_beyond_typical(self) -> bool {
        self.0 > TYPICAL_MAX
    }
}

impl Default for PlannedSessions {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The number of a session within its series: 1..=5.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SessionNumber(u8);

impl SessionNumber {
    pub fn parse(n: i64) -> Result<Self, FieldError> {
        u8::try_from(n)
            .ok()
            .filter(|n| (1..=MAXIMUM).contains(n))
            .map(Self)
            .ok_or_else(|| FieldError::new("session_number", format!("must be from 1 to {MAXIMUM}")))
    }

    pub fn get(self) -> u8 {
        self.0
    }

    pub fn is_beyond_typical(self) -> bool {
        self.0 > TYPICAL_MAX
    }

    pub fn is_last_allowed(self) -> bool {
        self.0 == MAXIMUM
    }
}

impl fmt::Display for SessionNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A course's plan: how many sessions, and why when more than typical.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesPlan {
    pub condition: Condition,
    pub planned: PlannedSessions,
    pub reason: Option<Notes>,
}

impl SeriesPlan {
    /// Planning 4 or 5 sessions needs the reason (the condition that justifies it).
    pub fn parse(condition: Condition, planned: Option<i64>, reason: Option<&str>) -> Result<Self, FieldError> {
        let planned = planned.map(PlannedSessions::parse).transpose()?.unwrap_or_default();
        let reason = Notes::parse("reason", reason)?;
        if planned.is_beyond_typical() && reason.is_none() {
            return Err(FieldError::new(
                "reason",
                format!(
                    "planning more than {TYPICAL_MAX} sessions needs a reason: the condition that justifies more than the typical 1-{TYPICAL_MAX}"
                ),
            ));
        }
        Ok(Self {
            condition,
            planned,
            reason,
        })
    }
}

/// What the patient's most recent earlier course looked like, when opening a new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PreviousSeries {
    pub is_open: bool,
    pub sessions_recorded: u8,
}

/// Why a new series cannot be opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenSeriesRefusal {
    #[error("this patient already has an open series; complete it before opening another")]
    OpenSeriesExists,
    #[error(
        "the previous series reached the maximum of {MAXIMUM} sessions; a new series needs a medical-review note. {BEYOND_MAXIMUM_ADVICE}"
    )]
    ReviewNoteRequired,
}

impl OpenSeriesRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            OpenSeriesRefusal::OpenSeriesExists => "open_series_exists",
            OpenSeriesRefusal::ReviewNoteRequired => "review_note_required",
        }
    }
}

/// A new series may be opened; `flagged_after_maximum` marks it for the manager's report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenSeriesDecision {
    pub flagged_after_maximum: bool,
}

/// One open series per patient; after a course that reached 5, a medical-review note is required
/// and the new series is flagged.
pub fn decide_open_series(
    open_exists: bool,
    latest_previous: Option<PreviousSeries>,
    review_note: Option<&Notes>,
) -> Result<OpenSeriesDecision, OpenSeriesRefusal> {
    if open_exists || latest_previous.is_some_and(|p| p.is_open) {
        return Err(OpenSeriesRefusal::OpenSeriesExists);
    }
    let after_maximum = latest_previous.is_some_and(|p| p.sessions_recorded >= MAXIMUM);
    if after_maximum && review_note.is_none() {
        return Err(OpenSeriesRefusal::ReviewNoteRequired);
    }
    Ok(OpenSeriesDecision {
        flagged_after_maximum: after_maximum,
    })
}

/// Why a session cannot be recorded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SessionRefusal {
    #[error(
        "session {number} goes beyond {} (a typical course is 1-3 sessions, at most 5); record it only with the beyond-typical acknowledgement",
        beyond_what(*number, *planned)
    )]
    AcknowledgementRequired {
        number: SessionNumber,
        planned: PlannedSessions,
    },
    #[error("this series already has {MAXIMUM} sessions and a {} is refused. {BEYOND_MAXIMUM_ADVICE}", ordinal(MAXIMUM + 1))]
    MaximumReached,
    #[error("this series is completed; open a new series to record more sessions")]
    SeriesClosed,
}

impl SessionRefusal {
    pub fn code(&self) -> &'static str {
        match self {
            SessionRefusal::AcknowledgementRequired { .. } => "beyond_typical_acknowledgement_required",
            SessionRefusal::MaximumReached => "series_maximum_reached",
            SessionRefusal::SeriesClosed => "series_closed",
        }
    }
}

fn beyond_what(number: SessionNumber, planned: PlannedSessions) -> String {
    match (number.is_beyond_typical(), number.get() > planned.get()) {
        (true, true) => format!(
            "both the typical course of {TYPICAL_MAX} and the {} planned",
            planned.get()
        ),
        (true, false) => format!("the typical course of {TYPICAL_MAX}"),
        _ => format!("the {} planned", planned.get()),
    }
}

/// A session that may be recorded, with the number it takes and any warnings to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionAdmission {
    pub number: SessionNumber,
    /// True when the provider's acknowledgement was needed (and given).
    pub beyond_typical: bool,
    pub warnings: Vec<String>,
}

/// The series rule. `recorded` is how many sessions the series already has.
///
/// Session n = recorded + 1 is recorded when n <= min(planned, 3); when n > 3 or n > planned (and
/// n <= 5) only with the acknowledgement; never when n > 5.
pub fn decide_session(
    recorded: u8,
    planned: PlannedSessions,
    series_open: bool,
    acknowledged: bool,
) -> Result<SessionAdmission, SessionRefusal> {
    let n = recorded.saturating_add(1);
    if n > MAXIMUM {
        return Err(SessionRefusal::MaximumReached);
    }
    if !series_open {
        return Err(SessionRefusal::SeriesClosed);
    }
    let number = SessionNumber(n);
    let beyond_typical = n > TYPICAL_MAX || n > planned.get();
    if !beyond_typical {
        return Ok(SessionAdmission {
            number,
            beyond_typical,
            warnings: Vec::new(),
        });
    }
    if !acknowledged {
        return Err(SessionRefusal::AcknowledgementRequired { number, planned });
    }
    Ok(SessionAdmission {
        number,
        beyond_typical,
        warnings: admission_warnings(number, planned),
    })
}

/// What the provider is told when session `number` of a plan of `planned` is recorded.
pub fn admission_warnings(number: SessionNumber, planned: PlannedSessions) -> Vec<String> {
    let n = number.get();
    let mut warnings = Vec::new();
    if n > planned.get() {
        warnings.push(format!(
            "Session {n} is beyond the {} planned for this series.",
            planned.get()
        ));
    }
    if n > TYPICAL_MAX {
        warnings.push(format!(
            "Session {n} is beyond the typical course of 1-{TYPICAL_MAX} sessions."
        ));
    }
    if n == MAXIMUM {
        warnings.push(format!(
            "This is the last session the series allows. {BEYOND_MAXIMUM_ADVICE}"
        ));
    }
    warnings
}

/// What recording the next session would do, for showing before the provider submits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NextSession {
    Typical,
    NeedsAcknowledgement,
    Refused,
    SeriesClosed,
}

impl NextSession {
    pub fn as_str(self) -> &'static str {
        match self {
            NextSession::Typical => "typical",
            NextSession::NeedsAcknowledgement => "needs_acknowledgement",
            NextSession::Refused => "refused",
            NextSession::SeriesClosed => "series_closed",
        }
    }
}

pub fn preview_next_session(recorded: u8, planned: PlannedSessions, series_open: bool) -> NextSession {
    match decide_session(recorded, planned, series_open, false) {
        Ok(_) => NextSession::Typical,
        Err(SessionRefusal::AcknowledgementRequired { .. }) => NextSession::NeedsAcknowledgement,
        Err(SessionRefusal::MaximumReached) => NextSession::Refused,
        Err(SessionRefusal::SeriesClosed) => NextSession::SeriesClosed,
    }
}

/// "session 2 of a planned 3; a typical course is 1–3, at most 5".
pub fn position_text(number: SessionNumber, planned: PlannedSessions) -> String {
    format!(
        "Session {} of a planned {}; a typical course is 1–{TYPICAL_MAX} sessions, at most {MAXIMUM}.",
        number.get(),
        planned.get()
    )
}

/// The words pages and files show about the series rule, built from [`TYPICAL_MAX`] and [`MAXIMUM`]:
/// templates, CSV and the API's documents take them from here, never spelling a limit themselves.
pub mod wording {
    use super::{MAXIMUM, NextSession, PlannedSessions, TYPICAL_MAX, ordinal, preview_next_session};

    /// "2 of 3 planned sessions (typical course 1–3, at most 5)."
    pub fn course_summary(recorded: u8, planned: PlannedSessions) -> String {
        format!(
            "{recorded} of {} planned sessions (typical course 1–{TYPICAL_MAX}, at most {MAXIMUM}).",
            planned.get()
        )
    }

    /// What recording the next session of a series would do, said before the provider submits.
    pub fn next_session_notice(recorded: u8, planned: PlannedSessions, open: bool) -> String {
        let n = recorded.saturating_add(1);
        let p = planned.get();
        match preview_next_session(recorded, planned, open) {
            NextSession::Typical => format!("This will be session {n} of a planned {p}: within the typical course."),
            NextSession::NeedsAcknowledgement => format!(
                "Session {n} goes beyond the typical course of 1–{TYPICAL_MAX} sessions or the {p} planned. \
                 It is recorded only if you acknowledge it below."
            ),
            NextSession::Refused => format!(
                "This series already has {MAXIMUM} sessions: a {} will be refused and flagged. Needing more may \
                 point to an unrecognised underlying medical condition; the patient should consult their provider.",
                ordinal(MAXIMUM + 1)
            ),
            NextSession::SeriesClosed => "This series is completed.".to_owned(),
        }
    }

    /// A series opened after a course that reached the maximum.
    pub fn flagged_after_maximum() -> String {
        format!("Flagged: opened after a series that reached {MAXIMUM}.")
    }

    pub fn planned_sessions_label() -> String {
        format!("Planned sessions (1–{MAXIMUM}; typical 1–{TYPICAL_MAX})")
    }

    pub fn reason_label() -> String {
        format!("Reason, when planning more than {TYPICAL_MAX}")
    }

    pub fn review_note_label() -> String {
        format!("Medical-review note, when the previous series reached {MAXIMUM}")
    }

    pub fn within_typical() -> String {
        format!("Within typical (1–{TYPICAL_MAX})")
    }

    pub fn beyond_typical() -> String {
        format!("Beyond typical ({}–{MAXIMUM})", TYPICAL_MAX + 1)
    }

    pub fn at_maximum() -> String {
        format!("At maximum ({MAXIMUM})")
    }

    pub fn refused_attempts() -> String {
        format!("Refused {} attempts", ordinal(MAXIMUM + 1))
    }

    pub fn sessions_count(n: u8) -> String {
        format!("{n} session{}", if n == 1 { "" } else { "s" })
    }

    pub fn chart_caption() -> String {
        format!(
            "Series by number of sessions recorded. Blue: within the typical course (1–{TYPICAL_MAX}); amber: \
             beyond typical ({}–{MAXIMUM}).",
            TYPICAL_MAX + 1
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_advice_names_the_maximum_and_ordinals_read_right() {
        assert!(BEYOND_MAXIMUM_ADVICE.contains(&format!("at most {MAXIMUM} sessions")));
        let got: Vec<String> = [1, 2, 3, 4, 6, 11, 12, 13, 21, 22, 23]
            .into_iter()
            .map(ordinal)
            .collect();
        assert_eq!(
            got,
            [
                "1st", "2nd", "3rd", "4th", "6th", "11th", "12th", "13th", "21st", "22nd", "23rd"
            ]
        );
        assert_eq!(
            SessionRefusal::MaximumReached.to_string().split('.').next().unwrap(),
            "this series already has 5 sessions and a 6th is refused"
        );
        assert_eq!(
            wording::next_session_notice(0, plan(3), true),
            "This will be session 1 of a planned 3: within the typical course."
        );
        assert_eq!(wording::beyond_typical(), "Beyond typical (4–5)");
    }

    fn plan(n: i64) -> PlannedSessions {
        PlannedSessions::parse(n).unwrap()
    }

    #[test]
    fn every_boundary_of_sessions_against_plans() {
        for planned in 1..=5u8 {
            for n in 1..=6u8 {
                let recorded = n - 1;
                let without = decide_session(recorded, plan(planned.into()), true, false);
                let with = decide_session(recorded, plan(planned.into()), true, true);
                if n > MAXIMUM {
                    assert_eq!(without, Err(SessionRefusal::MaximumReached), "n={n} planned={planned}");
                    assert_eq!(with, Err(SessionRefusal::MaximumReached), "n={n} planned={planned}");
                } else if n <= planned.min(TYPICAL_MAX) {
                    let a = without.unwrap();
                    assert_eq!((a.number.get(), a.beyond_typical, a.warnings.len()), (n, false, 0));
                    assert_eq!(with.unwrap().number.get(), n);
                } else {
                    assert_eq!(
                        without.unwrap_err().code(),
                        "beyond_typical_acknowledgement_required",
                        "n={n} planned={planned}"
                    );
                    let a = with.unwrap();
                    assert!(a.beyond_typical && !a.warnings.is_empty(), "n={n} planned={planned}");
                    assert_eq!(a.number.get(), n);
                }
            }
        }
    }

    #[test]
    fn warnings_name_the_plan_the_typical_course_and_the_last_session() {
        let a = decide_session(1, plan(1), true, true).unwrap();
        assert_eq!(a.warnings, ["Session 2 is beyond the 1 planned for this series."]);
        let a = decide_session(3, plan(5), true, true).unwrap();
        assert_eq!(a.warnings, ["Session 4 is beyond the typical course of 1-3 sessions."]);
        let a = decide_session(4, plan(5), true, true).unwrap();
        assert!(a.warnings[1].contains("underlying medical condition"));
    }

    #[test]
    fn refusals_carry_the_sheets_advice() {
        let refusal = decide_session(5, plan(5), true, true).unwrap_err();
        assert_eq!(refusal.code(), "series_maximum_reached");
        let text = refusal.to_string();
        assert!(text.contains("underlying medical condition") && text.contains("consult their provider"));
        assert_eq!(
            decide_session(9, plan(5), false, true),
            Err(SessionRefusal::MaximumReached)
        );
        assert_eq!(
            decide_session(1, plan(3), false, true),
            Err(SessionRefusal::SeriesClosed)
        );
    }

    #[test]
    fn planning_more_than_typical_needs_a_reason() {
        assert!(SeriesPlan::parse(Condition::AcneScars, Some(4), None).is_err());
        assert!(SeriesPlan::parse(Condition::AcneScars, Some(5), Some("  ")).is_err());
        assert!(SeriesPlan::parse(Condition::AcneScars, Some(5), Some("deep scarring")).is_ok());
        assert!(SeriesPlan::parse(Condition::AcneScars, Some(6), Some("x")).is_err());
        assert!(SeriesPlan::parse(Condition::AcneScars, Some(0), None).is_err());
        assert_eq!(
            SeriesPlan::parse(Condition::Other, None, None).unwrap().planned.get(),
            3
        );
    }

    #[test]
    fn new_series_after_a_maximum_needs_review_and_is_flagged() {
        let note = Notes::parse("review_note", Some("reviewed with GP")).unwrap();
        let reached = PreviousSeries {
            is_open: false,
            sessions_recorded: 5,
        };
        let short = PreviousSeries {
            is_open: false,
            sessions_recorded: 3,
        };
        assert_eq!(
            decide_open_series(false, Some(reached), None),
            Err(OpenSeriesRefusal::ReviewNoteRequired)
        );
        assert_eq!(
            decide_open_series(false, Some(reached), note.as_ref()),
            Ok(OpenSeriesDecision {
                flagged_after_maximum: true
            })
        );
        assert_eq!(
            decide_open_series(false, Some(short), None),
            Ok(OpenSeriesDecision {
                flagged_after_maximum: false
            })
        );
        assert_eq!(
            decide_open_series(false, None, None),
            Ok(OpenSeriesDecision {
                flagged_after_maximum: false
            })
        );
        assert_eq!(
            decide_open_series(true, None, None),
            Err(OpenSeriesRefusal::OpenSeriesExists)
        );
        let open = PreviousSeries {
            is_open: true,
            sessions_recorded: 1,
        };
        assert_eq!(
            decide_open_series(false, Some(open), None).unwrap_err().code(),
            "open_series_exists"
        );
    }

    #[test]
    fn preview_matches_the_rule() {
        assert_eq!(preview_next_session(0, plan(3), true), NextSession::Typical);
        assert_eq!(
            preview_next_session(3, plan(3), true),
            NextSession::NeedsAcknowledgement
        );
        assert_eq!(preview_next_session(5, plan(5), true), NextSession::Refused);
        assert_eq!(preview_next_session(1, plan(3), false), NextSession::SeriesClosed);
        assert_eq!(
            position_text(SessionNumber::parse(2).unwrap(), plan(3)),
            "Session 2 of a planned 3; a typical course is 1–3 sessions, at most 5."
        );
    }

    proptest! {
        /// No sequence of record attempts, acknowledged or not, ever yields a 6th session or a gap.
        #[test]
        fn no_sequence_yields_a_sixth_session_or_a_gap(
            planned in 1i64..=5,
            attempts in proptest::collection::vec(any::<bool>(), 0..40),
        ) {
            let planned = plan(planned);
            let mut numbers: Vec<u8> = Vec::new();
            for acknowledged in attempts {
                let recorded = u8::try_from(numbers.len()).unwrap();
                match decide_session(recorded, planned, true, acknowledged) {
                    Ok(a) => {
                        prop_assert!(a.number.get() <= MAXIMUM);
                        prop_assert!(!a.beyond_typical || acknowledged);
                        numbers.push(a.number.get());
                    }
                    Err(SessionRefusal::MaximumReached) => prop_assert_eq!(numbers.len(), usize::from(MAXIMUM)),
                    Err(SessionRefusal::AcknowledgementRequired { number, .. }) => {
                        prop_assert!(!acknowledged);
                        prop_assert!(number.get() > TYPICAL_MAX.min(planned.get()));
                    }
                    Err(SessionRefusal::SeriesClosed) => prop_assert!(false, "series is open"),
                }
            }
            let expected: Vec<u8> = (1..=u8::try_from(numbers.len()).unwrap()).collect();
            prop_assert_eq!(numbers, expected);
        }
    }
}
