use crate::{DatabaseUrl, DbError};
use diesel::connection::SimpleConnection;
use diesel::connection::{AnsiTransactionManager, TransactionManager};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::result::Error as DieselError;
use diesel::sqlite::SqliteConnection;
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};
use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::ThreadId;
use std::time::{Duration, Instant};

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// How long a SQLite writer waits for another to finish before giving up.
const SQLITE_BUSY_TIMEOUT_MS: u32 = 10_000;
/// WAL pages after which a commit copies them back into the database file. Every read is audited, so
/// the log grows by a dozen pages a group commit; at SQLite's default (1,000) a checkpoint ran several
/// times a second and held up the commit that ran it. The hot pages are the same each time, so a
/// checkpoint ten times rarer does about a tenth of the work. (The log may reach about 40 MB.)
const SQLITE_CHECKPOINT_PAGES: u32 = 10_000;

/// Analyzes the tables whose statistics are missing or stale, all of them (not only those this
/// connection used).
const SQLITE_OPTIMIZE: &str = "PRAGMA optimize = 0x10002";

/// Rows of each index that [`DbConn::refresh_sqlite_statistics`] reads (SQLite's `analysis_limit`).
const SQLITE_ANALYSIS_ROWS: u32 = 1000;

/// Page cache of each pooled SQLite connection, in KiB (SQLite's default is 2,000): what requests read
/// most is kept above the database (sessions, charts, pages), and a page missed is a read from the
/// operating system's cache. Four connections at the default were up to 8 MB of the server's peak.
const SQLITE_POOLED_CACHE_KIB: u32 = 1024;

/// SQLite admits one writer at a time, and its busy handler makes the others sleep and retry (up to
/// 100 ms at a time): under a burst of writes some waited most of a second (bench/load.sh). Writers in
/// this process queue here instead (every write: see `write_conn!`), let in first come, first served,
/// so a thread that writes again at once (the mail worker with a backlog) cannot take the gate back
/// before the thread it woke can run. SQLite's lock and busy timeout remain for writers in other
/// processes.
struct WriteGate {
    queue: Mutex<Queue>,
    turn: Condvar,
}

/// Whether the gate is held, and the threads waiting for it in order of arrival.
struct Queue {
    busy: bool,
    waiting: VecDeque<ThreadId>,
}

static WRITE_GATE: WriteGate = WriteGate::new();

/// The right to write until dropped.
struct WritePass<'a>(&'a WriteGate);

