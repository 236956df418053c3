//! The command line: `clinic [serve|migrate|user add|demo]`.

use clap::{Args, Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "clinic",
    version,
    about = "Micro-needling clinic platform: sessions, series and patient aftercare"
)]
pub struct Cli {
    /// SQLite file path, sqlite://path, or postgres:// URL.
    #[arg(long, env = "DATABASE_URL", default_value = "clinic.db", global = true)]
    pub database_url: String,

    /// Address to listen on (serve).
    #[arg(long, env = "CLINIC_BIND", default_value = "127.0.0.1:8080", global = true)]
    pub bind: String,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Apply migrations, then serve (the default).
    Serve,
    /// Apply pending migrations and exit.
    Migrate,
    /// Manage staff accounts.
    #[command(subcommand)]
    User(UserCommand),
    /// Fill an empty database with a demo clinic and print its logins.
    Demo(DemoArgs),
    /// Verify every stored photo against its SHA-256 and that every photo's bytes are there; exits
    /// non-zero on any problem.
    CheckPhotos,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a staff account; the password comes from CLINIC_PASSWORD or the first line of stdin.
    Add(UserAddArgs),
    /// Remove an account's second factor (a lost phone and lost recovery codes); audited. If the
    /// clinic requires one, the person sets up a new one at their next sign-in.
    RemoveMfa(UserEmailArgs),
}

#[derive(Debug, Args)]
pub struct UserEmailArgs {
    #[arg(long)]
    pub email: String,
}

#[derive(Debug, Args)]
pub struct UserAddArgs {
    /// manager or provider.
    #[arg(long)]
    pub role: String,
    #[arg(long)]
    pub email: String,
    /// The name shown to colleagues.
    #[arg(long)]
    pub name: String,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Also add this many generated patients, each with a course of 1-5 sessions (e.g. 100000 for
    /// measuring the reports at scale).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub patients: Option<u32>,
}
