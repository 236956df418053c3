//! The e-mail outbox. Messages are written in the transaction of the event that causes them; a worker
//! in every process claims due ones (a lease, taken with `FOR UPDATE SKIP LOCKED` on PostgreSQL, inside
//! an immediate transaction on SQLite), sends them and records the outcome. A claim whose worker died
//! runs out and is taken again: a message is sent at least once, always with the same `message_id`.

use crate::schema::outbox;
use crate::{DbConn, DbResult, MaybeStamp, Stamp, with_conn, write_conn};
use chrono::{Duration, NaiveDateTime};
use clinic_domain::{PatientId, SessionId, UserId};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Nullable, Text, Timestamp};

pub const QUEUED: &str = "queued";
pub const SENT: &str = "sent";
pub const FAILED: &str = "failed";
pub const HELD: &str = "held";
pub const CANCELLED: &str = "cancelled";

#[derive(Debug, Clone, PartialEq, Eq, Queryable, serde::Deserialize, QueryableByName)]
#[diesel(table_name = outbox)]
pub struct Message {
    pub id: i64,
    pub kind: String,
    pub status: String,
    pub recipient: String,
    #[diesel(deserialize_as = crate::NullableId)]
    pub patient_id: Option<PatientId>,
    #[diesel(deserialize_as = crate::NullableId)]
    pub user_id: Option<UserId>,
    #[diesel(deserialize_as = crate::NullableId)]
    pub session_id: Option<SessionId>,
    pub message_id: String,
    pub payload: Option<String>,
    #[diesel(deserialize_as = Stamp)]
    pub scheduled_for: NaiveDateTime,
    #[diesel(deserialize_as = Stamp)]
    pub next_attempt_at: NaiveDateTime,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub claimed_by: Option<String>,
    #[diesel(deserialize_as = MaybeStamp)]
    pub claimed_until: Option<NaiveDateTime>,
    #[diesel(deserialize_as = MaybeStamp)]
    pub sent_at: Option<NaiveDateTime>,
}

/// `None` is written as `NULL` (the columns' default), so the statement's text does not depend on the
/// values and the connection keeps it prepared.
#[derive(Debug, Clone, Insertable)]
#[diesel(table_name = outbox, treat_none_as_default_value = false)]
pub struct NewMessage<'a> {
    pub kind: &'a str,
    pub status: &'a str,
    pub recipient: &'a str,
    pub patient_id: Option<i64>,
    pub user_id: Option<i64>,
    pub session_id: Option<i64>,
    pub message_id: &'a str,
    pub payload: Option<&'a str>,
    pub scheduled_for: NaiveDateTime,
    pub next_attempt_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConn, new: &NewMessage<'_>) -> DbResult<Message> {
    Ok(write_conn!(conn, c => diesel::insert_into(outbox::table).values(new).get_result(c))?)
}

