//! The provider's and the patient's journeys through the API: patients, series, sessions, timeline.

use clinic_e2e::{STAFF_PASSWORD, TestApp, on_each_database};
use serde_json::{Value, json};

fn today() -> String {
    chrono::Utc::now().date_naive().to_string()
}

/// A session; treating the eye area means `periorbital` among the regions.
pub fn session(eye_area: bool, acknowledge: bool) -> Value {
    let areas: &[&str] = if eye_area {
        &["cheeks", "forehead", "periorbital"]
    } else {
        &["cheeks", "forehead"]
    };
    json!({
        "performed_on": today(),
        "treatment_areas": areas,
        "eye_area": eye_area,
        "device": "pen",
        "needle_depth_mm": 0.5,
        "products_applied": ["moisturizer", "sunscreen"],
        "notes": "Hyaluronic serum at night",
        "acknowledge_beyond_typical": acknowledge
    })
}

fn provider(app: &TestApp) -> String {
    let email = app.add_staff("provider", "chen@clinic.example");
    app.token(&email, STAFF_PASSWORD)
}

fn new_patient(app: &TestApp, token: &str, first: &str, email: Option<&str>) -> i64 {
    let body = json!({"first_name": first, "last_name": "Silva", "date_of_birth": "1990-04-02", "email": email, "phone": "+1 555 010 0199"});
    let r = app.api("POST", "/api/v1/patients", Some(token), Some(&body));
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()["id"].as_i64().unwrap()
}

#[test]
fn patients_are_created_searched_and_corrected() {
    on_each_database(|app| {
        let p = provider(app);
        let ana = new_patient(app, &p, "Ana", Some("Ana@Mail.example"));
        new_patient(app, &p, "Bruno", None);
        for (body, field) in [
            (
                json!({"first_name": "", "last_name": "X", "date_of_birth": "1990-01-01"}),
                "first_name",
            ),
            (
                json!({"first_name": "A", "last_name": "X", "date_of_birth": "2999-01-01"}),
                "date_of_birth",
            ),
            (
                json!({"first_name": "A", "last_name": "X", "date_of_birth": "01/02/1990"}),
                "date_of_birth",
            ),
            (
                json!({"first_name": "A", "last_name": "X", "date_of_birth": "1990-01-01", "email": "nope"}),
                "email",
            ),
        ] {
            let r = app.api("POST", "/api/v1/patients", Some(&p), Some(&body));
            assert_eq!((r.status, r.json()["field"].as_str()), (422, Some(field)), "{body}");
        }
        let found = app.api("GET", "/api/v1/patients?q=ana", Some(&p), None).json();
        assert_eq!(found.as_array().unwrap().len(), 1);
        assert_eq!(found[0]["email"], "ana@mail.example");
        let all = app.api("GET", "/api/v1/patients", Some(&p), None).json();
        assert_eq!(all.as_array().unwrap().len(), 2);
        let fix = json!({"first_name": "Ana", "last_name": "Silva Costa", "date_of_birth": "1990-04-02", "email": "ana@mail.example"});
        let r = app.api("PUT", &format!("/api/v1/patients/{ana}"), Some(&p), Some(&fix));
        assert_eq!((r.status, r.json()["last_name"].as_str()), (200, Some("Silva Costa")));
        let one = app
            .api("GET", &format!("/api/v1/patients/{ana}"), Some(&p), None)
            .json();
        assert_eq!(one["series"], json!([]));
        assert_eq!(one["has_portal_login"], false);
        assert_eq!(app.api("GET", "/api/v1/patients/9999", Some(&p), None).status, 404);
        assert_eq!(
            clinic_db::patients::count_revisions(&mut app.db.conn(), clinic_domain::PatientId(ana)).unwrap(),
            1
        );
    });
}

