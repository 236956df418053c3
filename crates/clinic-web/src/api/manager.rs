//! The manager's reports (JSON and CSV) and the audit log.

use crate::api::patients::parse_date;
use crate::auth::{ApiCaller, Caller};
use crate::error::AppError;
use crate::views::utc;
use crate::{AppState, RouteSpec, blocking};
use actix_web::http::{Method, header};
use actix_web::{HttpResponse, web};
use clinic_db::audit::{AuditEvent, AuditFilter};
use clinic_db::reports::{DateRange, SeriesReport};
use clinic_domain::user::Role;
use clinic_domain::{PatientId, UserId};
use serde::{Deserialize, Serialize};

pub fn routes(v: &mut Vec<RouteSpec>) {
    v.push(RouteSpec::new(Method::GET, "/api/v1/reports/series", || {
        web::get().to(report_json)
    }));
    v.push(RouteSpec::new(Method::GET, "/api/v1/reports/series.csv", || {
        web::get().to(report_csv)
    }));
    v.push(RouteSpec::new(Method::GET, "/api/v1/audit", || {
        web::get().to(audit_json)
    }));
}

#[derive(Deserialize, Default)]
pub(crate) struct RangeQuery {
    pub from: Option<String>,
    pub to: Option<String>,
}

impl RangeQuery {
    pub(crate) fn parse(&self) -> Result<DateRange, AppError> {
        let date = |field, v: &Option<String>| {
            v.as_deref()
                .filter(|s| !s.trim().is_empty())
                .map(|s| parse_date(field, s))
                .transpose()
        };
        let range = DateRange {
            from: date("from", &self.from)?,
            to: date("to", &self.to)?,
        };
        if let (Some(f), Some(t)) = (range.from, range.to)
            && f > t
        {
            return Err(clinic_domain::FieldError::new("to", "must not be before from").into());
        }
        Ok(range)
    }
}

#[derive(Serialize)]
pub(crate) struct Share {
    pub count: i64,
    /// Of the series with at least one session, 0.0 to 1.0.
    pub share: f64,
}

#[derive(Serialize)]
pub(crate) struct ProviderView {
    pub provider_id: i64,
    pub provider_name: String,
    pub sessions: i64,
    pub patients: i64,
    pub beyond_typical_sessions: i64,
    pub beyond_typical_share: f64,
    pub refusals: i64,
}

#[derive(Serialize)]
pub(crate) struct ReportView {
    pub from: Option<chrono::NaiveDate>,
    pub to: Option<chrono::NaiveDate>,
    pub series_opened: i64,
    pub series_started: i64,
    /// Series by sessions recorded, "0" (none yet) to "5".
    pub by_sessions_recorded: std::collections::BTreeMap<String, i64>,
    pub within_typical: Share,
    pub beyond_typical: Share,
    pub at_maximum: Share,
    pub refused_attempts: i64,
    pub flagged_after_maximum: i64,
    pub providers: Vec<ProviderView>,
}

fn ratio(n: i64, d: i64) -> f64 {
    if d == 0 {
        0.0
    } else {
        (n as f64 / d as f64 * 1000.0).round() / 1000.0
    }
}

impl From<&SeriesReport> for ReportView {
    fn from(r: &SeriesReport) -> Self {
        let started = r.started();
        Self {
            from: r.range.from,
            to: r.range.to,
            series_opened: r.by_sessions.iter().sum(),
            series_started: started,
            by_sessions_recorded: r
                .by_sessions
                .iter()
                .enumerate()
                .map(|(i, n)| (i.to_string(), *n))
                .collect(),
            within_typical: Share {
                count: r.within_typical(),
                share: ratio(r.within_typical(), started),
            },
            beyond_typical: Share {
                count: r.beyond_typical(),
                share: ratio(r.beyond_typical(), started),
            },
            at_maximum: Share {
                count: r.at_maximum(),
                share: ratio(r.at_maximum(), started),
            },
            refused_attempts: r.refused_attempts,
            flagged_after_maximum: r.flagged_after_maximum,
            providers: r
                .providers
                .iter()
                .map(|p| ProviderView {
                    provider_id: p.provider_id,
                    provider_name: p.provider_name.clone(),
                    sessions: p.sessions,
                    patients: p.patients,
                    beyond_typical_sessions: p.beyond_typical_sessions,
                    beyond_typical_share: ratio(p.beyond_typical_sessions, p.sessions),
                    refusals: p.refusals,
                })
                .collect(),
        }
    }
}

/// The report for a range, for a manager (audited).
pub(crate) async fn load_report(state: &AppState, caller: &Caller, range: DateRange) -> Result<SeriesReport, AppError> {
    caller.require(state, &[Role::Manager])?;
    let st = state.clone();
    let caller = caller.clone();
    blocking(move || {
        let report = clinic_db::reports::series_report(&mut *st.conn()?, range)?;
        st.audit.record(
            caller
                .event(&st, "report.series", "success")
                .detail(format!("{:?} to {:?}", range.from, range.to)),
        );
        Ok(report)
    })
    .await
}

async fn report_json(
    state: web::Data<AppState>,
    caller: ApiCaller,
    q: web::Query<RangeQuery>,
) -> Result<HttpResponse, AppError> {
    let range = q.parse()?;
    let r = load_report(&state, &caller.0, range).await?;
    Ok(HttpResponse::Ok().json(ReportView::from(&r)))
}

/// A cell that a spreadsheet would read as a formula is prefixed with `'` so it stays text.
pub(crate) fn safe_cell(s: &str) -> String {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}"),
        _ => s.to_owned(),
    }
}

