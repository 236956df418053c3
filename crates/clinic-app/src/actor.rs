//! Who is acting: a signed-in account (from a token or a cookie) or, for the command line, an operator.

use crate::audit::{Event, event};
use crate::{Env, Error, Result};
use clinic_db::users::User;
use clinic_domain::PatientId;
use clinic_domain::user::Role;

/// The signed-in account behind a request.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user: User,
    /// The login session the request came with (empty on the command line).
    pub session_id: String,
    /// The client's address, for the audit log.
    pub address: String,
    /// The session may only enrol a second factor (the clinic requires one and the account has none).
    pub enrolment_only: bool,
}

impl Actor {
    /// An account acting from the command line (`clinic demo`).
    pub fn command_line(user: User) -> Self {
        Self {
            user,
            session_id: String::new(),
            address: "command line".into(),
            enrolment_only: false,
        }
    }

    /// Refuses (audited) unless the account has one of `roles`.
    pub fn require(&self, env: &Env<'_>, roles: &[Role]) -> Result<()> {
        if roles.contains(&self.user.role) {
            return Ok(());
        }
        env.trail.record(
            self.event(env, "access.role_refused", "denied")
                .detail(format!("role {}", self.user.role))
                .build(),
        );
        Err(Error::Forbidden)
    }

    /// Staff may read any patient's record; a patient only their own (anyone else's is "not found").
    pub fn may_read_patient(&self, env: &Env<'_>, patient: PatientId) -> Result<()> {
        match self.user.role {
            Role::Provider | Role::Manager => Ok(()),
            Role::Patient if self.user.patient_id == Some(patient) => Ok(()),
            Role::Patient => {
                env.trail.record(
                    self.event(env, "access.other_patient", "denied")
                        .patient(Some(patient))
                        .build(),
                );
                Err(Error::NotFound)
            }
        }
    }

    /// The patient record a patient account belongs to.
    pub fn own_patient(&self) -> Result<PatientId> {
        self.user.patient_id.ok_or(Error::Forbidden)
    }

    /// An audit event with this account as actor, from its address.
    pub fn event(&self, env: &Env<'_>, action: &str, outcome: &str) -> Event {
        event(env.now(), action, outcome)
            .actor(Some(self.user.id))
            .address(&self.address)
    }
}
