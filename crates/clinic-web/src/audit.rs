//! The server's audit trail for reads and refusals ([`AuditSink`]). Writes put their audit row in the
//! same transaction as the write (`clinic_db::audit::insert`, in the use cases); a read's rows are
//! group-committed here, and the answer waits for its commit ([`AuditSink::commit`]), so a read that
//! was answered is in the log even if the process dies right after. Rows that need not hold up an
//! answer (a refused role, a failed sign-in) are queued without waiting. Requests with no usable token
//! are counted, not written one by one: one row per address and minute ([`AuditSink::token_refused`]).
//! A read answered from what is kept (the patient's timeline, the provider's patient page) is written
//! only if the numbers it was read at still stand ([`AuditSink::commit_if_current`]): the group's
//! numbers are read in one statement before its rows.

use chrono::{NaiveDateTime, Timelike};
use clinic_app::Trail;
use clinic_db::audit::NewAuditEvent;
use clinic_db::generations::{self, Generation};
use clinic_db::{DbConn, KeptConnection, Pool};
use clinic_domain::Clock;
use std::collections::BTreeMap;
use std::sync::mpsc::{self, RecvTimeoutError, Sender, TryRecvError};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::sync::oneshot;

/// How often the writer looks for refusal counts whose minute has ended.
const REFUSALS_EVERY: Duration = Duration::from_secs(1);
/// Distinct addresses counted per minute; beyond that they are counted under one row.
const REFUSAL_ADDRESSES: usize = 10_000;
/// Page cache of the writer's own SQLite connection: it only appends (the right edge of the table and
/// its four indexes).
const AUDIT_CACHE_KIB: u32 = 256;
/// Rows kept for a later try while the database refuses them; beyond that they are dropped (logged).
const BACKLOG_LIMIT: usize = 100_000;

struct Job {
    events: Vec<NewAuditEvent>,
    /// The numbers that must still be these values for the rows to be written.
    current: Vec<(Generation, i64)>,
    /// Told what became of the rows; `None` when nobody waits.
    done: Option<oneshot::Sender<Written>>,
}

/// What became of rows sent to [`AuditSink::commit_if_current`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// Committed.
    Yes,
    /// Not written: one of the numbers has moved on, so what was read at it is stale.
    Stale,
    /// Not written: the database refused, or the writer has stopped.
    No,
}

/// Refused requests per (minute, address), until the minute has ended.
type Refusals = BTreeMap<(NaiveDateTime, String), u64>;

/// A background writer of audit rows that need not share a transaction.
pub struct AuditSink {
    tx: RwLock<Option<Sender<Job>>>,
    worker: Mutex<Option<JoinHandle<()>>>,
    refusals: Arc<Mutex<Refusals>>,
}

impl AuditSink {
    pub fn start(pool: Pool, clock: Arc<dyn Clock>) -> Arc<Self> {
        let (tx, rx) = mpsc::channel::<Job>();
        let refusals = Arc::new(Mutex::new(Refusals::new()));
        let counted = Arc::clone(&refusals);
        let worker = std::thread::Builder::new()
            .name("audit-writer".into())
            .spawn(move || {
                let mut backlog: Vec<NewAuditEvent> = Vec::new();
                let mut writer = Writer {
                    conn: KeptConnection::new(pool, AUDIT_CACHE_KIB),
                };
                loop {
                    // Group commit: whatever queued while the last batch was written goes in one
                    // transaction, and every waiter of the batch is told at once.
                    let (first, stop) = match rx.recv_timeout(REFUSALS_EVERY) {
                        Ok(job) => (Some(job), false),
                        Err(RecvTimeoutError::Timeout) => (None, false),
                        Err(RecvTimeoutError::Disconnected) => (None, true),
                    };
                    let mut jobs = Vec::new();
                    let mut stop = stop;
                    if let Some(job) = first {
                        jobs.push(job);
                        loop {
                            match rx.try_recv() {
                                Ok(job) => jobs.push(job),
                                Err(TryRecvError::Empty) => break,
                                Err(TryRecvError::Disconnected) => {
                                    stop = true;
                                    break;
                                }
                            }
                        }
                    }
                    let jobs = writer.keep_current(jobs);
                    let mut batch = std::mem::take(&mut backlog);
                    let mut waiters = Vec::new();
                    for job in jobs {
                        batch.extend(job.events);
                        waiters.extend(job.done);
                    }
                    let closed_before = if stop {
                        None
                    } else {
                        Some(minute_of(clock.now().naive_utc()))
                    };
                    batch.extend(ended_refusals(&counted, closed_before));
                    let written = batch.is_empty() || writer.flush(&batch);
                    for w in waiters {
                        let _ = w.send(if written { Written::Yes } else { Written::No });
                    }
                    if !written {
                        keep_for_later(&mut backlog, batch);
                    }
                    if stop {
                        break;
                    }
                }
            })
            .ok();
        Arc::new(Self {
            tx: RwLock::new(Some(tx)),
            worker: Mutex::new(worker),
            refusals,
        })
    }

