//! A message of the outbox as the e-mail the patient (or staff member) receives: plain text and HTML,
//! a subject that names no patient and no treatment, the clinic's contact details, and for aftercare
//! the one-click unsubscribe headers of RFC 8058. Rendered when sent, so a corrected session or a
//! changed clinic address reaches the message.

use askama::Template;
use clinic_app::accounts::RESET_MINUTES;
use clinic_app::clinic::Clinic;
use clinic_app::invitations::INVITATION_DAYS;
use clinic_auth::DerivedKey;
use clinic_db::outbox::Message;
use clinic_db::{DbConn, DbError, series};
use clinic_domain::SessionId;
use clinic_domain::messages::MessageKind;
use clinic_domain::protocol::StageKey;
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use std::ops::Deref;

/// Why a message could not be made; `permanent` ones are not tried again.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("the recipient {0:?} is not an e-mail address")]
    BadRecipient(String),
    #[error("{0}")]
    Gone(String),
    #[error("the message could not be built: {0}")]
    Build(String),
    #[error("reading the message's data: {0}")]
    Database(#[from] DbError),
}

impl RenderError {
    pub fn is_permanent(&self) -> bool {
        !matches!(self, RenderError::Database(_))
    }
}

/// What every message needs beside its row.
pub struct Context<'a> {
    pub clinic: &'a Clinic,
    pub public_url: &'a str,
    pub from: &'a Mailbox,
    pub unsubscribe: &'a DerivedKey,
}

impl Context<'_> {
    fn contact(&self) -> String {
        self.clinic.contact_line()
    }

    fn unsubscribe_url(&self, patient: i64) -> String {
        format!("{}/unsubscribe/{}", self.public_url, self.unsubscribe.sign_id(patient))
    }
}

struct StageMail<'a> {
    clinic: &'a Clinic,
    heading: String,
    cautions: Vec<String>,
    instructions: Vec<String>,
    portal_url: String,
    unsubscribe_url: String,
    contact: String,
}

#[derive(Template)]
#[template(path = "email/stage.txt")]
struct StageText<'a>(&'a StageMail<'a>);

#[derive(Template)]
#[template(path = "email/stage.html")]
struct StageHtml<'a>(&'a StageMail<'a>);

struct InvitationMail<'a> {
    clinic: &'a Clinic,
    link: String,
    activate_url: String,
    code: String,
    days: i64,
    contact: String,
}

#[derive(Template)]
#[template(path = "email/invitation.txt")]
struct InvitationText<'a>(&'a InvitationMail<'a>);

#[derive(Template)]
#[template(path = "email/invitation.html")]
struct InvitationHtml<'a>(&'a InvitationMail<'a>);

struct ResetMail<'a> {
    clinic: &'a Clinic,
    link: String,
    minutes: i64,
    contact: String,
}

#[derive(Template)]
#[template(path = "email/reset.txt")]
struct ResetText<'a>(&'a ResetMail<'a>);

#[derive(Template)]
#[template(path = "email/reset.html")]
struct ResetHtml<'a>(&'a ResetMail<'a>);

macro_rules! deref_to {
    ($($outer:ident => $inner:ident),*) => {$(
        impl<'a> Deref for $outer<'a> {
            type Target = $inner<'a>;
            fn deref(&self) -> &$inner<'a> {
                self.0
            }
        }
    )*};
}

deref_to!(
    StageText => StageMail, StageHtml => StageMail,
    InvitationText => InvitationMail, InvitationHtml => InvitationMail,
    ResetText => ResetMail, ResetHtml => ResetMail
);

/// `List-Unsubscribe: <https://…>` (RFC 2369).
#[derive(Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.trim_matches(['<', '>']).to_owned()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), format!("<{}>", self.0))
    }
}

