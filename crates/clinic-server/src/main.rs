use anyhow::{Context, Result};
use clap::Parser;
use clinic_db::DbConn;
use clinic_server::cli::{Cli, Command, UserCommand};
use clinic_server::{Application, Config, demo, telemetry, users};
use std::process::ExitCode;

/// mimalloc rather than glibc's allocator: every request allocates and frees small buffers, many freed
/// on another thread (the audit rows, on the audit writer's); glibc's malloc and free were a fifth of
/// the server's CPU under the timeline (docs/performance.md). Built without transparent huge pages,
/// which raised the peak memory by a quarter.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) if !e.use_stderr() => {
            // --help and --version
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            let text = e.render().to_string();
            let first = text
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("invalid arguments");
            eprintln!("clinic: {} (see clinic --help)", first.trim_start_matches("error: "));
            return ExitCode::from(2);
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line: the error and its causes.
            eprintln!("clinic: {}", format!("{e:#}").replace('\n', " "));
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    let config = Config::new(&cli.bind, &cli.database_url)?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(config),
        Command::Migrate => {
            let mut conn = DbConn::establish(&config.database_url).with_context(|| config.database_url.to_string())?;
            let n = conn.run_migrations()?;
            println!("{}: {n} migration(s) applied, schema up to date", config.database_url);
            Ok(())
        }
        Command::User(UserCommand::Add(args)) => {
            let password = users::read_password(&mut std::io::stdin().lock())?;
            let now = chrono::Utc::now().naive_utc();
            let user = users::add_staff(
                &mut open_conn(&config)?,
                &args.role,
                &args.email,
                &args.name,
                &password,
                now,
            )?;
            println!("created {} account {} ({})", user.role, user.email, user.display_name);
            Ok(())
        }
        Command::User(UserCommand::RemoveMfa(args)) => {
            users::remove_mfa(&mut open_conn(&config)?, &args.email, chrono::Utc::now().naive_utc())?;
            println!(
                "removed the second factor of {}; every session of the account has ended",
                args.email.trim()
            );
            Ok(())
        }
        Command::CheckPhotos => {
            let mut conn = open_conn(&config)?;
            let store = clinic_web::photo_store::PhotoStore::open(&config.photo_store).map_err(anyhow::Error::msg)?;
            let found = if store.in_database() {
                clinic_app::photos::check(&mut conn)
            } else {
                let photos = clinic_db::photos::all(&mut conn)?;
                actix_web::rt::System::new().block_on(store.check_objects(&photos))
            }
            .map_err(|e| anyhow::anyhow!(e.chain()))?;
            for problem in &found.problems {
                eprintln!("{problem}");
            }
            if !found.problems.is_empty() {
                anyhow::bail!(
                    "{} problem(s) in {} stored files of {} photos",
                    found.problems.len(),
                    found.blobs,
                    found.photos
                );
            }
            println!(
                "{} photos, {} stored files: every file matches its hash",
                found.photos, found.blobs
            );
            Ok(())
        }
        Command::Demo(args) => {
            let mut conn = open_conn(&config)?;
            let logins = demo::fill(&mut conn, config.timezone, chrono::Utc::now())?;
            if let Some(n) = args.patients {
                let started = std::time::Instant::now();
                let s = demo::bulk(&mut conn, n as usize, config.timezone, chrono::Utc::now())?;
                println!(
                    "Added {} patients, {} series, {} sessions and {} refused 6th attempts in {:.1} s.",
                    s.patients,
                    s.series,
                    s.sessions,
                    s.refusals,
                    started.elapsed().as_secs_f64()
                );
            }
            let public_url = config
                .public_url
                .clone()
                .unwrap_or_else(|| format!("http://{}", config.bind));
            println!(
                "Demo clinic created in {}. Sign in at {public_url}/login with:",
                config.database_url
            );
            for l in logins {
                println!("  {:<9} {:<32} {}", l.role, l.email, l.password);
            }
            Ok(())
        }
    }
}

fn serve(config: Config) -> Result<()> {
    telemetry::init("info");
    let system = actix_web::rt::System::new();
    system.block_on(async move {
        let database = config.database_url.to_string();
        let app = Application::build(config.clone())?;
        tracing::info!(%database, "database ready");
        println!("Clinic is listening on http://{}:{}", host_of(&config.bind), app.port());
        if let Some(link) = &app.setup_link {
            println!("No manager yet. Open this one-time link to create the first manager account:\n  {link}");
        }
        app.run_until_stopped().await.context("server stopped with an error")
    })
}

/// A single connection with pending migrations applied, for one-shot commands.
fn open_conn(config: &Config) -> Result<DbConn> {
    let mut conn = DbConn::establish(&config.database_url).with_context(|| config.database_url.to_string())?;
    conn.run_migrations()?;
    Ok(conn)
}

fn host_of(bind: &str) -> &str {
    bind.rsplit_once(':').map_or(bind, |(h, _)| h)
}
