use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use clinic_e2e::{Reply, STAFF_PASSWORD, on_each_database};
use serde_json::json;

#[test]
fn sign_in_me_and_logout() {
    on_each_database(|app| {
        let email = app.add_staff("provider", "chen@clinic.example");
        let r = app.login_from(&email, STAFF_PASSWORD, "192.0.2.1");
        assert_eq!(r.status, 200, "{}", r.body);
        let body = r.json();
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["user"]["role"], "provider");
        assert_eq!(body["user"]["display_name"], "Test Staff");
        assert!(body["expires_at"].as_str().unwrap().ends_with('Z'));
        let token = body["token"].as_str().unwrap();

        let me = app.api("GET", "/api/v1/me", Some(token), None);
        assert_eq!(me.status, 200);
        assert_eq!(me.json()["email"], "chen@clinic.example");
        assert!(me.json()["patient_id"].is_null());

        assert_eq!(app.api("POST", "/api/v1/auth/logout", Some(token), None).status, 204);
        assert_eq!(
            app.api("GET", "/api/v1/me", Some(token), None).status,
            401,
            "logout ends the token"
        );

        let wrong = app.login_from(&email, "not the password", "192.0.2.1");
        let unknown = app.login_from("nobody@clinic.example", "not the password", "192.0.2.1");
        assert_eq!((wrong.status, unknown.status), (401, 401));
        assert_eq!(
            wrong.json(),
            unknown.json(),
            "the same answer for a wrong password and an unknown account"
        );
        assert_eq!(wrong.json()["error"], "invalid_credentials");
    });
}

#[test]
fn a_password_change_ends_the_other_tokens() {
    on_each_database(|app| {
        let email = app.add_staff("provider", "chen@clinic.example");
        let here = app.token(&email, STAFF_PASSWORD);
        let elsewhere = app.token(&email, STAFF_PASSWORD);
        let common = json!({"current_password": STAFF_PASSWORD, "new_password": "password1"});
        let r = app.api("PUT", "/api/v1/auth/password", Some(&here), Some(&common));
        assert_eq!(
            (r.status, r.json()["field"].as_str()),
            (422, Some("new_password")),
            "common passwords are refused"
        );
        let wrong = json!({"current_password": "not it at all", "new_password": "a brand new passphrase"});
        assert_eq!(
            app.api("PUT", "/api/v1/auth/password", Some(&here), Some(&wrong))
                .status,
            422
        );
        let ok = json!({"current_password": STAFF_PASSWORD, "new_password": "a brand new passphrase"});
        assert_eq!(
            app.api("PUT", "/api/v1/auth/password", Some(&here), Some(&ok)).status,
            204
        );
        assert_eq!(app.api("GET", "/api/v1/me", Some(&elsewhere), None).status, 401);
        assert_eq!(app.api("GET", "/api/v1/me", Some(&here), None).status, 200);
        assert_eq!(app.login_from(&email, STAFF_PASSWORD, "192.0.2.1").status, 401);
        assert_eq!(
            app.login_from(&email, "a brand new passphrase", "192.0.2.1").status,
            200
        );
    });
}

