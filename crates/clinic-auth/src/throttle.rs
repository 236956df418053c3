//! The sign-in back-off: after [`ACCOUNT_FAILURE_LIMIT`] consecutive failures an account (or an
//! activation code, or an address) is locked for a time that doubles with each further failure.

use std::time::Duration;

/// Consecutive failures allowed before the lock starts.
pub const ACCOUNT_FAILURE_LIMIT: u32 = 10;
const FIRST_LOCK_SECS: u64 = 30;
const MAX_LOCK_SECS: u64 = 60 * 60;

/// How long to lock after `failures` consecutive failures; `None` below the limit.
pub fn backoff_after(failures: u32) -> Option<Duration> {
    let over = failures.checked_sub(ACCOUNT_FAILURE_LIMIT)?;
    let secs = FIRST_LOCK_SECS.saturating_mul(1u64.checked_shl(over.min(20)).unwrap_or(u64::MAX));
    Some(Duration::from_secs(secs.min(MAX_LOCK_SECS)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_off_starts_at_the_limit_and_grows_to_a_cap() {
        assert_eq!(backoff_after(0), None);
        assert_eq!(backoff_after(9), None);
        assert_eq!(backoff_after(10), Some(Duration::from_secs(30)));
        assert_eq!(backoff_after(11), Some(Duration::from_secs(60)));
        assert_eq!(backoff_after(12), Some(Duration::from_secs(120)));
        assert_eq!(backoff_after(17), Some(Duration::from_secs(3600)));
        assert_eq!(backoff_after(u32::MAX), Some(Duration::from_secs(3600)));
    }
}
