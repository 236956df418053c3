//! The second factor (SPEC §6.5): enrolment, the two-step sign-in, codes taken once, recovery codes,
//! removal, the clinic's `require_mfa_for`, and the limits a stranger cannot use to lock anyone out.

use clinic_e2e::{STAFF_PASSWORD, TestApp, on_each_database};
use serde_json::{Value, json};

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// A code of `secret` for a 30-second step not taken yet: the next step's when `after` was this one.
fn code(secret: &str, step_offset: u64) -> String {
    clinic_auth::mfa::code_at(secret, now_secs() + 30 * step_offset).unwrap()
}

/// Enrols a second factor for the holder of `token`; returns the secret and the recovery codes.
fn enrol(app: &TestApp, token: &str) -> (String, Vec<String>) {
    let started = app.api("POST", "/api/v1/me/mfa/totp", Some(token), None);
    assert_eq!(started.status, 200, "{}", started.body);
    let secret = started.json()["secret"].as_str().unwrap().to_owned();
    assert!(
        started.json()["otpauth_url"]
            .as_str()
            .unwrap()
            .starts_with("otpauth://totp/")
    );
    let wrong = app.api(
        "POST",
        "/api/v1/me/mfa/totp/confirm",
        Some(token),
        Some(&json!({"code": "000000"})),
    );
    assert_eq!(wrong.json()["error"], "invalid_code");
    let confirmed = app.api(
        "POST",
        "/api/v1/me/mfa/totp/confirm",
        Some(token),
        Some(&json!({"code": code(&secret, 0)})),
    );
    assert_eq!(confirmed.status, 200, "{}", confirmed.body);
    let codes: Vec<String> = confirmed.json()["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(codes.len(), 10);
    (secret, codes)
}

fn login(app: &TestApp, email: &str, address: &str) -> Value {
    let r = app.login_from(email, STAFF_PASSWORD, address);
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

/// The second step of signing in, from the address the first came from.
fn second_step(app: &TestApp, mfa_token: &str, code: &str) -> (u16, Value) {
    let r = app.api_with(
        "POST",
        "/api/v1/auth/mfa",
        None,
        Some(&json!({"mfa_token": mfa_token, "code": code})),
        &[("X-Forwarded-For", "198.51.100.3")],
    );
    let body = if r.body.is_empty() { Value::Null } else { r.json() };
    (r.status, body)
}

#[test]
fn managers_must_enrol_and_then_sign_in_with_a_code_taken_once() {
    on_each_database(|app| {
        clinic_db::clinic::set_mfa_policy(&mut app.db.conn(), "managers").unwrap();
        let boss = app.add_staff("manager", "boss@clinic.example");
        let first = login(app, &boss, "192.0.2.1");
        let token = first["token"].as_str().unwrap().to_owned();
        let refused = app.api("GET", "/api/v1/staff", Some(&token), None);
        assert_eq!(
            (refused.status, refused.json()["error"].as_str()),
            (403, Some("mfa_enrolment_required"))
        );
        assert_eq!(app.api("GET", "/api/v1/me", Some(&token), None).status, 200);
        let (secret, recovery) = enrol(app, &token);
        assert_eq!(
            app.api("GET", "/api/v1/staff", Some(&token), None).status,
            200,
            "enrolled: the same session reaches everything"
        );
        assert_eq!(
            app.api("POST", "/api/v1/me/mfa/totp", Some(&token), None).json()["error"],
            "mfa_already_enabled"
        );

        // The password alone gives no token now.
        let challenge = login(app, &boss, "192.0.2.1");
        assert_eq!(challenge["mfa_required"], true);
        assert!(challenge.get("token").is_none());
        let mfa_token = challenge["mfa_token"].as_str().unwrap().to_owned();
        let (status, body) = second_step(app, &mfa_token, "123456");
        assert_eq!((status, body["error"].as_str()), (401, Some("invalid_code")));
        // The code of the step used at enrolment is spent; the next step's is good, once.
        let (status, _) = second_step(app, &mfa_token, &code(&secret, 0));
        assert_eq!(status, 401, "a code is accepted once");
        let next = code(&secret, 1);
        let (status, body) = second_step(app, &mfa_token, &next);
        assert_eq!(status, 200, "{body}");
        let signed = body["token"].as_str().unwrap().to_owned();
        assert_eq!(app.api("GET", "/api/v1/staff", Some(&signed), None).status, 200);
        assert_eq!(second_step(app, &mfa_token, &next).0, 401, "a challenge is used once");
        let again = login(app, &boss, "192.0.2.1");
        let again = again["mfa_token"].as_str().unwrap();
        assert_eq!(
            second_step(app, again, &next).0,
            401,
            "the same code on a new challenge"
        );

        // A recovery code signs in once.
        assert_eq!(second_step(app, again, &recovery[0]).0, 200);
        let third = login(app, &boss, "192.0.2.1");
        let third = third["mfa_token"].as_str().unwrap();
        assert_eq!(
            second_step(app, third, &recovery[0]).0,
            401,
            "a recovery code is used once"
        );
        assert_eq!(second_step(app, third, &recovery[1].to_lowercase()).0, 200);
        assert_eq!(second_step(app, "not a challenge", &recovery[2]).0, 401);

        // Removing it takes the password and a code.
        let wrong = json!({"password": "not the password", "code": recovery[2]});
        let r = app.api_with("DELETE_JSON", "/api/v1/me/mfa", Some(&signed), Some(&wrong), &[]);
        assert_eq!((r.status, r.json()["error"].as_str()), (422, Some("invalid_code")));
        let right = json!({"password": STAFF_PASSWORD, "code": recovery[3]});
        let r = app.api_with("DELETE_JSON", "/api/v1/me/mfa", Some(&signed), Some(&right), &[]);
        assert_eq!(r.status, 204, "{}", r.body);
        let after = login(app, &boss, "192.0.2.1");
        let after = after["token"].as_str().unwrap();
        assert_eq!(
            app.api("GET", "/api/v1/staff", Some(after), None).json()["error"],
            "mfa_enrolment_required",
            "the clinic still requires one"
        );

        // Providers are not covered by the default policy.
        let chen = app.add_staff("provider", "chen@clinic.example");
        let provider = login(app, &chen, "192.0.2.1");
        let provider = provider["token"].as_str().unwrap();
        assert_eq!(app.api("GET", "/api/v1/patients", Some(provider), None).status, 200);

        let rows = app.audit_rows();
        for (action, outcome) in [
            ("mfa.enable", "success"),
            ("mfa.disable", "success"),
            ("auth.mfa", "failure"),
            ("auth.login", "second_factor_required"),
        ] {
            assert!(
                rows.iter().any(|r| r.action == action && r.outcome == outcome),
                "{action}/{outcome}"
            );
        }
        let secrets = [secret.as_str(), recovery[4].as_str(), next.as_str()];
        for row in &rows {
            let text = format!("{row:?}");
            assert!(!secrets.iter().any(|s| text.contains(s)), "secret in {row:?}");
        }
    });
}

#[test]
fn wrong_codes_count_toward_the_sign_in_limit() {
    on_each_database(|app| {
        let chen = app.add_staff("provider", "chen@clinic.example");
        let token = app.token(&chen, STAFF_PASSWORD);
        let (secret, _) = enrol(app, &token);
        let challenge = login(app, &chen, "198.51.100.3");
        let mfa_token = challenge["mfa_token"].as_str().unwrap();
        // Twelve wrong codes from the address the password came from.
        let statuses: Vec<u16> = (0..12).map(|_| second_step(app, mfa_token, "000000").0).collect();
        assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 10, "{statuses:?}");
        assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 2, "{statuses:?}");
        assert_eq!(
            second_step(app, mfa_token, &code(&secret, 1)).0,
            429,
            "not even the right one, for now"
        );
    });
}

