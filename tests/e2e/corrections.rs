//! Corrections of the record, voids, the patient's check-ins and the attention queue, and
//! `Idempotency-Key`, through the API on each database.

use crate::clinical::session;
use clinic_e2e::{STAFF_PASSWORD, TestApp, on_each_database};
use serde_json::{Value, json};

fn days_ago(n: i64) -> String {
    (chrono::Utc::now().date_naive() - chrono::Duration::days(n)).to_string()
}

/// A provider's token, a patient with an e-mail address and an open series of five planned.
fn clinic(app: &TestApp) -> (String, i64, i64) {
    let chen = app.add_staff("provider", "chen@clinic.example");
    let provider = app.token(&chen, STAFF_PASSWORD);
    let body =
        json!({"first_name": "Ana", "last_name": "Silva", "date_of_birth": "1990-04-02", "email": "ana@mail.example"});
    let patient = app.api("POST", "/api/v1/patients", Some(&provider), Some(&body)).json()["id"]
        .as_i64()
        .unwrap();
    let plan = json!({"condition": "acne_scars", "planned_sessions": 5, "reason": "deep scarring"});
    let series = app.api(
        "POST",
        &format!("/api/v1/patients/{patient}/series"),
        Some(&provider),
        Some(&plan),
    );
    assert_eq!(series.status, 201, "{}", series.body);
    (provider, patient, series.json()["id"].as_i64().unwrap())
}

