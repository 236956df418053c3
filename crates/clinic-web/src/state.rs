use chrono_tz::Tz;
use clinic_db::{DbError, Pool, PooledConn};
use clinic_domain::Clock;
use std::sync::Arc;

/// What every handler may read.
#[derive(Clone)]
pub struct AppState {
    pub pool: Pool,
    pub clock: Arc<dyn Clock>,
    pub settings: Arc<Settings>,
}

/// Settings fixed at start-up.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The clinic's time zone: day 0 of a timeline is the local date of the procedure.
    pub timezone: Tz,
    /// The address patients and staff reach the clinic at (for activation links), without a trailing slash.
    pub public_url: String,
}

impl AppState {
    /// A pooled connection; called inside `blocking`.
    pub fn conn(&self) -> Result<PooledConn, DbError> {
        Ok(self.pool.get()?)
    }
}
