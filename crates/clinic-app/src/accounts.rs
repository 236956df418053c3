//! Signing in and out, login sessions, activation with a one-time code, and changing a password.
//! Hashing happens between the halves of an action, on the caller's hashing threads.

use crate::audit::event;
use crate::{Actor, Env, Error, ErrorCode, Result};
use chrono::{Duration, NaiveDateTime};
use clinic_auth::DerivedKey;
use clinic_auth::{
    Allowance, CODES_PER_ADDRESS, PER_ACCOUNT, PER_ACCOUNT_AND_ADDRESS, PER_ADDRESS, TokenKeys, generate_secret,
    hash_code,
};
use clinic_db::login_sessions::LoginSession;
use clinic_db::users::User;
use clinic_db::{DbConn, DbError, invitations, login_sessions, mfa, patients, throttle, users};
use clinic_domain::clinic::MfaPolicy;
use clinic_domain::messages::MessageKind;
use clinic_domain::user::{Email, Role};
use clinic_domain::{PatientId, UserId};

/// A login session lasts at most this long…
pub const SESSION_ABSOLUTE_HOURS: i64 = 8;
/// …and ends after this long without a request.
pub const SESSION_IDLE_MINUTES: i64 = 30;
/// `last_seen_at` is written at most this often per session.
const TOUCH_AFTER_SECS: i64 = 60;
/// How long a password reset link works.
pub const RESET_MINUTES: i64 = 30;

/// A new login session and its token.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub token: String,
    pub expires_at: NaiveDateTime,
    pub user: User,
    /// The session may only enrol a second factor (the clinic requires one; the account has none).
    pub enrolment_only: bool,
}

/// What a right password leads to.
#[derive(Debug, Clone)]
pub enum SignInOutcome {
    /// Signed in.
    Signed(SignedIn),
    /// The account has a second factor: a code must follow, with this token, before it expires.
    SecondFactor {
        mfa_token: String,
        expires_at: NaiveDateTime,
    },
}

/// How long the step between a right password and a second-factor code may take.
pub const MFA_CHALLENGE_MINUTES: i64 = 5;

/// A sign-in attempt, counted before the password is checked.
#[derive(Debug, Clone)]
pub struct SignInAttempt {
    pub user: Option<User>,
    /// The slow per-account limit had room and counted this attempt; without room, only an account
    /// with a second factor goes on (a right password then still needs the code).
    account_counted: bool,
}

/// The e-mail address as accounts store it (lower case), or the raw text trimmed when it does not parse.
pub fn sign_in_name(email: &str) -> String {
    Email::parse("email", email)
        .map(|e| e.as_str().to_owned())
        .unwrap_or_else(|_| email.trim().to_lowercase())
}

/// One allowance applied to one key of the attempts table.
#[derive(Debug, Clone)]
pub struct Limit {
    key: String,
    allowance: Allowance,
}

impl Limit {
    fn new(key: String, allowance: Allowance) -> Self {
        Self { key, allowance }
    }
}

/// What a password (or a second-factor code) for `email` from `address` is counted against: the pair,
/// the address, and the account from anywhere (the slow limit, last).
fn sign_in_limits(email: &str, address: &str) -> [Limit; 3] {
    [
        Limit::new(format!("login:{email}|{address}"), PER_ACCOUNT_AND_ADDRESS),
        Limit::new(format!("login-address:{address}"), PER_ADDRESS),
        Limit::new(format!("account:{email}"), PER_ACCOUNT),
    ]
}

/// What a one-time code or link of `purpose` from `address` is counted against.
pub(crate) fn code_limits(purpose: &str, address: &str) -> [Limit; 1] {
    [Limit::new(format!("{purpose}-address:{address}"), CODES_PER_ADDRESS)]
}

