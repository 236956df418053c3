//! Treatment series and their sessions. Recording a session holds the series rule in one transaction
//! that locks the series, and the schema holds it again (UNIQUE(series_id, session_number), CHECK 1..5).

use crate::patients::Patient;
use crate::schema::{patients, series, series_refusals, session_revisions, sessions};
use crate::{Day, DbConn, DbError, DbResult, MaybeStamp, Stamp, with_conn, write_conn};
use chrono::{NaiveDate, NaiveDateTime};
use clinic_domain::protocol::StageKey;
use clinic_domain::series::{
    Condition, MAXIMUM, OpenSeriesRefusal, PlannedSessions, PreviousSeries, SeriesPlan, SessionAdmission,
    SessionNumber, SessionRefusal, decide_open_series, decide_session,
};
use clinic_domain::session::{Device, NeedleDepth, Notes, ProductsApplied, TreatmentAreas};
use clinic_domain::{PatientId, SeriesId, SessionId, UserId};
use diesel::prelude::*;

/// A stored value read from JSON through its `TryFrom` conversion (`S` as stored: text or integer).
fn stored<'de, D, S, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    S: serde::Deserialize<'de>,
    T: TryFrom<S, Error: std::fmt::Display>,
{
    T::try_from(S::deserialize(d)?).map_err(serde::de::Error::custom)
}

pub const STATUS_OPEN: &str = "open";
pub const STATUS_COMPLETED: &str = "completed";

/// Also read from JSON built by PostgreSQL (`crate::patient_page`), stored values through the same
/// conversions as diesel's.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, serde::Deserialize)]
pub struct Series {
    #[diesel(deserialize_as = i64)]
    pub id: SeriesId,
    #[diesel(deserialize_as = i64)]
    pub patient_id: PatientId,
    #[diesel(deserialize_as = String)]
    #[serde(deserialize_with = "stored::<_, String, _>")]
    pub condition: Condition,
    #[diesel(deserialize_as = i32)]
    #[serde(deserialize_with = "stored::<_, i32, _>")]
    pub planned_sessions: PlannedSessions,
    pub reason: Option<String>,
    pub review_note: Option<String>,
    pub flagged_after_maximum: bool,
    pub status: String,
    #[diesel(deserialize_as = i64)]
    pub opened_by: UserId,
    #[diesel(deserialize_as = Stamp)]
    pub opened_at: NaiveDateTime,
    #[diesel(deserialize_as = MaybeStamp)]
    pub completed_at: Option<NaiveDateTime>,
    /// Kept by a trigger on `sessions`.
    pub sessions_recorded: i32,
}

impl Series {
    pub fn is_open(&self) -> bool {
        self.status == STATUS_OPEN
    }

    /// Sessions recorded so far (the trigger-kept counter; at most 5 by the table's checks).
    pub fn recorded(&self) -> u8 {
        u8::try_from(self.sessions_recorded).unwrap_or(u8::MAX)
    }
}

