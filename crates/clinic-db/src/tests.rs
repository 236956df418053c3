//! Every query function, on SQLite and (when `CLINIC_TEST_POSTGRES_URL` is set) PostgreSQL.

use crate::series::{OpenSeriesError, RecordOutcome, Session, SessionRecord};
use crate::testing::TestDb;
use crate::users::NewUser;
use crate::{DbConn, DbError, audit, invitations, login_sessions, outbox, patients, series, settings, users};
use chrono::{NaiveDate, NaiveDateTime};
use clinic_domain::patient::{NewPatient, PatientInput};
use clinic_domain::protocol::StageKey;
use clinic_domain::series::{Condition, OpenSeriesRefusal, SeriesPlan, SessionRefusal};
use clinic_domain::session::{Device, NeedleDepth, Notes, Product, ProductsApplied, TreatmentAreas};
use clinic_domain::user::Role;
use clinic_domain::{PatientId, SeriesId, UserId};
use std::sync::{Arc, Barrier};

fn now() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 11, 25)
        .unwrap()
        .and_hms_opt(10, 0, 0)
        .unwrap()
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
}

/// A message queued and due now, with no session or payload: override what a test needs.
fn queued<'a>(kind: &'a str, patient: Option<PatientId>, message_id: &'a str) -> outbox::NewMessage<'a> {
    outbox::NewMessage {
        kind,
        status: outbox::QUEUED,
        recipient: "ana@mail.example",
        patient_id: patient.map(|p| p.0),
        user_id: None,
        session_id: None,
        message_id,
        payload: None,
        scheduled_for: now(),
        next_attempt_at: now(),
    }
}

fn add_user(conn: &mut DbConn, email: &str, role: Role, patient: Option<PatientId>) -> users::User {
    users::insert(
        conn,
        &NewUser {
            email,
            display_name: "Test Person",
            role: role.as_str(),
            password_hash: "$argon2id$stub",
            patient_id: patient.map(|p| p.0),
            created_at: now(),
        },
    )
    .unwrap()
}

fn add_patient(conn: &mut DbConn, by: UserId, first: &str, last: &str, email: Option<&str>) -> patients::Patient {
    let input = PatientInput {
        first_name: first,
        last_name: last,
        date_of_birth: NaiveDate::from_ymd_opt(1990, 4, 2),
        email,
        phone: None,
    };
    patients::insert(conn, &NewPatient::parse(input, day(25)).unwrap(), by, now()).unwrap()
}

fn plan(planned: i64) -> SeriesPlan {
    let reason = (planned > 3).then_some("deep scarring");
    SeriesPlan::parse(Condition::AcneScars, Some(planned), reason).unwrap()
}

fn record(eye_area: bool, acknowledge: bool) -> SessionRecord {
    SessionRecord {
        performed_on: day(20),
        treatment_areas: TreatmentAreas::parse(
            if eye_area {
                ["cheeks", "forehead", "periorbital"].as_slice()
            } else {
                ["cheeks", "forehead"].as_slice()
            }
            .iter()
            .copied(),
        )
        .unwrap(),
        eye_area,
        device: Device::Pen,
        needle_depth: NeedleDepth::from_mm(1.25).unwrap(),
        products_applied: ProductsApplied::new([Product::Moisturizer, Product::Sunscreen]),
        notes: Notes::parse("notes", Some("Hydrating serum at night")).unwrap(),
        notes_stage: StageKey::Days2To7,
        acknowledge_beyond_typical: acknowledge,
    }
}

/// A provider, a patient and an open series.
fn clinic(conn: &mut DbConn, planned: i64) -> (UserId, PatientId, SeriesId) {
    let provider = add_user(conn, "provider@clinic.example", Role::Provider, None);
    let patient = add_patient(conn, provider.id, "Ana", "Silva", Some("ana@example.com"));
    let s = series::open(conn, patient.id, &plan(planned), None, provider.id, now()).unwrap();
    (provider.id, patient.id, s.id)
}

#[test]
fn users_insert_find_list_disable() {
    for db in TestDb::all() {
        let c = &mut db.conn();
        let m = add_user(c, "boss@clinic.example", Role::Manager, None);
        let p = add_user(c, "prov@clinic.example", Role::Provider, None);
        assert_eq!(users::find(c, m.id).unwrap(), m);
        assert_eq!(
            users::find_by_email(c, "prov@clinic.example").unwrap().unwrap().role,
            Role::Provider
        );
        assert!(users::find_by_email(c, "nobody@clinic.example").unwrap().is_none());
        assert!(matches!(users::find(c, UserId(9999)), Err(DbError::NotFound)));
        assert_eq!(users::list_staff(c).unwrap().len(), 2);
        assert_eq!(users::count_active_managers(c).unwrap(), 1);
        assert!(users::set_disabled(c, m.id, Some(now())).unwrap());
        assert_eq!(users::count_active_managers(c).unwrap(), 0);
        assert!(!users::find(c, m.id).unwrap().is_active());
        assert!(users::set_disabled(c, m.id, None).unwrap());
        assert!(users::set_password_hash(c, p.id, "$argon2id$new").unwrap());
        assert_eq!(users::find(c, p.id).unwrap().password_hash, "$argon2id$new");
        assert_eq!(users::count(c).unwrap(), 2);
        // E-mail addresses are unique.
        let dup = users::insert(
            c,
            &NewUser {
                email: "prov@clinic.example",
                display_name: "x",
                role: "provider",
                password_hash: "h",
                patient_id: None,
                created_at: now(),
            },
        );
        assert!(matches!(dup, Err(DbError::Conflict(_))), "{}", db.backend_name());
        // A patient account must point at a patient, and only a patient account may.
        let patient = add_patient(c, p.id, "Ana", "Silva", None);
        let u = add_user(c, "ana@example.com", Role::Patient, Some(patient.id));
        assert_eq!(users::find_by_patient(c, patient.id).unwrap(), Some(u));
        let bad = users::insert(
            c,
            &NewUser {
                email: "x@y.example",
                display_name: "x",
                role: "provider",
                password_hash: "h",
                patient_id: Some(patient.id.0),
                created_at: now(),
            },
        );
        assert!(bad.is_err(), "{}", db.backend_name());
    }
}

#[test]
fn patients_insert_find_search() {
    for db in TestDb::all() {
        let c = &mut db.conn();
        let prov = add_user(c, "prov@clinic.example", Role::Provider, None);
        let ana = add_patient(c, prov.id, "Ana", "Silva", Some("ana@example.com"));
        add_patient(c, prov.id, "Bruno", "Costa", None);
        add_patient(c, prov.id, "Carla", "Silvestre", Some("carla_100%@example.com"));
        assert_eq!(patients::find(c, ana.id).unwrap(), ana);
        assert_eq!(ana.full_name(), "Ana Silva");
        let names = |v: Vec<patients::Patient>| v.into_iter().map(|p| p.first_name).collect::<Vec<_>>();
        assert_eq!(names(patients::search(c, "", 50).unwrap()), ["Bruno", "Ana", "Carla"]);
        assert_eq!(names(patients::search(c, "silv", 50).unwrap()), ["Ana", "Carla"]);
        assert_eq!(names(patients::search(c, "  ANA ", 50).unwrap()), ["Ana"]);
        assert_eq!(names(patients::search(c, "100%", 50).unwrap()), ["Carla"]);
        assert_eq!(names(patients::search(c, "%", 50).unwrap()), ["Carla"], "% is literal");
        assert_eq!(names(patients::search(c, "_", 50).unwrap()), ["Carla"], "_ is literal");
        assert_eq!(patients::search(c, "", 1).unwrap().len(), 1);
        assert_eq!(patients::count(c).unwrap(), 3);
    }
}

#[test]
fn series_open_list_complete_and_one_open_per_patient() {
    for db in TestDb::all() {
        let c = &mut db.conn();
        let (prov, patient, first) = clinic(c, 3);
        let again = series::open(c, patient, &plan(2), None, prov, now());
        assert!(matches!(
            again,
            Err(OpenSeriesError::Refused(OpenSeriesRefusal::OpenSeriesExists))
        ));
        let s = series::find(c, first).unwrap();
        assert!(s.is_open() && !s.flagged_after_maximum && s.planned_sessions.get() == 3);
        let done = series::complete(c, first, now()).unwrap();
        assert!(!done.is_open() && done.completed_at == Some(now()));
        let second = series::open(c, patient, &plan(5), None, prov, now()).unwrap();
        assert_eq!(second.reason.as_deref(), Some("deep scarring"));
        let list = series::list_for_patient(c, patient).unwrap();
        assert_eq!(
            list.iter()
                .map(|s| (s.series.id, s.sessions_recorded))
                .collect::<Vec<_>>(),
            [(second.id, 0), (first, 0)]
        );
        assert!(matches!(series::find(c, SeriesId(999)), Err(DbError::NotFound)));
    }
}

#[test]
fn recording_follows_the_series_rule_and_stores_refusals() {
    for db in TestDb::all() {
        let c = &mut db.conn();
        let (prov, patient, id) = clinic(c, 3);
        for n in 1..=3u8 {
            match series::record_session(c, id, &record(n == 2, false), prov, now()).unwrap() {
                RecordOutcome::Recorded {
                    session,
                    sessions,
                    series,
                    admission,
                } => {
                    assert_eq!((session.session_number.get(), series.sessions_recorded), (n, n));
                    assert_eq!(sessions, series::sessions_of(c, id).unwrap(), "{}", db.backend_name());
                    assert_eq!(sessions.last(), Some(&session));
                    assert!(!admission.beyond_typical && session.beyond_typical_ack_by.is_none());
                    assert_eq!(session.eye_area, n == 2);
                    assert_eq!(session.needle_depth.hundredths(), 125);
                    assert_eq!(session.treatment_areas.eye_area(), n == 2);
                    assert!(session.treatment_areas.codes().ends_with(&["cheeks"]));
                    assert_eq!(
                        session.products_applied.as_slice(),
                        [Product::Moisturizer, Product::Sunscreen]
                    );
                    assert_eq!(session.notes().unwrap().as_str(), "Hydrating serum at night");
                }
                other => panic!("{other:?}"),
            }
        }
        let refused = series::record_session(c, id, &record(false, false), prov, now()).unwrap();
        assert!(matches!(
            refused,
            RecordOutcome::Refused {
                refusal: SessionRefusal::AcknowledgementRequired { .. },
                ..
            }
        ));
        for n in 4..=5u8 {
            let RecordOutcome::Recorded { session, admission, .. } =
                series::record_session(c, id, &record(false, true), prov, now()).unwrap()
            else {
                panic!("session {n} refused");
            };
            assert_eq!(session.session_number.get(), n);
            assert_eq!(session.beyond_typical_ack_by, Some(prov));
            assert!(!admission.warnings.is_empty());
        }
        for _ in 0..2 {
            let sixth = series::record_session(c, id, &record(false, true), prov, now()).unwrap();
            assert!(matches!(
                sixth,
                RecordOutcome::Refused {
                    refusal: SessionRefusal::MaximumReached,
                    ..
                }
            ));
        }
        assert_eq!(series::count_refusals(c, id).unwrap(), 2);
        let sessions = series::sessions_of(c, id).unwrap();
        assert_eq!(
            sessions.iter().map(|s| s.session_number.get()).collect::<Vec<_>>(),
            [1, 2, 3, 4, 5]
        );
        assert_eq!(series::find_session(c, sessions[1].id).unwrap(), sessions[1]);
        let (latest, s) = series::latest_session_of_patient(c, patient).unwrap().unwrap();
        assert_eq!((latest.session_number.get(), s.id), (5, id));
        assert_eq!(series::sessions_of_patient(c, patient).unwrap().len(), 5);
        assert_eq!(series::summary(c, id).unwrap().sessions_recorded, 5);
        // The counters the report reads are kept by the schema.
        assert_eq!(series::find(c, id).unwrap().sessions_recorded, 5);
        assert!(
            series::sessions_of(c, id)
                .unwrap()
                .iter()
                .all(|s| s.patient_id == Some(patient)),
            "{}",
            db.backend_name()
        );

        // A new series after one that reached 5 needs a review note and is flagged.
        series::complete(c, id, now()).unwrap();
        let refused = series::open(c, patient, &plan(3), None, prov, now());
        assert!(matches!(
            refused,
            Err(OpenSeriesError::Refused(OpenSeriesRefusal::ReviewNoteRequired))
        ));
        let note = Notes::parse("review_note", Some("Reviewed with the patient's GP")).unwrap();
        let flagged = series::open(c, patient, &plan(3), note.as_ref(), prov, now()).unwrap();
        assert!(flagged.flagged_after_maximum);

        // A completed series takes no more sessions.
        series::complete(c, flagged.id, now()).unwrap();
        let closed = series::record_session(c, flagged.id, &record(false, false), prov, now()).unwrap();
        assert!(matches!(
            closed,
            RecordOutcome::Refused {
                refusal: SessionRefusal::SeriesClosed,
                ..
            }
        ));
    }
}

