//! `spawn_app()`: the real application on port 0 with a fresh database, and an HTTP client for it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod proxy;
pub mod smtp;

use clinic_db::testing::TestDb;
use clinic_server::{Application, Config, telemetry};
use std::sync::mpsc;

pub use clinic_db::testing::TestDb as Database;

pub struct TestApp {
    pub address: String,
    pub setup_code: Option<String>,
    pub db: TestDb,
    pub agent: ureq::Agent,
    running: Option<Running>,
}

/// A server started by a test: stopped when the test's app is dropped, before its database is, so no
/// process outlives its database (and nothing reconnects to a dropped one while the test binary exits).
struct Running {
    handle: actix_web::dev::ServerHandle,
    thread: std::thread::JoinHandle<()>,
}

impl Running {
    fn stop(self) {
        actix_web::rt::System::new().block_on(self.handle.stop(false));
        let _ = self.thread.join();
    }
}

impl TestApp {
    /// Stops this app's server, its mail worker included, as a process that exits would, then starts
    /// `next` on the same database, as the next process would; requests go to it from then on.
    pub fn restart_as(&mut self, next: impl FnOnce(&TestDb) -> OtherServer) -> OtherServer {
        if let Some(running) = self.running.take() {
            running.stop();
        }
        let next = next(&self.db);
        self.address = next.address.clone();
        next
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            running.stop();
        }
    }
}

/// One response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Starts the application on `db` in a background thread and returns once it accepts connections.
pub fn spawn_app(db: TestDb) -> TestApp {
    spawn_app_with(db, |_| {})
}

/// Like [`spawn_app`], with the configuration adjusted first.
pub fn spawn_app_with(db: TestDb, adjust: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_at(db, std::sync::Arc::new(clinic_domain::SystemClock), adjust)
}

/// Like [`spawn_app_with`], on a clock of the test's choosing.
pub fn spawn_app_at(
    db: TestDb,
    clock: std::sync::Arc<dyn clinic_domain::Clock>,
    adjust: impl FnOnce(&mut Config),
) -> TestApp {
    if std::env::var_os("TEST_LOG").is_some() {
        telemetry::init("debug");
    }
    let mut config = Config::new("127.0.0.1:0", &db.url_string()).expect("config");
    // Tests play clients at many addresses through X-Forwarded-For.
    config.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    adjust(&mut config);
    let (port, setup_code, running) = start_running(config, clock);
    // Most tests sign managers in with a password alone; the second factor the clinic requires of
    // managers by default has tests of its own (`mfa.rs`), which set it back.
    clinic_db::clinic::set_mfa_policy(&mut db.conn(), "none").expect("mfa policy");
    let agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .build()
        .new_agent();
    TestApp {
        address: format!("http://127.0.0.1:{port}"),
        setup_code,
        db,
        agent,
        running: Some(running),
    }
}

/// Another server on an existing database (as another process would), stopped when dropped.
pub struct OtherServer {
    pub address: String,
    /// The setup code it offered, if any.
    pub setup_code: Option<String>,
    running: Option<Running>,
}

impl Drop for OtherServer {
    fn drop(&mut self) {
        if let Some(running) = self.running.take() {
            running.stop();
        }
    }
}

/// Starts a second server on an existing database (as another process would).
pub fn spawn_app_on(db: &TestDb) -> OtherServer {
    let config = Config::new("127.0.0.1:0", &db.url_string()).expect("config");
    other_server(config)
}

fn other_server(config: Config) -> OtherServer {
    let (port, setup_code, running) = start_running(config, std::sync::Arc::new(clinic_domain::SystemClock));
    OtherServer {
        address: format!("http://127.0.0.1:{port}"),
        setup_code,
        running: Some(running),
    }
}

/// Starts another server on `db` with the configuration adjusted (e.g. a mail server set).
pub fn spawn_server_on(db: &TestDb, adjust: impl FnOnce(&mut Config)) -> OtherServer {
    let mut config = Config::new("127.0.0.1:0", &db.url_string()).expect("config");
    config.trusted_proxies = vec!["127.0.0.1".parse().unwrap()];
    adjust(&mut config);
    other_server(config)
}

