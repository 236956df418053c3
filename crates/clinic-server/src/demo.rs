//! `clinic demo`: a small demo clinic in an empty database.

use anyhow::{Context, Result, bail};
use chrono::{DateTime, Days, NaiveDate, Utc};
use chrono_tz::Tz;
use clinic_app::audit::Collected;
use clinic_app::{Actor, Env, patients, series};
use clinic_auth::{Password, generate_code, hash_password};
use clinic_db::series::SessionRecord;
use clinic_db::{DbConn, users};
use clinic_domain::patient::{NewPatient, PatientInput};
use clinic_domain::protocol::StageKey;
use clinic_domain::series::{Condition, SeriesPlan};
use clinic_domain::session::{Device, NeedleDepth, Notes, Product, ProductsApplied, TreatmentAreas};
use clinic_domain::user::Role;
use clinic_domain::{Clock, FixedClock, PatientId, SeriesId, UserId};

/// A login the demo created, printed once.
#[derive(Debug, Clone)]
pub struct DemoLogin {
    pub role: Role,
    pub email: String,
    pub password: String,
}

struct Builder<'a> {
    conn: &'a mut DbConn,
    clock: FixedClock,
    clinic: std::sync::Arc<clinic_app::clinic::Clinic>,
    tz: Tz,
    trail: Collected,
    logins: Vec<DemoLogin>,
}

/// Runs a use case as `$actor` with the builder's clock and trail.
macro_rules! act {
    ($b:expr, $actor:expr, |$conn:ident, $env:ident, $a:ident| $body:expr) => {{
        let $env = Env {
            clock: &$b.clock,
            clinic: std::sync::Arc::clone(&$b.clinic),
            trail: &$b.trail,
            public_url: "",
        };
        let $conn: &mut DbConn = &mut *$b.conn;
        let $a = &$actor;
        $body.map_err(|e| anyhow::anyhow!(e.chain()))
    }};
}

impl Builder<'_> {
    fn now(&self) -> chrono::NaiveDateTime {
        self.clock.0.naive_utc()
    }

    fn remember(&mut self, role: Role, email: &str) -> Result<String> {
        let password = generate_code()?.as_str().to_owned();
        self.logins.push(DemoLogin {
            role,
            email: email.to_owned(),
            password: password.clone(),
        });
        Ok(password)
    }

    /// A staff account, made as `clinic user add` makes one.
    fn staff(&mut self, role: Role, email: &str, name: &str) -> Result<Actor> {
        let password = self.remember(role, email)?;
        let user = crate::users::add_staff(self.conn, role.as_str(), email, name, &password, self.now())?;
        Ok(Actor::command_line(user))
    }

    /// A patient's portal login with a known password (a real patient activates a code instead).
    fn portal_login(&mut self, email: &str, name: &str, patient: PatientId) -> Result<()> {
        let password = self.remember(Role::Patient, email)?;
        let hash = hash_password(&Password::parse(&password)?)?;
        users::insert(
            self.conn,
            &users::NewUser {
                email,
                display_name: name,
                role: Role::Patient.as_str(),
                password_hash: &hash,
                patient_id: Some(patient.0),
                created_at: self.now(),
            },
        )?;
        Ok(())
    }

    fn patient(
        &mut self,
        by: &Actor,
        first: &str,
        last: &str,
        born: (i32, u32, u32),
        email: Option<&str>,
    ) -> Result<PatientId> {
        let input = PatientInput {
            first_name: first,
            last_name: last,
            date_of_birth: NaiveDate::from_ymd_opt(born.0, born.1, born.2),
            email,
            phone: Some("+1 555 010 0199"),
        };
        let today = self.clock.today_in(self.tz);
        let parsed = NewPatient::parse(input, today).map_err(|e| anyhow::anyhow!("demo patient: {e:?}"))?;
        Ok(act!(self, by, |conn, env, a| patients::save(conn, &env, a, None, &parsed))?.id)
    }

    fn series(
        &mut self,
        patient: PatientId,
        by: &Actor,
        condition: Condition,
        planned: i64,
        reason: Option<&str>,
        review: Option<&str>,
    ) -> Result<SeriesId> {
        let plan = SeriesPlan::parse(condition, Some(planned), reason)?;
        let review = Notes::parse("review_note", review)?;
        Ok(act!(self, by, |conn, env, a| series::open(
            conn,
            &env,
            a,
            patient,
            &plan,
            review.as_ref()
        ))?
        .id)
    }

    /// Records a session `days_ago` days before today; returns whether it was recorded.
    fn session(&mut self, id: SeriesId, by: &Actor, days_ago: u64, eye_area: bool, acknowledge: bool) -> Result<bool> {
        let today = self.clock.today_in(self.tz);
        let record = SessionRecord {
            performed_on: today.checked_sub_days(Days::new(days_ago)).context("date")?,
            treatment_areas: TreatmentAreas::parse(if eye_area {
                vec!["forehead", "periorbital", "cheeks"]
            } else {
                vec!["cheeks", "forehead"]
            })?,
            eye_area,
            device: if eye_area { Device::Pen } else { Device::Roller },
            needle_depth: NeedleDepth::from_mm(if eye_area { 0.5 } else { 1.0 })?,
            products_applied: ProductsApplied::new(Product::ALL),
            notes: Notes::parse(
                "notes",
                Some("Example note: a provider's own instructions for the patient appear here."),
            )?,
            notes_stage: StageKey::Days2To7,
            acknowledge_beyond_typical: acknowledge,
        };
        let env = Env {
            clock: &self.clock,
            clinic: std::sync::Arc::clone(&self.clinic),
            trail: &self.trail,
            public_url: "",
        };
        match series::record_session(self.conn, &env, by, id, &record) {
            Ok(_) => Ok(true),
            Err(clinic_app::Error::Refused { .. }) => Ok(false),
            Err(e) => Err(anyhow::anyhow!(e.chain())),
        }
    }

    fn complete(&mut self, id: SeriesId, by: &Actor) -> Result<()> {
        act!(self, by, |conn, env, a| series::complete(conn, &env, a, id))?;
        Ok(())
    }
}

