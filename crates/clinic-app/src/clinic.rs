//! The clinic's settings: read by every request (its time zone makes "today"), changed by a manager.
//! Each process keeps them in a [`ClinicCache`], refreshed from the database every few seconds so
//! that several processes agree, and at once in the process that changed them.

use crate::{Actor, Env, Error, ErrorCode, Result};
use chrono::NaiveDateTime;
use chrono_tz::Tz;
use clinic_db::DbConn;
use clinic_db::clinic::{ClinicChanges, ClinicRow};
use clinic_domain::FieldError;
use clinic_domain::clinic::{Address, ClinicSettings, DEFAULT_NAME, MfaPolicy, ReminderHour, time_zone};
use clinic_domain::patient::Phone;
use clinic_domain::user::{Email, PersonName, Role};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// The settings as the product uses them.
#[derive(Debug, Clone, PartialEq)]
pub struct Clinic {
    pub name: String,
    pub time_zone: Tz,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub address: Option<String>,
    pub reminder_hour: ReminderHour,
    pub require_mfa_for: MfaPolicy,
    pub patients_see_photos: bool,
}

impl Clinic {
    /// Before the database is read (and in tools that have no clinic yet).
    pub fn named(name: &str, time_zone: Tz) -> Self {
        Self {
            name: name.to_owned(),
            time_zone,
            phone: None,
            email: None,
            address: None,
            reminder_hour: ReminderHour::DEFAULT,
            require_mfa_for: MfaPolicy::default(),
            patients_see_photos: false,
        }
    }

    /// The contact details in one line: "Clinic · +1 555 010 0199 · desk@clinic.example · 1 High St".
    pub fn contact_line(&self) -> String {
        let mut parts = vec![self.name.clone()];
        parts.extend(self.phone.clone());
        parts.extend(self.email.clone());
        parts.extend(self.address.as_ref().map(|a| a.replace('\n', ", ")));
        parts.join(" · ")
    }

    fn from_row(row: ClinicRow) -> Self {
        // Stored values were parsed when written; a value that no longer parses falls back to the default.
        Self {
            name: row.name,
            time_zone: row.time_zone.parse().unwrap_or(chrono_tz::UTC),
            phone: row.phone,
            email: row.email,
            address: row.address,
            reminder_hour: ReminderHour::parse(i64::from(row.reminder_hour)).unwrap_or_default(),
            require_mfa_for: row.require_mfa_for.parse().unwrap_or_default(),
            patients_see_photos: row.patients_see_photos,
        }
    }
}

fn changes<'a>(s: &'a ClinicSettings, tz: &'a str, now: NaiveDateTime) -> ClinicChanges<'a> {
    ClinicChanges {
        name: s.name.as_str(),
        time_zone: tz,
        phone: s.phone.as_ref().map(Phone::as_str),
        email: s.email.as_ref().map(Email::as_str),
        address: s.address.as_ref().map(Address::as_str),
        reminder_hour: i32::from(s.reminder_hour.get()),
        require_mfa_for: s.require_mfa_for.as_str(),
        patients_see_photos: s.patients_see_photos,
        updated_by: None,
        updated_at: now,
    }
}

/// The clinic's settings, writing the first ones (the default name, `time_zone`) when there are none:
/// `CLINIC_TIMEZONE` only seeds the first value.
pub fn ensure(conn: &mut DbConn, time_zone: Tz, now: NaiveDateTime) -> Result<Clinic> {
    if let Some(row) = clinic_db::clinic::get(conn)? {
        return Ok(Clinic::from_row(row));
    }
    let name = PersonName::parse("name", DEFAULT_NAME)?;
    let first = ClinicSettings::first(name, time_zone);
    let tz = time_zone.name().to_owned();
    Ok(Clinic::from_row(clinic_db::clinic::insert_if_absent(
        conn,
        &changes(&first, &tz, now),
    )?))
}

/// The settings as stored now.
pub fn load(conn: &mut DbConn) -> Result<Option<Clinic>> {
    Ok(clinic_db::clinic::get(conn)?.map(Clinic::from_row))
}

fn invalid_time_zone(e: FieldError) -> Error {
    Error::refused(ErrorCode::InvalidTimeZone, format!("time_zone {}", e.message))
}

