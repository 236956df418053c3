//! The reads of the provider's patient page: the patient with their portal login, their series and
//! sessions, messages, consents and photos, the clinic's open alerts and whether a consent form is
//! published. On PostgreSQL they are one statement, the lists as JSON built by the database: each
//! statement costs a round trip and about as much of the database's CPU as these small reads do
//! themselves. On SQLite, with no round trips to save, they stay the separate typed reads.
//!
//! Pages are kept between requests ([`KeptPages`]) with two numbers the database raises: the
//! patient's chart generation, with every change to what the page shows of them (their row, portal
//! login, series, sessions, consents, photos and e-mails), and the clinic's (patient 0's), with every
//! change to its open alerts or consent forms. A read reuses the kept series, sessions, consents and
//! photos while the patient's number stands and reads the rest; on PostgreSQL the statement holds the
//! chart's subqueries only when no page is kept, and a kept chart that is no longer current is read
//! again by the typed reads. A page answered whole from what is kept ([`KeptPages::unchecked`]) is
//! current only while both numbers stand: the server checks them with the page's audit row.

use crate::check_ins;
use crate::consent::{self, Consent};
use crate::generations::Generation;
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
    /// The patient's portal login: `None` without one, else whether it is active (not suspended).
    pub login_active: Option<bool>,
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
    /// The patient's chart generation and the clinic's, read before (or with) all the rest.
    pub generations: Generations,
}

/// The numbers a [`Page`] was read at (see the module's documentation).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Generations {
    pub chart: i64,
    pub clinic: i64,
}

/// The chart generation's row that is the clinic's: no patient has this id.
pub const CLINIC: i64 = 0;

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

/// Pages kept at most.
const KEPT_PAGES: usize = 256;
/// A page with more messages than this is not kept (memory: at most 256 pages of about 40 KB).
const KEPT_MESSAGES: usize = 100;

/// Recent [`Page`]s by patient, each with the numbers it was read at. The database raises them
/// (`chart_generations`) in the transaction of every change to what the page shows, so a kept page
/// whose numbers are still the stored ones equals a read made now (several processes may share a
/// database: the numbers are in it).
#[derive(Default)]
pub struct KeptPages {
    pages: Kept<i64, Page, KEPT_PAGES>,
}

impl KeptPages {
    /// The page kept for `patient`, not checked against the database: current only while both of its
    /// [`Generations`] are still the stored ones (`generations::current` reads them).
    pub fn unchecked(&self, patient: PatientId) -> Option<Arc<Page>> {
        self.pages.get(&patient.0)
    }

    fn keep(&self, page: &Page) {
        match page.messages.len() <= KEPT_MESSAGES {
            true => self.pages.keep(page.patient.id.0, page.clone()),
            false => self.pages.forget(&page.patient.id.0),
        }
    }
}

/// The lists of a [`Page`] as PostgreSQL builds them; `chart` only when none was kept.
#[derive(Deserialize)]
struct Lists {
    generation: i64,
    clinic: i64,
    chart: Option<ChartJson>,
    messages: Vec<Message>,
    open_alerts: i64,
    any_consent_form: bool,
}

/// The page of `patient`, its chart from `kept` while current; not found when there is no such patient.
pub fn read(conn: &mut DbConn, kept: &KeptPages, patient: PatientId) -> DbResult<Page> {
    let held = kept.unchecked(patient);
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
            from_json(conn, kept, held, found, login, &lists)
        }
        DbConn::Sqlite(_) => {
            // The numbers first: what is read after them is at least as new as they say.
            let clinic = generation_of(conn, CLINIC)?;
            let (found, login, chart) = with_generation(conn, patient)?;
            let generations = Generations { chart, clinic };
            let (open_alerts, any_consent_form) = check_ins::count_open_and_any_consent_form(conn)?;
            let fresh = match &held {
                Some(held) if held.generations.chart == chart => None,
                _ => Some(Chart::read(conn, patient)?),
            };
            let messages = outbox::list_for_patient(conn, patient, MESSAGES)?;
            let page = without_chart(found, login, messages, open_alerts, any_consent_form, generations);
            with_chart(kept, held, page, fresh)
        }
    }
}

