//! Password hashing on a few threads of its own.
//!
//! argon2id needs 19 MiB per hash. Run on the general blocking pool (dozens of threads), each thread's
//! allocator arena kept its own 19 MiB and the server grew past 1.5 GB under a burst of sign-ins; on one
//! thread per core the memory is reused, and the same threads bound how many hashes run at once, so
//! sign-ins cannot starve other requests of CPU. The queue in front of them is bounded: when it is
//! full the answer is [`Error::Busy`] (503 with `Retry-After`) at once, never a wait that grows.
//! The threads run at a lower priority (nice 10): while other requests need the cores, a burst of
//! sign-ins or photos waits for them rather than the other way round.

use clinic_app::Error;
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

type Job = Box<dyn FnOnce() + Send>;

/// A handle to the hashing threads; cheap to clone. The threads end when the last handle is dropped.
#[derive(Clone)]
pub struct Hasher {
    jobs: SyncSender<Job>,
}

impl Hasher {
    /// Starts `threads` hashing threads (at least one) behind a queue of `waiting` jobs.
    pub fn start(threads: usize, waiting: usize) -> std::io::Result<Self> {
        Self::start_named("hasher", threads, waiting)
    }

    /// [`Self::start`], the threads named `name-N` (the same bounded runner serves photo processing).
    pub fn start_named(name: &str, threads: usize, waiting: usize) -> std::io::Result<Self> {
        let (jobs, queue) = sync_channel::<Job>(waiting);
        let queue = Arc::new(Mutex::new(queue));
        for n in 0..threads.max(1) {
            let queue = Arc::clone(&queue);
            std::thread::Builder::new().name(format!("{name}-{n}")).spawn(move || {
                yield_to_requests();
                work(&queue)
            })?;
        }
        Ok(Self { jobs })
    }

    /// Runs `f` (argon2 work) on a hashing thread and waits for it without blocking the caller's thread.
    pub async fn run<T, F>(&self, f: F) -> Result<T, Error>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job: Job = Box::new(move || {
            // A panic drops `reply` (the caller gets an error) and leaves the thread serving.
            if let Ok(value) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
                // The caller may have gone (client disconnected); nothing to do then.
                let _ = reply.send(value);
            }
        });
        self.jobs.try_send(job).map_err(|e| match e {
            TrySendError::Full(_) => Error::Busy,
            TrySendError::Disconnected(_) => Error::bug("the hashing threads have stopped"),
        })?;
        answer.await.map_err(|_| Error::bug("a hashing job failed"))
    }
}

/// How much less this thread counts when it competes for a core with the request threads.
const NICE: i32 = 10;

#[cfg(target_os = "linux")]
fn yield_to_requests() {
    // On Linux a thread's priority is its own (`setpriority` on its thread id). 19 is the lowest.
    let me = Some(rustix::thread::gettid());
    let lowered = rustix::process::getpriority_process(me)
        .and_then(|now| rustix::process::setpriority_process(me, (now + NICE).min(19)));
    if let Err(e) = lowered {
        tracing::warn!(error = %e, "could not lower a worker thread's priority");
    }
}

#[cfg(not(target_os = "linux"))]
fn yield_to_requests() {}

fn work(queue: &Mutex<Receiver<Job>>) {
    loop {
        let job = match queue.lock() {
            Ok(q) => q.recv(),
            Err(_) => return,
        };
        match job {
            Ok(job) => job(),
            Err(_) => return, // every handle dropped
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[actix_web::test]
    async fn runs_jobs_on_its_own_threads_and_returns_their_results() {
        let hasher = Hasher::start(2, 4).unwrap();
        let mut names = Vec::new();
        for _ in 0..4 {
            names.push(
                hasher
                    .run(|| std::thread::current().name().unwrap_or_default().to_owned())
                    .await
                    .unwrap(),
            );
        }
        assert!(names.iter().all(|n| n.starts_with("hasher-")), "{names:?}");
    }

    /// Field 19 of `/proc/thread-self/stat`: the calling thread's nice value.
    #[cfg(target_os = "linux")]
    fn own_nice() -> i32 {
        let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
        // The command name (field 2) may hold spaces; the fields after it are plain.
        let after_name = &stat[stat.rfind(')').unwrap() + 2..];
        after_name.split(' ').nth(16).unwrap().parse().unwrap()
    }

    #[cfg(target_os = "linux")]
    #[actix_web::test]
    async fn the_threads_run_at_a_lower_priority_than_the_requests() {
        let hasher = Hasher::start(1, 4).unwrap();
        let request_thread = own_nice();
        assert_eq!(hasher.run(own_nice).await.unwrap(), (request_thread + NICE).min(19));
    }

    #[actix_web::test]
    async fn a_panicking_job_is_an_error_and_the_threads_carry_on() {
        let hasher = Hasher::start(1, 4).unwrap();
        let failed = hasher.run(|| -> u8 { panic!("boom") }).await;
        assert!(failed.is_err());
        assert_eq!(hasher.run(|| 7u8).await.unwrap(), 7);
    }

    #[actix_web::test]
    async fn a_full_queue_is_busy_at_once() {
        use actix_web::rt::{spawn, time::sleep};
        use std::time::Duration;
        let hasher = Hasher::start(1, 1).unwrap();
        let (release, held) = std::sync::mpsc::channel::<()>();
        let (started, begun) = std::sync::mpsc::channel::<()>();
        let h = hasher.clone();
        let first = spawn(async move {
            h.run(move || {
                let _ = started.send(());
                held.recv().is_ok()
            })
            .await
        });
        while begun.try_recv().is_err() {
            sleep(Duration::from_millis(1)).await;
        }
        // The thread is busy with the first job; the second waits in the queue of one…
        let h = hasher.clone();
        let second = spawn(async move { h.run(|| 2u8).await });
        sleep(Duration::from_millis(20)).await;
        // …so the third is turned away at once.
        assert!(matches!(hasher.run(|| 3u8).await, Err(Error::Busy)));
        release.send(()).unwrap();
        assert!(first.await.unwrap().unwrap());
        assert_eq!(second.await.unwrap().unwrap(), 2);
    }
}
