//! Property tests of request parsing: structurally valid requests (every field present with the right
//! JSON type, so they always decode) whose values are drawn valid or invalid field by field. A request
//! whose every value is valid parses; one with an invalid value is refused with a validation error
//! naming one of the invalid fields — never a different field, never a panic.

use super::audit::AuditQuery;
use super::patients::PatientBody;
use super::reports::RangeQuery;
use super::series::{OpenBody, RecordBody};
use chrono::{Datelike, NaiveDate};
use clinic_db::series::SessionRecord;
use clinic_domain::FieldError;
use clinic_domain::protocol::StageKey;
use clinic_domain::series::{Condition, MAXIMUM, TYPICAL_MAX};
use clinic_domain::session::{Device, NeedleDepth, Product, Region};
use proptest::prelude::*;
use serde_json::{Value, json};
use std::collections::BTreeSet;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 25).unwrap()
}

/// A value for one field, and whether the product should accept it.
#[derive(Debug, Clone)]
struct Drawn {
    value: Value,
    valid: bool,
}

fn valid(value: impl Into<Value>) -> Drawn {
    Drawn {
        value: value.into(),
        valid: true,
    }
}

fn invalid(value: impl Into<Value>) -> Drawn {
    Drawn {
        value: value.into(),
        valid: false,
    }
}

fn date_between(from: NaiveDate, days: i64) -> impl Strategy<Value = NaiveDate> + Clone {
    (0..days).prop_map(move |d| from + chrono::Duration::days(d))
}

/// Dates as people mistype them: impossible days, other orders, words, blanks.
fn bad_date() -> impl Strategy<Value = String> {
    prop_oneof![
        (1i32..3000, 13u32..99, 1u32..28).prop_map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}")),
        (1i32..3000, 1u32..13, 32u32..99).prop_map(|(y, m, d)| format!("{y:04}-{m:02}-{d:02}")),
        Just("2026-02-30".to_owned()),
        (1u32..29, 1u32..13, 1900i32..2100).prop_map(|(d, m, y)| format!("{d:02}/{m:02}/{y}")),
        Just(String::new()),
        "[a-z ]{1,12}",
    ]
}

fn name() -> impl Strategy<Value = Drawn> {
    prop_oneof![
        3 => "[A-Za-zÀ-ÿ' -]{0,20}[A-Za-z]{1,20}".prop_map(valid),
        1 => Just(invalid("   ")),
        1 => "[a-z]{101,120}".prop_map(invalid),
        1 => "[a-z]{1,10}[<>{}][a-z]{0,10}".prop_map(invalid),
    ]
}

fn email() -> impl Strategy<Value = Drawn> {
    prop_oneof![
        3 => "[a-z0-9.]{1,20}@[a-z]{1,12}\\.(example|org|clinic)".prop_map(valid),
        1 => Just(valid(Value::Null)),
        1 => "[a-z]{1,20}".prop_map(invalid),
        1 => "[a-z]{1,5} [a-z]{1,5}@[a-z]{1,5}\\.org".prop_map(invalid),
        1 => "[a-z]{1,5}@[a-z]{1,8}".prop_map(invalid),
    ]
}

fn phone() -> impl Strategy<Value = Drawn> {
    prop_oneof![
        2 => "\\+?[0-9]{3} [0-9]{3} [0-9]{4}".prop_map(valid),
        1 => Just(valid(Value::Null)),
        1 => "[0-9]{1,5}".prop_map(invalid),
        1 => "[0-9]{3}[a-z]{2,5}[0-9]{3}".prop_map(invalid),
    ]
}

fn date_of_birth() -> impl Strategy<Value = Drawn> {
    let earliest = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap();
    let span = (today() - earliest).num_days();
    prop_oneof![
        3 => date_between(earliest, span).prop_map(|d| valid(d.to_string())),
        1 => date_between(today(), 3000).prop_map(|d| invalid(d.to_string())),
        1 => date_between(NaiveDate::from_ymd_opt(1000, 1, 1).unwrap(), 300_000)
            .prop_filter("before 1900", move |d| *d < earliest)
            .prop_map(|d| invalid(d.to_string())),
        1 => bad_date().prop_map(invalid),
    ]
}