/// Also read from JSON, as [`Series`].
#[derive(Debug, Clone, PartialEq, Queryable, serde::Deserialize)]
pub struct Session {
    #[diesel(deserialize_as = i64)]
    pub id: SessionId,
    #[diesel(deserialize_as = i64)]
    pub series_id: SeriesId,
    #[diesel(deserialize_as = i32)]
    #[serde(deserialize_with = "stored::<_, i32, _>")]
    pub session_number: SessionNumber,
    #[diesel(deserialize_as = Day)]
    pub performed_on: NaiveDate,
    #[diesel(deserialize_as = i64)]
    pub provider_id: UserId,
    #[diesel(deserialize_as = String)]
    #[serde(deserialize_with = "stored::<_, String, _>")]
    pub treatment_areas: TreatmentAreas,
    pub eye_area: bool,
    #[diesel(deserialize_as = String)]
    #[serde(deserialize_with = "stored::<_, String, _>")]
    pub device: Device,
    #[diesel(deserialize_as = i32)]
    #[serde(rename = "needle_depth_hundredths", deserialize_with = "stored::<_, i32, _>")]
    pub needle_depth: NeedleDepth,
    #[diesel(deserialize_as = String)]
    #[serde(deserialize_with = "stored::<_, String, _>")]
    pub products_applied: ProductsApplied,
    pub notes: Option<String>,
    #[diesel(deserialize_as = crate::NullableId)]
    pub beyond_typical_ack_by: Option<UserId>,
    #[diesel(deserialize_as = Stamp)]
    pub created_at: NaiveDateTime,
    /// Set by a trigger from the series.
    #[diesel(deserialize_as = crate::NullableId)]
    pub patient_id: Option<PatientId>,
    /// The timeline stage the provider's notes belong to.
    #[diesel(deserialize_as = String)]
    #[serde(deserialize_with = "stored::<_, String, _>")]
    pub notes_stage: StageKey,
    /// 1 as recorded; each correction adds one (earlier versions are in `session_revisions`).
    pub revision: i32,
    #[diesel(deserialize_as = MaybeStamp)]
    pub revised_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = crate::NullableId)]
    pub revised_by: Option<UserId>,
    pub revision_reason: Option<String>,
    #[diesel(deserialize_as = MaybeStamp)]
    pub voided_at: Option<NaiveDateTime>,
    #[diesel(deserialize_as = crate::NullableId)]
    pub voided_by: Option<UserId>,
    pub void_reason: Option<String>,
}

impl Session {
    pub fn notes(&self) -> Option<Notes> {
        Notes::parse("notes", self.notes.as_deref()).ok().flatten()
    }

    pub fn is_void(&self) -> bool {
        self.voided_at.is_some()
    }

    /// The facts as they would be recorded again.
    pub fn record(&self) -> SessionRecord {
        SessionRecord {
            performed_on: self.performed_on,
            treatment_areas: self.treatment_areas.clone(),
            eye_area: self.eye_area,
            device: self.device,
            needle_depth: self.needle_depth,
            products_applied: self.products_applied.clone(),
            notes: self.notes(),
            notes_stage: self.notes_stage,
            acknowledge_beyond_typical: self.beyond_typical_ack_by.is_some(),
        }
    }
}

/// An earlier version of a session.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct SessionRevision {
    pub id: i64,
    #[diesel(deserialize_as = i64)]
    pub session_id: SessionId,
    pub revision: i32,
    #[diesel(deserialize_as = Stamp)]
    pub made_at: NaiveDateTime,
    #[diesel(deserialize_as = i64)]
    pub made_by: UserId,
    pub reason: Option<String>,
    #[diesel(deserialize_as = Day)]
    pub performed_on: NaiveDate,
    #[diesel(deserialize_as = String)]
    pub treatment_areas: TreatmentAreas,
    pub eye_area: bool,
    #[diesel(deserialize_as = String)]
    pub device: Device,
    #[diesel(deserialize_as = i32)]
    pub needle_depth: NeedleDepth,
    #[diesel(deserialize_as = String)]
    pub products_applied: ProductsApplied,
    pub notes: Option<String>,
    #[diesel(deserialize_as = String)]
    pub notes_stage: StageKey,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = series)]
struct NewSeriesRow<'a> {
    patient_id: i64,
    condition: &'a str,
    planned_sessions: i32,
    reason: Option<&'a str>,
    review_note: Option<&'a str>,
    flagged_after_maximum: bool,
    status: &'a str,
    opened_by: i64,
    opened_at: NaiveDateTime,
}

/// A series with how many sessions it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesSummary {
    pub series: Series,
    pub sessions_recorded: u8,
}

impl From<Series> for SeriesSummary {
    fn from(series: Series) -> Self {
        let sessions_recorded = series.recorded();
        Self {
            series,
            sessions_recorded,
        }
    }
}

/// Why opening a series did not happen.
#[derive(Debug, thiserror::Error)]
pub enum OpenSeriesError {
    #[error(transparent)]
    Refused(#[from] OpenSeriesRefusal),
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for OpenSeriesError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Db(e.into())
    }
}

