//! The use cases: one function per user action, over a connection and a clock.
//!
//! The JSON API, the pages and the command line all call these functions, so a rule about an action
//! (who may do it, what is checked, what is audited, what is written together) lives in one place.
//! A use case takes an [`Env`] (the clock, the clinic's time zone, the audit trail), a connection
//! (so it composes inside a transaction) and, when someone signed in acts, the [`Actor`]. It parses
//! nothing from HTTP and renders nothing: handlers turn a request into the domain's types, call the
//! use case, and shape its answer.
//!
//! Password hashing is the one thing a use case never does itself: argon2 runs on the web layer's
//! hashing threads, off the connection, so an action that needs a hash takes it ready-made (and the
//! actions around a hash, such as sign-in, come in the two halves that run before and after it).

pub mod accounts;
pub mod actor;
pub mod audit;
pub mod check_ins;
pub mod clinic;
pub mod consent;
pub mod error;
pub mod invitations;
pub mod messages;
pub mod mfa;
pub mod patients;
pub mod photos;
pub mod reports;
pub mod series;
pub mod sessions;
pub mod setup;
pub mod staff;
pub mod timeline;

pub use actor::Actor;
pub use audit::Trail;
pub use error::{Error, ErrorCode, Result};

use chrono::{NaiveDate, NaiveDateTime};
use chrono_tz::Tz;
use clinic_domain::Clock;
use std::sync::Arc;

/// What every use case may read besides its connection.
#[derive(Clone)]
pub struct Env<'a> {
    pub clock: &'a dyn Clock,
    /// The clinic's settings as this process last read them; its time zone makes "today".
    pub clinic: Arc<clinic::Clinic>,
    /// Where reads and refusals are audited.
    pub trail: &'a dyn Trail,
    /// The address people reach the clinic at, for links (no trailing slash).
    pub public_url: &'a str,
}

impl Env<'_> {
    /// Now, in UTC, as stored.
    pub fn now(&self) -> NaiveDateTime {
        self.clock.now().naive_utc()
    }

    /// The clinic's time zone.
    pub fn tz(&self) -> Tz {
        self.clinic.time_zone
    }

    /// The calendar date at the clinic.
    pub fn today(&self) -> NaiveDate {
        self.clock.today_in(self.tz())
    }
}
