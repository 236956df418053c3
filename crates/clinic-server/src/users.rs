//! `clinic user add` and `clinic user remove-mfa`.

use anyhow::{Context, Result, bail};
use chrono::NaiveDateTime;
use clinic_app::Env;
use clinic_app::audit::Collected;
use clinic_app::staff::{self, NewStaff};
use clinic_auth::{Password, hash_password};
use clinic_db::{DbConn, users};
use clinic_domain::FixedClock;
use clinic_domain::user::Role;
use std::io::BufRead;

/// Reads the password from `CLINIC_PASSWORD`, or else the first line of standard input.
pub fn read_password(stdin: &mut dyn BufRead) -> Result<String> {
    if let Ok(p) = std::env::var("CLINIC_PASSWORD") {
        return Ok(p);
    }
    let mut line = String::new();
    stdin
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    let password = line.trim_end_matches(['\n', '\r']).to_owned();
    if password.is_empty() {
        bail!("no password given: set CLINIC_PASSWORD or pipe it on standard input");
    }
    Ok(password)
}

/// Creates a staff account from the command line's values, through the same action the staff page
/// and the API use.
pub fn add_staff(
    conn: &mut DbConn,
    role: &str,
    email: &str,
    name: &str,
    password: &str,
    now: NaiveDateTime,
) -> Result<users::User> {
    let role: Role = role
        .parse()
        .map_err(|_| anyhow::anyhow!("--role must be manager or provider"))?;
    if !role.is_staff() {
        bail!("--role must be manager or provider (patients get their login from their provider)");
    }
    let new = NewStaff::parse(email, name, role.as_str()).map_err(|e| match e.field {
        "email" => anyhow::anyhow!("--email: {}", e.message),
        _ => anyhow::anyhow!("--name {}", e.message),
    })?;
    let password = Password::parse(password).map_err(|e| anyhow::anyhow!("password: {e}"))?;
    let hash = hash_password(&password)?;
    let clock = FixedClock(now.and_utc());
    let trail = Collected::default();
    let env = Env {
        clock: &clock,
        clinic: std::sync::Arc::new(clinic_app::clinic::Clinic::named("", chrono_tz::UTC)),
        trail: &trail,
        public_url: "",
    };
    staff::create(conn, &env, None, &new, &hash).map_err(|e| match e {
        clinic_app::Error::Refused { .. } => anyhow::anyhow!("an account with e-mail {} already exists", new.email),
        other => anyhow::anyhow!(other.chain()),
    })
}

/// Removes the second factor of the account with `email` and ends its sessions (an operator's remedy
/// for a lost phone and lost recovery codes), audited as done from the command line.
pub fn remove_mfa(conn: &mut DbConn, email: &str, now: NaiveDateTime) -> Result<()> {
    let email = clinic_app::accounts::sign_in_name(email);
    let user = users::find_by_email(conn, &email)?.with_context(|| format!("no account has the e-mail {email}"))?;
    if !clinic_db::mfa::is_enabled(conn, user.id)? {
        bail!("{email} has no second factor");
    }
    conn.write_transaction(|conn| {
        clinic_db::mfa::remove(conn, user.id)?;
        clinic_db::login_sessions::revoke_all_of_user(conn, user.id, None, now)?;
        clinic_db::audit::insert(
            conn,
            &clinic_app::audit::event(now, "mfa.disable", "success")
                .subject(format!("user:{}", user.id))
                .address("command line")
                .build(),
        )
    })?;
    Ok(())
}