    fn send(&self, job: Job) -> bool {
        self.tx
            .read()
            .ok()
            .and_then(|guard| guard.as_ref().map(|tx| tx.send(job).is_ok()))
            .unwrap_or(false)
    }

    /// Writes `events` in the next group commit and waits for it; `false` when they could not be
    /// written (the database refused or the writer has stopped).
    pub async fn commit(&self, events: Vec<NewAuditEvent>) -> bool {
        if events.is_empty() {
            return true;
        }
        self.wait_for(events, Vec::new()).await == Written::Yes
    }

    /// Writes `events` in the next group commit if each of `numbers` (an account's `read_generation`,
    /// a patient's or the clinic's chart generation) still has its value when the group is written,
    /// and waits: a read served from what was kept is checked here, in one statement for the whole
    /// group, instead of a lookup of its own. The numbers are read before the rows are written, as a
    /// lookup would have been.
    pub async fn commit_if_current(&self, events: Vec<NewAuditEvent>, numbers: Vec<(Generation, i64)>) -> Written {
        self.wait_for(events, numbers).await
    }

    async fn wait_for(&self, events: Vec<NewAuditEvent>, current: Vec<(Generation, i64)>) -> Written {
        let (done, written) = oneshot::channel();
        if !self.send(Job {
            events,
            current,
            done: Some(done),
        }) {
            return Written::No;
        }
        written.await.unwrap_or(Written::No)
    }

    /// Counts a request with no usable token from `address` at `at`; written as one row per address
    /// and minute once the minute has ended.
    pub fn token_refused(&self, address: &str, at: NaiveDateTime) {
        let Ok(mut counts) = self.refusals.lock() else {
            return;
        };
        let minute = minute_of(at);
        let known = counts.contains_key(&(minute, address.to_owned()));
        let address = if known || counts.len() < REFUSAL_ADDRESSES {
            address.to_owned()
        } else {
            "(other addresses)".to_owned()
        };
        *counts.entry((minute, address)).or_default() += 1;
    }

    /// Writes what is queued and counted and stops the writer (at shutdown).
    pub fn shutdown(&self) {
        if let Ok(mut guard) = self.tx.write() {
            guard.take();
        }
        if let Ok(mut guard) = self.worker.lock()
            && let Some(handle) = guard.take()
        {
            let _ = handle.join();
        }
    }
}

impl Trail for AuditSink {
    fn record(&self, event: NewAuditEvent) {
        self.send(Job {
            events: vec![event],
            current: Vec::new(),
            done: None,
        });
    }
}

fn minute_of(at: NaiveDateTime) -> NaiveDateTime {
    at.with_second(0).and_then(|t| t.with_nanosecond(0)).unwrap_or(at)
}

