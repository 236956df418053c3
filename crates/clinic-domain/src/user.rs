//! People: e-mail addresses, names and roles.

use crate::FieldError;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// An e-mail address, trimmed and lower-cased so that sign-in does not depend on letter case.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub const MAX_LEN: usize = 254;

    pub fn parse(field: &'static str, raw: &str) -> Result<Self, FieldError> {
        let value = raw.trim().to_lowercase();
        let err = |m: &str| Err(FieldError::new(field, m));
        if value.is_empty() {
            return err("an e-mail address is required");
        }
        if value.chars().count() > Self::MAX_LEN {
            return err("an e-mail address is at most 254 characters");
        }
        if value
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';' | '"'))
        {
            return err("an e-mail address may not contain spaces or the characters < > , ; \"");
        }
        let Some((local, domain)) = value.rsplit_once('@') else {
            return err("an e-mail address needs an @");
        };
        if local.is_empty() || local.len() > 64 || local.contains('@') {
            return err("the part before the @ must be 1 to 64 characters, with no second @");
        }
        let labels: Vec<&str> = domain.split('.').collect();
        if labels.len() < 2
            || labels
                .iter()
                .any(|l| l.is_empty() || l.starts_with('-') || l.ends_with('-'))
        {
            return err("the part after the @ must be a domain such as clinic.example");
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A person's name or a display name: trimmed, 1 to 100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonName(String);

impl PersonName {
    pub const MAX_LEN: usize = 100;

    pub fn parse(field: &'static str, raw: &str) -> Result<Self, FieldError> {
        let value = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if value.is_empty() {
            return Err(FieldError::new(field, "may not be empty"));
        }
        if value.chars().count() > Self::MAX_LEN {
            return Err(FieldError::new(field, "is at most 100 characters"));
        }
        if value
            .chars()
            .any(|c| c.is_control() || matches!(c, '<' | '>' | '{' | '}' | '\\'))
        {
            return Err(FieldError::new(
                field,
                "may not contain control characters or < > { } \\",
            ));
        }
        Ok(Self(value))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PersonName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One role per account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Manager,
    Provider,
    Patient,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Manager => "manager",
            Role::Provider => "provider",
            Role::Patient => "patient",
        }
    }

    /// Staff are the clinic's own accounts; patients sign in to the portal only.
    pub fn is_staff(self) -> bool {
        !matches!(self, Role::Patient)
    }
}

impl FromStr for Role {
    type Err = FieldError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            "manager" => Ok(Role::Manager),
            "provider" => Ok(Role::Provider),
            "patient" => Ok(Role::Patient),
            _ => Err(FieldError::new("role", "must be manager, provider or patient")),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_checked() {
        assert_eq!(
            Email::parse("email", "  Ana@Clinic.Example ").map(|e| e.0),
            Ok("ana@clinic.example".into())
        );
        for bad in [
            "",
            "ana",
            "ana@",
            "@clinic.example",
            "ana@clinic",
            "a b@clinic.example",
            "ana@.example",
            "ana@clinic..example",
            "ana@-x.example",
        ] {
            assert!(Email::parse("email", bad).is_err(), "{bad:?} accepted");
        }
        let long = format!("{}@clinic.example", "a".repeat(65));
        assert!(Email::parse("email", &long).is_err());
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            PersonName::parse("n", "  Ana   María ").map(|n| n.0),
            Ok("Ana María".into())
        );
        assert_eq!(
            PersonName::parse("n", "O'Brien-Smith").map(|n| n.0),
            Ok("O'Brien-Smith".into())
        );
        assert!(PersonName::parse("n", "   ").is_err());
        assert!(PersonName::parse("n", &"x".repeat(101)).is_err());
        assert!(PersonName::parse("n", "a\u{0}b").is_err());
        assert!(PersonName::parse("n", "<script>").is_err());
    }

    #[test]
    fn roles_round_trip() {
        for role in [Role::Manager, Role::Provider, Role::Patient] {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert!("admin".parse::<Role>().is_err());
        assert!(Role::Provider.is_staff() && !Role::Patient.is_staff());
    }
}
