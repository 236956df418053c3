//! The JSON API under `/api/v1`, and its OpenAPI document, generated from the handlers' request and
//! response types.

mod audit;
mod auth;
mod check_ins;
mod clinic;
mod consent;
mod invitations;
mod messages;
mod mfa;
mod openapi;
pub(crate) mod patients;
pub(crate) mod photos;
pub(crate) mod reports;
pub(crate) mod series;
pub(crate) mod sessions;
mod staff;
pub(crate) mod timeline;

#[cfg(test)]
mod properties;

pub(crate) use audit::AuditQuery;
pub(crate) use check_ins::{AlertView, alert_filter};
pub use openapi::document;
pub(crate) use staff::invite_staff;

use crate::routes::RouteSpec;

pub fn routes(v: &mut Vec<RouteSpec>) {
    auth::routes(v);
    mfa::routes(v);
    clinic::routes(v);
    consent::routes(v);
    staff::routes(v);
    patients::routes(v);
    invitations::routes(v);
    messages::routes(v);
    series::routes(v);
    sessions::routes(v);
    photos::routes(v);
    check_ins::routes(v);
    timeline::routes(v);
    reports::routes(v);
    audit::routes(v);
    openapi::routes(v);
}
