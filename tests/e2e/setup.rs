use clinic_e2e::on_each_database;

#[test]
fn the_setup_link_creates_the_first_manager_once() {
    on_each_database(|app| {
        let code = app.setup_code.clone().expect("a new clinic offers a setup link");
        let page = app.get(&format!("/setup?code={code}"));
        assert_eq!(page.status, 200);
        assert!(page.body.contains(&code) && page.body.contains("<label for=\"password\">"));
        // The clinic's name and time zone are asked, pre-filled (the time zone from CLINIC_TIMEZONE).
        assert!(page.body.contains("name=\"clinic_name\"") && page.body.contains("value=\"UTC\""));

        let browser = app.browser();
        let bad = app.submit_form(
            &browser,
            "/setup",
            "/setup",
            &[
                ("code", "AAAA-AAAA-AAAA-AAAA"),
                ("display_name", "Morgan"),
                ("email", "m@clinic.example"),
                ("password", "long enough password"),
            ],
        );
        assert_eq!(bad.status, 422);
        assert!(bad.body.contains("not valid"));

        let weak = app.submit_form(
            &browser,
            "/setup",
            "/setup",
            &[
                ("code", &code),
                ("display_name", "Morgan"),
                ("email", "m@clinic.example"),
                ("password", "short"),
            ],
        );
        assert_eq!(weak.status, 422);
        assert!(weak.body.contains("at least 8 characters"));
        assert!(weak.body.contains("m@clinic.example"), "the form keeps what was typed");

        let typed_loosely = code.to_lowercase().replace('-', " ");
        let ok = app.submit_form(
            &browser,
            "/setup",
            "/setup",
            &[
                ("code", &typed_loosely),
                ("clinic_name", "Riverside Skin Clinic"),
                ("time_zone", "Europe/London"),
                ("display_name", "Morgan Reyes"),
                ("email", "M@Clinic.example"),
                ("password", "long enough password"),
            ],
        );
        assert_eq!(ok.status, 201, "{}", ok.body);
        let clinic = app.get("/api/v1/clinic").json();
        assert_eq!(
            (clinic["name"].as_str(), clinic["time_zone"].as_str()),
            (Some("Riverside Skin Clinic"), Some("Europe/London"))
        );
        assert!(ok.body.contains("Riverside Skin Clinic"), "the header names the clinic");

        // Set up: the page says so and offers no form; a post (with a valid form token) creates nothing.
        let closed = app.send(browser.get(&app.url("/setup")));
        assert_eq!(closed.status, 200);
        assert!(
            closed.body.contains("The clinic is set up") && !closed.body.contains("<form"),
            "{}",
            closed.body
        );
        let again = app.submit_form(
            &browser,
            "/login",
            "/setup",
            &[
                ("code", &code),
                ("display_name", "Eve"),
                ("email", "eve@clinic.example"),
                ("password", "long enough password"),
            ],
        );
        assert_eq!(again.status, 200, "{}", again.body);
        assert!(again.body.contains("The clinic is set up"));

        // Without the form's token nothing is written.
        let forged = app.post_form(
            "/setup",
            &[
                ("csrf", "forged"),
                ("code", &code),
                ("display_name", "Eve"),
                ("email", "eve@clinic.example"),
                ("password", "long enough password"),
            ],
        );
        assert_eq!(forged.status, 403);

        let mut conn = app.db.conn();
        assert!(
            clinic_db::users::find_by_email(&mut conn, "eve@clinic.example")
                .unwrap()
                .is_none()
        );
        let manager = clinic_db::users::find_by_email(&mut conn, "m@clinic.example")
            .unwrap()
            .unwrap();
        assert_eq!(manager.role, clinic_domain::user::Role::Manager);
        assert!(manager.password_hash.starts_with("$argon2id$"));
        let audit = clinic_db::audit::list(&mut conn, None, 10).unwrap();
        assert_eq!(audit[0].action, "setup.first_manager");
    });
}

#[test]
fn a_clinic_with_a_manager_offers_no_setup_link() {
    on_each_database(|app| {
        let mut conn = app.db.conn();
        let now = chrono_now();
        clinic_server::users::add_staff(
            &mut conn,
            "manager",
            "boss@clinic.example",
            "Boss",
            "long enough password",
            now,
        )
        .unwrap();
        drop(conn);
        let second = clinic_e2e::spawn_app_on(&app.db).setup_code.clone();
        assert!(second.is_none(), "a setup link was offered although a manager exists");
    });
}

fn chrono_now() -> chrono::NaiveDateTime {
    chrono::Utc::now().naive_utc()
}
