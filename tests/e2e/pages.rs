//! The provider's and the patient's journeys through the server-rendered pages, as a browser without
//! JavaScript would make them: forms, cookies and redirects.

use clinic_e2e::{STAFF_PASSWORD, csrf_of, on_each_database};

#[test]
fn provider_records_a_session_and_the_patient_sees_their_portal() {
    on_each_database(|app| {
        let chen = app.add_staff("provider", "chen@clinic.example");
        let provider = app.browser();
        let r = app.submit_form(
            &provider,
            "/login",
            "/login",
            &[("email", &chen), ("password", STAFF_PASSWORD)],
        );
        assert_eq!(r.status, 303);
        let home = app.send(provider.get(&app.url("/")));
        assert_eq!(home.header("location"), Some("/patients"));

        let bad = app.submit_form(
            &provider,
            "/patients/new",
            "/patients",
            &[
                ("first_name", "Ana"),
                ("last_name", "Silva"),
                ("date_of_birth", "2999-01-01"),
                ("email", ""),
                ("phone", ""),
            ],
        );
        assert_eq!(bad.status, 422);
        assert!(
            bad.body.contains("date of birth") && bad.body.contains("value=\"Ana\""),
            "the form keeps what was typed"
        );
        let created = app.submit_form(
            &provider,
            "/patients/new",
            "/patients",
            &[
                ("first_name", "Ana"),
                ("last_name", "Silva"),
                ("date_of_birth", "1990-04-02"),
                ("email", "ana@mail.example"),
                ("phone", ""),
            ],
        );
        assert_eq!(created.status, 303, "{}", created.body);
        let patient_url = created.header("location").unwrap().to_owned();
        let list = app.send(provider.get(&app.url("/patients?q=silva")));
        assert!(list.body.contains("Silva, Ana"));

        let page = app.send(provider.get(&app.url(&patient_url)));
        assert!(page.body.contains("Open a new series"));
        let id = patient_url.rsplit('/').next().unwrap();
        let opened = app.submit_form(
            &provider,
            &patient_url,
            &format!("/patients/{id}/series"),
            &[
                ("condition", "acne_scars"),
                ("planned_sessions", "3"),
                ("reason", ""),
                ("review_note", ""),
            ],
        );
        assert_eq!(opened.status, 303, "{}", opened.body);
        let page = app.send(provider.get(&app.url(&patient_url)));
        assert!(
            page.body.contains("This will be session 1 of a planned 3"),
            "the form says what the session will be"
        );

        let two_days_ago = (chrono::Utc::now().date_naive() - chrono::Duration::days(2)).to_string();
        let series_id = page
            .body
            .split("action=\"/series/")
            .nth(1)
            .unwrap()
            .split('/')
            .next()
            .unwrap()
            .to_owned();
        let recorded = app.submit_form(
            &provider,
            &patient_url,
            &format!("/series/{series_id}/sessions"),
            &[
                ("performed_on", &two_days_ago),
                ("treatment_areas", "cheeks, around the eyes"),
                ("eye_area", "on"),
                ("device", "pen"),
                ("needle_depth_mm", "0.5"),
                ("product_sunscreen", "on"),
                ("notes", "Hyaluronic serum at night"),
            ],
        );
        assert_eq!(recorded.status, 201, "{}", recorded.body);
        assert!(recorded.body.contains("Session 1 recorded."));

        let slip = app.submit_form(&provider, &patient_url, &format!("/patients/{id}/invitation"), &[]);
        assert_eq!(slip.status, 201);
        let code = slip
            .body
            .split("class=\"code\">")
            .nth(1)
            .unwrap()
            .split('<')
            .next()
            .unwrap()
            .to_owned();
        assert_eq!(code.len(), 19);
        let preview = app.send(provider.get(&app.url(&format!("/patients/{id}/timeline"))));
        assert!(preview.body.contains("Preview: this is exactly what Ana Silva sees."));

        // The patient, in their own browser.
        let patient = app.browser();
        let activated = app.submit_form(
            &patient,
            &format!("/activate?code={code}"),
            "/activate",
            &[("code", &code), ("password", "ana's own passphrase")],
        );
        assert_eq!(activated.status, 303, "{}", activated.body);
        assert_eq!(app.send(patient.get(&app.url("/"))).header("location"), Some("/portal"));
        let portal = app.send(patient.get(&app.url("/portal")));
        assert_eq!(portal.status, 200);
        let today_section = portal
            .body
            .split("<section class=\"today\"")
            .nth(1)
            .unwrap()
            .split("</section>")
            .next()
            .unwrap();
        assert!(today_section.contains("(day 2): Days 2–7"), "{today_section}");
        assert!(
            today_section.contains("micro-bruising"),
            "the eye-area note is in today's stage"
        );
        assert!(today_section.contains("Hyaluronic serum at night"));
        assert!(portal.body.contains("Session 1 of a planned 3"));
        let ics = app.send(patient.get(&app.url("/portal/timeline.ics")));
        assert!(ics.header("content-type").unwrap().starts_with("text/calendar"));
        let print = app.send(patient.get(&app.url("/portal/print")));
        assert!(print.body.contains("Day of procedure") && !print.body.contains("<nav"));

        let form = app.send(patient.get(&app.url("/portal/password")));
        let token = csrf_of(&form.body);
        let changed = app.send_form_with(
            &patient,
            "/portal/password",
            &[
                ("csrf", &token),
                ("current_password", "ana's own passphrase"),
                ("new_password", "a brand new passphrase"),
            ],
            Some(&app.address),
        );
        assert!(changed.body.contains("Your password is changed"), "{}", changed.body);
        assert_eq!(
            app.login_from("ana@mail.example", "a brand new passphrase", "192.0.2.1")
                .status,
            200
        );
    });
}