#[test]
fn a_recorded_session_comes_back_with_its_series_sessions_as_they_now_are() {
    let why = |w: &str| Notes::parse("reason", Some(w)).unwrap().unwrap();
    for db in TestDb::all() {
        let c = &mut db.conn();
        let name = db.backend_name();
        let (prov, _, id) = clinic(c, 3);
        let recorded = |c: &mut DbConn| match series::record_session(c, id, &record(false, false), prov, now()).unwrap()
        {
            RecordOutcome::Recorded { session, sessions, .. } => (session, sessions),
            other => panic!("{other:?}"),
        };
        let (first, _) = recorded(c);
        let (second, _) = recorded(c);
        series::void_session(c, second.id, prov, &why("duplicate"), now()).unwrap();
        // The second again: the void one keeps its number, the new one comes after it.
        let (again, sessions) = recorded(c);
        assert_eq!(again.session_number.get(), 2, "{name}");
        let listed: Vec<_> = sessions.iter().map(|s| (s.id, s.voided_at.is_some())).collect();
        assert_eq!(
            listed,
            [(first.id, false), (second.id, true), (again.id, false)],
            "{name}"
        );
        assert_eq!(sessions, series::sessions_of(c, id).unwrap(), "{name}");
        let (third, sessions) = recorded(c);
        assert_eq!(sessions.len(), 4, "{name}");
        assert_eq!(sessions.last(), Some(&third), "{name}");
        assert_eq!(sessions, series::sessions_of(c, id).unwrap(), "{name}");
    }
}

#[test]
fn the_schema_refuses_what_the_rule_refuses() {
    use crate::schema::sessions;
    use diesel::prelude::*;
    for db in TestDb::all() {
        let c = &mut db.conn();
        let (prov, _, id) = clinic(c, 5);
        let row = |n: i32, ack: Option<i64>| {
            (
                sessions::series_id.eq(id.0),
                sessions::session_number.eq(n),
                sessions::performed_on.eq(day(1)),
                sessions::provider_id.eq(prov.0),
                sessions::treatment_areas.eq("cheeks"),
                sessions::eye_area.eq(false),
                sessions::device.eq("pen"),
                sessions::needle_depth_hundredths.eq(100),
                sessions::products_applied.eq(""),
                sessions::beyond_typical_ack_by.eq(ack),
                sessions::created_at.eq(now()),
            )
        };
        let insert = |c: &mut DbConn, n, ack| crate::with_conn!(c, c => diesel::insert_into(sessions::table).values(row(n, ack)).execute(c));
        assert!(insert(c, 1, None).is_ok());
        assert!(insert(c, 1, None).is_err(), "{}: duplicate number", db.backend_name());
        assert!(insert(c, 6, Some(prov.0)).is_err(), "{}: 6th", db.backend_name());
        assert!(insert(c, 0, None).is_err(), "{}: 0th", db.backend_name());
        assert!(
            insert(c, 4, None).is_err(),
            "{}: 4th without acknowledgement",
            db.backend_name()
        );
        assert!(insert(c, 4, Some(prov.0)).is_ok());
    }
}

/// 32 threads record into one series at once: exactly sessions 1..5 exist afterwards, the rest refused.
#[test]
fn concurrent_recording_never_exceeds_five() {
    for db in TestDb::all() {
        let pool = db.pool(16);
        let (prov, _, id) = clinic(&mut pool.get().unwrap(), 5);
        let barrier = Arc::new(Barrier::new(32));
        let handles: Vec<_> = (0..32)
            .map(|_| {
                let pool = pool.clone();
                let barrier = Arc::clone(&barrier);
                std::thread::spawn(move || {
                    barrier.wait();
                    let mut conn = pool.get().unwrap();
                    series::record_session(&mut conn, id, &record(false, true), prov, now()).unwrap()
                })
            })
            .collect();
        let outcomes: Vec<RecordOutcome> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let recorded = outcomes
            .iter()
            .filter(|o| matches!(o, RecordOutcome::Recorded { .. }))
            .count();
        let refused = outcomes
            .iter()
            .filter(|o| {
                matches!(
                    o,
                    RecordOutcome::Refused {
                        refusal: SessionRefusal::MaximumReached,
                        ..
                    }
                )
            })
            .count();
        assert_eq!((recorded, refused), (5, 27), "{}", db.backend_name());
        let c = &mut pool.get().unwrap();
        let numbers: Vec<u8> = series::sessions_of(c, id)
            .unwrap()
            .iter()
            .map(|s| s.session_number.get())
            .collect();
        assert_eq!(numbers, [1, 2, 3, 4, 5], "{}", db.backend_name());
        assert_eq!(series::count_refusals(c, id).unwrap(), 27);
    }
}

#[test]
fn invitations_replace_use_once() {
    for db in TestDb::all() {
        let c = &mut db.conn();
        let (prov, patient, _) = clinic(c, 3);
        let later = now() + chrono::Duration::days(7);
        let new = |hash: &'static str| invitations::NewInvitation {
            purpose: invitations::PURPOSE_PATIENT,
            patient_id: Some(patient.0),
            code_hash: hash,
            created_by: Some(prov.0),
            created_at: now(),
            expires_at: later,
            user_id: None,
        };
        let first = invitations::replace(c, &new("hash-1")).unwrap();
        let second = invitations::replace(c, &new("hash-2")).unwrap();
        let first = invitations::find_by_hash(c, &first.code_hash).unwrap().unwrap();
        assert!(first.voided_at.is_some() && !first.is_usable(now()));
        assert!(second.is_usable(now()) && !second.is_usable(later));
        assert!(invitations::mark_used(c, second.id, now()).unwrap());
        assert!(!invitations::mark_used(c, second.id, now()).unwrap(), "single use");
        assert!(!invitations::mark_used(c, first.id, now()).unwrap(), "voided");
        assert!(invitations::find_by_hash(c, "nope").unwrap().is_none());
        let setup = invitations::NewInvitation {
            purpose: invitations::PURPOSE_SETUP,
            patient_id: None,
            code_hash: "setup-1",
            created_by: None,
            created_at: now(),
            expires_at: later,
            user_id: None,
        };
        let s1 = invitations::replace(c, &setup).unwrap();
        let s2 = invitations::replace(
            c,
            &invitations::NewInvitation {
                code_hash: "setup-2",
                ..setup
            },
        )
        .unwrap();
        assert!(
            !invitations::find_by_hash(c, &s1.code_hash)
                .unwrap()
                .unwrap()
                .is_usable(now())
        );
        assert!(s2.is_usable(now()));
        // Setting up a new setup link leaves the patient's invitation alone, and vice versa.
        assert!(
            invitations::find_by_hash(c, "hash-2")
                .unwrap()
                .unwrap()
                .voided_at
                .is_none()
        );
    }
}

#[test]
fn login_sessions_revoke() {
    for db in TestDb::all() {
        let c = &mut db.conn();
        let u = add_user(c, "prov@clinic.example", Role::Provider, None);
        let exp = now() + chrono::Duration::hours(8);
        for id in ["a", "b", "c"] {
            login_sessions::insert(c, id, u.id, now(), exp, false).unwrap();
        }
        let later = now() + chrono::Duration::minutes(5);
        login_sessions::touch(c, "a", later).unwrap();
        assert_eq!(login_sessions::find(c, "a").unwrap().unwrap().last_seen_at, later);
        login_sessions::revoke(c, "a", later).unwrap();
        assert_eq!(login_sessions::find(c, "a").unwrap().unwrap().revoked_at, Some(later));
        assert_eq!(
            login_sessions::revoke_all_of_user(c, u.id, Some("b"), later).unwrap(),
            1
        );
        assert!(login_sessions::find(c, "b").unwrap().unwrap().revoked_at.is_none());
        assert!(login_sessions::find(c, "c").unwrap().unwrap().revoked_at.is_some());
        assert!(login_sessions::find(c, "zzz").unwrap().is_none());
    }
}

#[test]
fn a_session_with_the_patients_latest_session_is_one_query() {
    for db in TestDb::all() {
        let c = &mut db.conn();
        let (provider, patient, id) = clinic(c, 3);
        let ana = add_user(c, "ana@example.com", Role::Patient, Some(patient));
        login_sessions::insert(c, "pat", ana.id, now(), now() + chrono::Duration::hours(8), false).unwrap();
        login_sessions::insert(c, "prov", provider, now(), now() + chrono::Duration::hours(8), false).unwrap();
        let (session, user, latest) = login_sessions::find_with_latest_session(c, "pat").unwrap().unwrap();
        assert_eq!(
            (session.id.as_str(), user.id, latest),
            ("pat", ana.id, None),
            "no session yet"
        );
        for days_ago in [30, 2, 9] {
            let mut r = record(false, false);
            r.performed_on = day(20) - chrono::Days::new(days_ago);
            series::record_session(c, id, &r, provider, now()).unwrap();
        }
        let (_, _, latest) = login_sessions::find_with_latest_session(c, "pat").unwrap().unwrap();
        assert_eq!(latest, series::latest_session_of_patient(c, patient).unwrap());
        assert_eq!(
            latest.map(|(s, _)| s.performed_on),
            Some(day(20) - chrono::Days::new(2))
        );
        let (_, staff, none) = login_sessions::find_with_latest_session(c, "prov").unwrap().unwrap();
        assert_eq!(
            (staff.id, none),
            (provider, None),
            "staff have no sessions of their own"
        );
        assert!(login_sessions::find_with_latest_session(c, "nope").unwrap().is_none());
    }
}