#[test]
fn staff_are_invited_disabled_and_enabled_by_managers() {
    on_each_database(|app| {
        let boss = app.add_staff("manager", "boss@clinic.example");
        let manager = app.token(&boss, STAFF_PASSWORD);
        let chosen = json!({"email": "chen@clinic.example", "display_name": "Dr. Chen", "role": "provider", "password": "a long passphrase"});
        let r = app.api("POST", "/api/v1/staff", Some(&manager), Some(&chosen));
        assert_eq!(
            (r.status, r.json()["field"].as_str()),
            (422, Some("password")),
            "managers do not choose staff passwords"
        );
        let new = json!({"email": "Chen@Clinic.example", "display_name": "Dr. Chen", "role": "provider"});
        let created = app.api("POST", "/api/v1/staff", Some(&manager), Some(&new));
        assert_eq!(created.status, 201, "{}", created.body);
        let invitation = created.json();
        let id = invitation["id"].as_i64().unwrap();
        let code = invitation["code"].as_str().unwrap().to_owned();
        assert!(
            invitation["activation_url"]
                .as_str()
                .unwrap()
                .ends_with(&format!("/activate?code={code}"))
        );
        assert!(invitation["expires_at"].as_str().unwrap().ends_with('Z'));
        assert_eq!(
            app.api("POST", "/api/v1/staff", Some(&manager), Some(&new)).json()["error"],
            "email_taken"
        );
        let bad_role = json!({"email": "x@clinic.example", "display_name": "X", "role": "patient"});
        assert_eq!(
            app.api("POST", "/api/v1/staff", Some(&manager), Some(&bad_role)).json()["field"],
            "role"
        );
        let unknown_field =
            json!({"email": "x@clinic.example", "display_name": "X", "role": "provider", "admin": true});
        let r = app.api("POST", "/api/v1/staff", Some(&manager), Some(&unknown_field));
        assert_eq!((r.status, r.json()["error"].as_str()), (422, Some("invalid_body")));
        let list = app.api("GET", "/api/v1/staff", Some(&manager), None).json();
        assert_eq!(list.as_array().unwrap().len(), 2);
        assert_eq!(
            list.as_array().unwrap().iter().find(|s| s["id"] == id).unwrap()["email"],
            "chen@clinic.example"
        );

        // Nothing signs in before the invitation is taken; the person chooses the password.
        assert_eq!(app.login_from("chen@clinic.example", "", "192.0.2.1").status, 401);
        let activate = |password: &str| {
            app.api(
                "POST",
                "/api/v1/auth/activate",
                None,
                Some(&json!({"code": code, "password": password})),
            )
        };
        let taken = activate("a long passphrase");
        assert_eq!(taken.status, 200, "{}", taken.body);
        assert_eq!(taken.json()["user"]["role"], "provider");
        assert_eq!(
            activate("another passphrase").json()["error"],
            "invalid_code",
            "single use"
        );
        let provider = app.token("chen@clinic.example", "a long passphrase");
        assert_eq!(
            app.api("POST", &format!("/api/v1/staff/{id}/disable"), Some(&manager), None)
                .status,
            204
        );
        assert_eq!(
            app.api("GET", "/api/v1/me", Some(&provider), None).status,
            401,
            "disabling ends tokens at once"
        );
        assert_eq!(
            app.login_from("chen@clinic.example", "a long passphrase", "192.0.2.1")
                .status,
            401
        );
        assert_eq!(
            app.api("POST", &format!("/api/v1/staff/{id}/enable"), Some(&manager), None)
                .status,
            204
        );
        assert_eq!(
            app.login_from("chen@clinic.example", "a long passphrase", "192.0.2.1")
                .status,
            200
        );

        let me = app.api("GET", "/api/v1/me", Some(&manager), None).json()["id"]
            .as_i64()
            .unwrap();
        let last = app.api("POST", &format!("/api/v1/staff/{me}/disable"), Some(&manager), None);
        assert_eq!(
            (last.status, last.json()["error"].as_str()),
            (409, Some("last_manager"))
        );
        assert_eq!(
            app.api("POST", "/api/v1/staff/99999/disable", Some(&manager), None)
                .status,
            404
        );
    });
}

#[test]
fn a_patient_activates_the_code_their_provider_issued() {
    on_each_database(|app| {
        let chen = app.add_staff("provider", "chen@clinic.example");
        let provider = app.token(&chen, STAFF_PASSWORD);
        let ana = app.add_patient("Ana", Some("ana@mail.example"));
        let first = app
            .api(
                "POST",
                &format!("/api/v1/patients/{ana}/invitation"),
                Some(&provider),
                None,
            )
            .json();
        let second = app
            .api(
                "POST",
                &format!("/api/v1/patients/{ana}/invitation"),
                Some(&provider),
                None,
            )
            .json();
        let code = second["code"].as_str().unwrap();
        assert!(
            second["activation_url"]
                .as_str()
                .unwrap()
                .ends_with(&format!("/activate?code={code}"))
        );
        assert_eq!(code.len(), 19);
        let activate = |code: &str| {
            app.api(
                "POST",
                "/api/v1/auth/activate",
                None,
                Some(&json!({"code": code, "password": "my own passphrase"})),
            )
        };
        assert_eq!(
            activate(first["code"].as_str().unwrap()).json()["error"],
            "invalid_code",
            "a newer code voids the old"
        );
        let weak = app.api(
            "POST",
            "/api/v1/auth/activate",
            None,
            Some(&json!({"code": code, "password": "short"})),
        );
        assert_eq!((weak.status, weak.json()["field"].as_str()), (422, Some("password")));
        let ok = activate(code);
        assert_eq!(ok.status, 200, "{}", ok.body);
        assert_eq!(ok.json()["user"]["role"], "patient");
        let token = ok.json()["token"].as_str().unwrap().to_owned();
        assert_eq!(
            app.api("GET", "/api/v1/me", Some(&token), None).json()["patient_id"],
            ana
        );
        assert_eq!(activate(code).json()["error"], "invalid_code", "single use");
        assert_eq!(
            app.login_from("ana@mail.example", "my own passphrase", "192.0.2.1")
                .status,
            200
        );

        let no_email = app.add_patient("Bruno", None);
        let r = app.api(
            "POST",
            &format!("/api/v1/patients/{no_email}/invitation"),
            Some(&provider),
            None,
        );
        assert_eq!(
            (r.status, r.json()["error"].as_str()),
            (422, Some("patient_email_required"))
        );
        assert_eq!(
            app.api("POST", "/api/v1/patients/99999/invitation", Some(&provider), None)
                .status,
            404
        );
    });
}