/// Sessions of a series that count (not voided).
pub fn count_sessions(conn: &mut DbConn, id: SeriesId) -> DbResult<u8> {
    let n: i64 = with_conn!(conn, c => sessions::table
        .filter(sessions::series_id.eq(id.0))
        .filter(sessions::voided_at.is_null())
        .count()
        .get_result(c))?;
    Ok(u8::try_from(n).unwrap_or(u8::MAX))
}

/// Opens a new series for a patient, applying the one-open-series and after-maximum rules.
pub fn open(
    conn: &mut DbConn,
    patient: PatientId,
    plan: &SeriesPlan,
    review_note: Option<&Notes>,
    opened_by: UserId,
    now: NaiveDateTime,
) -> Result<Series, OpenSeriesError> {
    conn.write_transaction(|conn| {
        let latest: Option<Series> = with_conn!(&mut *conn, c => series::table
            .filter(series::patient_id.eq(patient.0))
            .order(series::id.desc())
            .first(c)
            .optional())?;
        let previous = match &latest {
            Some(s) => Some(PreviousSeries {
                is_open: s.is_open(),
                sessions_recorded: count_sessions(conn, s.id)?,
            }),
            None => None,
        };
        let decision = decide_open_series(false, previous, review_note)?;
        let row = NewSeriesRow {
            patient_id: patient.0,
            condition: plan.condition.code(),
            planned_sessions: i32::from(plan.planned.get()),
            reason: plan.reason.as_ref().map(Notes::as_str),
            review_note: review_note.map(Notes::as_str),
            flagged_after_maximum: decision.flagged_after_maximum,
            status: STATUS_OPEN,
            opened_by: opened_by.0,
            opened_at: now,
        };
        // The partial unique index backs the one-open-series rule against a concurrent insert.
        with_conn!(&mut *conn, c => diesel::insert_into(series::table).values(&row).get_result(c)).map_err(|e| {
            match DbError::from(e) {
                DbError::Conflict(_) => OpenSeriesError::Refused(OpenSeriesRefusal::OpenSeriesExists),
                other => OpenSeriesError::Db(other),
            }
        })
    })
}

pub fn find(conn: &mut DbConn, id: SeriesId) -> DbResult<Series> {
    Ok(with_conn!(conn, c => series::table.find(id.0).first(c))?)
}

pub fn summary(conn: &mut DbConn, id: SeriesId) -> DbResult<SeriesSummary> {
    Ok(SeriesSummary::from(find(conn, id)?))
}

/// A patient's series, newest first, with their session counts.
pub fn list_for_patient(conn: &mut DbConn, patient: PatientId) -> DbResult<Vec<SeriesSummary>> {
    let rows: Vec<Series> = with_conn!(conn, c => series::table
        .filter(series::patient_id.eq(patient.0))
        .order(series::id.desc())
        .load(c))?;
    Ok(rows.into_iter().map(SeriesSummary::from).collect())
}

/// A patient's series, newest first, each with its sessions (voided ones included) by number: one
/// statement (the series by their index on the patient, each one's sessions by theirs).
pub fn list_with_sessions(conn: &mut DbConn, patient: PatientId) -> DbResult<Vec<(SeriesSummary, Vec<Session>)>> {
    let rows: Vec<(Series, Option<Session>)> = with_conn!(conn, c => series::table
        .left_join(sessions::table)
        .filter(series::patient_id.eq(patient.0))
        .order((series::id.desc(), sessions::session_number, sessions::id))
        .select((series::all_columns, sessions::all_columns.nullable()))
        .load(c))?;
    let mut all: Vec<(SeriesSummary, Vec<Session>)> = Vec::new();
    for (series, session) in rows {
        match all.last_mut() {
            Some((last, sessions)) if last.series.id == series.id => sessions.extend(session),
            _ => all.push((SeriesSummary::from(series), session.into_iter().collect())),
        }
    }
    Ok(all)
}

