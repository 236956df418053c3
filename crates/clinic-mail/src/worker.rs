//! The delivery worker: one thread per process. It claims due messages (a lease), renders and sends
//! each, and records the outcome; failures are tried again with a doubling wait, then `failed`.
//! Without a mail server, due messages are `held` ("no mail server configured") until one is set.

use crate::config::MailSettings;
use crate::render::{self, Context, RenderError};
use chrono::{Duration as Span, NaiveDateTime};
use clinic_app::clinic::ClinicCache;
use clinic_auth::{DerivedKey, generate_secret};
use clinic_db::outbox::{self, Message};
use clinic_db::{DbConn, KeptConnection, Pool};
use clinic_domain::Clock;
use lettre::Transport;
use lettre::message::Mailbox;
use lettre::transport::smtp::SmtpTransport;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

/// Messages claimed at once.
const BATCH: i64 = 50;
/// Messages sent at once, each on its own (pooled) SMTP connection. One SMTP conversation spends most of
/// its time waiting (lettre writes a message's end in a segment of its own, which waits for the
/// server's delayed acknowledgement: about 40 ms a message on one connection, bench/mail.sh).
const SENDERS: usize = 8;
/// Page cache of the worker's own SQLite connection: a batch of due messages and what renders them.
const MAIL_CACHE_KIB: u32 = 512;
/// How often an idle worker looks for due messages.
const IDLE_POLL: Duration = Duration::from_millis(500);
/// How often the worker refreshes SQLite's statistics (start-up refreshed them): the planner's
/// choices follow the tables as a clinic grows, without a restart.
const STATISTICS_EVERY: Duration = Duration::from_secs(3600);
pub const NO_MAIL_SERVER: &str = "no mail server configured";

/// What the worker needs.
pub struct MailerConfig {
    pub pool: Pool,
    pub clock: Arc<dyn Clock>,
    pub clinic: Arc<ClinicCache>,
    pub settings: MailSettings,
    /// Where people reach the clinic, for links.
    pub public_url: String,
    pub unsubscribe: DerivedKey,
}

/// The running worker; [`Mailer::shutdown`] stops it after the message in hand.
pub struct Mailer {
    stop: Arc<(Mutex<bool>, Condvar)>,
    stopped: Arc<AtomicBool>,
    handle: Mutex<Option<JoinHandle<()>>>,
}

impl Mailer {
    pub fn start(config: MailerConfig) -> std::io::Result<Arc<Self>> {
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let stopped = Arc::new(AtomicBool::new(false));
        let worker = Worker::new(config, Arc::clone(&stop), Arc::clone(&stopped))?;
        let handle = std::thread::Builder::new()
            .name("mail-worker".into())
            .spawn(move || worker.run())?;
        Ok(Arc::new(Self {
            stop,
            stopped,
            handle: Mutex::new(Some(handle)),
        }))
    }

    pub fn shutdown(&self) {
        self.stopped.store(true, Ordering::SeqCst);
        let (lock, wake) = &*self.stop;
        if let Ok(mut s) = lock.lock() {
            *s = true;
        }
        wake.notify_all();
        if let Ok(mut h) = self.handle.lock()
            && let Some(h) = h.take()
        {
            let _ = h.join();
        }
    }
}

struct Worker {
    config: MailerConfig,
    transport: Option<SmtpTransport>,
    from: Mailbox,
    id: String,
    stop: Arc<(Mutex<bool>, Condvar)>,
    stopped: Arc<AtomicBool>,
}

/// What sending one message came to.
#[derive(Clone)]
enum Outcome {
    Sent,
    /// Not tried: the claim was running out (left for the next claim, so no two workers send it).
    NotTried,
    Held,
    Retry(String),
    Failed(String),
}