#[test]
fn a_strangers_failures_from_elsewhere_do_not_lock_the_owner_out() {
    on_each_database(|app| {
        let email = app.add_staff("provider", "chen@clinic.example");
        // Ten wrong passwords from one address use up that address's allowance for this account…
        for i in 0..10 {
            let r = app.login_from(&email, "wrong password", "198.51.100.7");
            assert_eq!(r.status, 401, "attempt {i}");
        }
        let locked = app.login_from(&email, STAFF_PASSWORD, "198.51.100.7");
        assert_eq!(
            locked.status, 429,
            "even the right password waits there: {}",
            locked.body
        );
        let retry: i64 = locked.header("retry-after").unwrap().parse().unwrap();
        assert!((1..=900).contains(&retry), "{retry}");
        assert_eq!(locked.json()["error"], "too_many_attempts");
        // …and failures spread over many more addresses lock only those addresses.
        for i in 0..30 {
            let r = app.login_from(&email, "wrong password", &format!("198.51.100.{}", 100 + i));
            assert_eq!(r.status, 401, "attempt from elsewhere {i}");
        }
        assert_eq!(
            app.login_from(&email, STAFF_PASSWORD, "203.0.113.77").status,
            200,
            "the owner, from their own address, signs in"
        );
        let other = app.add_staff("provider", "okafor@clinic.example");
        assert_eq!(app.login_from(&other, STAFF_PASSWORD, "198.51.100.7").status, 200);
    });
}

