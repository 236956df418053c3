//! Enrolling and removing one's own second factor (TOTP). Signing in with it is in `accounts`.

use crate::accounts::{own_code_attempt, own_code_right, second_factor_matches};
use crate::{Actor, Env, Error, ErrorCode, Result};
use clinic_auth::mfa::{RECOVERY_CODES, matching_step, new_totp_secret, open, otpauth_url, seal};
use clinic_auth::{DerivedKey, OneTimeCode, generate_code, hash_code};
use clinic_db::{DbConn, login_sessions, mfa};

/// A started enrolment: the secret to type or scan, and its `otpauth://` address.
#[derive(Debug, Clone)]
pub struct TotpStart {
    pub secret: String,
    pub otpauth_url: String,
}

fn internal(context: &'static str) -> impl Fn(clinic_auth::mfa::MfaError) -> Error {
    move |e| Error::internal(context, e)
}

/// Starts (or restarts) enrolment with a new secret; refused while a confirmed one exists.
#[tracing::instrument(level = "debug", skip_all)]
pub fn start(conn: &mut DbConn, env: &Env<'_>, actor: &Actor, key: &DerivedKey) -> Result<TotpStart> {
    let secret = new_totp_secret().map_err(internal("making a second-factor secret"))?;
    let sealed = seal(key, &secret).map_err(internal("sealing a second-factor secret"))?;
    if !mfa::start(conn, actor.user.id, &sealed, env.now())? {
        return Err(Error::refused(
            ErrorCode::MfaAlreadyEnabled,
            "this account has a second factor already; remove it first to set up another",
        ));
    }
    let otpauth_url =
        otpauth_url(&secret, &env.clinic.name, &actor.user.email).map_err(internal("naming a second-factor secret"))?;
    env.trail.record(actor.event(env, "mfa.enrol", "started").build());
    Ok(TotpStart { secret, otpauth_url })
}

/// The secret of an enrolment not yet confirmed, for showing it again.
pub fn pending(conn: &mut DbConn, env: &Env<'_>, actor: &Actor, key: &DerivedKey) -> Result<Option<TotpStart>> {
    let Some(found) = mfa::find(conn, actor.user.id)?.filter(|m| m.confirmed_at.is_none()) else {
        return Ok(None);
    };
    let secret = open(key, &found.sealed_secret).map_err(internal("opening a second-factor secret"))?;
    let otpauth_url =
        otpauth_url(&secret, &env.clinic.name, &actor.user.email).map_err(internal("naming a second-factor secret"))?;
    Ok(Some(TotpStart { secret, otpauth_url }))
}

/// Whether the actor has a confirmed second factor, and how many recovery codes are left.
pub fn status(conn: &mut DbConn, actor: &Actor) -> Result<Option<i64>> {
    if !mfa::is_enabled(conn, actor.user.id)? {
        return Ok(None);
    }
    Ok(Some(mfa::recovery_codes_left(conn, actor.user.id)?))
}

fn wrong_code() -> Error {
    Error::refused(
        ErrorCode::InvalidCode,
        "this code is not right: type the six digits your app shows now, and check your phone's clock",
    )
}

/// Confirms enrolment with a code from the app: the second factor is on, this session reaches
/// everything the account may, and the ten recovery codes are returned (shown once, stored hashed).
#[tracing::instrument(level = "debug", skip_all)]
pub fn confirm(
    conn: &mut DbConn,
    env: &Env<'_>,
    actor: &Actor,
    key: &DerivedKey,
    code: &str,
) -> Result<Vec<OneTimeCode>> {
    let Some(found) = mfa::find(conn, actor.user.id)?.filter(|m| m.confirmed_at.is_none()) else {
        return Err(Error::refused(
            ErrorCode::MfaNotStarted,
            "there is no second factor waiting to be confirmed; start the set-up first",
        ));
    };
    own_code_attempt(conn, env, actor, "mfa.enrol")?;
    let secret = open(key, &found.sealed_secret).map_err(internal("opening a second-factor secret"))?;
    let unix = u64::try_from(env.now().and_utc().timestamp()).unwrap_or(0);
    let Some(step) = matching_step(&secret, code, unix).map_err(internal("checking a second-factor code"))? else {
        env.trail.record(actor.event(env, "mfa.enrol", "failure").build());
        return Err(wrong_code());
    };
    let codes = (0..RECOVERY_CODES)
        .map(|_| generate_code().map_err(|e| Error::internal("generating recovery codes", e)))
        .collect::<Result<Vec<_>>>()?;
    let hashes: Vec<String> = codes.iter().map(|c| hash_code(c.as_str())).collect();
    let step = i64::try_from(step).unwrap_or(i64::MAX);
    let confirmed = conn.write_transaction(|conn| {
        if !mfa::confirm(conn, actor.user.id, step, &hashes, env.now())? {
            return Ok(false);
        }
        login_sessions::end_enrolment_only(conn, &actor.session_id)?;
        clinic_db::audit::insert(conn, &actor.event(env, "mfa.enable", "success").build())?;
        Ok::<_, Error>(true)
    })?;
    if !confirmed {
        return Err(Error::refused(
            ErrorCode::MfaAlreadyEnabled,
            "the second factor is on already",
        ));
    }
    own_code_right(conn, actor)?;
    Ok(codes)
}

/// Removes the actor's second factor, given their password (checked by the caller, after an attempt
/// was taken with [`crate::accounts::password_change_attempt`]) and a current code or recovery code.
#[tracing::instrument(level = "debug", skip_all)]
pub fn remove(
    conn: &mut DbConn,
    env: &Env<'_>,
    actor: &Actor,
    key: &DerivedKey,
    password_matches: bool,
    code: &str,
) -> Result<()> {
    if !mfa::is_enabled(conn, actor.user.id)? {
        return Err(Error::NotFound);
    }
    if !password_matches || !second_factor_matches(conn, env, key, actor.user.id, code)? {
        env.trail.record(actor.event(env, "mfa.disable", "failure").build());
        return Err(Error::refused(
            ErrorCode::InvalidCode,
            "the password or the code is not right",
        ));
    }
    conn.write_transaction(|conn| {
        mfa::remove(conn, actor.user.id)?;
        clinic_db::audit::insert(conn, &actor.event(env, "mfa.disable", "success").build())
    })?;
    crate::accounts::password_change_right(conn, actor)
}
