//! The authorization matrix: every route the server declares × every kind of caller, with the
//! expected status. A route missing from the table fails the test.

use clinic_e2e::{Reply, STAFF_PASSWORD, TestApp, on_each_database};
use serde_json::json;
use std::collections::BTreeSet;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Who {
    Anonymous,
    PatientA,
    PatientB,
    Provider,
    Manager,
    Disabled,
    /// A manager whose session may only enrol a second factor (not in `EVERYONE`: its own test).
    Enrolling,
}

const EVERYONE: [Who; 6] = [
    Who::Anonymous,
    Who::PatientA,
    Who::PatientB,
    Who::Provider,
    Who::Manager,
    Who::Disabled,
];

struct Clinic {
    patient_a: i64,
    series_a: i64,
    /// Patient A's first session (corrected in the table).
    session_a: i64,
    /// Another patient's only session (voided in the table).
    session_to_void: i64,
    /// Patient A's flagged check-in's alert (resolved in the table).
    alert: i64,
    spare_provider: i64,
    /// A patient with a portal login that the table suspends and restores.
    portal_patient: i64,
    /// A photo of patient A's first session, and another that the table withdraws.
    photo: i64,
    photo_to_withdraw: i64,
    disabled_token: String,
    manager_email: String,
    provider_email: String,
}

fn setup(app: &TestApp) -> Clinic {
    let manager_email = app.add_staff("manager", "boss@clinic.example");
    let provider_email = app.add_staff("provider", "chen@clinic.example");
    app.add_staff("provider", "spare@clinic.example");
    let leaving = app.add_staff("provider", "leaving@clinic.example");
    let provider = app.token(&provider_email, STAFF_PASSWORD);
    let manager = app.token(&manager_email, STAFF_PASSWORD);
    let patient_a = app.add_patient("Ana", Some("ana@mail.example"));
    let patient_b = app.add_patient("Bruno", Some("bruno@mail.example"));
    app.patient_token(&provider, patient_a, "patient a passphrase");
    app.patient_token(&provider, patient_b, "patient b passphrase");
    let portal_patient = app.add_patient("Dora", Some("dora@mail.example"));
    app.patient_token(&provider, portal_patient, "patient d passphrase");
    let series = app.api(
        "POST",
        &format!("/api/v1/patients/{patient_a}/series"),
        Some(&provider),
        Some(&json!({"condition": "acne_scars"})),
    );
    assert_eq!(series.status, 201, "{}", series.body);
    let series_a = series.json()["id"].as_i64().unwrap();
    let first = app.api(
        "POST",
        &format!("/api/v1/series/{series_a}/sessions"),
        Some(&provider),
        Some(&session_body()),
    );
    assert_eq!(first.status, 201, "{}", first.body);
    let session_a = first.json()["session"]["id"].as_i64().unwrap();
    let patient_c = app.add_patient("Carla", None);
    let series_c = app.api(
        "POST",
        &format!("/api/v1/patients/{patient_c}/series"),
        Some(&provider),
        Some(&json!({"condition": "acne_scars"})),
    );
    let series_c = series_c.json()["id"].as_i64().unwrap();
    let only = app.api(
        "POST",
        &format!("/api/v1/series/{series_c}/sessions"),
        Some(&provider),
        Some(&session_body()),
    );
    let session_to_void = only.json()["session"]["id"].as_i64().unwrap();
    let photo_of = |kind: &str| {
        let r = app.upload_photo(&provider, session_a, kind, &clinic_e2e::small_jpeg(8, 8));
        assert_eq!(r.status, 201, "{}", r.body);
        r.json()["id"].as_i64().unwrap()
    };
    let (photo, photo_to_withdraw) = (photo_of("before"), photo_of("after"));
    let a = app.session_token("ana@mail.example");
    let flagged = json!({"effects": [], "unexpected": true, "note": "a rash"});
    let checked = app.api("POST", "/api/v1/me/check-ins", Some(&a), Some(&flagged));
    assert_eq!(checked.status, 201, "{}", checked.body);
    let alerts = app.api("GET", "/api/v1/alerts", Some(&provider), None).json();
    let alert = alerts[0]["id"].as_i64().unwrap();
    let disabled_token = app.token(&leaving, STAFF_PASSWORD);
    let staff = app.api("GET", "/api/v1/staff", Some(&manager), None).json();
    let id_of = |email: &str| {
        staff.as_array().unwrap().iter().find(|s| s["email"] == email).unwrap()["id"]
            .as_i64()
            .unwrap()
    };
    assert_eq!(
        app.api(
            "POST",
            &format!("/api/v1/staff/{}/disable", id_of(&leaving)),
            Some(&manager),
            None
        )
        .status,
        204
    );
    Clinic {
        patient_a,
        series_a,
        session_a,
        session_to_void,
        alert,
        spare_provider: id_of("spare@clinic.example"),
        portal_patient,
        photo,
        photo_to_withdraw,
        disabled_token,
        manager_email,
        provider_email,
    }
}