/// Fills an empty database; refuses one that already has accounts.
pub fn fill(conn: &mut DbConn, tz: Tz, now: DateTime<Utc>) -> Result<Vec<DemoLogin>> {
    if users::count(conn)? > 0 || clinic_db::patients::count(conn)? > 0 {
        bail!("the database already has accounts or patients; `clinic demo` only fills an empty database");
    }
    let clinic = clinic_app::clinic::ensure(conn, tz, now.naive_utc()).map_err(|e| anyhow::anyhow!(e.chain()))?;
    // A demo to try with the printed passwords alone: no second factor required (a clinic's own
    // default is managers; the clinic settings page changes it).
    clinic_db::clinic::set_mfa_policy(conn, "none")?;
    let mut b = Builder {
        conn,
        clock: FixedClock(now),
        tz: clinic.time_zone,
        clinic: std::sync::Arc::new(clinic),
        trail: Collected::default(),
        logins: Vec::new(),
    };
    b.staff(Role::Manager, "manager@demo.clinic.example", "Morgan Reyes")?;
    let chen = b.staff(Role::Provider, "chen@demo.clinic.example", "Dr. Maya Chen")?;
    let okafor = b.staff(Role::Provider, "okafor@demo.clinic.example", "Sam Okafor, RN")?;

    // In the middle of a typical course, treated around the eyes two days ago.
    let ana = b.patient(&chen, "Ana", "Silva", (1988, 4, 12), Some("ana.silva@mail.example"))?;
    let s = b.series(ana, &chen, Condition::AcneScars, 3, None, None)?;
    b.session(s, &chen, 30, false, false)?;
    b.session(s, &chen, 2, true, false)?;
    b.portal_login("ana.silva@mail.example", "Ana Silva", ana)?;

    // Treated today.
    let bruno = b.patient(
        &okafor,
        "Bruno",
        "Costa",
        (1979, 11, 3),
        Some("bruno.costa@mail.example"),
    )?;
    let s = b.series(bruno, &okafor, Condition::FineLinesAndWrinkles, 3, None, None)?;
    b.session(s, &okafor, 0, false, false)?;
    b.portal_login("bruno.costa@mail.example", "Bruno Costa", bruno)?;

    // A course that reached the maximum, a refused 6th attempt, and a flagged new course.
    let carla = b.patient(&chen, "Carla", "Mendes", (1992, 7, 21), None)?;
    let s = b.series(
        carla,
        &chen,
        Condition::StretchMarks,
        5,
        Some("Extensive abdominal stretch marks"),
        None,
    )?;
    for (i, days_ago) in [200u64, 170, 140, 110, 80].into_iter().enumerate() {
        b.session(s, &chen, days_ago, false, i >= 3)?;
    }
    b.session(s, &chen, 50, false, true)?;
    b.complete(s, &chen)?;
    b.series(
        carla,
        &chen,
        Condition::SurgicalScars,
        2,
        None,
        Some("Reviewed with the patient's GP: no underlying condition found."),
    )?;

    // Beyond the plan, acknowledged, then completed.
    let dmitri = b.patient(&okafor, "Dmitri", "Ivanov", (1965, 2, 28), None)?;
    let s = b.series(dmitri, &okafor, Condition::EnlargedPores, 2, None, None)?;
    for (i, days_ago) in [120u64, 90, 60].into_iter().enumerate() {
        b.session(s, &okafor, days_ago, false, i >= 2)?;
    }
    b.complete(s, &okafor)?;

    // A new course with nothing recorded yet.
    let elena = b.patient(&chen, "Elena", "Rossi", (2001, 9, 9), None)?;
    b.series(elena, &chen, Condition::Hyperpigmentation, 3, None, None)?;

    // Reads and refusals the actions audited outside their transactions.
    clinic_db::audit::insert_many(b.conn, &b.trail.take())?;
    // The product ships no consent wording: the demo's form says it is an example to replace.
    clinic_db::consent::publish(
        b.conn,
        "Example consent form: replace it with your clinic's own",
        "This text is an example that comes with the demo clinic, so that signing a consent can be tried \
         out. It is not a consent form. Before treating patients, a manager publishes the clinic's own \
         wording on the Consent forms page (or with POST /api/v1/consent-forms); each version is kept \
         unchanged once published.",
        None,
        now.naive_utc(),
    )?;
    Ok(b.logins)
}

/// Adds `count` generated patients with their courses, recorded by the clinic's providers in turn.
pub fn bulk(conn: &mut DbConn, count: usize, tz: Tz, now: DateTime<Utc>) -> Result<clinic_db::bulk::Seeded> {
    let providers: Vec<UserId> = users::list_staff(conn)?
        .into_iter()
        .filter(|u| u.role == Role::Provider)
        .map(|u| u.id)
        .collect();
    if providers.is_empty() {
        bail!("the database has no provider to record the generated sessions");
    }
    let seeded = clinic_db::bulk::seed(conn, count, &providers, now.with_timezone(&tz).date_naive())?;
    // Fresh statistics, so the planner uses the report's covering indexes on the new data.
    conn.optimize()?;
    Ok(seeded)
}