#[test]
fn a_course_follows_the_series_rule_end_to_end() {
    on_each_database(|app| {
        let p = provider(app);
        let ana = new_patient(app, &p, "Ana", Some("ana@mail.example"));
        let open = |body: Value| app.api("POST", &format!("/api/v1/patients/{ana}/series"), Some(&p), Some(&body));
        let r = open(json!({"condition": "acne_scars", "planned_sessions": 4}));
        assert_eq!((r.status, r.json()["field"].as_str()), (422, Some("reason")));
        assert_eq!(open(json!({"condition": "freckles"})).json()["field"], "condition");
        let s = open(json!({"condition": "acne_scars"}));
        assert_eq!(s.status, 201, "{}", s.body);
        let s = s.json();
        assert_eq!(
            (
                s["planned_sessions"].as_i64(),
                s["typical_max"].as_i64(),
                s["maximum"].as_i64()
            ),
            (Some(3), Some(3), Some(5))
        );
        assert_eq!(s["next_session"], "typical");
        assert_eq!(
            open(json!({"condition": "other"})).json()["error"],
            "open_series_exists"
        );
        let id = s["id"].as_i64().unwrap();
        let record = |body: Value| app.api("POST", &format!("/api/v1/series/{id}/sessions"), Some(&p), Some(&body));

        let mut future = session(false, false);
        future["performed_on"] = json!("2999-01-01");
        assert_eq!(record(future).json()["field"], "performed_on");
        let mut before_birth = session(false, false);
        before_birth["performed_on"] = json!("1980-01-01");
        assert_eq!(record(before_birth).json()["field"], "performed_on");
        let mut bad_depth = session(false, false);
        bad_depth["needle_depth_mm"] = json!(3.5);
        assert_eq!(record(bad_depth).json()["field"], "needle_depth_mm");
        let mut extra = session(false, false);
        extra["session_number"] = json!(6);
        assert_eq!(
            record(extra).json()["error"],
            "invalid_body",
            "unknown fields are refused"
        );

        for n in 1..=3 {
            let r = record(session(n == 1, false));
            assert_eq!(r.status, 201, "{}", r.body);
            let body = r.json();
            assert_eq!(body["session"]["session_number"], n);
            assert_eq!(body["warnings"], json!([]));
            assert_eq!(body["series"]["sessions_recorded"], n);
        }
        let fourth = record(session(false, false));
        assert_eq!(
            (fourth.status, fourth.json()["error"].as_str()),
            (422, Some("beyond_typical_acknowledgement_required"))
        );
        for n in 4..=5 {
            let r = record(session(false, true));
            assert_eq!(r.status, 201, "{}", r.body);
            assert!(!r.json()["warnings"].as_array().unwrap().is_empty());
            assert!(
                !r.json()["session"]["beyond_typical_acknowledged_by"].is_null(),
                "session {n}"
            );
        }
        let sixth = record(session(false, true));
        assert_eq!(
            (sixth.status, sixth.json()["error"].as_str()),
            (409, Some("series_maximum_reached"))
        );
        let message = sixth.json()["message"].as_str().unwrap().to_owned();
        assert!(
            message.contains("underlying medical condition") && message.contains("consult"),
            "{message}"
        );

        let full = app.api("GET", &format!("/api/v1/series/{id}"), Some(&p), None).json();
        assert_eq!(full["sessions"].as_array().unwrap().len(), 5);
        assert_eq!(full["next_session"], "refused");
        assert_eq!(
            app.api("POST", &format!("/api/v1/series/{id}/complete"), Some(&p), None)
                .json()["status"],
            "completed"
        );
        assert_eq!(record(session(false, true)).json()["error"], "series_maximum_reached");

        let r = open(json!({"condition": "acne_scars"}));
        assert_eq!(
            (r.status, r.json()["error"].as_str()),
            (422, Some("review_note_required"))
        );
        let r = open(json!({"condition": "acne_scars", "review_note": "Reviewed with the patient's GP"}));
        assert_eq!(
            (r.status, r.json()["flagged_after_maximum"].as_bool()),
            (201, Some(true))
        );
        let next = r.json()["id"].as_i64().unwrap();
        app.api("POST", &format!("/api/v1/series/{next}/complete"), Some(&p), None);
        let closed = app.api(
            "POST",
            &format!("/api/v1/series/{next}/sessions"),
            Some(&p),
            Some(&session(false, false)),
        );
        assert_eq!(
            (closed.status, closed.json()["error"].as_str()),
            (409, Some("series_closed"))
        );

        let rows = app.audit_rows();
        assert!(rows.iter().any(|r| r.action == "session.record"
            && r.outcome == "refused"
            && r.detail.as_deref() == Some("series_maximum_reached")));
        assert!(
            rows.iter()
                .any(|r| r.action == "series.open" && r.detail.as_deref().is_some_and(|d| d.contains("flagged")))
        );
    });
}

