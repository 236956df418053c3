//! The first start: a one-time setup link, and the first manager it creates.

use crate::audit::event;
use crate::clinic::Clinic;
use crate::staff::NewStaff;
use crate::{Env, Error, Result};
use chrono::{Duration, NaiveDateTime};
use chrono_tz::Tz;
use clinic_auth::{OneTimeCode, generate_code, hash_code};
use clinic_db::{DbConn, invitations, users};
use clinic_domain::user::{PersonName, Role};

const SETUP_LINK_DAYS: i64 = 7;

/// While no active manager exists, issues a fresh one-time setup code (voiding any earlier one).
#[tracing::instrument(level = "debug", skip_all)]
pub fn offer_link(conn: &mut DbConn, now: NaiveDateTime) -> Result<Option<OneTimeCode>> {
    if users::count_active_managers(conn)? > 0 {
        return Ok(None);
    }
    let code = generate_code().map_err(|e| Error::internal("generating the setup code", e))?;
    let hash = hash_code(code.as_str());
    invitations::replace(
        conn,
        &invitations::NewInvitation {
            purpose: invitations::PURPOSE_SETUP,
            patient_id: None,
            code_hash: &hash,
            created_by: None,
            created_at: now,
            expires_at: now + Duration::days(SETUP_LINK_DAYS),
            user_id: None,
        },
    )?;
    Ok(Some(code))
}

/// True while the clinic has no active manager (the setup page is open).
#[tracing::instrument(level = "debug", skip_all)]
pub fn is_open(conn: &mut DbConn) -> Result<bool> {
    Ok(users::count_active_managers(conn)? == 0)
}

/// Why the first manager was not created, in words for the setup page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetupRefusal {
    InvalidCode,
    AlreadySetUp,
    EmailTaken,
}

impl SetupRefusal {
    pub fn message(&self) -> &'static str {
        match self {
            SetupRefusal::InvalidCode => {
                "This setup code is not valid: it may be mistyped, used or expired. Restart the server for a new one."
            }
            SetupRefusal::AlreadySetUp => "The clinic already has a manager; sign in instead.",
            SetupRefusal::EmailTaken => "An account with this e-mail address already exists.",
        }
    }
}

/// Whether a setup code would be taken now, checked before the password is hashed; the attempt is
/// taken from `address`'s allowance for one-time codes first.
pub fn code_is_usable(conn: &mut DbConn, env: &Env<'_>, code: &str, address: &str) -> Result<Result<(), SetupRefusal>> {
    if !is_open(conn)? {
        return Ok(Err(SetupRefusal::AlreadySetUp));
    }
    crate::accounts::take_attempt(conn, &crate::accounts::code_limits("setup", address), env.now())?;
    let usable = invitations::find_by_hash(conn, &hash_code(code))?
        .is_some_and(|i| i.purpose == invitations::PURPOSE_SETUP && i.is_usable(env.now()));
    Ok(if usable { Ok(()) } else { Err(SetupRefusal::InvalidCode) })
}

/// Creates the first manager with the setup code, once, and names the clinic. `new.role` is ignored:
/// the account is a manager.
#[tracing::instrument(level = "debug", skip_all)]
pub fn first_manager(
    conn: &mut DbConn,
    env: &Env<'_>,
    code: &str,
    new: &NewStaff,
    password_hash: &str,
    clinic_name: &PersonName,
    time_zone: Tz,
) -> Result<Result<Clinic, SetupRefusal>> {
    let now = env.now();
    let code_hash = hash_code(code);
    conn.write_transaction(|conn| {
        let usable = invitations::find_by_hash(conn, &code_hash)?
            .filter(|i| i.purpose == invitations::PURPOSE_SETUP && i.is_usable(now));
        let Some(invitation) = usable else {
            return Ok(Err(SetupRefusal::InvalidCode));
        };
        if users::count_active_managers(conn)? > 0 {
            return Ok(Err(SetupRefusal::AlreadySetUp));
        }
        if users::find_by_email(conn, new.email.as_str())?.is_some() {
            return Ok(Err(SetupRefusal::EmailTaken));
        }
        invitations::mark_used(conn, invitation.id, now)?;
        let user = users::insert(
            conn,
            &users::NewUser {
                email: new.email.as_str(),
                display_name: new.name.as_str(),
                role: Role::Manager.as_str(),
                password_hash,
                patient_id: None,
                created_at: now,
            },
        )?;
        let clinic = crate::clinic::name_at_setup(conn, clinic_name, time_zone, now)?;
        clinic_db::audit::insert(
            conn,
            &event(now, "setup.first_manager", "success")
                .actor(Some(user.id))
                .subject(format!("user:{}", user.id))
                .detail(format!("clinic time zone {}", time_zone.name()))
                .build(),
        )?;
        Ok::<_, Error>(Ok(clinic))
    })
}
