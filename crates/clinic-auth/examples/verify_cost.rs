//! What a token check costs (`TokenKeys::verify`: jsonwebtoken's `decode` over this crate's HS256
//! provider), on one core: for tokens seen for the first time, and for one token presented again (kept,
//! only its expiry checked). `cargo run --release -p clinic-auth --example verify_cost`; docs/security.md
//! records the figures and the decision they support.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use clinic_auth::TokenKeys;
use std::hint::black_box;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

fn main() {
    let keys = TokenKeys::new(b"0123456789abcdef0123456789abcdef");
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    let sid = |n: u32| format!("a-session-id-of-64-hex-characters-0123456789abcdef01234567{n:06}");
    let n = 200_000;
    // Distinct tokens, issued beforehand: each check is a first sight (the kept ones start again
    // every 1,024, as in a server that sees many sessions).
    let fresh: Vec<String> = (0..n)
        .map(|i| keys.issue(7, &sid(i), now, now + 3600).unwrap())
        .collect();
    let again = keys.issue(7, &sid(n), now, now + 3600).unwrap();
    for round in 0..3 {
        let t = Instant::now();
        for token in &fresh {
            black_box(keys.verify(black_box(token)).unwrap());
        }
        let first = t.elapsed().as_nanos() as f64 / f64::from(n);
        let t = Instant::now();
        for _ in 0..n {
            black_box(keys.verify(black_box(&again)).unwrap());
        }
        let kept = t.elapsed().as_nanos() as f64 / f64::from(n);
        println!("round {round}: TokenKeys::verify {first:.0} ns a new token, {kept:.0} ns a kept one");
    }
}
