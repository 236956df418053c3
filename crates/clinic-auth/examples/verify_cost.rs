//! What a token check costs (`TokenKeys::verify`: jsonwebtoken's `decode` over this crate's HS256
//! provider), on one core. `cargo run --release -p clinic-auth --example verify_cost`; docs/security.md
//! records the figures and the decision they support.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use clinic_auth::TokenKeys;
use std::hint::black_box;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

fn main() {
    let keys = TokenKeys::new(b"0123456789abcdef0123456789abcdef");
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64;
    let sid = "a-session-id-of-64-hex-characters-0123456789abcdef0123456789ab";
    let token = keys.issue(7, sid, now, now + 3600).unwrap();
    let n = 200_000;
    for round in 0..3 {
        let t = Instant::now();
        for _ in 0..n {
            black_box(keys.verify(black_box(&token)).unwrap());
        }
        let each = t.elapsed().as_nanos() as f64 / f64::from(n);
        println!("round {round}: TokenKeys::verify {each:.0} ns");
    }
}
