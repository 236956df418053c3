//! How many attempts are allowed, per what and per how long. Every attempt at a secret (a password, a
//! second-factor code, a one-time code or link) is taken from these allowances before it is evaluated.

use std::time::Duration;

/// At most `attempts` per `window` for one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Allowance {
    pub attempts: u32,
    pub window: Duration,
}

const MINUTE: u64 = 60;

/// One account from one address: the owner's typos fit; a guesser is slowed to 40 an hour.
pub const PER_ACCOUNT_AND_ADDRESS: Allowance = Allowance {
    attempts: 10,
    window: Duration::from_secs(15 * MINUTE),
};

/// One address, whatever the account (password spraying).
pub const PER_ADDRESS: Allowance = Allowance {
    attempts: 50,
    window: Duration::from_secs(15 * MINUTE),
};

/// One account from anywhere: the slow limit a distributed guesser meets. A correct password plus a
/// second factor passes it, so strangers cannot lock a person with a second factor out.
pub const PER_ACCOUNT: Allowance = Allowance {
    attempts: 100,
    window: Duration::from_secs(24 * 60 * MINUTE),
};

/// One-time codes and links (activation, setup, password reset) from one address.
pub const CODES_PER_ADDRESS: Allowance = Allowance {
    attempts: 10,
    window: Duration::from_secs(15 * MINUTE),
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_slow_limit_is_slower_than_the_others() {
        let per_hour = |a: Allowance| f64::from(a.attempts) * 3600.0 / a.window.as_secs_f64();
        assert!(per_hour(PER_ACCOUNT) < per_hour(PER_ACCOUNT_AND_ADDRESS));
        assert!(per_hour(PER_ACCOUNT_AND_ADDRESS) < per_hour(PER_ADDRESS));
    }
}