/// Several messages in one statement; how many were written. On PostgreSQL the statement's text never
/// changes (the columns go in as arrays unpacked by `unnest`), so the connection keeps it prepared:
/// diesel prepares a multi-row insert afresh each time, and PostgreSQL parsed and planned it at every
/// recorded session. SQLite, where preparing costs no round trip, keeps diesel's insert.
pub fn insert_many(conn: &mut DbConn, rows: &[NewMessage<'_>]) -> DbResult<usize> {
    if rows.is_empty() {
        return Ok(0);
    }
    if let DbConn::Postgres(c) = conn {
        return Ok(PgBatch::of(rows).execute(c)?);
    }
    Ok(write_conn!(conn, c => diesel::insert_into(outbox::table).values(rows).execute(c))?)
}

/// [`insert_many`] with audit rows written in the same transaction: on PostgreSQL one statement (the
/// audit rows' insert is a `WITH` of the messages'), so one round trip fewer; on SQLite, where a
/// statement costs no round trip, the two inserts. How many messages were written.
pub fn insert_many_audited(
    conn: &mut DbConn,
    rows: &[NewMessage<'_>],
    events: &[crate::audit::NewAuditEvent],
) -> DbResult<usize> {
    match conn {
        DbConn::Postgres(c) if !rows.is_empty() && !events.is_empty() => Ok(PgAudited {
            audit: crate::audit::PgBatch::of(events),
            messages: PgBatch::of(rows),
        }
        .execute(c)?),
        _ => {
            crate::audit::insert_many(conn, events)?;
            insert_many(conn, rows)
        }
    }
}

/// [`insert_many_audited`] on PostgreSQL. Its text never changes, so the connection keeps it prepared.
struct PgAudited<'a> {
    audit: crate::audit::PgBatch<'a>,
    messages: PgBatch<'a>,
}

/// The identity diesel caches [`PgAudited`]'s prepared statement under.
struct PgAuditedQuery;

impl diesel::query_builder::QueryId for PgAudited<'_> {
    type QueryId = PgAuditedQuery;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl diesel::query_builder::QueryFragment<diesel::pg::Pg> for PgAudited<'_> {
    fn walk_ast<'b>(&'b self, mut out: diesel::query_builder::AstPass<'_, 'b, diesel::pg::Pg>) -> QueryResult<()> {
        out.push_sql("WITH audit AS (");
        self.audit.walk_ast(out.reborrow())?;
        out.push_sql(") ");
        self.messages.walk_ast(out.reborrow())
    }
}

impl<C> RunQueryDsl<C> for PgAudited<'_> {}

/// [`insert_many`] on PostgreSQL: one array per column.
struct PgBatch<'a> {
    kind: Vec<&'a str>,
    status: Vec<&'a str>,
    recipient: Vec<&'a str>,
    patient_id: Vec<Option<i64>>,
    user_id: Vec<Option<i64>>,
    session_id: Vec<Option<i64>>,
    message_id: Vec<&'a str>,
    payload: Vec<Option<&'a str>>,
    scheduled_for: Vec<NaiveDateTime>,
    next_attempt_at: Vec<NaiveDateTime>,
}

impl<'a> PgBatch<'a> {
    fn of(rows: &'a [NewMessage<'a>]) -> Self {
        Self {
            kind: rows.iter().map(|r| r.kind).collect(),
            status: rows.iter().map(|r| r.status).collect(),
            recipient: rows.iter().map(|r| r.recipient).collect(),
            patient_id: rows.iter().map(|r| r.patient_id).collect(),
            user_id: rows.iter().map(|r| r.user_id).collect(),
            session_id: rows.iter().map(|r| r.session_id).collect(),
            message_id: rows.iter().map(|r| r.message_id).collect(),
            payload: rows.iter().map(|r| r.payload).collect(),
            scheduled_for: rows.iter().map(|r| r.scheduled_for).collect(),
            next_attempt_at: rows.iter().map(|r| r.next_attempt_at).collect(),
        }
    }
}

crate::pg_unnest_insert!(
    PgBatch,
    PgBatchQuery,
    "INSERT INTO outbox (kind, status, recipient, patient_id, user_id, session_id, message_id, payload, \
     scheduled_for, next_attempt_at) ",
    Array<Text> => kind,
    Array<Text> => status,
    Array<Text> => recipient,
    Array<Nullable<BigInt>> => patient_id,
    Array<Nullable<BigInt>> => user_id,
    Array<Nullable<BigInt>> => session_id,
    Array<Text> => message_id,
    Array<Nullable<Text>> => payload,
    Array<Timestamp> => scheduled_for,
    Array<Timestamp> => next_attempt_at,
);

pub fn find(conn: &mut DbConn, id: i64) -> DbResult<Message> {
    Ok(with_conn!(conn, c => outbox::table.find(id).first(c))?)
}

/// A patient's messages, newest first.
pub fn list_for_patient(conn: &mut DbConn, patient: PatientId, limit: i64) -> DbResult<Vec<Message>> {
    Ok(with_conn!(conn, c => outbox::table
        .filter(outbox::patient_id.eq(patient.0))
        .order(outbox::id.desc())
        .limit(limit)
        .load(c))?)
}

