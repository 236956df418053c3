//! The manager's series report, as JSON and as CSV.

use crate::auth::ApiCaller;
use crate::error::{ApiError, ErrorBody};
use crate::routes::RouteSpec;
use crate::run::db;
use crate::state::AppState;
use actix_web::http::{Method, header};
use actix_web::{HttpResponse, web};
use clinic_app::{Error, reports};
use clinic_db::reports::{DateRange, SeriesReport};
use clinic_domain::FieldError;
use clinic_domain::series::wording;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};

pub fn routes(v: &mut Vec<RouteSpec>) {
    v.push(RouteSpec::new(Method::GET, "/api/v1/reports/series", || {
        web::get().to(report_json)
    }));
    v.push(RouteSpec::new(Method::GET, "/api/v1/reports/series.csv", || {
        web::get().to(report_csv)
    }));
}

#[derive(Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct RangeQuery {
    /// First day (inclusive), YYYY-MM-DD.
    #[param(format = Date)]
    pub from: Option<String>,
    /// Last day (inclusive), YYYY-MM-DD.
    #[param(format = Date)]
    pub to: Option<String>,
}

impl RangeQuery {
    pub(crate) fn parse(&self) -> Result<DateRange, FieldError> {
        let date = |field, v: &Option<String>| {
            v.as_deref()
                .filter(|s| !s.trim().is_empty())
                .map(|s| super::patients::parse_date(field, s))
                .transpose()
        };
        let range = DateRange {
            from: date("from", &self.from)?,
            to: date("to", &self.to)?,
        };
        if let (Some(f), Some(t)) = (range.from, range.to)
            && f > t
        {
            return Err(FieldError::new("to", "must not be before from"));
        }
        Ok(range)
    }
}

#[derive(Serialize, ToSchema)]
pub(crate) struct Share {
    pub count: i64,
    /// Of the series with at least one session, 0.0 to 1.0.
    pub share: f64,
}

#[derive(Serialize, ToSchema)]
#[schema(as = ProviderRow)]
pub(crate) struct ProviderView {
    pub provider_id: i64,
    pub provider_name: String,
    pub sessions: i64,
    pub patients: i64,
    pub beyond_typical_sessions: i64,
    pub beyond_typical_share: f64,
    pub refusals: i64,
}

