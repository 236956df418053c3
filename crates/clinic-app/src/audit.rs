//! Audit rows. A write puts its row in the same transaction as the write (`clinic_db::audit::insert`);
//! reads and refusals go to a [`Trail`], which the server group-commits and the command line writes
//! when it ends. Never put a password, token or code in any field.

use chrono::NaiveDateTime;
use clinic_db::audit::NewAuditEvent;
use clinic_domain::{PatientId, UserId};
use std::sync::Mutex;

/// Where audit rows that need not share a transaction go.
pub trait Trail: Send + Sync {
    fn record(&self, event: NewAuditEvent);
}

/// Builds one audit row.
#[must_use]
pub struct Event(NewAuditEvent);

pub fn event(at: NaiveDateTime, action: &str, outcome: &str) -> Event {
    Event(NewAuditEvent {
        occurred_at: at,
        actor_id: None,
        action: action.into(),
        patient_id: None,
        subject: None,
        outcome: outcome.into(),
        address: None,
        detail: None,
    })
}

impl Event {
    pub fn actor(mut self, id: Option<UserId>) -> Self {
        self.0.actor_id = id.map(|i| i.0);
        self
    }

    pub fn patient(mut self, id: Option<PatientId>) -> Self {
        self.0.patient_id = id.map(|i| i.0);
        self
    }

    pub fn subject(mut self, s: impl Into<String>) -> Self {
        self.0.subject = Some(s.into());
        self
    }

    pub fn address(mut self, a: &str) -> Self {
        self.0.address = Some(a.to_owned());
        self
    }

    pub fn detail(mut self, d: impl Into<String>) -> Self {
        self.0.detail = Some(d.into());
        self
    }

    pub fn build(self) -> NewAuditEvent {
        self.0
    }
}

/// A trail that keeps its rows until they are taken, for one-shot commands that write them at the end.
#[derive(Default)]
pub struct Collected(Mutex<Vec<NewAuditEvent>>);

impl Collected {
    pub fn take(&self) -> Vec<NewAuditEvent> {
        self.0.lock().map(|mut v| std::mem::take(&mut *v)).unwrap_or_default()
    }
}

impl Trail for Collected {
    fn record(&self, event: NewAuditEvent) {
        if let Ok(mut v) = self.0.lock() {
            v.push(event);
        }
    }
}
