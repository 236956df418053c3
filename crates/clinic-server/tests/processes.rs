//! Real `clinic serve` processes: several on one PostgreSQL acting as one, and crash durability under
//! SIGKILL on both databases (docs/reliability.md).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use clinic_db::series;
use clinic_db::testing::TestDb;
use clinic_domain::SeriesId;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Barrier, Mutex};
use std::time::Duration;

/// A `clinic serve` process on a free port; killed when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(database_url: &str) -> Self {
        Self::start_with(database_url, &[])
    }

    fn start_with(database_url: &str, env: &[(&str, &str)]) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_clinic"));
        command.envs(env.iter().copied());
        let mut child = command
            .args(["serve", "--bind", "127.0.0.1:0"])
            .env("DATABASE_URL", database_url)
            .env("RUST_LOG", "error")
            .env_remove("CLINIC_JWT_SECRET")
            .env_remove("CLINIC_PUBLIC_URL")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let listening = lines.next().expect("the server printed nothing").unwrap();
        let base = listening.rsplit(' ').next().unwrap().to_owned();
        assert!(base.starts_with("http://127.0.0.1:"), "{listening}");
        // Keep reading stdout so the server never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Self { child, base }
    }

    fn kill(&mut self) {
        let _ = self.child.kill(); // SIGKILL
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into()
}

/// One API call: status and JSON body (Null when empty); Err when no answer came (server killed).
fn call(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Result<(u16, Value), String> {
    let auth = token.map(|t| format!("Bearer {t}"));
    let response = match (method, body) {
        ("GET", _) => {
            let mut r = agent.get(url);
            if let Some(a) = &auth {
                r = r.header("Authorization", a);
            }
            r.call()
        }
        (_, body) => {
            let mut r = agent.post(url);
            if let Some(a) = &auth {
                r = r.header("Authorization", a);
            }
            match body {
                Some(b) => r.send_json(b),
                None => r.send_empty(),
            }
        }
    };
    let mut response = response.map_err(|e| e.to_string())?;
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().map_err(|e| e.to_string())?;
    Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}

/// `clinic demo`'s logins: e-mail → password.
fn demo(database_url: &str) -> HashMap<String, String> {
    let out = Command::new(env!("CARGO_BIN_EXE_clinic"))
        .arg("demo")
        .env("DATABASE_URL", database_url)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() == 3 && f[1].contains('@')).then(|| (f[1].to_owned(), f[2].to_owned()))
        })
        .collect()
}

fn login(agent: &ureq::Agent, base: &str, email: &str, password: &str) -> (u16, Value) {
    let body = json!({"email": email, "password": password});
    call(agent, "POST", &format!("{base}/api/v1/auth/login"), None, Some(&body)).unwrap()
}

fn token(agent: &ureq::Agent, base: &str, email: &str, password: &str) -> String {
    let (status, body) = login(agent, base, email, password);
    assert_eq!(status, 200, "{body}");
    body["token"].as_str().unwrap().to_owned()
}

fn today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}

fn session_body() -> Value {
    json!({
        "performed_on": today(),
        "treatment_areas": ["cheeks"],
        "eye_area": false,
        "device": "pen",
        "needle_depth_mm": 0.5,
        "products_applied": ["moisturizer"],
        "notes": null,
        "acknowledge_beyond_typical": true,
        // The demo clinic has a consent form; these patients have not signed it.
        "consent_override_reason": "load test"
    })
}

/// A new patient with an open series; returns the series id.
fn open_series(agent: &ureq::Agent, base: &str, token: &str, n: usize) -> Result<i64, String> {
    let patient = json!({
        "first_name": "Crash", "last_name": format!("Test {n}"), "date_of_birth": "1990-05-01",
        "email": null, "phone": null
    });
    let (status, p) = call(
        agent,
        "POST",
        &format!("{base}/api/v1/patients"),
        Some(token),
        Some(&patient),
    )?;
    if status != 201 {
        return Err(format!("patient: {status} {p}"));
    }
    let series = json!({"condition": "acne_scars", "planned_sessions": 3});
    let url = format!("{base}/api/v1/patients/{}/series", p["id"]);
    let (status, s) = call(agent, "POST", &url, Some(token), Some(&series))?;
    if status != 201 {
        return Err(format!("series: {status} {s}"));
    }
    Ok(s["id"].as_i64().unwrap())
}

