//! The audit log: append-only (the schema refuses updates and deletes).

use crate::schema::audit_events;
use crate::{DbConn, DbResult, Stamp, with_conn, write_conn};
use chrono::NaiveDateTime;
use clinic_domain::{PatientId, UserId};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamp};

#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct AuditEvent {
    pub id: i64,
    #[diesel(deserialize_as = Stamp)]
    pub occurred_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::NullableId)]
    pub actor_id: Option<UserId>,
    pub action: String,
    #[diesel(deserialize_as = crate::NullableId)]
    pub patient_id: Option<PatientId>,
    pub subject: Option<String>,
    pub outcome: String,
    pub address: Option<String>,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = audit_events)]
pub struct NewAuditEvent {
    pub occurred_at: NaiveDateTime,
    pub actor_id: Option<i64>,
    pub action: String,
    pub patient_id: Option<i64>,
    pub subject: Option<String>,
    pub outcome: String,
    pub address: Option<String>,
    pub detail: Option<String>,
}

pub fn insert(conn: &mut DbConn, event: &NewAuditEvent) -> DbResult<()> {
    write_conn!(conn, c => diesel::insert_into(audit_events::table).values(event).execute(c))?;
    Ok(())
}

/// Rewrites events that name an account or a patient that does not exist (an id someone asked for,
/// e.g. a patient probing another record) so they can be written: the reference is cleared and the id
/// kept in `detail`. Without this, one such row would fail its whole batch on the foreign key, again
/// at every retry.
pub fn detach_unknown_references(conn: &mut DbConn, events: &mut [NewAuditEvent]) -> DbResult<()> {
    use crate::schema::{patients, users};
    #[derive(Clone, Copy, PartialEq, Eq, Hash)]
    enum Of {
        Account,
        Patient,
    }
    let mut known = std::collections::HashMap::new();
    let mut exists = |conn: &mut DbConn, of: Of, id: i64| -> DbResult<bool> {
        if let Some(&found) = known.get(&(of, id)) {
            return Ok(found);
        }
        let n: i64 = match of {
            Of::Account => with_conn!(conn, c => users::table.find(id).count().get_result(c))?,
            Of::Patient => with_conn!(conn, c => patients::table.find(id).count().get_result(c))?,
        };
        known.insert((of, id), n > 0);
        Ok(n > 0)
    };
    for e in events.iter_mut() {
        if let Some(id) = e.actor_id
            && !exists(conn, Of::Account, id)?
        {
            e.actor_id = None;
            note(e, format!("unknown account {id}"));
        }
        if let Some(id) = e.patient_id
            && !exists(conn, Of::Patient, id)?
        {
            e.patient_id = None;
            note(e, format!("unknown patient {id}"));
        }
    }
    Ok(())
}

fn note(e: &mut NewAuditEvent, text: String) {
    e.detail = Some(match e.detail.take() {
        Some(d) if !d.is_empty() => format!("{d}; {text}"),
        _ => text,
    });
}

/// Many events at once (a group commit of buffered reads) in one statement whose text never changes,
/// so the connection keeps it prepared (diesel prepares `sql_query` text afresh each time, and a COPY
/// needs a transaction of its own): on PostgreSQL the columns go in as arrays unpacked by `unnest`, one
/// round trip; on SQLite the rows go in as one JSON array unpacked by `jsonb_each` (whose rows are
/// binary JSON, read by `->>` as they are, where `json_each`'s are text parsed again by each `->>`). A
/// single statement is atomic without a transaction around it.
pub fn insert_many(conn: &mut DbConn, events: &[NewAuditEvent]) -> DbResult<()> {
    if events.is_empty() {
        return Ok(());
    }
    match conn {
        DbConn::Postgres(c) => {
            PgBatch::of(events).execute(c)?;
        }
        DbConn::Sqlite(c) => {
            let rows: Vec<_> = events
                .iter()
                .map(|e| {
                    (
                        // As diesel writes a `Timestamp` to SQLite (text that sorts as time does).
                        crate::stamp::text_of(e.occurred_at),
                        e.actor_id,
                        &e.action,
                        e.patient_id,
                        &e.subject,
                        &e.outcome,
                        &e.address,
                        &e.detail,
                    )
                })
                .collect();
            let rows =
                serde_json::to_string(&rows).map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
            SqliteBatch { rows }.execute(c)?;
        }
    }
    Ok(())
}

const INSERT_COLUMNS: &str =
    "INSERT INTO audit_events (occurred_at, actor_id, action, patient_id, subject, outcome, address, detail) ";