/// A fresh token for each request, so that logout and the like do not disturb the next row; made
/// directly in the database, so no cell pays for a password hash.
fn token(app: &TestApp, c: &Clinic, who: Who) -> Option<String> {
    match who {
        Who::Anonymous => None,
        Who::PatientA => Some(app.session_token("ana@mail.example")),
        Who::PatientB => Some(app.session_token("bruno@mail.example")),
        Who::Provider => Some(app.session_token(&c.provider_email)),
        Who::Manager => Some(app.session_token(&c.manager_email)),
        Who::Disabled => Some(c.disabled_token.clone()),
        Who::Enrolling => Some(app.enrolment_token(&c.manager_email)),
    }
}

/// Calls one route as `who`: API routes with a bearer token, pages with the session cookie.
fn call(app: &TestApp, c: &Clinic, who: Who, method: &str, path: &str, n: usize) -> Reply {
    let t = token(app, c, who);
    let id = if path.starts_with("/api/v1/staff/") {
        c.spare_provider
    } else if path.starts_with("/api/v1/series/") {
        c.series_a
    } else if path.ends_with("/void") {
        c.session_to_void
    } else if path.starts_with("/api/v1/sessions/") || path.starts_with("/sessions/") {
        c.session_a
    } else if path.contains("/alerts/") {
        c.alert
    } else if path.contains("/{id}/portal/") {
        c.portal_patient
    } else if path.ends_with("/withdraw") {
        c.photo_to_withdraw
    } else if path.contains("/photos/") {
        c.photo
    } else {
        c.patient_a
    };
    let id = if path.starts_with("/api/v1/messages/") || path.starts_with("/messages/") {
        // No message has this id: the role check comes first, then "not found".
        999_999
    } else {
        id
    };
    let path = path
        .replace("{id}", &id.to_string())
        .replace("{token}", "1-AAAAAAAAAAAAAAAAAAAAAA");
    if method == "POST" && path.starts_with("/api/v1/sessions/") && path.ends_with("/photos") {
        let Some(t) = t.as_deref() else {
            return app.api("POST", &path, None, None);
        };
        return app.upload_photo(t, c.session_a, "after", &clinic_e2e::small_jpeg(8, 8));
    }
    if path.starts_with("/api/") {
        let body = match (method, path.as_str()) {
            ("POST", "/api/v1/auth/login") => {
                Some(json!({"email": "nobody@clinic.example", "password": "wrong password"}))
            }
            ("POST", "/api/v1/auth/activate") => {
                Some(json!({"code": "AAAA-BBBB-CCCC-DDDD", "password": "a long passphrase"}))
            }
            ("PUT", "/api/v1/auth/password") => {
                Some(json!({"current_password": "wrong password", "new_password": "a long passphrase"}))
            }
            ("POST", "/api/v1/patients") => Some(patient_body(n)),
            // A correction that keeps patient A's e-mail (their sign-in name).
            ("PUT", p) if p.starts_with("/api/v1/patients/") => Some(json!({
                "first_name": "Ana", "last_name": "Patient", "date_of_birth": "1990-01-02", "email": "ana@mail.example"
            })),
            ("POST", p) if p.ends_with("/series") => Some(json!({"condition": "acne_scars"})),
            ("POST", p) if p.ends_with("/sessions") => Some(session_body()),
            ("PATCH", _) => Some(json!({"reason": "depth mistyped", "needle_depth_mm": 1.5})),
            ("POST", p) if p.ends_with("/void") => Some(json!({"reason": "a duplicate"})),
            ("POST", "/api/v1/me/check-ins") => Some(json!({"effects": [], "unexpected": false})),
            ("POST", p) if p.ends_with("/resolve") => Some(json!({"note": "called the patient"})),
            ("POST", "/api/v1/auth/password-reset") => Some(json!({"email": "nobody@clinic.example"})),
            ("POST", "/api/v1/auth/mfa") => Some(json!({"mfa_token": "not a challenge", "code": "000000"})),
            ("POST", "/api/v1/consent-forms") => Some(json!({"title": "Consent", "body": "The clinic's wording."})),
            ("POST", p) if p.ends_with("/withdraw") => Some(json!({"reason": "taken of the wrong patient"})),
            // Patient A signs for their open series the version the manager's cell published.
            ("POST", "/api/v1/me/consent") => Some(json!({
                "series_id": c.series_a, "form_version": 1, "typed_name": "Ana Patient", "agree": true
            })),
            ("POST", "/api/v1/me/mfa/totp/confirm") => Some(json!({"code": "000000"})),
            ("DELETE", "/api/v1/me/mfa") => Some(json!({"password": "wrong password", "code": "000000"})),
            ("POST", "/api/v1/auth/password-reset/confirm") => {
                Some(json!({"token": "not a token", "new_password": "a long passphrase"}))
            }
            ("PUT", "/api/v1/clinic") => Some(json!({"name": "Riverside Skin Clinic", "time_zone": "UTC"})),
            ("POST", "/api/v1/staff") => Some(json!({
                "email": format!("new{n}-{who:?}@clinic.example").to_lowercase(),
                "display_name": "New", "role": "provider"
            })),
            _ => None,
        };
        // The harness sends a DELETE's body only when told to.
        let method = if method == "DELETE" { "DELETE_JSON" } else { method };
        return app.api(method, &path, t.as_deref(), body.as_ref());
    }
    let agent = app.browser();
    let with_cookie = |r: ureq::RequestBuilder<ureq::typestate::WithoutBody>| match &t {
        Some(t) => r.header("Cookie", &format!("clinic_session={t}")),
        None => r,
    };
    match method {
        "GET" => app.send(with_cookie(agent.get(&app.url(&path)))),
        "POST" => {
            let r = agent.post(&app.url(&path));
            let r = match &t {
                Some(t) => r.header("Cookie", &format!("clinic_session={t}")),
                None => r,
            };
            app.send_raw(
                r.header("Content-Type", "application/x-www-form-urlencoded"),
                "csrf=forged&code=x&email=x&password=x&display_name=x&first_name=x&last_name=x&date_of_birth=x&phone=x&condition=x&planned_sessions=3&reason=&review_note=&performed_on=x&treatment_areas=x&effects=x&unexpected=on&note=x&void_reason=x&once=x&device=x&needle_depth_mm=1&notes=&current_password=x&new_password=x&role=provider&token=x&mfa_token=x&series_id=1&form_version=1&typed_name=x&title=x&body=x",
            )
        }
        other => panic!("{other}"),
    }
}

