//! The clinic's own settings: its name and contact details, its time zone (day 0 of every timeline is
//! the local date there), the hour reminders go out, who must use a second factor, and whether
//! patients see their photos.

use crate::FieldError;
use crate::patient::Phone;
use crate::user::{Email, PersonName};
use chrono_tz::Tz;
use std::fmt;
use std::str::FromStr;

/// An IANA time zone name, parsed ("Europe/London", "America/New_York").
pub fn time_zone(raw: &str) -> Result<Tz, FieldError> {
    raw.trim().parse::<Tz>().map_err(|_| {
        FieldError::new(
            "time_zone",
            "must be an IANA time zone name such as Europe/London or America/New_York",
        )
    })
}

/// The clinic's local hour (0–23) at which reminders go out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ReminderHour(u8);

impl ReminderHour {
    pub const DEFAULT: ReminderHour = ReminderHour(9);

    pub fn parse(n: i64) -> Result<Self, FieldError> {
        u8::try_from(n)
            .ok()
            .filter(|h| *h <= 23)
            .map(Self)
            .ok_or_else(|| FieldError::new("reminder_hour", "must be an hour from 0 to 23"))
    }

    pub fn get(self) -> u8 {
        self.0
    }
}

impl Default for ReminderHour {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Whose sign-in needs a second factor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MfaPolicy {
    #[default]
    Managers,
    Staff,
    None,
}

impl MfaPolicy {
    pub const ALL: [MfaPolicy; 3] = [MfaPolicy::Managers, MfaPolicy::Staff, MfaPolicy::None];

    pub fn as_str(self) -> &'static str {
        match self {
            MfaPolicy::Managers => "managers",
            MfaPolicy::Staff => "staff",
            MfaPolicy::None => "none",
        }
    }

    /// Whether an account of `role` must have a second factor under this policy.
    pub fn covers(self, role: crate::user::Role) -> bool {
        use crate::user::Role;
        match self {
            MfaPolicy::Managers => role == Role::Manager,
            MfaPolicy::Staff => role.is_staff(),
            MfaPolicy::None => false,
        }
    }
}

impl FromStr for MfaPolicy {
    type Err = FieldError;

    fn from_str(s: &str) -> Result<Self, FieldError> {
        MfaPolicy::ALL
            .into_iter()
            .find(|p| p.as_str() == s.trim())
            .ok_or_else(|| FieldError::new("require_mfa_for", "must be managers, staff or none"))
    }
}

impl fmt::Display for MfaPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A postal address: up to 300 characters over a few lines, no other control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address(String);

impl Address {
    pub fn parse(raw: &str) -> Result<Option<Self>, FieldError> {
        let text = raw.trim();
        if text.is_empty() {
            return Ok(None);
        }
        if text.chars().count() > 300 {
            return Err(FieldError::new("address", "is at most 300 characters"));
        }
        if text.chars().any(|c| c.is_control() && c != '\n' && c != '\r') {
            return Err(FieldError::new("address", "may not contain control characters"));
        }
        let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        Ok(Some(Self(lines.join("\n"))))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The clinic's settings, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct ClinicSettings {
    pub name: PersonName,
    pub time_zone: Tz,
    pub phone: Option<Phone>,
    pub email: Option<Email>,
    pub address: Option<Address>,
    pub reminder_hour: ReminderHour,
    pub require_mfa_for: MfaPolicy,
    pub patients_see_photos: bool,
}

/// The name a clinic starts with until a manager sets its own.
pub const DEFAULT_NAME: &str = "Micro-needling clinic";

impl ClinicSettings {
    /// A clinic's first settings: a name and a time zone; everything else at its default.
    pub fn first(name: PersonName, time_zone: Tz) -> Self {
        Self {
            name,
            time_zone,
            phone: None,
            email: None,
            address: None,
            reminder_hour: ReminderHour::DEFAULT,
            require_mfa_for: MfaPolicy::default(),
            patients_see_photos: false,
        }
    }

    /// The clinic's name, parsed ("name" names the field).
    pub fn name(raw: &str) -> Result<PersonName, FieldError> {
        PersonName::parse("name", raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::user::Role;

    #[test]
    fn settings_parse() {
        assert_eq!(time_zone(" America/New_York ").unwrap(), chrono_tz::America::New_York);
        assert_eq!(time_zone("Mars/Olympus").unwrap_err().field, "time_zone");
        assert_eq!(ReminderHour::parse(0).unwrap().get(), 0);
        assert_eq!(ReminderHour::parse(23).unwrap().get(), 23);
        assert!(ReminderHour::parse(24).is_err() && ReminderHour::parse(-1).is_err());
        assert_eq!("staff".parse::<MfaPolicy>(), Ok(MfaPolicy::Staff));
        assert!("everyone".parse::<MfaPolicy>().is_err());
        assert!(MfaPolicy::Managers.covers(Role::Manager) && !MfaPolicy::Managers.covers(Role::Provider));
        assert!(MfaPolicy::Staff.covers(Role::Provider) && !MfaPolicy::Staff.covers(Role::Patient));
        assert!(!MfaPolicy::None.covers(Role::Manager));
        assert_eq!(
            Address::parse(" 1 High St \r\n\r\n Leeds ").unwrap().unwrap().as_str(),
            "1 High St\nLeeds"
        );
        assert_eq!(Address::parse("  ").unwrap(), None);
        assert!(Address::parse(&"x".repeat(301)).is_err());
    }
}
