//! Date and timestamp columns read fast on SQLite. SQLite keeps them as text, and diesel's reader runs
//! chrono's format-string parser (for timestamps, over a list of formats in turn); a row of the patient's
//! timeline holds seven of them. [`Stamp`] and [`Day`] parse the one form diesel writes
//! (`2026-11-26 09:30:00.123456789`, `2026-11-26`) directly and leave anything else to diesel.
//! PostgreSQL's binary values go straight to diesel. [`text_of`] writes that form without chrono's
//! format-string interpreter.

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};
use diesel::deserialize::{self, FromSql};
use diesel::pg::Pg;
use diesel::sql_types::{Date, Nullable, Timestamp};
use diesel::sqlite::{Sqlite, SqliteValue};

/// Read as `#[diesel(deserialize_as = Stamp)]` on a `NaiveDateTime` field.
#[derive(diesel::deserialize::FromSqlRow)]
pub struct Stamp(NaiveDateTime);

/// Read as `#[diesel(deserialize_as = MaybeStamp)]` on an `Option<NaiveDateTime>` field.
#[derive(diesel::deserialize::FromSqlRow)]
pub struct MaybeStamp(Option<NaiveDateTime>);

/// Read as `#[diesel(deserialize_as = Day)]` on a `NaiveDate` field.
#[derive(diesel::deserialize::FromSqlRow)]
pub struct Day(NaiveDate);

impl From<Day> for NaiveDate {
    fn from(d: Day) -> Self {
        d.0
    }
}

impl FromSql<Date, Sqlite> for Day {
    fn from_sql(mut value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        if let Some(d) = parse_date(value.read_text().as_bytes()) {
            return Ok(Self(d));
        }
        <NaiveDate as FromSql<Date, Sqlite>>::from_sql(value).map(Self)
    }
}

impl FromSql<Date, Pg> for Day {
    fn from_sql(value: diesel::pg::PgValue<'_>) -> deserialize::Result<Self> {
        <NaiveDate as FromSql<Date, Pg>>::from_sql(value).map(Self)
    }
}

impl From<Stamp> for NaiveDateTime {
    fn from(s: Stamp) -> Self {
        s.0
    }
}

impl From<MaybeStamp> for Option<NaiveDateTime> {
    fn from(s: MaybeStamp) -> Self {
        s.0
    }
}

impl FromSql<Timestamp, Sqlite> for Stamp {
    fn from_sql(mut value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        if let Some(t) = parse(value.read_text()) {
            return Ok(Self(t));
        }
        <NaiveDateTime as FromSql<Timestamp, Sqlite>>::from_sql(value).map(Self)
    }
}

impl FromSql<Timestamp, Pg> for Stamp {
    fn from_sql(value: diesel::pg::PgValue<'_>) -> deserialize::Result<Self> {
        <NaiveDateTime as FromSql<Timestamp, Pg>>::from_sql(value).map(Self)
    }
}

impl<DB: diesel::backend::Backend> FromSql<Nullable<Timestamp>, DB> for MaybeStamp
where
    Stamp: FromSql<Timestamp, DB>,
{
    fn from_sql(value: DB::RawValue<'_>) -> deserialize::Result<Self> {
        Stamp::from_sql(value).map(|s| Self(Some(s.0)))
    }

    fn from_nullable_sql(value: Option<DB::RawValue<'_>>) -> deserialize::Result<Self> {
        value.map_or(Ok(Self(None)), Self::from_sql)
    }
}

/// The text diesel writes for a timestamp on SQLite (`%F %T%.f`: no fraction, or 3, 6 or 9 digits of
/// it, as few as hold it exactly), written directly; chrono's formatter for years outside 0..=9999 and
/// leap seconds.
pub(crate) fn text_of(t: NaiveDateTime) -> String {
    let (year, nanos) = (t.year(), t.nanosecond());
    let (Ok(year @ 0..=9999), 0..=999_999_999) = (u32::try_from(year), nanos) else {
        return t.format("%F %T%.f").to_string();
    };
    let mut b = [0u8; 29];
    let mut put = |at: usize, width: usize, mut n: u32| {
        for i in (at..at + width).rev() {
            // `n % 10` is a digit.
            b[i] = b'0' + (n % 10) as u8;
            n /= 10;
        }
    };
    put(0, 4, year);
    put(5, 2, t.month());
    put(8, 2, t.day());
    put(11, 2, t.hour());
    put(14, 2, t.minute());
    put(17, 2, t.second());
    let len = match nanos {
        0 => 19,
        n if n % 1_000_000 == 0 => {
            put(20, 3, n / 1_000_000);
            23
        }
        n if n % 1_000 == 0 => {
            put(20, 6, n / 1_000);
            26
        }
        n => {
            put(20, 9, n);
            29
        }
    };
    (b[4], b[7], b[10], b[13], b[16], b[19]) = (b'-', b'-', b' ', b':', b':', b'.');
    b[..len].iter().map(|&c| char::from(c)).collect()
}