/// Takes one attempt from every limit, atomically each, before anything is evaluated; when one has
/// none left, gives back those already taken and refuses with `Throttled`.
#[tracing::instrument(level = "debug", skip_all)]
pub fn take_attempt(conn: &mut DbConn, limits: &[Limit], now: NaiveDateTime) -> Result<()> {
    for (n, limit) in limits.iter().enumerate() {
        let window = Duration::from_std(limit.allowance.window).unwrap_or(Duration::days(1));
        let attempts = i32::try_from(limit.allowance.attempts).unwrap_or(i32::MAX);
        if let Some(retry_after) = throttle::take(conn, &limit.key, now, window, attempts)? {
            give_back(conn, &limits[..n])?;
            return Err(Error::Throttled { retry_after });
        }
    }
    Ok(())
}

/// Returns attempts that succeeded (or were never evaluated).
fn give_back(conn: &mut DbConn, limits: &[Limit]) -> Result<()> {
    for limit in limits {
        throttle::give_back(conn, &limit.key)?;
    }
    Ok(())
}

/// [`take_attempt`], with a refusal audited as `action` `throttled`.
fn take_or_audit(
    conn: &mut DbConn,
    env: &Env<'_>,
    limits: &[Limit],
    action: &str,
    actor: Option<&Actor>,
    address: &str,
) -> Result<()> {
    let now = env.now();
    take_attempt(conn, limits, now).inspect_err(|e| {
        if matches!(e, Error::Throttled { .. }) {
            env.trail.record(
                event(now, action, "throttled")
                    .actor(actor.map(|a| a.user.id))
                    .address(address)
                    .build(),
            );
        }
    })
}

/// Opens a login session for `user` and signs its token.
#[tracing::instrument(level = "debug", skip_all)]
pub fn open_session(conn: &mut DbConn, env: &Env<'_>, keys: &TokenKeys, user: User) -> Result<SignedIn> {
    open_session_of(conn, env, keys, user, false)
}

/// [`open_session`]; an `enrolment_only` session reaches only second-factor enrolment.
pub fn open_session_of(
    conn: &mut DbConn,
    env: &Env<'_>,
    keys: &TokenKeys,
    user: User,
    enrolment_only: bool,
) -> Result<SignedIn> {
    let now = env.now();
    let session_id = generate_secret().map_err(|e| Error::internal("generating a session id", e))?;
    let expires_at = now + Duration::hours(SESSION_ABSOLUTE_HOURS);
    login_sessions::insert(conn, &session_id, user.id, now, expires_at, enrolment_only)?;
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
        enrolment_only,
    })
}

/// Sign-in, before the password is checked: one attempt taken from each limit, then the account (if
/// any) to check against. When only the slow per-account limit is full, an account with a second
/// factor goes on: a stranger's guesses from elsewhere cannot lock its owner out.
#[tracing::instrument(level = "debug", skip_all)]
pub fn sign_in_lookup(conn: &mut DbConn, env: &Env<'_>, email: &str, address: &str) -> Result<SignInAttempt> {
    let [pair, from, account] = sign_in_limits(email, address);
    let near = [pair, from];
    take_or_audit(conn, env, &near, "auth.login", None, address)?;
    let user = users::find_by_email(conn, email)?;
    let account_counted = match take_attempt(conn, std::slice::from_ref(&account), env.now()) {
        Ok(()) => true,
        Err(Error::Throttled { .. })
            if user
                .as_ref()
                .is_some_and(|u| mfa::is_enabled(conn, u.id).unwrap_or(false)) =>
        {
            false
        }
        Err(e) => {
            give_back(conn, &near)?;
            if let Error::Throttled { .. } = e {
                env.trail
                    .record(event(env.now(), "auth.login", "throttled").address(address).build());
            }
            return Err(e);
        }
    };
    Ok(SignInAttempt { user, account_counted })
}

/// Sign-in whose password could not be checked (the server was busy): its attempt is given back.
pub fn sign_in_not_evaluated(conn: &mut DbConn, email: &str, address: &str, attempt: &SignInAttempt) -> Result<()> {
    let [pair, from, account] = sign_in_limits(email, address);
    give_back(conn, &[pair, from])?;
    if attempt.account_counted {
        give_back(conn, &[account])?;
    }
    Ok(())
}