impl Worker {
    fn new(config: MailerConfig, stop: Arc<(Mutex<bool>, Condvar)>, stopped: Arc<AtomicBool>) -> std::io::Result<Self> {
        let transport = match &config.settings.smtp {
            Some(url) => Some(url.transport(config.settings.timeout).map_err(std::io::Error::other)?),
            None => None,
        };
        let from = config.settings.from.clone().unwrap_or_else(|| {
            Mailbox::new(
                None,
                lettre::Address::new("clinic", "localhost").unwrap_or_else(|_| unreachable!()),
            )
        });
        let unique = generate_secret().map_err(std::io::Error::other)?;
        let id = format!("{}-{}", std::process::id(), &unique[..12]);
        Ok(Self {
            config,
            transport,
            from,
            id,
            stop,
            stopped,
        })
    }

    fn now(&self) -> NaiveDateTime {
        self.config.clock.now().naive_utc()
    }

    fn stopping(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }

    fn pause(&self, d: Duration) {
        let (lock, wake) = &*self.stop;
        if let Ok(guard) = lock.lock()
            && !*guard
        {
            let _ = wake.wait_timeout(guard, d);
        }
    }

    fn run(self) {
        tracing::info!(worker = %self.id, mail_server = self.transport.is_some(), "mail worker started");
        let mut conn = KeptConnection::new(self.config.pool.clone(), MAIL_CACHE_KIB);
        if self.transport.is_some() {
            match conn.with(|c| outbox::release_held(c, self.now())) {
                Ok(0) => {}
                Ok(n) => tracing::info!(messages = n, "held messages queued again: a mail server is configured"),
                Err(e) => tracing::error!(error = %e, "could not release held messages"),
            }
        }
        let mut statistics_taken = std::time::Instant::now();
        while !self.stopping() {
            if statistics_taken.elapsed() >= STATISTICS_EVERY {
                statistics_taken = std::time::Instant::now();
                if let Err(e) = conn.with(DbConn::refresh_sqlite_statistics) {
                    tracing::warn!(error = %e, "SQLite's statistics not refreshed");
                }
            }
            match conn.with(|c| self.round(c)) {
                Ok(0) => self.pause(IDLE_POLL),
                Ok(_) => {}
                Err(e) => {
                    tracing::error!(error = %e, "mail worker could not reach the database");
                    self.pause(Duration::from_secs(2));
                }
            }
        }
        tracing::info!(worker = %self.id, "mail worker stopped");
    }

    /// Claims and sends one batch; returns how many were claimed.
    fn round(&self, conn: &mut DbConn) -> Result<usize, clinic_db::DbError> {
        if let Err(e) = self.config.clinic.refresh_if_stale(conn) {
            tracing::warn!(error = %e.chain(), "clinic settings not refreshed");
        }
        let lease = Span::from_std(self.config.settings.lease).unwrap_or(Span::minutes(5));
        // Nothing is sent after half the lease: a slow batch never runs into another worker's claim.
        let deadline = std::time::Instant::now() + self.config.settings.lease / 2;
        let claimed = outbox::claim_due(conn, &self.id, self.now(), lease, BATCH)?;
        let n = claimed.len();
        let clinic = self.config.clinic.get();
        let ctx = Context {
            clinic: &clinic,
            public_url: &self.config.public_url,
            from: &self.from,
            unsubscribe: &self.config.unsubscribe,
        };
        // Rendered one by one (they read the database), sent several at once, recorded at the end: sent
        // messages in one statement; a crash before that sends them again after their lease, with the
        // same Message-ID. Held ones (no mail server) too on PostgreSQL, where a statement is a round
        // trip; on SQLite one by one (in one statement, the server's peak memory under bench/load.sh
        // was 3.5 MB higher: docs/performance.md).
        let rendered: Vec<(Message, Result<lettre::Message, Outcome>)> = claimed
            .into_iter()
            .map(|m| {
                let email = self.render(conn, &ctx, &m);
                (m, email)
            })
            .collect();
        let outcomes = self.send_all(&rendered, deadline);
        let (mut sent, mut held) = (Vec::new(), Vec::new());
        for ((m, _), outcome) in rendered.iter().zip(outcomes) {
            match outcome {
                Outcome::Sent => sent.push(m.id),
                Outcome::Held if conn.is_postgres() => held.push(m.id),
                other => self.record(conn, m, other)?,
            }
        }
        if !sent.is_empty() {
            outbox::mark_sent(conn, &sent, &self.id, self.now())?;
            tracing::info!(messages = sent.len(), "e-mails sent");
        }
        if !held.is_empty() {
            outbox::mark_held(conn, &held, &self.id, NO_MAIL_SERVER)?;
        }
        Ok(n)
    }

