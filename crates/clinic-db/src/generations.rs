//! The numbers behind what the server keeps between requests. The database raises each in the
//! transaction of every change to what a kept read holds, so a kept read whose numbers are still the
//! stored ones equals a read made now; several processes may share the database, and the numbers are
//! in it.

use crate::login_sessions;
use crate::schema::{chart_generations, users};
use crate::{DbConn, DbResult, with_conn};
use clinic_domain::UserId;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Nullable, Text};

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
        .load::<(bool, i64, Option<i64>)>(c)?;
        // No row behind an id: as on PostgreSQL, an account that does not exist is left out and a chart
        // never changed is 0 (below).
        let found = found
            .into_iter()
            .filter_map(|(chart, id, g)| Some((chart, id, g?)))
            .collect();
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
/// Each id is looked up by a subquery of its own, by key whatever the statistics say (joined, with the
/// few rows a new clinic's statistics saw, the planner scans the table for each id), once (a filter on
/// the subquery's value in SQL ran it a second time); an id with no row gives `NULL`.
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
    type SqlType = (Bool, BigInt, Nullable<BigInt>);
}

impl diesel::query_builder::QueryFragment<diesel::sqlite::Sqlite> for SqliteCurrent {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::sqlite::Sqlite>,
    ) -> QueryResult<()> {
        out.push_sql("SELECT 0, j.value, (SELECT read_generation FROM users WHERE id = j.value) FROM json_each(");
        out.push_bind_param::<Text, _>(&self.accounts)?;
        out.push_sql(") AS j UNION ALL SELECT 1, j.value, ");
        out.push_sql("(SELECT generation FROM chart_generations WHERE patient_id = j.value) FROM json_each(");
        out.push_bind_param::<Text, _>(&self.charts)?;
        out.push_sql(") AS j");
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

#[cfg(test)]
mod tests {
    use super::SqliteCurrent;
    use crate::DbConn;
    use crate::testing::TestDb;
    use diesel::prelude::*;
    use diesel::sql_types::Text;

    /// SQLite's statistics of a clinic that had one account when they were taken: the numbers are
    /// still looked up by key, never by scanning the accounts or the charts.
    #[test]
    fn sqlite_looks_the_numbers_up_by_key_whatever_the_statistics_say() {
        #[derive(QueryableByName)]
        struct Step {
            #[diesel(sql_type = Text)]
            detail: String,
        }
        let db = TestDb::sqlite();
        let DbConn::Sqlite(c) = &mut db.conn() else {
            panic!("a SQLite database");
        };
        diesel::sql_query("ANALYZE").execute(c).unwrap();
        diesel::sql_query(
            "INSERT OR REPLACE INTO sqlite_stat1 (tbl, idx, stat) VALUES ('users', NULL, '1'), \
             ('chart_generations', NULL, '1')",
        )
        .execute(c)
        .unwrap();
        diesel::sql_query("ANALYZE sqlite_schema").execute(c).unwrap();
        let query = SqliteCurrent {
            accounts: "[1, 2]".into(),
            charts: "[3]".into(),
        };
        let sql = diesel::debug_query::<diesel::sqlite::Sqlite, _>(&query).to_string();
        let sql = sql.split(" -- binds").next().unwrap();
        let plan: Vec<Step> = diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}"))
            .bind::<Text, _>("[1, 2]")
            .bind::<Text, _>("[3]")
            .load(c)
            .unwrap();
        let plan: Vec<String> = plan.into_iter().map(|s| s.detail).collect();
        let scans: Vec<&String> = plan.iter().filter(|s| s.starts_with("SCAN")).collect();
        assert!(
            scans.iter().all(|s| s.starts_with("SCAN j ")),
            "only the ids are scanned: {plan:?}"
        );
        for table in ["users", "chart_generations"] {
            let searched = format!("SEARCH {table} USING INTEGER PRIMARY KEY (rowid=?)");
            assert_eq!(
                plan.iter().filter(|s| **s == searched).count(),
                1,
                "{table}, looked up by key once an id: {plan:?}"
            );
        }
    }
}