/// Points `config` at the SMTP server at `url`, retrying fast so tests see the end of it.
pub fn with_mail_server(config: &mut Config, url: &str) {
    config.mail =
        clinic_mail::MailSettings::parse(Some(url), Some("Desk <desk@clinic.example>")).expect("mail settings");
    config.mail.first_retry = std::time::Duration::from_millis(300);
    config.mail.max_attempts = 3;
    config.mail.lease = std::time::Duration::from_secs(3);
}

fn start_running(config: Config, clock: std::sync::Arc<dyn clinic_domain::Clock>) -> (u16, Option<String>, Running) {
    let (tx, rx) = mpsc::channel();
    let thread = std::thread::spawn(move || {
        let system = actix_web::rt::System::new();
        system.block_on(async move {
            match Application::build_with_clock(config, clock) {
                Ok(app) => {
                    let code = app.setup_code.as_ref().map(|c| c.as_str().to_owned());
                    let _ = tx.send(Ok((app.port(), code, app.handle())));
                    let _ = app.run_until_stopped().await;
                }
                Err(e) => {
                    let _ = tx.send(Err(format!("{e:#}")));
                }
            }
        });
    });
    let (port, code, handle) = rx
        .recv()
        .expect("server thread")
        .unwrap_or_else(|e| panic!("start: {e}"));
    (port, code, Running { handle, thread })
}

/// Runs `test` against a fresh application on every configured database.
pub fn on_each_database(test: impl Fn(&TestApp)) {
    for db in TestDb::all() {
        let name = db.backend_name();
        let app = spawn_app(db);
        eprintln!("-- on {name}");
        test(&app);
    }
}

fn read(resp: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Reply {
    let mut resp = resp.unwrap_or_else(|e| panic!("request failed: {e}"));
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or_default().to_owned()))
        .collect();
    let body = resp.body_mut().read_to_string().unwrap_or_default();
    Reply { status, headers, body }
}

/// A small JPEG (a photo to upload).
pub fn small_jpeg(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 90]));
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85)
        .encode_image(&img)
        .expect("jpeg");
    out
}

/// The value of the hidden `csrf` field in a page.
pub fn csrf_of(page: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = page
        .find(marker)
        .map(|i| i + marker.len())
        .unwrap_or_else(|| panic!("no csrf field in {page}"));
    page[start..].split('"').next().unwrap().to_owned()
}

/// The one-time key of a page's creating form, when it has one.
pub fn once_of(page: &str) -> Option<String> {
    let marker = "name=\"once\" value=\"";
    let start = page.find(marker)? + marker.len();
    Some(page[start..].split('"').next()?.to_owned())
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// A new client with its own cookie jar (a second browser).
    pub fn browser(&self) -> ureq::Agent {
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .build()
            .new_agent()
    }

    /// GETs a form page and POSTs `fields` with its CSRF token, as a browser would.
    pub fn submit_form(&self, agent: &ureq::Agent, page: &str, action: &str, fields: &[(&str, &str)]) -> Reply {
        let form = read(agent.get(&self.url(page)).call());
        let token = csrf_of(&form.body);
        let once = once_of(&form.body).unwrap_or_default();
        let mut all: Vec<(&str, &str)> = vec![("csrf", &token)];
        if !once.is_empty() {
            all.push(("once", &once));
        }
        all.extend_from_slice(fields);
        read(agent.post(&self.url(action)).send_form(all.iter().copied()))
    }

    pub fn send(&self, request: ureq::RequestBuilder<ureq::typestate::WithoutBody>) -> Reply {
        read(request.call())
    }

    pub fn send_json(
        &self,
        request: ureq::RequestBuilder<ureq::typestate::WithBody>,
        body: &serde_json::Value,
    ) -> Reply {
        read(request.send_json(body))
    }

    pub fn get(&self, path: &str) -> Reply {
        read(self.agent.get(&self.url(path)).call())
    }

    pub fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Reply {
        read(self.agent.post(&self.url(path)).send_form(fields.iter().copied()))
    }

    pub fn post_json(&self, path: &str, body: &serde_json::Value) -> Reply {
        read(self.agent.post(&self.url(path)).send_json(body))
    }
}

pub const STAFF_PASSWORD: &str = "long enough password";