/// Every change to what a kept read holds raises the account's generation, so the kept read is
/// never answered stale; changes to other accounts leave it kept.
#[test]
fn a_kept_read_is_answered_only_while_nothing_it_holds_has_changed() {
    for db in TestDb::all() {
        let c = &mut db.conn();
        let (provider, patient, id) = clinic(c, 5);
        let ana = add_user(c, "ana@example.com", Role::Patient, Some(patient));
        let bruno = add_patient(c, provider, "Bruno", "Costa", None);
        let bruno_series = series::open(c, bruno.id, &plan(3), None, provider, now()).unwrap();
        let bruno_user = add_user(c, "bruno@example.com", Role::Patient, Some(bruno.id));
        let exp = now() + chrono::Duration::hours(8);
        login_sessions::insert(c, "pat", ana.id, now(), exp, false).unwrap();
        login_sessions::insert(c, "other", ana.id, now(), exp, false).unwrap();
        let kept = login_sessions::KeptReads::default();
        let generation = |c: &mut DbConn| login_sessions::read_generation(c, ana.id).unwrap().unwrap();
        let session_of = |o: RecordOutcome| match o {
            RecordOutcome::Recorded { session, .. } => session.id,
            RecordOutcome::Refused { .. } => panic!("refused"),
        };
        let later = now() + chrono::Duration::minutes(5);
        type Change<'a> = (&'a str, Box<dyn Fn(&mut DbConn) + 'a>);
        let changes: Vec<Change> = vec![
            (
                "a session recorded",
                Box::new(|c| {
                    series::record_session(c, id, &record(false, false), provider, now()).unwrap();
                }),
            ),
            (
                "another session recorded",
                Box::new(|c| {
                    let mut r = record(false, false);
                    r.performed_on = day(19);
                    series::record_session(c, id, &r, provider, now()).unwrap();
                }),
            ),
            (
                "the latest session corrected",
                Box::new(|c| {
                    let latest = series::latest_live_session(c, id).unwrap().unwrap();
                    let mut r = record(true, false);
                    r.performed_on = day(19);
                    series::amend_session(c, latest, &r, provider, &why("eye area"), now()).unwrap();
                }),
            ),
            (
                "the latest session voided",
                Box::new(|c| {
                    let latest = series::latest_live_session(c, id).unwrap().unwrap();
                    series::void_session(c, latest, provider, &why("duplicate"), now()).unwrap();
                }),
            ),
            (
                "the series completed",
                Box::new(|c| {
                    series::complete(c, id, now()).unwrap();
                }),
            ),
            (
                "the login session used",
                Box::new(|c| login_sessions::touch(c, "pat", later).unwrap()),
            ),
            (
                "the account disabled",
                Box::new(|c| {
                    users::set_disabled(c, ana.id, Some(later)).unwrap();
                }),
            ),
            (
                "the account enabled",
                Box::new(|c| {
                    users::set_disabled(c, ana.id, None).unwrap();
                }),
            ),
            (
                "its other login session ended",
                Box::new(|c| {
                    crate::with_conn!(c, c => diesel::RunQueryDsl::execute(
                    diesel::sql_query("DELETE FROM login_sessions WHERE id = 'other'"), c))
                    .unwrap();
                }),
            ),
            (
                "the login session revoked",
                Box::new(|c| login_sessions::revoke(c, "pat", later).unwrap()),
            ),
        ];
        for (change, make) in changes {
            let before = kept.find_with_latest_session(c, "pat").unwrap();
            let (g, unrelated) = (
                generation(c),
                login_sessions::read_generation(c, bruno_user.id).unwrap(),
            );
            make(c);
            let fresh = login_sessions::find_with_latest_session(c, "pat").unwrap();
            assert!(
                generation(c) > g,
                "{}: {change} raises the generation",
                db.backend_name()
            );
            assert_ne!(before, fresh, "{}: {change} changes the read", db.backend_name());
            assert_eq!(
                kept.find_with_latest_session(c, "pat").unwrap(),
                fresh,
                "{}: after {change}",
                db.backend_name()
            );
            assert_eq!(
                kept.find_with_user(c, "pat").unwrap(),
                login_sessions::find_with_user(c, "pat").unwrap(),
                "{}: the session check after {change}",
                db.backend_name()
            );
            assert_eq!(
                login_sessions::read_generation(c, bruno_user.id).unwrap(),
                unrelated,
                "{}: {change} leaves another account's generation",
                db.backend_name()
            );
            let mut together = login_sessions::read_generations(c, &[bruno_user.id, UserId(999_999), ana.id]).unwrap();
            together.sort_by_key(|(account, _)| account.0);
            assert_eq!(
                together,
                [(ana.id, generation(c)), (bruno_user.id, unrelated.unwrap())],
                "{}: the numbers read together, after {change}",
                db.backend_name()
            );
        }
        // Another patient's session leaves Ana's read kept and current.
        let g = generation(c);
        session_of(series::record_session(c, bruno_series.id, &record(false, false), provider, now()).unwrap());
        assert_eq!(generation(c), g);
        assert_eq!(
            kept.find_with_latest_session(c, "pat").unwrap(),
            login_sessions::find_with_latest_session(c, "pat").unwrap()
        );
        assert!(kept.find_with_latest_session(c, "nope").unwrap().is_none());
        assert!(kept.find_with_user(c, "nope").unwrap().is_none());

        // A staff account's session check, kept the same way.
        login_sessions::insert(c, "staff", provider, now(), exp, false).unwrap();
        let staff_changes: [Change; 4] = [
            ("used", Box::new(|c| login_sessions::touch(c, "staff", later).unwrap())),
            (
                "disabled",
                Box::new(|c| assert!(users::set_disabled(c, provider, Some(later)).unwrap())),
            ),
            (
                "enabled",
                Box::new(|c| assert!(users::set_disabled(c, provider, None).unwrap())),
            ),
            (
                "revoked",
                Box::new(|c| login_sessions::revoke(c, "staff", later).unwrap()),
            ),
        ];
        for (change, make) in staff_changes {
            let before = kept.find_with_user(c, "staff").unwrap();
            make(c);
            let fresh = login_sessions::find_with_user(c, "staff").unwrap();
            assert_ne!(before, fresh, "{}: staff session {change}", db.backend_name());
            assert_eq!(
                kept.find_with_user(c, "staff").unwrap(),
                fresh,
                "{}: staff session {change}",
                db.backend_name()
            );
        }
    }
}

