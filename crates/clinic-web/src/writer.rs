//! Group commit for writes on SQLite. SQLite admits one writer at a time and makes every commit an
//! fsync (`synchronous=FULL`); one write per transaction put one fsync behind every request. Here the
//! write use cases of the moment run one after another on one connection inside one transaction, and
//! are answered only after its single commit: what each would have committed on its own is committed
//! together (their own transactions become savepoints, so each still rolls back its own failures), and
//! nothing is answered before it is durable. If the commit fails, every request of the group is told
//! so (503): none of them was acknowledged.
//!
//! The connection is the writer's own, so its page cache stays warm between groups. PostgreSQL needs
//! none of this (its commits already share WAL flushes across connections): `run::write` goes to the
//! pool there.

use clinic_app::Error;
use clinic_db::{DbConn, DbError, Pool};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};

/// Writes run in one transaction at most; more wait for the next.
const GROUP: usize = 64;
/// Page cache of the writer's own connection (SQLite's default is 2,000 KiB): half of it kept the
/// recording benchmark's rate within 5% and the process's peak memory 1.5 MB lower.
const WRITER_CACHE_KIB: u32 = 1024;

/// Runs a write on the group's connection; returns what to do once the group's fate is known
/// (`true`: committed).
pub type Job = Box<dyn FnOnce(&mut DbConn) -> Box<dyn FnOnce(bool) + Send> + Send>;

pub struct GroupWriter {
    jobs: Sender<Job>,
}

impl GroupWriter {
    /// Starts the writer on a connection of its own to the pool's SQLite file; `None` on PostgreSQL
    /// (or an in-memory SQLite database, which another connection would not see).
    pub fn start(pool: &Pool) -> std::io::Result<Option<Arc<Self>>> {
        let Ok(Some(conn)) = own_connection(pool) else {
            return Ok(None);
        };
        let (jobs, queue) = mpsc::channel::<Job>();
        let pool = pool.clone();
        std::thread::Builder::new()
            .name("group-writer".into())
            .spawn(move || serve(&queue, &pool, Some(conn)))?;
        Ok(Some(Arc::new(Self { jobs })))
    }

    /// Queues `job`; `false` when the writer has stopped.
    pub fn send(&self, job: Job) -> bool {
        self.jobs.send(job).is_ok()
    }
}

/// A new connection to the pool's SQLite file, the journal of its savepoints in memory (each write of
/// a group is a savepoint, and a recorded session's journal outgrows the 64 KiB SQLite keeps in memory
/// by default, so it went to a temporary file: most of the writer's `pwrite`s); `None` on PostgreSQL.
fn own_connection(pool: &Pool) -> Result<Option<DbConn>, DbError> {
    let Some(mut own) = pool.get()?.sqlite_twin()? else {
        return Ok(None);
    };
    own.keep_sqlite_temp_in_memory()?;
    own.limit_sqlite_cache(WRITER_CACHE_KIB)?;
    Ok(Some(own))
}

fn serve(queue: &Receiver<Job>, pool: &Pool, mut conn: Option<DbConn>) {
    while let Ok(first) = queue.recv() {
        let mut group = vec![first];
        while group.len() < GROUP {
            match queue.try_recv() {
                Ok(job) => group.push(job),
                Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
            }
        }
        if conn.is_none() {
            conn = own_connection(pool).ok().flatten();
        }
        let Some(c) = conn.as_mut() else {
            tracing::error!(writes = group.len(), "no database connection for the group writer");
            // Each job is dropped unrun: its request is told the write failed.
            continue;
        };
        let mut finish = Vec::with_capacity(group.len());
        let mut sound = true;
        let committed = c
            .write_transaction(|c| {
                for job in group {
                    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(c))) {
                        Ok(done) => finish.push(done),
                        Err(_) => {
                            // A bug: the transaction's state is unknown, so none of the group is kept.
                            sound = false;
                            return Err(DbError::Connect("a write failed unexpectedly".into()));
                        }
                    }
                }
                Ok::<_, DbError>(())
            })
            .inspect_err(|e| tracing::error!(error = %e, "a group of writes was not committed"))
            .is_ok();
        if !sound || !committed {
            // Opened afresh for the next group (closing rolls back whatever is left).
            conn = None;
        }
        for done in finish {
            done(committed);
        }
    }
}