/// An object of the drawn fields, and the names of those drawn invalid.
fn object(fields: Vec<(&'static str, Drawn)>) -> (Value, BTreeSet<&'static str>) {
    let bad = fields.iter().filter(|(_, d)| !d.valid).map(|(k, _)| *k).collect();
    let map = fields.into_iter().map(|(k, d)| (k.to_owned(), d.value)).collect();
    (Value::Object(map), bad)
}

/// All valid values parse; otherwise the error names one of the invalid fields.
fn judged<T: std::fmt::Debug>(
    result: Result<T, FieldError>,
    bad: &BTreeSet<&'static str>,
) -> Result<(), TestCaseError> {
    match result {
        Ok(v) => prop_assert!(bad.is_empty(), "accepted {v:?} although {bad:?} were invalid"),
        Err(e) => prop_assert!(
            bad.contains(e.field),
            "refused {:?} ({}) although only {bad:?} were invalid",
            e.field,
            e.message
        ),
    }
    Ok(())
}

fn patient() -> impl Strategy<Value = (Value, BTreeSet<&'static str>)> {
    (name(), name(), date_of_birth(), email(), phone()).prop_map(|(first, last, born, email, phone)| {
        object(vec![
            ("first_name", first),
            ("last_name", last),
            ("date_of_birth", born),
            ("email", email),
            ("phone", phone),
        ])
    })
}

fn condition() -> impl Strategy<Value = Drawn> {
    prop_oneof![
        3 => proptest::sample::select(Condition::ALL.to_vec()).prop_map(|c| valid(c.code())),
        1 => "[a-z_]{1,20}".prop_filter("not a condition", |s| s.parse::<Condition>().is_err()).prop_map(invalid),
    ]
}

fn note() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        "[a-zA-Z ,.]{1,80}".prop_map(Some),
        "[a-z]{2001,2010}".prop_map(Some),
        "[a-z]{1,5}\u{7}[a-z]{1,5}".prop_map(Some),
    ]
}

fn note_is_valid(n: &Option<String>) -> bool {
    n.as_ref()
        .is_none_or(|t| t.chars().count() <= 2000 && !t.contains('\u{7}'))
}

fn open_series() -> impl Strategy<Value = (Value, BTreeSet<&'static str>)> {
    (condition(), -3i64..9, note(), note()).prop_map(|(condition, planned, reason, review)| {
        let planned_ok = (1..=i64::from(MAXIMUM)).contains(&planned);
        let reason_given = reason.as_ref().is_some_and(|r| !r.trim().is_empty());
        // More than the typical course needs its reason.
        let reason_ok = note_is_valid(&reason) && (!planned_ok || planned <= i64::from(TYPICAL_MAX) || reason_given);
        object(vec![
            ("condition", condition),
            (
                "planned_sessions",
                Drawn {
                    value: planned.into(),
                    valid: planned_ok,
                },
            ),
            (
                "reason",
                Drawn {
                    valid: reason_ok,
                    value: reason.into(),
                },
            ),
            (
                "review_note",
                Drawn {
                    valid: note_is_valid(&review),
                    value: review.into(),
                },
            ),
        ])
    })
}

/// Treatment areas, and whether `periorbital` (the eye area) is among valid ones.
fn areas() -> impl Strategy<Value = (Drawn, bool)> {
    let codes: Vec<&'static str> = Region::ALL.iter().map(|r| r.code()).collect();
    prop_oneof![
        3 => proptest::sample::subsequence(codes, 1..=Region::ALL.len()).prop_map(|v| {
            let eye = v.contains(&"periorbital");
            (valid(json!(v)), eye)
        }),
        1 => Just((invalid(json!([])), false)),
        1 => Just((invalid(json!(["  ", ""])), false)),
        1 => "(around the eyes|Cheeks|lips|[a-z]{1,8}[0-9])".prop_map(|a| (invalid(json!(["cheeks", a])), false)),
    ]
}

/// The eye-area flag against the areas: absent follows them, a contradicting one is refused.
fn eye_area(areas_valid: bool, eye: bool) -> impl Strategy<Value = Drawn> {
    prop_oneof![
        Just(valid(Value::Null)),
        Just(valid(eye)),
        // With invalid areas nothing is judged against them.
        Just(Drawn {
            value: json!(!eye),
            valid: !areas_valid,
        }),
    ]
}

fn notes_stage() -> impl Strategy<Value = Drawn> {
    prop_oneof![
        Just(valid(Value::Null)),
        proptest::sample::select(StageKey::ALL.to_vec()).prop_map(|k| valid(k.as_str())),
        "(day_2|days 2-7|Day_of|)".prop_map(invalid),
    ]
}

fn depth() -> impl Strategy<Value = Drawn> {
    let (min, max) = (NeedleDepth::MIN_HUNDREDTHS, NeedleDepth::MAX_HUNDREDTHS);
    prop_oneof![
        3 => (min..=max).prop_map(|h| valid(f64::from(h) / 100.0)),
        1 => (0u16..min).prop_map(|h| invalid(f64::from(h) / 100.0)),
        1 => (max + 1..2000).prop_map(|h| invalid(f64::from(h) / 100.0)),
        1 => (min..max).prop_map(|h| invalid(f64::from(h) / 100.0 + 0.005)),
        1 => Just(invalid(-1.0)),
    ]
}