#[derive(Serialize, ToSchema)]
#[schema(as = Report)]
pub(crate) struct ReportView {
    pub from: Option<chrono::NaiveDate>,
    pub to: Option<chrono::NaiveDate>,
    pub series_opened: i64,
    pub series_started: i64,
    /// Series by sessions recorded, "0" (none yet) up to the maximum.
    pub by_sessions_recorded: BTreeMap<String, i64>,
    pub within_typical: Share,
    pub beyond_typical: Share,
    pub at_maximum: Share,
    pub refused_attempts: i64,
    pub flagged_after_maximum: i64,
    /// Sessions voided in the range (counted nowhere else).
    pub voided_sessions: i64,
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
        let share = |count| Share {
            count,
            share: ratio(count, started),
        };
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
            within_typical: share(r.within_typical()),
            beyond_typical: share(r.beyond_typical()),
            at_maximum: share(r.at_maximum()),
            refused_attempts: r.refused_attempts,
            flagged_after_maximum: r.flagged_after_maximum,
            voided_sessions: r.voided_sessions,
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

/// Series report for `from`..`to` (inclusive dates; manager).
#[utoipa::path(get, path = "/api/v1/reports/series", tag = "reports", params(RangeQuery),
    responses((status = 200, body = ReportView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub(crate) async fn report_json(
    state: web::Data<AppState>,
    caller: ApiCaller,
    q: web::Query<RangeQuery>,
) -> Result<HttpResponse, ApiError> {
    let (actor, range) = (caller.0, q.parse()?);
    let r = db(&state, move |conn, env| reports::series(conn, env, &actor, range)).await?;
    Ok(HttpResponse::Ok().json(ReportView::from(&r)))
}

/// A cell a spreadsheet could read as a formula stays text: a `'` goes before a formula character at
/// the start of the cell and at the start of every part a spreadsheet might split it into (after
/// `,` `;` tab `|` or a line break, and any spaces).
pub(crate) fn safe_cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 1);
    let mut part_starts = true;
    for ch in s.chars() {
        if part_starts && matches!(ch, '=' | '+' | '-' | '@' | '\t' | '\r') {
            out.push('\'');
        }
        out.push(ch);
        part_starts = match ch {
            ',' | ';' | '\t' | '|' | '\n' | '\r' => true,
            ' ' => part_starts,
            _ => false,
        };
    }
    out
}

/// The report as CSV rows of (section, item, value).
pub(crate) fn report_csv_text(r: &SeriesReport) -> Result<String, Error> {
    let v = ReportView::from(r);
    let mut w = csv::WriterBuilder::new()
        .quote_style(csv::QuoteStyle::Always)
        .from_writer(Vec::new());
    let fail = |e: csv::Error| Error::internal("writing the report's CSV", e);
    let mut row = |a: &str, b: &str, c: String| {
        w.write_record([safe_cell(a), safe_cell(b), safe_cell(&c)])
            .map_err(fail)
    };
    row("section", "item", "value".into())?;
    row("range", "from", v.from.map(|d| d.to_string()).unwrap_or_default())?;
    row("range", "to", v.to.map(|d| d.to_string()).unwrap_or_default())?;
    for (k, n) in &v.by_sessions_recorded {
        row("series by sessions recorded", k, n.to_string())?;
    }
    for (name, s) in [
        (wording::within_typical(), &v.within_typical),
        (wording::beyond_typical(), &v.beyond_typical),
        (wording::at_maximum(), &v.at_maximum),
    ] {
        let name = name.to_lowercase().replace('–', "-");
        row("series", &name, s.count.to_string())?;
        row("series share", &name, format!("{:.3}", s.share))?;
    }
    row(
        "series",
        &wording::refused_attempts().to_lowercase(),
        v.refused_attempts.to_string(),
    )?;
    row("series", "flagged after a maximum", v.flagged_after_maximum.to_string())?;
    row("sessions", "voided", v.voided_sessions.to_string())?;
    for p in &v.providers {
        row("provider sessions", &p.provider_name, p.sessions.to_string())?;
        row("provider patients", &p.provider_name, p.patients.to_string())?;
        row(
            "provider beyond-typical share",
            &p.provider_name,
            format!("{:.3}", p.beyond_typical_share),
        )?;
        row("provider refusals", &p.provider_name, p.refusals.to_string())?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| Error::internal("writing the report's CSV", e.into_error()))?;
    String::from_utf8(bytes).map_err(|e| Error::internal("writing the report's CSV", e))
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

/// The same report as CSV: section, item, value (manager).
#[utoipa::path(get, path = "/api/v1/reports/series.csv", tag = "reports", params(RangeQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn report_csv(
    state: web::Data<AppState>,
    caller: ApiCaller,
    q: web::Query<RangeQuery>,
) -> Result<HttpResponse, ApiError> {
    let (actor, range) = (caller.0, q.parse()?);
    let r = db(&state, move |conn, env| reports::series(conn, env, &actor, range)).await?;
    Ok(csv_response(report_csv_text(&r)?))
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
        assert_eq!(safe_cell("Smith-Jones"), "Smith-Jones");
        assert_eq!(safe_cell(""), "");
        for (s, safe) in [
            ("Chen,=HYPERLINK(x)", "Chen,'=HYPERLINK(x)"),
            ("Chen; +1", "Chen; '+1"),
            ("a|@b", "a|'@b"),
            ("a\n-1", "a\n'-1"),
            ("a,  =b,c", "a,  '=b,c"),
        ] {
            assert_eq!(safe_cell(s), safe, "{s:?}");
        }
    }

    #[test]
    fn every_cell_is_quoted() {
        let report = SeriesReport {
            range: clinic_db::reports::DateRange { from: None, to: None },
            by_sessions: vec![0; 6],
            flagged_after_maximum: 0,
            refused_attempts: 0,
            voided_sessions: 0,
            providers: vec![clinic_db::reports::ProviderRow {
                provider_id: 1,
                provider_name: "=cmd|' /C calc'!A0, Dr".into(),
                sessions: 1,
                patients: 1,
                beyond_typical_sessions: 0,
                refusals: 0,
            }],
        };
        let text = report_csv_text(&report).unwrap();
        assert!(text.contains("\"'=cmd|' /C calc'!A0, Dr\""), "{text}");
        for line in text.lines() {
            assert!(line.starts_with('"') && line.ends_with('"'), "{line}");
        }
    }
}
