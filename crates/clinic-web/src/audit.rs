//! The server's audit trail for reads and refusals ([`AuditSink`]): it group-commits them at least
//! every 100 ms and when the server stops, so a read costs no fsync of its own. Writes put their audit
//! row in the same transaction as the write (`clinic_db::audit::insert`, in the use cases).

use clinic_app::Trail;
use clinic_db::Pool;
use clinic_db::audit::NewAuditEvent;
use std::sync::mpsc::{self, Sender, TryRecvError};
use std::sync::{Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::Duration;

const FLUSH_EVERY: Duration = Duration::from_millis(100);

/// A background writer of audit rows that need not share a transaction.
pub struct AuditSink {
    tx: RwLock<Option<Sender<NewAuditEvent>>>,
    worker: Mutex<Option<JoinHandle<()>>>,
}

impl AuditSink {
    pub fn start(pool: Pool) -> std::sync::Arc<Self> {
        let (tx, rx) = mpsc::channel::<NewAuditEvent>();
        let worker = std::thread::Builder::new()
            .name("audit-writer".into())
            .spawn(move || {
                let mut buffer: Vec<NewAuditEvent> = Vec::new();
                // Sleep on the first event of a batch only; the rest of the window's events queue
                // without waking this thread (a wake-up per event cost ~6% of a busy server's CPU).
                while let Ok(first) = rx.recv() {
                    buffer.push(first);
                    std::thread::sleep(FLUSH_EVERY);
                    let stop = loop {
                        match rx.try_recv() {
                            Ok(e) => buffer.push(e),
                            Err(TryRecvError::Empty) => break false,
                            Err(TryRecvError::Disconnected) => break true,
                        }
                    };
                    flush(&pool, &mut buffer);
                    if stop {
                        break;
                    }
                }
                if !buffer.is_empty() {
                    flush(&pool, &mut buffer);
                }
            })
            .ok();
        std::sync::Arc::new(Self {
            tx: RwLock::new(Some(tx)),
            worker: Mutex::new(worker),
        })
    }

    /// Writes what is buffered and stops the writer (at shutdown).
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
        if let Ok(guard) = self.tx.read()
            && let Some(tx) = guard.as_ref()
        {
            let _ = tx.send(event);
        }
    }
}

fn flush(pool: &Pool, buffer: &mut Vec<NewAuditEvent>) {
    let result = pool.get().map_err(clinic_db::DbError::from).and_then(|mut conn| {
        let mut written = conn.write_transaction(|conn| clinic_db::audit::insert_many(conn, buffer));
        if written
            .as_ref()
            .is_err_and(clinic_db::DbError::is_foreign_key_violation)
        {
            // A row names an unknown account or patient: written without the reference (see there).
            clinic_db::audit::detach_unknown_references(&mut conn, buffer)?;
            written = conn.write_transaction(|conn| clinic_db::audit::insert_many(conn, buffer));
        }
        written
    });
    match result {
        Ok(()) => buffer.clear(),
        Err(e) => {
            // Keep the rows for the next flush rather than lose them; bound the backlog.
            tracing::error!(error = %e, pending = buffer.len(), "audit rows not written yet");
            if buffer.len() > 100_000 {
                tracing::error!(dropped = buffer.len(), "audit backlog dropped");
                buffer.clear();
            }
        }
    }
}