#[test]
fn of_forty_simultaneous_wrong_passwords_ten_are_evaluated() {
    on_each_database(|app| {
        let email = app.add_staff("provider", "chen@clinic.example");
        let barrier = std::sync::Barrier::new(40);
        let replies: Vec<Reply> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..40)
                .map(|_| {
                    s.spawn(|| {
                        barrier.wait();
                        app.login_from(&email, "wrong password", "198.51.100.5")
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        let evaluated = replies.iter().filter(|r| r.status == 401).count();
        let refused: Vec<&Reply> = replies.iter().filter(|r| r.status == 429).collect();
        assert_eq!((evaluated, refused.len()), (10, 30), "{}", app.db.backend_name());
        assert!(refused.iter().all(|r| r.header("retry-after").is_some()));
        let failures = app
            .audit_rows()
            .iter()
            .filter(|e| e.action == "auth.login" && e.outcome == "failure")
            .count();
        assert_eq!(failures, 10, "only the evaluated ones are failures");
    });
}

#[test]
fn a_stolen_session_cannot_guess_the_current_password_faster_than_a_sign_in() {
    on_each_database(|app| {
        let email = app.add_staff("provider", "chen@clinic.example");
        let token = app.token(&email, STAFF_PASSWORD);
        let wrong = json!({"current_password": "not it at all", "new_password": "a brand new passphrase"});
        let statuses: Vec<u16> = (0..25)
            .map(|_| {
                app.api("PUT", "/api/v1/auth/password", Some(&token), Some(&wrong))
                    .status
            })
            .collect();
        assert_eq!(statuses.iter().filter(|s| **s == 422).count(), 10, "{statuses:?}");
        assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 15, "{statuses:?}");
        let right = json!({"current_password": STAFF_PASSWORD, "new_password": "a brand new passphrase"});
        assert_eq!(
            app.api("PUT", "/api/v1/auth/password", Some(&token), Some(&right))
                .status,
            429,
            "not even the right one, from there, until the window ends"
        );
    });
}

#[test]
fn one_address_is_limited_across_accounts() {
    on_each_database(|app| {
        app.add_staff("provider", "chen@clinic.example");
        for i in 0..50 {
            let r = app.login_from(&format!("guess{i}@clinic.example"), "wrong password", "198.51.100.9");
            assert_eq!(r.status, 401, "attempt {i}");
        }
        assert_eq!(
            app.login_from("chen@clinic.example", STAFF_PASSWORD, "198.51.100.9")
                .status,
            429
        );
        assert_eq!(
            app.login_from("chen@clinic.example", STAFF_PASSWORD, "198.51.100.10")
                .status,
            200
        );
    });
}

fn forge(header: serde_json::Value, claims: &serde_json::Value, key: &[u8]) -> String {
    use hmac::Mac;
    let msg = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut mac = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(key).unwrap();
    mac.update(msg.as_bytes());
    format!("{msg}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
}

#[test]
fn tampered_tokens_are_refused_and_roles_come_from_the_database() {
    on_each_database(|app| {
        let chen = app.add_staff("provider", "chen@clinic.example");
        let token = app.token(&chen, STAFF_PASSWORD);
        let payload: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token.split('.').nth(1).unwrap()).unwrap()).unwrap();
        let secret = app.signing_key();
        let key = clinic_auth::DerivedKey::derive(secret.as_bytes(), clinic_auth::SESSION_TOKENS);
        let key = key.as_bytes();
        let hs256 = json!({"alg": "HS256", "typ": "JWT"});
        assert_eq!(
            app.api("GET", "/api/v1/me", Some(&forge(hs256.clone(), &payload, key)), None)
                .status,
            200
        );

        let mut with_role = payload.clone();
        with_role["role"] = json!("manager");
        let escalated = forge(hs256.clone(), &with_role, key);
        assert_eq!(
            app.api("GET", "/api/v1/staff", Some(&escalated), None).status,
            403,
            "an added role claim changes nothing"
        );

        let now = payload["iat"].as_i64().unwrap();
        let mut expired = payload.clone();
        expired["exp"] = json!(now - 3600);
        let mut no_aud = payload.clone();
        no_aud.as_object_mut().unwrap().remove("aud");
        let mut no_exp = payload.clone();
        no_exp.as_object_mut().unwrap().remove("exp");
        let none = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(json!({"alg": "none"}).to_string()),
            URL_SAFE_NO_PAD.encode(payload.to_string())
        );
        for (name, t) in [
            (
                "bad signature",
                forge(hs256.clone(), &payload, b"not the key at all, not the key!"),
            ),
            (
                "signed with the server secret, not the tokens' own key",
                forge(hs256.clone(), &payload, secret.as_bytes()),
            ),
            (
                "signed with the CSRF key",
                forge(
                    hs256.clone(),
                    &payload,
                    clinic_auth::DerivedKey::derive(secret.as_bytes(), clinic_auth::CSRF_TOKENS).as_bytes(),
                ),
            ),
            (
                "HS512 header",
                forge(json!({"alg": "HS512", "typ": "JWT"}), &payload, key),
            ),
            ("expired", forge(hs256.clone(), &expired, key)),
            ("missing aud", forge(hs256.clone(), &no_aud, key)),
            ("missing exp", forge(hs256.clone(), &no_exp, key)),
            ("alg none", none),
            ("garbage", "abc.def.ghi".into()),
        ] {
            let r = app.api("GET", "/api/v1/me", Some(&t), None);
            assert_eq!(r.status, 401, "{name}");
            assert_eq!(r.json()["error"], "unauthorized");
        }
    });
}

