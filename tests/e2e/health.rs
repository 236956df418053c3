use clinic_e2e::on_each_database;

#[test]
fn health_answers_without_the_database_and_ready_checks_it() {
    on_each_database(|app| {
        let health = app.get("/health");
        assert_eq!(health.status, 200);
        assert_eq!(health.json()["status"], "ok");
        let ready = app.get("/ready");
        assert_eq!(ready.status, 200, "{}", ready.body);
        assert_eq!(ready.json()["database"], app.db.backend_name());
    });
}

#[test]
fn every_response_carries_the_security_headers() {
    on_each_database(|app| {
        for path in ["/health", "/ready", "/no-such-page", "/setup"] {
            let r = app.get(path);
            let csp = r.header("content-security-policy").unwrap_or_default();
            assert!(
                csp.contains("default-src 'self'") && csp.contains("frame-ancestors 'none'"),
                "{path}: {csp}"
            );
            assert_eq!(r.header("x-content-type-options"), Some("nosniff"), "{path}");
            assert_eq!(r.header("referrer-policy"), Some("no-referrer"), "{path}");
        }
        assert_eq!(app.get("/no-such-page").status, 404);
    });
}

/// Paths are routed in scopes by their first segment: a path the table lacks is still the API's 404
/// body under `/api` and the not-found page elsewhere, and a known path with the wrong method is 405.
#[test]
fn unknown_paths_and_wrong_methods_answer_as_before_the_scopes() {
    on_each_database(|app| {
        let api = app.get("/api/v1/no-such-thing");
        assert_eq!((api.status, api.json()["error"].as_str()), (404, Some("not_found")));
        for path in ["/patients/", "/patients/1/nowhere", "/apix", "/api", "/nowhere/deeper"] {
            let r = app.get(path);
            assert_eq!(r.status, 404, "{path}");
            assert!(
                r.body.contains("There is no page at this address"),
                "{path}: {}",
                r.body
            );
        }
        let wrong = app.post_json("/api/v1/me/timeline", &serde_json::json!({}));
        assert_eq!(wrong.status, 405);
        assert_eq!(
            app.get("/patients").status,
            303,
            "the scope's own path is still the patient list"
        );
    });
}

/// PostgreSQL behind a proxy the test cuts: while it is down, requests answer 503 with `Retry-After`
/// within the pool's wait, `/health` stays up, and once it is back the server serves again by itself.
#[test]
fn while_the_database_is_down_requests_answer_503_and_the_server_recovers() {
    let Some(db) = clinic_e2e::Database::postgres() else {
        return;
    };
    let url = db.url_string();
    let (_, rest) = url.split_once('@').unwrap();
    let host_port = rest.split('/').next().unwrap().to_owned();
    let target: std::net::SocketAddr = host_port.replace("localhost", "127.0.0.1").parse().unwrap();
    let proxy = clinic_e2e::proxy::Proxy::start(target);
    let proxied = url.replacen(&host_port, &format!("127.0.0.1:{}", proxy.port), 1);
    let app = clinic_e2e::spawn_app_with(db, |c| {
        c.database_url = clinic_db::DatabaseUrl::parse(&proxied).unwrap();
    });
    let chen = app.add_staff("provider", "chen@clinic.example");
    let token = app.session_token(&chen);
    let me = || app.api("GET", "/api/v1/me", Some(&token), None);
    assert_eq!(me().status, 200);

    proxy.cut();
    for _ in 0..3 {
        for (name, reply) in [("ready", app.get("/ready")), ("me", me())] {
            assert_eq!(reply.status, 503, "{name}: {}", reply.body);
            assert!(reply.header("retry-after").is_some(), "{name}");
            assert_eq!(reply.json()["error"], "service_unavailable", "{name}");
        }
    }
    let started = std::time::Instant::now();
    assert_eq!(app.get("/ready").status, 503);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "answered in {:?}, not left hanging",
        started.elapsed()
    );
    assert_eq!(app.get("/health").status, 200);

    proxy.restore();
    let back = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        me().status == 200
    });
    assert!(back, "the server did not recover when the database came back");
    assert_eq!(app.get("/ready").status, 200);
}