/// Writes made outside a transaction queue at the process's write gate like the others on SQLite:
/// one that went straight to SQLite's lock would wait in its sleeping busy handler, and while a
/// thread kept writing that way (the mail worker with a backlog) the gate's writers waited seconds.
#[test]
fn single_writes_queue_at_the_write_gate() {
    let db = TestDb::sqlite();
    let (holder, writer) = (&mut db.conn(), &mut db.conn());
    let (provider, _, _) = clinic(holder, 5);
    login_sessions::insert(holder, "s", provider, now(), now() + chrono::Duration::hours(8), false).unwrap();
    type Write = (&'static str, fn(&mut DbConn) -> Result<(), DbError>);
    let writes: [Write; 5] = [
        ("mark_held", |c| outbox::mark_held(c, &[1], "w", "no server").map(drop)),
        ("mark_sent", |c| outbox::mark_sent(c, &[1], "w", now()).map(drop)),
        ("give_back", |c| crate::throttle::give_back(c, "login:x")),
        ("touch", |c| login_sessions::touch(c, "s", now())),
        ("set_disabled", |c| users::set_disabled(c, UserId(1), None).map(drop)),
    ];
    for (name, write) in writes {
        std::thread::scope(|s| {
            let queued = holder.write_transaction(|_| {
                let waiting = s.spawn(|| write(writer));
                // Other tests of this process may wait at the gate too: this thread is looked for.
                let (thread, deadline) = (
                    waiting.thread().id(),
                    std::time::Instant::now() + std::time::Duration::from_secs(3),
                );
                while !crate::conn::waits_at_the_write_gate(thread) && std::time::Instant::now() < deadline {
                    std::thread::yield_now();
                }
                Ok::<_, DbError>((crate::conn::waits_at_the_write_gate(thread), waiting))
            });
            let (queued, waiting) = queued.unwrap();
            assert!(queued, "{name} queues at the gate");
            waiting.join().unwrap().unwrap();
        });
    }
}

#[test]
fn batched_audit_rows_keep_every_character_and_null() {
    // PostgreSQL takes batches as COPY text: tabs, line ends, backslashes and NULLs must survive.
    for db in TestDb::all() {
        let c = &mut db.conn();
        let (prov, patient, _) = clinic(c, 1);
        let at = chrono::NaiveDate::from_ymd_opt(2026, 2, 3)
            .unwrap()
            .and_hms_micro_opt(4, 5, 6, 789_012)
            .unwrap();
        let tricky = audit::NewAuditEvent {
            occurred_at: at,
            actor_id: Some(prov.0),
            action: "a\tb\\N".into(),
            patient_id: Some(patient.0),
            subject: Some("tab\there, line\nend\r\n, back\\slash, \\N, é ✓".into()),
            outcome: "success".into(),
            address: None,
            detail: Some(String::new()),
        };
        let plain = audit::NewAuditEvent {
            actor_id: None,
            patient_id: None,
            subject: None,
            detail: None,
            ..tricky.clone()
        };
        audit::insert_many(c, &[tricky.clone(), plain]).unwrap();
        // One row the single way, to compare what is stored.
        audit::insert(
            c,
            &audit::NewAuditEvent {
                action: "single".into(),
                ..tricky.clone()
            },
        )
        .unwrap();
        let stored_times: Vec<String> = with_conn!(c, c => {
            use crate::schema::audit_events;
            use diesel::prelude::*;
            audit_events::table
                .select(diesel::dsl::sql::<diesel::sql_types::Text>("CAST(occurred_at AS TEXT)"))
                .order(audit_events::id)
                .load(c)
                .unwrap()
        });
        assert!(stored_times.windows(2).all(|w| w[0] == w[1]), "{stored_times:?}");
        let mut rows = audit::list(c, None, 10).unwrap();
        assert_eq!(rows.remove(0).action, "single");
        let (second, first) = (&rows[0], &rows[1]);
        assert_eq!(first.occurred_at, at, "{}", db.backend_name());
        assert_eq!(first.action, tricky.action);
        assert_eq!(first.subject, tricky.subject);
        assert_eq!(first.detail.as_deref(), Some(""), "empty is not NULL");
        assert_eq!(first.address, None);
        assert_eq!(first.patient_id, Some(patient));
        assert_eq!(
            (second.actor_id, second.patient_id, &second.subject),
            (None, None, &None)
        );
    }
}

#[test]
fn audit_rows_naming_unknown_ids_are_detached_not_lost() {
    for db in TestDb::all() {
        let c = &mut db.conn();
        let (prov, patient, _) = clinic(c, 1);
        let event = |actor: Option<i64>, patient: Option<i64>| audit::NewAuditEvent {
            occurred_at: now(),
            actor_id: actor,
            action: "access.other_patient".into(),
            patient_id: patient,
            subject: None,
            outcome: "denied".into(),
            address: None,
            detail: Some("probe".into()),
        };
        let mut batch = vec![
            event(Some(prov.0), Some(patient.0)),
            event(Some(prov.0), Some(99_999_999)),
            event(Some(88_888_888), None),
        ];
        let refused = audit::insert_many(c, &batch).unwrap_err();
        assert!(refused.is_foreign_key_violation(), "{}: {refused}", db.backend_name());
        audit::detach_unknown_references(c, &mut batch).unwrap();
        audit::insert_many(c, &batch).unwrap();
        let rows = audit::list(c, None, 10).unwrap();
        let got: Vec<_> = rows
            .iter()
            .rev()
            .map(|r| (r.actor_id, r.patient_id, r.detail.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                (Some(prov), Some(patient), Some("probe")),
                (Some(prov), None, Some("probe; unknown patient 99999999")),
                (None, None, Some("probe; unknown account 88888888")),
            ],
            "{}",
            db.backend_name()
        );
    }
}

#[test]
fn audit_is_append_only() {
    use crate::schema::audit_events;
    use diesel::prelude::*;
    for db in TestDb::all() {
        let c = &mut db.conn();
        let (prov, patient, _) = clinic(c, 3);
        let event = |action: &str, p: Option<PatientId>| audit::NewAuditEvent {
            occurred_at: now(),
            actor_id: Some(prov.0),
            action: action.into(),
            patient_id: p.map(|p| p.0),
            subject: None,
            outcome: "success".into(),
            address: Some("127.0.0.1".into()),
            detail: None,
        };
        audit::insert(c, &event("patient.read", Some(patient))).unwrap();
        let many: Vec<_> = (0..150)
            .map(|i| event(if i % 2 == 0 { "a" } else { "b" }, None))
            .collect();
        audit::insert_many(c, &many).unwrap();
        let all = audit::list(c, None, 1000).unwrap();
        assert_eq!(all.len(), 151);
        assert!(all.windows(2).all(|w| w[0].id > w[1].id), "newest first");
        let mine = audit::list(c, Some(patient), 10).unwrap();
        assert_eq!(mine.len(), 1);
        assert_eq!(mine[0].action, "patient.read");
        assert_eq!(audit::list(c, None, 5).unwrap().len(), 5);
        let page1 = audit::search(
            c,
            &audit::AuditFilter {
                action: Some("a".into()),
                ..Default::default()
            },
            50,
        )
        .unwrap();
        assert_eq!(page1.len(), 50);
        let next = audit::AuditFilter {
            action: Some("a".into()),
            before_id: page1.last().map(|e| e.id),
            ..Default::default()
        };
        let page2 = audit::search(c, &next, 50).unwrap();
        assert_eq!(page2.len(), 25, "75 rows of action a: 50, then 25");
        assert!(page2[0].id < page1[49].id);
        let by_actor = audit::search(
            c,
            &audit::AuditFilter {
                actor: Some(prov),
                ..Default::default()
            },
            1000,
        )
        .unwrap();
        assert_eq!(by_actor.len(), 151);
        let later = audit::AuditFilter {
            from: Some(now() + chrono::Duration::seconds(1)),
            ..Default::default()
        };
        assert!(audit::search(c, &later, 10).unwrap().is_empty());
        let until = audit::AuditFilter {
            until: Some(now() + chrono::Duration::seconds(1)),
            ..Default::default()
        };
        assert_eq!(audit::search(c, &until, 1000).unwrap().len(), 151);
        let update = crate::with_conn!(&mut *c, c => diesel::update(audit_events::table).set(audit_events::outcome.eq("x")).execute(c));
        assert!(update.is_err(), "{}: update", db.backend_name());
        let delete = crate::with_conn!(&mut *c, c => diesel::delete(audit_events::table).execute(c));
        assert!(delete.is_err(), "{}: delete", db.backend_name());
    }
}

#[test]
fn settings_keep_the_first_value() {
    for db in TestDb::all() {
        let c = &mut db.conn();
        assert_eq!(settings::get(c, "k").unwrap(), None);
        assert_eq!(settings::get_or_insert(c, "k", "first", now()).unwrap(), "first");
        assert_eq!(settings::get_or_insert(c, "k", "second", now()).unwrap(), "first");
        assert_eq!(settings::get(c, "k").unwrap().as_deref(), Some("first"));
    }
}

#[test]
fn migrations_are_idempotent_and_ping_works() {
    for db in TestDb::all() {
        let mut c = db.conn();
        assert_eq!(c.run_migrations().unwrap(), 0);
        c.ping().unwrap();
        assert_eq!(c.is_postgres(), db.url().is_postgres());
    }
}

#[test]
fn a_kept_connection_is_its_own_on_sqlite_and_borrowed_on_postgres() {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Value {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        v: i64,
    }
    let scalar = |c: &mut DbConn, sql: &str| -> Result<i64, DbError> {
        let rows: Vec<Value> = crate::with_conn!(c, c => diesel::sql_query(sql).load(c))?;
        Ok(rows.first().map_or(-1, |r| r.v))
    };
    for db in TestDb::all() {
        let pool = db.pool(1);
        let mut kept = crate::KeptConnection::new(pool.clone(), 300);
        kept.with(|c| scalar(c, "SELECT CAST(1 AS BIGINT) AS v")).unwrap();
        if db.url().is_postgres() {
            // Borrowed for the use and given back.
            assert_eq!(pool.state().idle_connections, 1);
            continue;
        }
        // The pool's only connection is taken, yet the kept one answers: it is its own, with its cache capped.
        let pooled = pool.get().unwrap();
        assert_eq!(
            kept.with(|c| scalar(c, "SELECT cache_size AS v FROM pragma_cache_size"))
                .unwrap(),
            -300
        );
        kept.with(|c| {
            crate::with_conn!(c, c => diesel::sql_query("CREATE TEMP TABLE mark (x)").execute(c)).map_err(DbError::from)
        })
        .unwrap();
        assert_eq!(
            kept.with(|c| scalar(c, "SELECT count(*) AS v FROM temp.mark")).unwrap(),
            0
        );
        drop(pooled);
        // After an error it is opened afresh (the temporary table was the old connection's).
        assert!(kept.with(|c| scalar(c, "SELECT nonsense AS v")).is_err());
        assert!(kept.with(|c| scalar(c, "SELECT count(*) AS v FROM temp.mark")).is_err());
        assert_eq!(
            kept.with(|c| scalar(c, "SELECT cache_size AS v FROM pragma_cache_size"))
                .unwrap(),
            -300
        );
    }
}

#[test]
fn messages_and_their_audit_rows_are_written_together_or_not_at_all() {
    for db in TestDb::all() {
        let c = &mut db.conn();
        let name = db.backend_name();
        let (prov, patient, _) = clinic(c, 1);
        let message = |id| queued("aftercare_day_of", Some(patient), id);
        let event = |detail: &str| audit::NewAuditEvent {
            occurred_at: now(),
            actor_id: Some(prov.0),
            action: "session.record".into(),
            patient_id: Some(patient.0),
            subject: None,
            outcome: "success".into(),
            address: None,
            detail: Some(detail.into()),
        };
        let details = |c: &mut DbConn| -> Vec<String> {
            let mut d: Vec<String> = audit::list(c, Some(patient), 50)
                .unwrap()
                .into_iter()
                .filter_map(|r| r.detail)
                .collect();
            d.sort();
            d
        };
        let ids = |c: &mut DbConn| -> Vec<String> {
            let mut m: Vec<String> = outbox::list_for_patient(c, patient, 50)
                .unwrap()
                .into_iter()
                .map(|m| m.message_id)
                .collect();
            m.sort();
            m
        };
        let written = outbox::insert_many_audited(
            c,
            &[message("<a@test>"), message("<b@test>")],
            &[event("one"), event("two")],
        );
        assert_eq!(written.unwrap(), 2, "{name}");
        assert_eq!(details(c), ["one", "two"], "{name}");
        assert_eq!(ids(c), ["<a@test>", "<b@test>"], "{name}");
        // Either list may be empty: the other is still written.
        assert_eq!(
            outbox::insert_many_audited(c, &[], &[event("three")]).unwrap(),
            0,
            "{name}"
        );
        assert_eq!(
            outbox::insert_many_audited(c, &[message("<c@test>")], &[]).unwrap(),
            1,
            "{name}"
        );
        assert_eq!(details(c), ["one", "three", "two"], "{name}");
        assert_eq!(ids(c), ["<a@test>", "<b@test>", "<c@test>"], "{name}");
        // A message that cannot be written (its id is taken) keeps the audit rows out too.
        let refused = c.write_transaction(|c| {
            outbox::insert_many_audited(c, &[message("<d@test>"), message("<a@test>")], &[event("four")])
        });
        assert!(refused.is_err(), "{name}");
        assert_eq!(details(c), ["one", "three", "two"], "{name}");
        assert_eq!(ids(c), ["<a@test>", "<b@test>", "<c@test>"], "{name}");
    }
}

#[test]
fn a_batch_of_claimed_messages_is_marked_held_or_sent_only_where_the_claim_stands() {
    use crate::outbox::{self, NewMessage};
    for db in TestDb::all() {
        let mut c = db.conn();
        let ids: Vec<String> = (0..5).map(|i| format!("<m{i}@test>")).collect();
        let rows: Vec<NewMessage<'_>> = ids
            .iter()
            .map(|id| NewMessage {
                payload: Some("secret"),
                ..queued("password_reset", None, id)
            })
            .collect();
        assert_eq!(outbox::insert_many(&mut c, &rows).unwrap(), 5);
        let lease = chrono::Duration::minutes(5);
        let a: Vec<i64> = outbox::claim_due(&mut c, "a", now(), lease, 3)
            .unwrap()
            .iter()
            .map(|m| m.id)
            .collect();
        let b: Vec<i64> = outbox::claim_due(&mut c, "b", now(), lease, 3)
            .unwrap()
            .iter()
            .map(|m| m.id)
            .collect();
        assert_eq!((a.len(), b.len()), (3, 2), "{}", db.backend_name());
        let every: Vec<i64> = a.iter().chain(&b).copied().collect();
        // Worker a names every message: only its own three change.
        assert_eq!(
            outbox::mark_held(&mut c, &every, "a", "no mail server configured").unwrap(),
            3
        );
        assert_eq!(outbox::mark_sent(&mut c, &every, "b", now()).unwrap(), 2);
        assert_eq!(
            outbox::mark_sent(&mut c, &every, "a", now()).unwrap(),
            0,
            "held ones are no longer claimed"
        );
        for id in a {
            let m = outbox::find(&mut c, id).unwrap();
            assert_eq!((m.status.as_str(), m.claimed_by), (outbox::HELD, None));
            assert_eq!(m.last_error.as_deref(), Some("no mail server configured"));
            assert_eq!(m.payload.as_deref(), Some("secret"), "kept until it is sent");
        }
        for id in b {
            let m = outbox::find(&mut c, id).unwrap();
            assert_eq!((m.status.as_str(), m.payload, m.attempts), (outbox::SENT, None, 1));
        }
    }
}

#[test]
fn connection_errors_keep_the_drivers_words() {
    let err = DbConn::establish(&crate::DatabaseUrl::Sqlite("/nonexistent-dir/x/clinic.db".into()))
        .err()
        .unwrap();
    assert!(err.to_string().contains("/nonexistent-dir/x/clinic.db"), "{err}");
    let url = crate::DatabaseUrl::parse("postgres://nobody@127.0.0.1:1/none").unwrap();
    let started = std::time::Instant::now();
    let err = DbConn::establish(&url).err().unwrap().to_string();
    assert!(err.contains("cannot connect") && !err.contains('\n'), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(6));
}

#[test]
fn throttle_allows_a_limit_per_window_and_gives_back() {
    use crate::throttle;
    let window = chrono::Duration::minutes(15);
    for db in TestDb::all() {
        let c = &mut db.conn();
        assert!(throttle::get(c, "k").unwrap().is_none());
        for _ in 0..3 {
            assert_eq!(throttle::take(c, "k", now(), window, 3).unwrap(), None);
        }
        let later = now() + chrono::Duration::minutes(5);
        assert_eq!(
            throttle::take(c, "k", later, window, 3).unwrap(),
            Some(600),
            "until the window ends"
        );
        assert_eq!(
            throttle::get(c, "k").unwrap().unwrap().failures,
            3,
            "a refusal takes nothing"
        );
        throttle::give_back(c, "k").unwrap();
        assert_eq!(throttle::take(c, "k", later, window, 3).unwrap(), None);
        // A new window starts a new count.
        let next = now() + chrono::Duration::minutes(15);
        assert_eq!(throttle::take(c, "k", next, window, 3).unwrap(), None);
        assert_eq!(throttle::get(c, "k").unwrap().unwrap().failures, 1);
        throttle::reset(c, "k").unwrap();
        assert!(throttle::get(c, "k").unwrap().is_none());
        throttle::give_back(c, "k").unwrap();
    }
}

/// 40 attempts at once against a limit of 10: exactly 10 are taken, on every backend.
#[test]
fn throttle_holds_under_parallel_attempts() {
    use crate::throttle;
    for db in TestDb::all() {
        let pool = db.pool(16);
        let barrier = Arc::new(Barrier::new(40));
        let handles: Vec<_> = (0..40)
            .map(|_| {
                let (pool, barrier) = (pool.clone(), Arc::clone(&barrier));
                std::thread::spawn(move || {
                    barrier.wait();
                    let mut conn = pool.get().unwrap();
                    throttle::take(
                        &mut conn,
                        "account:a|192.0.2.1",
                        now(),
                        chrono::Duration::minutes(15),
                        10,
                    )
                    .unwrap()
                })
            })
            .collect();
        let taken = handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .filter(Option::is_none)
            .count();
        assert_eq!(taken, 10, "{}", db.backend_name());
    }
}

#[test]
fn a_session_is_found_with_its_user() {
    for db in TestDb::all() {
        let c = &mut db.conn();
        let u = add_user(c, "prov@clinic.example", Role::Provider, None);
        login_sessions::insert(c, "sid-1", u.id, now(), now() + chrono::Duration::hours(8), false).unwrap();
        let (s, user) = login_sessions::find_with_user(c, "sid-1").unwrap().unwrap();
        let raised = users::User {
            read_generation: u.read_generation + 1,
            ..u.clone()
        };
        assert_eq!(
            (s.user_id, user),
            (u.id, raised),
            "a new login session raises the generation"
        );
        assert!(login_sessions::find_with_user(c, "nope").unwrap().is_none());
    }
}

#[test]
fn write_transactions_nest_as_savepoints() {
    for db in TestDb::all() {
        let c = &mut db.conn();
        let outer: Result<(), DbError> = c.write_transaction(|c| {
            settings::get_or_insert(c, "outer", "1", now())?;
            let inner: Result<(), DbError> = c.write_transaction(|c| {
                settings::get_or_insert(c, "inner", "1", now())?;
                Err(DbError::NotFound)
            });
            assert!(inner.is_err());
            Ok(())
        });
        outer.unwrap();
        assert_eq!(settings::get(c, "outer").unwrap().as_deref(), Some("1"));
        assert_eq!(
            settings::get(c, "inner").unwrap(),
            None,
            "{}: the inner part rolled back",
            db.backend_name()
        );
    }
}

#[test]
fn patient_corrections_keep_the_prior_version() {
    for db in TestDb::all() {
        let c = &mut db.conn();
        let prov = add_user(c, "prov@clinic.example", Role::Provider, None);
        let ana = add_patient(c, prov.id, "Ana", "Silva", None);
        let input = PatientInput {
            first_name: "Ana",
            last_name: "Silva Costa",
            date_of_birth: NaiveDate::from_ymd_opt(1990, 4, 2),
            email: Some("ana@example.com"),
            phone: None,
        };
        let fixed = patients::update(c, ana.id, &NewPatient::parse(input, day(25)).unwrap(), prov.id, now()).unwrap();
        assert_eq!(
            (fixed.last_name.as_str(), fixed.email.as_deref()),
            ("Silva Costa", Some("ana@example.com"))
        );
        assert_eq!(patients::count_revisions(c, ana.id).unwrap(), 1);
        assert!(matches!(
            patients::update(
                c,
                PatientId(999),
                &NewPatient::parse(
                    PatientInput {
                        first_name: "X",
                        last_name: "Y",
                        date_of_birth: NaiveDate::from_ymd_opt(1990, 1, 1),
                        email: None,
                        phone: None
                    },
                    day(25)
                )
                .unwrap(),
                prov.id,
                now()
            ),
            Err(DbError::NotFound)
        ));
    }
}

/// Report figures against a hand-computed fixture, the range edges included.
#[test]
fn series_report_matches_a_hand_computed_fixture() {
    use crate::reports::{DateRange, series_report};
    let at = |d: u32| {
        NaiveDate::from_ymd_opt(2026, 3, d)
            .unwrap()
            .and_hms_opt(12, 0, 0)
            .unwrap()
    };
    let on = |d: u32| NaiveDate::from_ymd_opt(2026, 3, d).unwrap();
    for db in TestDb::all() {
        let c = &mut db.conn();
        let chen = add_user(c, "chen@clinic.example", Role::Provider, None);
        let okafor = add_user(c, "okafor@clinic.example", Role::Provider, None);
        let record_n = |c: &mut DbConn, by: UserId, series_id: SeriesId, n: u8, day: u32| {
            for i in 0..n {
                let mut r = record(false, true);
                r.performed_on = on(day);
                let o = series::record_session(c, series_id, &r, by, at(day)).unwrap();
                assert!(matches!(o, RecordOutcome::Recorded { .. }), "session {i}");
            }
        };
        // Opened 1 March (before the range): 2 sessions by Chen on 1 March.
        let p1 = add_patient(c, chen.id, "A", "One", None);
        let s1 = series::open(c, p1.id, &plan(3), None, chen.id, at(1)).unwrap();
        record_n(c, chen.id, s1.id, 2, 1);
        // Opened 10 March (range start): 5 sessions by Chen on 10 March, then a refused 6th.
        let p2 = add_patient(c, chen.id, "B", "Two", None);
        let s2 = series::open(c, p2.id, &plan(5), None, chen.id, at(10)).unwrap();
        record_n(c, chen.id, s2.id, 5, 10);
        series::record_session(c, s2.id, &record(false, true), chen.id, at(10)).unwrap();
        // Opened 20 March (range end): 4 sessions by Okafor on 20 March; 1 series with none yet.
        let p3 = add_patient(c, okafor.id, "C", "Three", None);
        let s3 = series::open(c, p3.id, &plan(5), None, okafor.id, at(20)).unwrap();
        record_n(c, okafor.id, s3.id, 4, 20);
        let p4 = add_patient(c, okafor.id, "D", "Four", None);
        series::open(c, p4.id, &plan(3), None, okafor.id, at(20)).unwrap();
        // After a maximum, a flagged series for B opened 15 March.
        series::complete(c, s2.id, at(15)).unwrap();
        let note = Notes::parse("review_note", Some("reviewed")).unwrap();
        series::open(c, p2.id, &plan(3), note.as_ref(), chen.id, at(15)).unwrap();
        // Opened 21 March (after the range).
        let p5 = add_patient(c, okafor.id, "E", "Five", None);
        let s5 = series::open(c, p5.id, &plan(3), None, okafor.id, at(21)).unwrap();
        record_n(c, okafor.id, s5.id, 1, 21);

        let r = series_report(
            c,
            DateRange {
                from: Some(on(10)),
                to: Some(on(20)),
            },
        )
        .unwrap();
        assert_eq!(r.by_sessions, [2, 0, 0, 0, 1, 1], "{}", db.backend_name());
        assert_eq!(
            (r.started(), r.within_typical(), r.beyond_typical(), r.at_maximum()),
            (2, 0, 2, 1)
        );
        assert_eq!((r.flagged_after_maximum, r.refused_attempts), (1, 1));
        let rows: Vec<_> = r
            .providers
            .iter()
            .map(|p| {
                (
                    p.provider_id,
                    p.sessions,
                    p.patients,
                    p.beyond_typical_sessions,
                    p.refusals,
                )
            })
            .collect();
        assert_eq!(
            rows,
            [(chen.id.0, 5, 1, 2, 1), (okafor.id.0, 4, 1, 1, 0)],
            "{}",
            db.backend_name()
        );

        let all = series_report(c, DateRange::default()).unwrap();
        assert_eq!(all.by_sessions, [2, 1, 1, 0, 1, 1]);
        assert_eq!(all.providers.iter().map(|p| p.sessions).sum::<i64>(), 12);
        let empty = series_report(
            c,
            DateRange {
                from: Some(on(22)),
                to: None,
            },
        )
        .unwrap();
        assert_eq!((empty.by_sessions, empty.providers.len()), (vec![0; 6], 0));
    }
}

#[test]
fn bulk_seeding_obeys_the_schema_and_feeds_the_report() {
    use crate::reports::{DateRange, series_report};
    for db in TestDb::all() {
        let c = &mut db.conn();
        let a = add_user(c, "a@clinic.example", Role::Provider, None);
        let b = add_user(c, "b@clinic.example", Role::Provider, None);
        let seeded = crate::bulk::seed(c, 2500, &[a.id, b.id], day(25)).unwrap();
        assert_eq!((seeded.patients, seeded.series), (2500, 2500));
        assert!((6500..8500).contains(&seeded.sessions), "{seeded:?}");
        assert_eq!(patients::count(c).unwrap(), 2500);
        let r = series_report(c, DateRange::default()).unwrap();
        assert_eq!(r.by_sessions.iter().sum::<i64>(), 2500);
        assert_eq!(
            r.providers.iter().map(|p| p.sessions).sum::<i64>(),
            seeded.sessions as i64
        );
        assert_eq!(r.refused_attempts, seeded.refusals as i64);
        assert!(r.by_sessions[0] == 0 && r.by_sessions[5] > 0);
    }
}

#[derive(Debug, PartialEq, diesel::QueryableByName)]
struct PairRow {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    provider_id: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    patient_id: i64,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Date>)]
    first_on: Option<NaiveDate>,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Date>)]
    last_on: Option<NaiveDate>,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    sessions: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    beyond: i64,
}