impl WriteGate {
    const fn new() -> Self {
        Self {
            queue: Mutex::new(Queue {
                busy: false,
                waiting: VecDeque::new(),
            }),
            turn: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits for the gate behind those who came before, for at most the busy timeout.
    fn enter(&self) -> Result<WritePass<'_>, DbError> {
        self.enter_within(Duration::from_millis(u64::from(SQLITE_BUSY_TIMEOUT_MS)))
    }

    fn enter_within(&self, timeout: Duration) -> Result<WritePass<'_>, DbError> {
        // A thread waits in one place at a time: its id is its ticket.
        let me = std::thread::current().id();
        let mut queue = self.lock();
        queue.waiting.push_back(me);
        let deadline = Instant::now() + timeout;
        loop {
            if !queue.busy && queue.waiting.front() == Some(&me) {
                queue.waiting.pop_front();
                queue.busy = true;
                return Ok(WritePass(self));
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                queue.waiting.retain(|t| *t != me);
                drop(queue);
                // The one behind may be first now.
                self.turn.notify_all();
                return Err(DbError::Busy);
            }
            queue = self
                .turn
                .wait_timeout(queue, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    #[cfg(test)]
    fn waiting(&self) -> usize {
        self.lock().waiting.len()
    }
}

/// Whether `thread` waits at the process's write gate.
#[cfg(test)]
pub(crate) fn waits_at_the_write_gate(thread: ThreadId) -> bool {
    WRITE_GATE.lock().waiting.contains(&thread)
}

impl Drop for WritePass<'_> {
    fn drop(&mut self) {
        self.0.lock().busy = false;
        // Every waiter checks whether it is first; a condvar cannot wake one chosen thread.
        self.0.turn.notify_all();
    }
}

fn in_transaction(c: &mut SqliteConnection) -> bool {
    !matches!(
        AnsiTransactionManager::transaction_manager_status_mut(c).transaction_depth(),
        Ok(None)
    )
}

/// A connection to either database.
pub enum DbConn {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

impl DbConn {
    /// Opens a connection, keeping the driver's own error text.
    pub fn establish(url: &DatabaseUrl) -> Result<Self, DbError> {
        match url {
            DatabaseUrl::Sqlite(path) => {
                let mut c = SqliteConnection::establish(path).map_err(|e| DbError::Connect(format!("{path}: {e}")))?;
                // busy_timeout first: switching to WAL needs a moment's write lock of its own.
                c.batch_execute(&format!(
                    "PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
                     PRAGMA wal_autocheckpoint = {SQLITE_CHECKPOINT_PAGES}; \
                     PRAGMA cache_size = -{SQLITE_POOLED_CACHE_KIB};"
                ))
                .map_err(|e| DbError::Connect(format!("{path}: {e}")))?;
                c.set_instrumentation(crate::telemetry::QuerySpans::default());
                Ok(Self::Sqlite(c))
            }
            DatabaseUrl::Postgres(u) => {
                let mut c = PgConnection::establish(u).map_err(|e| DbError::Connect(first_line(&e.to_string())))?;
                c.set_instrumentation(crate::telemetry::QuerySpans::default());
                Ok(Self::Postgres(c))
            }
        }
    }

    /// Another connection to the same SQLite file (for a thread that keeps its own); `None` on
    /// PostgreSQL.
    pub fn sqlite_twin(&mut self) -> Result<Option<Self>, DbError> {
        let Self::Sqlite(c) = self else {
            return Ok(None);
        };
        #[derive(diesel::QueryableByName)]
        struct File {
            #[diesel(sql_type = diesel::sql_types::Text)]
            file: String,
        }
        let files: Vec<File> =
            diesel::sql_query("SELECT file FROM pragma_database_list WHERE name = 'main'").load(c)?;
        match files.into_iter().next() {
            Some(f) if !f.file.is_empty() => Self::establish(&DatabaseUrl::Sqlite(f.file)).map(Some),
            _ => Ok(None),
        }
    }

    /// Caps this SQLite connection's page cache at `kib` KiB (SQLite's default is 2,000); nothing on
    /// PostgreSQL.
    pub fn limit_sqlite_cache(&mut self, kib: u32) -> Result<(), DbError> {
        if let Self::Sqlite(c) = self {
            c.batch_execute(&format!("PRAGMA cache_size = -{kib}"))?;
        }
        Ok(())
    }

    /// Keeps this SQLite connection's temporary files in memory: above all the journal of its
    /// savepoints, which otherwise spills to a file beyond 64 KiB; nothing on PostgreSQL.
    pub fn keep_sqlite_temp_in_memory(&mut self) -> Result<(), DbError> {
        if let Self::Sqlite(c) = self {
            c.batch_execute("PRAGMA temp_store = MEMORY")?;
        }
        Ok(())
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "SQLite",
            Self::Postgres(_) => "PostgreSQL",
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Self::Postgres(_))
    }

    /// Applies every pending migration; returns how many ran.
    pub fn run_migrations(&mut self) -> Result<usize, DbError> {
        let applied = match self {
            Self::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(|v| v.len()),
            Self::Postgres(c) => {
                // Several processes may start at once: one migrates, the others wait for it.
                c.batch_execute("SELECT pg_advisory_lock(7263540127)")
                    .map_err(|e| DbError::Migration(e.to_string()))?;
                let r = c.run_pending_migrations(POSTGRES_MIGRATIONS).map(|v| v.len());
                let _ = c.batch_execute("SELECT pg_advisory_unlock(7263540127)");
                r
            }
        };
        applied.map_err(|e| DbError::Migration(e.to_string()))
    }

    /// A transaction that takes the write lock at once on SQLite (`BEGIN IMMEDIATE`), so that
    /// concurrent writers queue on the busy timeout instead of failing at commit. On PostgreSQL it is
    /// an ordinary transaction; lock rows inside it with `FOR UPDATE`.
    pub fn write_transaction<T, E>(&mut self, f: impl FnOnce(&mut DbConn) -> Result<T, E>) -> Result<T, E>
    where
        E: From<DbError>,
    {
        self.in_transaction(true, f)
    }

    /// One writing statement (`f` runs one; it is atomic by itself): on SQLite queued behind the
    /// process's other writers as [`Self::write_transaction`], but with no `BEGIN` around it, so SQLite
    /// keeps no statement journal for it (a large one spills to a temporary file). On PostgreSQL `f`
    /// as it is.
    pub fn single_write<T, E>(&mut self, f: impl FnOnce(&mut DbConn) -> Result<T, E>) -> Result<T, E>
    where
        E: From<DbError>,
    {
        let _pass = self.outermost_sqlite_write()?;
        f(self)
    }

    /// On SQLite outside any transaction, a pass through the process's write gate, held until it is
    /// dropped; otherwise none (the outer transaction holds it, or PostgreSQL needs none).
    fn outermost_sqlite_write(&mut self) -> Result<Option<WritePass<'static>>, DbError> {
        let outermost = match self {
            Self::Sqlite(c) => !in_transaction(c),
            Self::Postgres(_) => false,
        };
        if outermost {
            WRITE_GATE.enter().map(Some)
        } else {
            Ok(None)
        }
    }

    /// An ordinary transaction (reads that must agree with each other, writes without contention).
    pub fn transaction<T, E>(&mut self, f: impl FnOnce(&mut DbConn) -> Result<T, E>) -> Result<T, E>
    where
        E: From<DbError>,
    {
        self.in_transaction(false, f)
    }

    fn in_transaction<T, E>(&mut self, immediate: bool, f: impl FnOnce(&mut DbConn) -> Result<T, E>) -> Result<T, E>
    where
        E: From<DbError>,
    {
        let fail = |e: DieselError| E::from(DbError::from(e));
        // Held until this function returns, after the commit or rollback.
        let _pass = if immediate {
            self.outermost_sqlite_write()?
        } else {
            None
        };
        let begun = match self {
            Self::Sqlite(c) if immediate => AnsiTransactionManager::begin_transaction_sql(c, "BEGIN IMMEDIATE"),
            _ => crate::with_conn!(self, c => AnsiTransactionManager::begin_transaction(c)),
        };
        match begun {
            // Nested inside another transaction: a savepoint (the outer one holds the locks).
            Err(DieselError::AlreadyInTransaction) => {
                crate::with_conn!(self, c => AnsiTransactionManager::begin_transaction(c)).map_err(fail)?
            }
            other => other.map_err(fail)?,
        }
        match f(self) {
            Ok(value) => {
                crate::with_conn!(self, c => AnsiTransactionManager::commit_transaction(c)).map_err(fail)?;
                Ok(value)
            }
            Err(user_error) => match crate::with_conn!(self, c => AnsiTransactionManager::rollback_transaction(c)) {
                Ok(()) | Err(DieselError::BrokenTransactionManager) => Err(user_error),
                Err(rollback_error) => Err(fail(rollback_error)),
            },
        }
    }

    /// Refreshes the query planner's statistics: SQLite analyzes the tables whose statistics are
    /// missing or stale (`PRAGMA optimize`); PostgreSQL vacuums and analyzes everything (after a bulk
    /// load, so that index-only scans apply).
    pub fn optimize(&mut self) -> Result<(), DbError> {
        match self {
            Self::Sqlite(c) => c.batch_execute(SQLITE_OPTIMIZE)?,
            Self::Postgres(c) => c.batch_execute("VACUUM ANALYZE")?,
        }
        Ok(())
    }

    /// While serving, on SQLite: [`Self::optimize`] for the tables that grew or shrank many times over
    /// since their statistics were taken, each read from a sample (`analysis_limit`), so it takes
    /// milliseconds behind the process's write gate rather than a scan of every table. Nothing on
    /// PostgreSQL (its autovacuum keeps statistics).
    pub fn refresh_sqlite_statistics(&mut self) -> Result<(), DbError> {
        if self.is_postgres() {
            return Ok(());
        }
        self.single_write(|conn| {
            crate::with_conn!(conn, c => c.batch_execute(&format!(
                "PRAGMA analysis_limit = {SQLITE_ANALYSIS_ROWS}; {SQLITE_OPTIMIZE}"
            )))?;
            Ok(())
        })
    }

    /// SQLite's own consistency check of the file (`PRAGMA integrity_check`): `Ok` when it answers
    /// "ok", else the problems it lists. PostgreSQL checks its pages itself: nothing to run.
    pub fn integrity_check(&mut self) -> Result<Result<(), String>, DbError> {
        #[derive(diesel::QueryableByName)]
        struct Line {
            #[diesel(sql_type = diesel::sql_types::Text)]
            integrity_check: String,
        }
        match self {
            Self::Sqlite(c) => {
                let lines: Vec<Line> = diesel::sql_query("PRAGMA integrity_check").load(c)?;
                let text: Vec<String> = lines.into_iter().map(|l| l.integrity_check).collect();
                Ok(if text == ["ok"] { Ok(()) } else { Err(text.join("; ")) })
            }
            Self::Postgres(_) => Ok(Ok(())),
        }
    }

    /// A round trip to the database.
    pub fn ping(&mut self) -> Result<(), DbError> {
        crate::with_conn!(self, c => c.batch_execute("SELECT 1"))?;
        Ok(())
    }
}

fn first_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("unknown error")
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_write_gate_lets_writers_in_in_order_of_arrival() {
        let gate = WriteGate::new();
        let order = Mutex::new(Vec::new());
        std::thread::scope(|s| {
            let first = gate.enter().unwrap();
            s.spawn(|| {
                let _pass = gate.enter().unwrap();
                order.lock().unwrap().push("waiting");
            });
            while gate.waiting() == 0 {
                std::thread::yield_now();
            }
            // Back at once, before the woken waiter can run: it still goes first.
            drop(first);
            let _again = gate.enter().unwrap();
            order.lock().unwrap().push("back at once");
        });
        assert_eq!(order.into_inner().unwrap(), ["waiting", "back at once"]);
    }

    #[test]
    fn a_writer_that_gives_up_leaves_its_place() {
        let gate = WriteGate::new();
        std::thread::scope(|s| {
            let held = gate.enter().unwrap();
            assert!(matches!(
                gate.enter_within(Duration::from_millis(20)),
                Err(DbError::Busy)
            ));
            assert_eq!(gate.waiting(), 0);
            let behind = s.spawn(|| gate.enter_within(Duration::from_secs(5)).map(|_| ()));
            while gate.waiting() == 0 {
                std::thread::yield_now();
            }
            drop(held);
            assert!(behind.join().unwrap().is_ok());
        });
        assert!(gate.enter_within(Duration::ZERO).is_ok(), "free again");
    }
}
