//! The server's audit trail for reads and refusals ([`AuditSink`]). Writes put their audit row in the
//! same transaction as the write (`clinic_db::audit::insert`, in the use cases); a read's rows are
//! group-committed here, and the answer waits for its commit ([`AuditSink::commit`]), so a read that
//! was answered is in the log even if the process dies right after. Rows that need not hold up an
//! answer (a refused role, a failed sign-in) are queued without waiting. Requests with no usable token
//! are counted, not written one by one: one row per address and minute ([`AuditSink::token_refused`]).

use chrono::{NaiveDateTime, Timelike};
use clinic_app::Trail;
use clinic_db::audit::NewAuditEvent;
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
    /// Told whether the rows are committed; `None` when nobody waits.
    done: Option<oneshot::Sender<bool>>,
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
                    let mut waiters = Vec::new();
                    let mut batch = std::mem::take(&mut backlog);
                    let mut stop = stop;
                    let mut take = |job: Job| {
                        batch.extend(job.events);
                        waiters.extend(job.done);
                    };
                    if let Some(job) = first {
                        take(job);
                        loop {
                            match rx.try_recv() {
                                Ok(job) => take(job),
                                Err(TryRecvError::Empty) => break,
                                Err(TryRecvError::Disconnected) => {
                                    stop = true;
                                    break;
                                }
                            }
                        }
                    }
                    let closed_before = if stop {
                        None
                    } else {
                        Some(minute_of(clock.now().naive_utc()))
                    };
                    batch.extend(ended_refusals(&counted, closed_before));
                    let written = batch.is_empty() || writer.flush(&batch);
                    for w in waiters {
                        let _ = w.send(written);
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
        let (done, written) = oneshot::channel();
        if !self.send(Job {
            events,
            done: Some(done),
        }) {
            return false;
        }
        written.await.unwrap_or(false)
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
