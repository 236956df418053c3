//! Bulk demo data for measuring the reports at scale: many patients, each with a course of 1–5
//! sessions, written in large batches. The rows obey the same schema rules as recorded ones.

use crate::schema::{patients, series, series_refusals, sessions};
use crate::{DbConn, DbResult, with_conn};
use chrono::{Days, NaiveDate, NaiveDateTime};
use clinic_domain::UserId;
use diesel::prelude::*;

const BATCH: usize = 1000;

/// A small deterministic generator, so a seeded database is the same every time.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// Sessions in a course: 1 (10%), 2 (20%), 3 (40%), 4 (20%), 5 (10%): three on average.
fn course_length(r: &mut Lcg) -> i32 {
    match r.below(10) {
        0 => 1,
        1 | 2 => 2,
        3..=6 => 3,
        7 | 8 => 4,
        _ => 5,
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Seeded {
    pub patients: usize,
    pub series: usize,
    pub sessions: usize,
    pub refusals: usize,
}

/// Adds `count` patients (with one course each) spread over the two years before `today`, recorded by
/// `providers` in turn.
pub fn seed(conn: &mut DbConn, count: usize, providers: &[UserId], today: NaiveDate) -> DbResult<Seeded> {
    let mut rng = Lcg(0x5eed);
    let mut total = Seeded::default();
    let Some(first_provider) = providers.first() else {
        return Ok(total);
    };
    let mut done = 0;
    while done < count {
        let n = BATCH.min(count - done);
        let batch = conn.transaction(|conn| seed_batch(conn, n, done, providers, *first_provider, today, &mut rng))?;
        total.patients += batch.patients;
        total.series += batch.series;
        total.sessions += batch.sessions;
        total.refusals += batch.refusals;
        done += n;
    }
    Ok(total)
}

#[allow(clippy::too_many_arguments)]
fn seed_batch(
    conn: &mut DbConn,
    n: usize,
    offset: usize,
    providers: &[UserId],
    fallback: UserId,
    today: NaiveDate,
    rng: &mut Lcg,
) -> DbResult<Seeded> {
    let now: NaiveDateTime = today.and_hms_opt(12, 0, 0).unwrap_or_default();
    let born = NaiveDate::from_ymd_opt(1985, 1, 1).unwrap_or_default();
    let provider_of = |i: usize| providers.get(i % providers.len()).copied().unwrap_or(fallback).0;
    let names: Vec<(String, String)> = (0..n)
        .map(|i| (format!("Demo{}", offset + i), format!("Patient{:06}", offset + i)))
        .collect();
    let patient_rows: Vec<_> = names
        .iter()
        .enumerate()
        .map(|(i, (first, last))| {
            (
                patients::first_name.eq(first.as_str()),
                patients::last_name.eq(last.as_str()),
                patients::date_of_birth.eq(born
                    .checked_add_days(Days::new((offset + i) as u64 % 9000))
                    .unwrap_or(born)),
                patients::created_by.eq(provider_of(offset + i)),
                patients::created_at.eq(now),
                patients::updated_at.eq(now),
            )
        })
        .collect();
    let patient_ids: Vec<i64> = with_conn!(&mut *conn, c => diesel::insert_into(patients::table)
        .values(&patient_rows)
        .returning(patients::id)
        .get_results(c))?;

    let plans: Vec<(i32, i64)> = patient_ids
        .iter()
        .map(|_| (course_length(rng), rng.below(700) as i64 + 30))
        .collect();
    let series_rows: Vec<_> = patient_ids
        .iter()
        .zip(&plans)
        .enumerate()
        .map(|(i, (pid, (len, days_ago)))| {
            let opened = now - chrono::Duration::days(*days_ago);
            let planned = (*len).max(3);
            (
                series::patient_id.eq(*pid),
                series::condition.eq("acne_scars"),
                series::planned_sessions.eq(planned),
                series::reason.eq((planned > 3).then_some("demo: extensive scarring")),
                series::flagged_after_maximum.eq(false),
                series::status.eq(if *len >= 3 { "completed" } else { "open" }),
                series::opened_by.eq(provider_of(offset + i)),
                series::opened_at.eq(opened),
            )
        })
        .collect();
    let series_ids: Vec<i64> = with_conn!(&mut *conn, c => diesel::insert_into(series::table)
        .values(&series_rows)
        .returning(series::id)
        .get_results(c))?;

    let mut session_rows = Vec::new();
    let mut refusal_rows = Vec::new();
    for (i, (sid, (len, days_ago))) in series_ids.iter().zip(&plans).enumerate() {
        let provider = provider_of(offset + i);
        for number in 1..=*len {
            let day = today
                .checked_sub_days(Days::new((*days_ago - i64::from(number - 1) * 28).max(0) as u64))
                .unwrap_or(today);
            session_rows.push((
                sessions::series_id.eq(*sid),
                sessions::session_number.eq(number),
                sessions::performed_on.eq(day),
                sessions::provider_id.eq(provider),
                sessions::treatment_areas.eq("cheeks\nforehead"),
                sessions::eye_area.eq(number % 2 == 0),
                sessions::device.eq("pen"),
                sessions::needle_depth_hundredths.eq(100),
                sessions::products_applied.eq("moisturizer,sunscreen"),
                sessions::beyond_typical_ack_by.eq((number > 3).then_some(provider)),
                sessions::created_at.eq(now),
            ));
        }
        if *len == 5 && rng.below(10) == 0 {
            refusal_rows.push((
                series_refusals::series_id.eq(*sid),
                series_refusals::provider_id.eq(provider),
                series_refusals::attempted_number.eq(6),
                series_refusals::created_at.eq(now - chrono::Duration::days(*days_ago - 140)),
            ));
        }
    }
    // Stay well under both databases' limits on bound parameters per statement.
    for chunk in session_rows.chunks(BATCH) {
        with_conn!(&mut *conn, c => diesel::insert_into(sessions::table).values(chunk).execute(c))?;
    }
    if !refusal_rows.is_empty() {
        with_conn!(&mut *conn, c => diesel::insert_into(series_refusals::table).values(&refusal_rows).execute(c))?;
    }
    Ok(Seeded {
        patients: n,
        series: series_ids.len(),
        sessions: session_rows.len(),
        refusals: refusal_rows.len(),
    })
}
