use crate::audit::AuditSink;
use crate::hasher::Hasher;
use clinic_app::Env;
use clinic_app::clinic::{Clinic, ClinicCache};
use clinic_auth::{CSRF_TOKENS, DerivedKey, TOTP_SECRETS, TokenKeys, UNSUBSCRIBE};
use clinic_db::{DbError, Pool, PooledConn};
use clinic_domain::Clock;
use std::net::IpAddr;
use std::sync::Arc;

/// What every handler may read.
#[derive(Clone)]
pub struct AppState {
    pub pool: Pool,
    pub clock: Arc<dyn Clock>,
    pub settings: Arc<Settings>,
    pub keys: TokenKeys,
    /// The signing key, also used to derive CSRF tokens.
    pub csrf_key: Arc<[u8]>,
    pub audit: Arc<AuditSink>,
    /// Runs argon2 work: one thread per core.
    pub hasher: Hasher,
    /// Where photo bytes are kept.
    pub photos: crate::photo_store::PhotoStore,
    /// Decodes and re-encodes uploaded photos: one thread, off the async workers and the blocking pool
    /// that database work uses, so uploads never stall other requests; a full queue is 503.
    pub imaging: Hasher,
    /// The clinic's settings as this process last read them.
    pub clinic: Arc<ClinicCache>,
    /// Signs and checks the one-click unsubscribe links of e-mails.
    pub unsubscribe: DerivedKey,
    /// Seals and opens the TOTP secrets of second factors.
    pub totp_key: DerivedKey,
    /// True on SQLite: short reads by key may run on the request's own thread (`run::read`).
    pub inline_reads: bool,
    /// Runs write use cases in group commits on SQLite (`run::write`); `None` on PostgreSQL.
    pub writer: Option<Arc<crate::writer::GroupWriter>>,
    /// The patient's timeline as JSON, per session, while its inputs stay the same.
    pub timelines: Arc<crate::timeline_cache::TimelineCache>,
    /// What each session check (and the patient's own timeline) read per login session, while the
    /// database says it stands.
    pub kept_reads: Arc<clinic_db::login_sessions::KeptReads>,
    /// The lists of recent patient pages, while the database says they stand.
    pub kept_pages: Arc<clinic_db::patient_page::KeptPages>,
    /// The lists beside patients' portal timelines, kept per account.
    pub(crate) kept_portals: Arc<crate::pages::KeptPortals>,
}

/// Settings fixed at start-up.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The address patients and staff reach the clinic at (for links), without a trailing slash.
    pub public_url: String,
    /// True when served over https: `Secure` `__Host-` cookies and HSTS.
    pub secure_cookies: bool,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Vec<IpAddr>,
    /// Password checks that may wait for a hashing thread; more are answered 503 at once.
    pub hash_queue: usize,
    /// Where photo bytes are kept (`CLINIC_PHOTO_STORE`).
    pub photo_store: crate::photo_store::PhotoStoreConfig,
}

impl AppState {
    pub fn new(
        pool: Pool,
        clock: Arc<dyn Clock>,
        clinic: Arc<ClinicCache>,
        settings: Settings,
        signing_key: &str,
    ) -> std::io::Result<Self> {
        let audit = AuditSink::start(pool.clone(), Arc::clone(&clock));
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let inline_reads = pool.get().is_ok_and(|c| !c.is_postgres());
        let writer = crate::writer::GroupWriter::start(&pool)?;
        let hasher = Hasher::start(cores, settings.hash_queue)?;
        let photos = crate::photo_store::PhotoStore::open(&settings.photo_store)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        // One photo at a time: a 40-megapixel image takes about 250 MB while it is processed.
        let imaging = Hasher::start_named("photo", 1, 8)?;
        Ok(Self {
            pool,
            clock,
            settings: Arc::new(settings),
            keys: TokenKeys::from_server_secret(signing_key.as_bytes()),
            csrf_key: Arc::from(DerivedKey::derive(signing_key.as_bytes(), CSRF_TOKENS).as_bytes()),
            audit,
            hasher,
            imaging,
            photos,
            clinic,
            unsubscribe: DerivedKey::derive(signing_key.as_bytes(), UNSUBSCRIBE),
            totp_key: DerivedKey::derive(signing_key.as_bytes(), TOTP_SECRETS),
            inline_reads,
            timelines: Arc::default(),
            kept_reads: Arc::default(),
            kept_pages: Arc::default(),
            kept_portals: Arc::default(),
            writer,
        })
    }

    /// A pooled connection; called inside `run::blocking`.
    pub fn conn(&self) -> Result<PooledConn, DbError> {
        Ok(self.pool.get()?)
    }

    /// What the use cases read besides their connection; audit rows go to the writer without waiting.
    pub fn env(&self) -> Env<'_> {
        self.env_with(&*self.audit)
    }

    /// [`Self::env`] with audit rows collected in `trail` (see `run::db`, which waits for their commit).
    pub fn env_with<'a>(&'a self, trail: &'a dyn clinic_app::Trail) -> Env<'a> {
        Env {
            clock: &*self.clock,
            clinic: self.clinic.get(),
            trail,
            public_url: &self.settings.public_url,
        }
    }

    /// The clinic's settings, for a page's header and footer.
    pub fn clinic(&self) -> Arc<Clinic> {
        self.clinic.get()
    }
}
