//! The manager's series report and the audit log.

use crate::{Actor, Env, Result};
use clinic_db::DbConn;
use clinic_db::audit::{AuditEvent, AuditFilter};
use clinic_db::reports::{DateRange, SeriesReport};
use clinic_domain::user::Role;

/// The series report for a range, for a manager (audited).
#[tracing::instrument(level = "debug", skip_all)]
pub fn series(conn: &mut DbConn, env: &Env<'_>, actor: &Actor, range: DateRange) -> Result<SeriesReport> {
    actor.require(env, &[Role::Manager])?;
    let report = clinic_db::reports::series_report(conn, range)?;
    env.trail.record(
        actor
            .event(env, "report.series", "success")
            .detail(format!("{:?} to {:?}", range.from, range.to))
            .build(),
    );
    Ok(report)
}

/// Audit events, newest first, for a manager (the reading itself is audited).
#[tracing::instrument(level = "debug", skip_all)]
pub fn audit_log(
    conn: &mut DbConn,
    env: &Env<'_>,
    actor: &Actor,
    filter: &AuditFilter,
    limit: i64,
) -> Result<Vec<AuditEvent>> {
    actor.require(env, &[Role::Manager])?;
    let events = clinic_db::audit::search(conn, filter, limit)?;
    env.trail.record(
        actor
            .event(env, "audit.read", "success")
            .patient(filter.patient)
            .build(),
    );
    Ok(events)
}