/// The report as CSV rows of (section, item, value).
pub(crate) fn report_csv_text(r: &SeriesReport) -> Result<String, AppError> {
    let v = ReportView::from(r);
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut row = |a: &str, b: &str, c: String| w.write_record([safe_cell(a), safe_cell(b), safe_cell(&c)]);
    let fail = |e: csv::Error| AppError::Internal(e.to_string());
    row("section", "item", "value".into()).map_err(fail)?;
    row("range", "from", v.from.map(|d| d.to_string()).unwrap_or_default()).map_err(fail)?;
    row("range", "to", v.to.map(|d| d.to_string()).unwrap_or_default()).map_err(fail)?;
    for (k, n) in &v.by_sessions_recorded {
        row("series by sessions recorded", k, n.to_string()).map_err(fail)?;
    }
    for (name, s) in [
        ("within typical (1-3)", &v.within_typical),
        ("beyond typical (4-5)", &v.beyond_typical),
        ("at maximum (5)", &v.at_maximum),
    ] {
        row("series", name, s.count.to_string()).map_err(fail)?;
        row("series share", name, format!("{:.3}", s.share)).map_err(fail)?;
    }
    row("series", "refused 6th attempts", v.refused_attempts.to_string()).map_err(fail)?;
    row("series", "flagged after a maximum", v.flagged_after_maximum.to_string()).map_err(fail)?;
    for p in &v.providers {
        row("provider sessions", &p.provider_name, p.sessions.to_string()).map_err(fail)?;
        row("provider patients", &p.provider_name, p.patients.to_string()).map_err(fail)?;
        row(
            "provider beyond-typical share",
            &p.provider_name,
            format!("{:.3}", p.beyond_typical_share),
        )
        .map_err(fail)?;
        row("provider refusals", &p.provider_name, p.refusals.to_string()).map_err(fail)?;
    }
    let bytes = w.into_inner().map_err(|e| AppError::Internal(e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| AppError::Internal(e.to_string()))
}

pub(crate) fn csv_response(text: String) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/csv; charset=utf-8"))
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"series-report.csv\"",
        ))
        .body(text)
}

async fn report_csv(
    state: web::Data<AppState>,
    caller: ApiCaller,
    q: web::Query<RangeQuery>,
) -> Result<HttpResponse, AppError> {
    let range = q.parse()?;
    let r = load_report(&state, &caller.0, range).await?;
    Ok(csv_response(report_csv_text(&r)?))
}

#[derive(Deserialize, Default)]
pub(crate) struct AuditQuery {
    pub patient_id: Option<i64>,
    pub actor_id: Option<i64>,
    pub action: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub before: Option<i64>,
    pub limit: Option<i64>,
}

impl AuditQuery {
    pub(crate) fn filter(&self) -> Result<AuditFilter, AppError> {
        let range = RangeQuery {
            from: self.from.clone(),
            to: self.to.clone(),
        }
        .parse()?;
        Ok(AuditFilter {
            patient: self.patient_id.map(PatientId),
            actor: self.actor_id.map(UserId),
            action: self.action.clone().filter(|a| !a.trim().is_empty()),
            from: range.from.map(|d| d.and_time(chrono::NaiveTime::MIN)),
            until: range
                .to
                .and_then(|d| d.succ_opt())
                .map(|d| d.and_time(chrono::NaiveTime::MIN)),
            before_id: self.before,
        })
    }
}

#[derive(Serialize)]
pub(crate) struct AuditView {
    pub id: i64,
    pub occurred_at: String,
    pub actor_id: Option<i64>,
    pub action: String,
    pub patient_id: Option<i64>,
    pub subject: Option<String>,
    pub outcome: String,
    pub address: Option<String>,
    pub detail: Option<String>,
}

impl From<&AuditEvent> for AuditView {
    fn from(e: &AuditEvent) -> Self {
        Self {
            id: e.id,
            occurred_at: utc(e.occurred_at),
            actor_id: e.actor_id.map(|a| a.0),
            action: e.action.clone(),
            patient_id: e.patient_id.map(|p| p.0),
            subject: e.subject.clone(),
            outcome: e.outcome.clone(),
            address: e.address.clone(),
            detail: e.detail.clone(),
        }
    }
}

/// Audit events, newest first, for a manager (the reading itself is audited).
pub(crate) async fn load_audit(
    state: &AppState,
    caller: &Caller,
    filter: AuditFilter,
    limit: i64,
) -> Result<Vec<AuditEvent>, AppError> {
    caller.require(state, &[Role::Manager])?;
    let st = state.clone();
    let caller = caller.clone();
    blocking(move || {
        let events = clinic_db::audit::search(&mut *st.conn()?, &filter, limit)?;
        st.audit
            .record(caller.event(&st, "audit.read", "success").patient(filter.patient));
        Ok(events)
    })
    .await
}

async fn audit_json(
    state: web::Data<AppState>,
    caller: ApiCaller,
    q: web::Query<AuditQuery>,
) -> Result<HttpResponse, AppError> {
    let filter = q.filter()?;
    let limit = q.limit.unwrap_or(100).clamp(1, 1000);
    let events = load_audit(&state, &caller.0, filter, limit).await?;
    Ok(HttpResponse::Ok().json(events.iter().map(AuditView::from).collect::<Vec<_>>()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formula_cells_are_defused() {
        for s in ["=SUM(A1)", "+1", "-2", "@cmd", "\t=x"] {
            assert!(safe_cell(s).starts_with('\''), "{s}");
        }
        assert_eq!(safe_cell("Dr. Chen"), "Dr. Chen");
        assert_eq!(safe_cell(""), "");
    }
}
