//! The e-mails to patients and staff: written to the outbox in the transaction of the event that
//! causes them (a recorded session, an invitation, a password reset), listed on the patient's page,
//! retried by a provider, refused by the patient.

use crate::{Actor, Env, Error, ErrorCode, Result};
use chrono::NaiveDateTime;
use clinic_auth::generate_secret;
use clinic_db::audit::NewAuditEvent;
use clinic_db::outbox::{self, Message, NewMessage};
use clinic_db::patients::Patient;
use clinic_db::series::Session;
use clinic_db::{DbConn, patients};
use clinic_domain::messages::{MessageKind, aftercare_schedule};
use clinic_domain::user::Role;
use clinic_domain::{PatientId, UserId};

/// A `Message-ID` header value, unique and fixed when the message is queued (a message sent again after
/// a crash carries the same one).
fn message_id(env: &Env<'_>) -> Result<String> {
    let host = env
        .public_url
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split(['/', ':']).next())
        .filter(|h| !h.is_empty())
        .unwrap_or("clinic.invalid");
    let unique = generate_secret().map_err(|e| Error::internal("generating a message id", e))?;
    Ok(format!("<{}@{host}>", &unique[..32]))
}

/// One message to queue.
pub struct Queued<'a> {
    pub kind: MessageKind,
    pub recipient: &'a str,
    pub patient: Option<PatientId>,
    pub user: Option<UserId>,
    pub session: Option<&'a Session>,
    /// The link's secret (an activation code, a reset token), kept until the message is sent.
    pub payload: Option<&'a str>,
    pub at: NaiveDateTime,
}

impl Queued<'_> {
    /// The outbox row, with its `Message-ID`.
    fn row<'a>(&'a self, message_id: &'a str) -> NewMessage<'a> {
        NewMessage {
            kind: self.kind.as_str(),
            status: outbox::QUEUED,
            recipient: self.recipient,
            patient_id: self.patient.map(|p| p.0),
            user_id: self.user.map(|u| u.0),
            session_id: self.session.map(|s| s.id.0),
            message_id,
            payload: self.payload,
            scheduled_for: self.at,
            next_attempt_at: self.at,
        }
    }
}

/// Writes a message to the outbox (inside the caller's transaction).
pub fn queue(conn: &mut DbConn, env: &Env<'_>, q: &Queued<'_>) -> Result<Message> {
    let id = message_id(env)?;
    Ok(outbox::insert(conn, &q.row(&id))?)
}

/// Queues a session's aftercare e-mails (the day's message and the reminders of the later stages at
/// the clinic's reminder hour), unless the patient has no e-mail address or refused them. `audit`'s rows
/// are written with them, in the same statement on PostgreSQL (one round trip fewer for a recording).
pub fn queue_aftercare(
    conn: &mut DbConn,
    env: &Env<'_>,
    patient: &Patient,
    session: &Session,
    audit: &[NewAuditEvent],
) -> Result<usize> {
    queue_aftercare_except(conn, env, patient, session, None, audit)
}

/// The aftercare e-mails again after a session's date changed: the reminders follow the new date, and
/// the day of the procedure's e-mail is not sent twice.
pub fn requeue_aftercare(conn: &mut DbConn, env: &Env<'_>, patient: &Patient, session: &Session) -> Result<usize> {
    let day_of = MessageKind::AftercareDayOf;
    let sent = clinic_db::outbox::was_sent(conn, session.id, day_of.as_str())?;
    queue_aftercare_except(conn, env, patient, session, sent.then_some(day_of), &[])
}

