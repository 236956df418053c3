//! E-mail that reaches the patient: the SMTP settings ([`MailSettings`]), each message of the outbox
//! rendered as plain text and HTML (`render`), and the delivery worker every process runs ([`Mailer`]).
//!
//! Messages are queued by the use cases in `clinic-app`, in the transaction of the event that causes
//! them; this crate only sends what is queued.

pub mod config;
pub mod render;
mod worker;

pub use config::{ConfigError, MailSettings, SmtpUrl};
pub use worker::{Mailer, MailerConfig, NO_MAIL_SERVER};