/// The sessions of a series, voided ones included, by number.
pub fn sessions_of(conn: &mut DbConn, id: SeriesId) -> DbResult<Vec<Session>> {
    Ok(with_conn!(conn, c => sessions::table
        .filter(sessions::series_id.eq(id.0))
        .order((sessions::session_number, sessions::id))
        .load(c))?)
}

pub fn find_session(conn: &mut DbConn, id: SessionId) -> DbResult<Session> {
    Ok(with_conn!(conn, c => sessions::table.find(id.0).first(c))?)
}

/// The patient's most recent session not voided (by date performed, then number), with its series.
pub fn latest_session_of_patient(conn: &mut DbConn, patient: PatientId) -> DbResult<Option<(Session, Series)>> {
    Ok(with_conn!(conn, c => sessions::table
        .inner_join(series::table)
        .filter(sessions::patient_id.eq(patient.0))
        .filter(sessions::voided_at.is_null())
        .order((sessions::performed_on.desc(), sessions::id.desc()))
        .select((sessions::all_columns, series::all_columns))
        .first(c)
        .optional())?)
}

/// A patient's sessions not voided, newest first, with their series.
pub fn sessions_of_patient(conn: &mut DbConn, patient: PatientId) -> DbResult<Vec<(Session, Series)>> {
    Ok(with_conn!(conn, c => sessions::table
        .inner_join(series::table)
        .filter(sessions::patient_id.eq(patient.0))
        .filter(sessions::voided_at.is_null())
        .order((sessions::performed_on.desc(), sessions::id.desc()))
        .select((sessions::all_columns, series::all_columns))
        .load(c))?)
}

/// Marks an open series completed. Returns the series as it now is.
pub fn complete(conn: &mut DbConn, id: SeriesId, now: NaiveDateTime) -> DbResult<Series> {
    conn.write_transaction(|conn| {
        with_conn!(&mut *conn, c => diesel::update(series::table.find(id.0).filter(series::status.eq(STATUS_OPEN)))
            .set((series::status.eq(STATUS_COMPLETED), series::completed_at.eq(Some(now))))
            .execute(c))?;
        find(conn, id)
    })
}

/// The facts of a session to record, parsed.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub performed_on: NaiveDate,
    pub treatment_areas: TreatmentAreas,
    pub eye_area: bool,
    pub device: Device,
    pub needle_depth: NeedleDepth,
    pub products_applied: ProductsApplied,
    pub notes: Option<Notes>,
    pub notes_stage: StageKey,
    pub acknowledge_beyond_typical: bool,
}

/// `None` is written as `NULL` (the columns' default), so the statement's text does not depend on the
/// values and the connection keeps it prepared.
#[derive(Debug, Insertable)]
#[diesel(table_name = sessions, treat_none_as_default_value = false)]
struct NewSessionRow<'a> {
    series_id: i64,
    session_number: i32,
    performed_on: NaiveDate,
    provider_id: i64,
    treatment_areas: &'a str,
    eye_area: bool,
    device: &'a str,
    needle_depth_hundredths: i32,
    products_applied: &'a str,
    notes: Option<&'a str>,
    notes_stage: &'a str,
    beyond_typical_ack_by: Option<i64>,
    created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = series_refusals)]
struct NewRefusalRow {
    series_id: i64,
    provider_id: i64,
    attempted_number: i32,
    created_at: NaiveDateTime,
}

/// What an attempt to record a session came to. A refusal at the maximum is stored before it is returned.
#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)] // one per request, moved once; boxing buys nothing
pub enum RecordOutcome {
    Recorded {
        session: Session,
        /// Every session of the series with the new one, by number (void ones too).
        sessions: Vec<Session>,
        series: SeriesSummary,
        admission: SessionAdmission,
    },
    Refused {
        refusal: SessionRefusal,
        series: SeriesSummary,
    },
}

/// Records the next session of a series, or stores why it was refused: [`lock_with_patient`] then
/// [`record_locked`] in one transaction.
pub fn record_session(
    conn: &mut DbConn,
    id: SeriesId,
    record: &SessionRecord,
    provider: UserId,
    now: NaiveDateTime,
) -> DbResult<RecordOutcome> {
    conn.write_transaction(|conn| {
        let (series, _) = lock_with_patient(conn, id)?;
        record_locked(conn, series, record, provider, now)
    })
}