/// The counts of minutes before `before` (all of them when `None`), as rows, taken out of `counts`.
fn ended_refusals(counts: &Mutex<Refusals>, before: Option<NaiveDateTime>) -> Vec<NewAuditEvent> {
    let Ok(mut counts) = counts.lock() else {
        return Vec::new();
    };
    let ended = match before {
        Some(minute) => {
            let open = counts.split_off(&(minute, String::new()));
            std::mem::replace(&mut *counts, open)
        }
        None => std::mem::take(&mut *counts),
    };
    ended
        .into_iter()
        .map(|((minute, address), n)| NewAuditEvent {
            occurred_at: minute,
            actor_id: None,
            action: "auth.token_refused".into(),
            patient_id: None,
            subject: None,
            outcome: "denied".into(),
            address: Some(address),
            detail: Some(format!("{n} request(s) with no valid token in this minute")),
        })
        .collect()
}

/// The writer's connection: on SQLite one of its own (a pooled one, just used by readers, would read
/// the audit table's pages again at every commit), on PostgreSQL a pooled one.
struct Writer {
    conn: KeptConnection,
}

impl Writer {
    /// The jobs whose numbers all stand, and those with none; the others are told now (stale, or not
    /// written when the numbers could not be read).
    fn keep_current(&mut self, jobs: Vec<Job>) -> Vec<Job> {
        let mut numbers: Vec<Generation> = Vec::new();
        for (n, _) in jobs.iter().flat_map(|j| &j.current) {
            if !numbers.contains(n) {
                numbers.push(*n);
            }
        }
        if numbers.is_empty() {
            return jobs;
        }
        let now = self.conn.with(|conn| generations::current(conn, &numbers));
        if let Err(e) = &now {
            tracing::error!(error = %e, "the kept reads' numbers not read");
        }
        let mut kept = Vec::with_capacity(jobs.len());
        for job in jobs {
            let told = match &now {
                _ if job.current.is_empty() => None,
                Ok(now) if job.current.iter().all(|expected| now.contains(expected)) => None,
                Ok(_) => Some(Written::Stale),
                Err(_) => Some(Written::No),
            };
            match (told, job.done) {
                (None, done) => kept.push(Job { done, ..job }),
                (Some(written), Some(done)) => {
                    let _ = done.send(written);
                }
                (Some(_), None) => {}
            }
        }
        kept
    }

    fn flush(&mut self, rows: &[NewAuditEvent]) -> bool {
        let result = self.conn.with(|conn| {
            // One statement, atomic by itself; on SQLite it still queues behind the process's writers.
            let insert = |conn: &mut DbConn, rows: &[NewAuditEvent]| {
                conn.single_write(|conn| clinic_db::audit::insert_many(conn, rows))
            };
            let mut written = insert(conn, rows);
            if written
                .as_ref()
                .is_err_and(clinic_db::DbError::is_foreign_key_violation)
            {
                // A row names an unknown account or patient: written without the reference (see there).
                let mut rows = rows.to_vec();
                clinic_db::audit::detach_unknown_references(conn, &mut rows)?;
                written = insert(conn, &rows);
            }
            written
        });
        match result {
            Ok(()) => true,
            Err(e) => {
                tracing::error!(error = %e, rows = rows.len(), "audit rows not written yet");
                false
            }
        }
    }
}