#[test]
fn pages_sign_in_with_a_cookie_and_refuse_forged_forms() {
    on_each_database(|app| {
        let chen = app.add_staff("provider", "chen@clinic.example");
        let browser = app.browser();
        let forged = app.send(browser.get(&app.url("/")));
        assert_eq!((forged.status, forged.header("location")), (303, Some("/login")));

        let bad = app.submit_form(
            &browser,
            "/login",
            "/login",
            &[("email", &chen), ("password", "wrong password")],
        );
        assert_eq!(bad.status, 401);
        assert!(bad.body.contains("not right") && bad.body.contains(&chen));
        let ok = app.submit_form(
            &browser,
            "/login",
            "/login",
            &[("email", &chen), ("password", STAFF_PASSWORD)],
        );
        assert_eq!((ok.status, ok.header("location")), (303, Some("/")), "{}", ok.body);
        let cookie = ok.header("set-cookie").unwrap();
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
            "{cookie}"
        );
        let home = app.send(browser.get(&app.url("/")));
        assert_eq!(
            home.header("location"),
            Some("/patients"),
            "a provider starts at the patient list"
        );
        let home = app.send(browser.get(&app.url("/logout")));
        assert_eq!(home.status, 200);

        // Another site's form: the Origin is refused even with a token; a missing token is refused too.
        let token = clinic_e2e::csrf_of(&home.body);
        let cross = app.send_form_with(&browser, "/logout", &[("csrf", &token)], Some("https://evil.example"));
        assert_eq!(cross.status, 403);
        let none = app.send_form_with(&browser, "/logout", &[("csrf", "x")], None);
        assert_eq!(none.status, 403);
        assert_eq!(
            app.send(browser.get(&app.url("/patients"))).status,
            200,
            "still signed in: nothing changed"
        );
        let out = app.send_form_with(&browser, "/logout", &[("csrf", &token)], Some(&app.address));
        assert_eq!((out.status, out.header("location")), (303, Some("/login")));
        assert_eq!(app.send(browser.get(&app.url("/patients"))).status, 303);

        // A login form posted without the page's cookie-bound token writes no session.
        let fresh = app.browser();
        let r = app.send_form_with(
            &fresh,
            "/login",
            &[("csrf", &token), ("email", &chen), ("password", STAFF_PASSWORD)],
            None,
        );
        assert_eq!(r.status, 403);
    });
}

#[test]
fn malformed_and_oversized_bodies_get_generic_errors() {
    on_each_database(|app| {
        let url = app.url("/api/v1/auth/login");
        let malformed = app.send_raw(
            app.agent.post(&url).header("Content-Type", "application/json"),
            "{\"email\": ",
        );
        assert_eq!(
            (malformed.status, malformed.json()["error"].as_str()),
            (400, Some("malformed_json"))
        );
        assert!(
            !malformed.body.contains("EOF") && !malformed.body.contains("line"),
            "{}",
            malformed.body
        );
        let big = format!("{{\"email\": \"{}\", \"password\": \"x\"}}", "a".repeat(70 * 1024));
        let r = app.send_raw(app.agent.post(&url).header("Content-Type", "application/json"), &big);
        assert_eq!(r.status, 413);
        let r = app.send_raw(app.agent.post(&url).header("Content-Type", "text/plain"), "{}");
        assert_eq!(r.status, 415);
        let r = app.api(
            "POST",
            "/api/v1/auth/login",
            None,
            Some(&json!({"email": "a@b.example"})),
        );
        assert_eq!((r.status, r.json()["error"].as_str()), (422, Some("invalid_body")));
        let r = app.api("GET", "/api/v1/no-such-thing", None, None);
        assert_eq!((r.status, r.json()["error"].as_str()), (404, Some("not_found")));
        assert!(r.header("access-control-allow-origin").is_none());
    });
}

