//! Configuration from flags and environment variables, checked once at start-up.

use anyhow::{Context, Result, bail};
use chrono_tz::Tz;
use clinic_db::{DatabaseUrl, PoolOptions};
use clinic_mail::MailSettings;
use std::net::IpAddr;
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Config {
    pub bind: String,
    pub database_url: DatabaseUrl,
    pub timezone: Tz,
    /// `CLINIC_JWT_SECRET`; when absent a key is generated once and kept in the database.
    pub jwt_secret: Option<String>,
    /// Where people reach the clinic, for links; `None` means `http://` and the address listened on.
    pub public_url: Option<String>,
    pub pool: PoolOptions,
    /// Proxies whose `X-Forwarded-For` is believed (`CLINIC_TRUSTED_PROXIES`, comma-separated IPs).
    pub trusted_proxies: Vec<IpAddr>,
    /// `CLINIC_SMTP_URL`, `CLINIC_MAIL_FROM` and the retry settings.
    pub mail: MailSettings,
    /// Password checks that may wait for a hashing thread (`CLINIC_HASH_QUEUE`); more get 503.
    pub hash_queue: usize,
    /// Where photo bytes are kept (`CLINIC_PHOTO_STORE` and the standard AWS variables).
    pub photo_store: clinic_web::photo_store::PhotoStoreConfig,
}

/// The queue of password checks waiting for a hashing thread, unless configured.
pub const DEFAULT_HASH_QUEUE: usize = 64;

impl Config {
    /// Builds the configuration from the command line's values and the environment.
    pub fn new(bind: &str, database_url: &str) -> Result<Self> {
        let env = |k: &str| {
            std::env::var(k)
                .ok()
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let database_url = DatabaseUrl::parse(database_url)?;
        let timezone = parse_timezone(env("CLINIC_TIMEZONE").as_deref().unwrap_or("UTC"))?;
        let jwt_secret = env("CLINIC_JWT_SECRET");
        if jwt_secret.as_ref().is_some_and(|s| s.len() < 32) {
            bail!("CLINIC_JWT_SECRET must be at least 32 characters (e.g. `openssl rand -hex 32`)");
        }
        let public_url = env("CLINIC_PUBLIC_URL").map(|u| parse_public_url(&u)).transpose()?;
        let number = |name: &str, max: u64| -> Result<Option<u64>> {
            env(name)
                .map(|n| {
                    n.parse::<u64>()
                        .ok()
                        .filter(|v| (1..=max).contains(v))
                        .with_context(|| format!("{name} {n:?} is not a number from 1 to {max}"))
                })
                .transpose()
        };
        let pool_size = number("CLINIC_DB_POOL_SIZE", 256)?
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(PoolOptions::default().max_size);
        let hash_queue = number("CLINIC_HASH_QUEUE", 10_000)?
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(DEFAULT_HASH_QUEUE);
        let trusted_proxies = env("CLINIC_TRUSTED_PROXIES")
            .map(|list| {
                list.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| {
                        s.parse::<IpAddr>()
                            .with_context(|| format!("CLINIC_TRUSTED_PROXIES: {s:?} is not an IP address"))
                    })
                    .collect::<Result<Vec<_>>>()
            })
            .transpose()?
            .unwrap_or_default();
        let photo_store =
            clinic_web::photo_store::PhotoStoreConfig::parse(env("CLINIC_PHOTO_STORE").as_deref(), |k| env(k))
                .map_err(anyhow::Error::msg)?;
        let mut mail = MailSettings::parse(env("CLINIC_SMTP_URL").as_deref(), env("CLINIC_MAIL_FROM").as_deref())?;
        if let Some(n) = env("CLINIC_MAIL_MAX_ATTEMPTS") {
            mail.max_attempts = n
                .parse::<u32>()
                .ok()
                .filter(|n| (1..=100).contains(n))
                .with_context(|| format!("CLINIC_MAIL_MAX_ATTEMPTS {n:?} is not a number from 1 to 100"))?;
        }
        if let Some(n) = env("CLINIC_MAIL_RETRY_SECONDS") {
            let secs = n
                .parse::<u64>()
                .ok()
                .filter(|n| (1..=86_400).contains(n))
                .with_context(|| {
                    format!("CLINIC_MAIL_RETRY_SECONDS {n:?} is not a number of seconds from 1 to 86400")
                })?;
            mail.first_retry = Duration::from_secs(secs);
        }
        if let Some(n) = env("CLINIC_MAIL_LEASE_SECONDS") {
            let secs = n
                .parse::<u64>()
                .ok()
                .filter(|n| (1..=3_600).contains(n))
                .with_context(|| {
                    format!("CLINIC_MAIL_LEASE_SECONDS {n:?} is not a number of seconds from 1 to 3600")
                })?;
            mail.lease = Duration::from_secs(secs);
        }
        Ok(Self {
            mail,
            hash_queue,
            photo_store,
            trusted_proxies,
            bind: bind.to_owned(),
            database_url,
            timezone,
            jwt_secret,
            public_url,
            pool: PoolOptions {
                max_size: pool_size,
                connection_timeout: PoolOptions::default().connection_timeout,
            },
        })
    }
}

pub fn parse_timezone(name: &str) -> Result<Tz> {
    name.parse::<Tz>().map_err(|_| {
        anyhow::anyhow!("CLINIC_TIMEZONE {name:?} is not an IANA time zone name (e.g. Europe/London, America/New_York)")
    })
}

fn parse_public_url(raw: &str) -> Result<String> {
    let url = raw.trim_end_matches('/');
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(host) if !host.is_empty() && !host.contains(char::is_whitespace) => Ok(url.to_owned()),
        _ => bail!("CLINIC_PUBLIC_URL {raw:?} must be an http:// or https:// address, e.g. https://clinic.example"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timezones_and_public_urls_are_checked() {
        assert_eq!(parse_timezone("Europe/London").unwrap(), chrono_tz::Europe::London);
        assert!(parse_timezone("Mars/Olympus").unwrap_err().to_string().contains("IANA"));
        assert_eq!(
            parse_public_url("https://clinic.example/").unwrap(),
            "https://clinic.example"
        );
        assert!(parse_public_url("clinic.example").is_err());
        assert!(parse_public_url("https://").is_err());
    }
}
