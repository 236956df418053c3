//! Consent (SPEC §6.7): the clinic's versioned form, the patient's signature, and the first session of a
//! series refused without one unless a reason is given.

use clinic_e2e::{STAFF_PASSWORD, on_each_database};
use serde_json::json;
use sha2::{Digest, Sha256};

#[test]
fn a_patient_signs_the_clinics_form_and_the_first_session_needs_it() {
    on_each_database(|app| {
        let boss = app.add_staff("manager", "boss@clinic.example");
        let chen = app.add_staff("provider", "chen@clinic.example");
        let manager = app.token(&boss, STAFF_PASSWORD);
        let provider = app.token(&chen, STAFF_PASSWORD);
        let ana = app.add_patient("Ana", Some("ana@mail.example"));
        let patient = app.patient_token(&provider, ana, "ana own passphrase");

        let before = app.api("GET", "/api/v1/me/consent", Some(&patient), None).json();
        assert!(before["form"].is_null() && before["signed"] == false, "{before}");

        let text = json!({"title": "Consent to treatment", "body": "Our own wording.\nSecond line."});
        assert_eq!(
            app.api("POST", "/api/v1/consent-forms", Some(&provider), Some(&text))
                .status,
            403
        );
        let empty = json!({"title": " ", "body": "x"});
        let r = app.api("POST", "/api/v1/consent-forms", Some(&manager), Some(&empty));
        assert_eq!((r.status, r.json()["field"].as_str()), (422, Some("title")));
        let published = app.api("POST", "/api/v1/consent-forms", Some(&manager), Some(&text));
        assert_eq!(published.status, 201, "{}", published.body);
        let version = published.json()["version"].as_i64().unwrap();
        assert_eq!(published.json()["body"], "Our own wording.\nSecond line.");
        let listed = app.api("GET", "/api/v1/consent-forms", Some(&provider), None).json();
        assert_eq!(listed[0]["version"], version);

        let open = |patient: i64| {
            let r = app.api(
                "POST",
                &format!("/api/v1/patients/{patient}/series"),
                Some(&provider),
                Some(&json!({"condition": "acne_scars"})),
            );
            assert_eq!(r.status, 201, "{}", r.body);
            r.json()["id"].as_i64().unwrap()
        };
        let record = |series: i64, body: serde_json::Value| {
            app.api(
                "POST",
                &format!("/api/v1/series/{series}/sessions"),
                Some(&provider),
                Some(&body),
            )
        };

        // Without a signature the first session is refused, unless a reason is given (audited).
        let bruno = app.add_patient("Bruno", Some("bruno@mail.example"));
        let overridden = open(bruno);
        let refused = record(overridden, crate::clinical::session(false, false));
        assert_eq!(
            (refused.status, refused.json()["error"].as_str()),
            (422, Some("consent_required"))
        );
        let mut with_reason = crate::clinical::session(false, false);
        with_reason["consent_override_reason"] = json!("signed on paper, scanned into the file");
        assert_eq!(record(overridden, with_reason).status, 201);
        assert_eq!(
            record(overridden, crate::clinical::session(false, false)).status,
            201,
            "only the first session asks"
        );

        // The patient reads and signs the form for the open series.
        let series = open(ana);
        let mine = app.api("GET", "/api/v1/me/consent", Some(&patient), None).json();
        assert_eq!(
            (mine["form"]["version"].as_i64(), mine["series_id"].as_i64()),
            (Some(version), Some(series))
        );
        assert_eq!(mine["signed"], false);
        let sign = |body: serde_json::Value| app.api("POST", "/api/v1/me/consent", Some(&patient), Some(&body));
        let base = json!({"series_id": series, "form_version": version, "typed_name": "Ana Patient", "agree": true});
        let mut not_agreed = base.clone();
        not_agreed["agree"] = json!(false);
        assert_eq!(sign(not_agreed).json()["field"], "agree");
        let mut old = base.clone();
        old["form_version"] = json!(version + 100);
        assert_eq!(sign(old).json()["error"], "consent_form_outdated");
        let mut not_hers = base.clone();
        not_hers["series_id"] = json!(overridden);
        assert_eq!(sign(not_hers).status, 404, "another patient's series");
        let signed = sign(base.clone());
        assert_eq!(signed.status, 201, "{}", signed.body);
        let expected: String = Sha256::digest("Consent to treatment\n\nOur own wording.\nSecond line.".as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(signed.json()["text_sha256"], expected.as_str());
        assert_eq!(signed.json()["form_version"], version);
        assert!(signed.json()["signed_at"].as_str().unwrap().ends_with('Z'));
        assert_eq!(sign(base).json()["error"], "consent_already_signed");
        assert_eq!(
            app.api("GET", "/api/v1/me/consent", Some(&patient), None).json()["signed"],
            true
        );
        assert_eq!(record(series, crate::clinical::session(false, false)).status, 201);

        // The provider's page shows it; the audit log has the signature and the override.
        let browser = app.browser();
        app.submit_form(
            &browser,
            "/login",
            "/login",
            &[("email", &chen), ("password", STAFF_PASSWORD)],
        );
        let page = app.send(browser.get(&app.url(&format!("/patients/{ana}"))));
        assert!(
            page.body.contains(&format!("consent version {version} signed")),
            "{}",
            page.body
        );
        let rows = app.audit_rows();
        let override_row = rows.iter().find(|r| r.action == "consent.override").unwrap();
        assert_eq!(
            override_row.detail.as_deref(),
            Some("signed on paper, scanned into the file")
        );
        assert!(
            rows.iter()
                .any(|r| r.action == "consent.sign" && r.patient_id.map(|p| p.0) == Some(ana))
        );
        assert!(rows.iter().any(|r| r.action == "consent_form.publish"));
    });
}

#[test]
fn the_patient_signs_in_the_portal_on_a_form_page() {
    on_each_database(|app| {
        let boss = app.add_staff("manager", "boss@clinic.example");
        let chen = app.add_staff("provider", "chen@clinic.example");
        let manager = app.token(&boss, STAFF_PASSWORD);
        let provider = app.token(&chen, STAFF_PASSWORD);
        let text = json!({"title": "Consent", "body": "Wording."});
        assert_eq!(
            app.api("POST", "/api/v1/consent-forms", Some(&manager), Some(&text))
                .status,
            201
        );
        let ana = app.add_patient("Ana", Some("ana@mail.example"));
        app.patient_token(&provider, ana, "ana own passphrase");
        app.api(
            "POST",
            &format!("/api/v1/patients/{ana}/series"),
            Some(&provider),
            Some(&json!({"condition": "acne_scars"})),
        );
        let browser = app.browser();
        app.submit_form(
            &browser,
            "/login",
            "/login",
            &[("email", "ana@mail.example"), ("password", "ana own passphrase")],
        );
        let page = app.send(browser.get(&app.url("/portal/consent")));
        assert!(
            page.body.contains("Wording.") && page.body.contains("name=\"typed_name\""),
            "{}",
            page.body
        );
        let series = page
            .body
            .split("name=\"series_id\" value=\"")
            .nth(1)
            .and_then(|r| r.split('"').next())
            .unwrap()
            .to_owned();
        let missing = app.submit_form(
            &browser,
            "/portal/consent",
            "/portal/consent",
            &[
                ("series_id", &series),
                ("form_version", "1"),
                ("typed_name", "Ana Patient"),
            ],
        );
        assert_eq!(missing.status, 422, "not agreed: {}", missing.body);
        let done = app.submit_form(
            &browser,
            "/portal/consent",
            "/portal/consent",
            &[
                ("series_id", &series),
                ("form_version", "1"),
                ("typed_name", "Ana Patient"),
                ("agree", "on"),
            ],
        );
        assert_eq!(done.status, 303, "{}", done.body);
        let after = app.send(browser.get(&app.url("/portal/consent")));
        assert!(after.body.contains("You signed version 1"), "{}", after.body);
    });
}
