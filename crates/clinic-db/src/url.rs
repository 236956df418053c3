//! Which database a `DATABASE_URL` names.

use crate::DbError;
use std::fmt;

/// The database chosen by the scheme of the URL.
#[derive(Clone, PartialEq, Eq)]
pub enum DatabaseUrl {
    /// A file path (a plain path or `sqlite://path`).
    Sqlite(String),
    /// A libpq connection URL (`postgres://` or `postgresql://`).
    Postgres(String),
}

/// Seconds libpq waits for a server before giving up, unless the URL says otherwise.
const PG_CONNECT_TIMEOUT_SECS: u32 = 5;

impl DatabaseUrl {
    pub fn parse(raw: &str) -> Result<Self, DbError> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err(DbError::Url(
                "DATABASE_URL is empty: give a SQLite file path or a postgres:// URL".into(),
            ));
        }
        if raw.starts_with("postgres://") || raw.starts_with("postgresql://") {
            let url = if raw.contains("connect_timeout=") {
                raw.to_owned()
            } else {
                let sep = if raw.contains('?') { '&' } else { '?' };
                format!("{raw}{sep}connect_timeout={PG_CONNECT_TIMEOUT_SECS}")
            };
            return Ok(Self::Postgres(url));
        }
        if let Some(path) = raw.strip_prefix("sqlite://").or_else(|| raw.strip_prefix("sqlite:")) {
            if path.is_empty() {
                return Err(DbError::Url(
                    "DATABASE_URL sqlite:// names no file (expected sqlite://clinic.db)".into(),
                ));
            }
            return Ok(Self::Sqlite(path.to_owned()));
        }
        if let Some((scheme, _)) = raw.split_once("://") {
            return Err(DbError::Url(format!(
                "DATABASE_URL scheme {scheme:?} is not supported: use a SQLite file path, sqlite://, postgres:// or postgresql://"
            )));
        }
        if raw == ":memory:" {
            return Err(DbError::Url(
                "an in-memory SQLite database cannot be shared by the server's connections; give a file path".into(),
            ));
        }
        Ok(Self::Sqlite(raw.to_owned()))
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Self::Postgres(_))
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "SQLite",
            Self::Postgres(_) => "PostgreSQL",
        }
    }
}

/// The URL with any password replaced, for messages and logs.
pub fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = rest.find(['/', '?']).map_or((rest, ""), |i| rest.split_at(i));
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or_default();
            let masked = if userinfo.contains(':') {
                format!("{user}:***")
            } else {
                user.to_owned()
            };
            format!("{scheme}://{masked}@{host}{tail}")
        }
        None => url.to_owned(),
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(p) => write!(f, "Sqlite({p:?})"),
            Self::Postgres(u) => write!(f, "Postgres({:?})", redact(u)),
        }
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(p) => write!(f, "SQLite file {p}"),
            Self::Postgres(u) => write!(f, "PostgreSQL at {}", redact(u)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scheme_selects_the_backend() {
        assert_eq!(
            DatabaseUrl::parse("clinic.db").unwrap(),
            DatabaseUrl::Sqlite("clinic.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("/var/lib/clinic.db").unwrap(),
            DatabaseUrl::Sqlite("/var/lib/clinic.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite://data/c.db").unwrap(),
            DatabaseUrl::Sqlite("data/c.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///abs/c.db").unwrap(),
            DatabaseUrl::Sqlite("/abs/c.db".into())
        );
        assert_eq!(
            DatabaseUrl::parse("postgres://u:p@localhost/db").unwrap(),
            DatabaseUrl::Postgres("postgres://u:p@localhost/db?connect_timeout=5".into())
        );
        assert_eq!(
            DatabaseUrl::parse("postgresql://localhost/db?sslmode=disable&connect_timeout=2").unwrap(),
            DatabaseUrl::Postgres("postgresql://localhost/db?sslmode=disable&connect_timeout=2".into())
        );
    }

    #[test]
    fn malformed_urls_are_refused_with_a_reason() {
        for bad in ["", "  ", "mysql://localhost/db", "sqlite://", ":memory:"] {
            let err = DatabaseUrl::parse(bad).unwrap_err().to_string();
            assert!(err.contains("DATABASE_URL") || err.contains("SQLite"), "{bad:?}: {err}");
        }
    }

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact("postgres://clinic:s3cret@db:5432/clinic"),
            "postgres://clinic:***@db:5432/clinic"
        );
        assert_eq!(redact("postgres://db/clinic"), "postgres://db/clinic");
        let shown = format!("{:?}", DatabaseUrl::parse("postgres://a:b@h/d").unwrap());
        assert!(!shown.contains(":b@"));
    }
}