#[test]
fn a_probe_for_an_unknown_patient_cannot_hold_back_the_audit_trail() {
    on_each_database(|app| {
        let p = provider(app);
        let ana = new_patient(app, &p, "Ana", Some("ana@mail.example"));
        let ana_token = app.patient_token(&p, ana, "ana's own passphrase");
        let unknown = ana + 1_000_000;
        let probe = app.api(
            "GET",
            &format!("/api/v1/patients/{unknown}/series"),
            Some(&ana_token),
            None,
        );
        assert_eq!(probe.status, 404);
        let own = app.api("GET", &format!("/api/v1/patients/{ana}/series"), Some(&ana_token), None);
        assert_eq!(own.status, 200);
        let rows = app.audit_rows();
        let denied = rows
            .iter()
            .find(|r| r.action == "access.other_patient")
            .expect("the probe is audited");
        assert_eq!(denied.patient_id, None);
        assert_eq!(
            denied.detail.as_deref(),
            Some(format!("unknown patient {unknown}").as_str())
        );
        assert!(
            rows.iter()
                .any(|r| r.action == "series.list" && r.patient_id.map(|p| p.0) == Some(ana)),
            "reads after the probe are audited too"
        );
    });
}

#[test]
fn the_patient_sees_their_timeline_and_nobody_elses() {
    on_each_database(|app| {
        let p = provider(app);
        let ana = new_patient(app, &p, "Ana", Some("ana@mail.example"));
        let bruno = new_patient(app, &p, "Bruno", Some("bruno@mail.example"));
        let ana_token = app.patient_token(&p, ana, "ana's own passphrase");
        let bruno_token = app.patient_token(&p, bruno, "bruno's own passphrase");
        let r = app.api("GET", "/api/v1/me/timeline", Some(&ana_token), None);
        assert_eq!((r.status, r.json()["error"].as_str()), (404, Some("no_session")));

        let s = app
            .api(
                "POST",
                &format!("/api/v1/patients/{ana}/series"),
                Some(&p),
                Some(&json!({"condition": "acne_scars"})),
            )
            .json();
        let series = s["id"].as_i64().unwrap();
        app.api(
            "POST",
            &format!("/api/v1/series/{series}/sessions"),
            Some(&p),
            Some(&session(true, false)),
        );

        let t = app.api("GET", "/api/v1/me/timeline", Some(&ana_token), None);
        assert_eq!(t.status, 200, "{}", t.body);
        assert_eq!(t.header("cache-control"), Some("no-store"));
        let t = t.json();
        let keys: Vec<&str> = t["stages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["key"].as_str().unwrap())
            .collect();
        assert_eq!(keys, ["day_of", "day_1", "days_2_7", "day_7_plus"]);
        assert_eq!(t["today"], today());
        assert_eq!(t["stages"][0]["is_current"], true);
        assert_eq!(t["stages"][0]["starts_on"], today());
        assert!(t["stages"][3]["ends_on"].is_null());
        let day_of = &t["stages"][0];
        assert!(day_of["cautions"][0].as_str().unwrap().contains("Ibuprofen"));
        let applied: Vec<&str> = day_of["instructions"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|i| i.as_str())
            .filter(|i| i.contains("applied"))
            .collect();
        assert_eq!(
            applied,
            ["After the procedure your provider applied a skin moisturizer and sunscreen."]
        );
        assert!(
            t["stages"][2]["cautions"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c.as_str().unwrap().contains("bruising"))
        );
        assert!(
            t["stages"][2]["instructions"]
                .to_string()
                .contains("Hyaluronic serum at night")
        );
        assert!(
            t["stages"][3]["instructions"]
                .to_string()
                .contains("Session 1 of a planned 3")
        );

        let preview = app
            .api("GET", &format!("/api/v1/patients/{ana}/timeline"), Some(&p), None)
            .json();
        assert_eq!(
            preview["stages"], t["stages"],
            "the provider previews exactly what the patient sees"
        );

        let ics = app.api("GET", "/api/v1/me/timeline.ics", Some(&ana_token), None);
        assert_eq!(ics.status, 200);
        assert!(ics.header("content-type").unwrap().starts_with("text/calendar"));
        assert_eq!(ics.body.matches("BEGIN:VEVENT").count(), 4);
        assert!(ics.body.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"));
        assert!(
            ics.body
                .contains(&format!("DTSTART;VALUE=DATE:{}", today().replace('-', "")))
        );
        for line in ics.body.split("\r\n").filter(|l| l.starts_with("SUMMARY")) {
            assert!(!line.contains("Ana") && !line.contains("Silva"), "{line}");
        }
        assert!(ics.body.split("\r\n").all(|l| l.len() <= 75));

        // Another patient's records are simply not there.
        assert_eq!(
            app.api("GET", &format!("/api/v1/series/{series}"), Some(&bruno_token), None)
                .status,
            404
        );
        assert_eq!(
            app.api(
                "GET",
                &format!("/api/v1/patients/{ana}/series"),
                Some(&bruno_token),
                None
            )
            .status,
            404
        );
        let session_id = t["session"]["id"].as_i64().unwrap();
        let r = app.api(
            "GET",
            &format!("/api/v1/me/timeline?session_id={session_id}"),
            Some(&bruno_token),
            None,
        );
        assert_eq!(r.status, 404);
        let r = app.api(
            "GET",
            &format!("/api/v1/me/timeline?session_id={session_id}"),
            Some(&ana_token),
            None,
        );
        assert_eq!(r.status, 200);
        let rows = app.audit_rows();
        assert!(
            rows.iter()
                .any(|r| r.action == "timeline.read" && r.patient_id.map(|p| p.0) == Some(ana))
        );
        assert!(
            rows.iter()
                .any(|r| r.action == "access.other_patient" && r.outcome == "denied")
        );
    });
}

/// Opens a series (acne scars) for `patient`; its id.
fn open_series(app: &TestApp, token: &str, patient: i64) -> i64 {
    let body = json!({"condition": "acne_scars"});
    let r = app.api(
        "POST",
        &format!("/api/v1/patients/{patient}/series"),
        Some(token),
        Some(&body),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()["id"].as_i64().unwrap()
}

/// Records a session (no eye area) in `series`; its id.
fn record_in(app: &TestApp, token: &str, series: i64) -> i64 {
    let path = format!("/api/v1/series/{series}/sessions");
    let r = app.api("POST", &path, Some(token), Some(&session(false, false)));
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()["session"]["id"].as_i64().unwrap()
}

/// A server that answered a patient's timeline before answers what changed since through another
/// server on the same database at once: a new session, a void, a correction, a sign-out.
#[test]
fn a_second_servers_timeline_follows_changes_made_through_the_first() {
    on_each_database(|app| {
        let p = provider(app);
        let ana = new_patient(app, &p, "Ana", Some("ana@mail.example"));
        let token = app.patient_token(&p, ana, "ana's own passphrase");
        let series = open_series(app, &p, ana);
        let record = || record_in(app, &p, series);
        let first = record();
        let second = clinic_e2e::spawn_app_on(&app.db);
        let timeline = || {
            app.send(
                app.agent
                    .get(&format!("{}/api/v1/me/timeline", second.address))
                    .header("Authorization", &format!("Bearer {token}")),
            )
        };
        let shown = || {
            let t = timeline();
            assert_eq!(t.status, 200, "{}", t.body);
            t.json()["session"]["id"].as_i64()
        };
        assert_eq!(shown(), Some(first));
        assert_eq!(shown(), Some(first), "answered again");
        let next = record();
        assert_eq!(shown(), Some(next), "a session recorded elsewhere shows at once");
        let void = json!({"reason": "recorded twice"});
        let r = app.api("POST", &format!("/api/v1/sessions/{next}/void"), Some(&p), Some(&void));
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(shown(), Some(first), "so does a void");
        let patch = json!({"reason": "the eye area was treated too", "treatment_areas": ["cheeks", "periorbital"], "eye_area": true});
        let r = app.api("PATCH", &format!("/api/v1/sessions/{first}"), Some(&p), Some(&patch));
        assert_eq!(r.status, 200, "{}", r.body);
        let t = timeline().json();
        assert_eq!(
            (t["session"]["eye_area"].as_bool(), t["session"]["revision"].as_i64()),
            (Some(true), Some(2))
        );
        assert_eq!(app.api("POST", "/api/v1/auth/logout", Some(&token), None).status, 204);
        assert_eq!(timeline().status, 401, "a sign-out elsewhere ends the token at once");
        let reads = app
            .audit_rows()
            .into_iter()
            .filter(|r| r.action == "timeline.read" && r.outcome == "success")
            .count();
        assert_eq!(reads, 5, "one audit row per answer, none for what was not answered");
    });
}

/// A server that showed a patient their portal page before shows what changed since through another
/// server on the same database at once: a check-in, a new session, a correction, a void — on the page,
/// the printout and the calendar file; each one answered has its audit row; a sign-out elsewhere ends
/// them.
#[test]
fn a_second_servers_portal_follows_changes_made_through_the_first() {
    on_each_database(|app| {
        let p = provider(app);
        let ana = new_patient(app, &p, "Ana", Some("ana@mail.example"));
        let token = app.patient_token(&p, ana, "ana's own passphrase");
        let series = open_series(app, &p, ana);
        let record = || record_in(app, &p, series);
        let first = record();
        let second = clinic_e2e::spawn_app_on(&app.db);
        let shown_pages = std::cell::Cell::new(0);
        let get = |path: &str| {
            app.send(
                app.agent
                    .get(&format!("{}{path}", second.address))
                    .header("Cookie", &format!("clinic_session={token}")),
            )
        };
        let shown_at = |path: &str| {
            shown_pages.set(shown_pages.get() + 1);
            let r = get(path);
            assert_eq!(r.status, 200, "{path}: {}", r.body);
            r.body
        };
        let page = || shown_at("/portal");
        let events_of = |id: i64| format!("UID:session-{id}-day_of@clinic");
        let listed = |id: i64| format!("/portal?session_id={id}\"");
        let calendar_of = |id: i64| format!("/portal/timeline.ics?session_id={id}\"");
        let shown = page();
        assert!(shown.contains(&listed(first)) && shown.contains(&calendar_of(first)));
        assert!(!shown.contains("Your check-ins for this session"));
        assert!(page().contains(&calendar_of(first)), "shown again");
        let check_in = json!({"effects": [], "unexpected": true, "note": "A rash on the chin"});
        let r = app.api("POST", "/api/v1/me/check-ins", Some(&token), Some(&check_in));
        assert_eq!(r.status, 201, "{}", r.body);
        assert!(
            page().contains("A rash on the chin"),
            "a check-in sent elsewhere shows at once"
        );
        assert!(shown_at("/portal/timeline.ics").contains(&events_of(first)));
        let next = record();
        let shown = page();
        assert!(
            shown.contains(&listed(next)) && shown.contains(&calendar_of(next)),
            "so does a session recorded elsewhere"
        );
        assert!(
            shown_at("/portal/timeline.ics").contains(&events_of(next)),
            "in the calendar file too"
        );
        assert!(
            !shown.contains("A rash on the chin"),
            "the check-in was for the first session"
        );
        let eye_area = "Light bruising around the eyes";
        assert!(!shown.contains(eye_area));
        let printout = format!("/portal/print?session_id={next}");
        let eye_caution = "The area around your eyes was treated";
        assert!(!shown_at(&printout).contains(eye_caution));
        let patch = json!({"reason": "the eye area was treated too", "treatment_areas": ["cheeks", "periorbital"], "eye_area": true});
        let r = app.api("PATCH", &format!("/api/v1/sessions/{next}"), Some(&p), Some(&patch));
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(
            shown_at(&printout).contains(eye_caution),
            "a correction, on the printout"
        );
        assert!(page().contains(eye_area), "and on the page");
        let void = json!({"reason": "recorded twice"});
        let r = app.api("POST", &format!("/api/v1/sessions/{next}/void"), Some(&p), Some(&void));
        assert_eq!(r.status, 200, "{}", r.body);
        let shown = page();
        assert!(
            shown.contains(&calendar_of(first)) && !shown.contains(&listed(next)),
            "a void"
        );
        assert!(shown.contains("A rash on the chin"));
        let calendar = shown_at("/portal/timeline.ics");
        assert!(
            calendar.contains(&events_of(first)) && !calendar.contains(&events_of(next)),
            "the calendar file after the void"
        );
        let reads = app
            .audit_rows()
            .into_iter()
            .filter(|r| {
                r.action == "timeline.read" && r.outcome == "success" && r.patient_id.map(|id| id.0) == Some(ana)
            })
            .count();
        assert_eq!(reads, shown_pages.get(), "one audit row per page answered");
        assert_eq!(app.api("POST", "/api/v1/auth/logout", Some(&token), None).status, 204);
        for path in ["/portal", "/portal/print", "/portal/timeline.ics"] {
            let ended = get(path);
            assert_eq!(
                (ended.status, ended.header("location")),
                (303, Some("/login")),
                "a sign-out elsewhere ends {path} at once"
            );
        }
    });
}

/// A server that showed a provider a patient's page before shows what changed since through another
/// server on the same database at once: a new session, a correction, a void, a photo and its
/// withdrawal, the patient's details, portal login and e-mails, the clinic's consent form; each page
/// answered has its audit row.
#[test]
fn a_second_servers_patient_page_follows_changes_made_through_the_first() {
    on_each_database(|app| {
        let p = provider(app);
        let ana = new_patient(app, &p, "Ana", None);
        let series = open_series(app, &p, ana);
        let record = || record_in(app, &p, series);
        let first = record();
        let second = clinic_e2e::spawn_app_on(&app.db);
        let shown_pages = std::cell::Cell::new(0);
        let page = || {
            shown_pages.set(shown_pages.get() + 1);
            let r = app.send(
                app.agent
                    .get(&format!("{}/patients/{ana}", second.address))
                    .header("Cookie", &format!("clinic_session={p}")),
            );
            assert_eq!(r.status, 200, "{}", r.body);
            r.body
        };
        let edit_link = |id: i64| format!("/sessions/{id}/edit");
        assert!(page().contains(&edit_link(first)));
        assert!(page().contains(&edit_link(first)), "shown again");
        let next = record();
        assert!(
            page().contains(&edit_link(next)),
            "a session recorded elsewhere shows at once"
        );
        let patch = json!({"reason": "the eye area was treated too", "treatment_areas": ["cheeks", "periorbital"], "eye_area": true});
        let r = app.api("PATCH", &format!("/api/v1/sessions/{first}"), Some(&p), Some(&patch));
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(page().contains("Revision 2."), "so does a correction");
        let void = json!({"reason": "recorded twice"});
        let r = app.api("POST", &format!("/api/v1/sessions/{next}/void"), Some(&p), Some(&void));
        assert_eq!(r.status, 200, "{}", r.body);
        let shown = page();
        assert!(
            shown.contains("Voided: recorded twice.") && !shown.contains(&edit_link(next)),
            "a void"
        );
        let photo = app.upload_photo(&p, first, "before", &clinic_e2e::small_jpeg(64, 48));
        assert_eq!(photo.status, 201, "{}", photo.body);
        let thumbnail = format!("/photos/{}/thumbnail", photo.json()["id"]);
        assert!(page().contains(&thumbnail), "a photo");
        let path = format!("/api/v1/photos/{}/withdraw", photo.json()["id"]);
        let r = app.api("POST", &path, Some(&p), Some(&json!({"reason": "wrong patient"})));
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(!page().contains(&thumbnail), "and its withdrawal");
        let fix = json!({"first_name": "Ana", "last_name": "Souza", "date_of_birth": "1990-04-02", "email": "ana@mail.example"});
        let r = app.api("PUT", &format!("/api/v1/patients/{ana}"), Some(&p), Some(&fix));
        assert_eq!(r.status, 200, "{}", r.body);
        let shown = page();
        assert!(
            shown.contains("Souza") && shown.contains("No e-mails yet.</p>"),
            "the patient's details"
        );
        app.patient_token(&p, ana, "ana's own passphrase");
        assert!(page().contains("The patient has a portal login."), "a portal login");
        let e_mails = |page: &str| {
            page.split("id=\"messages\"")
                .nth(1)
                .map_or(0, |rest| rest.matches("<tr><td>").count())
        };
        let before = e_mails(&page());
        record();
        assert!(e_mails(&page()) > before, "the patient's e-mails");
        let disable = format!("/api/v1/patients/{ana}/portal/disable");
        assert_eq!(app.api("POST", &disable, Some(&p), None).status, 204);
        assert!(page().contains("portal access is suspended"), "its suspension");
        assert!(page().contains("The clinic has published no consent form."));
        let boss = app.add_staff("manager", "boss@clinic.example");
        let manager = app.token(&boss, STAFF_PASSWORD);
        let form = json!({"title": "Consent", "body": "Wording."});
        assert_eq!(
            app.api("POST", "/api/v1/consent-forms", Some(&manager), Some(&form))
                .status,
            201
        );
        assert!(
            !page().contains("The clinic has published no consent form."),
            "the clinic's consent form"
        );
        let reads = app
            .audit_rows()
            .into_iter()
            .filter(|r| {
                r.action == "patient.read" && r.outcome == "success" && r.patient_id.map(|id| id.0) == Some(ana)
            })
            .count();
        assert_eq!(reads, shown_pages.get(), "one audit row per page answered");
        let get = |path: &str| {
            app.send(
                app.agent
                    .get(&format!("{}{path}", second.address))
                    .header("Cookie", &format!("clinic_session={p}")),
            )
        };
        assert_eq!(get("/patients/999999").status, 404, "no such patient");
        assert_eq!(app.api("POST", "/api/v1/auth/logout", Some(&p), None).status, 204);
        let ended = get(&format!("/patients/{ana}"));
        assert_eq!(
            (ended.status, ended.header("location")),
            (303, Some("/login")),
            "a sign-out elsewhere ends the page's session at once"
        );
    });
}
