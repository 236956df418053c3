//! The manager's side: the series report (JSON, CSV, page with chart), the audit log, staff pages.

use clinic_e2e::{STAFF_PASSWORD, csrf_of, on_each_database};
use serde_json::json;

#[test]
fn the_report_counts_courses_and_the_csv_defuses_formulas() {
    on_each_database(|app| {
        let boss = app.add_staff("manager", "boss@clinic.example");
        // A provider whose name a spreadsheet would take for a formula.
        let mut conn = app.db.conn();
        let now = chrono::Utc::now().naive_utc();
        clinic_server::users::add_staff(
            &mut conn,
            "provider",
            "eve@clinic.example",
            "=HYPERLINK(\"x\")",
            STAFF_PASSWORD,
            now,
        )
        .unwrap();
        drop(conn);
        let provider = app.token("eve@clinic.example", STAFF_PASSWORD);
        let manager = app.token(&boss, STAFF_PASSWORD);
        let mut series_ids = Vec::new();
        for (i, sessions) in [5usize, 4, 2, 0].into_iter().enumerate() {
            let p = app.add_patient(&format!("P{i}"), None);
            let s = app.api(
                "POST",
                &format!("/api/v1/patients/{p}/series"),
                Some(&provider),
                Some(&json!({"condition": "other", "planned_sessions": 5, "reason": "r"})),
            );
            let id = s.json()["id"].as_i64().unwrap();
            for _ in 0..sessions {
                let r = app.api(
                    "POST",
                    &format!("/api/v1/series/{id}/sessions"),
                    Some(&provider),
                    Some(&crate::clinical::session(false, true)),
                );
                assert_eq!(r.status, 201, "{}", r.body);
            }
            series_ids.push(id);
        }
        let sixth = app.api(
            "POST",
            &format!("/api/v1/series/{}/sessions", series_ids[0]),
            Some(&provider),
            Some(&crate::clinical::session(false, true)),
        );
        assert_eq!(sixth.status, 409);

        let today = chrono::Utc::now().date_naive();
        let r = app
            .api(
                "GET",
                &format!("/api/v1/reports/series?from={today}&to={today}"),
                Some(&manager),
                None,
            )
            .json();
        assert_eq!(r["series_opened"], 4);
        assert_eq!(r["series_started"], 3);
        assert_eq!(
            r["by_sessions_recorded"],
            json!({"0": 1, "1": 0, "2": 1, "3": 0, "4": 1, "5": 1})
        );
        assert_eq!(r["within_typical"], json!({"count": 1, "share": 0.333}));
        assert_eq!(r["beyond_typical"], json!({"count": 2, "share": 0.667}));
        assert_eq!(r["at_maximum"]["count"], 1);
        assert_eq!(r["refused_attempts"], 1);
        let eve = &r["providers"][0];
        assert_eq!(
            (
                eve["sessions"].as_i64(),
                eve["patients"].as_i64(),
                eve["refusals"].as_i64()
            ),
            (Some(11), Some(3), Some(1))
        );
        assert_eq!(eve["beyond_typical_share"], 0.273, "3 of 11 sessions are 4th or 5th");
        let tomorrow = today.succ_opt().unwrap();
        let later = app
            .api(
                "GET",
                &format!("/api/v1/reports/series?from={tomorrow}"),
                Some(&manager),
                None,
            )
            .json();
        assert_eq!(
            (later["series_opened"].as_i64(), later["refused_attempts"].as_i64()),
            (Some(0), Some(0))
        );
        let bad = app.api(
            "GET",
            &format!("/api/v1/reports/series?from={tomorrow}&to={today}"),
            Some(&manager),
            None,
        );
        assert_eq!((bad.status, bad.json()["field"].as_str()), (422, Some("to")));

        let csv = app.api("GET", "/api/v1/reports/series.csv", Some(&manager), None);
        assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
        assert!(csv.body.starts_with("\"section\",\"item\",\"value\"\n"), "{}", csv.body);
        assert!(csv.body.contains("\"series by sessions recorded\",\"5\",\"1\"\n"));
        assert!(csv.body.contains("\"series\",\"refused 6th attempts\",\"1\"\n"));
        assert!(
            csv.body
                .contains("\"provider sessions\",\"'=HYPERLINK(\"\"x\"\")\",\"11\""),
            "{}",
            csv.body
        );
        assert!(!csv.body.contains(",=HYPERLINK"));

        // The page: a chart drawn on the server, with a text alternative, and the same figures.
        let browser = app.browser();
        let login = app.submit_form(
            &browser,
            "/login",
            "/login",
            &[("email", &boss), ("password", STAFF_PASSWORD)],
        );
        assert_eq!(login.status, 303);
        let page = app.send(browser.get(&app.url("/reports/series")));
        assert_eq!(page.status, 200);
        assert!(page.body.contains("<svg role=\"img\"") && page.body.contains("<title id=\"chart-title\">"));
        assert!(
            page.body.contains("1 series with 5"),
            "text alternative lists the figures"
        );
        assert_eq!(page.body.matches("<rect ").count(), 5);
        let csv_page = app.send(browser.get(&app.url("/reports/series.csv")));
        assert_eq!(csv_page.body, csv.body);
    });
}