fn patient_body(n: usize) -> serde_json::Value {
    json!({"first_name": format!("New{n}"), "last_name": "Patient", "date_of_birth": "1985-06-01", "email": null, "phone": null})
}

fn session_body() -> serde_json::Value {
    json!({
        "performed_on": chrono::Utc::now().date_naive().to_string(),
        "treatment_areas": ["cheeks"],
        "eye_area": false,
        "device": "pen",
        "needle_depth_mm": 1.0,
        "products_applied": ["sunscreen"]
    })
}

/// Expected status per caller, in the order of `EVERYONE`.
fn expected(method: &str, path: &str) -> Option<[u16; 6]> {
    let all = |s: u16| [s; 6];
    //                         anon  A    B    prov mgr  disabled
    let signed_in = |s: u16| [401, s, s, s, s, 401];
    let page_signed_in = |s: u16| [303, s, s, s, s, 303];
    Some(match (method, path) {
        (
            "GET",
            "/health"
            | "/ready"
            | "/static/app.css"
            | "/static/icon.svg"
            | "/login"
            | "/activate"
            | "/setup"
            | "/forgot"
            | "/reset"
            | "/api/v1/clinic"
            | "/api/v1/openapi.json",
        ) => all(200),
        ("POST", "/login" | "/activate" | "/setup" | "/forgot" | "/reset") => all(403),
        // A forged unsubscribe link: nobody's.
        ("GET" | "POST", "/unsubscribe/{token}") => all(404),
        ("POST", "/api/v1/auth/password-reset") => all(202),
        ("POST", "/api/v1/auth/password-reset/confirm") => all(422),
        ("PUT", "/api/v1/clinic") => [401, 403, 403, 403, 200, 401],
        ("GET", "/clinic") => [303, 403, 403, 403, 200, 303],
        ("POST", "/clinic") => [303, 403, 403, 403, 403, 303],
        ("GET", "/portal/reminders") => [303, 200, 200, 403, 403, 303],
        ("POST", "/portal/reminders") => [303, 403, 403, 403, 403, 303],
        ("POST", "/messages/{id}/retry") => [303, 403, 403, 403, 403, 303],
        ("GET", "/api/v1/patients/{id}/messages") => [401, 403, 403, 200, 200, 401],
        ("POST", "/api/v1/messages/{id}/retry") => [401, 403, 403, 404, 403, 401],
        ("GET", "/logout" | "/portal/password") => page_signed_in(200),
        // Providers and patients are sent on to their own start pages.
        ("GET", "/") => [303, 303, 303, 303, 200, 303],
        ("POST", "/logout" | "/portal/password") => page_signed_in(403),
        ("GET", "/patients" | "/patients/{id}" | "/patients/{id}/timeline") => [303, 403, 403, 200, 200, 303],
        ("GET", "/patients/new" | "/patients/{id}/edit") => [303, 403, 403, 200, 403, 303],
        // Forged form tokens: refused for the role, or for the token.
        ("POST", "/patients" | "/patients/{id}/edit" | "/patients/{id}/series" | "/patients/{id}/invitation")
        | ("POST", "/series/{id}/sessions" | "/series/{id}/complete") => [303, 403, 403, 403, 403, 303],
        // Patient B has no session yet: the portal says so, the calendar file is not there.
        ("GET", "/portal" | "/portal/print") => [303, 200, 200, 403, 403, 303],
        ("GET", "/portal/timeline.ics") => [303, 200, 404, 403, 403, 303],
        ("POST", "/api/v1/auth/login" | "/api/v1/auth/mfa") => all(401),
        ("POST", "/api/v1/consent-forms") => [401, 403, 403, 403, 201, 401],
        ("POST", "/api/v1/sessions/{id}/photos") => [401, 403, 403, 201, 403, 401],
        // The clinic does not let patients see photos (the default).
        ("GET", "/api/v1/photos/{id}" | "/api/v1/photos/{id}/thumbnail" | "/api/v1/patients/{id}/photos") => {
            [401, 404, 404, 200, 200, 401]
        }
        ("POST", "/api/v1/photos/{id}/withdraw") => [401, 403, 403, 200, 403, 401],
        ("GET", "/photos/{id}" | "/photos/{id}/thumbnail") => [303, 404, 404, 200, 200, 303],
        // Not multipart: the provider is told how to send it; the rest are refused by role.
        ("POST", "/patients/{id}/photos") => [303, 403, 403, 422, 403, 303],
        ("GET", "/api/v1/consent-forms") => [401, 403, 403, 200, 200, 401],
        ("GET", "/api/v1/me/consent") => [401, 200, 200, 403, 403, 401],
        // Patient B names patient A's series: not theirs.
        ("POST", "/api/v1/me/consent") => [401, 201, 404, 403, 403, 401],
        ("GET", "/portal/consent") => [303, 200, 200, 403, 403, 303],
        ("GET", "/consent-forms") => [303, 403, 403, 403, 200, 303],
        ("POST", "/portal/consent" | "/consent-forms") => [303, 403, 403, 403, 403, 303],
        // Each caller starts a second factor, then confirms it with a wrong code; none has one to remove.
        ("POST", "/api/v1/me/mfa/totp") => signed_in(200),
        ("POST", "/api/v1/me/mfa/totp/confirm") => signed_in(422),
        ("DELETE", "/api/v1/me/mfa") => signed_in(404),
        ("GET", "/mfa") => page_signed_in(200),
        ("POST", "/login/mfa") => all(403),
        ("POST", "/mfa/start" | "/mfa/confirm" | "/mfa/remove") => page_signed_in(403),
        ("POST", "/api/v1/auth/activate") => all(422),
        ("POST", "/api/v1/auth/logout") => signed_in(204),
        ("PUT", "/api/v1/auth/password") => signed_in(422),
        ("GET", "/api/v1/me") => signed_in(200),
        ("GET", "/api/v1/staff") => [401, 403, 403, 403, 200, 401],
        ("POST", "/api/v1/staff") => [401, 403, 403, 403, 201, 401],
        ("POST", "/api/v1/staff/{id}/disable" | "/api/v1/staff/{id}/enable") => [401, 403, 403, 403, 204, 401],
        ("POST", "/api/v1/patients/{id}/invitation") => [401, 403, 403, 201, 403, 401],
        ("POST", "/api/v1/patients/{id}/portal/disable" | "/api/v1/patients/{id}/portal/enable") => {
            [401, 403, 403, 204, 204, 401]
        }
        ("POST", "/patients/{id}/portal/disable" | "/patients/{id}/portal/enable") => [303, 403, 403, 403, 403, 303],
        ("POST", "/api/v1/patients") => [401, 403, 403, 201, 403, 401],
        ("GET", "/api/v1/reports/series" | "/api/v1/reports/series.csv" | "/api/v1/audit") => {
            [401, 403, 403, 403, 200, 401]
        }
        ("GET", "/staff" | "/reports/series" | "/reports/series.csv" | "/audit") => [303, 403, 403, 403, 200, 303],
        ("POST", "/staff" | "/staff/{id}/disable" | "/staff/{id}/enable") => [303, 403, 403, 403, 403, 303],
        ("GET", "/api/v1/patients" | "/api/v1/patients/{id}") => [401, 403, 403, 200, 200, 401],
        ("PUT", "/api/v1/patients/{id}") => [401, 403, 403, 200, 403, 401],
        // Patient A already has an open series: the provider passes the role check and meets the rule.
        ("POST", "/api/v1/patients/{id}/series") => [401, 403, 403, 409, 403, 401],
        ("GET", "/api/v1/patients/{id}/series" | "/api/v1/series/{id}") => [401, 200, 404, 200, 200, 401],
        ("POST", "/api/v1/series/{id}/sessions") => [401, 403, 403, 201, 403, 401],
        ("POST", "/api/v1/series/{id}/complete") => [401, 403, 403, 200, 403, 401],
        // Patient B has no session yet.
        ("GET", "/api/v1/me/timeline" | "/api/v1/me/timeline.ics") => [401, 200, 404, 403, 403, 401],
        ("GET", "/api/v1/patients/{id}/timeline") => [401, 403, 403, 200, 200, 401],
        ("PATCH", "/api/v1/sessions/{id}") => [401, 403, 403, 200, 403, 401],
        ("POST", "/api/v1/sessions/{id}/void") => [401, 403, 403, 200, 403, 401],
        ("GET", "/api/v1/sessions/{id}/revisions" | "/api/v1/alerts") => [401, 403, 403, 200, 200, 401],
        // Patient B has no session to check in about.
        ("POST", "/api/v1/me/check-ins") => [401, 201, 404, 403, 403, 401],
        ("POST", "/api/v1/alerts/{id}/resolve") => [401, 403, 403, 200, 403, 401],
        ("GET", "/sessions/{id}/edit") => [303, 403, 403, 200, 403, 303],
        ("GET", "/sessions/{id}/revisions" | "/alerts") => [303, 403, 403, 200, 200, 303],
        ("POST", "/sessions/{id}/edit" | "/sessions/{id}/void" | "/alerts/{id}/resolve" | "/portal/check-in") => {
            [303, 403, 403, 403, 403, 303]
        }
        _ => return None,
    })
}

