//! Patients: the record a provider creates.

use crate::FieldError;
use crate::user::{Email, PersonName};
use chrono::NaiveDate;

/// A date of birth: in the past (relative to the clinic's today) and not before 1900.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct DateOfBirth(NaiveDate);

impl DateOfBirth {
    pub fn parse(date: NaiveDate, today: NaiveDate) -> Result<Self, FieldError> {
        let earliest = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN);
        if date >= today {
            return Err(FieldError::new("date_of_birth", "must be in the past"));
        }
        if date < earliest {
            return Err(FieldError::new("date_of_birth", "must be on or after 1900-01-01"));
        }
        Ok(Self(date))
    }

    pub fn date(self) -> NaiveDate {
        self.0
    }
}

/// A telephone number as people write it: digits with optional spaces, dashes, dots, brackets and a leading +.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let value = raw.trim();
        let digits = value.chars().filter(char::is_ascii_digit).count();
        let allowed = value
            .chars()
            .enumerate()
            .all(|(i, c)| c.is_ascii_digit() || matches!(c, ' ' | '-' | '.' | '(' | ')') || (c == '+' && i == 0));
        if !allowed || !(6..=20).contains(&digits) || value.len() > 32 {
            return Err(FieldError::new(
                "phone",
                "must be a telephone number of 6 to 20 digits, e.g. +1 555 010 0199",
            ));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A new patient, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPatient {
    pub first_name: PersonName,
    pub last_name: PersonName,
    pub date_of_birth: DateOfBirth,
    pub email: Option<Email>,
    pub phone: Option<Phone>,
}

/// The raw fields of a patient as a form or JSON body gives them.
#[derive(Debug, Clone, Default)]
pub struct PatientInput<'a> {
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub date_of_birth: Option<NaiveDate>,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
}

impl NewPatient {
    /// Parses every field, collecting all errors so a form can show them together.
    pub fn parse(input: PatientInput<'_>, today: NaiveDate) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let first_name = PersonName::parse("first_name", input.first_name)
            .map_err(|e| errors.push(e))
            .ok();
        let last_name = PersonName::parse("last_name", input.last_name)
            .map_err(|e| errors.push(e))
            .ok();
        let date_of_birth = match input.date_of_birth {
            Some(d) => DateOfBirth::parse(d, today).map_err(|e| errors.push(e)).ok(),
            None => {
                errors.push(FieldError::new("date_of_birth", "is required (YYYY-MM-DD)"));
                None
            }
        };
        let email = match input.email.map(str::trim).filter(|s| !s.is_empty()) {
            Some(e) => Email::parse("email", e).map_err(|e| errors.push(e)).ok(),
            None => None,
        };
        let phone = match input.phone.map(str::trim).filter(|s| !s.is_empty()) {
            Some(p) => Phone::parse(p).map_err(|e| errors.push(e)).ok(),
            None => None,
        };
        match (first_name, last_name, date_of_birth) {
            (Some(first_name), Some(last_name), Some(date_of_birth)) if errors.is_empty() => Ok(Self {
                first_name,
                last_name,
                date_of_birth,
                email,
                phone,
            }),
            _ => Err(errors),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn date_of_birth_must_be_past() {
        let today = d(2026, 11, 25);
        assert!(DateOfBirth::parse(d(1990, 5, 1), today).is_ok());
        assert!(DateOfBirth::parse(today, today).is_err());
        assert!(DateOfBirth::parse(d(2027, 1, 1), today).is_err());
        assert!(DateOfBirth::parse(d(1899, 12, 31), today).is_err());
    }

    #[test]
    fn patient_collects_every_error() {
        let input = PatientInput {
            first_name: " ",
            last_name: "",
            date_of_birth: None,
            email: Some("x"),
            phone: Some("abc"),
        };
        let errors = NewPatient::parse(input, d(2026, 1, 1)).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field).collect();
        assert_eq!(fields, ["first_name", "last_name", "date_of_birth", "email", "phone"]);
    }

    #[test]
    fn optional_contact_fields_may_be_blank() {
        let input = PatientInput {
            first_name: "Ana",
            last_name: "Silva",
            date_of_birth: Some(d(1990, 2, 3)),
            email: Some("  "),
            phone: Some("+1 (555) 010-0199"),
        };
        let p = NewPatient::parse(input, d(2026, 1, 1)).unwrap();
        assert_eq!(p.email, None);
        assert_eq!(p.phone.unwrap().as_str(), "+1 (555) 010-0199");
    }
}
