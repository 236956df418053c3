//! The `clinic` binary as an operator uses it: every command on both databases, and one clear line
//! with a non-zero exit for bad input.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use clinic_db::testing::TestDb;
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn clinic(database_url: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_clinic"));
    cmd.env("DATABASE_URL", database_url)
        .env_remove("CLINIC_PASSWORD")
        .env_remove("CLINIC_TIMEZONE")
        .env_remove("CLINIC_JWT_SECRET")
        .env_remove("CLINIC_PUBLIC_URL")
        .env_remove("CLINIC_BIND")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null());
    cmd
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Asserts a failure with exactly one line on stderr containing `needle`.
fn assert_one_line_error(out: &Output, needle: &str) {
    let err = text(&out.stderr);
    assert!(!out.status.success(), "succeeded: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err}");
    assert!(
        err.starts_with("clinic: ") && err.contains(needle),
        "{err:?} lacks {needle:?}"
    );
}

fn with_stdin(mut cmd: Command, input: &str) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn bad_flags_and_settings_fail_in_one_line() {
    let db = TestDb::sqlite();
    let url = db.url_string();
    let out = clinic(&url).arg("--no-such-flag").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_one_line_error(&out, "--no-such-flag");
    assert_one_line_error(
        &clinic("mysql://localhost/clinic").arg("migrate").output().unwrap(),
        "DATABASE_URL",
    );
    assert_one_line_error(&clinic("").arg("migrate").output().unwrap(), "DATABASE_URL");
    assert_one_line_error(
        &clinic(&url)
            .env("CLINIC_TIMEZONE", "Mars/Base")
            .arg("migrate")
            .output()
            .unwrap(),
        "CLINIC_TIMEZONE",
    );
    assert_one_line_error(
        &clinic(&url)
            .env("CLINIC_PUBLIC_URL", "clinic.example")
            .arg("migrate")
            .output()
            .unwrap(),
        "CLINIC_PUBLIC_URL",
    );
    assert_one_line_error(
        &clinic(&url)
            .env("CLINIC_JWT_SECRET", "short")
            .arg("migrate")
            .output()
            .unwrap(),
        "CLINIC_JWT_SECRET",
    );
    for (smtp, from, names) in [
        ("mail.clinic.example", Some("desk@clinic.example"), "CLINIC_SMTP_URL"),
        (
            "http://mail.clinic.example",
            Some("desk@clinic.example"),
            "CLINIC_SMTP_URL",
        ),
        (
            "smtp://mail.clinic.example:port",
            Some("desk@clinic.example"),
            "CLINIC_SMTP_URL",
        ),
        ("smtp://mail.clinic.example:25", None, "CLINIC_MAIL_FROM"),
        (
            "smtp://mail.clinic.example:25",
            Some("not an address"),
            "CLINIC_MAIL_FROM",
        ),
    ] {
        let mut command = clinic(&url);
        command.env("CLINIC_SMTP_URL", smtp);
        match from {
            Some(f) => command.env("CLINIC_MAIL_FROM", f),
            None => command.env_remove("CLINIC_MAIL_FROM"),
        };
        assert_one_line_error(&command.arg("migrate").output().unwrap(), names);
    }
    assert_one_line_error(
        &clinic("/no/such/dir/clinic.db").arg("migrate").output().unwrap(),
        "/no/such/dir/clinic.db",
    );
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let bind = taken.local_addr().unwrap().to_string();
    assert_one_line_error(
        &clinic(&url).args(["serve", "--bind", &bind]).output().unwrap(),
        "cannot listen",
    );
}

#[test]
fn an_unreachable_postgresql_fails_fast_with_the_drivers_reason() {
    for (url, reason) in [
        ("postgres://clinic@127.0.0.1:1/clinic", "Connection refused"),
        ("postgresql://clinic:secret@127.0.0.1:1/clinic", "Connection refused"),
    ] {
        let started = Instant::now();
        let out = clinic(url).arg("migrate").output().unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(6),
            "took {:?}",
            started.elapsed()
        );
        assert_one_line_error(&out, reason);
        assert!(
            !text(&out.stderr).contains("secret"),
            "password shown: {}",
            text(&out.stderr)
        );
    }
    if let Ok(admin) = std::env::var(clinic_db::testing::POSTGRES_ENV) {
        // A role the server does not know: the server's own words come through.
        let host_and_db = admin.split_once("://").unwrap().1;
        let host_and_db = host_and_db.rsplit_once('@').map_or(host_and_db, |(_, rest)| rest);
        let url = format!("postgres://no_such_role_x@{host_and_db}");
        assert_one_line_error(&clinic(&url).arg("migrate").output().unwrap(), "no_such_role_x");
    }
}

