//! Measures diesel's `MultiConnection` against this crate's `DbConn` (an enum whose queries are
//! compiled once per backend by `with_conn!`), on the same SQLite file and the same query, in one run.
//! `cargo run --release -p clinic-db --example multi_connection`. docs/architecture.md records the
//! figures and the decision.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use clinic_db::schema::users;
use clinic_db::{DatabaseUrl, DbConn, with_conn};
use diesel::prelude::*;
use std::hint::black_box;
use std::time::Instant;

#[derive(diesel::MultiConnection)]
enum Multi {
    Sqlite(diesel::SqliteConnection),
    Postgres(diesel::PgConnection),
}

fn main() {
    let dir = std::env::temp_dir().join(format!("multi-connection-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bench.db").to_string_lossy().into_owned();
    let mut ours = DbConn::establish(&DatabaseUrl::Sqlite(path.clone())).unwrap();
    ours.run_migrations().unwrap();
    for i in 0..1000 {
        diesel::sql_query(format!(
            "INSERT INTO users (email, display_name, role, password_hash, created_at) \
             VALUES ('u{i}@clinic.example', 'User {i}', 'provider', 'x', '2026-11-25 10:00:00')"
        ))
        .execute(match &mut ours {
            DbConn::Sqlite(c) => c,
            DbConn::Postgres(_) => unreachable!(),
        })
        .unwrap();
    }
    let mut multi = Multi::establish(&path).unwrap();
    let n = 100_000;
    for round in 0..3 {
        let t = Instant::now();
        for i in 0..n {
            let email = format!("u{}@clinic.example", i % 1000);
            let found: (i64, String) = with_conn!(&mut ours, c => users::table
                .filter(users::email.eq(&email))
                .select((users::id, users::display_name))
                .first(c))
            .unwrap();
            black_box(found);
        }
        let enum_ns = t.elapsed().as_nanos() as f64 / f64::from(n);
        let t = Instant::now();
        for i in 0..n {
            let email = format!("u{}@clinic.example", i % 1000);
            let found: (i64, String) = users::table
                .filter(users::email.eq(&email))
                .select((users::id, users::display_name))
                .first(&mut multi)
                .unwrap();
            black_box(found);
        }
        let multi_ns = t.elapsed().as_nanos() as f64 / f64::from(n);
        println!("round {round}: DbConn (with_conn!) {enum_ns:.0} ns/query, MultiConnection {multi_ns:.0} ns/query");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