/// `provider_patients`, as the triggers kept it, equals counting the sessions again.
fn assert_pairs_recount(c: &mut DbConn, context: &str) {
    use diesel::RunQueryDsl;
    let kept = "SELECT CAST(provider_id AS BIGINT) AS provider_id, CAST(patient_id AS BIGINT) AS patient_id, first_on,
        last_on, CAST(sessions AS BIGINT) AS sessions, CAST(beyond_typical AS BIGINT) AS beyond
        FROM provider_patients WHERE sessions > 0 ORDER BY 1, 2";
    let counted = "SELECT CAST(provider_id AS BIGINT) AS provider_id, CAST(patient_id AS BIGINT) AS patient_id,
        MIN(performed_on) AS first_on, MAX(performed_on) AS last_on, COUNT(*) AS sessions,
        COUNT(CASE WHEN session_number > 3 THEN 1 END) AS beyond
        FROM sessions WHERE voided_at IS NULL GROUP BY provider_id, patient_id ORDER BY 1, 2";
    let kept: Vec<PairRow> = crate::with_conn!(&mut *c, c => diesel::sql_query(kept).load(c)).unwrap();
    let counted: Vec<PairRow> = crate::with_conn!(&mut *c, c => diesel::sql_query(counted).load(c)).unwrap();
    assert_eq!(kept, counted, "{context}");
}

/// One step of a random history across patients and providers, for the report.
#[derive(Debug, Clone)]
enum ReportStep {
    Record { patient: usize, provider: usize, on: u32 },
    VoidLatest { patient: usize },
    Redate { patient: usize, position: usize, on: u32 },
}

fn report_step() -> impl proptest::strategy::Strategy<Value = ReportStep> {
    use proptest::prelude::*;
    prop_oneof![
        5 => (0usize..4, 0usize..2, 1u32..29).prop_map(|(patient, provider, on)| ReportStep::Record { patient, provider, on }),
        1 => (0usize..4).prop_map(|patient| ReportStep::VoidLatest { patient }),
        2 => (0usize..4, 0usize..5, 1u32..29).prop_map(|(patient, position, on)| ReportStep::Redate { patient, position, on }),
    ]
}

/// Per provider: (sessions, distinct patients, sessions beyond typical) in `range`, counted one by one.
fn counted_by_hand(sessions: &[(PatientId, Session)], range: crate::reports::DateRange) -> Vec<(i64, i64, i64, i64)> {
    let mut by: std::collections::BTreeMap<i64, (i64, std::collections::BTreeSet<i64>, i64)> = Default::default();
    let inside = |d: NaiveDate| range.from.is_none_or(|f| d >= f) && range.to.is_none_or(|t| d <= t);
    for (patient, s) in sessions.iter().filter(|(_, s)| !s.is_void() && inside(s.performed_on)) {
        let e = by.entry(s.provider_id.0).or_default();
        e.0 += 1;
        e.1.insert(patient.0);
        e.2 += i64::from(s.session_number.get() > clinic_domain::series::TYPICAL_MAX);
    }
    by.into_iter()
        .map(|(p, (n, pts, b))| (p, n, pts.len() as i64, b))
        .collect()
}

