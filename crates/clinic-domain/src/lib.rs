//! The clinical rules of the platform, free of I/O.
//!
//! Everything a request carries is parsed here into types that can only hold valid values
//! (`Email`, `NeedleDepth`, `PlannedSessions`, …); the series rule and the aftercare timeline take
//! only those types. Time comes in through a [`Clock`]; nothing here reads the system time.

pub mod checkin;
pub mod clinic;
pub mod clock;
pub mod consent;
pub mod error;
pub mod ids;
pub mod messages;
pub mod patient;
pub mod protocol;
pub mod series;
pub mod session;
pub mod timeline;
pub mod user;

pub use clock::{Clock, FixedClock, SystemClock};
pub use error::FieldError;
pub use ids::{PatientId, SeriesId, SessionId, UserId};

/// Stored values come back through these conversions (diesel's `deserialize_as` uses `TryFrom`), so
/// a row read from the database is parsed into the same types a request is.
mod stored {
    use crate::FieldError;
    use crate::protocol::StageKey;
    use crate::series::{Condition, PlannedSessions, SessionNumber};
    use crate::session::{Device, NeedleDepth, ProductsApplied, TreatmentAreas};
    use crate::user::Role;

    macro_rules! from_stored_text {
        ($($t:ty => $parse:expr),* $(,)?) => {$(
            impl TryFrom<String> for $t {
                type Error = FieldError;
                fn try_from(s: String) -> Result<Self, FieldError> {
                    $parse(s.as_str())
                }
            }
        )*};
    }

    macro_rules! from_stored_int {
        ($($t:ty => $parse:expr),* $(,)?) => {$(
            impl TryFrom<i32> for $t {
                type Error = FieldError;
                fn try_from(n: i32) -> Result<Self, FieldError> {
                    $parse(i64::from(n))
                }
            }
        )*};
    }

    from_stored_text! {
        Role => str::parse,
        Condition => str::parse,
        Device => str::parse,
        ProductsApplied => ProductsApplied::from_codes,
        TreatmentAreas => TreatmentAreas::from_stored,
        StageKey => |s| StageKey::parse("notes_stage", s),
    }

    from_stored_int! {
        PlannedSessions => PlannedSessions::parse,
        SessionNumber => SessionNumber::parse,
        NeedleDepth => NeedleDepth::from_hundredths,
    }
}
