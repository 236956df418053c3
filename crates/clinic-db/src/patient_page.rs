//! The reads of the provider's patient page: the patient with their portal login, their series and
//! sessions, messages, consents and photos, the clinic's open alerts and whether a consent form is
//! published. On PostgreSQL they are one statement, the lists as JSON built by the database: each
//! statement costs a round trip and about as much of the database's CPU as these small reads do
//! themselves. On SQLite, with no round trips to save, they stay the separate typed reads.
//!
//! The series, sessions, consents and photos are kept between requests ([`KeptCharts`]) while the
//! patient's chart generation stands; the rest is read every time. On PostgreSQL the statement holds
//! the chart's subqueries only when no chart is kept; a kept one that is no longer current is read
//! again by the typed reads.

use crate::check_ins;
use crate::consent::{self, Consent};
use crate::kept::Kept;
use crate::login_sessions::{self, LoginSession};
use crate::outbox::{self, Message};
use crate::patients::Patient;
use crate::photos::{self, Photo};
use crate::schema::{chart_generations, login_sessions as login_sessions_table, patients, users};
use crate::series::{self, Series, SeriesSummary, Session};
use crate::users::User;
use crate::{DbConn, DbError, DbResult, with_conn};
use clinic_domain::PatientId;
use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping, is_aggregate};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use serde::Deserialize;
use std::sync::Arc;

/// Messages listed at most, newest first.
pub const MESSAGES: i64 = 500;

/// What the page shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    pub patient: Patient,
    /// The patient's portal login, if they have one.
    pub login: Option<User>,
    /// Newest first, each with its sessions (voided ones too) by number.
    pub series: Vec<(SeriesSummary, Vec<Session>)>,
    /// Newest first, at most [`MESSAGES`].
    pub messages: Vec<Message>,
    /// Newest first.
    pub consents: Vec<Consent>,
    /// Oldest first, withdrawn ones included.
    pub photos: Vec<Photo>,
    /// Open alerts of the whole clinic.
    pub open_alerts: i64,
    pub any_consent_form: bool,
}

/// The lists of a page that its patient's chart generation covers.
#[derive(Debug, Clone, PartialEq)]
struct Chart {
    series: Vec<(SeriesSummary, Vec<Session>)>,
    consents: Vec<Consent>,
    photos: Vec<Photo>,
}

impl Chart {
    fn read(conn: &mut DbConn, patient: PatientId) -> DbResult<Self> {
        Ok(Self {
            series: series::list_with_sessions(conn, patient)?,
            consents: consent::of_patient(conn, patient)?,
            photos: photos::of_patient(conn, patient)?,
        })
    }
}

/// A [`Chart`] as PostgreSQL builds it.
#[derive(Deserialize)]
struct ChartJson {
    series: Vec<(Series, Vec<Session>)>,
    consents: Vec<Consent>,
    photos: Vec<Photo>,
}

impl From<ChartJson> for Chart {
    fn from(json: ChartJson) -> Self {
        Self {
            series: json
                .series
                .into_iter()
                .map(|(s, sessions)| (SeriesSummary::from(s), sessions))
                .collect(),
            consents: json.consents,
            photos: json.photos,
        }
    }
}

/// Charts kept at most.
const KEPT_CHARTS: usize = 256;

/// The [`Chart`]s of recent pages by patient, each with the patient's chart generation when it was
/// read. The database raises that number (`chart_generations`) in the transaction of every change to
/// the patient's series, sessions, consents or photos, so a kept chart whose number is still the
/// stored one equals a read made now; the number is read with the patient's row, which the page reads
/// every time (several processes may share a database: the number is in it).
#[derive(Default)]
pub struct KeptCharts {
    charts: Kept<i64, (i64, Chart), KEPT_CHARTS>,
}

/// The lists of a [`Page`] as PostgreSQL builds them; `chart` only when none was kept.
#[derive(Deserialize)]
struct Lists {
    generation: i64,
    chart: Option<ChartJson>,
    messages: Vec<Message>,
    open_alerts: i64,
    any_consent_form: bool,
}

