//! Signing in and out, login sessions, activation with a one-time code, and changing a password.
//! Hashing happens between the halves of an action, on the caller's hashing threads.

use crate::audit::event;
use crate::{Actor, Env, Error, ErrorCode, Result};
use chrono::{Duration, NaiveDateTime};
use clinic_auth::{TokenKeys, backoff_after, generate_secret, hash_code};
use clinic_db::login_sessions::LoginSession;
use clinic_db::users::User;
use clinic_db::{DbConn, DbError, invitations, login_sessions, patients, throttle, users};
use clinic_domain::messages::MessageKind;
use clinic_domain::user::{Email, Role};

/// A login session lasts at most this long…
pub const SESSION_ABSOLUTE_HOURS: i64 = 8;
/// …and ends after this long without a request.
pub const SESSION_IDLE_MINUTES: i64 = 30;
/// `last_seen_at` is written at most this often per session.
const TOUCH_AFTER_SECS: i64 = 60;
/// Failed attempts from one address within the window before it is locked out.
const ADDRESS_FAILURE_LIMIT: u32 = 50;
const ADDRESS_WINDOW_MINUTES: i64 = 15;
/// Consecutive failures of one account are counted over this window.
const ACCOUNT_WINDOW_HOURS: i64 = 24;

/// How long a password reset link works.
pub const RESET_MINUTES: i64 = 30;

/// A new login session and its token.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub token: String,
    pub expires_at: NaiveDateTime,
    pub user: User,
}

/// The e-mail address as accounts store it (lower case), or the raw text trimmed when it does not parse.
pub fn sign_in_name(email: &str) -> String {
    Email::parse("email", email)
        .map(|e| e.as_str().to_owned())
        .unwrap_or_else(|_| email.trim().to_lowercase())
}

fn account_key(email: &str) -> String {
    format!("account:{email}")
}

fn address_key(purpose: &str, address: &str) -> String {
    format!("{purpose}-address:{address}")
}

/// Refuses with `Throttled` while any of `keys` is locked.
#[tracing::instrument(level = "debug", skip_all)]
pub fn check_throttle(conn: &mut DbConn, keys: &[&str], now: NaiveDateTime) -> Result<()> {
    let mut wait = None;
    for key in keys {
        if let Some(secs) = throttle::get(conn, key)?.and_then(|t| t.locked_for(now)) {
            wait = Some(wait.map_or(secs, |w: i64| w.max(secs)));
        }
    }
    wait.map_or(Ok(()), |retry_after| Err(Error::Throttled { retry_after }))
}

/// Counts a failed attempt against an account (consecutive, growing back-off) and an address.
#[tracing::instrument(level = "debug", skip_all)]
pub fn record_failure(
    conn: &mut DbConn,
    account: Option<&str>,
    purpose: &str,
    address: &str,
    now: NaiveDateTime,
) -> Result<()> {
    if let Some(email) = account {
        throttle::record_failure(
            conn,
            &account_key(email),
            now,
            Duration::hours(ACCOUNT_WINDOW_HOURS),
            backoff_after,
        )?;
    }
    let address_lock = |n: u32| {
        (n >= ADDRESS_FAILURE_LIMIT).then(|| std::time::Duration::from_secs(60 * ADDRESS_WINDOW_MINUTES as u64))
    };
    throttle::record_failure(
        conn,
        &address_key(purpose, address),
        now,
        Duration::minutes(ADDRESS_WINDOW_MINUTES),
        address_lock,
    )?;
    Ok(())
}

/// Opens a login session for `user` and signs its token.
#[tracing::instrument(level = "debug", skip_all)]
pub fn open_session(conn: &mut DbConn, env: &Env<'_>, keys: &TokenKeys, user: User) -> Result<SignedIn> {
    let now = env.now();
    let session_id = generate_secret().map_err(|e| Error::internal("generating a session id", e))?;
    let expires_at = now + Duration::hours(SESSION_ABSOLUTE_HOURS);
    login_sessions::insert(conn, &session_id, user.id, now, expires_at)?;
    let token = keys
        .issue(
            user.id.0,
            &session_id,
            now.and_utc().timestamp(),
            expires_at.and_utc().timestamp(),
        )
        .map_err(|e| Error::internal("signing a token", e))?;
    Ok(SignedIn {
        token,
        expires_at,
        user,
    })
}

/// Sign-in, before the password is checked: the limits, then the account (if any) to check against.
#[tracing::instrument(level = "debug", skip_all)]
pub fn sign_in_lookup(conn: &mut DbConn, env: &Env<'_>, email: &str, address: &str) -> Result<Option<User>> {
    let now = env.now();
    let throttled = check_throttle(conn, &[&account_key(email), &address_key("login", address)], now);
    if let Err(e) = throttled {
        env.trail
            .record(event(now, "auth.login", "throttled").address(address).build());
        return Err(e);
    }
    Ok(users::find_by_email(conn, email)?)
}

