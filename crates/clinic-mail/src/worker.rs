//! The delivery worker: one thread per process. It claims due messages (a lease), renders and sends
//! each, and records the outcome; failures are tried again with a doubling wait, then `failed`.
//! Without a mail server, due messages are `held` ("no mail server configured") until one is set.

use crate::config::MailSettings;
use crate::render::{self, Context, RenderError};
use chrono::{Duration as Span, NaiveDateTime};
use clinic_app::clinic::ClinicCache;
use clinic_auth::{DerivedKey, generate_secret};
use clinic_db::outbox::{self, Message};
use clinic_db::{DbConn, Pool};
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
/// How often an idle worker looks for due messages.
const IDLE_POLL: Duration = Duration::from_millis(500);
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
enum Outcome {
    Sent,
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
        if self.transport.is_some() {
            match self
                .config
                .pool
                .get()
                .map_err(clinic_db::DbError::from)
                .and_then(|mut c| outbox::release_held(&mut c, self.now()))
            {
                Ok(0) => {}
                Ok(n) => tracing::info!(messages = n, "held messages queued again: a mail server is configured"),
                Err(e) => tracing::error!(error = %e, "could not release held messages"),
            }
        }
        while !self.stopping() {
            match self.round() {
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
    fn round(&self) -> Result<usize, clinic_db::DbError> {
        let mut conn = self.config.pool.get()?;
        if let Err(e) = self.config.clinic.refresh_if_stale(&mut conn) {
            tracing::warn!(error = %e.chain(), "clinic settings not refreshed");
        }
        let lease = Span::from_std(self.config.settings.lease).unwrap_or(Span::minutes(5));
        let claimed = outbox::claim_due(&mut conn, &self.id, self.now(), lease, BATCH)?;
        let n = claimed.len();
        let clinic = self.config.clinic.get();
        let ctx = Context {
            clinic: &clinic,
            public_url: &self.config.public_url,
            from: &self.from,
            unsubscribe: &self.config.unsubscribe,
        };
        for m in claimed {
            if self.stopping() {
                // Left to run out of its lease; another worker (or this one after a restart) sends it.
                break;
            }
            let outcome = self.deliver(&mut conn, &ctx, &m);
            self.record(&mut conn, &m, outcome)?;
        }
        Ok(n)
    }

    fn deliver(&self, conn: &mut DbConn, ctx: &Context<'_>, m: &Message) -> Outcome {
        let Some(transport) = &self.transport else {
            return Outcome::Held;
        };
        let email = match render::message(conn, ctx, m) {
            Ok(e) => e,
            Err(e @ RenderError::Database(_)) => return Outcome::Retry(e.to_string()),
            Err(e) => return Outcome::Failed(e.to_string()),
        };
        match transport.send(&email) {
            Ok(_) => Outcome::Sent,
            Err(e) => Outcome::Retry(format!("the mail server: {e}")),
        }
    }

    fn record(&self, conn: &mut DbConn, m: &Message, outcome: Outcome) -> Result<(), clinic_db::DbError> {
        let now = self.now();
        match outcome {
            Outcome::Sent => {
                outbox::mark_sent(conn, m.id, &self.id, now)?;
                tracing::info!(message = m.id, kind = %m.kind, "e-mail sent");
            }
            Outcome::Held => {
                outbox::mark_held(conn, m.id, &self.id, NO_MAIL_SERVER)?;
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