/// A manager's new settings, as typed: absent optional fields keep their current value, `Some(None)`
/// clears a contact detail.
#[derive(Debug, Clone, Default)]
pub struct SettingsInput {
    pub name: String,
    pub time_zone: String,
    pub phone: Option<Option<String>>,
    pub email: Option<Option<String>>,
    pub address: Option<Option<String>>,
    pub reminder_hour: Option<i64>,
    pub require_mfa_for: Option<String>,
    pub patients_see_photos: Option<bool>,
}

impl SettingsInput {
    /// The settings these changes make from `current`. A time zone that is not IANA is
    /// `invalid_time_zone`; every other bad value is a validation error naming its field.
    pub fn parse(&self, current: &Clinic) -> Result<ClinicSettings> {
        let name = ClinicSettings::name(&self.name)?;
        let time_zone = time_zone(&self.time_zone).map_err(invalid_time_zone)?;
        let text = |given: &Option<Option<String>>, now: &Option<String>| match given {
            Some(v) => v.clone().filter(|s| !s.trim().is_empty()),
            None => now.clone(),
        };
        let phone = text(&self.phone, &current.phone)
            .map(|p| Phone::parse(&p))
            .transpose()?;
        let email = text(&self.email, &current.email)
            .map(|e| Email::parse("email", &e))
            .transpose()?;
        let address = match text(&self.address, &current.address) {
            Some(a) => Address::parse(&a)?,
            None => None,
        };
        let reminder_hour = match self.reminder_hour {
            Some(h) => ReminderHour::parse(h)?,
            None => current.reminder_hour,
        };
        let require_mfa_for = match &self.require_mfa_for {
            Some(p) => p.parse()?,
            None => current.require_mfa_for,
        };
        Ok(ClinicSettings {
            name,
            time_zone,
            phone,
            email,
            address,
            reminder_hour,
            require_mfa_for,
            patients_see_photos: self.patients_see_photos.unwrap_or(current.patients_see_photos),
        })
    }
}

/// Replaces the clinic's settings (a manager; audited).
#[tracing::instrument(level = "debug", skip_all)]
pub fn update(conn: &mut DbConn, env: &Env<'_>, actor: &Actor, input: &SettingsInput) -> Result<Clinic> {
    actor.require(env, &[Role::Manager])?;
    let settings = input.parse(&env.clinic)?;
    let tz = settings.time_zone.name().to_owned();
    let now = env.now();
    conn.write_transaction(|conn| {
        let row = clinic_db::clinic::update(conn, &changes(&settings, &tz, now), Some(actor.user.id))?;
        clinic_db::audit::insert(
            conn,
            &actor
                .event(env, "clinic.update", "success")
                .detail(format!(
                    "time zone {tz}, reminders at {}:00",
                    settings.reminder_hour.get()
                ))
                .build(),
        )?;
        Ok(Clinic::from_row(row))
    })
}

/// Sets the clinic's name and time zone with the first manager (the setup page).
pub fn name_at_setup(conn: &mut DbConn, name: &PersonName, tz: Tz, now: NaiveDateTime) -> Result<Clinic> {
    ensure(conn, tz, now)?;
    let settings = ClinicSettings::first(name.clone(), tz);
    let tz_name = tz.name().to_owned();
    Ok(Clinic::from_row(clinic_db::clinic::update(
        conn,
        &changes(&settings, &tz_name, now),
        None,
    )?))
}

/// How long a process trusts its copy of the settings before reading them again.
pub const REFRESH_AFTER: Duration = Duration::from_secs(5);

/// A process's copy of the settings.
pub struct ClinicCache {
    current: RwLock<(Arc<Clinic>, Instant)>,
}

impl ClinicCache {
    pub fn new(clinic: Clinic) -> Arc<Self> {
        Arc::new(Self {
            current: RwLock::new((Arc::new(clinic), Instant::now())),
        })
    }

    pub fn get(&self) -> Arc<Clinic> {
        self.current
            .read()
            .map(|c| Arc::clone(&c.0))
            .unwrap_or_else(|e| Arc::clone(&e.into_inner().0))
    }

    pub fn set(&self, clinic: Clinic) {
        if let Ok(mut c) = self.current.write() {
            *c = (Arc::new(clinic), Instant::now());
        }
    }

    /// Reads the settings again when the copy is older than [`REFRESH_AFTER`].
    pub fn refresh_if_stale(&self, conn: &mut DbConn) -> Result<()> {
        let stale = self
            .current
            .read()
            .map(|c| c.1.elapsed() >= REFRESH_AFTER)
            .unwrap_or(true);
        if stale && let Some(clinic) = load(conn)? {
            self.set(clinic);
        }
        Ok(())
    }
}
