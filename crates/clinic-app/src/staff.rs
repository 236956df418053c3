//! Staff accounts: managers create, list, disable and re-enable them; operators add them from the
//! command line.

use crate::audit::event;
use crate::{Actor, Env, Error, ErrorCode, Result};
use clinic_db::users::User;
use clinic_db::{DbConn, DbError, login_sessions, users};
use clinic_domain::user::{Email, PersonName, Role};
use clinic_domain::{FieldError, UserId};

/// A new staff account, parsed.
#[derive(Debug, Clone)]
pub struct NewStaff {
    pub email: Email,
    pub name: PersonName,
    pub role: Role,
}

impl NewStaff {
    pub fn parse(email: &str, display_name: &str, role: &str) -> Result<Self, FieldError> {
        let email = Email::parse("email", email)?;
        let name = PersonName::parse("display_name", display_name)?;
        let role: Role = role.parse()?;
        if !role.is_staff() {
            return Err(FieldError::new("role", "must be manager or provider"));
        }
        Ok(Self { email, name, role })
    }
}

fn email_taken() -> Error {
    Error::refused(
        ErrorCode::EmailTaken,
        "an account with this e-mail address already exists",
    )
}

/// Creates a staff account with its password hash. `by` is the manager creating it, or `None` for an
/// operator on the command line.
#[tracing::instrument(level = "debug", skip_all)]
pub fn create(
    conn: &mut DbConn,
    env: &Env<'_>,
    by: Option<&Actor>,
    new: &NewStaff,
    password_hash: &str,
) -> Result<User> {
    if let Some(actor) = by {
        actor.require(env, &[Role::Manager])?;
    }
    let now = env.now();
    let created = conn.write_transaction(|conn| {
        if users::find_by_email(conn, new.email.as_str())?.is_some() {
            return Ok(None);
        }
        let user = users::insert(
            conn,
            &users::NewUser {
                email: new.email.as_str(),
                display_name: new.name.as_str(),
                role: new.role.as_str(),
                password_hash,
                patient_id: None,
                created_at: now,
            },
        )?;
        let audit = match by {
            Some(actor) => actor.event(env, "staff.create", "success"),
            None => event(now, "staff.create", "success").address("command line"),
        };
        let audit = audit
            .subject(format!("user:{}", user.id))
            .detail(format!("role {}", new.role));
        clinic_db::audit::insert(conn, &audit.build())?;
        Ok::<_, DbError>(Some(user))
    });
    match created {
        Ok(Some(user)) => Ok(user),
        Ok(None) | Err(DbError::Conflict(_)) => Err(email_taken()),
        Err(e) => Err(e.into()),
    }
}

/// The password hash of an invited account before it is activated: no password verifies against it.
pub const NOT_YET_SET: &str = "!invited: the password is set through the invitation";

/// Invites a staff member (manager): their account is created without a password, and a one-time code
/// (shown once, stored hashed, valid [`crate::invitations::INVITATION_DAYS`] days) lets them set
/// their own through activation.
#[tracing::instrument(level = "debug", skip_all)]
pub fn invite(
    conn: &mut DbConn,
    env: &Env<'_>,
    actor: &Actor,
    new: &NewStaff,
) -> Result<(User, crate::invitations::Issued)> {
    actor.require(env, &[Role::Manager])?;
    let user = create(conn, env, Some(actor), new, NOT_YET_SET)?;
    let issued = crate::invitations::issue_for_staff(conn, env, actor, user.id)?;
    Ok((user, issued))
}

/// Staff accounts, for a manager (audited).
#[tracing::instrument(level = "debug", skip_all)]
pub fn list(conn: &mut DbConn, env: &Env<'_>, actor: &Actor) -> Result<Vec<User>> {
    actor.require(env, &[Role::Manager])?;
    let staff = users::list_staff(conn)?;
    env.trail.record(actor.event(env, "staff.list", "success").build());
    Ok(staff)
}

/// Disables (ending the account's sessions at once) or re-enables a staff account. The last active
/// manager cannot be disabled.
#[tracing::instrument(level = "debug", skip_all, fields(id = %id, active))]
pub fn set_active(conn: &mut DbConn, env: &Env<'_>, actor: &Actor, id: UserId, active: bool) -> Result<()> {
    actor.require(env, &[Role::Manager])?;
    let now = env.now();
    conn.write_transaction(|conn| {
        let target = users::find(conn, id)?;
        if !target.role.is_staff() {
            return Err(Error::NotFound);
        }
        if !active && target.role == Role::Manager && target.is_active() && users::lock_active_managers(conn)? <= 1 {
            return Err(Error::refused(
                ErrorCode::LastManager,
                "this is the last active manager; add or enable another manager first",
            ));
        }
        users::set_disabled(conn, id, if active { None } else { target.disabled_at.or(Some(now)) })?;
        if !active {
            login_sessions::revoke_all_of_user(conn, id, None, now)?;
        }
        let action = if active { "staff.enable" } else { "staff.disable" };
        clinic_db::audit::insert(
            conn,
            &actor
                .event(env, action, "success")
                .subject(format!("user:{id}"))
                .build(),
        )?;
        Ok(())
    })
}
