//! Throw-away databases for tests: a temporary SQLite file, and, when `CLINIC_TEST_POSTGRES_URL` is set,
//! a new PostgreSQL database copied from a template migrated once, dropped when the test ends.

use crate::conn::DbConn;
use crate::{DatabaseUrl, Pool, PoolOptions, connect};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

pub const POSTGRES_ENV: &str = "CLINIC_TEST_POSTGRES_URL";

/// One test database; removed on drop.
pub struct TestDb {
    url: DatabaseUrl,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    pub fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
        let path = dir.path().join("clinic.db");
        Self {
            url: DatabaseUrl::Sqlite(path.to_string_lossy().into_owned()),
            cleanup: Cleanup::Sqlite(dir),
        }
    }

    /// A new PostgreSQL database, or `None` (with a note on stderr) when `CLINIC_TEST_POSTGRES_URL` is unset.
    /// Under CI (`CI` set) a missing URL fails the test instead of skipping it.
    pub fn postgres() -> Option<Self> {
        let Ok(admin_url) = std::env::var(POSTGRES_ENV) else {
            assert!(
                std::env::var_os("CI").is_none(),
                "{POSTGRES_ENV} must be set under CI: PostgreSQL tests may not be skipped"
            );
            eprintln!("note: PostgreSQL part skipped ({POSTGRES_ENV} is not set)");
            return None;
        };
        let template = ensure_template(&admin_url);
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "clinic_test_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0)
        );
        let mut admin = admin_conn(&admin_url);
        let mut attempt = 0;
        loop {
            match diesel::sql_query(format!("CREATE DATABASE {name} TEMPLATE {template}")).execute(&mut admin) {
                Ok(_) => break,
                // Another test may be copying the same template at this instant.
                Err(e) if attempt < 50 && e.to_string().contains("being accessed by other users") => {
                    attempt += 1;
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => panic!("CREATE DATABASE {name}: {e}"),
            }
        }
        Some(Self {
            url: DatabaseUrl::Postgres(database_url(&admin_url, &name)),
            cleanup: Cleanup::Postgres { admin_url, name },
        })
    }

    /// SQLite, then PostgreSQL when configured: the databases every test runs on.
    pub fn all() -> Vec<Self> {
        let mut v = vec![Self::sqlite()];
        v.extend(Self::postgres());
        v
    }

    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// The URL as a string, as `DATABASE_URL` would give it.
    pub fn url_string(&self) -> String {
        match &self.url {
            DatabaseUrl::Sqlite(p) => p.clone(),
            DatabaseUrl::Postgres(u) => u.clone(),
        }
    }

    pub fn backend_name(&self) -> &'static str {
        self.url.backend_name()
    }

    /// A migrated connection.
    pub fn conn(&self) -> DbConn {
        let mut c = DbConn::establish(&self.url).unwrap_or_else(|e| panic!("connect {}: {e}", self.backend_name()));
        c.run_migrations().unwrap_or_else(|e| panic!("migrate: {e}"));
        c
    }

    pub fn pool(&self, max_size: u32) -> Pool {
        let options = PoolOptions {
            max_size,
            connection_timeout: Duration::from_secs(30),
        };
        connect(&self.url, &options).unwrap_or_else(|e| panic!("pool {}: {e}", self.backend_name()))
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin_url, name } = &self.cleanup
            && let Ok(mut admin) = PgConnection::establish(admin_url)
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).execute(&mut admin);
        }
    }
}

fn admin_conn(admin_url: &str) -> PgConnection {
    PgConnection::establish(admin_url).unwrap_or_else(|e| panic!("{POSTGRES_ENV}: {e}"))
}

/// The admin URL with its database name replaced.
fn database_url(admin_url: &str, name: &str) -> String {
    let (base, query) = admin_url
        .split_once('?')
        .map_or((admin_url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[scheme_end..].find('/').map_or(base.len(), |i| scheme_end + i);
    let mut url = format!("{}/{name}", &base[..path_start]);
    if let Some(q) = query {
        url.push('?');
        url.push_str(q);
    }
    url
}

/// Creates (once per set of migrations) a migrated template database; returns its name.
fn ensure_template(admin_url: &str) -> String {
    let mut hasher = DefaultHasher::new();
    migration_sources().hash(&mut hasher);
    let name = format!("clinic_template_{:016x}", hasher.finish());
    let mut admin = admin_conn(admin_url);
    let _ = diesel::sql_query("SELECT pg_advisory_lock(7263540128)").execute(&mut admin);
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let exists = diesel::sql_query("SELECT count(*) AS n FROM pg_database WHERE datname = $1")
        .bind::<diesel::sql_types::Text, _>(&name)
        .get_result::<Count>(&mut admin)
        .map(|c| c.n > 0)
        .unwrap_or_else(|e| panic!("list databases: {e}"));
    if !exists {
        let building = format!("{name}_building");
        let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {building} WITH (FORCE)")).execute(&mut admin);
        diesel::sql_query(format!("CREATE DATABASE {building}"))
            .execute(&mut admin)
            .unwrap_or_else(|e| panic!("create template: {e}"));
        {
            let mut c = DbConn::establish(&DatabaseUrl::Postgres(database_url(admin_url, &building)))
                .unwrap_or_else(|e| panic!("connect template: {e}"));
            c.run_migrations().unwrap_or_else(|e| panic!("migrate template: {e}"));
        }
        diesel::sql_query(format!("ALTER DATABASE {building} RENAME TO {name}"))
            .execute(&mut admin)
            .unwrap_or_else(|e| panic!("publish template: {e}"));
    }
    let _ = diesel::sql_query("SELECT pg_advisory_unlock(7263540128)").execute(&mut admin);
    name
}

/// Every PostgreSQL migration file's path and text, so that any edit gives a new template.
fn migration_sources() -> Vec<(String, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../migrations/postgres");
    let mut files = Vec::new();
    let mut dirs = vec![root];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .flatten()
        {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                files.push((path.to_string_lossy().into_owned(), text));
            }
        }
    }
    files.sort();
    files
}

/// Moves a login session's clock back, as if `idle` had passed since its last request and it had
/// been created `age` ago (for testing idle and absolute expiry without waiting).
pub fn age_login_session(conn: &mut DbConn, id: &str, idle: chrono::Duration, age: chrono::Duration) {
    use crate::schema::login_sessions;
    let now = chrono::Utc::now().naive_utc();
    let target = login_sessions::table.find(id);
    let changes = (
        login_sessions::last_seen_at.eq(now - idle),
        login_sessions::created_at.eq(now - age),
        login_sessions::expires_at.eq(now - age + chrono::Duration::hours(8)),
    );
    crate::with_conn!(conn, c => diesel::update(target).set(changes).execute(c))
        .unwrap_or_else(|e| panic!("age session: {e}"));
}

#[cfg(test)]
mod tests {
    #[test]
    fn database_url_replaces_the_name() {
        assert_eq!(
            super::database_url("postgres://u@h:5432/test", "x"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(
            super::database_url("postgres://u@h/test?sslmode=disable", "x"),
            "postgres://u@h/x?sslmode=disable"
        );
        assert_eq!(super::database_url("postgres://h", "x"), "postgres://h/x");
    }
}