#[test]
fn a_stranger_cannot_lock_out_an_account_with_a_second_factor() {
    on_each_database(|app| {
        let chen = app.add_staff("provider", "chen@clinic.example");
        let token = app.token(&chen, STAFF_PASSWORD);
        let (secret, _) = enrol(app, &token);
        let okafor = app.add_staff("provider", "okafor@clinic.example");
        // A hundred wrong passwords for each, ten from each of ten addresses: the slow per-account
        // limit is used up.
        for email in [&chen, &okafor] {
            for i in 0..100 {
                let r = app.login_from(email, "wrong password", &format!("198.51.{}.{}", 100 + i / 10, i % 10));
                assert_eq!(r.status, 401, "{email} attempt {i}");
            }
        }
        // The owner with a second factor still signs in from their own address…
        let challenge = login(app, &chen, "203.0.113.9");
        let (status, body) = second_step(app, challenge["mfa_token"].as_str().unwrap(), &code(&secret, 1));
        assert_eq!(status, 200, "{body}");
        // …a password alone does not pass the slow limit.
        let r = app.login_from(&okafor, STAFF_PASSWORD, "203.0.113.9");
        assert_eq!(r.status, 429, "{}", r.body);
        assert!(r.header("retry-after").is_some());
    });
}

#[test]
fn the_enrolment_page_draws_the_qr_code_on_the_server() {
    on_each_database(|app| {
        clinic_db::clinic::set_mfa_policy(&mut app.db.conn(), "managers").unwrap();
        let boss = app.add_staff("manager", "boss@clinic.example");
        let browser = app.browser();
        let signed = app.submit_form(
            &browser,
            "/login",
            "/login",
            &[("email", &boss), ("password", STAFF_PASSWORD)],
        );
        assert_eq!((signed.status, signed.header("location")), (303, Some("/mfa")));
        let staff = app.send(browser.get(&app.url("/staff")));
        assert_eq!(
            (staff.status, staff.header("location")),
            (303, Some("/mfa")),
            "sent to enrol"
        );
        let started = app.submit_form(&browser, "/mfa", "/mfa/start", &[]);
        assert_eq!(started.status, 303);
        let page = app.send(browser.get(&app.url("/mfa")));
        assert!(
            page.body.contains("<svg") && !page.body.contains("<script"),
            "{}",
            page.body
        );
        let secret = page
            .body
            .split("<code>")
            .nth(1)
            .and_then(|rest| rest.split("</code>").next())
            .unwrap()
            .to_owned();
        let confirmed = app.submit_form(&browser, "/mfa", "/mfa/confirm", &[("code", &code(&secret, 0))]);
        assert_eq!(confirmed.status, 200, "{}", confirmed.body);
        assert_eq!(confirmed.body.matches("<li><code>").count(), 10, "ten recovery codes");
        assert_eq!(app.send(browser.get(&app.url("/staff"))).status, 200);

        // Signing in again asks for the code on a second page.
        let other = app.browser();
        let step = app.submit_form(
            &other,
            "/login",
            "/login",
            &[("email", &boss), ("password", STAFF_PASSWORD)],
        );
        assert_eq!(step.status, 200);
        assert!(step.body.contains("name=\"mfa_token\""));
        let mfa_token = step
            .body
            .split("name=\"mfa_token\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .unwrap()
            .to_owned();
        let done = app.submit_form(
            &other,
            "/login",
            "/login/mfa",
            &[("mfa_token", &mfa_token), ("code", &code(&secret, 1))],
        );
        assert_eq!(
            (done.status, done.header("location")),
            (303, Some("/")),
            "{}",
            done.body
        );
    });
}