/// Sign-in, once the password has been checked against `user`'s hash (or a dummy one).
#[tracing::instrument(level = "debug", skip_all)]
pub fn sign_in_finish(
    conn: &mut DbConn,
    env: &Env<'_>,
    keys: &TokenKeys,
    email: &str,
    address: &str,
    user: Option<User>,
    password_matches: bool,
) -> Result<SignedIn> {
    let now = env.now();
    match user {
        Some(user) if password_matches && user.is_active() => {
            throttle::reset(conn, &account_key(email))?;
            let signed = open_session(conn, env, keys, user)?;
            env.trail.record(
                event(now, "auth.login", "success")
                    .actor(Some(signed.user.id))
                    .address(address)
                    .build(),
            );
            Ok(signed)
        }
        other => {
            record_failure(conn, Some(email), "login", address, now)?;
            env.trail.record(
                event(now, "auth.login", "failure")
                    .actor(other.map(|u| u.id))
                    .address(address)
                    .build(),
            );
            Err(Error::InvalidCredentials)
        }
    }
}

/// Ends the actor's login session.
#[tracing::instrument(level = "debug", skip_all)]
pub fn sign_out(conn: &mut DbConn, env: &Env<'_>, actor: &Actor) -> Result<()> {
    login_sessions::revoke(conn, &actor.session_id, env.now())?;
    env.trail.record(actor.event(env, "auth.logout", "success").build());
    Ok(())
}

fn invalid_code() -> Error {
    Error::refused(
        ErrorCode::InvalidCode,
        "this code is not valid: it may be mistyped, already used, replaced by a newer one, or expired",
    )
}

/// Turns a patient's one-time code into their portal login (or a new password for it) and signs in.
/// `password_hash` is the new password, hashed.
#[tracing::instrument(level = "debug", skip_all)]
pub fn activate(
    conn: &mut DbConn,
    env: &Env<'_>,
    keys: &TokenKeys,
    code: &str,
    password_hash: &str,
    address: &str,
) -> Result<SignedIn> {
    let now = env.now();
    let code_hash = hash_code(code);
    let address_key = address_key("activate", address);
    check_throttle(conn, &[&address_key], now)?;
    let outcome = conn.write_transaction(|conn| {
        let invitation = invitations::find_by_hash(conn, &code_hash)?
            .filter(|i| i.purpose == invitations::PURPOSE_PATIENT && i.is_usable(now));
        let Some((invitation, patient_id)) = invitation.and_then(|i| i.patient_id.map(|p| (i, p))) else {
            return Ok(None);
        };
        let patient = patients::find(conn, patient_id)?;
        let Some(email) = patient.email.clone() else {
            return Ok(None);
        };
        if !invitations::mark_used(conn, invitation.id, now)? {
            return Ok(None);
        }
        let user = match users::find_by_patient(conn, patient_id)? {
            Some(existing) => {
                users::set_password_hash(conn, existing.id, password_hash)?;
                login_sessions::revoke_all_of_user(conn, existing.id, None, now)?;
                users::find(conn, existing.id)?
            }
            None => users::insert(
                conn,
                &users::NewUser {
                    email: &email,
                    display_name: &patient.full_name(),
                    role: Role::Patient.as_str(),
                    password_hash,
                    patient_id: Some(patient_id.0),
                    created_at: now,
                },
            )?,
        };
        clinic_db::audit::insert(
            conn,
            &event(now, "auth.activate", "success")
                .actor(Some(user.id))
                .patient(Some(patient_id))
                .address(address)
                .build(),
        )?;
        Ok::<_, DbError>(Some(user))
    })?;
    match outcome {
        Some(user) => {
            throttle::reset(conn, &address_key)?;
            open_session(conn, env, keys, user)
        }
        None => {
            throttle::record_failure(conn, &address_key, now, Duration::hours(24), backoff_after)?;
            env.trail
                .record(event(now, "auth.activate", "failure").address(address).build());
            Err(invalid_code())
        }
    }
}

/// A password change whose current password was wrong: counted like a failed sign-in, audited,
/// refused.
#[tracing::instrument(level = "debug", skip_all)]
pub fn wrong_current_password(conn: &mut DbConn, env: &Env<'_>, actor: &Actor) -> Result<()> {
    record_failure(conn, Some(&actor.user.email), "login", &actor.address, env.now())?;
    env.trail
        .record(actor.event(env, "auth.password_change", "failure").build());
    Err(Error::refused(
        ErrorCode::ValidationFailed,
        "the current password is not right",
    ))
}

/// Sets the actor's new password (hashed) and ends every other session of the account.
#[tracing::instrument(level = "debug", skip_all)]
pub fn set_password(conn: &mut DbConn, env: &Env<'_>, actor: &Actor, password_hash: &str) -> Result<()> {
    let now = env.now();
    conn.write_transaction(|conn| {
        users::set_password_hash(conn, actor.user.id, password_hash)?;
        login_sessions::revoke_all_of_user(conn, actor.user.id, Some(&actor.session_id), now)?;
        clinic_db::audit::insert(conn, &actor.event(env, "auth.password_change", "success").build())
    })?;
    Ok(())
}

