//! The personalised aftercare timeline of one session.

use crate::Clock;
use crate::protocol::{Kind, Protocol, Shown, StageKey, Text};
use crate::series::{PlannedSessions, SessionNumber, position_text};
use crate::session::{Notes, ProductsApplied};
use chrono::{Days, NaiveDate};
use chrono_tz::Tz;
use serde::Serialize;

/// The facts of a session that shape its timeline.
#[derive(Debug, Clone, Copy)]
pub struct SessionFacts<'a> {
    /// The procedure's calendar date at the clinic: day 0.
    pub performed_on: NaiveDate,
    pub eye_area: bool,
    pub products_applied: &'a ProductsApplied,
    pub notes: Option<&'a Notes>,
    /// The stage the provider's notes belong to.
    pub notes_stage: StageKey,
    pub number: SessionNumber,
    pub planned: PlannedSessions,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stage {
    pub key: StageKey,
    pub title: &'static str,
    pub starts_on: NaiveDate,
    /// `None` for the open-ended last stage.
    pub ends_on: Option<NaiveDate>,
    pub instructions: Vec<String>,
    pub cautions: Vec<String>,
    pub is_current: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Timeline {
    pub performed_on: NaiveDate,
    pub today: NaiveDate,
    /// Days since the procedure; negative while it is upcoming.
    pub day_number: i64,
    /// True before day 0: no stage is current yet.
    pub upcoming: bool,
    pub current: Option<StageKey>,
    pub position: String,
    pub stages: Vec<Stage>,
}

impl Timeline {
    pub fn stage(&self, key: StageKey) -> Option<&Stage> {
        self.stages.iter().find(|s| s.key == key)
    }

    pub fn current_stage(&self) -> Option<&Stage> {
        self.current.and_then(|k| self.stage(k))
    }
}

fn add_days(date: NaiveDate, days: u64) -> NaiveDate {
    date.checked_add_days(Days::new(days)).unwrap_or(NaiveDate::MAX)
}

fn products_sentence(products: &ProductsApplied) -> String {
    let labels: Vec<&str> = products.as_slice().iter().map(|p| p.label()).collect();
    let list = match labels.as_slice() {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    };
    format!("After the procedure your provider applied {list}.")
}

impl Protocol {
    /// The timeline of a session as of the clinic's today (from `clock`, in `tz`).
    pub fn timeline(&self, facts: &SessionFacts<'_>, tz: Tz, clock: &dyn Clock) -> Timeline {
        self.timeline_on(facts, clock.today_in(tz))
    }

    /// The timeline of a session as of a given calendar date at the clinic.
    pub fn timeline_on(&self, facts: &SessionFacts<'_>, today: NaiveDate) -> Timeline {
        let day0 = facts.performed_on;
        let day_number = (today - day0).num_days();
        let position = position_text(facts.number, facts.planned);

        let mut stages: Vec<Stage> = StageKey::ALL
            .into_iter()
            .map(|key| {
                let (first, last) = key.days();
                Stage {
                    key,
                    title: key.title(),
                    starts_on: add_days(day0, first),
                    ends_on: last.map(|l| add_days(day0, l)),
                    instructions: Vec::new(),
                    cautions: Vec::new(),
                    is_current: false,
                }
            })
            .collect();

        for item in self.items {
            let shown = match item.shown {
                Shown::Always => true,
                Shown::EyeAreaTreated => facts.eye_area,
                Shown::ProductsApplied => !facts.products_applied.is_empty(),
            };
            if !shown {
                continue;
            }
            let texts: Vec<String> = match item.text {
                Text::Fixed(t) => vec![t.to_owned()],
                Text::ProductsApplied => vec![products_sentence(facts.products_applied)],
                Text::ProviderInstructions => {
                    // The provider's own words go to the stage they chose (the sheet's days 2–7 at first).
                    if let Some(notes) = facts.notes
                        && let Some(stage) = stages.iter_mut().find(|s| s.key == facts.notes_stage)
                    {
                        stage
                            .instructions
                            .push(format!("Your provider's notes: {}", notes.as_str()));
                    }
                    vec!["Follow the instructions your provider gave you.".to_owned()]
                }
                Text::SeriesPosition => vec![position.clone()],
            };
            if let Some(stage) = stages.iter_mut().find(|s| s.key == item.stage) {
                match item.kind {
                    Kind::Instruction => stage.instructions.extend(texts),
                    Kind::Caution => stage.cautions.extend(texts),
                }
            }
        }

        // Where stages overlap (day 7), the later one is current.
        let current = stages
            .iter()
            .rev()
            .find(|s| s.starts_on <= today && s.ends_on.is_none_or(|end| today <= end))
            .map(|s| s.key);
        for stage in &mut stages {
            stage.is_current = Some(stage.key) == current;
        }

        Timeline {
            performed_on: day0,
            today,
            day_number,
            upcoming: day_number < 0,
            current,
            position,
            stages,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FixedClock;
    use crate::session::Product;
    use chrono::{TimeZone, Utc};

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    struct Fixture {
        products: ProductsApplied,
        notes: Option<Notes>,
    }

    impl Fixture {
        fn new() -> Self {
            Self {
                products: ProductsApplied::new([Product::Sunscreen]),
                notes: None,
            }
        }

        fn facts(&self, performed_on: NaiveDate, eye_area: bool, number: i64) -> SessionFacts<'_> {
            SessionFacts {
                performed_on,
                eye_area,
                products_applied: &self.products,
                notes: self.notes.as_ref(),
                notes_stage: StageKey::Days2To7,
                number: SessionNumber::parse(number).unwrap(),
                planned: PlannedSessions::parse(number.max(3)).unwrap(),
            }
        }
    }

    fn dates(t: &Timeline) -> Vec<(NaiveDate, Option<NaiveDate>)> {
        t.stages.iter().map(|s| (s.starts_on, s.ends_on)).collect()
    }

    #[test]
    fn stage_dates_cross_month_and_year_ends() {
        let f = Fixture::new();
        let t = Protocol::default().timeline_on(&f.facts(d(2026, 12, 30), false, 1), d(2026, 12, 30));
        assert_eq!(
            dates(&t),
            [
                (d(2026, 12, 30), Some(d(2026, 12, 30))),
                (d(2026, 12, 31), Some(d(2026, 12, 31))),
                (d(2027, 1, 1), Some(d(2027, 1, 6))),
                (d(2027, 1, 6), None),
            ]
        );
        let t = Protocol::default().timeline_on(&f.facts(d(2028, 2, 28), false, 1), d(2028, 2, 28));
        assert_eq!(t.stages[1].starts_on, d(2028, 2, 29));
        assert_eq!(t.stages[2].ends_on, Some(d(2028, 3, 6)));
        assert_eq!(
            t.stages.iter().map(|s| s.key.as_str()).collect::<Vec<_>>(),
            ["day_of", "day_1", "days_2_7", "day_7_plus"]
        );
    }

    #[test]
    fn today_is_the_clinics_local_date_not_utcs() {
        let f = Fixture::new();
        let facts = f.facts(d(2026, 12, 31), false, 1);
        // 03:00 UTC on 1 January is still 31 December in Los Angeles: the day of the procedure.
        let clock = FixedClock(Utc.with_ymd_and_hms(2027, 1, 1, 3, 0, 0).unwrap());
        let la = Protocol::default().timeline(&facts, chrono_tz::America::Los_Angeles, &clock);
        assert_eq!((la.today, la.current), (d(2026, 12, 31), Some(StageKey::DayOf)));
        let utc = Protocol::default().timeline(&facts, chrono_tz::UTC, &clock);
        assert_eq!((utc.today, utc.current), (d(2027, 1, 1), Some(StageKey::Day1)));
        // 22:00 UTC on 30 December is already 31 December in Auckland.
        let clock = FixedClock(Utc.with_ymd_and_hms(2026, 12, 30, 22, 0, 0).unwrap());
        let nz = Protocol::default().timeline(&facts, chrono_tz::Pacific::Auckland, &clock);
        assert_eq!(nz.current, Some(StageKey::DayOf));
        assert!(Protocol::default().timeline(&facts, chrono_tz::UTC, &clock).upcoming);
    }

    #[test]
    fn current_stage_by_day() {
        let f = Fixture::new();
        let day0 = d(2026, 3, 10);
        let facts = f.facts(day0, false, 1);
        let expect = [
            (-1, None),
            (0, Some(StageKey::DayOf)),
            (1, Some(StageKey::Day1)),
            (2, Some(StageKey::Days2To7)),
            (6, Some(StageKey::Days2To7)),
            (7, Some(StageKey::Day7Plus)),
            (30, Some(StageKey::Day7Plus)),
        ];
        for (day, want) in expect {
            let today = day0 + chrono::Duration::days(day);
            let t = Protocol::default().timeline_on(&facts, today);
            assert_eq!(t.current, want, "day {day}");
            assert_eq!(t.day_number, day);
            assert_eq!(t.upcoming, day < 0);
            assert_eq!(
                t.stages.iter().filter(|s| s.is_current).count(),
                usize::from(want.is_some()),
                "day {day}"
            );
        }
    }

    fn all_text(stage: &Stage) -> String {
        stage
            .instructions
            .iter()
            .chain(&stage.cautions)
            .cloned()
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn eye_area_note_appears_exactly_when_the_eye_area_was_treated() {
        let f = Fixture::new();
        for eye_area in [false, true] {
            let t = Protocol::default().timeline_on(&f.facts(d(2026, 1, 1), eye_area, 1), d(2026, 1, 3));
            for stage in &t.stages {
                let mentions = all_text(stage).contains("bruising");
                assert_eq!(
                    mentions,
                    eye_area && stage.key == StageKey::Days2To7,
                    "{:?} eye_area={eye_area}",
                    stage.key
                );
            }
        }
    }

    #[test]
    fn products_listed_are_exactly_those_applied() {
        let cases: [(&[Product], Option<&str>); 4] = [
            (&[], None),
            (
                &[Product::Sunscreen],
                Some("After the procedure your provider applied sunscreen."),
            ),
            (
                &[Product::Moisturizer, Product::Sunscreen],
                Some("After the procedure your provider applied a skin moisturizer and sunscreen."),
            ),
            (
                &Product::ALL,
                Some(
                    "After the procedure your provider applied a lipo-peptide booster, a skin moisturizer and sunscreen.",
                ),
            ),
        ];
        for (applied, want) in cases {
            let f = Fixture {
                products: ProductsApplied::new(applied.iter().copied()),
                notes: None,
            };
            let t = Protocol::default().timeline_on(&f.facts(d(2026, 1, 1), false, 1), d(2026, 1, 1));
            let day_of = t.stage(StageKey::DayOf).unwrap();
            let applied_lines: Vec<&String> = day_of
                .instructions
                .iter()
                .filter(|i| i.contains("provider applied"))
                .collect();
            assert_eq!(applied_lines.first().map(|s| s.as_str()), want);
            for p in Product::ALL {
                let named = t
                    .stages
                    .iter()
                    .any(|s| all_text(s).contains(p.label()) && p != Product::Sunscreen);
                assert_eq!(named, applied.contains(&p) && p != Product::Sunscreen, "{p:?}");
            }
        }
    }

    #[test]
    fn nsaid_is_a_caution_of_the_day_of_procedure() {
        let f = Fixture::new();
        let t = Protocol::default().timeline_on(&f.facts(d(2026, 1, 1), false, 1), d(2026, 1, 1));
        let day_of = t.stage(StageKey::DayOf).unwrap();
        assert!(
            day_of
                .cautions
                .iter()
                .any(|c| c.contains("Ibuprofen") && c.contains("Motrin") && c.contains("Advil"))
        );
        assert!(!day_of.instructions.iter().any(|c| c.contains("Ibuprofen")));
        let day_1 = t.stage(StageKey::Day1).unwrap();
        assert!(day_1.cautions.iter().any(|c| c.contains("glycolic")));
        assert!(day_1.cautions.iter().any(|c| c.contains("SPF 30")));
    }

    #[test]
    fn provider_notes_and_series_position() {
        let f = Fixture {
            products: ProductsApplied::default(),
            notes: Notes::parse("notes", Some("Hyaluronic serum twice daily")).unwrap(),
        };
        let t = Protocol::default().timeline_on(&f.facts(d(2026, 1, 1), false, 2), d(2026, 1, 1));
        let mid = all_text(t.stage(StageKey::Days2To7).unwrap());
        assert!(mid.contains("Hyaluronic serum twice daily"));
        let late = t.stage(StageKey::Day7Plus).unwrap();
        assert!(
            late.instructions
                .contains(&"Session 2 of a planned 3; a typical course is 1–3 sessions, at most 5.".to_owned())
        );
        // Every patient, at any session, is told that needing more than a course is for the provider.
        for n in 1..=5 {
            let t = Protocol::default().timeline_on(&f.facts(d(2026, 1, 1), false, n), d(2026, 1, 1));
            let late = t.stage(StageKey::Day7Plus).unwrap();
            assert!(
                late.cautions
                    .iter()
                    .any(|c| c.contains("consult your provider") && c.contains("underlying medical condition")),
                "session {n}"
            );
        }
    }

    #[test]
    fn provider_notes_go_to_the_stage_they_name() {
        let f = Fixture {
            products: ProductsApplied::default(),
            notes: Notes::parse("notes", Some("Cold compress tonight")).unwrap(),
        };
        for stage in StageKey::ALL {
            let facts = SessionFacts {
                notes_stage: stage,
                ..f.facts(d(2026, 1, 1), false, 1)
            };
            let t = Protocol::default().timeline_on(&facts, d(2026, 1, 1));
            for s in &t.stages {
                assert_eq!(
                    all_text(s).contains("Cold compress tonight"),
                    s.key == stage,
                    "{stage:?}"
                );
            }
        }
    }
}
