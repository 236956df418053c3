//! Property targets for every parser of user input in the domain: on any input they answer (never
//! panic), a refusal names the field it is about, and what they accept is a fixed point (parsing the
//! stored form again gives the same value), so nothing changes on a round trip through the database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::NaiveDate;
use clinic_domain::patient::{DateOfBirth, NewPatient, PatientInput, Phone};
use clinic_domain::series::{Condition, PlannedSessions, SeriesPlan, SessionNumber};
use clinic_domain::session::{Device, NeedleDepth, Notes, Product, ProductsApplied, Region, TreatmentAreas};
use clinic_domain::user::{Email, PersonName, Role};
use proptest::prelude::*;
use std::str::FromStr;

/// Text a person (or an attacker) might type: any Unicode, with the awkward characters made likely.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[ \\t\\r\\n@.+_%'\"<>&;a-zA-Z0-9\\u{0}\\u{200b}\\u{301}é-]{0,80}",
        "[a-z]{1,20}@[a-z]{1,20}\\.[a-z]{2,6}",
        proptest::string::string_regex(".{0,300}").unwrap(),
    ]
}

fn date() -> impl Strategy<Value = NaiveDate> {
    (-200_000i32..200_000).prop_map(|d| {
        NaiveDate::from_ymd_opt(2000, 1, 1)
            .unwrap()
            .checked_add_signed(chrono::Duration::days(i64::from(d)))
            .unwrap()
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn emails(raw in text()) {
        match Email::parse("email", &raw) {
            Ok(e) => {
                let again = Email::parse("email", e.as_str()).unwrap();
                prop_assert_eq!(again.as_str(), e.as_str());
                prop_assert!(e.as_str().contains('@'));
                prop_assert_eq!(e.as_str(), e.as_str().to_lowercase());
            }
            Err(f) => prop_assert_eq!(f.field, "email"),
        }
    }

    #[test]
    fn person_names(raw in text()) {
        match PersonName::parse("first_name", &raw) {
            Ok(n) => {
                let again = PersonName::parse("first_name", n.as_str()).unwrap();
                prop_assert_eq!(again.as_str(), n.as_str());
                prop_assert!(!n.as_str().trim().is_empty());
                prop_assert!(!n.as_str().chars().any(char::is_control));
            }
            Err(f) => prop_assert_eq!(f.field, "first_name"),
        }
    }

    #[test]
    fn phones(raw in text()) {
        match Phone::parse(&raw) {
            Ok(p) => {
                let again = Phone::parse(p.as_str()).unwrap();
                prop_assert_eq!(again.as_str(), p.as_str());
            }
            Err(f) => prop_assert_eq!(f.field, "phone"),
        }
    }

    #[test]
    fn dates_of_birth(born in date(), today in date()) {
        match DateOfBirth::parse(born, today) {
            Ok(d) => prop_assert!(d.date() <= today),
            Err(f) => prop_assert_eq!(f.field, "date_of_birth"),
        }
    }

    #[test]
    fn dates_as_typed(raw in text()) {
        // The API's date format: whatever NaiveDate accepts for %Y-%m-%d prints back the same way.
        if let Ok(d) = NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d") {
            let printed = d.format("%Y-%m-%d").to_string();
            prop_assert_eq!(NaiveDate::parse_from_str(&printed, "%Y-%m-%d").unwrap(), d);
        }
    }

    #[test]
    fn whole_patients(first in text(), last in text(), born in proptest::option::of(date()),
                      email in proptest::option::of(text()), phone in proptest::option::of(text())) {
        let today = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        let input = PatientInput {
            first_name: &first,
            last_name: &last,
            date_of_birth: born,
            email: email.as_deref(),
            phone: phone.as_deref(),
        };
        match NewPatient::parse(input, today) {
            Ok(p) => {
                let again = NewPatient::parse(PatientInput {
                    first_name: p.first_name.as_str(),
                    last_name: p.last_name.as_str(),
                    date_of_birth: Some(p.date_of_birth.date()),
                    email: p.email.as_ref().map(Email::as_str),
                    phone: p.phone.as_ref().map(Phone::as_str),
                }, today).unwrap();
                prop_assert_eq!(again, p);
            }
            Err(errors) => {
                prop_assert!(!errors.is_empty());
                for e in errors {
                    prop_assert!(["first_name", "last_name", "date_of_birth", "email", "phone"].contains(&e.field));
                }
            }
        }
    }

    #[test]
    fn notes(raw in proptest::option::of(text())) {
        match Notes::parse("notes", raw.as_deref()) {
            Ok(Some(n)) => {
                let again = Notes::parse("notes", Some(n.as_str())).unwrap().unwrap();
                prop_assert_eq!(again.as_str(), n.as_str());
            }
            Ok(None) => prop_assert!(raw.as_deref().is_none_or(|r| r.trim().is_empty())),
            Err(f) => prop_assert_eq!(f.field, "notes"),
        }
    }

    #[test]
    fn treatment_areas(areas in proptest::collection::vec(prop_oneof![
        text(), proptest::sample::select(Region::ALL.map(Region::code).to_vec()).prop_map(str::to_owned)
    ], 0..20)) {
        match TreatmentAreas::parse(areas.iter().map(String::as_str)) {
            Ok(a) => {
                let again = TreatmentAreas::parse(a.codes()).unwrap();
                prop_assert_eq!(again.as_slice(), a.as_slice());
                prop_assert_eq!(TreatmentAreas::from_stored(&a.to_stored()).unwrap(), a.clone());
                prop_assert!(!a.as_slice().is_empty() && a.as_slice().len() <= Region::ALL.len());
                prop_assert_eq!(a.eye_area(), areas.iter().any(|c| c.trim() == "periorbital"));
            }
            Err(f) => prop_assert_eq!(f.field, "treatment_areas"),
        }
    }

    #[test]
    fn products(codes in proptest::collection::vec(prop_oneof![
        text(), Just("moisturizer".to_owned()), Just("sunscreen".to_owned()), Just("lipo_peptide_booster".to_owned())
    ], 0..6)) {
        match ProductsApplied::parse(codes.iter().map(String::as_str)) {
            Ok(p) => {
                let again = ProductsApplied::parse(p.as_slice().iter().map(|x| x.code())).unwrap();
                prop_assert_eq!(again.as_slice(), p.as_slice());
            }
            Err(f) => prop_assert_eq!(f.field, "products_applied"),
        }
    }

    #[test]
    fn needle_depths(mm in prop_oneof![any::<f64>(), 0.0f64..5.0, Just(f64::NAN), Just(f64::INFINITY)]) {
        match NeedleDepth::from_mm(mm) {
            Ok(d) => {
                prop_assert!(mm.is_finite());
                prop_assert_eq!(NeedleDepth::from_mm(d.mm()).unwrap(), d);
            }
            Err(f) => prop_assert_eq!(f.field, "needle_depth_mm"),
        }
    }

    #[test]
    fn codes_and_counts(raw in text(), n in any::<i64>(), reason in proptest::option::of(text())) {
        let accepted = [
            Condition::from_str(&raw).ok().map(|c| c.code()),
            Device::from_str(&raw).ok().map(|d| d.as_str()),
            Role::from_str(&raw).ok().map(|r| r.as_str()),
            Product::from_str(&raw).ok().map(|p| p.code()),
        ];
        for code in accepted.into_iter().flatten() {
            prop_assert_eq!(code, raw.as_str(), "a code is accepted only as written");
        }
        if let Ok(p) = PlannedSessions::parse(n) {
            prop_assert!((1..=5).contains(&i64::from(p.get())));
        }
        if let Ok(s) = SessionNumber::parse(n) {
            prop_assert!((1..=5).contains(&i64::from(s.get())));
        }
        let plan = SeriesPlan::parse(Condition::Other, Some(n), reason.as_deref());
        if let Ok(plan) = plan {
            prop_assert!((1..=5).contains(&i64::from(plan.planned.get())));
        }
    }
}