/// The page of `patient`, its chart from `kept` while current; not found when there is no such patient.
pub fn read(conn: &mut DbConn, kept: &KeptCharts, patient: PatientId) -> DbResult<Page> {
    let held = kept.charts.get(&patient.0);
    match conn {
        DbConn::Postgres(c) => {
            let patient_row = patients::table
                .find(patient.0)
                .left_join(users::table.on(users::patient_id.eq(patients::id.nullable())));
            let row = (patients::all_columns, users::all_columns.nullable());
            let (found, login, lists): (Patient, Option<User>, String) = match held {
                Some(_) => patient_row.select((row, ListsJsonBeside)).first(c),
                None => patient_row.select((row, ListsJson)).first(c),
            }
            .map(|((found, login), lists)| (found, login, lists))?;
            from_json(conn, kept, patient, held, found, login, &lists)
        }
        DbConn::Sqlite(_) => {
            // The number first: lists read after it are at least as new as it says.
            let (found, login, generation) = with_generation(conn, patient)?;
            let (open_alerts, any_consent_form) = check_ins::count_open_and_any_consent_form(conn)?;
            let fresh = match &held {
                Some(held) if held.0 == generation => None,
                _ => Some(Chart::read(conn, patient)?),
            };
            let messages = outbox::list_for_patient(conn, patient, MESSAGES)?;
            let page = without_chart(found, login, messages, open_alerts, any_consent_form);
            with_chart(kept, patient, held, page, generation, fresh)
        }
    }
}

/// The page from the patient's row, login and [`ListsJson`] or [`ListsJsonBeside`] as PostgreSQL read
/// them; the chart read on its own when the one kept is no longer current.
fn from_json(
    conn: &mut DbConn,
    kept: &KeptCharts,
    patient: PatientId,
    held: Option<Arc<(i64, Chart)>>,
    found: Patient,
    login: Option<User>,
    lists: &str,
) -> DbResult<Page> {
    let lists: Lists =
        serde_json::from_str(lists).map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))?;
    let fresh = match (lists.chart, &held) {
        (Some(chart), _) => Some(Chart::from(chart)),
        (None, Some(held)) if held.0 == lists.generation => None,
        // Read after the number: at least as new as it says.
        (None, _) => Some(Chart::read(conn, patient)?),
    };
    let page = without_chart(found, login, lists.messages, lists.open_alerts, lists.any_consent_form);
    with_chart(kept, patient, held, page, lists.generation, fresh)
}

/// `page` with the chart just read (then kept) or, when none was read, the one held.
fn with_chart(
    kept: &KeptCharts,
    patient: PatientId,
    held: Option<Arc<(i64, Chart)>>,
    mut page: Page,
    generation: i64,
    fresh: Option<Chart>,
) -> DbResult<Page> {
    let chart = match (fresh, held) {
        (Some(chart), _) => {
            kept.charts.keep(patient.0, (generation, chart.clone()));
            chart
        }
        (None, Some(held)) => held.1.clone(),
        (None, None) => {
            return Err(
                diesel::result::Error::DeserializationError("a chart left out that was not kept".into()).into(),
            );
        }
    };
    page.series = chart.series;
    page.consents = chart.consents;
    page.photos = chart.photos;
    Ok(page)
}

/// The login session `sid` with its account and, beside them, the page of `patient` (`None` when there
/// is no such patient): the session check and the page's reads in one statement on PostgreSQL, so the
/// page costs one round trip before its audit. The page is read before the session is judged, and is
/// only used once it is (as the timeline's lookup reads the patient's latest session); nothing is
/// read when there is no such session. On SQLite the session check goes through `reads`.
pub fn with_session(
    conn: &mut DbConn,
    kept: &KeptCharts,
    reads: &login_sessions::KeptReads,
    sid: &str,
    patient: PatientId,
) -> DbResult<Option<(LoginSession, User, Option<Page>)>> {
    match conn {
        DbConn::Postgres(c) => {
            let held = kept.charts.get(&patient.0);
            let login = diesel::alias!(users as login);
            type Row = ((LoginSession, User, Option<Patient>, Option<User>), String);
            let joined = login_sessions_table::table
                .inner_join(users::table)
                .left_join(patients::table.on(patients::id.eq(patient.0)))
                .left_join(login.on(login.field(users::patient_id).eq(patients::id.nullable())))
                .filter(login_sessions_table::id.eq(sid));
            let row = (
                login_sessions_table::all_columns,
                users::all_columns,
                patients::all_columns.nullable(),
                login.fields(users::all_columns).nullable(),
            );
            let read: Option<Row> = match held {
                Some(_) => joined.select((row, ListsJsonBeside)).first(c),
                None => joined.select((row, ListsJson)).first(c),
            }
            .optional()?;
            let Some(((session, user, found, login), lists)) = read else {
                return Ok(None);
            };
            let page = match found {
                Some(found) => Some(from_json(conn, kept, patient, held, found, login, &lists)?),
                None => None,
            };
            Ok(Some((session, user, page)))
        }
        DbConn::Sqlite(_) => {
            let Some((session, user)) = reads.find_with_user(conn, sid)? else {
                return Ok(None);
            };
            let page = match read(conn, kept, patient) {
                Ok(page) => Some(page),
                Err(DbError::NotFound) => None,
                Err(e) => return Err(e),
            };
            Ok(Some((session, user, page)))
        }
    }
}