/// A series and its patient, read to record a session: call it inside a write transaction. On
/// PostgreSQL both rows are locked (`FOR NO KEY UPDATE`: foreign keys to them still go through), so
/// the session count and the patient's details hold until the commit; on SQLite the write transaction
/// holds the database. One statement.
pub fn lock_with_patient(conn: &mut DbConn, id: SeriesId) -> DbResult<(Series, Patient)> {
    let both = series::table
        .find(id.0)
        .inner_join(patients::table)
        .select((series::all_columns, patients::all_columns));
    Ok(match conn {
        DbConn::Postgres(c) => both.for_no_key_update().first(c)?,
        DbConn::Sqlite(c) => both.first(c)?,
    })
}

/// Records the next session of `series`, read by [`lock_with_patient`] in this transaction, under the
/// series rule (its trigger-kept count is the count of sessions not voided), or stores why it was
/// refused.
pub fn record_locked(
    conn: &mut DbConn,
    series: Series,
    record: &SessionRecord,
    provider: UserId,
    now: NaiveDateTime,
) -> DbResult<RecordOutcome> {
    let id = series.id;
    let recorded = series.recorded();
    match decide_session(
        recorded,
        series.planned_sessions,
        series.is_open(),
        record.acknowledge_beyond_typical,
    ) {
        Ok(admission) => {
            let areas = record.treatment_areas.to_stored();
            let products = record.products_applied.to_codes();
            let row = NewSessionRow {
                series_id: id.0,
                session_number: i32::from(admission.number.get()),
                performed_on: record.performed_on,
                provider_id: provider.0,
                treatment_areas: &areas,
                eye_area: record.eye_area,
                device: record.device.as_str(),
                needle_depth_hundredths: i32::from(record.needle_depth.hundredths()),
                products_applied: &products,
                notes: record.notes.as_ref().map(Notes::as_str),
                notes_stage: record.notes_stage.as_str(),
                beyond_typical_ack_by: admission.beyond_typical.then_some(provider.0),
                created_at: now,
            };
            let (session, sessions) = insert_session(conn, &row)?;
            let series = SeriesSummary {
                series,
                sessions_recorded: admission.number.get(),
            };
            Ok(RecordOutcome::Recorded {
                session,
                sessions,
                series,
                admission,
            })
        }
        Err(refusal) => {
            if refusal == SessionRefusal::MaximumReached {
                let row = NewRefusalRow {
                    series_id: id.0,
                    provider_id: provider.0,
                    attempted_number: i32::from(MAXIMUM) + 1,
                    created_at: now,
                };
                write_conn!(&mut *conn, c => diesel::insert_into(series_refusals::table).values(&row).execute(c))?;
            }
            Ok(RecordOutcome::Refused {
                refusal,
                series: SeriesSummary {
                    series,
                    sessions_recorded: recorded,
                },
            })
        }
    }
}

/// Inserts a session; returns it and every session of its series with it, by number. On PostgreSQL one
/// statement (the insert is a `WITH` of the read, whose snapshot is taken after the caller's lock on
/// the series, so it sees every change committed before), one round trip fewer than the two.
fn insert_session(conn: &mut DbConn, row: &NewSessionRow<'_>) -> DbResult<(Session, Vec<Session>)> {
    if let DbConn::Postgres(c) = conn {
        let insert = diesel::insert_into(sessions::table)
            .values(row)
            .returning(sessions::all_columns);
        let mut rows: Vec<Session> = PgInsertWithSiblings {
            insert,
            series_id: row.series_id,
        }
        .load(c)?;
        // The new session comes first, the others after it by number.
        if rows.is_empty() {
            return Err(diesel::result::Error::NotFound.into());
        }
        let session = rows.remove(0);
        let at = rows.partition_point(|s| (s.session_number, s.id) < (session.session_number, session.id));
        rows.insert(at, session.clone());
        return Ok((session, rows));
    }
    let inserted: Session =
        write_conn!(&mut *conn, c => diesel::insert_into(sessions::table).values(row).get_result(c))?;
    let sessions = sessions_of(conn, inserted.series_id)?;
    // SQLite's `RETURNING` gives the row before the trigger named its patient; the read has it.
    let session = sessions
        .iter()
        .find(|s| s.id == inserted.id)
        .cloned()
        .unwrap_or(inserted);
    Ok((session, sessions))
}

