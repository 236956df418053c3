//! The provider's and the patient's journeys through the server-rendered pages, as a browser without
//! JavaScript would make them: forms, cookies and redirects.

use clinic_e2e::{STAFF_PASSWORD, csrf_of, on_each_database, once_of};

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
        let form = app.send(provider.get(&app.url(&patient_url)));
        assert!(
            form.body
                .contains("name=\"treatment_areas\" type=\"checkbox\" value=\"periorbital\"")
                && !form.body.contains("checked>")
                && form.body.contains("<option value=\"\" selected>Choose…</option>")
                && form.body.contains(
                    "name=\"needle_depth_mm\" type=\"number\" min=\"0.1\" max=\"3\" step=\"0.01\" value=\"\""
                ),
            "regions are a fixed list and nothing clinical is filled in"
        );
        let (csrf, once) = (csrf_of(&form.body), once_of(&form.body).expect("a one-time key"));
        let action = format!("/series/{series_id}/sessions");
        let fields = |depth: &'static str| {
            vec![
                ("csrf", csrf.clone()),
                ("once", once.clone()),
                ("performed_on", two_days_ago.clone()),
                ("treatment_areas", "cheeks".to_owned()),
                ("treatment_areas", "periorbital".to_owned()),
                ("device", "pen".to_owned()),
                ("needle_depth_mm", depth.to_owned()),
                ("products_applied", "sunscreen".to_owned()),
                ("notes", "Hyaluronic serum at night".to_owned()),
                ("notes_stage", "days_2_7".to_owned()),
            ]
        };
        let send = |fields: Vec<(&str, String)>| {
            let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            app.send_form_with(&provider, &action, &pairs, Some(&app.address))
        };
        // A bad depth: the form comes back with the error and everything typed.
        let refused = send(fields("9"));
        assert_eq!(refused.status, 422, "{}", refused.body);
        assert!(refused.body.contains("needle depth mm: must be"), "{}", refused.body);
        assert!(refused.body.contains("value=\"periorbital\" checked") && refused.body.contains("value=\"9\""));
        // Corrected, sent with a fresh key: recorded, and the browser is sent to the patient page.
        let fresh = once_of(&refused.body).unwrap();
        assert_ne!(fresh, once);
        let mut good = fields("0.5");
        good[1].1 = fresh;
        let recorded = send(good.clone());
        assert_eq!(recorded.status, 303, "{}", recorded.body);
        let location = recorded.header("location").unwrap().to_owned();
        assert!(location.starts_with(&format!("{patient_url}?recorded=")), "{location}");
        let after = app.send(provider.get(&app.url(&location)));
        assert!(after.body.contains("Session 1 recorded."), "{}", after.body);
        assert!(after.body.contains("Around the eyes (periorbital)") && after.body.contains("<td>Sunscreen</td>"));
        // The same form again (a reload, a second click): the same answer, nothing recorded twice.
        let again = send(good);
        assert_eq!(again.status, 303);
        assert_eq!(again.header("location"), Some(location.as_str()));
        let page = app.send(provider.get(&app.url(&patient_url)));
        assert!(page.body.contains("Record session 2"), "one session only");

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

        // The calendar and print links name the session shown.
        let session_id = location
            .split("recorded=")
            .nth(1)
            .unwrap()
            .split('#')
            .next()
            .unwrap()
            .to_owned();
        assert!(
            portal
                .body
                .contains(&format!("href=\"/portal/timeline.ics?session_id={session_id}\""))
        );
        assert!(
            portal
                .body
                .contains(&format!("href=\"/portal/print?session_id={session_id}\""))
        );

        // Day 2: dryness is what the aftercare said to expect; then something it did not.
        assert!(
            portal.body.contains("Light bruising around the eyes"),
            "offered: the eye area was treated"
        );
        let checked = app.submit_form(
            &patient,
            "/portal",
            "/portal/check-in",
            &[("session_id", &session_id), ("effects", "dryness")],
        );
        assert_eq!(checked.status, 303, "{}", checked.body);
        let shown = app.send(patient.get(&app.url(checked.header("location").unwrap())));
        assert!(shown.body.contains("your check-in is saved") && !shown.body.contains("Your clinic will review this"));
        let missing_note = app.submit_form(
            &patient,
            "/portal",
            "/portal/check-in",
            &[("session_id", &session_id), ("unexpected", "on")],
        );
        assert_eq!(missing_note.status, 422);
        assert!(
            missing_note.body.contains("say in a few words"),
            "{}",
            missing_note.body
        );
        let flagged = app.submit_form(
            &patient,
            "/portal",
            "/portal/check-in",
            &[
                ("session_id", &session_id),
                ("effects", "dryness"),
                ("unexpected", "on"),
                ("note", "a rash on my neck"),
            ],
        );
        assert_eq!(flagged.status, 303);
        let shown = app.send(patient.get(&app.url(flagged.header("location").unwrap())));
        assert!(
            shown.body.contains("<strong>Your clinic will review this.</strong>"),
            "{}",
            shown.body
        );

        // The provider's navigation counts it; the queue shows it; resolving needs a note.
        let patients = app.send(provider.get(&app.url("/patients")));
        assert!(patients.body.contains("Needs attention (1)"));
        let queue = app.send(provider.get(&app.url("/alerts")));
        assert!(queue.body.contains("a rash on my neck") && queue.body.contains("Ana Silva"));
        let alert = queue
            .body
            .split("action=\"/alerts/")
            .nth(1)
            .unwrap()
            .split('/')
            .next()
            .unwrap()
            .to_owned();
        let resolved = app.submit_form(
            &provider,
            "/alerts",
            &format!("/alerts/{alert}/resolve"),
            &[("note", "Called her; reviewed at the clinic.")],
        );
        assert_eq!(resolved.status, 303, "{}", resolved.body);
        assert!(
            app.send(provider.get(&app.url("/patients")))
                .body
                .contains("Needs attention (0)")
        );

        // A correction keeps the first version; the patient's timeline follows the new one.
        let edit = format!("/sessions/{session_id}/edit");
        let no_reason = app.submit_form(
            &provider,
            &edit,
            &edit,
            &[
                ("performed_on", &two_days_ago),
                ("treatment_areas", "cheeks"),
                ("device", "pen"),
                ("needle_depth_mm", "0.5"),
                ("notes", "Hyaluronic serum at night"),
                ("notes_stage", "days_2_7"),
                ("reason", ""),
            ],
        );
        assert_eq!(no_reason.status, 422);
        let corrected = app.submit_form(
            &provider,
            &edit,
            &edit,
            &[
                ("performed_on", &two_days_ago),
                ("treatment_areas", "cheeks"),
                ("device", "pen"),
                ("needle_depth_mm", "0.5"),
                ("notes", "Hyaluronic serum at night"),
                ("notes_stage", "days_2_7"),
                ("reason", "The eye area was not treated"),
            ],
        );
        assert_eq!(corrected.status, 303, "{}", corrected.body);
        let after = app.send(provider.get(&app.url(corrected.header("location").unwrap())));
        assert!(
            after.body.contains("Session 1 corrected (revision 2)."),
            "{}",
            after.body
        );
        let versions = app.send(provider.get(&app.url(&format!("/sessions/{session_id}/revisions"))));
        assert!(
            versions.body.contains("The eye area was not treated")
                && versions.body.contains("Around the eyes (periorbital)")
        );
        let portal = app.send(patient.get(&app.url("/portal")));
        assert!(
            !portal.body.contains("micro-bruising"),
            "the eye-area note left with the correction"
        );

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