/// How many messages have each status (for operators and benchmarks).
pub fn count_with_status(conn: &mut DbConn, status: &str) -> DbResult<i64> {
    Ok(with_conn!(conn, c => outbox::table.filter(outbox::status.eq(status)).count().get_result(c))?)
}

const CLAIM_POSTGRES: &str = "UPDATE outbox SET claimed_by = $1, claimed_until = $2
    WHERE id IN (SELECT id FROM outbox WHERE status = 'queued' AND next_attempt_at <= $3
        AND (claimed_until IS NULL OR claimed_until < $3)
        ORDER BY next_attempt_at, id LIMIT $4 FOR UPDATE SKIP LOCKED)
    RETURNING *";

const CLAIM_SQLITE: &str = "UPDATE outbox SET claimed_by = ?1, claimed_until = ?2
    WHERE id IN (SELECT id FROM outbox WHERE status = 'queued' AND next_attempt_at <= ?3
        AND (claimed_until IS NULL OR claimed_until < ?3)
        ORDER BY next_attempt_at, id LIMIT ?4)
    RETURNING *";

/// Claims up to `limit` due messages for `worker` until `now + lease`. Other workers skip rows being
/// claimed (PostgreSQL) or wait for the claim's transaction (SQLite): no message is claimed twice.
pub fn claim_due(
    conn: &mut DbConn,
    worker: &str,
    now: NaiveDateTime,
    lease: Duration,
    limit: i64,
) -> DbResult<Vec<Message>> {
    let until = now + lease;
    conn.write_transaction(|conn| {
        let sql = if conn.is_postgres() {
            CLAIM_POSTGRES
        } else {
            CLAIM_SQLITE
        };
        Ok(with_conn!(conn, c => diesel::sql_query(sql)
            .bind::<Text, _>(worker)
            .bind::<Timestamp, _>(until)
            .bind::<Timestamp, _>(now)
            .bind::<BigInt, _>(limit)
            .load(c))?)
    })
}

/// Records messages as sent (their secrets, if any, are no longer kept), in one statement: a worker
/// records a batch at once. Only rows still claimed by `worker` change; returns how many did.
pub fn mark_sent(conn: &mut DbConn, ids: &[i64], worker: &str, now: NaiveDateTime) -> DbResult<usize> {
    let changes = (
        outbox::status.eq(SENT),
        outbox::sent_at.eq(Some(now)),
        outbox::payload.eq(None::<String>),
        outbox::attempts.eq(outbox::attempts + 1),
        outbox::last_error.eq(None::<String>),
        outbox::claimed_by.eq(None::<String>),
        outbox::claimed_until.eq(None::<NaiveDateTime>),
    );
    Ok(write_conn!(conn, c => diesel::update(outbox::table
        .filter(outbox::id.eq_any(ids))
        .filter(outbox::claimed_by.eq(worker)))
        .set(changes)
        .execute(c))?)
}