#[test]
fn audited_actions_leave_rows_without_secrets() {
    on_each_database(|app| {
        let boss = app.add_staff("manager", "boss@clinic.example");
        let chen = app.add_staff("provider", "chen@clinic.example");
        let manager = app.token(&boss, STAFF_PASSWORD);
        let provider = app.token(&chen, STAFF_PASSWORD);
        app.login_from(&chen, "wrong password", "192.0.2.1");
        let ana = app.add_patient("Ana", Some("ana@mail.example"));
        let patient = app.patient_token(&provider, ana, "my own passphrase");
        let new = json!({"email": "okafor@clinic.example", "display_name": "Okafor", "role": "provider"});
        let id = app.api("POST", "/api/v1/staff", Some(&manager), Some(&new)).json()["id"]
            .as_i64()
            .unwrap();
        app.api("POST", &format!("/api/v1/staff/{id}/disable"), Some(&manager), None);
        app.api("GET", "/api/v1/staff", Some(&patient), None);
        app.api("GET", "/api/v1/me", Some("not-a-token"), None);
        app.api("POST", "/api/v1/auth/logout", Some(&provider), None);

        let rows = app.audit_rows();
        let has = |action: &str, outcome: &str| rows.iter().any(|r| r.action == action && r.outcome == outcome);
        for (action, outcome) in [
            ("auth.login", "success"),
            ("auth.login", "failure"),
            ("auth.logout", "success"),
            ("auth.activate", "success"),
            ("invitation.create", "success"),
            ("staff.create", "success"),
            ("staff.disable", "success"),
            ("access.role_refused", "denied"),
        ] {
            assert!(has(action, outcome), "no {action}/{outcome} row in {rows:#?}");
        }
        let invitation = rows
            .iter()
            .find(|r| r.action == "invitation.create" && r.patient_id.is_some())
            .unwrap();
        assert_eq!(invitation.patient_id.map(|p| p.0), Some(ana));
        let secrets = [
            STAFF_PASSWORD,
            "my own passphrase",
            "a long passphrase",
            "wrong password",
            &manager,
            &provider,
            &patient,
        ];
        for row in &rows {
            let text = format!("{row:?}");
            for s in secrets {
                assert!(!text.contains(s), "secret in {row:?}");
            }
            assert!(row.address.is_some() || row.action.starts_with("setup"), "{row:?}");
        }
    });
}

fn session_id(token: &str) -> String {
    let payload: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(token.split('.').nth(1).unwrap()).unwrap()).unwrap();
    payload["sid"].as_str().unwrap().to_owned()
}

#[test]
fn sessions_end_after_30_idle_minutes_and_8_hours() {
    use chrono::Duration;
    on_each_database(|app| {
        let chen = app.add_staff("provider", "chen@clinic.example");
        let ana = app.add_patient("Ana", Some("ana@mail.example"));
        let provider = app.token(&chen, STAFF_PASSWORD);
        app.patient_token(&provider, ana, "my own passphrase");
        for (email, password) in [
            (chen.as_str(), STAFF_PASSWORD),
            ("ana@mail.example", "my own passphrase"),
        ] {
            let mut conn = app.db.conn();
            let fresh = app.token(email, password);
            clinic_db::testing::age_login_session(
                &mut conn,
                &session_id(&fresh),
                Duration::minutes(29),
                Duration::minutes(29),
            );
            assert_eq!(
                app.api("GET", "/api/v1/me", Some(&fresh), None).status,
                200,
                "{email}: 29 idle minutes"
            );
            clinic_db::testing::age_login_session(
                &mut conn,
                &session_id(&fresh),
                Duration::minutes(31),
                Duration::minutes(31),
            );
            assert_eq!(
                app.api("GET", "/api/v1/me", Some(&fresh), None).status,
                401,
                "{email}: 31 idle minutes"
            );
            let busy = app.token(email, password);
            let age = Duration::hours(8) + Duration::minutes(1);
            clinic_db::testing::age_login_session(&mut conn, &session_id(&busy), Duration::minutes(1), age);
            assert_eq!(
                app.api("GET", "/api/v1/me", Some(&busy), None).status,
                401,
                "{email}: 8 hours after sign-in"
            );
        }
    });
}