fn without_chart(
    patient: Patient,
    login: Option<User>,
    messages: Vec<Message>,
    open_alerts: i64,
    any_consent_form: bool,
) -> Page {
    Page {
        patient,
        login,
        series: Vec::new(),
        messages,
        consents: Vec::new(),
        photos: Vec::new(),
        open_alerts,
        any_consent_form,
    }
}

/// The patient's chart generation: 0 before their chart's first change.
#[cfg(test)]
pub(crate) fn chart_generation(conn: &mut DbConn, patient: PatientId) -> DbResult<i64> {
    with_generation(conn, patient).map(|(_, _, generation)| generation)
}

/// The patient with their portal login and chart generation (0 before their chart's first change).
fn with_generation(conn: &mut DbConn, patient: PatientId) -> DbResult<(Patient, Option<User>, i64)> {
    let (found, login, generation): (Patient, Option<User>, Option<i64>) = with_conn!(conn, c => patients::table
        .find(patient.0)
        .left_join(users::table.on(users::patient_id.eq(patients::id.nullable())))
        .left_join(chart_generations::table.on(chart_generations::patient_id.eq(patients::id)))
        .select((patients::all_columns, users::all_columns.nullable(), chart_generations::generation.nullable()))
        .first(c))?;
    Ok((found, login, generation.unwrap_or(0)))
}

/// [`Lists`] as one JSON object for the patient of the row (PostgreSQL), with their chart: read when
/// none is kept. Its text never changes, so the connection keeps the statement prepared (`dsl::sql`
/// would be prepared afresh each time). The orders, the limit and the open status are those of the
/// typed reads; a test holds the two equal.
#[derive(Debug, Clone, Copy, QueryId)]
struct ListsJson;

/// [`Lists`] without the chart, read when one is kept: the generation says whether it still is, and
/// when not the chart is read on its own. PostgreSQL sets up every subquery of a statement at each
/// execution, run or not: the chart's, left unused in a `CASE`, cost an eighth of its CPU for a page.
#[derive(Debug, Clone, Copy, QueryId)]
struct ListsJsonBeside;

const GENERATION: &str = "json_build_object('generation', coalesce((SELECT generation FROM chart_generations g \
    WHERE g.patient_id = \"patients\".\"id\"), 0), 'chart', ";

const CHART_JSON: &str = "json_build_object(\
    'series', (SELECT coalesce(json_agg(json_build_array(s, (SELECT coalesce(json_agg(x ORDER BY \
        x.session_number, x.id), '[]') FROM sessions x WHERE x.series_id = s.id)) ORDER BY s.id DESC), '[]') \
        FROM series s WHERE s.patient_id = \"patients\".\"id\"), \
    'consents', (SELECT coalesce(json_agg(c ORDER BY c.id DESC), '[]') FROM consents c \
        WHERE c.patient_id = \"patients\".\"id\"), \
    'photos', (SELECT coalesce(json_agg(p ORDER BY p.id), '[]') FROM photos p \
        WHERE p.patient_id = \"patients\".\"id\"))";

const REST_JSON: &str = ", \
    'messages', (SELECT coalesce(json_agg(m ORDER BY m.id DESC), '[]') FROM \
        (SELECT * FROM outbox WHERE outbox.patient_id = \"patients\".\"id\" ORDER BY id DESC LIMIT 500) m), \
    'open_alerts', (SELECT count(*) FROM alerts WHERE status = 'open'), \
    'any_consent_form', EXISTS (SELECT 1 FROM consent_forms))::text";

impl QueryFragment<Pg> for ListsJson {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(GENERATION);
        out.push_sql(CHART_JSON);
        out.push_sql(REST_JSON);
        Ok(())
    }
}

impl QueryFragment<Pg> for ListsJsonBeside {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(GENERATION);
        out.push_sql("NULL");
        out.push_sql(REST_JSON);
        Ok(())
    }
}

/// The diesel plumbing of a JSON text selected beside the rows of any query.
macro_rules! json_expression {
    ($t:ty) => {
        impl Expression for $t {
            type SqlType = diesel::sql_types::Text;
        }

        impl<QS> AppearsOnTable<QS> for $t {}

        impl<QS> SelectableExpression<QS> for $t {}

        impl ValidGrouping<()> for $t {
            type IsAggregate = is_aggregate::Never;
        }
    };
}

json_expression!(ListsJson);
json_expression!(ListsJsonBeside);