#[test]
fn migrate_user_add_and_demo_work_on_both_databases() {
    for db in TestDb::all() {
        let url = db.url_string();
        let out = clinic(&url).arg("migrate").output().unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(text(&out.stdout).contains("schema up to date"));

        let out = clinic(&url)
            .env("CLINIC_PASSWORD", "long enough password")
            .args([
                "user",
                "add",
                "--role",
                "manager",
                "--email",
                "Boss@Clinic.example",
                "--name",
                "Morgan Reyes",
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(text(&out.stdout).contains("created manager account boss@clinic.example"));

        let mut cmd = clinic(&url);
        cmd.args([
            "user",
            "add",
            "--role",
            "provider",
            "--email",
            "chen@clinic.example",
            "--name",
            "Dr. Chen",
        ]);
        let out = with_stdin(cmd, "another long password\n");
        assert!(out.status.success(), "{}", text(&out.stderr));

        for (args, needle) in [
            (
                ["--role", "provider", "--email", "chen@clinic.example", "--name", "X"],
                "already exists",
            ),
            (
                ["--role", "patient", "--email", "p@clinic.example", "--name", "X"],
                "manager or provider",
            ),
            (
                ["--role", "admin", "--email", "p@clinic.example", "--name", "X"],
                "manager or provider",
            ),
            (
                ["--role", "provider", "--email", "not-an-email", "--name", "X"],
                "--email",
            ),
            (
                ["--role", "provider", "--email", "p@clinic.example", "--name", " "],
                "--name",
            ),
        ] {
            let out = clinic(&url)
                .env("CLINIC_PASSWORD", "long enough password")
                .args(["user", "add"])
                .args(args)
                .output()
                .unwrap();
            assert_one_line_error(&out, needle);
        }
        let mut cmd = clinic(&url);
        cmd.args([
            "user",
            "add",
            "--role",
            "provider",
            "--email",
            "p@clinic.example",
            "--name",
            "X",
        ]);
        assert_one_line_error(&with_stdin(cmd, "short\n"), "at least 8");
        let mut cmd = clinic(&url);
        cmd.args([
            "user",
            "add",
            "--role",
            "provider",
            "--email",
            "p@clinic.example",
            "--name",
            "X",
        ]);
        assert_one_line_error(&with_stdin(cmd, ""), "no password given");

        // remove-mfa: an operator's remedy for a lost phone; refused for an account without one.
        assert_one_line_error(
            &clinic(&url)
                .args(["user", "remove-mfa", "--email", "chen@clinic.example"])
                .output()
                .unwrap(),
            "has no second factor",
        );
        assert_one_line_error(
            &clinic(&url)
                .args(["user", "remove-mfa", "--email", "nobody@clinic.example"])
                .output()
                .unwrap(),
            "no account",
        );
        {
            let mut conn = db.conn();
            let chen = clinic_db::users::find_by_email(&mut conn, "chen@clinic.example")
                .unwrap()
                .unwrap();
            let now = chrono::Utc::now().naive_utc();
            assert!(clinic_db::mfa::start(&mut conn, chen.id, "sealed", now).unwrap());
            assert!(clinic_db::mfa::confirm(&mut conn, chen.id, 1, &["h".into()], now).unwrap());
        }
        let out = clinic(&url)
            .args(["user", "remove-mfa", "--email", "Chen@Clinic.example"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        let mut conn = db.conn();
        let chen = clinic_db::users::find_by_email(&mut conn, "chen@clinic.example")
            .unwrap()
            .unwrap();
        assert!(!clinic_db::mfa::is_enabled(&mut conn, chen.id).unwrap());
        drop(conn);

        // check-photos: nothing stored yet is nothing wrong.
        let out = clinic(&url).arg("check-photos").output().unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(
            text(&out.stdout).contains("0 photos, 0 stored files"),
            "{}",
            text(&out.stdout)
        );

        // demo refuses a database with accounts, and fills an empty one.
        assert_one_line_error(&clinic(&url).arg("demo").output().unwrap(), "empty database");
        let empty = if db.url().is_postgres() {
            TestDb::postgres().unwrap()
        } else {
            TestDb::sqlite()
        };
        let out = clinic(&empty.url_string()).arg("demo").output().unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        let printed = text(&out.stdout);
        for login in [
            "manager@demo.clinic.example",
            "chen@demo.clinic.example",
            "ana.silva@mail.example",
        ] {
            assert!(printed.contains(login), "{printed}");
        }
        let mut conn = empty.conn();
        assert_eq!(clinic_db::patients::count(&mut conn).unwrap(), 5);
        assert_eq!(clinic_db::users::count(&mut conn).unwrap(), 5);
    }
}

#[test]
fn serve_prints_the_address_and_setup_link_and_stops_on_sigterm() {
    for db in TestDb::all() {
        let mut child = clinic(&db.url_string())
            .args(["--bind", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let listening = lines.next().unwrap().unwrap();
        assert!(
            listening.starts_with("Clinic is listening on http://127.0.0.1:"),
            "{listening}"
        );
        assert!(lines.next().unwrap().unwrap().contains("first manager"));
        let link = lines.next().unwrap().unwrap();
        let base = listening.rsplit(' ').next().unwrap();
        assert!(link.trim().starts_with(&format!("{base}/setup?code=")), "{link}");
        let address = base.trim_start_matches("http://").to_owned();
        let mut stream = std::net::TcpStream::connect(&address).unwrap();
        stream
            .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut reply = String::new();
        std::io::Read::read_to_string(&mut stream, &mut reply).unwrap();
        assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");

        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap();
        let started = Instant::now();
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            assert!(started.elapsed() < Duration::from_secs(15), "did not stop on SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        };
        assert!(status.success(), "{status:?}");
    }
}
