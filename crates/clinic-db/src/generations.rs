//! The numbers behind what the server keeps between requests. The database raises each in the
//! transaction of every change to what a kept read holds, so a kept read whose numbers are still the
//! stored ones equals a read made now; several processes may share the database, and the numbers are
//! in it.

use crate::login_sessions;
use crate::schema::{chart_generations, users};
use crate::{DbConn, DbResult, with_conn};
use clinic_domain::UserId;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text};

/// The current value of each of `numbers` that exists, in one statement: an account's
/// `read_generation` (none for an account that does not exist), a patient's chart generation or the
/// clinic's (0 before the first change).
pub fn current(conn: &mut DbConn, numbers: &[Generation]) -> DbResult<Vec<(Generation, i64)>> {
    let (mut accounts, mut charts) = (Vec::new(), Vec::new());
    for n in numbers {
        match n {
            Generation::Account(id) => accounts.push(id.0),
            Generation::Chart(id) => charts.push(*id),
        }
    }
    if let DbConn::Sqlite(c) = conn {
        let ids = |ids: &[i64]| {
            serde_json::to_string(ids).map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))
        };
        let found = SqliteCurrent {
            accounts: ids(&accounts)?,
            charts: ids(&charts)?,
        }
        .load(c)?;
        return Ok(with_unchanged_charts(found, &charts));
    }
    if charts.is_empty() {
        let found = login_sessions::read_generations(conn, &accounts.into_iter().map(UserId).collect::<Vec<_>>())?;
        return Ok(found.into_iter().map(|(id, g)| (Generation::Account(id), g)).collect());
    }
    let found: Vec<(bool, i64, i64)> = with_conn!(conn, c => users::table
        .filter(users::id.eq_any(&accounts))
        .select((false.into_sql::<Bool>(), users::id, users::read_generation))
        .union_all(
            chart_generations::table
                .filter(chart_generations::patient_id.eq_any(&charts))
                .select((true.into_sql::<Bool>(), chart_generations::patient_id, chart_generations::generation)),
        )
        .load(c))?;
    Ok(with_unchanged_charts(found, &charts))
}

/// Rows of (is a chart, id, number) as numbers; a chart never changed has no row and is 0.
fn with_unchanged_charts(found: Vec<(bool, i64, i64)>, charts: &[i64]) -> Vec<(Generation, i64)> {
    let mut now: Vec<(Generation, i64)> = found
        .into_iter()
        .map(|(chart, id, g)| match chart {
            true => (Generation::Chart(id), g),
            false => (Generation::Account(UserId(id)), g),
        })
        .collect();
    for &id in charts {
        if !now.iter().any(|(n, _)| *n == Generation::Chart(id)) {
            now.push((Generation::Chart(id), 0));
        }
    }
    now
}

/// [`current`] on SQLite: the ids as two JSON arrays, so the statement's text never changes and the
/// connection keeps it prepared (`eq_any` writes one parameter per id, a new statement per count).
struct SqliteCurrent {
    accounts: String,
    charts: String,
}

/// The identity diesel caches [`SqliteCurrent`]'s prepared statement under.
struct SqliteCurrentQuery;

impl diesel::query_builder::QueryId for SqliteCurrent {
    type QueryId = SqliteCurrentQuery;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl diesel::query_builder::Query for SqliteCurrent {
    type SqlType = (Bool, BigInt, BigInt);
}

impl diesel::query_builder::QueryFragment<diesel::sqlite::Sqlite> for SqliteCurrent {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::sqlite::Sqlite>,
    ) -> QueryResult<()> {
        out.push_sql("SELECT 0, id, read_generation FROM users WHERE id IN (SELECT value FROM json_each(");
        out.push_bind_param::<Text, _>(&self.accounts)?;
        out.push_sql(")) UNION ALL SELECT 1, patient_id, generation FROM chart_generations WHERE patient_id IN ");
        out.push_sql("(SELECT value FROM json_each(");
        out.push_bind_param::<Text, _>(&self.charts)?;
        out.push_sql("))");
        Ok(())
    }
}

impl<C> RunQueryDsl<C> for SqliteCurrent {}

/// A number the database raises with every change to what a kept read holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Generation {
    /// An account's `read_generation` ([`login_sessions::KeptReads`]).
    Account(UserId),
    /// A patient's chart generation, or with [`crate::patient_page::CLINIC`] the clinic's ([`crate::patient_page::KeptPages`]).
    Chart(i64),
}