/// The report's per-provider figures, kept by triggers in `provider_patients`, equal counting every
/// session, for any history of records, voids and corrected dates and any range (edges included).
#[test]
fn report_per_provider_equals_counting_every_session() {
    use crate::reports::{DateRange, series_report};
    use proptest::prelude::*;
    let on = |d: u32| NaiveDate::from_ymd_opt(2026, 3, d).unwrap();
    let ends = [None, Some(1), Some(7), Some(14), Some(15), Some(28)];
    for db in TestDb::all() {
        let conn = std::cell::RefCell::new(db.conn());
        let case = std::cell::Cell::new(0);
        let mut runner = runner_for(&db, 12, 32);
        runner
            .run(&proptest::collection::vec(report_step(), 1..40), |steps| {
                let c = &mut *conn.borrow_mut();
                // Each case has providers of its own; the report's other rows are earlier cases'.
                case.set(case.get() + 1);
                let providers: Vec<UserId> = (0..2)
                    .map(|i| add_user(c, &format!("p{i}.{}@clinic.example", case.get()), Role::Provider, None).id)
                    .collect();
                let patients: Vec<(PatientId, SeriesId)> = (0..4)
                    .map(|i| {
                        let p = add_patient(c, providers[0], "Ana", &format!("Silva{i}"), None);
                        (
                            p.id,
                            series::open(c, p.id, &plan(5), None, providers[0], now()).unwrap().id,
                        )
                    })
                    .collect();
                for step in &steps {
                    match *step {
                        ReportStep::Record {
                            patient,
                            provider,
                            on: d,
                        } => {
                            let mut r = record(false, true);
                            r.performed_on = on(d);
                            series::record_session(c, patients[patient].1, &r, providers[provider], now()).unwrap();
                        }
                        ReportStep::VoidLatest { patient } => {
                            if let Some(id) = series::latest_live_session(c, patients[patient].1).unwrap() {
                                series::void_session(c, id, providers[0], &why("duplicate"), now()).unwrap();
                            }
                        }
                        ReportStep::Redate {
                            patient,
                            position,
                            on: d,
                        } => {
                            let live: Vec<Session> = series::sessions_of(c, patients[patient].1)
                                .unwrap()
                                .into_iter()
                                .filter(|s| !s.is_void())
                                .collect();
                            if let Some(s) = live.get(position) {
                                let mut r = s.record();
                                r.performed_on = on(d);
                                series::amend_session(c, s.id, &r, providers[1], &why("date"), now()).unwrap();
                            }
                        }
                    }
                }
                let sessions: Vec<(PatientId, Session)> = patients
                    .iter()
                    .flat_map(|&(p, id)| series::sessions_of(c, id).unwrap().into_iter().map(move |s| (p, s)))
                    .collect();
                for from in ends {
                    for to in ends {
                        let range = DateRange {
                            from: from.map(on),
                            to: to.map(on),
                        };
                        let report = series_report(c, range).unwrap();
                        let mut got: Vec<_> = report
                            .providers
                            .iter()
                            .filter(|p| p.sessions > 0 && providers.contains(&UserId(p.provider_id)))
                            .map(|p| (p.provider_id, p.sessions, p.patients, p.beyond_typical_sessions))
                            .collect();
                        got.sort_unstable();
                        prop_assert_eq!(got, counted_by_hand(&sessions, range), "{:?}", range);
                    }
                }
                assert_pairs_recount(c, &format!("{} after {:?}", db.backend_name(), steps));
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{}: {e}", db.backend_name()));
    }
}

fn why(text: &str) -> Notes {
    Notes::parse("reason", Some(text)).unwrap().unwrap()
}

/// Non-void sessions are numbered 1..n (n at most five) and the series' counter is n.
fn assert_numbered(c: &mut DbConn, id: SeriesId, context: &str) -> usize {
    let all = series::sessions_of(c, id).unwrap();
    let live: Vec<u8> = all
        .iter()
        .filter(|s| !s.is_void())
        .map(|s| s.session_number.get())
        .collect();
    let expected: Vec<u8> = (1..=u8::try_from(live.len()).unwrap()).collect();
    assert_eq!(live, expected, "{context}: {all:#?}");
    assert!(live.len() <= 5, "{context}");
    assert_eq!(
        usize::from(series::count_sessions(c, id).unwrap()),
        live.len(),
        "{context}"
    );
    assert_eq!(
        i64::from(series::find(c, id).unwrap().sessions_recorded),
        i64::try_from(live.len()).unwrap(),
        "{context}: the counter follows voids"
    );
    live.len()
}

#[test]
fn voiding_frees_the_number_and_corrections_keep_every_version() {
    for db in TestDb::all() {
        let c = &mut db.conn();
        let (prov, _, id) = clinic(c, 3);
        let mut ids = Vec::new();
        for _ in 0..2 {
            match series::record_session(c, id, &record(false, false), prov, now()).unwrap() {
                RecordOutcome::Recorded { session, .. } => ids.push(session.id),
                other => panic!("{other:?}"),
            }
        }
        // Only the latest can be voided.
        assert!(matches!(
            series::void_session(c, ids[0], prov, &why("duplicate"), now()),
            Err(series::ChangeError::NotLatest { latest: 2 })
        ));
        let voided = series::void_session(c, ids[1], prov, &why("duplicate"), now()).unwrap();
        assert!(voided.is_void() && voided.void_reason.as_deref() == Some("duplicate"));
        assert_eq!(assert_numbered(c, id, db.backend_name()), 1);
        assert!(matches!(
            series::void_session(c, ids[1], prov, &why("again"), now()),
            Err(series::ChangeError::Void)
        ));
        // Its number is taken again by the next session; the void one is kept.
        match series::record_session(c, id, &record(true, false), prov, now()).unwrap() {
            RecordOutcome::Recorded { session, .. } => assert_eq!(session.session_number.get(), 2),
            other => panic!("{other:?}"),
        }
        assert_eq!(series::sessions_of(c, id).unwrap().len(), 3);
        assert_eq!(assert_numbered(c, id, db.backend_name()), 2);

        // Two corrections: three versions, the first as recorded.
        let mut changed = record(true, false);
        changed.needle_depth = NeedleDepth::from_mm(0.75).unwrap();
        let once = series::amend_session(c, ids[0], &changed, prov, &why("depth mistyped"), now()).unwrap();
        assert_eq!((once.revision, once.eye_area), (2, true));
        changed.notes_stage = StageKey::Day1;
        let twice = series::amend_session(c, ids[0], &changed, prov, &why("stage"), now()).unwrap();
        assert_eq!((twice.revision, twice.notes_stage), (3, StageKey::Day1));
        let earlier = series::revisions_of(c, ids[0]).unwrap();
        assert_eq!(earlier.iter().map(|r| r.revision).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(earlier[0].reason, None);
        assert_eq!(earlier[0].needle_depth.hundredths(), 125);
        assert!(!earlier[0].eye_area);
        assert_eq!(earlier[1].reason.as_deref(), Some("depth mistyped"));
        assert_eq!(earlier[1].needle_depth.hundredths(), 75);
        // A void session is not corrected.
        assert!(matches!(
            series::amend_session(c, ids[1], &changed, prov, &why("late"), now()),
            Err(series::ChangeError::Void)
        ));
    }
}

/// A proptest runner with `postgres` cases on PostgreSQL (each a round trip per query) and `sqlite`
/// cases on SQLite, keeping no failure files.
fn runner_for(db: &TestDb, postgres: u32, sqlite: u32) -> proptest::test_runner::TestRunner {
    use proptest::test_runner::{Config, TestRunner};
    TestRunner::new(Config {
        cases: if db.backend_name() == "PostgreSQL" {
            postgres
        } else {
            sqlite
        },
        failure_persistence: None,
        ..Config::default()
    })
}

/// One step of a random history of a series.
#[derive(Debug, Clone)]
enum Step {
    Record,
    VoidLatest,
    /// Void the session at this position among the live ones (refused unless it is the latest).
    Void(usize),
    Amend(usize),
}

fn step() -> impl proptest::strategy::Strategy<Value = Step> {
    use proptest::prelude::*;
    prop_oneof![
        4 => Just(Step::Record),
        2 => Just(Step::VoidLatest),
        1 => (0usize..6).prop_map(Step::Void),
        2 => (0usize..6).prop_map(Step::Amend),
    ]
}

/// Any sequence of records, voids and corrections keeps at most five non-void sessions, numbered
/// 1..n, with the counter in step; on both databases.
#[test]
fn any_history_of_records_voids_and_corrections_keeps_one_to_n() {
    use proptest::prelude::*;
    for db in TestDb::all() {
        let conn = std::cell::RefCell::new(db.conn());
        let prov = add_user(&mut conn.borrow_mut(), "provider@clinic.example", Role::Provider, None).id;
        let mut runner = runner_for(&db, 24, 64);
        runner
            .run(&proptest::collection::vec(step(), 1..24), |steps| {
                let c = &mut *conn.borrow_mut();
                let patient = add_patient(c, prov, "Ana", "Silva", None);
                let id = series::open(c, patient.id, &plan(5), None, prov, now()).unwrap().id;
                for (i, s) in steps.iter().enumerate() {
                    let live: Vec<Session> = series::sessions_of(c, id)
                        .unwrap()
                        .into_iter()
                        .filter(|x| !x.is_void())
                        .collect();
                    match s {
                        Step::Record => {
                            let out = series::record_session(c, id, &record(i % 2 == 0, true), prov, now()).unwrap();
                            let recorded = matches!(out, RecordOutcome::Recorded { .. });
                            prop_assert_eq!(recorded, live.len() < 5, "step {}: {:?}", i, out);
                        }
                        Step::VoidLatest => {
                            if let Some(last) = live.last() {
                                series::void_session(c, last.id, prov, &why("duplicate"), now()).unwrap();
                            }
                        }
                        Step::Void(k) => {
                            if let Some(target) = live.get(*k) {
                                let out = series::void_session(c, target.id, prov, &why("wrong patient"), now());
                                prop_assert_eq!(out.is_ok(), *k + 1 == live.len(), "step {}", i);
                            }
                        }
                        Step::Amend(k) => {
                            if let Some(target) = live.get(*k) {
                                let mut r = target.record();
                                r.needle_depth = NeedleDepth::from_mm(0.5).unwrap();
                                let amended =
                                    series::amend_session(c, target.id, &r, prov, &why("fix"), now()).unwrap();
                                prop_assert_eq!(amended.revision, target.revision + 1);
                                prop_assert_eq!(amended.session_number, target.session_number);
                            }
                        }
                    }
                    assert_numbered(c, id, &format!("{} after {:?}", db.backend_name(), &steps[..=i]));
                }
                assert_pairs_recount(c, &format!("{} after {:?}", db.backend_name(), steps));
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{}: {e}", db.backend_name()));
    }
}

/// Voids of the latest session race new records from many connections: the numbering and the cap
/// hold whatever the order.
#[test]
fn voids_racing_records_keep_the_cap_and_the_numbering() {
    for db in TestDb::all() {
        let pool = db.pool(16);
        let (prov, _, id) = clinic(&mut pool.get().unwrap(), 5);
        let barrier = Arc::new(Barrier::new(24));
        let handles: Vec<_> = (0..24)
            .map(|t| {
                let pool = pool.clone();
                let barrier = Arc::clone(&barrier);
                std::thread::spawn(move || {
                    barrier.wait();
                    let mut conn = pool.get().unwrap();
                    for _ in 0..3 {
                        if t % 3 == 0 {
                            let latest = series::latest_live_session(&mut conn, id).unwrap();
                            if let Some(latest) = latest {
                                // Another thread may have recorded or voided in between: refused, never wrong.
                                match series::void_session(&mut conn, latest, prov, &why("duplicate"), now()) {
                                    Ok(_) | Err(series::ChangeError::NotLatest { .. } | series::ChangeError::Void) => {}
                                    Err(e) => panic!("{e:?}"),
                                }
                            }
                        } else {
                            series::record_session(&mut conn, id, &record(false, true), prov, now()).unwrap();
                        }
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        let c = &mut pool.get().unwrap();
        let n = assert_numbered(c, id, db.backend_name());
        assert!(n >= 1, "{}: some records came after the voids", db.backend_name());
        assert_pairs_recount(c, db.backend_name());
    }
}

#[test]
fn open_alerts_and_a_published_consent_form_are_read_in_one_statement() {
    use crate::check_ins::{self, NewCheckIn};
    use crate::consent;
    for db in TestDb::all() {
        let c = &mut db.conn();
        let name = db.backend_name();
        let (prov, patient, id) = clinic(c, 3);
        assert_eq!(
            check_ins::count_open_and_any_consent_form(c).unwrap(),
            (0, false),
            "{name}"
        );
        let RecordOutcome::Recorded { session, .. } =
            series::record_session(c, id, &record(false, false), prov, now()).unwrap()
        else {
            panic!("{name}: the first session is recorded");
        };
        let check_in = |day, flagged| NewCheckIn {
            session: session.id,
            patient,
            day,
            effects: "[]",
            unexpected: false,
            note: None,
            flagged,
            flag_reasons: None,
        };
        let (_, first) = check_ins::record(c, &check_in(1, true), now()).unwrap();
        check_ins::record(c, &check_in(2, true), now()).unwrap();
        check_ins::record(c, &check_in(3, false), now()).unwrap();
        assert_eq!(
            check_ins::count_open_and_any_consent_form(c).unwrap(),
            (2, false),
            "{name}"
        );
        let first = first.expect("a flagged check-in opens an alert");
        assert!(check_ins::resolve(c, first.id, prov, "Seen.", now()).unwrap());
        consent::publish(c, "Consent", "Wording.", Some(prov), now()).unwrap();
        assert_eq!(
            check_ins::count_open_and_any_consent_form(c).unwrap(),
            (1, true),
            "{name}"
        );
    }
}

#[test]
fn a_sqlite_connection_keeps_its_temporary_files_in_memory_when_told() {
    #[derive(diesel::QueryableByName)]
    struct TempStore {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        temp_store: i32,
    }
    let db = TestDb::sqlite();
    let mut conn = db.conn();
    let mode = |conn: &mut DbConn| {
        let DbConn::Sqlite(c) = conn else { panic!("SQLite") };
        let found: TempStore = diesel::RunQueryDsl::get_result(diesel::sql_query("PRAGMA temp_store"), c).unwrap();
        found.temp_store
    };
    assert_eq!(mode(&mut conn), 0, "the build's default: files");
    conn.keep_sqlite_temp_in_memory().unwrap();
    assert_eq!(mode(&mut conn), 2, "memory");
}

#[test]
fn the_patient_pages_reads_equal_the_typed_reads() {
    use crate::check_ins::{self, NewCheckIn};
    use crate::consent::{self, NewConsent};
    use crate::outbox::{self, NewMessage};
    use crate::patient_page::{self, CLINIC, Generations, KeptPages, MESSAGES, Page};
    use crate::photos::{self, NewPhoto};
    let typed = |c: &mut DbConn, patient: PatientId| {
        let generations = Generations {
            chart: patient_page::generation_of(c, patient.0).unwrap(),
            clinic: patient_page::generation_of(c, CLINIC).unwrap(),
        };
        let (found, login) = users::patient_with_login(c, patient).unwrap();
        let (open_alerts, any_consent_form) = check_ins::count_open_and_any_consent_form(c).unwrap();
        Page {
            patient: found,
            login_active: login.map(|u| u.is_active()),
            series: series::list_with_sessions(c, patient).unwrap(),
            messages: outbox::list_for_patient(c, patient, MESSAGES).unwrap(),
            consents: consent::of_patient(c, patient).unwrap(),
            photos: photos::of_patient(c, patient).unwrap(),
            open_alerts,
            any_consent_form,
            generations,
        }
    };
    for db in TestDb::all() {
        let c = &mut db.conn();
        let name = db.backend_name();
        let (prov, patient, series_id) = clinic(c, 3);
        let kept = KeptPages::default();
        let empty = patient_page::read(c, &KeptPages::default(), patient).unwrap();
        assert_eq!(empty, typed(c, patient), "{name}: nothing yet");
        assert!(empty.login_active.is_none() && empty.messages.is_empty() && empty.photos.is_empty());
        assert!(empty.series[0].1.is_empty(), "{name}: an open series without sessions");

        // Everything the page lists, with text that JSON must escape and stamps with microseconds.
        let at = now() + chrono::Duration::microseconds(123_456);
        let login = add_user(c, "ana@mail.example", Role::Patient, Some(patient));
        let RecordOutcome::Recorded { session, .. } =
            series::record_session(c, series_id, &record(true, false), prov, at).unwrap()
        else {
            panic!("{name}: the first session is recorded");
        };
        let RecordOutcome::Recorded { session: later, .. } =
            series::record_session(c, series_id, &record(false, false), prov, at).unwrap()
        else {
            panic!("{name}: the second session is recorded");
        };
        series::void_session(c, later.id, prov, &why("duplicate"), at).unwrap();
        series::complete(c, series_id, at).unwrap();
        let second = series::open(c, patient, &plan(2), None, prov, at).unwrap().id;
        let form = consent::publish(c, "Consent", "Wording.", Some(prov), at).unwrap();
        let sign = NewConsent {
            series: series_id,
            patient,
            form_version: form.version,
            typed_name: "Ana \"Ani\" Silva — São Paulo",
            text_sha256: "00",
            signed_by: login.id,
            address: "192.0.2.1",
            now: at,
        };
        consent::sign(c, &sign).unwrap();
        let photo = |c: &mut DbConn, kind| {
            let new = NewPhoto {
                session: session.id,
                patient,
                kind,
                sha256: "aa",
                thumbnail_sha256: "bb",
                width: 640,
                height: 480,
                by: prov,
                now: at,
            };
            photos::insert(c, &new).unwrap()
        };
        photo(c, "before");
        let withdrawn = photo(c, "after");
        assert!(photos::withdraw(c, withdrawn.id, prov, "Wrong patient.\nRetaken.", at).unwrap());
        let check_in = NewCheckIn {
            session: session.id,
            patient,
            day: 1,
            effects: "[]",
            unexpected: false,
            note: None,
            flagged: true,
            flag_reasons: None,
        };
        check_ins::record(c, &check_in, at).unwrap();
        // More messages than the page lists, besides the recorded session's own.
        let ids: Vec<String> = (0..MESSAGES + 2).map(|i| format!("<p{i}@test>")).collect();
        let rows: Vec<NewMessage<'_>> = ids
            .iter()
            .enumerate()
            .map(|(i, id)| NewMessage {
                session_id: (i % 2 == 0).then_some(session.id.0),
                payload: (i % 3 != 0).then_some("{\"line\": \"tab\\t, quote \\\", ünïcode ✓\"}"),
                scheduled_for: at,
                next_attempt_at: at,
                ..queued("reminder_day_1", Some(patient), id)
            })
            .collect();
        outbox::insert_many(c, &rows).unwrap();

        let read = patient_page::read(c, &KeptPages::default(), patient).unwrap();
        assert_eq!(read, typed(c, patient), "{name}");
        patient_page::read(c, &kept, patient).unwrap();
        assert_eq!(
            patient_page::read(c, &kept, patient).unwrap(),
            read,
            "{name}: from what is kept"
        );
        assert_eq!(read.login_active, Some(true), "{name}: the portal login");
        assert!(read.generations.chart > 0 && read.generations.clinic > 0, "{name}");
        let sessions: Vec<_> = read.series.iter().map(|(s, list)| (s.series.id, list.len())).collect();
        assert_eq!(sessions, [(second, 0), (series_id, 2)], "{name}: newest series first");
        assert_eq!(read.series[1].1[1].voided_at, Some(at), "{name}: voided sessions too");
        assert_eq!(read.messages.len(), MESSAGES as usize, "{name}: at most {MESSAGES}");
        assert_eq!(read.messages[0].message_id, ids[ids.len() - 1], "{name}: newest first");
        assert_eq!(read.consents[0].signed_at, at, "{name}: microseconds kept");
        assert_eq!(read.photos.len(), 2, "{name}: withdrawn ones too");
        assert_eq!((read.open_alerts, read.any_consent_form), (1, true), "{name}");
        assert!(matches!(
            patient_page::read(c, &kept, PatientId(999_999)),
            Err(DbError::NotFound)
        ));

        // Beside the session check (one statement on PostgreSQL): the same page, fresh and kept.
        let exp = now() + chrono::Duration::hours(8);
        login_sessions::insert(c, "staff", prov, now(), exp, false).unwrap();
        let (session, user) = login_sessions::find_with_user(c, "staff").unwrap().unwrap();
        let reads = login_sessions::KeptReads::default();
        for kept in [&KeptPages::default(), &kept, &kept] {
            assert_eq!(
                patient_page::with_session(c, kept, &reads, "staff", patient).unwrap(),
                Some((session.clone(), user.clone(), Some(read.clone()))),
                "{name}"
            );
        }
        assert_eq!(
            patient_page::with_session(c, &kept, &reads, "staff", PatientId(999_999)).unwrap(),
            Some((session, user, None)),
            "{name}: no such patient"
        );
        assert_eq!(
            patient_page::with_session(c, &kept, &reads, "nobody", patient).unwrap(),
            None,
            "{name}: no such session"
        );
    }
}

/// Every change to what the patient page shows raises the patient's chart generation or, for the
/// clinic's open alerts and consent forms, the clinic's, so a kept page is never shown stale: a read
/// through what is kept then equals a fresh one. Other patients' changes, and a sign-in of the patient,
/// leave the patient's number as it was.
#[test]
fn a_kept_page_is_shown_only_while_nothing_on_it_has_changed() {
    use crate::check_ins::{self, NewCheckIn};
    use crate::consent::{self, NewConsent};
    use crate::outbox::{self, NewMessage};
    use crate::patient_page::{self, CLINIC, KeptPages};
    use crate::photos::{self, NewPhoto};
    for db in TestDb::all() {
        let c = &mut db.conn();
        let name = db.backend_name();
        let (provider, patient, id) = clinic(c, 5);
        let bruno = add_patient(c, provider, "Bruno", "Costa", None);
        let kept = KeptPages::default();
        let fresh = |c: &mut DbConn| patient_page::read(c, &KeptPages::default(), patient).unwrap();
        let generation = |c: &mut DbConn, p| patient_page::generation_of(c, p).unwrap();
        let numbers = |c: &mut DbConn| (generation(c, patient.0), generation(c, CLINIC));
        let first = match series::record_session(c, id, &record(false, false), provider, now()).unwrap() {
            RecordOutcome::Recorded { session, .. } => session.id,
            RecordOutcome::Refused { .. } => panic!("{name}: refused"),
        };
        let photo = move |c: &mut DbConn, p, session| {
            let new = NewPhoto {
                session,
                patient: p,
                kind: "before",
                sha256: "aa",
                thumbnail_sha256: "bb",
                width: 640,
                height: 480,
                by: provider,
                now: now(),
            };
            photos::insert(c, &new).unwrap().id
        };
        let message = |id| NewMessage {
            recipient: "ana@example.com",
            ..queued("reminder_day_1", Some(patient), id)
        };
        let check_in = move |c: &mut DbConn, flagged| {
            let new = NewCheckIn {
                session: first,
                patient,
                day: 1,
                effects: "[]",
                unexpected: false,
                note: None,
                flagged,
                flag_reasons: None,
            };
            check_ins::record(c, &new, now()).unwrap()
        };
        let ana = std::cell::Cell::new(None);
        type Change<'a> = (&'a str, Box<dyn Fn(&mut DbConn) + 'a>);
        let changes: Vec<Change> = vec![
            (
                "a portal login made",
                Box::new(|c| ana.set(Some(add_user(c, "ana@example.com", Role::Patient, Some(patient)).id))),
            ),
            (
                "a session recorded",
                Box::new(|c| {
                    series::record_session(c, id, &record(false, false), provider, now()).unwrap();
                }),
            ),
            (
                "the latest session corrected",
                Box::new(|c| {
                    let latest = series::latest_live_session(c, id).unwrap().unwrap();
                    series::amend_session(c, latest, &record(true, false), provider, &why("eye area"), now()).unwrap();
                }),
            ),
            (
                "the latest session voided",
                Box::new(|c| {
                    let latest = series::latest_live_session(c, id).unwrap().unwrap();
                    series::void_session(c, latest, provider, &why("duplicate"), now()).unwrap();
                }),
            ),
            (
                "a consent form published",
                Box::new(|c| {
                    consent::publish(c, "Consent", "Wording.", Some(provider), now()).unwrap();
                }),
            ),
            (
                "a consent signed",
                Box::new(|c| {
                    let sign = NewConsent {
                        series: id,
                        patient,
                        form_version: 1,
                        typed_name: "Ana Silva",
                        text_sha256: "00",
                        signed_by: ana.get().unwrap(),
                        address: "192.0.2.1",
                        now: now(),
                    };
                    consent::sign(c, &sign).unwrap();
                }),
            ),
            (
                "a photo added",
                Box::new(|c| {
                    photo(c, patient, first);
                }),
            ),
            (
                "a photo withdrawn",
                Box::new(|c| {
                    let shown = photos::of_patient(c, patient).unwrap()[0].id;
                    assert!(photos::withdraw(c, shown, provider, "Wrong patient.", now()).unwrap());
                }),
            ),
            (
                "the patient's details corrected",
                Box::new(|c| {
                    let input = PatientInput {
                        first_name: "Ana",
                        last_name: "Souza",
                        date_of_birth: NaiveDate::from_ymd_opt(1990, 4, 2),
                        email: Some("ana@example.com"),
                        phone: None,
                    };
                    let parsed = NewPatient::parse(input, day(25)).unwrap();
                    patients::update(c, patient, &parsed, provider, now()).unwrap();
                }),
            ),
            (
                "an e-mail queued",
                Box::new(|c| {
                    outbox::insert_many(c, &[message("<a@test>"), message("<b@test>")]).unwrap();
                }),
            ),
            (
                "e-mails claimed",
                Box::new(|c| {
                    outbox::claim_due(c, "w", now(), chrono::Duration::minutes(1), 10).unwrap();
                }),
            ),
            (
                "e-mails sent",
                Box::new(|c| {
                    let ids: Vec<i64> = outbox::list_for_patient(c, patient, 10)
                        .unwrap()
                        .iter()
                        .map(|m| m.id)
                        .collect();
                    assert!(outbox::mark_sent(c, &ids, "w", now()).unwrap() > 0);
                }),
            ),
            (
                "the portal login suspended",
                Box::new(|c| {
                    users::set_disabled(c, ana.get().unwrap(), Some(now())).unwrap();
                }),
            ),
            (
                "the portal login restored",
                Box::new(|c| {
                    users::set_disabled(c, ana.get().unwrap(), None).unwrap();
                }),
            ),
            (
                "an alert opened",
                Box::new(|c| {
                    assert!(check_in(c, true).1.is_some());
                }),
            ),
            (
                "an alert resolved",
                Box::new(|c| {
                    let open = check_ins::alerts(c, Some("open"), 1).unwrap()[0].0.id;
                    assert!(check_ins::resolve(c, open, provider, "Called her.", now()).unwrap());
                }),
            ),
            (
                "the series completed",
                Box::new(|c| {
                    series::complete(c, id, now()).unwrap();
                }),
            ),
            (
                "a series opened",
                Box::new(|c| {
                    series::open(c, patient, &plan(2), None, provider, now()).unwrap();
                }),
            ),
        ];
        for (change, make) in changes {
            let before = patient_page::read(c, &kept, patient).unwrap();
            let (g, unrelated) = (numbers(c), generation(c, bruno.id.0));
            assert_eq!(before.generations.chart, g.0, "{name}: before {change}");
            make(c);
            let now_read = fresh(c);
            let after = numbers(c);
            assert!(
                after.0 >= g.0 && after.1 >= g.1 && after != g,
                "{name}: {change} raises a number"
            );
            assert_ne!(before, now_read, "{name}: {change} changes the page");
            assert_eq!(
                patient_page::read(c, &kept, patient).unwrap(),
                now_read,
                "{name}: after {change}"
            );
            assert_eq!(
                generation(c, bruno.id.0),
                unrelated,
                "{name}: {change} leaves another patient's"
            );
        }
        // A sign-in of the patient and another patient's changes leave Ana's page kept and current.
        let g = numbers(c);
        login_sessions::insert(
            c,
            "ana",
            ana.get().unwrap(),
            now(),
            now() + chrono::Duration::hours(8),
            false,
        )
        .unwrap();
        let bruno_series = series::open(c, bruno.id, &plan(3), None, provider, now()).unwrap().id;
        let bruno_session =
            match series::record_session(c, bruno_series, &record(false, false), provider, now()).unwrap() {
                RecordOutcome::Recorded { session, .. } => session.id,
                RecordOutcome::Refused { .. } => panic!("{name}: refused"),
            };
        photo(c, bruno.id, bruno_session);
        assert_eq!(numbers(c), g, "{name}: a sign-in, another patient's changes");
        assert!(generation(c, bruno.id.0) >= 3, "{name}: Bruno's own");
        assert_eq!(patient_page::read(c, &kept, patient).unwrap(), fresh(c), "{name}");
        assert_eq!(
            kept.unchecked(patient).as_deref(),
            Some(&fresh(c)),
            "{name}: kept whole"
        );
    }
}

/// The numbers the audit writer checks for kept reads, read together: accounts that exist, charts
/// (0 before their first change) and the clinic's.
#[test]
fn the_numbers_of_kept_reads_are_read_together() {
    use crate::generations::{self, Generation};
    use crate::patient_page::{self, CLINIC};
    for db in TestDb::all() {
        let c = &mut db.conn();
        let name = db.backend_name();
        let (provider, patient, _) = clinic(c, 3);
        let fresh = add_patient(c, provider, "Bruno", "Costa", None);
        let account = users::find(c, provider).unwrap().read_generation;
        let chart = patient_page::generation_of(c, patient.0).unwrap();
        assert!(chart > 0, "{name}: a series opened");
        let asked = [
            Generation::Account(provider),
            Generation::Account(UserId(999_999)),
            Generation::Chart(patient.0),
            Generation::Chart(fresh.id.0),
            Generation::Chart(CLINIC),
        ];
        let now: std::collections::HashSet<_> = generations::current(c, &asked).unwrap().into_iter().collect();
        assert_eq!(
            now,
            std::collections::HashSet::from([
                (Generation::Account(provider), account),
                (Generation::Chart(0), 0),
                (Generation::Chart(fresh.id.0), 0),
                (Generation::Chart(patient.0), chart),
            ]),
            "{name}"
        );
        assert_eq!(
            generations::current(c, &[Generation::Account(provider)]).unwrap(),
            [(Generation::Account(provider), account)],
            "{name}: accounts alone"
        );
    }
}

#[test]
fn consent_forms_are_immutable_and_signed_once_per_version() {
    use crate::consent::{self, NewConsent};
    use crate::schema::consent_forms;
    use diesel::prelude::*;
    for db in TestDb::all() {
        let c = &mut db.conn();
        let (prov, patient, series_id) = clinic(c, 3);
        let form = consent::publish(c, "Consent", "Wording.", Some(prov), now()).unwrap();
        let changed = crate::with_conn!(c, x => diesel::update(consent_forms::table.find(form.version))
            .set(consent_forms::body.eq("Other wording."))
            .execute(x));
        assert!(
            changed.is_err(),
            "{}: a published version cannot change",
            db.backend_name()
        );
        let deleted = crate::with_conn!(c, x => diesel::delete(consent_forms::table).execute(x));
        assert!(deleted.is_err(), "{}: nor be deleted", db.backend_name());
        let user = add_user(c, "ana@mail.example", Role::Patient, Some(patient));
        let new = NewConsent {
            series: series_id,
            patient,
            form_version: form.version,
            typed_name: "Ana",
            text_sha256: "00",
            signed_by: user.id,
            address: "192.0.2.1",
            now: now(),
        };
        consent::sign(c, &new).unwrap();
        assert!(matches!(consent::sign(c, &new), Err(DbError::Conflict(_))));
        assert_eq!(
            consent::of_series(c, series_id).unwrap().unwrap().form_version,
            form.version
        );
    }
}

#[test]
fn a_patients_chart_is_read_in_few_statements_and_matches_reading_it_piece_by_piece() {
    for db in TestDb::all() {
        let c = &mut db.conn();
        let (prov, patient, first) = clinic(c, 3);
        let other = add_patient(c, prov, "Bo", "Lee", None);
        let theirs = series::open(c, other.id, &plan(3), None, prov, now()).unwrap();
        series::record_session(c, theirs.id, &record(false, false), prov, now()).unwrap();
        let mut ids = Vec::new();
        for _ in 0..3 {
            match series::record_session(c, first, &record(false, false), prov, now()).unwrap() {
                RecordOutcome::Recorded { session, .. } => ids.push(session.id),
                other => panic!("{other:?}"),
            }
        }
        series::void_session(c, ids[2], prov, &why("duplicate"), now()).unwrap();
        series::record_session(c, first, &record(false, false), prov, now()).unwrap();
        series::complete(c, first, now()).unwrap();
        let second = series::open(c, patient, &plan(2), None, prov, now()).unwrap();

        let together = series::list_with_sessions(c, patient).unwrap();
        let apart: Vec<_> = series::list_for_patient(c, patient)
            .unwrap()
            .into_iter()
            .map(|s| {
                let sessions = series::sessions_of(c, s.series.id).unwrap();
                (s, sessions)
            })
            .collect();
        assert_eq!(together, apart, "{}", db.backend_name());
        assert_eq!(
            together.iter().map(|(s, x)| (s.series.id, x.len())).collect::<Vec<_>>(),
            [(second.id, 0), (first, 4)]
        );

        let (found, login) = users::patient_with_login(c, patient).unwrap();
        assert_eq!((found.id, login), (patient, None));
        let portal = add_user(c, "ana@example.com", Role::Patient, Some(patient));
        assert_eq!(
            users::patient_with_login(c, patient).unwrap().1.map(|u| u.id),
            Some(portal.id)
        );
        assert!(matches!(
            users::patient_with_login(c, PatientId(999)),
            Err(DbError::NotFound)
        ));
    }
}

/// Statistics taken when the clinic had one account are refreshed, while serving, once it has a
/// thousand (nothing to do on PostgreSQL).
#[test]
fn sqlite_statistics_are_refreshed_once_a_table_has_grown() {
    use diesel::prelude::*;
    #[derive(diesel::QueryableByName)]
    struct Stat {
        #[diesel(sql_type = diesel::sql_types::Text)]
        stat: String,
    }
    fn accounts_counted(c: &mut diesel::SqliteConnection) -> u64 {
        let stat: Stat = diesel::sql_query("SELECT stat FROM sqlite_stat1 WHERE idx = 'sqlite_autoindex_users_1'")
            .get_result(c)
            .unwrap();
        stat.stat.split(' ').next().unwrap().parse().unwrap()
    }
    let insert = |n: u32| {
        format!(
            "WITH RECURSIVE k(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM k WHERE n < {n}) \
             INSERT INTO users (email, display_name, role, password_hash, created_at) \
             SELECT 'staff' || (SELECT count(*) FROM users) || '-' || n || '@clinic.example', 'Staff', 'provider', \
             'x', '2026-12-05 00:00:00' FROM k"
        )
    };
    for db in TestDb::all() {
        let mut conn = db.conn();
        let DbConn::Sqlite(c) = &mut conn else {
            conn.refresh_sqlite_statistics().unwrap();
            continue;
        };
        diesel::sql_query(insert(1)).execute(c).unwrap();
        diesel::sql_query("ANALYZE").execute(c).unwrap();
        assert_eq!(accounts_counted(c), 1);
        diesel::sql_query(insert(999)).execute(c).unwrap();
        conn.refresh_sqlite_statistics().unwrap();
        let DbConn::Sqlite(c) = &mut conn else { unreachable!() };
        let counted = accounts_counted(c);
        assert!((500..=2000).contains(&counted), "accounts counted: {counted}");
    }
}
