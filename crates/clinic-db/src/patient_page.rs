//! The reads of the provider's patient page: the patient with their portal login, their series and
//! sessions, messages, consents and photos, the clinic's open alerts and whether a consent form is
//! published. On PostgreSQL they are one statement, the lists as JSON built by the database: each
//! statement costs a round trip and about as much of the database's CPU as these small reads do
//! themselves. On SQLite, with no round trips to save, they stay the separate typed reads.

use crate::check_ins;
use crate::consent::{self, Consent};
use crate::outbox::{self, Message};
use crate::patients::Patient;
use crate::photos::{self, Photo};
use crate::schema::{patients, users};
use crate::series::{self, Series, SeriesSummary, Session};
use crate::users::User;
use crate::{DbConn, DbResult};
use clinic_domain::PatientId;
use diesel::expression::{AppearsOnTable, Expression, SelectableExpression, ValidGrouping, is_aggregate};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use serde::Deserialize;

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

/// The lists of a [`Page`] as PostgreSQL builds them.
#[derive(Deserialize)]
struct Lists {
    series: Vec<(Series, Vec<Session>)>,
    messages: Vec<Message>,
    consents: Vec<Consent>,
    photos: Vec<Photo>,
    open_alerts: i64,
    any_consent_form: bool,
}

/// The page of `patient`; not found when there is no such patient.
pub fn read(conn: &mut DbConn, patient: PatientId) -> DbResult<Page> {
    match conn {
        DbConn::Postgres(c) => {
            let (found, login, lists): (Patient, Option<User>, String) = patients::table
                .find(patient.0)
                .left_join(users::table.on(users::patient_id.eq(patients::id.nullable())))
                .select((patients::all_columns, users::all_columns.nullable(), ListsJson))
                .first(c)?;
            let lists: Lists =
                serde_json::from_str(&lists).map_err(|e| diesel::result::Error::DeserializationError(Box::new(e)))?;
            Ok(Page {
                patient: found,
                login,
                series: lists
                    .series
                    .into_iter()
                    .map(|(s, sessions)| (SeriesSummary::from(s), sessions))
                    .collect(),
                messages: lists.messages,
                consents: lists.consents,
                photos: lists.photos,
                open_alerts: lists.open_alerts,
                any_consent_form: lists.any_consent_form,
            })
        }
        DbConn::Sqlite(_) => {
            let (found, login) = crate::users::patient_with_login(conn, patient)?;
            let (open_alerts, any_consent_form) = check_ins::count_open_and_any_consent_form(conn)?;
            Ok(Page {
                patient: found,
                login,
                series: series::list_with_sessions(conn, patient)?,
                messages: outbox::list_for_patient(conn, patient, MESSAGES)?,
                consents: consent::of_patient(conn, patient)?,
                photos: photos::of_patient(conn, patient)?,
                open_alerts,
                any_consent_form,
            })
        }
    }
}

/// [`Lists`] as one JSON object, for the patient of the row (PostgreSQL). Its text never changes, so
/// the connection keeps the statement prepared (`dsl::sql` would be prepared afresh each time). The
/// orders, the limit and the open status are those of the typed reads; a test holds the two equal.
#[derive(Debug, Clone, Copy, QueryId)]
struct ListsJson;

const LISTS_JSON: &str = "json_build_object(\
    'series', (SELECT coalesce(json_agg(json_build_array(s, (SELECT coalesce(json_agg(x ORDER BY \
        x.session_number, x.id), '[]') FROM sessions x WHERE x.series_id = s.id)) ORDER BY s.id DESC), '[]') \
        FROM series s WHERE s.patient_id = \"patients\".\"id\"), \
    'messages', (SELECT coalesce(json_agg(m ORDER BY m.id DESC), '[]') FROM \
        (SELECT * FROM outbox WHERE outbox.patient_id = \"patients\".\"id\" ORDER BY id DESC LIMIT 500) m), \
    'consents', (SELECT coalesce(json_agg(c ORDER BY c.id DESC), '[]') FROM consents c \
        WHERE c.patient_id = \"patients\".\"id\"), \
    'photos', (SELECT coalesce(json_agg(p ORDER BY p.id), '[]') FROM photos p \
        WHERE p.patient_id = \"patients\".\"id\"), \
    'open_alerts', (SELECT count(*) FROM alerts WHERE status = 'open'), \
    'any_consent_form', EXISTS (SELECT 1 FROM consent_forms))::text";

impl Expression for ListsJson {
    type SqlType = diesel::sql_types::Text;
}

impl QueryFragment<Pg> for ListsJson {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql(LISTS_JSON);
        Ok(())
    }
}

impl<QS> AppearsOnTable<QS> for ListsJson {}

impl<QS> SelectableExpression<QS> for ListsJson {}

impl ValidGrouping<()> for ListsJson {
    type IsAggregate = is_aggregate::Never;
}