/// What a request is told when its group was not committed.
pub fn not_committed() -> Error {
    Error::Unavailable(DbError::Connect("the write could not be committed".into()))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use clinic_db::audit::{self, NewAuditEvent};
    use clinic_db::testing::TestDb;
    use std::sync::mpsc::channel;
    use std::time::Duration;

    /// A successful audit row of `action` by nobody, stamped now.
    pub(crate) fn event(action: &str) -> NewAuditEvent {
        NewAuditEvent {
            occurred_at: chrono::Utc::now().naive_utc(),
            actor_id: None,
            action: action.into(),
            patient_id: None,
            subject: None,
            outcome: "success".into(),
            address: None,
            detail: None,
        }
    }

    /// A job writing `action` in a transaction of its own, which it fails when `fail`; reports
    /// (its own result, whether its group committed).
    fn job(action: &'static str, fail: bool, told: Sender<(&'static str, bool, bool)>) -> Job {
        Box::new(move |conn: &mut DbConn| {
            let own = conn.write_transaction(|conn| {
                audit::insert(conn, &event(action))?;
                if fail {
                    return Err(DbError::Connect("refused".into()));
                }
                Ok(())
            });
            Box::new(move |committed| {
                let _ = told.send((action, own.is_ok(), committed));
            })
        })
    }

    /// The actions of the audit log's rows, sorted.
    pub(crate) fn actions(db: &TestDb) -> Vec<String> {
        let mut conn = db.conn();
        let mut found: Vec<String> = audit::list(&mut conn, None, 100)
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect();
        found.sort();
        found
    }

    #[test]
    fn each_write_keeps_or_rolls_back_its_own_work_and_all_are_told_after_the_commit() {
        let db = TestDb::sqlite();
        let writer = GroupWriter::start(&db.pool(2))
            .unwrap()
            .expect("SQLite has a group writer");
        let (told, answers) = channel();
        for (action, fail) in [("a", false), ("b", true), ("c", false)] {
            assert!(writer.send(job(action, fail, told.clone())));
        }
        let mut got: Vec<_> = (0..3)
            .map(|_| answers.recv_timeout(Duration::from_secs(10)).unwrap())
            .collect();
        got.sort();
        assert_eq!(got, [("a", true, true), ("b", false, true), ("c", true, true)]);
        assert_eq!(actions(&db), ["a", "c"]);
    }

    #[test]
    fn writes_whose_journal_outgrows_64_kib_still_keep_or_roll_back_their_own_work() {
        let db = TestDb::sqlite();
        let pool = db.pool(2);
        let writer = GroupWriter::start(&pool).unwrap().expect("SQLite has a group writer");
        // Each write changes far more than 64 KiB of pages that exist before it (the rows of the writes
        // before it in the group), so its savepoint's journal is large; all three form one group.
        let (started, running) = channel();
        let (release, hold) = channel::<()>();
        let (told, answers) = channel();
        assert!(
            writer.send(Box::new(move |_conn: &mut DbConn| -> Box<dyn FnOnce(bool) + Send> {
                let _ = started.send(());
                let _ = hold.recv_timeout(Duration::from_secs(10));
                Box::new(|_| {})
            }))
        );
        running.recv_timeout(Duration::from_secs(10)).unwrap();
        let detail = "x".repeat(1024);
        for (action, fail) in [("kept", false), ("undone", true), ("kept too", false)] {
            let (told, detail) = (told.clone(), detail.clone());
            assert!(writer.send(Box::new(move |conn: &mut DbConn| {
                let own = conn.write_transaction(|conn| {
                    let rows: Vec<NewAuditEvent> = (0..300)
                        .map(|_| NewAuditEvent {
                            detail: Some(detail.clone()),
                            ..event(action)
                        })
                        .collect();
                    audit::insert_many(conn, &rows)?;
                    if fail {
                        return Err(DbError::Connect("refused".into()));
                    }
                    Ok(())
                });
                Box::new(move |committed| {
                    let _ = told.send((action, own.is_ok(), committed));
                })
            })));
        }
        release.send(()).unwrap();
        let mut got: Vec<_> = (0..3)
            .map(|_| answers.recv_timeout(Duration::from_secs(10)).unwrap())
            .collect();
        got.sort();
        assert_eq!(
            got,
            [("kept", true, true), ("kept too", true, true), ("undone", false, true)]
        );
        let mut conn = db.conn();
        let mut count = |action: &str| {
            audit::list(&mut conn, None, 1000)
                .unwrap()
                .iter()
                .filter(|e| e.action == action)
                .count()
        };
        assert_eq!(count("kept"), 300);
        assert_eq!(count("kept too"), 300);
        assert_eq!(count("undone"), 0);
    }

    #[test]
    fn a_panicking_write_keeps_nothing_of_its_group_and_the_writer_carries_on() {
        let db = TestDb::sqlite();
        let writer = GroupWriter::start(&db.pool(2))
            .unwrap()
            .expect("SQLite has a group writer");
        // A first write holds the writer until the next two are queued: they then form one group.
        let (started, running) = channel();
        let (release, hold) = channel::<()>();
        let (told, answers) = channel();
        let inner = job("first", false, told.clone());
        assert!(writer.send(Box::new(move |conn: &mut DbConn| {
            let _ = started.send(());
            let _ = hold.recv_timeout(Duration::from_secs(10));
            inner(conn)
        })));
        running.recv_timeout(Duration::from_secs(10)).unwrap();
        assert!(writer.send(job("x", false, told.clone())));
        assert!(
            writer.send(Box::new(|_conn: &mut DbConn| -> Box<dyn FnOnce(bool) + Send> {
                panic!("a bug")
            }))
        );
        release.send(()).unwrap();
        let mut got: Vec<_> = (0..2)
            .map(|_| answers.recv_timeout(Duration::from_secs(10)).unwrap())
            .collect();
        got.sort();
        assert_eq!(got, [("first", true, true), ("x", true, false)]);
        assert_eq!(actions(&db), ["first"]);

        assert!(writer.send(job("after", false, told)));
        assert_eq!(
            answers.recv_timeout(Duration::from_secs(10)).unwrap(),
            ("after", true, true)
        );
        assert_eq!(actions(&db), ["after", "first"]);
    }
}