#[test]
fn behind_https_cookies_are_secure_host_cookies_and_hsts_is_sent() {
    for db in clinic_e2e::Database::all() {
        let app = clinic_e2e::spawn_app_with(db, |c| {
            c.public_url = Some("https://clinic.example".into());
        });
        let chen = app.add_staff("provider", "chen@clinic.example");
        let health = app.get("/health");
        assert_eq!(
            health.header("strict-transport-security"),
            Some("max-age=31536000; includeSubDomains")
        );
        let browser = app.browser();
        let page = app.send(browser.get(&app.url("/login")));
        let token = clinic_e2e::csrf_of(&page.body);
        // The browser would send the https origin; the nonce cookie is Secure, so hand it over explicitly.
        let nonce = page.header("set-cookie").unwrap().split(';').next().unwrap().to_owned();
        let r = app.send_raw(
            app.agent
                .post(&app.url("/login"))
                .header("Origin", "https://clinic.example")
                .header("Cookie", &nonce)
                .header("Content-Type", "application/x-www-form-urlencoded"),
            &format!("csrf={token}&email={chen}&password=long+enough+password"),
        );
        assert_eq!(r.status, 303, "{}", r.body);
        let cookie = r.header("set-cookie").unwrap();
        assert!(
            cookie.starts_with("__Host-clinic_session=") && cookie.contains("Secure") && cookie.contains("Path=/"),
            "{cookie}"
        );
        let session = cookie.split(';').next().unwrap().to_owned();
        let token = session.split_once('=').unwrap().1.to_owned();
        // A fresh client each time: the agent's own jar holds the session cookie from the sign-in.
        let page = |cookie: &str| app.send(app.browser().get(&app.url("/logout")).header("Cookie", cookie));
        assert_eq!(
            page(&format!("clinic_session={token}")).status,
            303,
            "over https the unprefixed name is not taken"
        );
        let form = page(&session);
        assert_eq!(form.status, 200, "{}", form.body);
        let r = app.send_raw(
            app.browser()
                .post(&app.url("/logout"))
                .header("Origin", "https://clinic.example")
                .header("Cookie", &session)
                .header("Content-Type", "application/x-www-form-urlencoded"),
            &format!("csrf={}", clinic_e2e::csrf_of(&form.body)),
        );
        assert_eq!(r.status, 303, "{}", r.body);
        let gone = r.header("set-cookie").unwrap();
        assert!(
            gone.starts_with("__Host-clinic_session=;") && gone.contains("Secure") && gone.contains("Max-Age=0"),
            "the removal carries the cookie's attributes, or the browser ignores it: {gone}"
        );
    }
}

#[test]
fn a_second_server_on_the_same_database_honours_tokens_and_revocation() {
    on_each_database(|app| {
        let chen = app.add_staff("provider", "chen@clinic.example");
        let token = app.token(&chen, STAFF_PASSWORD);
        let second = clinic_e2e::spawn_app_on(&app.db);
        let other = second.address.clone();
        let me = |base: &str| {
            app.send(
                app.agent
                    .get(&format!("{base}/api/v1/me"))
                    .header("Authorization", &format!("Bearer {token}")),
            )
            .status
        };
        assert_eq!(me(&other), 200, "the signing key is shared through the database");
        assert_eq!(app.api("POST", "/api/v1/auth/logout", Some(&token), None).status, 204);
        assert_eq!(me(&other), 401, "logout on one server holds on the other");
    });
}

#[test]
fn a_full_hashing_queue_answers_503_at_once_and_health_stays_up() {
    for db in clinic_e2e::Database::all() {
        let app = clinic_e2e::spawn_app_with(db, |c| c.hash_queue = 1);
        let email = app.add_staff("provider", "chen@clinic.example");
        let barrier = std::sync::Barrier::new(33);
        let (replies, health) = std::thread::scope(|s| {
            let handles: Vec<_> = (0..32)
                .map(|i| {
                    let (app, email, barrier) = (&app, &email, &barrier);
                    s.spawn(move || {
                        barrier.wait();
                        app.login_from(email, STAFF_PASSWORD, &format!("198.51.100.{i}"))
                    })
                })
                .collect();
            barrier.wait();
            let started = std::time::Instant::now();
            let health = app.get("/health").status;
            let waited = started.elapsed();
            let replies: Vec<Reply> = handles.into_iter().map(|h| h.join().unwrap()).collect();
            (replies, (health, waited))
        });
        let busy: Vec<&Reply> = replies.iter().filter(|r| r.status == 503).collect();
        let ok = replies.iter().filter(|r| r.status == 200).count();
        assert_eq!(
            ok + busy.len(),
            32,
            "{:?}",
            replies.iter().map(|r| r.status).collect::<Vec<_>>()
        );
        assert!(ok >= 1 && !busy.is_empty(), "{ok} signed in, {} busy", busy.len());
        assert!(
            busy.iter()
                .all(|r| r.header("retry-after").is_some() && r.json()["error"] == "service_unavailable")
        );
        assert_eq!(health.0, 200);
        assert!(
            health.1 < std::time::Duration::from_secs(2),
            "/health waited {:?}",
            health.1
        );
        // A busy answer gave its attempt back: the same address may still sign in.
        assert_eq!(app.login_from(&email, STAFF_PASSWORD, "198.51.100.0").status, 200);
    }
}

