//! The audit log: append-only (the schema refuses updates and deletes).

use crate::schema::audit_events;
use crate::{DbConn, DbResult, Stamp, with_conn};
use chrono::NaiveDateTime;
use clinic_domain::{PatientId, UserId};
use diesel::prelude::*;

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
    with_conn!(conn, c => diesel::insert_into(audit_events::table).values(event).execute(c))?;
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

/// How diesel writes a `Timestamp` to SQLite (text that sorts as time does); batches write the same.
const SQLITE_TIMESTAMP: &str = "%F %T%.f";

/// Many events at once (a group commit of buffered reads): one COPY on PostgreSQL (a fraction of what
/// multi-row INSERTs, parsed afresh each time, cost its server), one statement on SQLite.
pub fn insert_many(conn: &mut DbConn, events: &[NewAuditEvent]) -> DbResult<()> {
    match conn {
        DbConn::Postgres(c) => {
            use audit_events::*;
            let columns = (
                occurred_at,
                actor_id,
                action,
                patient_id,
                subject,
                outcome,
                address,
                detail,
            );
            diesel::copy_from(audit_events::table)
                .from_raw_data(columns, |out| {
                    copy_rows(out, events).map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))
                })
                .execute(c)?;
        }
        DbConn::Sqlite(c) => {
            // One cached statement per batch: the rows go in as one JSON array, unpacked by json_each.
            // (Diesel built and bound an INSERT per row at a greater cost than SQLite's insert itself.)
            let rows: Vec<_> = events
                .iter()
                .map(|e| {
                    (
                        e.occurred_at.format(SQLITE_TIMESTAMP).to_string(),
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
            diesel::sql_query(
                "INSERT INTO audit_events \
                 (occurred_at, actor_id, action, patient_id, subject, outcome, address, detail) \
                 SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, \
                 value ->> 6, value ->> 7 FROM json_each(?) ORDER BY key",
            )
            .bind::<diesel::sql_types::Text, _>(rows)
            .execute(c)?;
        }
    }
    Ok(())
}

/// The events in COPY's text format: tab-separated, `\N` for NULL, backslash escapes.
fn copy_rows(out: &mut dyn std::io::Write, events: &[NewAuditEvent]) -> std::io::Result<()> {
    fn field(out: &mut dyn std::io::Write, value: Option<&str>, last: bool) -> std::io::Result<()> {
        match value {
            None => out.write_all(b"\\N")?,
            Some(v) => {
                for c in v.chars() {
                    match c {
                        '\\' => out.write_all(b"\\\\")?,
                        '\t' => out.write_all(b"\\t")?,
                        '\n' => out.write_all(b"\\n")?,
                        '\r' => out.write_all(b"\\r")?,
                        c => write!(out, "{c}")?,
                    }
                }
            }
        }
        out.write_all(if last { b"\n" } else { b"\t" })
    }
    for e in events {
        let at = e.occurred_at.format("%Y-%m-%d %H:%M:%S%.6f").to_string();
        let (actor, patient) = (e.actor_id.map(|i| i.to_string()), e.patient_id.map(|i| i.to_string()));
        field(out, Some(&at), false)?;
        field(out, actor.as_deref(), false)?;
        field(out, Some(&e.action), false)?;
        field(out, patient.as_deref(), false)?;
        field(out, e.subject.as_deref(), false)?;
        field(out, Some(&e.outcome), false)?;
        field(out, e.address.as_deref(), false)?;
        field(out, e.detail.as_deref(), true)?;
    }
    Ok(())
}

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
