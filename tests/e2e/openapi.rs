//! The served OpenAPI document lists exactly the API routes the server answers, and real responses
//! match the schemas it documents.

use clinic_e2e::{STAFF_PASSWORD, on_each_database};
use serde_json::{Value, json};
use std::collections::BTreeSet;

fn resolve<'a>(doc: &'a Value, schema: &'a Value) -> &'a Value {
    match schema["$ref"].as_str() {
        Some(r) => &doc["components"]["schemas"][r.trim_start_matches("#/components/schemas/")],
        None => schema,
    }
}

/// A small JSON Schema check: type (or types), const, enum, required, properties and items.
fn check(doc: &Value, schema: &Value, value: &Value, at: &str, problems: &mut Vec<String>) {
    let schema = resolve(doc, schema);
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    let actual = match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    let allowed = types.is_empty() || types.contains(&actual) || (actual == "integer" && types.contains(&"number"));
    if !allowed {
        problems.push(format!("{at}: {actual} is not {types:?}"));
        return;
    }
    if let Some(c) = schema.get("const")
        && c != value
    {
        problems.push(format!("{at}: {value} is not {c}"));
    }
    if let Some(options) = schema["enum"].as_array()
        && !value.is_null()
        && !options.contains(value)
    {
        problems.push(format!("{at}: {value} is not one of {options:?}"));
    }
    if let Value::Object(map) = value {
        for req in schema["required"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !map.contains_key(req) {
                problems.push(format!("{at}: {req} is missing"));
            }
        }
        if let Some(props) = schema["properties"].as_object() {
            for (k, v) in map {
                if let Some(s) = props.get(k) {
                    check(doc, s, v, &format!("{at}.{k}"), problems);
                }
            }
        }
    }
    if let (Value::Array(items), Some(s)) = (value, schema.get("items")) {
        for (i, v) in items.iter().enumerate() {
            check(doc, s, v, &format!("{at}[{i}]"), problems);
        }
    }
}