fn queue_aftercare_except(
    conn: &mut DbConn,
    env: &Env<'_>,
    patient: &Patient,
    session: &Session,
    except: Option<MessageKind>,
    audit: &[NewAuditEvent],
) -> Result<usize> {
    let Some(email) = patient.email.as_deref().filter(|_| !patient.reminders_opt_out) else {
        clinic_db::audit::insert_many(conn, audit)?;
        return Ok(0);
    };
    let clinic = &env.clinic;
    let schedule = aftercare_schedule(
        session.performed_on,
        clinic.time_zone,
        clinic.reminder_hour,
        env.clock.now(),
    );
    let queued: Vec<Queued<'_>> = schedule
        .into_iter()
        .filter(|m| Some(m.kind) != except)
        .map(|m| Queued {
            kind: m.kind,
            recipient: email,
            patient: Some(patient.id),
            user: None,
            session: Some(session),
            payload: None,
            at: m.at.naive_utc(),
        })
        .collect();
    let ids = queued.iter().map(|_| message_id(env)).collect::<Result<Vec<_>>>()?;
    let rows: Vec<NewMessage<'_>> = queued.iter().zip(&ids).map(|(q, id)| q.row(id)).collect();
    // One statement for the whole schedule and the audit rows: one round trip on PostgreSQL.
    Ok(outbox::insert_many_audited(conn, &rows, audit)?)
}

/// A patient's messages, newest first (staff; audited as a read of the patient).
#[tracing::instrument(level = "debug", skip_all)]
pub fn list(conn: &mut DbConn, env: &Env<'_>, actor: &Actor, patient: PatientId) -> Result<Vec<Message>> {
    actor.require(env, &[Role::Provider, Role::Manager])?;
    patients::find(conn, patient)?;
    listed(conn, env, actor, patient)
}

fn listed(conn: &mut DbConn, env: &Env<'_>, actor: &Actor, patient: PatientId) -> Result<Vec<Message>> {
    let list = outbox::list_for_patient(conn, patient, clinic_db::patient_page::MESSAGES)?;
    env.trail.record(
        actor
            .event(env, "messages.list", "success")
            .patient(Some(patient))
            .build(),
    );
    Ok(list)
}

/// Sends a failed (or held) message again (a provider; audited).
#[tracing::instrument(level = "debug", skip_all)]
pub fn retry(conn: &mut DbConn, env: &Env<'_>, actor: &Actor, id: i64) -> Result<Message> {
    actor.require(env, &[Role::Provider])?;
    conn.write_transaction(|conn| {
        let m = outbox::find(conn, id)?;
        if !outbox::retry(conn, id, env.now())? {
            return Err(Error::refused(
                ErrorCode::NotRetryable,
                format!(
                    "this message is {}; only a failed or held message can be sent again",
                    m.status
                ),
            ));
        }
        clinic_db::audit::insert(
            conn,
            &actor
                .event(env, "message.retry", "success")
                .patient(m.patient_id)
                .subject(format!("message:{id}"))
                .build(),
        )?;
        Ok(outbox::find(conn, id)?)
    })
}

/// Records whether a patient refuses aftercare e-mails and reminders; refusing cancels those queued.
/// `by` is the patient in the portal, or `None` for the one-click link in an e-mail.
#[tracing::instrument(level = "debug", skip_all)]
pub fn set_reminders(
    conn: &mut DbConn,
    env: &Env<'_>,
    patient: PatientId,
    wanted: bool,
    by: Option<&Actor>,
) -> Result<()> {
    let now = env.now();
    conn.write_transaction(|conn| {
        if !patients::set_reminders_opt_out(conn, patient, !wanted)? {
            return Err(Error::NotFound);
        }
        let cancelled = if wanted {
            0
        } else {
            let kinds: Vec<&str> = MessageKind::ALL
                .into_iter()
                .filter(|k| k.may_be_refused())
                .map(MessageKind::as_str)
                .collect();
            outbox::cancel_for_patient(conn, patient, &kinds)?
        };
        let action = if wanted { "reminders.resume" } else { "reminders.refuse" };
        let (event, how) = match by {
            Some(actor) => (actor.event(env, action, "success"), "in the portal"),
            None => (crate::audit::event(now, action, "success"), "by the e-mail's link"),
        };
        let detail = format!("{how}; {cancelled} queued message(s) cancelled");
        clinic_db::audit::insert(conn, &event.patient(Some(patient)).detail(detail).build())?;
        Ok(())
    })
}