/// Sign-in, once the password has been checked against the account's hash (or a dummy one): a
/// success gives its attempt back and opens a session, or, for an account with a second factor,
/// a challenge for the code; a failure stays counted.
#[tracing::instrument(level = "debug", skip_all)]
pub fn sign_in_finish(
    conn: &mut DbConn,
    env: &Env<'_>,
    keys: &TokenKeys,
    email: &str,
    address: &str,
    attempt: SignInAttempt,
    password_matches: bool,
) -> Result<SignInOutcome> {
    let now = env.now();
    let account_counted = attempt.account_counted;
    match attempt.user {
        Some(user) if password_matches && user.is_active() => {
            let [pair, from, account] = sign_in_limits(email, address);
            if mfa::is_enabled(conn, user.id)? {
                // Not reset: the code that must follow is counted against the same pair.
                give_back(conn, &[pair, from])?;
                if account_counted {
                    give_back(conn, &[account])?;
                }
                return second_factor_challenge(conn, env, &user, address);
            }
            if !account_counted {
                // Its second factor was removed since the lookup: the slow limit applies after all.
                return Err(Error::Throttled { retry_after: 60 });
            }
            throttle::reset(conn, &pair.key)?;
            give_back(conn, &[from, account])?;
            let must_enrol = must_enrol(conn, user.role)?;
            let signed = open_session_of(conn, env, keys, user, must_enrol)?;
            env.trail.record(
                event(now, "auth.login", "success")
                    .actor(Some(signed.user.id))
                    .address(address)
                    .detail(if signed.enrolment_only {
                        "second factor to enrol"
                    } else {
                        "password"
                    })
                    .build(),
            );
            Ok(SignInOutcome::Signed(signed))
        }
        other => {
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

/// Whether the clinic's `require_mfa_for` covers `role` (read from the database, not the settings
/// cache, so a change holds at once on every process): such an account without a second factor gets
/// an enrolment-only session.
fn must_enrol(conn: &mut DbConn, role: Role) -> Result<bool> {
    let policy = clinic_db::clinic::get(conn)?
        .and_then(|c| c.require_mfa_for.parse::<MfaPolicy>().ok())
        .unwrap_or_default();
    Ok(policy.covers(role))
}

fn second_factor_challenge(conn: &mut DbConn, env: &Env<'_>, user: &User, address: &str) -> Result<SignInOutcome> {
    let now = env.now();
    let token = generate_secret().map_err(|e| Error::internal("generating a sign-in challenge", e))?;
    let expires_at = now + Duration::minutes(MFA_CHALLENGE_MINUTES);
    mfa::insert_challenge(conn, &hash_code(&token), user.id, now, expires_at)?;
    env.trail.record(
        event(now, "auth.login", "second_factor_required")
            .actor(Some(user.id))
            .address(address)
            .build(),
    );
    Ok(SignInOutcome::SecondFactor {
        mfa_token: token,
        expires_at,
    })
}

/// What a second-factor code for `email` from `address` is counted against: the sign-in pair and
/// address limits, and the account's own allowance of codes.
fn code_limits_for(email: &str, address: &str) -> [Limit; 3] {
    let [pair, from, _] = sign_in_limits(email, address);
    [pair, from, Limit::new(format!("mfa:{email}"), PER_ACCOUNT_AND_ADDRESS)]
}

/// Whether `code` is the account's TOTP code now (its step taken, once) or one of its unused recovery
/// codes (taken). `totp_key` opens the stored secret.
pub fn second_factor_matches(
    conn: &mut DbConn,
    env: &Env<'_>,
    totp_key: &DerivedKey,
    user: UserId,
    code: &str,
) -> Result<bool> {
    let Some(found) = mfa::find(conn, user)?.filter(|m| m.confirmed_at.is_some()) else {
        return Ok(false);
    };
    let secret = clinic_auth::mfa::open(totp_key, &found.sealed_secret)
        .map_err(|e| Error::internal("opening a second-factor secret", e))?;
    let unix = u64::try_from(env.now().and_utc().timestamp()).unwrap_or(0);
    let step = clinic_auth::mfa::matching_step(&secret, code, unix)
        .map_err(|e| Error::internal("checking a second-factor code", e))?;
    if let Some(step) = step {
        return Ok(mfa::take_step(conn, user, i64::try_from(step).unwrap_or(i64::MAX))?);
    }
    Ok(mfa::take_recovery_code(conn, user, &hash_code(code), env.now())?)
}

/// The second step of signing in: the challenge's token and a TOTP or recovery code. A code is taken
/// once; a wrong, used or expired one is `InvalidSecondFactor` and counts toward the sign-in limits.
#[tracing::instrument(level = "debug", skip_all)]
pub fn sign_in_second_factor(
    conn: &mut DbConn,
    env: &Env<'_>,
    keys: &TokenKeys,
    totp_key: &DerivedKey,
    mfa_token: &str,
    code: &str,
    address: &str,
) -> Result<SignedIn> {
    let now = env.now();
    let token_hash = hash_code(mfa_token);
    let refuse = |actor: Option<UserId>| {
        env.trail
            .record(event(now, "auth.mfa", "failure").actor(actor).address(address).build());
        Err(Error::InvalidSecondFactor)
    };
    let Some(user_id) = mfa::challenge_user(conn, &token_hash, now)? else {
        return refuse(None);
    };
    let user = users::find(conn, user_id)?;
    let limits = code_limits_for(&user.email, address);
    take_or_audit(conn, env, &limits, "auth.mfa", None, address)?;
    if !user.is_active() || !second_factor_matches(conn, env, totp_key, user.id, code)? {
        return refuse(Some(user.id));
    }
    if !mfa::use_challenge(conn, &token_hash, now)? {
        return refuse(Some(user.id));
    }
    let [pair, from, own] = limits;
    throttle::reset(conn, &pair.key)?;
    throttle::reset(conn, &own.key)?;
    give_back(conn, &[from])?;
    let signed = open_session(conn, env, keys, user)?;
    env.trail.record(
        event(now, "auth.login", "success")
            .actor(Some(signed.user.id))
            .address(address)
            .detail("password and second factor")
            .build(),
    );
    Ok(signed)
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

/// Takes an activation attempt from `address`'s allowance (before the new password is hashed).
pub fn activation_attempt(conn: &mut DbConn, env: &Env<'_>, address: &str) -> Result<()> {
    take_or_audit(
        conn,
        env,
        &code_limits("activate", address),
        "auth.activate",
        None,
        address,
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
    let outcome = conn.write_transaction(|conn| {
        let Some(invitation) = invitations::find_by_hash(conn, &code_hash)?.filter(|i| i.is_usable(now)) else {
            return Ok(None);
        };
        let user = match (invitation.purpose.as_str(), invitation.patient_id, invitation.user_id) {
            (invitations::PURPOSE_PATIENT, Some(patient_id), _) => {
                activate_patient(conn, &invitation, patient_id, password_hash, now)?
            }
            (invitations::PURPOSE_STAFF, _, Some(user_id)) => {
                activate_staff(conn, &invitation, user_id, password_hash, now)?
            }
            _ => None,
        };
        let Some(user) = user else {
            return Ok(None);
        };
        clinic_db::audit::insert(
            conn,
            &event(now, "auth.activate", "success")
                .actor(Some(user.id))
                .patient(user.patient_id)
                .address(address)
                .build(),
        )?;
        Ok::<_, DbError>(Some(user))
    })?;
    match outcome {
        Some(user) => {
            give_back(conn, &code_limits("activate", address))?;
            let must_enrol = must_enrol(conn, user.role)?;
            open_session_of(conn, env, keys, user, must_enrol)
        }
        None => {
            env.trail
                .record(event(now, "auth.activate", "failure").address(address).build());
            Err(invalid_code())
        }
    }
}

/// A patient's code: their portal login is made, or its password replaced. `None` when the code
/// cannot be taken (no e-mail address, access suspended, used meanwhile).
fn activate_patient(
    conn: &mut DbConn,
    invitation: &invitations::Invitation,
    patient_id: PatientId,
    password_hash: &str,
    now: NaiveDateTime,
) -> Result<Option<User>, DbError> {
    let patient = patients::find(conn, patient_id)?;
    let Some(email) = patient.email.clone() else {
        return Ok(None);
    };
    let existing = users::find_by_patient(conn, patient_id)?;
    if existing.as_ref().is_some_and(|u| !u.is_active()) {
        return Ok(None); // portal access suspended
    }
    if !invitations::mark_used(conn, invitation.id, now)? {
        return Ok(None);
    }
    let user = match existing {
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
    Ok(Some(user))
}

/// A staff member's invitation: the invited account's password is set. `None` when the account was
/// disabled meanwhile or the code used.
fn activate_staff(
    conn: &mut DbConn,
    invitation: &invitations::Invitation,
    user_id: UserId,
    password_hash: &str,
    now: NaiveDateTime,
) -> Result<Option<User>, DbError> {
    let user = users::find(conn, user_id)?;
    if !user.is_active() || !invitations::mark_used(conn, invitation.id, now)? {
        return Ok(None);
    }
    users::set_password_hash(conn, user.id, password_hash)?;
    login_sessions::revoke_all_of_user(conn, user.id, None, now)?;
    Ok(Some(users::find(conn, user.id)?))
}

/// Takes a password-change attempt from the actor's sign-in limits (before the current password is
/// checked): a stolen session cannot guess the password faster than a sign-in could.
pub fn password_change_attempt(conn: &mut DbConn, env: &Env<'_>, actor: &Actor) -> Result<()> {
    let limits = sign_in_limits(&actor.user.email, &actor.address);
    take_or_audit(conn, env, &limits, "auth.password_change", Some(actor), &actor.address)
}

/// What a signed-in person's own code (confirming a second factor) is counted against: the sign-in
/// pair and address limits.
fn own_code_limits(actor: &Actor) -> [Limit; 2] {
    let [pair, from, _] = sign_in_limits(&actor.user.email, &actor.address);
    [pair, from]
}

/// Takes an attempt at confirming the actor's own second factor.
pub fn own_code_attempt(conn: &mut DbConn, env: &Env<'_>, actor: &Actor, action: &str) -> Result<()> {
    take_or_audit(conn, env, &own_code_limits(actor), action, Some(actor), &actor.address)
}

/// Gives back an attempt [`password_change_attempt`] took (the password was right).
pub fn password_change_right(conn: &mut DbConn, actor: &Actor) -> Result<()> {
    give_back(conn, &sign_in_limits(&actor.user.email, &actor.address))
}

/// Gives back an attempt [`own_code_attempt`] took (the code was right).
pub fn own_code_right(conn: &mut DbConn, actor: &Actor) -> Result<()> {
    give_back(conn, &own_code_limits(actor))
}

/// A password change whose current password was wrong: the attempt stays counted; audited, refused.
#[tracing::instrument(level = "debug", skip_all)]
pub fn wrong_current_password(env: &Env<'_>, actor: &Actor) -> Result<()> {
    env.trail
        .record(actor.event(env, "auth.password_change", "failure").build());
    Err(Error::refused(
        ErrorCode::ValidationFailed,
        "the current password is not right",
    ))
}

/// Sets the actor's new password (hashed; the current one was right, so its attempt is given back)
/// and ends every other session of the account.
#[tracing::instrument(level = "debug", skip_all)]
pub fn set_password(conn: &mut DbConn, env: &Env<'_>, actor: &Actor, password_hash: &str) -> Result<()> {
    let now = env.now();
    password_change_right(conn, actor)?;
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
    let limits = code_limits("reset-request", address);
    take_or_audit(conn, env, &limits, "auth.password_reset_request", None, address)?;
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

/// Whether a reset link's token would be taken now, checked before a password is hashed; the attempt
/// is taken from `address`'s allowance first.
pub fn reset_link_is_usable(conn: &mut DbConn, env: &Env<'_>, token: &str, address: &str) -> Result<()> {
    let limits = code_limits("reset", address);
    take_or_audit(conn, env, &limits, "auth.password_reset", None, address)?;
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
        give_back(conn, &code_limits("reset", address))?;
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
            enrolment_only: session.enrolment_only,
        },
    }
}