#[test]
fn the_document_matches_the_routes_and_the_responses() {
    on_each_database(|app| {
        let doc = app.get("/api/v1/openapi.json");
        assert_eq!(doc.status, 200);
        let doc = doc.json();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3."));

        let served: BTreeSet<(String, String)> = clinic_web::routes()
            .iter()
            .filter(|r| r.path.starts_with("/api/"))
            .map(|r| (r.method.as_str().to_lowercase(), r.path.to_owned()))
            .collect();
        let documented: BTreeSet<(String, String)> = doc["paths"]
            .as_object()
            .unwrap()
            .iter()
            .flat_map(|(path, ops)| ops.as_object().unwrap().keys().map(move |m| (m.clone(), path.clone())))
            .collect();
        assert_eq!(served, documented, "served routes and the document differ");

        // Real answers against the documented schema of that operation and status.
        let mut problems = Vec::new();
        let mut against = |method: &str, path: &str, status: u16, body: &Value| {
            let response = &doc["paths"][path][method]["responses"][status.to_string()];
            assert!(!response.is_null(), "{method} {path} does not document {status}");
            let schema = &response["content"]["application/json"]["schema"];
            check(&doc, schema, body, &format!("{method} {path} {status}"), &mut problems);
        };
        let chen = app.add_staff("provider", "chen@clinic.example");
        let boss = app.add_staff("manager", "boss@clinic.example");
        let login = app.login_from(&chen, STAFF_PASSWORD, "192.0.2.1");
        against("post", "/api/v1/auth/login", 200, &login.json());
        let p = login.json()["token"].as_str().unwrap().to_owned();
        let m = app.token(&boss, STAFF_PASSWORD);
        let bad = app.login_from(&chen, "wrong password", "192.0.2.1");
        against("post", "/api/v1/auth/login", 401, &bad.json());
        against(
            "get",
            "/api/v1/me",
            200,
            &app.api("GET", "/api/v1/me", Some(&p), None).json(),
        );
        against(
            "get",
            "/api/v1/staff",
            200,
            &app.api("GET", "/api/v1/staff", Some(&m), None).json(),
        );
        against(
            "get",
            "/api/v1/staff",
            403,
            &app.api("GET", "/api/v1/staff", Some(&p), None).json(),
        );
        let patient = json!({"first_name": "Ana", "last_name": "Silva", "date_of_birth": "1990-04-02", "email": "ana@mail.example"});
        let created = app.api("POST", "/api/v1/patients", Some(&p), Some(&patient));
        against("post", "/api/v1/patients", 201, &created.json());
        let id = created.json()["id"].as_i64().unwrap();
        let invalid = app.api(
            "POST",
            "/api/v1/patients",
            Some(&p),
            Some(&json!({"first_name": "", "last_name": "x", "date_of_birth": "1990-01-01"})),
        );
        against("post", "/api/v1/patients", 422, &invalid.json());
        against(
            "get",
            "/api/v1/patients",
            200,
            &app.api("GET", "/api/v1/patients", Some(&p), None).json(),
        );
        let series = app.api(
            "POST",
            &format!("/api/v1/patients/{id}/series"),
            Some(&p),
            Some(&json!({"condition": "acne_scars"})),
        );
        against("post", "/api/v1/patients/{id}/series", 201, &series.json());
        let sid = series.json()["id"].as_i64().unwrap();
        let recorded = app.api(
            "POST",
            &format!("/api/v1/series/{sid}/sessions"),
            Some(&p),
            Some(&crate::clinical::session(true, false)),
        );
        against("post", "/api/v1/series/{id}/sessions", 201, &recorded.json());
        against(
            "get",
            "/api/v1/series/{id}",
            200,
            &app.api("GET", &format!("/api/v1/series/{sid}"), Some(&p), None).json(),
        );
        against(
            "get",
            "/api/v1/patients/{id}",
            200,
            &app.api("GET", &format!("/api/v1/patients/{id}"), Some(&p), None).json(),
        );
        against(
            "get",
            "/api/v1/patients/{id}/series",
            200,
            &app.api("GET", &format!("/api/v1/patients/{id}/series"), Some(&p), None)
                .json(),
        );
        against(
            "get",
            "/api/v1/patients/{id}/timeline",
            200,
            &app.api("GET", &format!("/api/v1/patients/{id}/timeline"), Some(&p), None)
                .json(),
        );
        let invitation = app.api("POST", &format!("/api/v1/patients/{id}/invitation"), Some(&p), None);
        against("post", "/api/v1/patients/{id}/invitation", 201, &invitation.json());
        let code = invitation.json()["code"].as_str().unwrap().to_owned();
        let activated = app.api(
            "POST",
            "/api/v1/auth/activate",
            None,
            Some(&json!({"code": code, "password": "ana's passphrase"})),
        );
        against("post", "/api/v1/auth/activate", 200, &activated.json());
        let a = activated.json()["token"].as_str().unwrap().to_owned();
        against(
            "get",
            "/api/v1/me/timeline",
            200,
            &app.api("GET", "/api/v1/me/timeline", Some(&a), None).json(),
        );
        let boss_token = app.token(&boss, STAFF_PASSWORD);
        against(
            "get",
            "/api/v1/reports/series",
            200,
            &app.api("GET", "/api/v1/reports/series", Some(&boss_token), None).json(),
        );
        against(
            "get",
            "/api/v1/audit",
            200,
            &app.api("GET", "/api/v1/audit?limit=5", Some(&boss_token), None).json(),
        );
        assert!(problems.is_empty(), "{}", problems.join("\n"));

        // The checker itself notices a response that breaks the schema.
        let mut caught = Vec::new();
        let token_schema = json!({"$ref": "#/components/schemas/Token"});
        check(
            &doc,
            &token_schema,
            &json!({"token": 1, "token_type": "Basic"}),
            "probe",
            &mut caught,
        );
        assert_eq!(caught.len(), 4, "{caught:?}");
    });
}

/// The served document is valid OpenAPI 3.1 by an independent validator (openapi-spec-validator from
/// PyPI, which .ci/run installs). Skipped locally, with a note, when it is not installed; under CI that
/// is a failure.
#[test]
fn the_served_document_passes_an_independent_validator() {
    let probe = std::process::Command::new("python3")
        .args(["-c", "import openapi_spec_validator"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        assert!(
            std::env::var_os("CI").is_none(),
            "openapi-spec-validator is missing under CI (pip install openapi-spec-validator)"
        );
        eprintln!("note: OpenAPI validation skipped: pip install openapi-spec-validator");
        return;
    }
    let app = clinic_e2e::spawn_app(clinic_e2e::Database::sqlite());
    let doc = app.get("/api/v1/openapi.json");
    assert_eq!(doc.status, 200);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("openapi.json");
    std::fs::write(&path, &doc.body).unwrap();
    let run = std::process::Command::new("python3")
        .args(["-m", "openapi_spec_validator", "--schema", "3.1"])
        .arg(&path)
        .output()
        .unwrap();
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(run.status.success(), "the served OpenAPI document is not valid:\n{out}");
    assert!(out.contains("OK"), "{out}");
}