    /// The e-mail of `m`, or why there is none to send.
    fn render(&self, conn: &mut DbConn, ctx: &Context<'_>, m: &Message) -> Result<lettre::Message, Outcome> {
        if self.transport.is_none() {
            return Err(Outcome::Held);
        }
        render::message(conn, ctx, m).map_err(|e| match e {
            RenderError::Database(_) => Outcome::Retry(e.to_string()),
            other => Outcome::Failed(other.to_string()),
        })
    }

    /// Sends the rendered messages, up to [`SENDERS`] at once; one outcome per message, in order.
    fn send_all(
        &self,
        rendered: &[(Message, Result<lettre::Message, Outcome>)],
        deadline: std::time::Instant,
    ) -> Vec<Outcome> {
        if rendered.iter().all(|(_, email)| email.is_err()) {
            // Nothing to send (no mail server, or none rendered): no sender threads.
            return rendered
                .iter()
                .map(|(_, email)| email.as_ref().err().cloned().unwrap_or(Outcome::Held))
                .collect();
        }
        let next = std::sync::atomic::AtomicUsize::new(0);
        let outcomes: Vec<Mutex<Option<Outcome>>> = rendered.iter().map(|_| Mutex::new(None)).collect();
        std::thread::scope(|scope| {
            for _ in 0..SENDERS.min(rendered.len()) {
                scope.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, Ordering::SeqCst);
                        let Some((_, email)) = rendered.get(i) else { break };
                        let outcome = match (email, &self.transport) {
                            (Err(why), _) => why.clone(),
                            (Ok(_), _) if std::time::Instant::now() >= deadline => Outcome::NotTried,
                            (Ok(_), None) => Outcome::Held,
                            (Ok(email), Some(transport)) => match transport.send(email) {
                                Ok(_) => Outcome::Sent,
                                Err(e) => Outcome::Retry(format!("the mail server: {e}")),
                            },
                        };
                        if let Some(slot) = outcomes.get(i)
                            && let Ok(mut slot) = slot.lock()
                        {
                            *slot = Some(outcome);
                        }
                    }
                });
            }
        });
        outcomes
            .into_iter()
            .map(|o| {
                o.into_inner()
                    .ok()
                    .flatten()
                    .unwrap_or_else(|| Outcome::Retry("the sender stopped".into()))
            })
            .collect()
    }

    fn record(&self, conn: &mut DbConn, m: &Message, outcome: Outcome) -> Result<(), clinic_db::DbError> {
        let now = self.now();
        match outcome {
            Outcome::Sent => {
                outbox::mark_sent(conn, &[m.id], &self.id, now)?;
            }
            Outcome::Held => {
                outbox::mark_held(conn, &[m.id], &self.id, NO_MAIL_SERVER)?;
            }
            Outcome::NotTried => {
                outbox::release_claim(conn, m.id, &self.id)?;
            }
            Outcome::Retry(error) => {
                let attempts = u32::try_from(m.attempts).unwrap_or(0).saturating_add(1);
                let retry_at = self
                    .config
                    .settings
                    .retry_after(attempts)
                    .and_then(|d| Span::from_std(d).ok())
                    .map(|d| now + d);
                tracing::warn!(message = m.id, kind = %m.kind, attempts, %error, final_attempt = retry_at.is_none(), "e-mail not sent");
                outbox::mark_attempt_failed(conn, m.id, &self.id, &error, retry_at, now)?;
            }
            Outcome::Failed(error) => {
                tracing::warn!(message = m.id, kind = %m.kind, %error, "e-mail cannot be sent");
                outbox::mark_attempt_failed(conn, m.id, &self.id, &error, None, now)?;
            }
        }
        Ok(())
    }
}