#[test]
fn every_route_answers_every_caller_as_the_table_says() {
    on_each_database(|app| {
        let clinic = setup(app);
        let routes = clinic_web::routes();
        let mut missing = BTreeSet::new();
        let mut wrong = Vec::new();
        for (n, route) in routes.iter().enumerate() {
            let method = route.method.as_str();
            let Some(want) = expected(method, route.path) else {
                missing.insert(format!("{method} {}", route.path));
                continue;
            };
            for (who, status) in EVERYONE.into_iter().zip(want) {
                let r = call(app, &clinic, who, method, route.path, n);
                if r.status != status {
                    wrong.push(format!(
                        "{method} {} as {who:?}: {} (expected {status}) {}",
                        route.path,
                        r.status,
                        r.body.chars().take(120).collect::<String>()
                    ));
                }
                for h in [
                    "content-security-policy",
                    "x-content-type-options",
                    "referrer-policy",
                    "cache-control",
                ] {
                    assert!(r.header(h).is_some(), "{method} {} as {who:?} lacks {h}", route.path);
                }
                if route.path.starts_with("/api/") && r.status >= 400 {
                    let body = r.json();
                    assert!(
                        body["error"].is_string() && body["message"].is_string(),
                        "{method} {}: {}",
                        route.path,
                        r.body
                    );
                }
            }
        }
        assert!(missing.is_empty(), "routes missing from the matrix: {missing:?}");
        assert!(wrong.is_empty(), "{} cells differ:\n{}", wrong.len(), wrong.join("\n"));
    });
}