/// [`insert_session`] on PostgreSQL. Its text never changes (the row writes `NULL` for `None`), so the
/// connection keeps it prepared.
struct PgInsertWithSiblings<I> {
    insert: I,
    series_id: i64,
}

/// The identity diesel caches [`PgInsertWithSiblings`]'s prepared statement under.
struct PgInsertWithSiblingsQuery;

impl<I> diesel::query_builder::QueryId for PgInsertWithSiblings<I> {
    type QueryId = PgInsertWithSiblingsQuery;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl<I> diesel::query_builder::Query for PgInsertWithSiblings<I> {
    type SqlType = sessions::SqlType;
}

impl<I: diesel::query_builder::QueryFragment<diesel::pg::Pg>> diesel::query_builder::QueryFragment<diesel::pg::Pg>
    for PgInsertWithSiblings<I>
{
    fn walk_ast<'b>(&'b self, mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>) -> QueryResult<()> {
        out.push_sql("WITH new AS (");
        self.insert.walk_ast(out.reborrow())?;
        out.push_sql(") SELECT * FROM (SELECT * FROM new UNION ALL SELECT ");
        sessions::all_columns.walk_ast(out.reborrow())?;
        out.push_sql(" FROM sessions WHERE sessions.series_id = ");
        out.push_bind_param::<diesel::sql_types::BigInt, _>(&self.series_id)?;
        out.push_sql(") AS s ORDER BY s.id = (SELECT id FROM new) DESC, s.session_number, s.id");
        Ok(())
    }
}

impl<I, C> RunQueryDsl<C> for PgInsertWithSiblings<I> {}

pub fn count_refusals(conn: &mut DbConn, id: SeriesId) -> DbResult<i64> {
    Ok(with_conn!(conn, c => series_refusals::table.filter(series_refusals::series_id.eq(id.0)).count().get_result(c))?)
}

/// Why a correction or a void did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ChangeError {
    #[error("this session is void: it can no longer be changed")]
    Void,
    #[error("only the most recent session of a series that is not void can be voided (session {latest} is)")]
    NotLatest { latest: u8 },
    #[error(transparent)]
    Db(#[from] DbError),
}

impl From<diesel::result::Error> for ChangeError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Db(e.into())
    }
}

/// Locks the series a session belongs to (PostgreSQL `FOR UPDATE`; on SQLite the write transaction
/// holds the database), then reads the session.
fn locked_session(conn: &mut DbConn, id: SessionId) -> DbResult<Session> {
    let session = find_session(conn, id)?;
    if let DbConn::Postgres(c) = conn {
        let _: i64 = series::table
            .find(session.series_id.0)
            .select(series::id)
            .for_update()
            .first(c)?;
        // Read again under the lock: a concurrent change may have come first.
        return find_session(conn, id);
    }
    Ok(session)
}