/// The decimal value of ASCII digits; `None` if any byte is not one.
fn digits(b: &[u8]) -> Option<u32> {
    b.iter()
        .try_fold(0u32, |n, &c| c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0')))
}

/// Exactly `YYYY-MM-DD`.
fn parse_date(b: &[u8]) -> Option<NaiveDate> {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    NaiveDate::from_ymd_opt(
        i32::try_from(digits(&b[0..4])?).ok()?,
        digits(&b[5..7])?,
        digits(&b[8..10])?,
    )
}

/// `YYYY-MM-DD HH:MM:SS`, then optionally `.` and 1 to 9 digits of fraction; `None` for anything else.
fn parse(text: &str) -> Option<NaiveDateTime> {
    let b = text.as_bytes();
    if b.len() < 19 || b[10] != b' ' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let nanos = match &b[19..] {
        [] => 0,
        [b'.', fraction @ ..] if (1..=9).contains(&fraction.len()) => {
            // `fraction.len()` is 1..=9, so the exponent is 0..=8.
            digits(fraction)? * 10u32.pow(9 - u32::try_from(fraction.len()).ok()?)
        }
        _ => return None,
    };
    let time = NaiveTime::from_hms_nano_opt(digits(&b[11..13])?, digits(&b[14..16])?, digits(&b[17..19])?, nanos)?;
    Some(parse_date(&b[..10])?.and_time(time))
}

#[cfg(test)]
mod tests {
    use super::{parse, parse_date, text_of};
    use chrono::{NaiveDate, NaiveDateTime};
    use proptest::prelude::*;

    /// Diesel's own reading of the text, which [`parse`] must match wherever it answers.
    fn diesel_reading(text: &str) -> Option<NaiveDateTime> {
        ["%F %T%.f", "%F %T"]
            .iter()
            .find_map(|f| NaiveDateTime::parse_from_str(text, f).ok())
    }

    #[test]
    fn reads_what_diesel_writes() {
        for text in [
            "2026-11-26 00:58:15.552458089",
            "2026-11-26 00:58:15",
            "2026-11-26 00:58:15.5",
            "2024-02-29 23:59:59.000001",
        ] {
            assert_eq!(parse(text), diesel_reading(text), "{text}");
            assert!(parse(text).is_some(), "{text}");
        }
    }

    #[test]
    fn leaves_other_forms_to_diesel() {
        for text in [
            "2026-11-26T00:58:15",
            "2026-11-26 00:58:15.",
            "2026-11-26 00:58:15.1234567891",
            "2026-11-26 00:58",
            "2026-02-30 00:00:00",
            "2026-11-26 24:00:00",
            "+026-11-26 00:00:00",
            "2026-11-26 00:58:15Z",
            "",
        ] {
            assert_eq!(parse(text), None, "{text}");
        }
    }

    #[test]
    fn writes_leap_seconds_and_far_years_as_diesel_does() {
        let leap = NaiveDate::from_ymd_opt(2016, 12, 31)
            .and_then(|d| d.and_hms_nano_opt(23, 59, 59, 1_500_000_000))
            .unwrap();
        let far = NaiveDate::from_ymd_opt(12_026, 1, 2)
            .and_then(|d| d.and_hms_opt(3, 4, 5))
            .unwrap();
        for t in [leap, far] {
            assert_eq!(text_of(t), t.format("%F %T%.f").to_string());
        }
        assert_eq!(text_of(leap), "2016-12-31 23:59:60.500");
    }

    #[test]
    fn reads_dates_as_diesel_does() {
        for text in ["2026-11-26", "2024-02-29", "0001-01-01"] {
            assert_eq!(
                parse_date(text.as_bytes()),
                NaiveDate::parse_from_str(text, "%F").ok(),
                "{text}"
            );
            assert!(parse_date(text.as_bytes()).is_some(), "{text}");
        }
        for text in [
            "2026-02-30",
            "2026-11-2",
            "2026-11-26 ",
            "2026/11/26",
            "+2026-11-26",
            "",
        ] {
            assert_eq!(parse_date(text.as_bytes()), None, "{text}");
        }
    }

    proptest! {
        #[test]
        fn agrees_with_diesel_on_any_written_time(secs in 0i64..8_000_000_000, nanos in 0u32..1_000_000_000) {
            let Some(t) = chrono::DateTime::from_timestamp(secs, nanos) else { return Ok(()) };
            let text = t.naive_utc().format("%F %T%.f").to_string();
            prop_assert_eq!(parse(&text), Some(t.naive_utc()));
        }

        #[test]
        fn writes_what_diesel_writes(secs in -70_000_000_000i64..260_000_000_000, nanos in 0u32..1_000_000_000, round in 0u32..4) {
            // Whole seconds, milliseconds, microseconds or nanoseconds: each length of fraction.
            let nanos = nanos - nanos % [1_000_000_000, 1_000_000, 1_000, 1][round as usize];
            let Some(t) = chrono::DateTime::from_timestamp(secs, nanos) else { return Ok(()) };
            prop_assert_eq!(text_of(t.naive_utc()), t.naive_utc().format("%F %T%.f").to_string());
        }

        #[test]
        fn never_disagrees_with_diesel(text in "[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{0,10})?") {
            if let Some(t) = parse(&text) {
                prop_assert_eq!(Some(t), diesel_reading(&text));
            }
        }
    }
}
