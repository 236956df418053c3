//! The audit log: append-only (the schema refuses updates and deletes).

use crate::schema::audit_events;
use crate::{DbConn, DbResult, with_conn};
use chrono::NaiveDateTime;
use clinic_domain::{PatientId, UserId};
use diesel::prelude::*;

#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct AuditEvent {
    pub id: i64,
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

/// Many events in one statement (a group commit of buffered reads).
pub fn insert_many(conn: &mut DbConn, events: &[NewAuditEvent]) -> DbResult<()> {
    for chunk in events.chunks(100) {
        with_conn!(&mut *conn, c => diesel::insert_into(audit_events::table).values(chunk).execute(c))?;
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
