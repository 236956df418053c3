//! Start-up: connect and migrate, make sure a signing key exists, offer the setup link while the
//! clinic has no manager, then serve.

use crate::Config;
use actix_web::dev::Server;
use anyhow::{Context, Result};
use clinic_app::clinic::ClinicCache;
use clinic_auth::{DerivedKey, OneTimeCode, UNSUBSCRIBE, generate_secret};
use clinic_db::{Pool, settings};
use clinic_domain::{Clock, SystemClock};
use clinic_mail::{Mailer, MailerConfig};
use clinic_web::{AppState, AuditSink, Settings};
use std::net::TcpListener;
use std::sync::Arc;

pub const SIGNING_KEY_SETTING: &str = "jwt_signing_key";

pub struct Application {
    port: u16,
    server: Server,
    /// The one-time code of the setup link, when the clinic has no manager yet.
    pub setup_code: Option<OneTimeCode>,
    pub setup_link: Option<String>,
    audit: Arc<AuditSink>,
    mailer: Arc<Mailer>,
}

/// Opens the database pool (applying migrations first), with the error naming the database.
pub fn open_pool(config: &Config) -> Result<Pool> {
    clinic_db::connect(&config.database_url, &config.pool).with_context(|| format!("{}", config.database_url))
}

impl Application {
    pub fn build(config: Config) -> Result<Self> {
        Self::build_with_clock(config, Arc::new(SystemClock))
    }

    pub fn build_with_clock(config: Config, clock: Arc<dyn Clock>) -> Result<Self> {
        let pool = open_pool(&config)?;
        let mut conn = pool.get().context("database connection")?;
        let now = clock.now().naive_utc();
        // Shared by every process on this database, so tokens survive restarts and work on all of them.
        let signing_key = match &config.jwt_secret {
            Some(s) => s.clone(),
            None => settings::get_or_insert(&mut conn, SIGNING_KEY_SETTING, &generate_secret()?, now)?,
        };
        let setup_code = clinic_app::setup::offer_link(&mut conn, now).map_err(|e| anyhow::anyhow!(e.chain()))?;
        // CLINIC_TIMEZONE seeds the clinic's time zone the first time; afterwards the settings decide.
        let clinic =
            clinic_app::clinic::ensure(&mut conn, config.timezone, now).map_err(|e| anyhow::anyhow!(e.chain()))?;
        let clinic = ClinicCache::new(clinic);
        if !config.database_url.is_postgres() {
            // SQLite keeps no statistics by itself; PostgreSQL's autovacuum does.
            conn.optimize()?;
        }
        drop(conn);
        let listener = TcpListener::bind(&config.bind).with_context(|| format!("cannot listen on {}", config.bind))?;
        let address = listener.local_addr()?;
        let port = address.port();
        let public_url = config.public_url.clone().unwrap_or_else(|| format!("http://{address}"));
        let setup_link = setup_code
            .as_ref()
            .map(|c| format!("{public_url}/setup?code={}", c.as_str()));
        let settings = Settings {
            secure_cookies: public_url.starts_with("https://"),
            public_url: public_url.clone(),
            trusted_proxies: config.trusted_proxies.clone(),
            hash_queue: config.hash_queue,
            photo_store: config.photo_store.clone(),
        };
        let mailer = Mailer::start(MailerConfig {
            pool: pool.clone(),
            clock: Arc::clone(&clock),
            clinic: Arc::clone(&clinic),
            settings: config.mail.clone(),
            public_url,
            unsubscribe: DerivedKey::derive(signing_key.as_bytes(), UNSUBSCRIBE),
        })
        .context("could not start the mail worker")?;
        let state = AppState::new(pool, clock, clinic, settings, &signing_key)
            .context("could not start the password-hashing threads")?;
        let audit = state.audit.clone();
        let server = clinic_web::serve(listener, state)?;
        Ok(Self {
            port,
            server,
            setup_code,
            setup_link,
            audit,
            mailer,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server from elsewhere (tests stop theirs before their database is dropped).
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until SIGTERM or Ctrl-C, then finishes the requests in flight.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let result = self.server.await;
        // The message in hand is finished; buffered audit rows are written before the process exits.
        self.mailer.shutdown();
        self.audit.shutdown();
        result
    }
}