fn record(app: &TestApp, provider: &str, series: i64, body: &Value) -> Value {
    let r = app.api(
        "POST",
        &format!("/api/v1/series/{series}/sessions"),
        Some(provider),
        Some(body),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()["session"].clone()
}

#[test]
fn a_correction_keeps_every_version_and_the_timeline_follows_it() {
    on_each_database(|app| {
        let (provider, patient, series) = clinic(app);
        let mut first = session(true, false);
        first["performed_on"] = json!(days_ago(2));
        first["notes_stage"] = json!("day_1");
        let s = record(app, &provider, series, &first);
        let id = s["id"].as_i64().unwrap();
        assert_eq!((s["revision"].as_i64(), s["eye_area"].as_bool()), (Some(1), Some(true)));
        assert_eq!(s["notes_stage"], "day_1");
        assert_eq!(s["treatment_areas"], json!(["forehead", "periorbital", "cheeks"]));
        let patch = |body: Value| app.api("PATCH", &format!("/api/v1/sessions/{id}"), Some(&provider), Some(&body));

        // A reason is required; a flag that contradicts the areas is refused; nothing changes.
        assert_eq!(
            patch(json!({"needle_depth_mm": 0.75})).json()["error"],
            "reason_required"
        );
        let contradiction = patch(json!({"reason": "x", "treatment_areas": ["cheeks"], "eye_area": true}));
        assert_eq!(
            (contradiction.status, contradiction.json()["field"].as_str()),
            (422, Some("eye_area"))
        );
        assert_eq!(
            patch(json!({"reason": "x", "performed_on": "2999-01-01"})).json()["field"],
            "performed_on"
        );
        assert_eq!(
            patch(json!({"reason": "x", "treatment_areas": ["eyes"]})).json()["field"],
            "treatment_areas"
        );

        // The eye area was not treated after all.
        let fixed =
            patch(json!({"reason": "The eye area was ticked by mistake", "treatment_areas": ["cheeks", "forehead"]}));
        assert_eq!(fixed.status, 200, "{}", fixed.body);
        let fixed = fixed.json();
        assert_eq!(
            (fixed["revision"].as_i64(), fixed["eye_area"].as_bool()),
            (Some(2), Some(false))
        );
        assert_eq!(fixed["needle_depth_mm"], 0.5, "fields not sent are kept");
        let cleared = patch(json!({"reason": "No note", "notes": null}));
        assert_eq!(
            (cleared.json()["revision"].as_i64(), &cleared.json()["notes"]),
            (Some(3), &Value::Null)
        );

        let versions = app
            .api(
                "GET",
                &format!("/api/v1/sessions/{id}/revisions"),
                Some(&provider),
                None,
            )
            .json();
        let versions = versions.as_array().unwrap();
        assert_eq!(versions.len(), 3);
        assert_eq!(versions[0]["revision"], 1);
        assert_eq!(versions[0]["reason"], Value::Null);
        assert_eq!(versions[0]["session"]["eye_area"], true);
        assert_eq!(versions[1]["reason"], "The eye area was ticked by mistake");
        assert_eq!(versions[1]["session"]["eye_area"], false);
        assert_eq!(versions[2]["session"]["notes"], Value::Null);
        assert!(
            versions
                .iter()
                .all(|v| v["changed_by"].is_i64() && v["changed_at"].as_str().unwrap().ends_with('Z'))
        );

        // The patient's timeline and calendar follow the current version.
        let ana = app.patient_token(&provider, patient, "patient a passphrase");
        let t = app.api("GET", "/api/v1/me/timeline", Some(&ana), None);
        assert!(!t.body.contains("micro-bruising"), "{}", t.body);
        assert_eq!(t.json()["session"]["revision"], 3);
        let ics = app.api("GET", "/api/v1/me/timeline.ics", Some(&ana), None);
        assert!(!ics.body.contains("micro-bruising"));
        // Managers read the versions; patients do not.
        assert_eq!(
            app.api("GET", &format!("/api/v1/sessions/{id}/revisions"), Some(&ana), None)
                .status,
            403
        );
    });
}

#[test]
fn a_void_frees_its_number_stops_counting_and_is_reported() {
    on_each_database(|app| {
        let (provider, _, series) = clinic(app);
        let ids: Vec<i64> = (0..5)
            .map(|_| {
                record(app, &provider, series, &session(false, true))["id"]
                    .as_i64()
                    .unwrap()
            })
            .collect();
        let sixth = app.api(
            "POST",
            &format!("/api/v1/series/{series}/sessions"),
            Some(&provider),
            Some(&session(false, true)),
        );
        assert_eq!(sixth.json()["error"], "series_maximum_reached");
        let void = |id: i64, body: Value| {
            app.api(
                "POST",
                &format!("/api/v1/sessions/{id}/void"),
                Some(&provider),
                Some(&body),
            )
        };
        assert_eq!(void(ids[4], json!({})).json()["error"], "reason_required");
        let refused = void(ids[2], json!({"reason": "duplicate"}));
        assert_eq!(
            (refused.status, refused.json()["error"].as_str()),
            (409, Some("only_latest_can_be_voided"))
        );
        let voided = void(ids[4], json!({"reason": "recorded twice"}));
        assert_eq!(voided.status, 200, "{}", voided.body);
        let voided = voided.json();
        assert_eq!(
            (voided["void"].as_bool(), voided["void_reason"].as_str()),
            (Some(true), Some("recorded twice"))
        );
        assert_eq!(void(ids[4], json!({"reason": "again"})).json()["error"], "session_void");

        // Four count; the fifth number is free; the void one stays visible.
        let s = app
            .api("GET", &format!("/api/v1/series/{series}"), Some(&provider), None)
            .json();
        assert_eq!(s["sessions_recorded"], 4);
        assert_eq!(s["sessions"].as_array().unwrap().len(), 5);
        let again = record(app, &provider, series, &session(false, true));
        assert_eq!(again["session_number"], 5);
        let s = app
            .api("GET", &format!("/api/v1/series/{series}"), Some(&provider), None)
            .json();
        assert_eq!(
            (s["sessions_recorded"].as_i64(), s["next_session"].as_str()),
            (Some(5), Some("refused"))
        );

        let boss = app.add_staff("manager", "boss@clinic.example");
        let manager = app.token(&boss, STAFF_PASSWORD);
        let today = chrono::Utc::now().date_naive();
        let report = app.api(
            "GET",
            &format!("/api/v1/reports/series?from={}&to={today}", days_ago(30)),
            Some(&manager),
            None,
        );
        assert_eq!(report.json()["voided_sessions"], 1, "{}", report.body);
        assert_eq!(
            report.json()["providers"][0]["sessions"],
            5,
            "the void one counts nowhere else"
        );
    });
}

#[test]
fn check_ins_flag_what_the_aftercare_did_not_say_and_reach_the_queue() {
    on_each_database(|app| {
        let (provider, patient, series) = clinic(app);
        let mut body = session(false, true);
        body["performed_on"] = json!(days_ago(1));
        record(app, &provider, series, &body);
        let ana = app.patient_token(&provider, patient, "patient a passphrase");
        let check_in = |body: Value| app.api("POST", "/api/v1/me/check-ins", Some(&ana), Some(&body));

        // Day 1: bruising around the eyes is not an effect of this session; a note is needed for the
        // unexpected; dryness is a day early.
        let r = check_in(json!({"effects": ["eye_area_bruising"], "unexpected": false}));
        assert_eq!((r.status, r.json()["field"].as_str()), (422, Some("effects")));
        assert_eq!(
            check_in(json!({"effects": ["itching"], "unexpected": false})).json()["field"],
            "effects"
        );
        assert_eq!(
            check_in(json!({"effects": [], "unexpected": true})).json()["error"],
            "note_required"
        );
        let early = check_in(json!({"effects": ["dryness"], "unexpected": false}));
        assert_eq!(early.status, 201, "{}", early.body);
        let early = early.json();
        assert_eq!(
            (early["day"].as_i64(), early["flagged"].as_bool()),
            (Some(1), Some(true))
        );
        assert!(
            early["flag_reasons"][0].as_str().unwrap().contains("days 2 to 7"),
            "{early}"
        );
        // A second the same day replaces the first; nothing expected is not flagged.
        let calm = check_in(json!({"effects": [], "unexpected": false})).json();
        assert_eq!(
            (calm["flagged"].as_bool(), calm["flag_reasons"].clone()),
            (Some(false), json!([]))
        );
        let note = "a rash on my neck";
        let worried = check_in(json!({"effects": [], "unexpected": true, "note": note})).json();
        assert!(worried["flagged"].as_bool().unwrap());
        assert!(worried["flag_reasons"][0].as_str().unwrap().contains(note));

        // The queue: newest first, with the patient; the first alert stayed open though a calm
        // check-in replaced its check-in, and the flagged one took its place.
        let open = app.api("GET", "/api/v1/alerts", Some(&provider), None).json();
        let open = open.as_array().unwrap();
        assert_eq!(open.len(), 1, "{open:#?}");
        assert_eq!(
            (open[0]["patient_id"].as_i64(), open[0]["patient_name"].as_str()),
            (Some(patient), Some("Ana Silva"))
        );
        assert_eq!(open[0]["check_in"]["note"], note);
        assert_eq!(open[0]["status"], "open");
        let id = open[0]["id"].as_i64().unwrap();
        let resolve = |body: Value| {
            app.api(
                "POST",
                &format!("/api/v1/alerts/{id}/resolve"),
                Some(&provider),
                Some(&body),
            )
        };
        assert_eq!(resolve(json!({})).json()["error"], "note_required");
        let done = resolve(json!({"note": "Called her; seen at the clinic"}));
        assert_eq!(done.status, 200, "{}", done.body);
        assert_eq!(done.json()["status"], "resolved");
        assert_eq!(resolve(json!({"note": "again"})).json()["error"], "alert_resolved");
        assert_eq!(
            app.api("GET", "/api/v1/alerts", Some(&provider), None).json(),
            json!([])
        );
        let resolved = app
            .api("GET", "/api/v1/alerts?status=resolved", Some(&provider), None)
            .json();
        assert_eq!(
            resolved.as_array().unwrap().len(),
            2,
            "the replaced one and the resolved one"
        );
        assert_eq!(
            app.api("GET", "/api/v1/alerts?status=maybe", Some(&provider), None)
                .status,
            422
        );

        // An earlier session by id; one of another patient is nobody's business.
        let other = app.api(
            "POST",
            "/api/v1/me/check-ins",
            Some(&ana),
            Some(&json!({"session_id": 999999, "effects": [], "unexpected": false})),
        );
        assert_eq!(other.status, 404);
    });
}

#[test]
fn check_ins_close_after_day_seven_and_bruising_is_expected_only_to_day_four() {
    on_each_database(|app| {
        let (provider, patient, series) = clinic(app);
        let ana = app.patient_token(&provider, patient, "patient a passphrase");
        let check_in = |body: Value| app.api("POST", "/api/v1/me/check-ins", Some(&ana), Some(&body));
        let mut old = session(true, true);
        old["performed_on"] = json!(days_ago(8));
        let s = record(app, &provider, series, &old);
        let closed = check_in(json!({"effects": [], "unexpected": false}));
        assert_eq!(
            (closed.status, closed.json()["error"].as_str()),
            (422, Some("check_in_closed"))
        );
        // Corrected to five days ago: open again, and bruising now is late.
        let id = s["id"].as_i64().unwrap();
        let moved = app.api(
            "PATCH",
            &format!("/api/v1/sessions/{id}"),
            Some(&provider),
            Some(&json!({"reason": "wrong date", "performed_on": days_ago(5)})),
        );
        assert_eq!(moved.status, 200, "{}", moved.body);
        let late =
            check_in(json!({"session_id": id, "effects": ["eye_area_bruising", "shedding"], "unexpected": false}))
                .json();
        assert_eq!(late["day"], 5);
        assert_eq!(late["effects"], json!(["shedding", "eye_area_bruising"]));
        assert_eq!(late["flag_reasons"].as_array().unwrap().len(), 1, "{late}");
        assert!(late["flag_reasons"][0].as_str().unwrap().contains("up to day 4"));
    });
}

#[test]
fn an_idempotency_key_gives_the_first_answer_again_and_records_once() {
    on_each_database(|app| {
        let (provider, patient, series) = clinic(app);
        let url = format!("/api/v1/series/{series}/sessions");
        let key = [("Idempotency-Key", "visit-2026-12-02-ana")];
        let body = session(false, false);
        let first = app.api_with("POST", &url, Some(&provider), Some(&body), &key);
        assert_eq!(first.status, 201, "{}", first.body);
        assert_eq!(first.header("idempotent-replayed"), None);
        let again = app.api_with("POST", &url, Some(&provider), Some(&body), &key);
        assert_eq!((again.status, again.json()), (201, first.json()));
        assert_eq!(again.header("idempotent-replayed"), Some("true"));
        let s = app
            .api("GET", &format!("/api/v1/series/{series}"), Some(&provider), None)
            .json();
        assert_eq!(s["sessions_recorded"], 1, "recorded once");

        let mut other = body.clone();
        other["needle_depth_mm"] = json!(1.0);
        let reused = app.api_with("POST", &url, Some(&provider), Some(&other), &key);
        assert_eq!(
            (reused.status, reused.json()["error"].as_str()),
            (422, Some("idempotency_key_reused"))
        );

        // A refusal is an answer too: the same key gets it again, even once the rule would allow it.
        let refused_key = [("Idempotency-Key", "future-date")];
        let mut future = body.clone();
        future["performed_on"] = json!("2999-01-01");
        let refused = app.api_with("POST", &url, Some(&provider), Some(&future), &refused_key);
        assert_eq!(refused.status, 422);
        let refused_again = app.api_with("POST", &url, Some(&provider), Some(&future), &refused_key);
        assert_eq!(
            (refused_again.status, refused_again.header("idempotent-replayed")),
            (422, Some("true"))
        );

        // Keys are per account: another provider's same key is their own.
        let lee = app.add_staff("provider", "lee@clinic.example");
        let lee = app.token(&lee, STAFF_PASSWORD);
        let theirs = app.api_with("POST", &url, Some(&lee), Some(&body), &key);
        assert_eq!((theirs.status, theirs.header("idempotent-replayed")), (201, None));
        assert_eq!(theirs.json()["session"]["session_number"], 2);
        assert_eq!(
            app.api_with("POST", &url, Some(&provider), Some(&body), &[("Idempotency-Key", "")])
                .status,
            422,
            "an empty key is refused"
        );

        // Eight requests with one key at once: one session, eight identical answers.
        let many_key = [("Idempotency-Key", "at-once")];
        let answers: Vec<(u16, Value)> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    s.spawn(|| {
                        let r = app.api_with("POST", &url, Some(&provider), Some(&body), &many_key);
                        (r.status, r.json())
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(answers.iter().all(|a| a == &answers[0]), "{answers:#?}");
        assert_eq!(answers[0].0, 201);
        let s = app
            .api("GET", &format!("/api/v1/series/{series}"), Some(&provider), None)
            .json();
        assert_eq!(s["sessions_recorded"], 3);

        // Patients and series take keys too.
        let p = json!({"first_name": "Bea", "last_name": "Costa", "date_of_birth": "1992-01-02"});
        let k = [("Idempotency-Key", "new-patient-bea")];
        let a = app.api_with("POST", "/api/v1/patients", Some(&provider), Some(&p), &k);
        let b = app.api_with("POST", "/api/v1/patients", Some(&provider), Some(&p), &k);
        assert_eq!((a.status, a.json()["id"].clone()), (b.status, b.json()["id"].clone()));
        assert_eq!(
            app.api("GET", "/api/v1/patients?q=bea", Some(&provider), None)
                .json()
                .as_array()
                .unwrap()
                .len(),
            1
        );
        let _ = patient;
    });
}