/// Drives the API to every stable error code it declares; fails when one is never produced.
/// Every route that needs a signed-in caller, called by a manager whose session must first enrol a
/// second factor: 403 `mfa_enrolment_required` (pages: to `/mfa`), except who-am-I, enrolment and
/// sign-out.
#[test]
fn an_enrolment_only_session_reaches_only_enrolment() {
    on_each_database(|app| {
        let clinic = setup(app);
        let mut wrong = Vec::new();
        let mut checked = 0;
        for (n, route) in clinic_web::routes().iter().enumerate() {
            let method = route.method.as_str();
            let path = route.path;
            let Some(want) = expected(method, path) else {
                continue;
            };
            let enrolment = matches!(path, "/api/v1/me" | "/api/v1/auth/logout" | "/logout" | "/mfa")
                || path.starts_with("/api/v1/me/mfa")
                || path.starts_with("/mfa/");
            if enrolment || !matches!(want[0], 401 | 303) || want.iter().all(|s| *s == want[0]) {
                continue; // reachable, or public
            }
            let r = call(app, &clinic, Who::Enrolling, method, path, n);
            checked += 1;
            let ok = if path.starts_with("/api/") {
                r.status == 403 && r.json()["error"] == "mfa_enrolment_required"
            } else {
                r.status == 303 && r.header("location") == Some("/mfa")
            };
            if !ok {
                wrong.push(format!("{method} {path}: {} {:?}", r.status, r.header("location")));
            }
        }
        assert!(checked > 40, "{checked}");
        assert!(
            wrong.is_empty(),
            "reached without a second factor:\n{}",
            wrong.join("\n")
        );
        let me = call(app, &clinic, Who::Enrolling, "GET", "/api/v1/me", 0);
        assert_eq!(me.status, 200);
    });
}

