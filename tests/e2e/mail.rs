//! E-mail that reaches the patient, through a real SMTP server (aiosmtpd) and parsed with a MIME
//! parser: the day's aftercare and the scheduled reminders, refusing them, retries and failure, held
//! messages, password resets, and several processes on one database sending each message once.

use chrono::{NaiveDate, TimeZone, Utc};
use clinic_domain::FixedClock;
use clinic_domain::clinic::ReminderHour;
use clinic_domain::messages::local_hour;
use clinic_e2e::smtp::{self, SmtpSink};
use clinic_e2e::{Database, STAFF_PASSWORD, TestApp, spawn_app_at, spawn_app_with, spawn_server_on, with_mail_server};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(20);

/// A provider's token and a patient (with an e-mail address) with an open series.
fn clinic(app: &TestApp, email: &str) -> (String, i64, i64) {
    let chen = app.add_staff("provider", "chen@clinic.example");
    let provider = app.token(&chen, STAFF_PASSWORD);
    let p = app.api(
        "POST",
        "/api/v1/patients",
        Some(&provider),
        Some(&json!({"first_name": "Ana", "last_name": "Silva", "date_of_birth": "1990-04-02", "email": email})),
    );
    assert_eq!(p.status, 201, "{}", p.body);
    let patient = p.json()["id"].as_i64().unwrap();
    let s = app.api(
        "POST",
        &format!("/api/v1/patients/{patient}/series"),
        Some(&provider),
        Some(&json!({"condition": "acne_scars"})),
    );
    assert_eq!(s.status, 201, "{}", s.body);
    (provider, patient, s.json()["id"].as_i64().unwrap())
}