/// The page from the patient's row, login and [`ListsJson`] or [`ListsJsonBeside`] as PostgreSQL read
/// them; the chart read on its own when the one kept is no longer current.
fn from_json(
    conn: &mut DbConn,
    kept: &KeptPages,
    held: Option<Arc<Page>>,
    found: Patient,
    login: Option<User>,
    lists: &str,
) -> DbResult<Page> {
    let lists: Lists =
        serde_json::from_str(lists).map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))?;
    let fresh = match (lists.chart, &held) {
        (Some(chart), _) => Some(Chart::from(chart)),
        (None, Some(held)) if held.generations.chart == lists.generation => None,
        // Read after the number: at least as new as it says.
        (None, _) => Some(Chart::read(conn, found.id)?),
    };
    let generations = Generations {
        chart: lists.generation,
        clinic: lists.clinic,
    };
    let page = without_chart(
        found,
        login,
        lists.messages,
        lists.open_alerts,
        lists.any_consent_form,
        generations,
    );
    with_chart(kept, held, page, fresh)
}

/// `page` with the chart just read or, when none was read, the one held; then kept.
fn with_chart(kept: &KeptPages, held: Option<Arc<Page>>, mut page: Page, fresh: Option<Chart>) -> DbResult<Page> {
    let chart = match (fresh, held) {
        (Some(chart), _) => chart,
        (None, Some(held)) => Chart {
            series: held.series.clone(),
            consents: held.consents.clone(),
            photos: held.photos.clone(),
        },
        (None, None) => {
            return Err(
                diesel::result::Error::DeserializationError("a chart left out that was not kept".into()).into(),
            );
        }
    };
    page.series = chart.series;
    page.consents = chart.consents;
    page.photos = chart.photos;
    kept.keep(&page);
    Ok(page)
}

/// The login session `sid` with its account and, beside them, the page of `patient` (`None` when there
/// is no such patient): the session check and the page's reads in one statement on PostgreSQL, so the
/// page costs one round trip before its audit; the session read is kept in `reads` as its own check
/// would have kept it. The page is read before the session is judged, and is only used once it is (as
/// the timeline's lookup reads the patient's latest session); nothing is read when there is no such
/// session. On SQLite the session check goes through `reads`.
pub fn with_session(
    conn: &mut DbConn,
    kept: &KeptPages,
    reads: &login_sessions::KeptReads,
    sid: &str,
    patient: PatientId,
) -> DbResult<Option<(LoginSession, User, Option<Page>)>> {
    match conn {
        DbConn::Postgres(c) => {
            let held = kept.unchecked(patient);
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
                reads.forget(sid);
                return Ok(None);
            };
            reads.keep_staff(&session, &user);
            let page = match found {
                Some(found) => Some(from_json(conn, kept, held, found, login, &lists)?),
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
    generations: Generations,
) -> Page {
    Page {
        patient,
        login_active: login.map(|u| u.is_active()),
        series: Vec::new(),
        messages,
        consents: Vec::new(),
        photos: Vec::new(),
        open_alerts,
        any_consent_form,
        generations,
    }
}

/// The patient's chart generation, or with [`CLINIC`] the clinic's: 0 before the first change.
pub fn generation_of(conn: &mut DbConn, patient: i64) -> DbResult<i64> {
    let found: Option<i64> = with_conn!(conn, c => chart_generations::table
        .find(patient)
        .select(chart_generations::generation)
        .first(c)
        .optional())?;
    Ok(found.unwrap_or(0))
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

impl Page {
    /// The numbers that must still stand for this page, answered from what is kept, to be current.
    pub fn numbers(&self) -> [(Generation, i64); 2] {
        [
            (Generation::Chart(self.patient.id.0), self.generations.chart),
            (Generation::Chart(CLINIC), self.generations.clinic),
        ]
    }
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
    WHERE g.patient_id = \"patients\".\"id\"), 0), 'clinic', coalesce((SELECT generation FROM chart_generations g \
    WHERE g.patient_id = 0), 0), 'chart', ";

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