impl TestApp {
    /// A staff account made directly in the database; returns its e-mail address.
    pub fn add_staff(&self, role: &str, email: &str) -> String {
        let mut conn = self.db.conn();
        let now = chrono::Utc::now().naive_utc();
        clinic_server::users::add_staff(&mut conn, role, email, "Test Staff", STAFF_PASSWORD, now).unwrap();
        email.to_owned()
    }

    /// A patient record made directly in the database.
    pub fn add_patient(&self, first: &str, email: Option<&str>) -> i64 {
        let mut conn = self.db.conn();
        let provider = clinic_db::users::list_staff(&mut conn)
            .unwrap()
            .into_iter()
            .next()
            .expect("a staff member first");
        let input = clinic_domain::patient::PatientInput {
            first_name: first,
            last_name: "Patient",
            date_of_birth: chrono::NaiveDate::from_ymd_opt(1990, 1, 2),
            email,
            phone: None,
        };
        let today = chrono::Utc::now().date_naive();
        let parsed = clinic_domain::patient::NewPatient::parse(input, today).unwrap();
        clinic_db::patients::insert(&mut conn, &parsed, provider.id, chrono::Utc::now().naive_utc())
            .unwrap()
            .id
            .0
    }

    /// Signs in through the API from `address`; returns the whole reply.
    pub fn login_from(&self, email: &str, password: &str, address: &str) -> Reply {
        let body = serde_json::json!({"email": email, "password": password});
        self.send_json(
            self.agent
                .post(&self.url("/api/v1/auth/login"))
                .header("X-Forwarded-For", address),
            &body,
        )
    }

    /// Signs in and returns the bearer token.
    pub fn token(&self, email: &str, password: &str) -> String {
        let r = self.login_from(email, password, "192.0.2.1");
        assert_eq!(r.status, 200, "login {email}: {}", r.body);
        r.json()["token"].as_str().unwrap().to_owned()
    }

    pub fn api(&self, method: &str, path: &str, token: Option<&str>, body: Option<&serde_json::Value>) -> Reply {
        self.api_with(method, path, token, body, &[])
    }

    /// [`Self::api`] with extra request headers (e.g. `Idempotency-Key`).
    pub fn api_with(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&serde_json::Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let url = self.url(path);
        let auth = token.map(|t| format!("Bearer {t}"));
        macro_rules! with_auth {
            ($req:expr) => {{
                let mut r = $req;
                if let Some(a) = &auth {
                    r = r.header("Authorization", a);
                }
                for (name, value) in headers {
                    r = r.header(*name, *value);
                }
                r
            }};
        }
        match (method, body) {
            ("GET", _) => self.send(with_auth!(self.agent.get(&url))),
            ("POST", Some(b)) => self.send_json(with_auth!(self.agent.post(&url)), b),
            ("POST", None) => read(with_auth!(self.agent.post(&url)).send_empty()),
            ("PUT", Some(b)) => self.send_json(with_auth!(self.agent.put(&url)), b),
            ("PUT", None) => read(with_auth!(self.agent.put(&url)).send_empty()),
            ("PATCH", Some(b)) => self.send_json(with_auth!(self.agent.patch(&url)), b),
            // ureq sends no body with DELETE unless forced.
            ("DELETE_JSON", Some(b)) => self.send_json(with_auth!(self.agent.delete(&url).force_send_body()), b),
            other => panic!("unsupported {other:?}"),
        }
    }

    /// Issues a patient's invitation as `provider_token` and activates it; returns the patient's token.
    pub fn patient_token(&self, provider_token: &str, patient_id: i64, password: &str) -> String {
        let inv = self.api(
            "POST",
            &format!("/api/v1/patients/{patient_id}/invitation"),
            Some(provider_token),
            None,
        );
        assert_eq!(inv.status, 201, "{}", inv.body);
        let code = inv.json()["code"].as_str().unwrap().to_owned();
        let body = serde_json::json!({"code": code, "password": password});
        let r = self.api("POST", "/api/v1/auth/activate", None, Some(&body));
        assert_eq!(r.status, 200, "{}", r.body);
        r.json()["token"].as_str().unwrap().to_owned()
    }