/// Someone asked to reset the password of `email`: when it names an active account, a single-use link
/// valid for [`RESET_MINUTES`] is e-mailed to it. The answer never says whether it did.
#[tracing::instrument(level = "debug", skip_all)]
pub fn request_password_reset(conn: &mut DbConn, env: &Env<'_>, email: &str, address: &str) -> Result<()> {
    let now = env.now();
    let email = sign_in_name(email);
    let Some(user) = users::find_by_email(conn, &email)?.filter(User::is_active) else {
        env.trail.record(
            event(now, "auth.password_reset_request", "no_account")
                .address(address)
                .build(),
        );
        return Ok(());
    };
    let token = generate_secret().map_err(|e| Error::internal("generating a reset token", e))?;
    conn.write_transaction(|conn| {
        clinic_db::password_resets::replace(
            conn,
            user.id,
            &hash_code(&token),
            now,
            now + Duration::minutes(RESET_MINUTES),
        )?;
        // An earlier link still waiting in the outbox names a token that no longer works.
        clinic_db::outbox::cancel_for_user(conn, user.id, &[MessageKind::PasswordReset.as_str()])?;
        crate::messages::queue(
            conn,
            env,
            &crate::messages::Queued {
                kind: MessageKind::PasswordReset,
                recipient: &user.email,
                patient: user.patient_id,
                user: Some(user.id),
                session: None,
                payload: Some(&token),
                at: now,
            },
        )?;
        clinic_db::audit::insert(
            conn,
            &event(now, "auth.password_reset_request", "sent")
                .actor(Some(user.id))
                .address(address)
                .build(),
        )?;
        Ok(())
    })
}

fn invalid_reset_link() -> Error {
    Error::refused(
        ErrorCode::InvalidCode,
        "this link is not valid: it may be used, replaced by a newer one, or expired; ask for a new one",
    )
}

/// Whether a reset link's token would be taken now (read only: checked before a password is hashed).
pub fn reset_link_is_usable(conn: &mut DbConn, env: &Env<'_>, token: &str) -> Result<()> {
    if clinic_db::password_resets::is_usable(conn, &hash_code(token.trim()), env.now())? {
        Ok(())
    } else {
        Err(invalid_reset_link())
    }
}

/// Sets a new password (hashed) with a reset link's token; every session of the account ends.
#[tracing::instrument(level = "debug", skip_all)]
pub fn confirm_password_reset(
    conn: &mut DbConn,
    env: &Env<'_>,
    token: &str,
    password_hash: &str,
    address: &str,
) -> Result<()> {
    let now = env.now();
    let done = conn.write_transaction(|conn| {
        let Some(user_id) = clinic_db::password_resets::take(conn, &hash_code(token.trim()), now)? else {
            return Ok(None);
        };
        let user = users::find(conn, user_id)?;
        if !user.is_active() {
            return Ok(None);
        }
        users::set_password_hash(conn, user.id, password_hash)?;
        login_sessions::revoke_all_of_user(conn, user.id, None, now)?;
        throttle::reset(conn, &account_key(&user.email))?;
        clinic_db::audit::insert(
            conn,
            &event(now, "auth.password_reset", "success")
                .actor(Some(user.id))
                .address(address)
                .build(),
        )?;
        Ok::<_, Error>(Some(()))
    })?;
    match done {
        Some(()) => Ok(()),
        None => {
            env.trail
                .record(event(now, "auth.password_reset", "failure").address(address).build());
            Err(invalid_reset_link())
        }
    }
}

/// What a login session row says of a token.
pub enum Judged {
    /// Not live; the session row to revoke, if it is still open (expired or its account disabled).
    Refused { revoke: Option<String> },
    /// Live; `touch` when its last-seen stamp is due to be written.
    Live { actor: Actor, touch: bool },
}

/// Judges a token's login session (found by its `sid`) for the account named by its `sub`.
pub fn judge(found: Option<(LoginSession, User)>, subject: &str, now: NaiveDateTime, address: String) -> Judged {
    let Some((session, user)) = found else {
        return Judged::Refused { revoke: None };
    };
    let idle_since = now - Duration::minutes(SESSION_IDLE_MINUTES);
    let live = session.revoked_at.is_none()
        && session.expires_at > now
        && session.last_seen_at > idle_since
        && subject == user.id.0.to_string()
        && user.is_active();
    if !live {
        return Judged::Refused {
            revoke: session.revoked_at.is_none().then_some(session.id),
        };
    }
    Judged::Live {
        touch: (now - session.last_seen_at).num_seconds() >= TOUCH_AFTER_SECS,
        actor: Actor {
            user,
            session_id: session.id,
            address,
        },
    }
}

/// A request with no usable token, audited as refused.
pub fn token_refused(env: &Env<'_>, address: &str) {
    env.trail.record(
        event(env.now(), "auth.token_refused", "denied")
            .address(address)
            .build(),
    );
}
