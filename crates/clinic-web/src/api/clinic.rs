//! The clinic's settings: the public part for anyone, all of them for a manager.

use crate::auth::ApiCaller;
use crate::error::{ApiError, ErrorBody};
use crate::routes::RouteSpec;
use crate::run::db;
use crate::state::AppState;
use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use clinic_app::clinic::{self, Clinic, SettingsInput};
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

pub fn routes(v: &mut Vec<RouteSpec>) {
    v.push(RouteSpec::new(Method::GET, "/api/v1/clinic", || web::get().to(public)));
    v.push(RouteSpec::new(Method::PUT, "/api/v1/clinic", || web::put().to(update)));
}

/// What anyone may know of the clinic.
#[derive(Serialize, ToSchema)]
#[schema(as = ClinicPublic)]
pub(crate) struct PublicView {
    name: String,
    time_zone: String,
    phone: Option<String>,
    email: Option<String>,
    address: Option<String>,
}

/// Every setting, for a manager.
#[derive(Serialize, ToSchema)]
#[schema(as = Clinic)]
pub(crate) struct SettingsView {
    name: String,
    time_zone: String,
    phone: Option<String>,
    email: Option<String>,
    address: Option<String>,
    #[schema(minimum = 0, maximum = 23)]
    reminder_hour: u8,
    #[schema(schema_with = crate::schemas::mfa_policy)]
    require_mfa_for: &'static str,
    patients_see_photos: bool,
}

impl From<&Clinic> for PublicView {
    fn from(c: &Clinic) -> Self {
        Self {
            name: c.name.clone(),
            time_zone: c.time_zone.name().to_owned(),
            phone: c.phone.clone(),
            email: c.email.clone(),
            address: c.address.clone(),
        }
    }
}

impl From<&Clinic> for SettingsView {
    fn from(c: &Clinic) -> Self {
        Self {
            name: c.name.clone(),
            time_zone: c.time_zone.name().to_owned(),
            phone: c.phone.clone(),
            email: c.email.clone(),
            address: c.address.clone(),
            reminder_hour: c.reminder_hour.get(),
            require_mfa_for: c.require_mfa_for.as_str(),
            patients_see_photos: c.patients_see_photos,
        }
    }
}

/// A present field, even `null` (which clears it); an absent one stays `None` (unchanged).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<T>, D::Error> {
    T::deserialize(d).map(Some)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = ClinicSettings)]
pub(crate) struct SettingsBody {
    name: String,
    /// An IANA time zone name (Europe/London, America/New_York).
    time_zone: String,
    /// Absent: unchanged; null: cleared.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    email: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    address: Option<Option<String>>,
    /// The clinic-local hour (0–23) reminders go out; 9 at first.
    #[schema(minimum = 0, maximum = 23)]
    reminder_hour: Option<i64>,
    #[schema(schema_with = crate::schemas::mfa_policy)]
    require_mfa_for: Option<String>,
    patients_see_photos: Option<bool>,
}

impl From<SettingsBody> for SettingsInput {
    fn from(b: SettingsBody) -> Self {
        Self {
            name: b.name,
            time_zone: b.time_zone,
            phone: b.phone,
            email: b.email,
            address: b.address,
            reminder_hour: b.reminder_hour,
            require_mfa_for: b.require_mfa_for,
            patients_see_photos: b.patients_see_photos,
        }
    }
}

/// The clinic's name, time zone and contact details (anyone, no token).
#[utoipa::path(get, path = "/api/v1/clinic", tag = "clinic", security(()),
    responses((status = 200, body = PublicView)))]
pub(crate) async fn public(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok().json(PublicView::from(&*state.clinic()))
}

/// Change the clinic's settings (manager).
#[utoipa::path(put, path = "/api/v1/clinic", tag = "clinic", request_body = SettingsBody,
    responses((status = 200, body = SettingsView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub(crate) async fn update(
    state: web::Data<AppState>,
    caller: ApiCaller,
    body: web::Json<SettingsBody>,
) -> Result<HttpResponse, ApiError> {
    let (actor, input) = (caller.0, SettingsInput::from(body.into_inner()));
    let updated = db(&state, move |conn, env| clinic::update(conn, env, &actor, &input)).await?;
    state.clinic.set(updated.clone());
    Ok(HttpResponse::Ok().json(SettingsView::from(&updated)))
}