/// Keeps rows the database refused for the next batch, within a bound.
fn keep_for_later(backlog: &mut Vec<NewAuditEvent>, rows: Vec<NewAuditEvent>) {
    if backlog.len() + rows.len() > BACKLOG_LIMIT {
        tracing::error!(dropped = rows.len(), "audit backlog full; rows dropped");
        return;
    }
    backlog.extend(rows);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::writer::tests::actions;
    use clinic_db::patient_page::CLINIC;
    use clinic_db::testing::TestDb;
    use clinic_db::users::{self, NewUser};
    use clinic_domain::UserId;

    fn event(action: &str, actor: UserId) -> NewAuditEvent {
        NewAuditEvent {
            actor_id: Some(actor.0),
            ..crate::writer::tests::event(action)
        }
    }

    #[test]
    fn rows_of_a_kept_read_are_written_only_while_its_numbers_stand() {
        for db in TestDb::all() {
            let conn = &mut db.conn();
            let new = |email| NewUser {
                email,
                display_name: "Someone",
                role: "provider",
                password_hash: "x",
                patient_id: None,
                created_at: chrono::Utc::now().naive_utc(),
            };
            let (ana, bruno) = (
                users::insert(conn, &new("ana@example.com")).unwrap(),
                users::insert(conn, &new("bruno@example.com")).unwrap(),
            );
            let pool = db.pool(2);
            let sink = AuditSink::start(pool.clone(), Arc::new(clinic_domain::SystemClock));
            let commit_all = |action: &str, numbers: &[(Generation, i64)]| {
                let events = if action.is_empty() {
                    Vec::new()
                } else {
                    vec![event(action, ana.id)]
                };
                actix_web::rt::System::new().block_on(sink.commit_if_current(events, numbers.to_vec()))
            };
            let commit = |action: &str, account: UserId, generation: i64| {
                commit_all(action, &[(Generation::Account(account), generation)])
            };
            let g = ana.read_generation;
            assert_eq!(commit("current", ana.id, g), Written::Yes, "{}", db.backend_name());
            assert_eq!(commit("", ana.id, g), Written::Yes, "only the check");
            assert_eq!(commit("older", ana.id, g - 1), Written::Stale);
            assert_eq!(commit("unknown account", UserId(999_999), 0), Written::Stale);
            users::set_disabled(conn, ana.id, None).unwrap();
            assert_eq!(commit("moved on", ana.id, g), Written::Stale);
            let now = clinic_db::login_sessions::read_generations(conn, &[ana.id]).unwrap();
            assert_eq!(now.len(), 1);
            assert!(now[0].1 > g);
            let g = now[0].1;
            assert_eq!(commit("after the change", ana.id, g), Written::Yes);

            // A page's numbers beside the account's: every one must stand. A chart never changed is 0.
            let (account, clinic) = ((Generation::Account(ana.id), g), Generation::Chart(CLINIC));
            let unchanged = (Generation::Chart(999_999), 0);
            assert_eq!(commit_all("page", &[account, (clinic, 0), unchanged]), Written::Yes);
            clinic_db::consent::publish(conn, "Consent", "Wording.", None, chrono::Utc::now().naive_utc()).unwrap();
            assert_eq!(
                commit_all("clinic moved on", &[account, (clinic, 0), unchanged]),
                Written::Stale
            );
            assert_eq!(
                commit_all(
                    "chart moved on",
                    &[account, (clinic, 1), (Generation::Chart(999_999), 1)]
                ),
                Written::Stale
            );
            assert_eq!(
                commit_all("page again", &[(clinic, 1), unchanged, account]),
                Written::Yes
            );

            // In one group: each job is judged by its own account's number; the stale one is told at
            // once and its rows are not written, the others go on to the group's insert.
            let mut writer = Writer {
                conn: KeptConnection::new(pool, AUDIT_CACHE_KIB),
            };
            let job = |action: &str, current: Vec<(Generation, i64)>| {
                let (done, told) = oneshot::channel();
                (
                    Job {
                        events: vec![event(action, bruno.id)],
                        current,
                        done: Some(done),
                    },
                    told,
                )
            };
            let (fresh, mut fresh_told) = job("fresh", vec![(Generation::Account(bruno.id), bruno.read_generation)]);
            let (stale, mut stale_told) = job("stale", vec![(Generation::Account(ana.id), g - 1)]);
            let (plain, _) = job("unconditional", Vec::new());
            let kept = writer.keep_current(vec![fresh, stale, plain]);
            let kept: Vec<&str> = kept.iter().map(|j| j.events[0].action.as_str()).collect();
            assert_eq!(kept, ["fresh", "unconditional"], "{}", db.backend_name());
            assert_eq!(stale_told.try_recv(), Ok(Written::Stale));
            assert!(fresh_told.try_recv().is_err(), "told after its group's commit");
            sink.shutdown();
            assert_eq!(
                actions(&db),
                ["after the change", "current", "page", "page again"],
                "{}: nothing stale is written",
                db.backend_name()
            );
        }
    }
}
