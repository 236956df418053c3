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