#[test]
fn two_processes_on_one_postgres_act_as_one() {
    let Some(db) = TestDb::postgres() else { return };
    let url = db.url_string();
    let logins = demo(&url);
    let (a, b) = (Server::start(&url), Server::start(&url));
    let agent = agent();
    let me = |base: &str, token: &str| {
        call(&agent, "GET", &format!("{base}/api/v1/me"), Some(token), None)
            .unwrap()
            .0
    };

    // A token from one process works on the other; logout on the other holds on the first.
    let chen_password = &logins["chen@demo.clinic.example"];
    let chen = token(&agent, &a.base, "chen@demo.clinic.example", chen_password);
    assert_eq!(me(&b.base, &chen), 200);
    let (status, _) = call(
        &agent,
        "POST",
        &format!("{}/api/v1/auth/logout", b.base),
        Some(&chen),
        None,
    )
    .unwrap();
    assert_eq!(status, 204);
    assert_eq!(me(&a.base, &chen), 401, "logout on B holds on A");

    // Disabling a provider on A ends the session they opened on B.
    let okafor = token(
        &agent,
        &b.base,
        "okafor@demo.clinic.example",
        &logins["okafor@demo.clinic.example"],
    );
    let manager = token(
        &agent,
        &a.base,
        "manager@demo.clinic.example",
        &logins["manager@demo.clinic.example"],
    );
    let (_, staff) = call(&agent, "GET", &format!("{}/api/v1/staff", a.base), Some(&manager), None).unwrap();
    let okafor_id = staff
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["email"] == "okafor@demo.clinic.example")
        .unwrap()["id"]
        .clone();
    let disable = format!("{}/api/v1/staff/{okafor_id}/disable", a.base);
    assert_eq!(call(&agent, "POST", &disable, Some(&manager), None).unwrap().0, 204);
    assert_eq!(me(&b.base, &okafor), 401, "disable on A holds on B");

    // Limits are shared: ten failures from one address, split across both, use up that address's
    // allowance for the account on both.
    for i in 0..10 {
        let base = if i % 2 == 0 { &a.base } else { &b.base };
        assert_eq!(
            login(&agent, base, "chen@demo.clinic.example", "wrong password!").0,
            401
        );
    }
    for base in [&a.base, &b.base] {
        assert_eq!(
            login(&agent, base, "chen@demo.clinic.example", chen_password).0,
            429,
            "{base}"
        );
    }

    // 48 simultaneous records into one series, split across both processes: exactly 5 land.
    let provider = manager_made_provider(&agent, &a.base, &manager);
    let series = open_series(&agent, &b.base, &provider, 0).unwrap();
    let barrier = Arc::new(Barrier::new(48));
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..48)
            .map(|i| {
                let base = if i % 2 == 0 { a.base.clone() } else { b.base.clone() };
                let (barrier, provider) = (barrier.clone(), provider.clone());
                scope.spawn(move || {
                    let agent = self::agent();
                    let url = format!("{base}/api/v1/series/{series}/sessions");
                    barrier.wait();
                    call(&agent, "POST", &url, Some(&provider), Some(&session_body()))
                        .unwrap()
                        .0
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 5, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 409).count(), 43, "{statuses:?}");
    let mut conn = db.conn();
    let numbers: Vec<i32> = series::sessions_of(&mut conn, SeriesId(series))
        .unwrap()
        .iter()
        .map(|s| i32::from(s.session_number.get()))
        .collect();
    assert_eq!(numbers, [1, 2, 3, 4, 5]);
}

/// A second provider (chen is locked out by the throttling check above).
fn manager_made_provider(agent: &ureq::Agent, base: &str, manager: &str) -> String {
    let body = json!({
        "email": "second.provider@demo.clinic.example", "display_name": "Second Provider", "role": "provider"
    });
    let (status, reply) = call(
        agent,
        "POST",
        &format!("{base}/api/v1/staff"),
        Some(manager),
        Some(&body),
    )
    .unwrap();
    assert_eq!(status, 201, "{reply}");
    let activate = json!({"code": reply["code"], "password": "violet kettle harbour"});
    let (status, reply) = call(
        agent,
        "POST",
        &format!("{base}/api/v1/auth/activate"),
        None,
        Some(&activate),
    )
    .unwrap();
    assert_eq!(status, 200, "{reply}");
    reply["token"].as_str().unwrap().to_owned()
}

/// What the writers were told had been saved.
#[derive(Default)]
struct Acknowledged {
    series: Vec<i64>,
    /// (series, session id)
    sessions: Vec<(i64, i64)>,
}

/// Writes until the server stops answering: opens series and records up to six sessions in each.
fn write_until_killed(base: &str, token: &str, writer: usize, acked: &Mutex<Acknowledged>) {
    let agent = agent();
    for n in 0.. {
        let Ok(series) = open_series(&agent, base, token, writer * 100_000 + n) else {
            return;
        };
        acked.lock().unwrap().series.push(series);
        for _ in 0..6 {
            let url = format!("{base}/api/v1/series/{series}/sessions");
            match call(&agent, "POST", &url, Some(token), Some(&session_body())) {
                Ok((201, body)) => {
                    let id = body["session"]["id"].as_i64().unwrap();
                    acked.lock().unwrap().sessions.push((series, id));
                }
                Ok((409, _)) => {}
                Ok((status, body)) => panic!("unexpected {status}: {body}"),
                Err(_) => return,
            }
        }
    }
}

/// xorshift: enough randomness for kill times, reproducible from the printed seed.
fn next(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

#[test]
fn sigkill_under_write_load_loses_no_acknowledged_write() {
    const ROUNDS: usize = 20;
    for db in TestDb::all() {
        let url = db.url_string();
        let logins = demo(&url);
        let password = &logins["chen@demo.clinic.example"];
        let mut seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as u64
            | 1;
        eprintln!("{}: kill-time seed {seed}", db.backend_name());
        let acked = Mutex::new(Acknowledged::default());
        for round in 0..ROUNDS {
            let mut server = Server::start(&url);
            let token = token(&agent(), &server.base, "chen@demo.clinic.example", password);
            let kill_after = Duration::from_millis(50 + next(&mut seed) % 400);
            let base = server.base.clone();
            std::thread::scope(|scope| {
                for writer in 0..6 {
                    let (base, token, acked) = (&base, &token, &acked);
                    scope.spawn(move || write_until_killed(base, token, round * 10 + writer, acked));
                }
                std::thread::sleep(kill_after);
                server.kill();
            });

            // Every acknowledged write is there, no series went past 5, and the file is sound.
            let mut conn = db.conn();
            assert_eq!(conn.integrity_check().unwrap(), Ok(()), "round {round}");
            let acked = acked.lock().unwrap();
            for &series_id in &acked.series {
                let s = series::find(&mut conn, SeriesId(series_id))
                    .unwrap_or_else(|e| panic!("round {round}: acknowledged series {series_id} lost: {e}"));
                let sessions = series::sessions_of(&mut conn, SeriesId(series_id)).unwrap();
                assert!(sessions.len() <= 5, "series {series_id} has {}", sessions.len());
                assert_eq!(usize::from(s.recorded()), sessions.len(), "the counter agrees");
            }
            for &(series_id, session_id) in &acked.sessions {
                let sessions = series::sessions_of(&mut conn, SeriesId(series_id)).unwrap();
                assert!(
                    sessions.iter().any(|s| s.id.0 == session_id),
                    "round {round}: acknowledged session {session_id} of series {series_id} lost"
                );
            }
        }
        let acked = acked.lock().unwrap();
        eprintln!(
            "{}: {ROUNDS} rounds, {} series and {} sessions acknowledged, all present",
            db.backend_name(),
            acked.series.len(),
            acked.sessions.len()
        );
        assert!(
            acked.sessions.len() >= ROUNDS,
            "the load wrote too little to prove anything"
        );
    }
}

/// aiosmtpd (tests/smtp/sink.py) on a free port, writing what it accepts to `out`.
struct Sink(Child);

impl Sink {
    fn start(port: u16, out: &std::path::Path) -> Self {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/smtp/sink.py");
        let mut child = Command::new("python3")
            .arg(script)
            .args(["--port", &port.to_string(), "--out"])
            .arg(out)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "ready");
        Self(child)
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The Message-ID of every message the sink received (each file once).
fn received_ids(out: &std::path::Path) -> Vec<String> {
    let mut ids = Vec::new();
    for entry in std::fs::read_dir(out).unwrap().flatten() {
        let text = std::fs::read_to_string(entry.path()).unwrap_or_default();
        if let Some(line) = text.lines().find(|l| l.to_ascii_lowercase().starts_with("message-id:")) {
            ids.push(line[11..].trim().to_owned());
        }
    }
    ids
}

/// SIGKILL while the worker is sending: after a restart every queued message arrives at least once,
/// always with the Message-ID it was queued with.
#[test]
fn sigkill_during_delivery_loses_no_message() {
    let aiosmtpd = Command::new("python3").args(["-c", "import aiosmtpd"]).output();
    if !aiosmtpd.is_ok_and(|o| o.status.success()) {
        assert!(std::env::var_os("CI").is_none(), "aiosmtpd is missing under CI");
        eprintln!("note: skipped: pip install aiosmtpd");
        return;
    }
    for db in TestDb::all() {
        let url = db.url_string();
        let out = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let _sink = Sink::start(port, out.path());
        let smtp = format!("smtp://127.0.0.1:{port}");
        let env = [
            ("CLINIC_SMTP_URL", smtp.as_str()),
            ("CLINIC_MAIL_FROM", "desk@clinic.example"),
            ("CLINIC_MAIL_LEASE_SECONDS", "2"),
        ];
        let logins = demo(&url);
        let n = 600;
        let queued: Vec<String> = {
            let mut conn = db.conn();
            let patient = clinic_db::patients::search(&mut conn, "ana", 1).unwrap()[0].id;
            let now = chrono::Utc::now().naive_utc();
            (0..n)
                .map(|i| {
                    let id = format!("<crash-{i}@clinic.example>");
                    clinic_db::outbox::insert(
                        &mut conn,
                        &clinic_db::outbox::NewMessage {
                            kind: "invitation",
                            status: "queued",
                            recipient: "ana.silva@mail.example",
                            patient_id: Some(patient.0),
                            user_id: None,
                            session_id: None,
                            message_id: &id,
                            payload: Some("ABCD-EFGH-JKMN-PQRS"),
                            scheduled_for: now,
                            next_attempt_at: now,
                        },
                    )
                    .unwrap();
                    id
                })
                .collect()
        };
        assert!(!logins.is_empty());
        let mut server = Server::start_with(&url, &env);
        // Kill it while it is sending.
        let start = std::time::Instant::now();
        while received_ids(out.path())
            .iter()
            .filter(|i| i.starts_with("<crash-"))
            .count()
            < n / 4
        {
            assert!(start.elapsed() < Duration::from_secs(60), "nothing is being sent");
            std::thread::sleep(Duration::from_millis(20));
        }
        server.kill();
        let at_kill = received_ids(out.path())
            .iter()
            .filter(|i| i.starts_with("<crash-"))
            .count();
        assert!(at_kill < n, "the kill came too late to test anything");
        let _restarted = Server::start_with(&url, &env);
        let start = std::time::Instant::now();
        let ids = loop {
            // The demo's own aftercare e-mails arrive too; only the crash-* messages are counted.
            let ids: std::collections::BTreeSet<String> = received_ids(out.path())
                .into_iter()
                .filter(|i| i.starts_with("<crash-"))
                .collect();
            if ids.len() >= n {
                break ids;
            }
            assert!(
                start.elapsed() < Duration::from_secs(90),
                "{} of {n} arrived after the restart",
                ids.len()
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        let queued: std::collections::BTreeSet<String> = queued.into_iter().collect();
        assert_eq!(ids, queued, "every queued message arrived, with its own Message-ID");
        eprintln!(
            "{}: killed after {at_kill} of {n}; {} deliveries in all",
            db.backend_name(),
            received_ids(out.path()).len()
        );
    }
}

/// Ten answered reads of a patient's record, then SIGKILL at once: all ten are in the audit log.
#[test]
fn sigkill_right_after_answered_reads_keeps_their_audit_rows() {
    for db in TestDb::all() {
        let url = db.url_string();
        let logins = demo(&url);
        let mut server = Server::start(&url);
        let agent = agent();
        let provider = token(
            &agent,
            &server.base,
            "chen@demo.clinic.example",
            &logins["chen@demo.clinic.example"],
        );
        let (status, patients) = call(
            &agent,
            "GET",
            &format!("{}/api/v1/patients", server.base),
            Some(&provider),
            None,
        )
        .unwrap();
        assert_eq!(status, 200, "{patients}");
        let id = patients[0]["id"].as_i64().unwrap();
        let before = reads_of(&db, "patient.read", id);
        let url = format!("{}/api/v1/patients/{id}", server.base);
        for _ in 0..10 {
            assert_eq!(call(&agent, "GET", &url, Some(&provider), None).unwrap().0, 200);
        }
        // The patient's own timeline: after the first read, answered from the kept reads.
        let email = "ana.silva@mail.example";
        let patient = token(&agent, &server.base, email, &logins[email]);
        let (status, me) = call(
            &agent,
            "GET",
            &format!("{}/api/v1/me", server.base),
            Some(&patient),
            None,
        )
        .unwrap();
        assert_eq!(status, 200, "{me}");
        let own = me["patient_id"].as_i64().unwrap();
        let timelines = reads_of(&db, "timeline.read", own);
        let url = format!("{}/api/v1/me/timeline", server.base);
        for _ in 0..10 {
            assert_eq!(call(&agent, "GET", &url, Some(&patient), None).unwrap().0, 200);
        }
        server.kill();
        assert_eq!(reads_of(&db, "patient.read", id) - before, 10, "{}", db.backend_name());
        assert_eq!(
            reads_of(&db, "timeline.read", own) - timelines,
            10,
            "{}",
            db.backend_name()
        );
    }
}

fn reads_of(db: &TestDb, action: &str, patient: i64) -> usize {
    clinic_db::audit::list(&mut db.conn(), None, 100_000)
        .unwrap()
        .iter()
        .filter(|e| e.action == action && e.patient_id.is_some_and(|p| p.0 == patient))
        .count()
}