#[test]
fn the_audit_log_filters_and_pages() {
    on_each_database(|app| {
        let boss = app.add_staff("manager", "boss@clinic.example");
        let chen = app.add_staff("provider", "chen@clinic.example");
        let manager = app.token(&boss, STAFF_PASSWORD);
        let provider = app.token(&chen, STAFF_PASSWORD);
        let ana = app.add_patient("Ana", Some("ana@mail.example"));
        for _ in 0..60 {
            app.api("GET", &format!("/api/v1/patients/{ana}"), Some(&provider), None);
        }
        std::thread::sleep(std::time::Duration::from_millis(400));
        let mine = app
            .api(
                "GET",
                &format!("/api/v1/audit?patient_id={ana}&limit=1000"),
                Some(&manager),
                None,
            )
            .json();
        assert_eq!(mine.as_array().unwrap().len(), 60);
        assert!(
            mine.as_array()
                .unwrap()
                .iter()
                .all(|e| e["patient_id"] == ana && e["action"] == "patient.read")
        );
        let first = app
            .api(
                "GET",
                "/api/v1/audit?action=patient.read&limit=50",
                Some(&manager),
                None,
            )
            .json();
        let last_id = first[49]["id"].as_i64().unwrap();
        let rest = app
            .api(
                "GET",
                &format!("/api/v1/audit?action=patient.read&before={last_id}"),
                Some(&manager),
                None,
            )
            .json();
        assert_eq!(
            rest.as_array().unwrap().len(),
            10,
            "first: {} … {}; rest: {}",
            first[0]["id"],
            first[49]["id"],
            rest
        );
        let me = app.api("GET", "/api/v1/me", Some(&provider), None).json()["id"]
            .as_i64()
            .unwrap();
        let by_actor = app
            .api(
                "GET",
                &format!("/api/v1/audit?actor_id={me}&action=patient.read"),
                Some(&manager),
                None,
            )
            .json();
        assert_eq!(by_actor.as_array().unwrap().len(), 60);
        let tomorrow = chrono::Utc::now().date_naive().succ_opt().unwrap();
        let none = app
            .api("GET", &format!("/api/v1/audit?from={tomorrow}"), Some(&manager), None)
            .json();
        assert_eq!(none, json!([]));

        let browser = app.browser();
        app.submit_form(
            &browser,
            "/login",
            "/login",
            &[("email", &boss), ("password", STAFF_PASSWORD)],
        );
        let page = app.send(browser.get(&app.url("/audit?action=patient.read")));
        assert_eq!(page.body.matches("<td>patient.read</td>").count(), 50);
        let before_link = page.body.split(">Older events</a>").next().unwrap();
        let href = before_link.rsplit("<a href=\"").next().unwrap().trim_end_matches('"');
        let next = href.replace("&#x2f;", "/").replace("&#38;", "&").replace("&amp;", "&");
        let next = next.trim_start_matches("/audit?").to_owned();
        assert!(
            next.contains("action=patient.read") && next.contains("before="),
            "{next}"
        );
        let older = app.send(browser.get(&app.url(&format!("/audit?{next}"))));
        assert_eq!(older.body.matches("<td>patient.read</td>").count(), 10);
    });
}