struct MovableClock(std::sync::Mutex<chrono::DateTime<chrono::Utc>>);

impl clinic_domain::Clock for MovableClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        *self.0.lock().unwrap()
    }
}

#[test]
fn requests_without_a_valid_token_are_one_audit_row_per_address_and_minute() {
    for db in clinic_e2e::Database::all() {
        let clock = std::sync::Arc::new(MovableClock(std::sync::Mutex::new(chrono::Utc::now())));
        let app = clinic_e2e::spawn_app_at(db, clock.clone(), |_| {});
        let from = |address: &str, token: Option<&str>| {
            app.api_with("GET", "/api/v1/me", token, None, &[("X-Forwarded-For", address)])
                .status
        };
        for _ in 0..60 {
            assert_eq!(from("198.51.100.20", Some("not-a-token")), 401);
        }
        for _ in 0..5 {
            assert_eq!(from("198.51.100.21", None), 401);
        }
        let refused = || {
            app.audit_rows()
                .into_iter()
                .filter(|r| r.action == "auth.token_refused")
                .map(|r| (r.address.unwrap_or_default(), r.detail.unwrap_or_default()))
                .collect::<Vec<_>>()
        };
        std::thread::sleep(std::time::Duration::from_millis(1200));
        assert!(refused().is_empty(), "nothing is written while the minute runs");
        *clock.0.lock().unwrap() += chrono::Duration::seconds(61);
        let mut rows = Vec::new();
        for _ in 0..20 {
            rows = refused();
            if !rows.is_empty() {
                break;
            }
        }
        rows.sort();
        assert_eq!(
            rows,
            vec![
                (
                    "198.51.100.20".to_owned(),
                    "60 request(s) with no valid token in this minute".to_owned()
                ),
                (
                    "198.51.100.21".to_owned(),
                    "5 request(s) with no valid token in this minute".to_owned()
                ),
            ]
        );
    }
}

#[test]
fn a_suspended_patient_is_signed_out_at_once_until_restored() {
    on_each_database(|app| {
        let chen = app.add_staff("provider", "chen@clinic.example");
        let provider = app.token(&chen, STAFF_PASSWORD);
        let ana = app.add_patient("Ana", Some("ana@mail.example"));
        let token = app.patient_token(&provider, ana, "my own passphrase");
        let me = |t: &str| app.api("GET", "/api/v1/me/timeline", Some(t), None).status;
        assert_eq!(me(&token), 404, "signed in, no session yet");
        let pending = app.api(
            "POST",
            &format!("/api/v1/patients/{ana}/invitation"),
            Some(&provider),
            None,
        );
        let code = pending.json()["code"].as_str().unwrap().to_owned();

        let disable = format!("/api/v1/patients/{ana}/portal/disable");
        assert_eq!(app.api("POST", &disable, Some(&provider), None).status, 204);
        assert_eq!(me(&token), 401, "the token stops at once");
        assert_eq!(
            app.login_from("ana@mail.example", "my own passphrase", "192.0.2.1")
                .status,
            401
        );
        let activate = json!({"code": code, "password": "another passphrase"});
        assert_eq!(
            app.api("POST", "/api/v1/auth/activate", None, Some(&activate)).json()["error"],
            "invalid_code",
            "a code issued before is void"
        );
        let detail = app
            .api("GET", &format!("/api/v1/patients/{ana}"), Some(&provider), None)
            .json();
        assert_eq!(
            (
                detail["has_portal_login"].as_bool(),
                detail["portal_suspended"].as_bool()
            ),
            (Some(true), Some(true))
        );

        let enable = format!("/api/v1/patients/{ana}/portal/enable");
        assert_eq!(app.api("POST", &enable, Some(&provider), None).status, 204);
        assert_eq!(me(&token), 401, "old tokens stay ended");
        let again = app.login_from("ana@mail.example", "my own passphrase", "192.0.2.1");
        assert_eq!(again.status, 200, "{}", again.body);
        assert_eq!(
            app.api("POST", "/api/v1/patients/99999/portal/disable", Some(&provider), None)
                .status,
            404
        );
        let rows = app.audit_rows();
        for action in ["patient.portal_disable", "patient.portal_enable"] {
            assert!(
                rows.iter()
                    .any(|r| r.action == action && r.patient_id.map(|p| p.0) == Some(ana)),
                "{action}"
            );
        }
    });
}
