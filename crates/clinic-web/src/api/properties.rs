//! Property targets for the API's request bodies and query strings: any JSON at all, and any bytes,
//! either decode and parse or are refused with a 4xx error naming the problem; never a panic or a 5xx.

use super::manager::{AuditQuery, RangeQuery};
use super::patients::PatientBody;
use super::series::{OpenBody, RecordBody};
use crate::error::AppError;
use actix_web::ResponseError;
use chrono::NaiveDate;
use proptest::prelude::*;
use serde_json::Value;

const PATIENT: &[&str] = &["first_name", "last_name", "date_of_birth", "email", "phone"];
const OPEN: &[&str] = &["condition", "planned_sessions", "reason", "review_note"];
const RECORD: &[&str] = &[
    "performed_on",
    "treatment_areas",
    "eye_area",
    "device",
    "needle_depth_mm",
    "products_applied",
    "notes",
    "acknowledge_beyond_typical",
];
const AUDIT: &[&str] = &["patient_id", "actor_id", "action", "from", "to", "before", "limit"];

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[0-9]{1,5}-[0-9]{1,3}-[0-9]{1,3}",
        "(pen|roller|acne_scars|other|moisturizer|sunscreen|cheeks|)",
        "[ a-zA-Z@.\\u{0}\\r\\n-]{0,40}",
    ]
}

fn json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        text().prop_map(Value::from),
    ];
    leaf.prop_recursive(2, 16, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(text(), inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// An object with some of a body's fields (so it often decodes), any values, now and then a stray key.
fn body(fields: &'static [&'static str]) -> impl Strategy<Value = Value> {
    let key = prop_oneof![9 => proptest::sample::select(fields).prop_map(str::to_owned), 1 => text()];
    proptest::collection::btree_map(key, json(), 0..=fields.len()).prop_map(|m| Value::Object(m.into_iter().collect()))
}

/// A refusal is a client error with a stable code.
fn refused_cleanly(e: &AppError) -> Result<(), TestCaseError> {
    let status = e.status_code().as_u16();
    prop_assert!((400..500).contains(&status), "{e:?} answered {status}");
    Ok(())
}

fn check<T: serde::de::DeserializeOwned>(
    value: &Value,
    parse: impl Fn(&T) -> Result<(), AppError>,
) -> Result<(), TestCaseError> {
    if let Ok(body) = serde_json::from_value::<T>(value.clone())
        && let Err(e) = parse(&body)
    {
        refused_cleanly(&e)?;
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn any_json_body_parses_or_is_refused_with_a_4xx(
        patient in body(PATIENT), open in body(OPEN), record in body(RECORD), audit in body(AUDIT), other in json()
    ) {
        let today = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        for value in [&patient, &other] {
            check::<PatientBody>(value, |b| b.parse(today).map(drop))?;
        }
        for value in [&open, &other] {
            check::<OpenBody>(value, |b| b.parse().map(drop))?;
        }
        for value in [&record, &other] {
            check::<RecordBody>(value, |b| b.parse(today).map(drop))?;
        }
        for value in [&audit, &other] {
            check::<RangeQuery>(value, |q| q.parse().map(drop))?;
            check::<AuditQuery>(value, |q| q.filter().map(drop))?;
        }
    }

    #[test]
    fn any_bytes_are_answered(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        let today = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        if let Ok(b) = serde_json::from_slice::<RecordBody>(&bytes) && let Err(e) = b.parse(today) {
            refused_cleanly(&e)?;
        }
        if let Ok(b) = serde_json::from_slice::<PatientBody>(&bytes) && let Err(e) = b.parse(today) {
            refused_cleanly(&e)?;
        }
    }

    #[test]
    fn a_recorded_date_is_never_after_today(day in -100_000i64..100_000, areas in proptest::collection::vec(text(), 1..3)) {
        let today = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        let date = today + chrono::Duration::days(day);
        let body = RecordBody {
            performed_on: date.format("%Y-%m-%d").to_string(),
            treatment_areas: areas,
            eye_area: false,
            device: "pen".into(),
            needle_depth_mm: 0.5,
            products_applied: vec![],
            notes: None,
            acknowledge_beyond_typical: None,
        };
        match body.parse(today) {
            Ok(r) => prop_assert!(r.performed_on <= today),
            Err(e) => refused_cleanly(&e)?,
        }
    }
}
