//! Mail settings: `CLINIC_SMTP_URL` and `CLINIC_MAIL_FROM`, checked at start-up so that a wrong value is
//! one clear line, never a crash at the first message.

use lettre::message::Mailbox;
use lettre::transport::smtp::SmtpTransport;
use std::time::Duration;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    #[error(
        "CLINIC_SMTP_URL must look like smtp://host:port, smtp://user:pass@host:587 (STARTTLS) or smtps://user:pass@host:465: {0}"
    )]
    Url(String),
    #[error("CLINIC_MAIL_FROM {0:?} is not an e-mail address (e.g. \"Clinic <desk@clinic.example>\")")]
    From(String),
    #[error("CLINIC_MAIL_FROM must be set when CLINIC_SMTP_URL is")]
    FromMissing,
}

/// An SMTP server to send through. `smtp://` with a user name and password requires STARTTLS (the
/// password never crosses in clear text); without them STARTTLS is used when the server offers it;
/// `?tls=required|opportunistic` says so explicitly; `smtps://` is TLS from the first byte.
#[derive(Clone)]
pub struct SmtpUrl {
    url: String,
    /// Shown in logs and errors: the URL without its password.
    shown: String,
}

impl std::fmt::Debug for SmtpUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown)
    }
}

impl SmtpUrl {
    pub fn parse(raw: &str) -> Result<Self, ConfigError> {
        let raw = raw.trim();
        let bad = |why: &str| ConfigError::Url(why.to_owned());
        let (scheme, rest) = raw.split_once("://").ok_or_else(|| bad("no scheme"))?;
        if scheme != "smtp" && scheme != "smtps" {
            return Err(bad(&format!("the scheme is {scheme:?}")));
        }
        let (authority, query) = rest.split_once('?').unwrap_or((rest, ""));
        let authority = authority.trim_end_matches('/');
        let (credentials, host_port) = authority
            .rsplit_once('@')
            .map_or((None, authority), |(c, h)| (Some(c), h));
        let host = host_port
            .rsplit_once(':')
            .map_or(host_port, |(h, p)| if p.parse::<u16>().is_ok() { h } else { host_port });
        if host.is_empty() || host.contains(char::is_whitespace) {
            return Err(bad("no host"));
        }
        if let Some((_, port)) = host_port.rsplit_once(':')
            && !host_port.ends_with(']')
            && port.parse::<u16>().is_err()
        {
            return Err(bad(&format!("the port {port:?} is not a number")));
        }
        let has_tls = query.split('&').any(|kv| kv.starts_with("tls="));
        let with_password = credentials.is_some_and(|c| c.contains(':'));
        let mut url = raw.to_owned();
        if scheme == "smtp" && !has_tls {
            let tls = if with_password {
                "tls=required"
            } else {
                "tls=opportunistic"
            };
            url.push(if query.is_empty() && !raw.contains('?') {
                '?'
            } else {
                '&'
            });
            url.push_str(tls);
        }
        let shown = match credentials.and_then(|c| c.split_once(':')) {
            Some((user, _)) => {
                let query = if query.is_empty() {
                    String::new()
                } else {
                    format!("?{query}")
                };
                format!("{scheme}://{user}:***@{host_port}{query}")
            }
            None => raw.to_owned(),
        };
        let parsed = Self { url, shown };
        // lettre's own reading of it (scheme, host, TLS parameters) must agree.
        parsed.transport(Duration::from_secs(1))?;
        Ok(parsed)
    }

    pub fn transport(&self, timeout: Duration) -> Result<SmtpTransport, ConfigError> {
        Ok(SmtpTransport::from_url(&self.url)
            .map_err(|e| ConfigError::Url(e.to_string()))?
            .timeout(Some(timeout))
            .build())
    }
}

/// How mail goes out.
#[derive(Debug, Clone)]
pub struct MailSettings {
    /// `None`: no mail server; due messages are held until one is configured.
    pub smtp: Option<SmtpUrl>,
    pub from: Option<Mailbox>,
    /// Attempts before a message is `failed`.
    pub max_attempts: u32,
    /// The wait after the first failed attempt; it doubles after each further one.
    pub first_retry: Duration,
    /// How long a worker's claim on a message lasts (a crashed worker's claims run out after it).
    pub lease: Duration,
    /// How long one SMTP conversation may take.
    pub timeout: Duration,
}

impl Default for MailSettings {
    fn default() -> Self {
        Self {
            smtp: None,
            from: None,
            max_attempts: 5,
            first_retry: Duration::from_secs(60),
            lease: Duration::from_secs(300),
            timeout: Duration::from_secs(30),
        }
    }
}

impl MailSettings {
    /// From the values of `CLINIC_SMTP_URL` and `CLINIC_MAIL_FROM` (either may be unset).
    pub fn parse(smtp: Option<&str>, from: Option<&str>) -> Result<Self, ConfigError> {
        let smtp = smtp.map(SmtpUrl::parse).transpose()?;
        let from = from
            .map(|f| f.trim().parse::<Mailbox>().map_err(|_| ConfigError::From(f.to_owned())))
            .transpose()?;
        if smtp.is_some() && from.is_none() {
            return Err(ConfigError::FromMissing);
        }
        Ok(Self {
            smtp,
            from,
            ..Self::default()
        })
    }

    /// The wait before attempt `attempts + 1`, or `None` when `attempts` were the last.
    pub fn retry_after(&self, attempts: u32) -> Option<Duration> {
        (attempts < self.max_attempts).then(|| self.first_retry * 2u32.saturating_pow(attempts.saturating_sub(1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls_are_checked_and_passwords_never_shown() {
        for good in [
            "smtp://127.0.0.1:2525",
            "smtp://mail.clinic.example",
            "smtp://user:secret@mail.clinic.example:587",
            "smtps://user:secret@mail.clinic.example:465",
            "smtp://mail.clinic.example:25?tls=required",
        ] {
            let u = SmtpUrl::parse(good).unwrap_or_else(|e| panic!("{good}: {e}"));
            assert!(!format!("{u:?}").contains("secret"), "{u:?}");
        }
        assert!(
            SmtpUrl::parse("smtp://user:secret@mail.clinic.example:587")
                .unwrap()
                .url
                .contains("tls=required")
        );
        assert!(
            SmtpUrl::parse("smtp://127.0.0.1:2525")
                .unwrap()
                .url
                .contains("tls=opportunistic")
        );
        for bad in [
            "",
            "mail.clinic.example",
            "http://mail.clinic.example",
            "smtp://",
            "smtp://host:port",
            "smtp://a b",
        ] {
            assert!(SmtpUrl::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(
            MailSettings::parse(Some("smtp://127.0.0.1:2525"), None).unwrap_err(),
            ConfigError::FromMissing
        );
        assert!(MailSettings::parse(None, Some("not an address")).is_err());
        let s = MailSettings::parse(Some("smtp://127.0.0.1:2525"), Some("Clinic <desk@clinic.example>")).unwrap();
        assert_eq!(s.retry_after(1), Some(Duration::from_secs(60)));
        assert_eq!(s.retry_after(3), Some(Duration::from_secs(240)));
        assert_eq!(s.retry_after(5), None);
    }
}
