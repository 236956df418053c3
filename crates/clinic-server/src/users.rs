//! `clinic user add`.

use anyhow::{Context, Result, bail};
use chrono::NaiveDateTime;
use clinic_auth::{Password, hash_password};
use clinic_db::{DbConn, users};
use clinic_domain::user::{Email, PersonName, Role};
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

/// Creates a staff account from the command line's values.
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
    let email = Email::parse("email", email).map_err(|e| anyhow::anyhow!("--email: {}", e.message))?;
    let name = PersonName::parse("name", name).map_err(|e| anyhow::anyhow!("--name {}", e.message))?;
    let password = Password::parse(password).map_err(|e| anyhow::anyhow!("password: {e}"))?;
    if users::find_by_email(conn, email.as_str())?.is_some() {
        bail!("an account with e-mail {email} already exists");
    }
    let hash = hash_password(&password)?;
    let user = users::insert(
        conn,
        &users::NewUser {
            email: email.as_str(),
            display_name: name.as_str(),
            role: role.as_str(),
            password_hash: &hash,
            patient_id: None,
            created_at: now,
        },
    )?;
    Ok(user)
}