#[test]
fn managers_add_disable_and_enable_staff_on_the_staff_page() {
    on_each_database(|app| {
        let boss = app.add_staff("manager", "boss@clinic.example");
        let browser = app.browser();
        app.submit_form(
            &browser,
            "/login",
            "/login",
            &[("email", &boss), ("password", STAFF_PASSWORD)],
        );
        let added = app.submit_form(
            &browser,
            "/staff",
            "/staff",
            &[
                ("display_name", "Dr. Chen"),
                ("email", "chen@clinic.example"),
                ("role", "provider"),
            ],
        );
        assert_eq!(added.status, 201, "{}", added.body);
        assert!(
            !added.body.contains("name=\"password\""),
            "no password is chosen for them"
        );
        // The invitation's code is shown once; the person activates their account with it.
        let code = added
            .body
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
            .find(|w| w.len() == 19 && w.matches('-').count() == 3)
            .expect("the invitation code on the page")
            .to_owned();
        let activated = app.api(
            "POST",
            "/api/v1/auth/activate",
            None,
            Some(&json!({"code": code, "password": "a long passphrase"})),
        );
        assert_eq!(activated.status, 200, "{}", activated.body);
        let again = app.submit_form(
            &browser,
            "/staff",
            "/staff",
            &[
                ("display_name", "X"),
                ("email", "chen@clinic.example"),
                ("role", "provider"),
            ],
        );
        assert_eq!(again.status, 409);
        let provider = app.token("chen@clinic.example", "a long passphrase");
        let page = app.send(browser.get(&app.url("/staff")));
        let token = csrf_of(&page.body);
        let chen_id = app.api("GET", "/api/v1/me", Some(&provider), None).json()["id"]
            .as_i64()
            .unwrap();
        let r = app.send_form_with(
            &browser,
            &format!("/staff/{chen_id}/disable"),
            &[("csrf", &token)],
            None,
        );
        assert_eq!(r.status, 303);
        assert_eq!(app.api("GET", "/api/v1/me", Some(&provider), None).status, 401);
        let r = app.send_form_with(&browser, &format!("/staff/{chen_id}/enable"), &[("csrf", &token)], None);
        assert_eq!(r.status, 303);
        assert_eq!(
            app.login_from("chen@clinic.example", "a long passphrase", "192.0.2.1")
                .status,
            200
        );
        let boss_id = app
            .api("GET", "/api/v1/me", Some(&app.token(&boss, STAFF_PASSWORD)), None)
            .json()["id"]
            .as_i64()
            .unwrap();
        let last = app.send_form_with(
            &browser,
            &format!("/staff/{boss_id}/disable"),
            &[("csrf", &token)],
            None,
        );
        assert_eq!(last.status, 409);
        assert!(last.body.contains("last active manager"));
    });
}

/// Two managers disabling each other at the same moment: one of them stays active, every time.
#[test]
fn two_managers_disabling_each_other_at_once_leave_one_active() {
    on_each_database(|app| {
        let emails = [
            app.add_staff("manager", "one@clinic.example"),
            app.add_staff("manager", "two@clinic.example"),
        ];
        let ids: Vec<i64> = emails
            .iter()
            .map(|e| {
                clinic_db::users::find_by_email(&mut app.db.conn(), e)
                    .unwrap()
                    .unwrap()
                    .id
                    .0
            })
            .collect();
        for round in 0..8 {
            for id in &ids {
                clinic_db::users::set_disabled(&mut app.db.conn(), clinic_domain::UserId(*id), None).unwrap();
            }
            let tokens: Vec<String> = emails.iter().map(|e| app.session_token(e)).collect();
            let barrier = std::sync::Barrier::new(2);
            let statuses: Vec<u16> = std::thread::scope(|s| {
                let handles: Vec<_> = [(0, 1), (1, 0)]
                    .into_iter()
                    .map(|(me, other)| {
                        let (tokens, ids, barrier) = (&tokens, &ids, &barrier);
                        s.spawn(move || {
                            barrier.wait();
                            let path = format!("/api/v1/staff/{}/disable", ids[other]);
                            app.api("POST", &path, Some(&tokens[me]), None).status
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap()).collect()
            });
            let active = clinic_db::users::count_active_managers(&mut app.db.conn()).unwrap();
            assert_eq!(active, 1, "round {round}: {statuses:?}");
            assert_eq!(
                statuses.iter().filter(|s| **s == 204).count(),
                1,
                "round {round}: {statuses:?}"
            );
        }
    });
}