    /// A token for an existing account, its login session opened directly (no password, no hashing) by
    /// the same action sign-in uses: for tests that need many sessions.
    pub fn session_token(&self, email: &str) -> String {
        self.open_session(email, false)
    }

    /// A token whose session may only enrol a second factor (as sign-in gives when the clinic
    /// requires one the account lacks), opened directly in the database.
    pub fn enrolment_token(&self, email: &str) -> String {
        self.open_session(email, true)
    }

    fn open_session(&self, email: &str, enrolment_only: bool) -> String {
        let mut conn = self.db.conn();
        let user = clinic_db::users::find_by_email(&mut conn, email).unwrap().unwrap();
        let keys = clinic_auth::TokenKeys::from_server_secret(self.signing_key().as_bytes());
        let clock = clinic_domain::SystemClock;
        let trail = clinic_app::audit::Collected::default();
        let env = clinic_app::Env {
            clock: &clock,
            clinic: std::sync::Arc::new(clinic_app::clinic::Clinic::named("", chrono_tz::UTC)),
            trail: &trail,
            public_url: "",
        };
        clinic_app::accounts::open_session_of(&mut conn, &env, &keys, user, enrolment_only)
            .unwrap()
            .token
    }

    /// A provider's first session for `patient`: a series opened and one session recorded through
    /// the API; returns the session's id.
    pub fn first_session(&self, provider: &str, patient: i64) -> i64 {
        let opened = self.api(
            "POST",
            &format!("/api/v1/patients/{patient}/series"),
            Some(provider),
            Some(&serde_json::json!({"condition": "acne_scars"})),
        );
        assert_eq!(opened.status, 201, "{}", opened.body);
        let body = serde_json::json!({
            "performed_on": chrono::Utc::now().date_naive().to_string(),
            "treatment_areas": ["cheeks"],
            "device": "pen",
            "needle_depth_mm": 0.5,
            "products_applied": ["sunscreen"]
        });
        let recorded = self.api(
            "POST",
            &format!("/api/v1/series/{}/sessions", opened.json()["id"]),
            Some(provider),
            Some(&body),
        );
        assert_eq!(recorded.status, 201, "{}", recorded.body);
        recorded.json()["session"]["id"].as_i64().unwrap()
    }

    /// Uploads a photo of `session` as multipart (`kind`, `file`) with a bearer token.
    pub fn upload_photo(&self, token: &str, session: i64, kind: &str, file: &[u8]) -> Reply {
        let boundary = "clinic-test-boundary-7d1f";
        let mut body = Vec::new();
        body.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"kind\"\r\n\r\n{kind}\r\n").as_bytes(),
        );
        body.extend(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"photo.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend(file);
        body.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
        read(
            self.agent
                .post(&self.url(&format!("/api/v1/sessions/{session}/photos")))
                .header("Authorization", &format!("Bearer {token}"))
                .header("Content-Type", &format!("multipart/form-data; boundary={boundary}"))
                .send(&body[..]),
        )
    }

    /// The signing key the server generated and keeps in the database.
    pub fn signing_key(&self) -> String {
        clinic_db::settings::get(&mut self.db.conn(), clinic_server::startup::SIGNING_KEY_SETTING)
            .unwrap()
            .unwrap()
    }

    /// Waits for queued audit rows to be written (a read's rows are written before its answer; the
    /// rest within moments).
    pub fn audit_rows(&self) -> Vec<clinic_db::audit::AuditEvent> {
        std::thread::sleep(std::time::Duration::from_millis(400));
        clinic_db::audit::list(&mut self.db.conn(), None, 10_000).unwrap()
    }
}

impl TestApp {
    /// POSTs a form as `agent`, with an optional Origin header.
    pub fn send_form_with(
        &self,
        agent: &ureq::Agent,
        path: &str,
        fields: &[(&str, &str)],
        origin: Option<&str>,
    ) -> Reply {
        let mut req = agent.post(&self.url(path));
        if let Some(o) = origin {
            req = req.header("Origin", o);
        }
        read(req.send_form(fields.iter().copied()))
    }

    /// Sends a raw body.
    pub fn send_raw(&self, request: ureq::RequestBuilder<ureq::typestate::WithBody>, body: &str) -> Reply {
        read(request.send(body))
    }
}
