use crate::{DatabaseUrl, DbConn, DbError};
use diesel::r2d2;
use diesel::r2d2::R2D2Connection;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Opens connections for the pool by URL scheme, keeping the driver's error text.
#[derive(Debug)]
pub struct Manager {
    url: DatabaseUrl,
}

impl r2d2::ManageConnection for Manager {
    type Connection = DbConn;
    type Error = DbError;

    fn connect(&self) -> Result<DbConn, DbError> {
        DbConn::establish(&self.url)
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), DbError> {
        crate::with_conn!(conn, c => c.ping())?;
        Ok(())
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        if crate::with_conn!(conn, c => c.is_broken()) {
            return true;
        }
        // After a lost connection, every connection handed back is pinged once before it is reused:
        // a dead one is dropped (the pool opens a new one when the database is back), and the first
        // live one ends the checking. Otherwise nothing extra per request.
        if LOST.load(Ordering::Relaxed) {
            if crate::with_conn!(conn, c => c.ping()).is_err() {
                return true;
            }
            LOST.store(false, Ordering::Relaxed);
        }
        false
    }
}

static LOST: AtomicBool = AtomicBool::new(false);

/// A query found its connection closed (the database restarted or the network failed).
pub(crate) fn connection_lost() {
    LOST.store(true, Ordering::Relaxed);
}

pub type Pool = r2d2::Pool<Manager>;
pub type PooledConn = r2d2::PooledConnection<Manager>;

#[derive(Debug, Clone)]
pub struct PoolOptions {
    pub max_size: u32,
    /// How long a request waits for a free connection; past it the answer is 503 with `Retry-After`
    /// (so while the database is down, requests fail in this time rather than hang).
    pub connection_timeout: Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        // Two connections per core (at least 4): more only queue inside the database. Measured with
        // bench/load.sh on 2 cores: 8 connections gave the same throughput as 4 and twice the p99.
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            max_size: u32::try_from(cores * 2).unwrap_or(u32::MAX).max(4),
            connection_timeout: Duration::from_secs(2),
        }
    }
}

/// Connects once directly (so a bad URL or password fails now, with the driver's message), applies
/// pending migrations, then builds the pool.
pub fn connect(url: &DatabaseUrl, options: &PoolOptions) -> Result<Pool, DbError> {
    let mut first = DbConn::establish(url)?;
    first.run_migrations()?;
    drop(first);
    let pool = r2d2::Pool::builder()
        .max_size(options.max_size)
        .min_idle(Some(1))
        .connection_timeout(options.connection_timeout)
        .test_on_check_out(false)
        .error_handler(Box::new(r2d2::LoggingErrorHandler))
        .build_unchecked(Manager { url: url.clone() });
    Ok(pool)
}

/// A background thread's connection. On SQLite it is one of its own to the pool's file, kept between
/// uses with its page cache capped: SQLite drops a connection's cache whenever another connection has
/// written, so a borrowed one would start cold each time and, in turn, fill the cache of every pooled
/// connection it was lent. On PostgreSQL (and an in-memory SQLite database, which a second connection
/// would not see) each use borrows from the pool.
pub struct KeptConnection {
    pool: Pool,
    cache_kib: u32,
    own: Option<DbConn>,
}

impl KeptConnection {
    pub fn new(pool: Pool, cache_kib: u32) -> Self {
        Self {
            pool,
            cache_kib,
            own: None,
        }
    }

    /// Runs `f` on the connection; after an error the connection is opened afresh for the next use.
    pub fn with<T, E: From<DbError>>(&mut self, f: impl FnOnce(&mut DbConn) -> Result<T, E>) -> Result<T, E> {
        if self.own.is_none() {
            let mut pooled = self.pool.get().map_err(DbError::from)?;
            match pooled.sqlite_twin()? {
                Some(mut own) => {
                    own.limit_sqlite_cache(self.cache_kib)?;
                    self.own = Some(own);
                }
                None => return f(&mut pooled),
            }
        }
        let Some(conn) = self.own.as_mut() else {
            return Err(DbError::Connect("no connection".into()).into());
        };
        let result = f(conn);
        if result.is_err() {
            self.own = None;
        }
        result
    }
}