#[test]
fn every_error_code_is_produced() {
    on_each_database(|app| {
        let mut seen = BTreeSet::new();
        let mut note = |r: Reply| {
            if let Some(code) = r.json()["error"].as_str() {
                seen.insert(code.to_owned());
            }
        };
        let boss = app.add_staff("manager", "boss@clinic.example");
        let chen = app.add_staff("provider", "chen@clinic.example");
        let manager = app.token(&boss, STAFF_PASSWORD);
        let provider = app.token(&chen, STAFF_PASSWORD);
        let common = json!({"current_password": STAFF_PASSWORD, "new_password": "password1"});
        note(app.api("PUT", "/api/v1/auth/password", Some(&provider), Some(&common)));
        note(app.api("GET", "/api/v1/nothing-here", None, None));
        note(app.api("GET", "/api/v1/me", Some("x.y.z"), None));
        note(app.api("GET", "/api/v1/staff", Some(&provider), None));
        note(app.login_from(&chen, "wrong password", "192.0.2.50"));
        let victim = app.add_staff("provider", "victim@clinic.example");
        for _ in 0..11 {
            note(app.login_from(&victim, "wrong password", "192.0.2.51"));
        }
        let url = app.url("/api/v1/auth/login");
        note(app.send_raw(app.agent.post(&url).header("Content-Type", "application/json"), "{"));
        note(app.api(
            "POST",
            "/api/v1/auth/login",
            None,
            Some(&json!({"email": "a@b.example"})),
        ));
        let big = format!("{{\"email\": \"{}\"}}", "a".repeat(70 * 1024));
        note(app.send_raw(app.agent.post(&url).header("Content-Type", "application/json"), &big));
        note(app.send_raw(app.agent.post(&url).header("Content-Type", "text/plain"), "{}"));
        let dup = json!({"email": chen, "display_name": "X", "role": "provider"});
        note(app.api("POST", "/api/v1/staff", Some(&manager), Some(&dup)));
        let me = app.api("GET", "/api/v1/me", Some(&manager), None).json()["id"]
            .as_i64()
            .unwrap();
        note(app.api("POST", &format!("/api/v1/staff/{me}/disable"), Some(&manager), None));
        note(app.api(
            "POST",
            "/api/v1/auth/activate",
            None,
            Some(&json!({"code": "AAAA", "password": "a long passphrase"})),
        ));
        let no_email = app.add_patient("Bruno", None);
        note(app.api(
            "POST",
            &format!("/api/v1/patients/{no_email}/invitation"),
            Some(&provider),
            None,
        ));
        // The series rule.
        let ana = app.add_patient("Ana", Some("ana@mail.example"));
        let ana_token = app.patient_token(&provider, ana, "patient a passphrase");
        note(app.api("GET", "/api/v1/me/timeline", Some(&ana_token), None));
        let open = |body: serde_json::Value| {
            app.api(
                "POST",
                &format!("/api/v1/patients/{ana}/series"),
                Some(&provider),
                Some(&body),
            )
        };
        let series = open(json!({"condition": "other", "planned_sessions": 5, "reason": "test"})).json()["id"]
            .as_i64()
            .unwrap();
        note(open(json!({"condition": "other"})));
        let record = |ack: bool| {
            app.api(
                "POST",
                &format!("/api/v1/series/{series}/sessions"),
                Some(&provider),
                Some(&crate::clinical::session(false, ack)),
            )
        };
        let first = record(false).json()["session"]["id"].as_i64().unwrap();
        for _ in 0..2 {
            record(false);
        }
        note(record(false));
        record(true);
        let fifth = record(true).json()["session"]["id"].as_i64().unwrap();
        note(record(true));
        // Corrections: a reason is needed; only the latest can be voided; a void one is not changed.
        let patch = |id: i64, body: serde_json::Value| {
            app.api("PATCH", &format!("/api/v1/sessions/{id}"), Some(&provider), Some(&body))
        };
        note(patch(first, json!({"needle_depth_mm": 1.5})));
        let void = |id: i64| {
            app.api(
                "POST",
                &format!("/api/v1/sessions/{id}/void"),
                Some(&provider),
                Some(&json!({"reason": "a duplicate"})),
            )
        };
        note(void(first));
        assert_eq!(void(fifth).status, 200);
        note(patch(fifth, json!({"reason": "late", "needle_depth_mm": 1.5})));
        assert_eq!(record(true).status, 201, "the voided number is free again");
        // Check-ins: something unexpected needs a note; a flagged one is resolved once.
        let check_in =
            |token: &str, body: serde_json::Value| app.api("POST", "/api/v1/me/check-ins", Some(token), Some(&body));
        note(check_in(&ana_token, json!({"effects": [], "unexpected": true})));
        let flagged = check_in(&ana_token, json!({"effects": [], "unexpected": true, "note": "a rash"}));
        assert_eq!(flagged.status, 201, "{}", flagged.body);
        let alert = app.api("GET", "/api/v1/alerts", Some(&provider), None).json()[0]["id"]
            .as_i64()
            .unwrap();
        let resolve = || {
            app.api(
                "POST",
                &format!("/api/v1/alerts/{alert}/resolve"),
                Some(&provider),
                Some(&json!({"note": "called her"})),
            )
        };
        assert_eq!(resolve().status, 200);
        note(resolve());
        let dora = app.add_patient("Dora", Some("dora@mail.example"));
        let dora_token = app.patient_token(&provider, dora, "patient d passphrase");
        let dora_series = app.api(
            "POST",
            &format!("/api/v1/patients/{dora}/series"),
            Some(&provider),
            Some(&json!({"condition": "other"})),
        );
        let mut old = crate::clinical::session(false, false);
        old["performed_on"] = json!((chrono::Utc::now().date_naive() - chrono::Duration::days(10)).to_string());
        let recorded = app.api(
            "POST",
            &format!("/api/v1/series/{}/sessions", dora_series.json()["id"]),
            Some(&provider),
            Some(&old),
        );
        assert_eq!(recorded.status, 201, "{}", recorded.body);
        note(check_in(
            &dora_token,
            json!({"effects": ["dryness"], "unexpected": false}),
        ));
        // One Idempotency-Key, two different requests.
        let key = [("Idempotency-Key", "matrix-key-1")];
        let first_body = json!({"first_name": "Eva", "last_name": "Key", "date_of_birth": "1980-01-01"});
        let created = app.api_with("POST", "/api/v1/patients", Some(&provider), Some(&first_body), &key);
        assert_eq!(created.status, 201, "{}", created.body);
        let other_body = json!({"first_name": "Eve", "last_name": "Key", "date_of_birth": "1980-01-01"});
        note(app.api_with("POST", "/api/v1/patients", Some(&provider), Some(&other_body), &key));
        app.api(
            "POST",
            &format!("/api/v1/series/{series}/complete"),
            Some(&provider),
            None,
        );
        note(open(json!({"condition": "other"})));
        let next = open(json!({"condition": "other", "review_note": "reviewed"})).json()["id"]
            .as_i64()
            .unwrap();
        app.api(
            "POST",
            &format!("/api/v1/series/{next}/complete"),
            Some(&provider),
            None,
        );
        note(app.api(
            "POST",
            &format!("/api/v1/series/{next}/sessions"),
            Some(&provider),
            Some(&crate::clinical::session(false, false)),
        ));
        // A time zone that is not IANA; a message that is not failed or held.
        let bad_zone = json!({"name": "Clinic", "time_zone": "Mars/Olympus"});
        note(app.api("PUT", "/api/v1/clinic", Some(&manager), Some(&bad_zone)));
        // A newer invitation cancels the e-mail of the older one, which can then not be sent again.
        app.api(
            "POST",
            &format!("/api/v1/patients/{ana}/invitation"),
            Some(&provider),
            None,
        );
        let cancelled = clinic_db::outbox::list_for_patient(&mut app.db.conn(), clinic_domain::PatientId(ana), 100)
            .unwrap()
            .into_iter()
            .find(|m| m.status == "cancelled")
            .unwrap_or_else(|| {
                panic!(
                    "the first invitation's e-mail is cancelled: {:#?}",
                    clinic_db::outbox::list_for_patient(&mut app.db.conn(), clinic_domain::PatientId(ana), 100)
                )
            });
        note(app.api(
            "POST",
            &format!("/api/v1/messages/{}/retry", cancelled.id),
            Some(&provider),
            None,
        ));
        // Consent: a first session without a signature; a signature of a version not in force; twice.
        let form = json!({"title": "Consent", "body": "The clinic's wording."});
        let version = app
            .api("POST", "/api/v1/consent-forms", Some(&manager), Some(&form))
            .json()["version"]
            .as_i64()
            .unwrap();
        let eva = app.add_patient("Eva", Some("eva@mail.example"));
        let eva_token = app.patient_token(&provider, eva, "patient e passphrase");
        let eva_series = app
            .api(
                "POST",
                &format!("/api/v1/patients/{eva}/series"),
                Some(&provider),
                Some(&json!({"condition": "other"})),
            )
            .json()["id"]
            .as_i64()
            .unwrap();
        note(app.api(
            "POST",
            &format!("/api/v1/series/{eva_series}/sessions"),
            Some(&provider),
            Some(&crate::clinical::session(false, false)),
        ));
        let sign = |v: i64| {
            app.api(
                "POST",
                "/api/v1/me/consent",
                Some(&eva_token),
                Some(&json!({"series_id": eva_series, "form_version": v, "typed_name": "Eva", "agree": true})),
            )
        };
        note(sign(version + 1));
        assert_eq!(sign(version).status, 201);
        note(sign(version));
        // Photos: a file that is no image; a photo withdrawn twice.
        let eva_session = app
            .api("GET", &format!("/api/v1/series/{eva_series}"), Some(&provider), None)
            .json()["sessions"][0]["id"]
            .as_i64();
        let photo_session = eva_session.unwrap_or(first);
        note(app.upload_photo(&provider, photo_session, "before", b"not an image"));
        let shot = app.upload_photo(&provider, photo_session, "before", &clinic_e2e::small_jpeg(8, 8));
        let shot = shot.json()["id"].as_i64().unwrap();
        let withdraw = || {
            app.api(
                "POST",
                &format!("/api/v1/photos/{shot}/withdraw"),
                Some(&provider),
                Some(&json!({"reason": "blurred"})),
            )
        };
        assert_eq!(withdraw().status, 200);
        note(withdraw());
        // Second factor: a session that must enrol first; confirming what was never started; starting
        // again once it is on.
        note(app.api("GET", "/api/v1/staff", Some(&app.enrolment_token(&boss)), None));
        let confirm = |code: &str| {
            app.api(
                "POST",
                "/api/v1/me/mfa/totp/confirm",
                Some(&provider),
                Some(&json!({ "code": code })),
            )
        };
        note(confirm("123456"));
        let started = app.api("POST", "/api/v1/me/mfa/totp", Some(&provider), None).json();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let code = clinic_auth::mfa::code_at(started["secret"].as_str().unwrap(), now).unwrap();
        assert_eq!(confirm(&code).status, 200);
        note(app.api("POST", "/api/v1/me/mfa/totp", Some(&provider), None));
        // Pages refuse a forged form with `csrf_failed` (an HTML page, so the code is read from its status
        // and words).
        let forged = app.send_form_with(
            &app.browser(),
            "/login",
            &[("csrf", "forged"), ("email", "x"), ("password", "x")],
            None,
        );
        assert_eq!(forged.status, 403, "{}", forged.body);
        if forged.body.contains("did not come from this site") {
            seen.insert("csrf_failed".to_owned());
        }
        // The two codes a healthy server cannot be driven to from outside, produced as the server would.
        for e in [
            clinic_app::Error::Unavailable(clinic_db::DbError::Connect("db down".into())),
            clinic_app::Error::bug("bug"),
        ] {
            let resp = actix_web::ResponseError::error_response(&clinic_web::ApiError(e));
            let bytes = actix_web::rt::System::new()
                .block_on(actix_web::body::to_bytes(resp.into_body()))
                .unwrap();
            let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            seen.insert(body["error"].as_str().unwrap().to_owned());
        }
        let declared: BTreeSet<String> = clinic_app::ErrorCode::ALL
            .iter()
            .map(|c| c.as_str().to_owned())
            .collect();
        let never: Vec<_> = declared.difference(&seen).collect();
        let undeclared: Vec<_> = seen.difference(&declared).collect();
        assert!(never.is_empty(), "declared codes never produced: {never:?}");
        assert!(undeclared.is_empty(), "codes produced but not declared: {undeclared:?}");
    });
}
