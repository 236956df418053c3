//! `GET /api/v1/openapi.json`: the API described as OpenAPI 3.1, generated (utoipa) from the handlers'
//! `#[utoipa::path]` attributes and their request and response types. Statuses every operation can
//! answer (a database that is down, an internal error, an unreadable body) are added here once.

use super::{
    audit, auth, check_ins, clinic, consent, invitations, messages, mfa, patients, photos, reports, series, sessions,
    staff, timeline,
};
use crate::error::ErrorBody;
use crate::routes::RouteSpec;
use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use std::sync::LazyLock;
use utoipa::openapi::path::{Operation, ParameterIn};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, OpenApi as Document, Ref, ResponseBuilder};
use utoipa::{Modify, OpenApi};

pub fn routes(v: &mut Vec<RouteSpec>) {
    v.push(RouteSpec::new(Method::GET, "/api/v1/openapi.json", || {
        web::get().to(serve)
    }));
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Micro-needling clinic API",
        description = "Errors are {\"error\": code, \"message\": text}. Send `Authorization: Bearer <token>` from /auth/login."
    ),
    servers((url = "/")),
    security(("bearer" = [])),
    paths(
        auth::login, auth::logout, auth::activate_code, auth::password, auth::me,
        auth::password_reset, auth::password_reset_confirm, auth::second_factor,
        mfa::start, mfa::confirm, mfa::remove,
        clinic::public, clinic::update,
        consent::publish, consent::forms, consent::mine, consent::sign,
        messages::list, messages::retry,
        staff::create, staff::list, staff::disable, staff::enable,
        patients::create, patients::list, patients::show, patients::update,
        invitations::create,
        invitations::disable,
        invitations::enable,
        series::open, series::list, series::show, series::record, series::complete,
        sessions::amend, sessions::revisions, sessions::void,
        photos::upload, photos::full, photos::thumbnail, photos::list, photos::withdraw,
        check_ins::check_in, check_ins::alerts, check_ins::resolve,
        timeline::mine, timeline::mine_ics, timeline::of_patient,
        reports::report_json, reports::report_csv, audit::audit_json,
        openapi_json,
    ),
    components(schemas(ErrorBody)),
    modifiers(&Common)
)]
struct ApiDoc;

/// This document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "meta", security(()),
    responses((status = 200, description = "This document")))]
#[allow(dead_code)]
fn openapi_json() {}

/// What each error status means, with the codes it carries.
fn error_description(status: &str) -> &'static str {
    match status {
        "400" => "Malformed JSON (`malformed_json`)",
        "401" => {
            "No valid token (`unauthorized`, `invalid_credentials`), or a wrong second-factor code at sign-in (`invalid_code`)"
        }
        "403" => {
            "The account's role may not do this (`forbidden`), or the session must first set up a second factor (`mfa_enrolment_required`)"
        }
        "404" => "Not found, or another patient's record (`not_found`, `no_session`)",
        "409" => {
            "Refused by a rule (`open_series_exists`, `series_maximum_reached`, `series_closed`, `email_taken`, `last_manager`, `not_retryable`, `only_latest_can_be_voided`, `session_void`, `alert_resolved`, `mfa_already_enabled`, `mfa_not_started`, `consent_form_outdated`, `consent_already_signed`, `photo_withdrawn`)"
        }
        "413" => "Body over 64 KiB, or a photo over 15 MB (`payload_too_large`)",
        "415" => "Not application/json (`unsupported_media_type`)",
        "422" => {
            "Invalid input (`validation_failed` with `field`, `invalid_body`, `invalid_time_zone`, `reason_required`, `note_required`, `idempotency_key_reused`) or a rule (`beyond_typical_acknowledgement_required`, `review_note_required`, `invalid_code`, `patient_email_required`, `check_in_closed`, `consent_required`, `unsupported_image`)"
        }
        "429" => "Too many failed attempts (`too_many_attempts`), see Retry-After",
        "500" => "Internal error (`internal_error`); nothing of the cause is disclosed",
        "503" => "Database unavailable or the server busy (`service_unavailable`), see Retry-After",
        _ => "",
    }
}

struct Common;

impl Modify for Common {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
        for (path, item) in &mut doc.paths.paths {
            let ops = [
                ("get", &mut item.get),
                ("post", &mut item.post),
                ("put", &mut item.put),
                ("patch", &mut item.patch),
                ("delete", &mut item.delete),
            ];
            for (method, op) in ops {
                if let Some(op) = op {
                    op.operation_id = Some(operation_id(method, path));
                    add_common_errors(op);
                }
            }
        }
    }
}

/// A unique id from the method and path: `post_patients_id_invitation`.
fn operation_id(method: &str, path: &str) -> String {
    let words: Vec<&str> = path
        .trim_start_matches("/api/v1/")
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    format!("{method}_{}", words.join("_"))
}

fn add_common_errors(op: &mut Operation) {
    let mut extra = vec!["500", "503"];
    if op.request_body.is_some() {
        extra.extend(["400", "413", "415"]);
    }
    let has_query = op
        .parameters
        .iter()
        .flatten()
        .any(|p| matches!(p.parameter_in, ParameterIn::Query));
    if has_query {
        // A query string that does not parse (e.g. `limit=ten`) is refused like a bad field.
        extra.push("422");
    }
    for status in extra {
        op.responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| error_response().into());
    }
    for (status, response) in &mut op.responses.responses {
        if let utoipa::openapi::RefOr::T(r) = response
            && r.description.is_empty()
        {
            r.description = match status.as_str() {
                "200" => "OK".to_owned(),
                "202" => "Accepted".to_owned(),
                "201" => "Created".to_owned(),
                "204" => "No content".to_owned(),
                other => error_description(other).to_owned(),
            };
        }
    }
}

fn error_response() -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("Error")))
                .build(),
        )
        .build()
}

static DOCUMENT: LazyLock<String> = LazyLock::new(|| ApiDoc::openapi().to_json().unwrap_or_default());

/// The document as JSON text.
pub fn document() -> &'static str {
    &DOCUMENT
}

async fn serve() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(DOCUMENT.as_str())
}