/// Records a failed attempt: tried again at `retry_at`, or `failed` when `retry_at` is `None`.
pub fn mark_attempt_failed(
    conn: &mut DbConn,
    id: i64,
    worker: &str,
    error: &str,
    retry_at: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> DbResult<bool> {
    let status = if retry_at.is_some() { QUEUED } else { FAILED };
    let changes = (
        outbox::status.eq(status),
        outbox::attempts.eq(outbox::attempts + 1),
        outbox::last_error.eq(Some(error)),
        outbox::next_attempt_at.eq(retry_at.unwrap_or(now)),
        outbox::claimed_by.eq(None::<String>),
        outbox::claimed_until.eq(None::<NaiveDateTime>),
    );
    let n = write_conn!(conn, c => diesel::update(outbox::table
        .filter(outbox::id.eq(id))
        .filter(outbox::claimed_by.eq(worker)))
        .set(changes)
        .execute(c))?;
    Ok(n == 1)
}

/// Gives a claimed message back untried, for the next claim.
pub fn release_claim(conn: &mut DbConn, id: i64, worker: &str) -> DbResult<bool> {
    let n = write_conn!(conn, c => diesel::update(outbox::table
        .filter(outbox::id.eq(id))
        .filter(outbox::claimed_by.eq(worker)))
        .set((outbox::claimed_by.eq(None::<String>), outbox::claimed_until.eq(None::<NaiveDateTime>)))
        .execute(c))?;
    Ok(n == 1)
}

/// Keeps claimed messages aside because no mail server is configured, in one statement. Only rows
/// still claimed by `worker` change; returns how many did.
pub fn mark_held(conn: &mut DbConn, ids: &[i64], worker: &str, reason: &str) -> DbResult<usize> {
    let changes = (
        outbox::status.eq(HELD),
        outbox::last_error.eq(Some(reason)),
        outbox::claimed_by.eq(None::<String>),
        outbox::claimed_until.eq(None::<NaiveDateTime>),
    );
    Ok(write_conn!(conn, c => diesel::update(outbox::table
        .filter(outbox::id.eq_any(ids))
        .filter(outbox::claimed_by.eq(worker)))
        .set(changes)
        .execute(c))?)
}

/// Queues every held message again (a mail server is now configured); returns how many.
pub fn release_held(conn: &mut DbConn, now: NaiveDateTime) -> DbResult<usize> {
    Ok(
        write_conn!(conn, c => diesel::update(outbox::table.filter(outbox::status.eq(HELD)))
        .set((outbox::status.eq(QUEUED), outbox::next_attempt_at.eq(now)))
        .execute(c))?,
    )
}

/// Sends a failed or held message again from now: the provider's retry. False when it is neither.
pub fn retry(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> DbResult<bool> {
    let n = write_conn!(conn, c => diesel::update(outbox::table
        .filter(outbox::id.eq(id))
        .filter(outbox::status.eq_any([FAILED, HELD])))
        .set((
            outbox::status.eq(QUEUED),
            outbox::attempts.eq(0),
            outbox::next_attempt_at.eq(now),
        ))
        .execute(c))?;
    Ok(n == 1)
}

/// Cancels a patient's messages of `kinds` not yet sent (queued, held or failed); returns how many.
pub fn cancel_for_patient(conn: &mut DbConn, patient: PatientId, kinds: &[&str]) -> DbResult<usize> {
    Ok(write_conn!(conn, c => diesel::update(outbox::table
        .filter(outbox::patient_id.eq(patient.0))
        .filter(outbox::kind.eq_any(kinds))
        .filter(outbox::status.eq_any([QUEUED, HELD, FAILED])))
        .set((outbox::status.eq(CANCELLED), outbox::payload.eq(None::<String>)))
        .execute(c))?)
}

/// Cancels an account's messages of `kinds` not yet sent; returns how many.
pub fn cancel_for_user(conn: &mut DbConn, user: UserId, kinds: &[&str]) -> DbResult<usize> {
    Ok(write_conn!(conn, c => diesel::update(outbox::table
        .filter(outbox::user_id.eq(user.0))
        .filter(outbox::kind.eq_any(kinds))
        .filter(outbox::status.eq_any([QUEUED, HELD, FAILED])))
        .set((outbox::status.eq(CANCELLED), outbox::payload.eq(None::<String>)))
        .execute(c))?)
}

/// Cancels a session's messages not yet sent; returns how many.
/// Whether a message of `kind` about `session` was sent.
pub fn was_sent(conn: &mut DbConn, session: SessionId, kind: &str) -> DbResult<bool> {
    let n: i64 = with_conn!(conn, c => outbox::table
        .filter(outbox::session_id.eq(session.0))
        .filter(outbox::kind.eq(kind))
        .filter(outbox::status.eq(SENT))
        .count()
        .get_result(c))?;
    Ok(n > 0)
}

pub fn cancel_for_session(conn: &mut DbConn, session: SessionId) -> DbResult<usize> {
    Ok(write_conn!(conn, c => diesel::update(outbox::table
        .filter(outbox::session_id.eq(session.0))
        .filter(outbox::status.eq_any([QUEUED, HELD, FAILED])))
        .set(outbox::status.eq(CANCELLED))
        .execute(c))?)
}