fn record(app: &TestApp, provider: &str, series: i64, performed_on: &str, eye_area: bool) -> Value {
    let mut body = crate::clinical::session(eye_area, false);
    body["performed_on"] = json!(performed_on);
    let r = app.api(
        "POST",
        &format!("/api/v1/series/{series}/sessions"),
        Some(provider),
        Some(&body),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()
}

fn messages(app: &TestApp, token: &str, patient: i64) -> Vec<Value> {
    let r = app.api(
        "GET",
        &format!("/api/v1/patients/{patient}/messages"),
        Some(token),
        None,
    );
    assert_eq!(r.status, 200, "{}", r.body);
    r.json().as_array().unwrap().clone()
}

/// Waits until `check` holds of the patient's messages.
fn wait_messages(app: &TestApp, token: &str, patient: i64, check: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let start = Instant::now();
    loop {
        let all = messages(app, token, patient);
        if check(&all) {
            return all;
        }
        assert!(
            start.elapsed() < WAIT,
            "messages never reached the expected state: {all:#?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn of_kind<'a>(all: &'a [Value], kind: &str) -> Vec<&'a Value> {
    all.iter().filter(|m| m["kind"] == kind).collect()
}

fn set_clinic(app: &TestApp, manager: &str, settings: Value) {
    let r = app.api("PUT", "/api/v1/clinic", Some(manager), Some(&settings));
    assert_eq!(r.status, 200, "{}", r.body);
}

/// The text of HTML with the entities askama writes turned back into characters.
fn unescape(html: &str) -> String {
    html.replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

#[test]
fn a_recorded_session_mails_the_days_aftercare_and_schedules_reminders_across_a_clock_change() {
    if !smtp::available() {
        return;
    }
    for db in Database::all() {
        let name = db.backend_name();
        eprintln!("-- on {name}");
        let sink = SmtpSink::start(&[]);
        // Friday 2027-03-12, 10:00 in New York; the clocks go forward on Sunday the 14th.
        let clock = Arc::new(FixedClock(Utc.with_ymd_and_hms(2027, 3, 12, 15, 0, 0).unwrap()));
        let app = spawn_app_at(db, clock, |c| with_mail_server(c, &sink.url()));
        let boss = app.add_staff("manager", "boss@clinic.example");
        let manager = app.token(&boss, STAFF_PASSWORD);
        set_clinic(
            &app,
            &manager,
            json!({"name": "Riverside Skin Clinic", "time_zone": "America/New_York", "phone": "+1 555 010 0199",
                   "email": "desk@riverside.example", "reminder_hour": 9}),
        );
        let (provider, patient, series) = clinic(&app, "ana@mail.example");
        record(&app, &provider, series, "2027-03-12", true);

        let got = sink.wait_for(1, WAIT);
        let mail = &got[0];
        let subject = mail.subject();
        assert_eq!(subject, "A message from Riverside Skin Clinic");
        assert!(!subject.contains("Ana") && !subject.contains("Silva"));
        assert!(mail.parsed().from().and_then(|f| f.first()).and_then(|a| a.name()) == Some("Riverside Skin Clinic"));
        let content_type = mail.header("Content-Type").unwrap();
        assert!(content_type.starts_with("multipart/alternative"), "{content_type}");
        let (text, html) = (mail.text(), mail.html());
        // The body carries the day-of stage's own cautions and instructions, as the timeline says them.
        let timeline = app
            .api(
                "GET",
                &format!("/api/v1/patients/{patient}/timeline"),
                Some(&provider),
                None,
            )
            .json();
        let day_of = &timeline["stages"][0];
        for line in day_of["cautions"]
            .as_array()
            .unwrap()
            .iter()
            .chain(day_of["instructions"].as_array().unwrap())
        {
            let line = line.as_str().unwrap();
            assert!(text.contains(line), "{line:?} missing from:\n{text}");
            assert!(
                unescape(&html).contains(line),
                "{line:?} missing from the HTML:\n{html}"
            );
        }
        // Nothing of the later stages in the day-of message.
        assert!(!text.contains(timeline["stages"][3]["instructions"][0].as_str().unwrap()));
        assert!(text.contains("+1 555 010 0199") && text.contains("/portal"));
        // RFC 8058 one-click unsubscribe.
        let unsubscribe = mail.header("List-Unsubscribe").unwrap();
        assert!(
            unsubscribe.starts_with('<') && unsubscribe.contains("/unsubscribe/"),
            "{unsubscribe}"
        );
        assert_eq!(
            mail.header("List-Unsubscribe-Post").as_deref(),
            Some("List-Unsubscribe=One-Click")
        );

        // The three reminders wait for 09:00 in New York on day 1, day 2 and day 7: 14:00 UTC before the
        // change, 13:00 UTC after it.
        let all = wait_messages(&app, &provider, patient, |m| {
            of_kind(m, "aftercare_day_of").iter().any(|d| d["status"] == "sent")
        });
        let due = |kind: &str| of_kind(&all, kind)[0]["scheduled_for"].as_str().unwrap().to_owned();
        assert_eq!(due("reminder_day_1"), "2027-03-13T14:00:00Z");
        assert_eq!(due("reminder_days_2_7"), "2027-03-14T13:00:00Z");
        assert_eq!(due("reminder_day_7_plus"), "2027-03-19T13:00:00Z");
        for kind in ["reminder_day_1", "reminder_days_2_7", "reminder_day_7_plus"] {
            assert_eq!(of_kind(&all, kind)[0]["status"], "queued", "{kind}");
        }
        let ny = chrono_tz::America::New_York;
        let day = |d| NaiveDate::from_ymd_opt(2027, 3, d).unwrap();
        let hour = ReminderHour::DEFAULT;
        assert_eq!(
            due("reminder_days_2_7"),
            local_hour(ny, day(14), hour).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
        assert_eq!(sink.received().len(), 1, "nothing else is due yet");
    }
}

#[test]
fn refusing_reminders_cancels_the_queued_ones_and_stops_new_ones_but_not_invitations() {
    if !smtp::available() {
        return;
    }
    for db in Database::all() {
        eprintln!("-- on {}", db.backend_name());
        let sink = SmtpSink::start(&[]);
        let app = spawn_app_with(db, |c| with_mail_server(c, &sink.url()));
        let (provider, patient, series) = clinic(&app, "ana@mail.example");
        record(
            &app,
            &provider,
            series,
            &chrono::Utc::now().date_naive().to_string(),
            false,
        );
        let mail = sink.wait_for(1, WAIT).remove(0);
        let link = mail.header("List-Unsubscribe").unwrap();
        let link = link.trim_matches(['<', '>']).to_owned();
        // A mail program's one-click POST (RFC 8058): no session, no form token.
        let r = app.send_raw(
            app.agent
                .post(&link)
                .header("Content-Type", "application/x-www-form-urlencoded"),
            "List-Unsubscribe=One-Click",
        );
        assert_eq!(r.status, 200, "{}", r.body);
        let all = messages(&app, &provider, patient);
        for kind in ["reminder_day_1", "reminder_days_2_7", "reminder_day_7_plus"] {
            assert_eq!(of_kind(&all, kind)[0]["status"], "cancelled", "{kind}");
        }
        // A forged link changes nothing.
        let forged = link
            .rsplit_once('/')
            .map(|(base, _)| format!("{base}/{patient}-AAAAAAAAAAAAAAAAAAAAAA"))
            .unwrap();
        assert_eq!(
            app.send_raw(app.agent.post(&forged), "List-Unsubscribe=One-Click")
                .status,
            404
        );
        // The next session queues no aftercare; an invitation still goes.
        app.api(
            "POST",
            &format!("/api/v1/series/{series}/sessions"),
            Some(&provider),
            Some(&crate::clinical::session(false, false)),
        );
        let inv = app.api(
            "POST",
            &format!("/api/v1/patients/{patient}/invitation"),
            Some(&provider),
            None,
        );
        assert_eq!(inv.status, 201, "{}", inv.body);
        let code = inv.json()["code"].as_str().unwrap().to_owned();
        let got = sink.wait_for(2, WAIT);
        let invitation = &got[1];
        assert!(
            invitation.subject().starts_with("Your patient portal at"),
            "{}",
            invitation.subject()
        );
        assert!(invitation.text().contains(&code) && invitation.text().contains("/activate?code="));
        let all = messages(&app, &provider, patient);
        assert_eq!(of_kind(&all, "aftercare_day_of").len(), 1, "{all:#?}");
        let audit = app.audit_rows();
        assert!(
            audit
                .iter()
                .any(|r| r.action == "reminders.refuse" && r.patient_id.map(|p| p.0) == Some(patient))
        );
    }
}

#[test]
fn a_refusing_or_missing_mail_server_leads_to_retries_then_failed_and_a_retry_sends() {
    if !smtp::available() {
        return;
    }
    for db in Database::all() {
        eprintln!("-- on {}", db.backend_name());
        let refusing = SmtpSink::start(&["--refuse", "--reject", "nobody@mail.example"]);
        let app = spawn_app_with(db, |c| with_mail_server(c, &refusing.url()));
        let (provider, patient, series) = clinic(&app, "ana@mail.example");
        record(
            &app,
            &provider,
            series,
            &chrono::Utc::now().date_naive().to_string(),
            false,
        );
        let all = wait_messages(&app, &provider, patient, |m| {
            of_kind(m, "aftercare_day_of")[0]["status"] == "failed"
        });
        let failed = of_kind(&all, "aftercare_day_of")[0];
        assert_eq!(failed["attempts"], 3);
        assert!(failed["last_error"].as_str().unwrap().contains("451"), "{failed}");
        // A provider sends it again once the server takes mail.
        let (port, dir) = refusing.stop();
        let sink = SmtpSink::start_on(port, &[], dir);
        let id = failed["id"].as_i64().unwrap();
        let retried = app.api("POST", &format!("/api/v1/messages/{id}/retry"), Some(&provider), None);
        assert_eq!(
            (retried.status, retried.json()["status"].as_str()),
            (200, Some("queued")),
            "{}",
            retried.body
        );
        sink.wait_for(1, WAIT);
        wait_messages(&app, &provider, patient, |m| {
            of_kind(m, "aftercare_day_of")[0]["status"] == "sent"
        });
        let again = app.api("POST", &format!("/api/v1/messages/{id}/retry"), Some(&provider), None);
        assert_eq!(
            (again.status, again.json()["error"].as_str()),
            (409, Some("not_retryable"))
        );
        // A server that is gone: connection refused, retried, then failed; the app carries on.
        drop(sink);
        let inv = app.api(
            "POST",
            &format!("/api/v1/patients/{patient}/invitation"),
            Some(&provider),
            None,
        );
        assert_eq!(inv.status, 201);
        let all = wait_messages(&app, &provider, patient, |m| {
            of_kind(m, "invitation")[0]["status"] == "failed"
        });
        assert_eq!(of_kind(&all, "invitation")[0]["attempts"], 3);
        assert_eq!(app.get("/health").status, 200);
    }
}

#[test]
fn without_a_mail_server_messages_are_held_and_a_process_with_one_sends_them() {
    if !smtp::available() {
        return;
    }
    for db in Database::all() {
        eprintln!("-- on {}", db.backend_name());
        let mut app = spawn_app_with(db, |_| {});
        let (provider, patient, series) = clinic(&app, "ana@mail.example");
        record(
            &app,
            &provider,
            series,
            &chrono::Utc::now().date_naive().to_string(),
            false,
        );
        let all = wait_messages(&app, &provider, patient, |m| {
            of_kind(m, "aftercare_day_of")[0]["status"] == "held"
        });
        assert_eq!(
            of_kind(&all, "aftercare_day_of")[0]["last_error"],
            "no mail server configured"
        );
        // Restarted with a mail server, the process sends what was held. (The first process stops
        // first: while it ran, its worker could hold again what the new one released.)
        let sink = SmtpSink::start(&[]);
        let _second = app.restart_as(|db| spawn_server_on(db, |c| with_mail_server(c, &sink.url())));
        let got = sink.wait_for(1, WAIT);
        assert!(got[0].subject().starts_with("A message from"));
        wait_messages(&app, &provider, patient, |m| {
            of_kind(m, "aftercare_day_of")[0]["status"] == "sent"
        });
    }
}

#[test]
fn a_password_reset_link_arrives_works_once_and_ends_every_session() {
    if !smtp::available() {
        return;
    }
    for db in Database::all() {
        eprintln!("-- on {}", db.backend_name());
        let sink = SmtpSink::start(&[]);
        let app = spawn_app_with(db, |c| with_mail_server(c, &sink.url()));
        let chen = app.add_staff("provider", "chen@clinic.example");
        let before = app.token(&chen, STAFF_PASSWORD);
        let ask = |email: &str| {
            app.api(
                "POST",
                "/api/v1/auth/password-reset",
                None,
                Some(&json!({"email": email})),
            )
        };
        assert_eq!(ask("nobody@clinic.example").status, 202);
        assert_eq!(ask("Chen@Clinic.Example").status, 202);
        let got = sink.wait_for(1, WAIT);
        std::thread::sleep(Duration::from_millis(500));
        assert_eq!(sink.received().len(), 1, "an unknown address gets nothing");
        let mail = &got[0];
        assert!(mail.subject().starts_with("Reset your password at"));
        let text = mail.text();
        let token = text
            .split("/reset?token=")
            .nth(1)
            .and_then(|t| t.split_whitespace().next())
            .unwrap()
            .to_owned();
        let confirm = |password: &str| {
            app.api(
                "POST",
                "/api/v1/auth/password-reset/confirm",
                None,
                Some(&json!({"token": token, "new_password": password})),
            )
        };
        assert_eq!(confirm("short").status, 422);
        assert_eq!(confirm("a brand new passphrase").status, 204);
        assert_eq!(
            confirm("another new passphrase").json()["error"],
            "invalid_code",
            "single use"
        );
        assert_eq!(app.api("GET", "/api/v1/me", Some(&before), None).status, 401);
        assert_eq!(app.login_from(&chen, "a brand new passphrase", "192.0.2.9").status, 200);
    }
}

#[test]
fn several_processes_on_one_database_send_each_of_two_thousand_messages_once() {
    if !smtp::available() {
        return;
    }
    for db in Database::all() {
        let name = db.backend_name();
        let sink = SmtpSink::start(&[]);
        let app = spawn_app_with(db, |c| with_mail_server(c, &sink.url()));
        app.add_staff("provider", "chen@clinic.example");
        let patient = app.add_patient("Ana", Some("ana@mail.example"));
        let n = 2000;
        {
            let mut conn = app.db.conn();
            let now = chrono::Utc::now().naive_utc();
            for i in 0..n {
                let id = format!("<bench-{i}@clinic.example>");
                clinic_db::outbox::insert(
                    &mut conn,
                    &clinic_db::outbox::NewMessage {
                        kind: "invitation",
                        status: "queued",
                        recipient: "ana@mail.example",
                        patient_id: Some(patient),
                        user_id: None,
                        session_id: None,
                        message_id: &id,
                        payload: Some("ABCD-EFGH-JKMN-PQRS"),
                        scheduled_for: now,
                        next_attempt_at: now,
                    },
                )
                .unwrap();
            }
        }
        // A second server on the same database: two delivery workers claim from one outbox.
        let started = Instant::now();
        let _second = spawn_server_on(&app.db, |c| with_mail_server(c, &sink.url()));
        let got = sink.wait_for(n, Duration::from_secs(180));
        let elapsed = started.elapsed();
        std::thread::sleep(Duration::from_millis(500));
        let got = if sink.received().len() > got.len() {
            sink.received()
        } else {
            got
        };
        let ids: BTreeSet<String> = got.iter().map(|m| m.message_id()).collect();
        eprintln!("{name}: {} messages in {elapsed:?}, {} distinct", got.len(), ids.len());
        assert_eq!(ids.len(), n, "every message arrived");
        assert_eq!(got.len(), n, "no message was sent twice");
    }
}

#[test]
fn a_corrected_date_moves_the_reminders_and_a_void_cancels_them() {
    if !smtp::available() {
        return;
    }
    for db in Database::all() {
        eprintln!("-- on {}", db.backend_name());
        let sink = SmtpSink::start(&[]);
        // Friday 2027-03-12, 15:00 UTC; the clinic keeps UTC and sends reminders at 09:00.
        let clock = Arc::new(FixedClock(Utc.with_ymd_and_hms(2027, 3, 12, 15, 0, 0).unwrap()));
        let app = spawn_app_at(db, clock, |c| with_mail_server(c, &sink.url()));
        let (provider, patient, series) = clinic(&app, "ana@mail.example");
        let session = record(&app, &provider, series, "2027-03-12", true)["session"]["id"]
            .as_i64()
            .unwrap();
        sink.wait_for(1, WAIT);
        wait_messages(&app, &provider, patient, |m| {
            of_kind(m, "aftercare_day_of").iter().any(|d| d["status"] == "sent")
        });
        let patch = |body: Value| {
            let r = app.api(
                "PATCH",
                &format!("/api/v1/sessions/{session}"),
                Some(&provider),
                Some(&body),
            );
            assert_eq!(r.status, 200, "{}", r.body);
        };
        // A correction that keeps the date leaves the e-mails alone.
        patch(json!({"reason": "depth", "needle_depth_mm": 0.75}));
        assert_eq!(messages(&app, &provider, patient).len(), 4);

        // The session was the day before: the reminders move; the day's e-mail is not sent again.
        patch(json!({"reason": "wrong date", "performed_on": "2027-03-11"}));
        let all = messages(&app, &provider, patient);
        let with = |kind: &str, status: &str| -> Vec<String> {
            of_kind(&all, kind)
                .iter()
                .filter(|m| m["status"] == status)
                .map(|m| m["scheduled_for"].as_str().unwrap().to_owned())
                .collect()
        };
        assert_eq!(of_kind(&all, "aftercare_day_of").len(), 1, "{all:#?}");
        assert_eq!(with("reminder_day_1", "cancelled"), ["2027-03-13T09:00:00Z"]);
        assert_eq!(
            with("reminder_day_1", "queued"),
            Vec::<String>::new(),
            "day 1 at 09:00 has passed"
        );
        assert_eq!(with("reminder_days_2_7", "queued"), ["2027-03-13T09:00:00Z"]);
        assert_eq!(with("reminder_day_7_plus", "queued"), ["2027-03-18T09:00:00Z"]);

        // Voided: nothing more goes out.
        let voided = app.api(
            "POST",
            &format!("/api/v1/sessions/{session}/void"),
            Some(&provider),
            Some(&json!({"reason": "wrong patient"})),
        );
        assert_eq!(voided.status, 200, "{}", voided.body);
        let all = messages(&app, &provider, patient);
        assert!(
            all.iter().all(|m| m["status"] == "sent" || m["status"] == "cancelled"),
            "{all:#?}"
        );
        assert_eq!(sink.received().len(), 1);
    }
}