fn device() -> impl Strategy<Value = Drawn> {
    prop_oneof![
        3 => proptest::sample::select(vec![Device::Roller, Device::Pen]).prop_map(|d| valid(d.as_str())),
        1 => "(laser|needle|stamp|Pen2|)".prop_map(invalid),
    ]
}

fn products() -> impl Strategy<Value = Drawn> {
    prop_oneof![
        3 => proptest::sample::subsequence(Product::ALL.to_vec(), 0..=3)
            .prop_map(|v| valid(json!(v.iter().map(|p| p.code()).collect::<Vec<_>>()))),
        1 => "(retinol|vitamin_c|Sunscreen)".prop_map(|p| invalid(json!([p]))),
    ]
}

fn session_date() -> impl Strategy<Value = Drawn> {
    // Any calendar date parses here; future dates and dates before birth are the use case's to refuse.
    prop_oneof![
        3 => date_between(NaiveDate::from_ymd_opt(1950, 1, 1).unwrap(), 40_000).prop_map(|d| valid(d.to_string())),
        1 => bad_date().prop_map(invalid),
    ]
}

fn record() -> impl Strategy<Value = (Value, BTreeSet<&'static str>)> {
    let areas_and_eye = areas().prop_flat_map(|(areas, eye)| {
        let areas_valid = areas.valid;
        (Just(areas), eye_area(areas_valid, eye))
    });
    (
        session_date(),
        areas_and_eye,
        device(),
        depth(),
        products(),
        note(),
        notes_stage(),
        any::<bool>(),
    )
        .prop_map(|(date, (areas, eye), device, depth, products, notes, stage, ack)| {
            object(vec![
                ("performed_on", date),
                ("treatment_areas", areas),
                ("eye_area", eye),
                ("notes_stage", stage),
                ("device", device),
                ("needle_depth_mm", depth),
                ("products_applied", products),
                (
                    "notes",
                    Drawn {
                        valid: note_is_valid(&notes),
                        value: notes.into(),
                    },
                ),
                ("acknowledge_beyond_typical", valid(ack)),
            ])
        })
}

fn range() -> impl Strategy<Value = (Value, BTreeSet<&'static str>)> {
    let day = date_between(NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(), 3000);
    (
        prop_oneof![3 => day.clone().prop_map(|d| Some(d.to_string())), 1 => Just(None), 1 => bad_date().prop_map(Some)],
        prop_oneof![3 => day.prop_map(|d| Some(d.to_string())), 1 => Just(None), 1 => bad_date().prop_map(Some)],
    )
        .prop_map(|(from, to)| {
            let parse = |v: &Option<String>| v.as_deref().map(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d"));
            let date_ok = |v: &Option<String>| {
                v.as_deref()
                    .is_none_or(|s| s.trim().is_empty() || NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").is_ok_and(|d| d.year() > 0))
            };
            let ordered = match (parse(&from), parse(&to)) {
                (Some(Ok(f)), Some(Ok(t))) => f <= t,
                _ => true,
            };
            let from_ok = date_ok(&from);
            let to_ok = date_ok(&to) && (ordered || !from_ok);
            object(vec![
                ("from", Drawn { valid: from_ok, value: from.into() }),
                ("to", Drawn { valid: to_ok, value: to.into() }),
            ])
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn a_patient_parses_exactly_when_every_field_is_valid((body, bad) in patient()) {
        let parsed: PatientBody = serde_json::from_value(body).unwrap();
        judged(parsed.parse(today()), &bad)?;
    }

    #[test]
    fn a_series_plan_parses_exactly_when_every_field_is_valid((body, bad) in open_series()) {
        let parsed: OpenBody = serde_json::from_value(body).unwrap();
        judged(parsed.parse(), &bad)?;
    }

    #[test]
    fn a_session_parses_exactly_when_every_field_is_valid((body, bad) in record()) {
        let parsed: RecordBody = serde_json::from_value(body).unwrap();
        judged(SessionRecord::try_from(&parsed), &bad)?;
    }

    #[test]
    fn a_date_range_parses_exactly_when_both_dates_are_valid_and_ordered((query, bad) in range()) {
        let parsed: RangeQuery = serde_json::from_value(query.clone()).unwrap();
        judged(parsed.parse(), &bad)?;
        let audit: AuditQuery = serde_json::from_value(query).unwrap();
        judged(audit.filter(), &bad)?;
    }
}
