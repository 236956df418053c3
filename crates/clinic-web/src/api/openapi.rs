//! `GET /api/v1/openapi.json`: the API described as OpenAPI 3.1. Written by hand from the route table's
//! handlers; an end-to-end test checks that it lists exactly the served routes and that real
//! responses match the documented schemas.

use crate::{RouteSpec, error::CODES};
use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use serde_json::{Map, Value, json};
use std::sync::LazyLock;

pub fn routes(v: &mut Vec<RouteSpec>) {
    v.push(RouteSpec::new(Method::GET, "/api/v1/openapi.json", || {
        web::get().to(document)
    }));
}

static DOCUMENT: LazyLock<Value> = LazyLock::new(build);

async fn document() -> HttpResponse {
    HttpResponse::Ok().json(&*DOCUMENT)
}

fn schema(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn string() -> Value {
    json!({"type": "string"})
}

fn date() -> Value {
    json!({"type": "string", "format": "date"})
}

fn nullable(t: &str) -> Value {
    json!({"type": [t, "null"]})
}

fn object(required: &[&str], props: Value) -> Value {
    json!({"type": "object", "required": required, "properties": props})
}

/// One operation: who may call it, its body, and its answers (status, schema name or null).
struct Op {
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    body: Option<&'static str>,
    ok: (u16, Option<&'static str>),
    errors: &'static [u16],
    secured: bool,
}

const fn op(
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    body: Option<&'static str>,
    ok: (u16, Option<&'static str>),
    errors: &'static [u16],
    secured: bool,
) -> Op {
    Op {
        method,
        path,
        summary,
        body,
        ok,
        errors,
        secured,
    }
}

const OPS: &[Op] = &[
    op(
        "post",
        "/api/v1/auth/login",
        "Sign in (anyone)",
        Some("Login"),
        (200, Some("Token")),
        &[401, 422, 429],
        false,
    ),
    op(
        "post",
        "/api/v1/auth/logout",
        "End this token's session (signed in)",
        None,
        (204, None),
        &[401],
        true,
    ),
    op(
        "post",
        "/api/v1/auth/activate",
        "Set a password with a one-time code and sign in",
        Some("Activate"),
        (200, Some("Token")),
        &[422, 429],
        false,
    ),
    op(
        "put",
        "/api/v1/auth/password",
        "Change password; the account's other tokens end",
        Some("PasswordChange"),
        (204, None),
        &[401, 422],
        true,
    ),
    op(
        "get",
        "/api/v1/me",
        "The signed-in account",
        None,
        (200, Some("Me")),
        &[401],
        true,
    ),
    op(
        "post",
        "/api/v1/staff",
        "Create a staff account (manager)",
        Some("NewStaff"),
        (201, Some("Staff")),
        &[401, 403, 409, 422],
        true,
    ),
    op(
        "get",
        "/api/v1/staff",
        "List staff accounts (manager)",
        None,
        (200, Some("StaffList")),
        &[401, 403],
        true,
    ),
    op(
        "post",
        "/api/v1/staff/{id}/disable",
        "Disable a staff account; its tokens end (manager)",
        None,
        (204, None),
        &[401, 403, 404, 409],
        true,
    ),
    op(
        "post",
        "/api/v1/staff/{id}/enable",
        "Re-enable a staff account (manager)",
        None,
        (204, None),
        &[401, 403, 404],
        true,
    ),
    op(
        "post",
        "/api/v1/patients",
        "Create a patient (provider)",
        Some("PatientInput"),
        (201, Some("Patient")),
        &[401, 403, 422],
        true,
    ),
    op(
        "get",
        "/api/v1/patients",
        "List or search patients by name or e-mail, `q` (provider, manager)",
        None,
        (200, Some("PatientList")),
        &[401, 403],
        true,
    ),
    op(
        "get",
        "/api/v1/patients/{id}",
        "A patient with a summary of their series (provider, manager)",
        None,
        (200, Some("PatientDetail")),
        &[401, 403, 404],
        true,
    ),
    op(
        "put",
        "/api/v1/patients/{id}",
        "Correct a patient's details; the prior version is kept (provider)",
        Some("PatientInput"),
        (200, Some("Patient")),
        &[401, 403, 404, 422],
        true,
    ),
    op(
        "post",
        "/api/v1/patients/{id}/invitation",
        "Issue the patient's one-time portal code; a new one voids the old (provider)",
        None,
        (201, Some("Invitation")),
        &[401, 403, 404, 409, 422],
        true,
    ),
    op(
        "post",
        "/api/v1/patients/{id}/series",
        "Open a treatment series (provider)",
        Some("OpenSeries"),
        (201, Some("Series")),
        &[401, 403, 404, 409, 422],
        true,
    ),
    op(
        "get",
        "/api/v1/patients/{id}/series",
        "A patient's series (provider, manager, that patient)",
        None,
        (200, Some("SeriesList")),
        &[401, 403, 404],
        true,
    ),
    op(
        "get",
        "/api/v1/series/{id}",
        "A series with its sessions (provider, manager, that patient)",
        None,
        (200, Some("Series")),
        &[401, 403, 404],
        true,
    ),
    op(
        "post",
        "/api/v1/series/{id}/sessions",
        "Record the next session under the series rule (provider)",
        Some("RecordSession"),
        (201, Some("Recorded")),
        &[401, 403, 404, 409, 422],
        true,
    ),
    op(
        "post",
        "/api/v1/series/{id}/complete",
        "Complete a series (provider)",
        None,
        (200, Some("Series")),
        &[401, 403, 404],
        true,
    ),
    op(
        "get",
        "/api/v1/me/timeline",
        "The patient's aftercare timeline; `session_id` picks an earlier session (patient)",
        None,
        (200, Some("Timeline")),
        &[401, 403, 404],
        true,
    ),
    op(
        "get",
        "/api/v1/me/timeline.ics",
        "The timeline as an iCalendar file (patient)",
        None,
        (200, None),
        &[401, 403, 404],
        true,
    ),
    op(
        "get",
        "/api/v1/patients/{id}/timeline",
        "The patient's timeline as they see it (provider, manager)",
        None,
        (200, Some("Timeline")),
        &[401, 403, 404],
        true,
    ),
    op(
        "get",
        "/api/v1/reports/series",
        "Series report for `from`..`to` (inclusive dates; manager)",
        None,
        (200, Some("Report")),
        &[401, 403, 422],
        true,
    ),
    op(
        "get",
        "/api/v1/reports/series.csv",
        "The same report as CSV (section, item, value; manager)",
        None,
        (200, None),
        &[401, 403, 422],
        true,
    ),
    op(
        "get",
        "/api/v1/audit",
        "Audit events, newest first, filtered by `patient_id`, `actor_id`, `action`, `from`, `to`; `before` pages (manager)",
        None,
        (200, Some("AuditList")),
        &[401, 403, 422],
        true,
    ),
    op(
        "get",
        "/api/v1/openapi.json",
        "This document",
        None,
        (200, None),
        &[],
        false,
    ),
];

/// The operations documented, as (method, path) in upper-case method form.
pub fn documented() -> Vec<(String, &'static str)> {
    OPS.iter().map(|o| (o.method.to_uppercase(), o.path)).collect()
}

fn status_text(code: u16) -> &'static str {
    match code {
        200 => "OK",
        201 => "Created",
        204 => "No content",
        401 => "No valid token (`unauthorized`, `invalid_credentials`)",
        403 => "The account's role may not do this (`forbidden`)",
        404 => "Not found, or another patient's record",
        409 => {
            "Refused by a rule (`open_series_exists`, `series_maximum_reached`, `series_closed`, `email_taken`, `last_manager`)"
        }
        422 => {
            "Invalid input (`validation_failed` with `field`, `invalid_body`) or a rule (`beyond_typical_acknowledgement_required`, `review_note_required`, `invalid_code`, `patient_email_required`)"
        }
        429 => "Too many failed attempts (`too_many_attempts`), see Retry-After",
        _ => "",
    }
}

fn build() -> Value {
    let mut paths = Map::new();
    for o in OPS {
        let mut responses = Map::new();
        let ok = match (o.ok.1, o.path.ends_with(".ics")) {
            (Some(s), _) => {
                json!({"description": status_text(o.ok.0), "content": {"application/json": {"schema": schema(s)}}})
            }
            (None, true) => json!({"description": "OK", "content": {"text/calendar": {"schema": string()}}}),
            (None, false) if o.path.ends_with(".csv") => {
                json!({"description": "OK", "content": {"text/csv": {"schema": string()}}})
            }
            (None, false) if o.ok.0 == 200 => {
                json!({"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}})
            }
            (None, false) => json!({"description": status_text(o.ok.0)}),
        };
        responses.insert(o.ok.0.to_string(), ok);
        let mut errors: Vec<u16> = o.errors.to_vec();
        errors.extend([400, 413, 415, 500, 503].into_iter().filter(|_| o.body.is_some()));
        errors.extend([500, 503]);
        errors.sort_unstable();
        errors.dedup();
        for code in errors {
            let text = match code {
                400 => "Malformed JSON (`malformed_json`)",
                413 => "Body over 64 KiB (`payload_too_large`)",
                415 => "Not application/json (`unsupported_media_type`)",
                500 => "Internal error (`internal_error`); nothing of the cause is disclosed",
                503 => "Database unavailable (`service_unavailable`)",
                other => status_text(other),
            };
            responses.insert(
                code.to_string(),
                json!({"description": text, "content": {"application/json": {"schema": schema("Error")}}}),
            );
        }
        let mut operation = json!({"summary": o.summary, "responses": responses});
        let mut parameters = Vec::new();
        if o.path.contains("{id}") {
            parameters.push(json!({"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}));
        }
        if o.path.ends_with("/timeline") || o.path.ends_with("timeline.ics") {
            parameters
                .push(json!({"name": "session_id", "in": "query", "required": false, "schema": {"type": "integer"}}));
        }
        if o.path.starts_with("/api/v1/reports/") || o.path == "/api/v1/audit" {
            parameters.push(json!({"name": "from", "in": "query", "required": false, "schema": date()}));
            parameters.push(json!({"name": "to", "in": "query", "required": false, "schema": date()}));
        }
        if o.path == "/api/v1/audit" {
            for (name, t) in [
                ("patient_id", "integer"),
                ("actor_id", "integer"),
                ("action", "string"),
                ("before", "integer"),
                ("limit", "integer"),
            ] {
                parameters.push(json!({"name": name, "in": "query", "required": false, "schema": {"type": t}}));
            }
        }
        if o.path == "/api/v1/patients" && o.method == "get" {
            parameters.push(json!({"name": "q", "in": "query", "required": false, "schema": string()}));
            parameters.push(json!({"name": "limit", "in": "query", "required": false,
                "schema": {"type": "integer", "minimum": 1, "maximum": 200}}));
        }
        if parameters.iter().any(|p| p["in"] == "query") {
            // A query string that does not parse (e.g. `limit=ten`) is refused like a bad field.
            operation["responses"]["422"] =
                json!({"description": status_text(422), "content": {"application/json": {"schema": schema("Error")}}});
        }
        if !parameters.is_empty() {
            operation["parameters"] = Value::Array(parameters);
        }
        if let Some(b) = o.body {
            operation["requestBody"] =
                json!({"required": true, "content": {"application/json": {"schema": schema(b)}}});
        }
        if !o.secured {
            operation["security"] = json!([]);
        }
        let entry = paths.entry(o.path.to_owned()).or_insert_with(|| json!({}));
        entry[o.method] = operation;
    }
    let session = object(
        &[
            "id",
            "series_id",
            "session_number",
            "performed_on",
            "provider_id",
            "treatment_areas",
            "eye_area",
            "device",
            "needle_depth_mm",
            "products_applied",
            "created_at",
        ],
        json!({
            "id": {"type": "integer"}, "series_id": {"type": "integer"}, "session_number": {"type": "integer", "minimum": 1, "maximum": 5},
            "performed_on": date(), "provider_id": {"type": "integer"},
            "treatment_areas": {"type": "array", "items": string()}, "eye_area": {"type": "boolean"},
            "device": {"type": "string", "enum": ["roller", "pen"]}, "needle_depth_mm": {"type": "number"},
            "products_applied": {"type": "array", "items": {"type": "string", "enum": ["lipo_peptide_booster", "moisturizer", "sunscreen"]}},
            "notes": nullable("string"), "beyond_typical_acknowledged_by": nullable("integer"), "created_at": string()
        }),
    );
    let series = object(
        &[
            "id",
            "patient_id",
            "condition",
            "planned_sessions",
            "status",
            "sessions_recorded",
            "typical_max",
            "maximum",
            "next_session",
        ],
        json!({
            "id": {"type": "integer"}, "patient_id": {"type": "integer"}, "condition": string(), "condition_label": string(),
            "planned_sessions": {"type": "integer", "minimum": 1, "maximum": 5}, "reason": nullable("string"), "review_note": nullable("string"),
            "flagged_after_maximum": {"type": "boolean"}, "status": {"type": "string", "enum": ["open", "completed"]},
            "opened_at": string(), "completed_at": nullable("string"), "sessions_recorded": {"type": "integer"},
            "typical_max": {"type": "integer", "const": 3}, "maximum": {"type": "integer", "const": 5},
            "next_session": {"type": "string", "enum": ["typical", "needs_acknowledgement", "refused", "series_closed"]},
            "sessions": {"type": "array", "items": schema("Session")}
        }),
    );
    let patient_props = json!({
        "id": {"type": "integer"}, "first_name": string(), "last_name": string(), "date_of_birth": date(),
        "email": nullable("string"), "phone": nullable("string"), "created_at": string(), "updated_at": string()
    });
    let mut detail_props = patient_props.clone();
    detail_props["has_portal_login"] = json!({"type": "boolean"});
    detail_props["series"] = json!({"type": "array", "items": schema("Series")});
    let user = object(
        &["id", "role", "display_name"],
        json!({"id": {"type": "integer"}, "role": {"type": "string", "enum": ["manager", "provider", "patient"]}, "display_name": string()}),
    );
    let provider_row = object(
        &[
            "provider_id",
            "provider_name",
            "sessions",
            "patients",
            "beyond_typical_share",
            "refusals",
        ],
        json!({"provider_id": {"type": "integer"}, "provider_name": string(), "sessions": {"type": "integer"},
            "patients": {"type": "integer"}, "beyond_typical_sessions": {"type": "integer"},
            "beyond_typical_share": {"type": "number"}, "refusals": {"type": "integer"}}),
    );
    let schemas = json!({
        "Error": object(&["error", "message"], json!({"error": {"type": "string", "enum": CODES}, "message": string(), "field": string()})),
        "Login": object(&["email", "password"], json!({"email": string(), "password": string()})),
        "Activate": object(&["code", "password"], json!({"code": string(), "password": {"type": "string", "minLength": 8, "maxLength": 128}})),
        "PasswordChange": object(&["current_password", "new_password"], json!({"current_password": string(), "new_password": {"type": "string", "minLength": 8, "maxLength": 128}})),
        "User": user,
        "Token": object(&["token", "token_type", "expires_at", "user"], json!({"token": string(), "token_type": {"type": "string", "const": "Bearer"}, "expires_at": string(), "user": schema("User")})),
        "Me": object(&["id", "role", "display_name", "email", "patient_id"], json!({"id": {"type": "integer"}, "role": string(), "display_name": string(), "email": string(), "patient_id": nullable("integer")})),
        "NewStaff": object(&["email", "display_name", "role", "password"], json!({"email": string(), "display_name": string(), "role": {"type": "string", "enum": ["manager", "provider"]}, "password": string()})),
        "Staff": object(&["id", "email", "display_name", "role", "active", "created_at"], json!({"id": {"type": "integer"}, "email": string(), "display_name": string(), "role": string(), "active": {"type": "boolean"}, "created_at": string()})),
        "StaffList": {"type": "array", "items": schema("Staff")},
        "PatientInput": object(&["first_name", "last_name", "date_of_birth"], json!({"first_name": string(), "last_name": string(), "date_of_birth": date(), "email": nullable("string"), "phone": nullable("string")})),
        "Patient": object(&["id", "first_name", "last_name", "date_of_birth", "email", "phone"], patient_props),
        "PatientList": {"type": "array", "items": schema("Patient")},
        "PatientDetail": object(&["id", "first_name", "last_name", "date_of_birth", "has_portal_login", "series"], detail_props),
        "Invitation": object(&["code", "activation_url", "expires_at"], json!({"code": string(), "activation_url": string(), "expires_at": string()})),
        "OpenSeries": object(&["condition"], json!({
            "condition": {"type": "string", "enum": ["acne_scars", "fine_lines_and_wrinkles", "enlarged_pores", "hyperpigmentation", "stretch_marks", "surgical_scars", "other"]},
            "planned_sessions": {"type": "integer", "minimum": 1, "maximum": 5, "default": 3}, "reason": nullable("string"), "review_note": nullable("string")
        })),
        "Series": series,
        "SeriesList": {"type": "array", "items": schema("Series")},
        "Session": session,
        "RecordSession": object(&["performed_on", "treatment_areas", "eye_area", "device", "needle_depth_mm"], json!({
            "performed_on": date(), "treatment_areas": {"type": "array", "items": string()}, "eye_area": {"type": "boolean"},
            "device": {"type": "string", "enum": ["roller", "pen"]}, "needle_depth_mm": {"type": "number", "minimum": 0.1, "maximum": 3.0},
            "products_applied": {"type": "array", "items": {"type": "string", "enum": ["lipo_peptide_booster", "moisturizer", "sunscreen"]}},
            "notes": nullable("string"), "acknowledge_beyond_typical": {"type": "boolean"}
        })),
        "Recorded": object(&["session", "series", "warnings"], json!({"session": schema("Session"), "series": schema("Series"), "warnings": {"type": "array", "items": string()}})),
        "Stage": object(&["key", "title", "starts_on", "ends_on", "instructions", "cautions", "is_current"], json!({
            "key": {"type": "string", "enum": ["day_of", "day_1", "days_2_7", "day_7_plus"]}, "title": string(), "starts_on": date(),
            "ends_on": nullable("string"), "instructions": {"type": "array", "items": string()}, "cautions": {"type": "array", "items": string()},
            "is_current": {"type": "boolean"}
        })),
        "Share": object(&["count", "share"], json!({"count": {"type": "integer"}, "share": {"type": "number"}})),
        "Report": object(
            &["series_opened", "series_started", "by_sessions_recorded", "within_typical", "beyond_typical", "at_maximum", "refused_attempts", "flagged_after_maximum", "providers"],
            json!({
                "from": nullable("string"), "to": nullable("string"), "series_opened": {"type": "integer"}, "series_started": {"type": "integer"},
                "by_sessions_recorded": {"type": "object", "additionalProperties": {"type": "integer"}},
                "within_typical": schema("Share"), "beyond_typical": schema("Share"), "at_maximum": schema("Share"),
                "refused_attempts": {"type": "integer"}, "flagged_after_maximum": {"type": "integer"},
                "providers": {"type": "array", "items": provider_row}
            }),
        ),
        "AuditEvent": object(&["id", "occurred_at", "action", "outcome"], json!({
            "id": {"type": "integer"}, "occurred_at": string(), "actor_id": nullable("integer"), "action": string(),
            "patient_id": nullable("integer"), "subject": nullable("string"), "outcome": string(), "address": nullable("string"), "detail": nullable("string")
        })),
        "AuditList": {"type": "array", "items": schema("AuditEvent")},
        "Timeline": object(&["session", "series", "today", "stages"], json!({
            "session": schema("Session"), "series": schema("Series"), "today": date(), "day_number": {"type": "integer"},
            "upcoming": {"type": "boolean"}, "current_stage": nullable("string"), "position": string(),
            "stages": {"type": "array", "items": schema("Stage")}
        })),
    });
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Micro-needling clinic API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Errors are {\"error\": code, \"message\": text}. Send `Authorization: Bearer <token>` from /auth/login."
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
            "schemas": schemas
        },
        "paths": paths
    })
}