/// [`insert_many`] on PostgreSQL: one array per column.
pub(crate) struct PgBatch<'a> {
    occurred_at: Vec<NaiveDateTime>,
    actor_id: Vec<Option<i64>>,
    action: Vec<&'a str>,
    patient_id: Vec<Option<i64>>,
    subject: Vec<Option<&'a str>>,
    outcome: Vec<&'a str>,
    address: Vec<Option<&'a str>>,
    detail: Vec<Option<&'a str>>,
}

impl<'a> PgBatch<'a> {
    pub(crate) fn of(events: &'a [NewAuditEvent]) -> Self {
        Self {
            occurred_at: events.iter().map(|e| e.occurred_at).collect(),
            actor_id: events.iter().map(|e| e.actor_id).collect(),
            action: events.iter().map(|e| e.action.as_str()).collect(),
            patient_id: events.iter().map(|e| e.patient_id).collect(),
            subject: events.iter().map(|e| e.subject.as_deref()).collect(),
            outcome: events.iter().map(|e| e.outcome.as_str()).collect(),
            address: events.iter().map(|e| e.address.as_deref()).collect(),
            detail: events.iter().map(|e| e.detail.as_deref()).collect(),
        }
    }
}

crate::pg_unnest_insert!(
    PgBatch,
    PgBatchQuery,
    INSERT_COLUMNS,
    Array<Timestamp> => occurred_at,
    Array<Nullable<BigInt>> => actor_id,
    Array<Text> => action,
    Array<Nullable<BigInt>> => patient_id,
    Array<Nullable<Text>> => subject,
    Array<Text> => outcome,
    Array<Nullable<Text>> => address,
    Array<Nullable<Text>> => detail,
);

/// [`insert_many`] on SQLite: the rows as one JSON array.
struct SqliteBatch {
    rows: String,
}

/// The identity diesel caches [`SqliteBatch`]'s prepared statement under.
struct SqliteBatchQuery;

impl diesel::query_builder::QueryId for SqliteBatch {
    type QueryId = SqliteBatchQuery;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl diesel::query_builder::QueryFragment<diesel::sqlite::Sqlite> for SqliteBatch {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, diesel::sqlite::Sqlite>,
    ) -> QueryResult<()> {
        out.push_sql(INSERT_COLUMNS);
        out.push_sql(
            "SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, \
             value ->> 6, value ->> 7 FROM jsonb_each(",
        );
        out.push_bind_param::<diesel::sql_types::Text, _>(&self.rows)?;
        out.push_sql(") ORDER BY key");
        Ok(())
    }
}

impl<C> RunQueryDsl<C> for SqliteBatch {}

/// Newest first, optionally for one patient.
pub fn list(conn: &mut DbConn, patient: Option<PatientId>, limit: i64) -> DbResult<Vec<AuditEvent>> {
    search(
        conn,
        &AuditFilter {
            patient,
            ..Default::default()
        },
        limit,
    )
}

/// What to look for in the audit log; every field narrows the search.
#[derive(Debug, Clone, Default)]
pub struct AuditFilter {
    pub patient: Option<PatientId>,
    pub actor: Option<UserId>,
    pub action: Option<String>,
    /// From this instant (inclusive)…
    pub from: Option<NaiveDateTime>,
    /// …to this one (exclusive).
    pub until: Option<NaiveDateTime>,
    /// Only events older than this id (the next page).
    pub before_id: Option<i64>,
}

/// Matching events, newest first, at most `limit`.
pub fn search(conn: &mut DbConn, f: &AuditFilter, limit: i64) -> DbResult<Vec<AuditEvent>> {
    Ok(with_conn!(conn, c => {
        let mut q = audit_events::table.order(audit_events::id.desc()).limit(limit).into_boxed();
        if let Some(p) = f.patient {
            q = q.filter(audit_events::patient_id.eq(p.0));
        }
        if let Some(a) = f.actor {
            q = q.filter(audit_events::actor_id.eq(a.0));
        }
        if let Some(action) = &f.action {
            q = q.filter(audit_events::action.eq(action.clone()));
        }
        if let Some(t) = f.from {
            q = q.filter(audit_events::occurred_at.ge(t));
        }
        if let Some(t) = f.until {
            q = q.filter(audit_events::occurred_at.lt(t));
        }
        if let Some(id) = f.before_id {
            q = q.filter(audit_events::id.lt(id));
        }
        q.load(c)
    })?)
}