/// Corrects a session: the version it had is kept in `session_revisions`, the session takes `record`'s
/// facts and the next revision number. The number, series and acknowledgement do not change.
pub fn amend_session(
    conn: &mut DbConn,
    id: SessionId,
    record: &SessionRecord,
    by: UserId,
    reason: &Notes,
    now: NaiveDateTime,
) -> Result<Session, ChangeError> {
    conn.write_transaction(|conn| {
        let before = locked_session(conn, id)?;
        if before.is_void() {
            return Err(ChangeError::Void);
        }
        let areas = before.treatment_areas.to_stored();
        let products = before.products_applied.to_codes();
        let kept = (
            session_revisions::session_id.eq(id.0),
            session_revisions::revision.eq(before.revision),
            session_revisions::made_at.eq(before.revised_at.unwrap_or(before.created_at)),
            session_revisions::made_by.eq(before.revised_by.unwrap_or(before.provider_id).0),
            session_revisions::reason.eq(before.revision_reason.as_deref()),
            session_revisions::performed_on.eq(before.performed_on),
            session_revisions::treatment_areas.eq(&areas),
            session_revisions::eye_area.eq(before.eye_area),
            session_revisions::device.eq(before.device.as_str()),
            session_revisions::needle_depth_hundredths.eq(i32::from(before.needle_depth.hundredths())),
            session_revisions::products_applied.eq(&products),
            session_revisions::notes.eq(before.notes.as_deref()),
            session_revisions::notes_stage.eq(before.notes_stage.as_str()),
        );
        with_conn!(&mut *conn, c => diesel::insert_into(session_revisions::table).values(kept).execute(c))?;
        let areas = record.treatment_areas.to_stored();
        let products = record.products_applied.to_codes();
        let changes = (
            sessions::performed_on.eq(record.performed_on),
            sessions::treatment_areas.eq(&areas),
            sessions::eye_area.eq(record.eye_area),
            sessions::device.eq(record.device.as_str()),
            sessions::needle_depth_hundredths.eq(i32::from(record.needle_depth.hundredths())),
            sessions::products_applied.eq(&products),
            sessions::notes.eq(record.notes.as_ref().map(Notes::as_str)),
            sessions::notes_stage.eq(record.notes_stage.as_str()),
            sessions::revision.eq(before.revision + 1),
            sessions::revised_at.eq(Some(now)),
            sessions::revised_by.eq(Some(by.0)),
            sessions::revision_reason.eq(Some(reason.as_str())),
        );
        with_conn!(&mut *conn, c => diesel::update(sessions::table.find(id.0)).set(changes).execute(c))?;
        Ok(find_session(conn, id)?)
    })
}

/// Voids the most recent session of its series that is not void: it stays, marked void, and no longer
/// counts (its number is free again). Under the series lock, so it cannot race a new record.
pub fn void_session(
    conn: &mut DbConn,
    id: SessionId,
    by: UserId,
    reason: &Notes,
    now: NaiveDateTime,
) -> Result<Session, ChangeError> {
    conn.write_transaction(|conn| {
        let session = locked_session(conn, id)?;
        if session.is_void() {
            return Err(ChangeError::Void);
        }
        let latest: Option<i32> = with_conn!(&mut *conn, c => sessions::table
            .filter(sessions::series_id.eq(session.series_id.0))
            .filter(sessions::voided_at.is_null())
            .select(diesel::dsl::max(sessions::session_number))
            .first(c))?;
        let latest = latest.and_then(|n| u8::try_from(n).ok()).unwrap_or(0);
        if latest != session.session_number.get() {
            return Err(ChangeError::NotLatest { latest });
        }
        let changes = (
            sessions::voided_at.eq(Some(now)),
            sessions::voided_by.eq(Some(by.0)),
            sessions::void_reason.eq(Some(reason.as_str())),
        );
        with_conn!(&mut *conn, c => diesel::update(sessions::table.find(id.0)).set(changes).execute(c))?;
        Ok(find_session(conn, id)?)
    })
}

/// The most recent non-void session of a series: the one that may be voided.
pub fn latest_live_session(conn: &mut DbConn, id: SeriesId) -> DbResult<Option<SessionId>> {
    Ok(with_conn!(conn, c => sessions::table
        .filter(sessions::series_id.eq(id.0))
        .filter(sessions::voided_at.is_null())
        .order(sessions::session_number.desc())
        .select(sessions::id)
        .first::<i64>(c)
        .optional())?
    .map(SessionId))
}

/// The earlier versions of a session, oldest first.
pub fn revisions_of(conn: &mut DbConn, id: SessionId) -> DbResult<Vec<SessionRevision>> {
    Ok(with_conn!(conn, c => session_revisions::table
        .filter(session_revisions::session_id.eq(id.0))
        .order(session_revisions::revision)
        .load(c))?)
}