/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click` (RFC 8058).
#[derive(Clone)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }

    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_owned())
    }
}

fn render<T: Template>(t: &T) -> Result<String, RenderError> {
    t.render().map_err(|e| RenderError::Build(e.to_string()))
}

/// "Day 1: 2026-12-03", "Days 2–7: 2026-12-04 to 2026-12-09", "Day 7 onward: from 2026-12-09".
fn heading(title: &str, starts_on: chrono::NaiveDate, ends_on: Option<chrono::NaiveDate>) -> String {
    match ends_on {
        Some(end) if end != starts_on => format!("{title}: {starts_on} to {end}"),
        Some(_) => format!("{title}: {starts_on}"),
        None => format!("{title}: from {starts_on}"),
    }
}

/// The e-mail for `m`.
pub fn message(conn: &mut DbConn, ctx: &Context<'_>, m: &Message) -> Result<lettre::Message, RenderError> {
    let kind: MessageKind = m
        .kind
        .parse()
        .map_err(|()| RenderError::Gone(format!("unknown kind {}", m.kind)))?;
    let to: Mailbox = m
        .recipient
        .parse()
        .map_err(|_| RenderError::BadRecipient(m.recipient.clone()))?;
    let mut from = ctx.from.clone();
    from.name = Some(ctx.clinic.name.clone());
    let mut builder = lettre::Message::builder()
        .from(from)
        .to(to)
        .message_id(Some(m.message_id.clone()))
        .date_now();
    if let Some(reply) = ctx.clinic.email.as_deref().and_then(|e| e.parse::<Mailbox>().ok()) {
        builder = builder.reply_to(reply);
    }
    let (subject, text, html) = match (kind, kind.stage()) {
        (_, Some(stage)) => {
            let session = m
                .session_id
                .ok_or_else(|| RenderError::Gone("an aftercare message names no session".into()))?;
            let patient = m
                .patient_id
                .ok_or_else(|| RenderError::Gone("an aftercare message names no patient".into()))?;
            let mail = stage_mail(conn, ctx, session, stage, patient.0)?;
            let unsubscribe = ListUnsubscribe(mail.unsubscribe_url.clone());
            builder = builder.header(unsubscribe).header(ListUnsubscribePost);
            let subject = format!("A message from {}", ctx.clinic.name);
            (subject, render(&StageText(&mail))?, render(&StageHtml(&mail))?)
        }
        (MessageKind::Invitation, None) => {
            let code = m
                .payload
                .clone()
                .ok_or_else(|| RenderError::Gone("the invitation's code is no longer kept".into()))?;
            let mail = InvitationMail {
                clinic: ctx.clinic,
                link: format!("{}/activate?code={code}", ctx.public_url),
                activate_url: format!("{}/activate", ctx.public_url),
                code,
                days: INVITATION_DAYS,
                contact: ctx.contact(),
            };
            let subject = format!("Your patient portal at {}", ctx.clinic.name);
            (
                subject,
                render(&InvitationText(&mail))?,
                render(&InvitationHtml(&mail))?,
            )
        }
        (MessageKind::PasswordReset, None) => {
            let token = m
                .payload
                .clone()
                .ok_or_else(|| RenderError::Gone("the reset link is no longer kept".into()))?;
            let mail = ResetMail {
                clinic: ctx.clinic,
                link: format!("{}/reset?token={token}", ctx.public_url),
                minutes: RESET_MINUTES,
                contact: ctx.contact(),
            };
            let subject = format!("Reset your password at {}", ctx.clinic.name);
            (subject, render(&ResetText(&mail))?, render(&ResetHtml(&mail))?)
        }
        (other, None) => return Err(RenderError::Gone(format!("no e-mail is written for {other}"))),
    };
    builder
        .subject(subject)
        .multipart(MultiPart::alternative_plain_html(text, html))
        .map_err(|e| RenderError::Build(e.to_string()))
}

/// A stage of the session's timeline as it now stands.
fn stage_mail<'a>(
    conn: &mut DbConn,
    ctx: &Context<'a>,
    session: SessionId,
    stage: StageKey,
    patient: i64,
) -> Result<StageMail<'a>, RenderError> {
    let s = match series::find_session(conn, session) {
        Ok(s) => s,
        Err(DbError::NotFound) => return Err(RenderError::Gone(format!("session {session} no longer exists"))),
        Err(e) => return Err(e.into()),
    };
    if s.is_void() {
        return Err(RenderError::Gone(format!("session {session} is void")));
    }
    let sr = series::find(conn, s.series_id)?;
    let timeline = clinic_app::timeline::build(&s, &sr, s.performed_on);
    let st = timeline
        .stage(stage)
        .ok_or_else(|| RenderError::Gone(format!("no stage {}", stage.as_str())))?;
    Ok(StageMail {
        clinic: ctx.clinic,
        heading: heading(st.title, st.starts_on, st.ends_on),
        cautions: st.cautions.clone(),
        instructions: st.instructions.clone(),
        portal_url: format!("{}/portal?session_id={session}", ctx.public_url),
        unsubscribe_url: ctx.unsubscribe_url(patient),
        contact: ctx.contact(),
    })
}
