//! The manager's series report: a few aggregate queries over a date range, never a loop over patients.

use crate::{DbConn, DbResult};
use chrono::{NaiveDate, NaiveDateTime};
use clinic_domain::series::{MAXIMUM, TYPICAL_MAX};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Integer, Nullable, Text, Timestamp};

/// An inclusive range of calendar dates; `None` ends are open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DateRange {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// Open ends stand for dates both databases store and compare as text and as dates alike.
fn earliest() -> NaiveDate {
    NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or_default()
}

fn latest() -> NaiveDate {
    NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or_default()
}

impl DateRange {
    fn start(&self) -> NaiveDateTime {
        self.first_day().and_time(chrono::NaiveTime::MIN)
    }

    /// The first instant after the range.
    fn end(&self) -> NaiveDateTime {
        self.to
            .and_then(|d| d.succ_opt())
            .unwrap_or(latest())
            .and_time(chrono::NaiveTime::MIN)
    }

    fn first_day(&self) -> NaiveDate {
        self.from.unwrap_or_else(earliest)
    }

    fn last_day(&self) -> NaiveDate {
        self.to.unwrap_or_else(latest)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProviderRow {
    pub provider_id: i64,
    pub provider_name: String,
    pub sessions: i64,
    pub patients: i64,
    pub beyond_typical_sessions: i64,
    pub refusals: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesReport {
    pub range: DateRange,
    /// Series opened in the range, by sessions recorded: index 0 = none yet, then 1 to `MAXIMUM`.
    pub by_sessions: Vec<i64>,
    pub flagged_after_maximum: i64,
    /// Refused attempts at a session beyond the maximum, in the range.
    pub refused_attempts: i64,
    /// Sessions voided in the range (a duplicate, the wrong patient): they count nowhere else.
    pub voided_sessions: i64,
    pub providers: Vec<ProviderRow>,
}

impl SeriesReport {
    fn empty(range: DateRange) -> Self {
        Self {
            range,
            by_sessions: vec![0; usize::from(MAXIMUM) + 1],
            flagged_after_maximum: 0,
            refused_attempts: 0,
            voided_sessions: 0,
            providers: Vec::new(),
        }
    }

    /// Series with `n` sessions recorded.
    fn with(&self, n: impl Fn(u8) -> bool) -> i64 {
        (0..=MAXIMUM)
            .zip(&self.by_sessions)
            .filter(|(k, _)| n(*k))
            .map(|(_, c)| c)
            .sum()
    }

    /// Series with at least one session.
    pub fn started(&self) -> i64 {
        self.with(|n| n >= 1)
    }
    pub fn within_typical(&self) -> i64 {
        self.with(|n| (1..=TYPICAL_MAX).contains(&n))
    }
    pub fn beyond_typical(&self) -> i64 {
        self.with(|n| n > TYPICAL_MAX)
    }
    pub fn at_maximum(&self) -> i64 {
        self.with(|n| n == MAXIMUM)
    }
}

#[derive(QueryableByName)]
struct Bucket {
    #[diesel(sql_type = BigInt)]
    sessions: i64,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct SessionDays {
    #[diesel(sql_type = Nullable<Date>)]
    first_on: Option<NaiveDate>,
    #[diesel(sql_type = Nullable<Date>)]
    last_on: Option<NaiveDate>,
}

#[derive(QueryableByName)]
struct ProviderAgg {
    #[diesel(sql_type = BigInt)]
    provider_id: i64,
    #[diesel(sql_type = Text)]
    provider_name: String,
    #[diesel(sql_type = BigInt)]
    sessions: i64,
    #[diesel(sql_type = BigInt)]
    patients: i64,
    #[diesel(sql_type = BigInt)]
    beyond: i64,
}

#[derive(QueryableByName)]
struct ProviderRefusals {
    #[diesel(sql_type = BigInt)]
    provider_id: i64,
    #[diesel(sql_type = Nullable<Text>)]
    provider_name: Option<String>,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// The SQL as the backend wants it: `$1`, `$2`, … for `?` on PostgreSQL; on SQLite, `/*INDEXED BY x*/`
/// pins the covering index (its planner, without fresh statistics, may take a far worse one).
fn placeholders(conn: &DbConn, sql: &str) -> String {
    if !conn.is_postgres() {
        return sql.replace("/*INDEXED BY ", "INDEXED BY ").replace("*/", "");
    }
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for c in sql.chars() {
        if c == '?' {
            n += 1;
            out.push_str(&format!("${n}"));
        } else {
            out.push(c);
        }
    }
    out
}

/// Series by sessions recorded, the counts listed from the domain's maximum: on SQLite one index range per
/// count; PostgreSQL reads the series rows (the count is in no index there, so raising it is a HOT update).
fn series_by_sessions() -> String {
    let counts: Vec<String> = (0..=MAXIMUM).map(|n| n.to_string()).collect();
    format!(
        "SELECT CAST(sessions_recorded AS BIGINT) AS sessions, COUNT(*) AS n FROM series /*INDEXED BY series_report*/
        WHERE sessions_recorded IN ({}) AND opened_at >= ? AND opened_at < ? GROUP BY sessions_recorded",
        counts.join(", ")
    )
}

const FLAGGED: &str = "SELECT COUNT(*) AS n FROM series /*INDEXED BY series_flagged*/
    WHERE flagged_after_maximum AND opened_at >= ? AND opened_at < ?";

const PER_PROVIDER: &str =
    "SELECT a.provider_id AS provider_id, u.display_name AS provider_name, a.sessions AS sessions,
        a.patients AS patients, a.beyond AS beyond
    FROM (
        SELECT provider_id, COUNT(*) AS sessions, COUNT(DISTINCT patient_id) AS patients,
            SUM(CASE WHEN session_number > ? THEN 1 ELSE 0 END) AS beyond
        FROM sessions /*INDEXED BY sessions_report*/
        WHERE performed_on >= ? AND performed_on <= ? AND voided_at IS NULL GROUP BY provider_id
    ) a JOIN users u ON u.id = a.provider_id
    ORDER BY u.display_name, a.provider_id";

/// [`PER_PROVIDER`] for a range that holds every session: one row per provider and patient
/// (`provider_patients`, kept by triggers) instead of a distinct count over every session.
const PER_PROVIDER_ALL: &str =
    "SELECT a.provider_id AS provider_id, u.display_name AS provider_name, CAST(a.sessions AS BIGINT) AS sessions,
        a.patients AS patients, CAST(a.beyond AS BIGINT) AS beyond
    FROM (
        SELECT provider_id, SUM(sessions) AS sessions, COUNT(*) AS patients, SUM(beyond_typical) AS beyond
        FROM provider_patients WHERE sessions > 0 GROUP BY provider_id
    ) a JOIN users u ON u.id = a.provider_id
    ORDER BY u.display_name, a.provider_id";

/// The first and last day any session (void or not) was performed on.
const SESSION_DAYS: &str = "SELECT (SELECT MIN(performed_on) FROM sessions) AS first_on,
    (SELECT MAX(performed_on) FROM sessions) AS last_on";

const VOIDED: &str = "SELECT COUNT(*) AS n FROM sessions /*INDEXED BY sessions_voided*/
    WHERE voided_at IS NOT NULL AND voided_at >= ? AND voided_at < ?";

const REFUSALS_PER_PROVIDER: &str =
    "SELECT r.provider_id AS provider_id, u.display_name AS provider_name, COUNT(*) AS n
    FROM series_refusals r LEFT JOIN users u ON u.id = r.provider_id
    WHERE r.created_at >= ? AND r.created_at < ? GROUP BY r.provider_id, u.display_name";

/// The report for `range`: series opened in it, sessions performed in it, refusals made in it.
pub fn series_report(conn: &mut DbConn, range: DateRange) -> DbResult<SeriesReport> {
    let (start, end) = (range.start(), range.end());
    let q = |c: &DbConn, s: &str| placeholders(c, s);
    let (buckets, flagged, providers, refusals, voided) = conn.transaction(|conn| {
        let sql = q(conn, &series_by_sessions());
        let buckets: Vec<Bucket> = crate::with_conn!(&mut *conn, c => diesel::sql_query(&sql)
            .bind::<Timestamp, _>(start).bind::<Timestamp, _>(end).load(c))?;
        let sql = q(conn, FLAGGED);
        let flagged: Count = crate::with_conn!(&mut *conn, c => diesel::sql_query(&sql)
            .bind::<Timestamp, _>(start).bind::<Timestamp, _>(end).get_result(c))?;
        let (first, last) = (range.first_day(), range.last_day());
        let days: SessionDays = crate::with_conn!(&mut *conn, c => diesel::sql_query(SESSION_DAYS).get_result(c))?;
        let holds_all = days.first_on.is_none_or(|d| d >= first) && days.last_on.is_none_or(|d| d <= last);
        let providers: Vec<ProviderAgg> = if holds_all {
            crate::with_conn!(&mut *conn, c => diesel::sql_query(PER_PROVIDER_ALL).load(c))?
        } else {
            let sql = q(conn, PER_PROVIDER);
            crate::with_conn!(&mut *conn, c => diesel::sql_query(&sql)
                .bind::<Integer, _>(i32::from(TYPICAL_MAX))
                .bind::<Date, _>(first)
                .bind::<Date, _>(last)
                .load(c))?
        };
        let sql = q(conn, REFUSALS_PER_PROVIDER);
        let refusals: Vec<ProviderRefusals> = crate::with_conn!(&mut *conn, c => diesel::sql_query(&sql)
            .bind::<Timestamp, _>(start).bind::<Timestamp, _>(end).load(c))?;
        let sql = q(conn, VOIDED);
        let voided: Count = crate::with_conn!(&mut *conn, c => diesel::sql_query(&sql)
            .bind::<Timestamp, _>(start).bind::<Timestamp, _>(end).get_result(c))?;
        Ok::<_, crate::DbError>((buckets, flagged, providers, refusals, voided))
    })?;
    let mut report = SeriesReport {
        flagged_after_maximum: flagged.n,
        voided_sessions: voided.n,
        ..SeriesReport::empty(range)
    };
    for b in buckets {
        if let Some(slot) = usize::try_from(b.sessions)
            .ok()
            .and_then(|i| report.by_sessions.get_mut(i))
        {
            *slot += b.n;
        }
    }
    report.providers = providers
        .into_iter()
        .map(|p| ProviderRow {
            provider_id: p.provider_id,
            provider_name: p.provider_name,
            sessions: p.sessions,
            patients: p.patients,
            beyond_typical_sessions: p.beyond,
            refusals: 0,
        })
        .collect();
    for r in refusals {
        report.refused_attempts += r.n;
        match report.providers.iter_mut().find(|p| p.provider_id == r.provider_id) {
            Some(p) => p.refusals = r.n,
            None => report.providers.push(ProviderRow {
                provider_id: r.provider_id,
                provider_name: r.provider_name.unwrap_or_default(),
                refusals: r.n,
                ..Default::default()
            }),
        }
    }
    Ok(report)
}
