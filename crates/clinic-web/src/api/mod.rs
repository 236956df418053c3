//! The JSON API under `/api/v1`.

mod auth;
pub(crate) mod invitations;
pub(crate) mod manager;
pub mod openapi;
pub(crate) mod patients;
pub(crate) mod series;
pub(crate) mod staff;
pub(crate) mod timeline;

#[cfg(test)]
mod properties;

pub(crate) use auth::{activate, change_password};

use crate::RouteSpec;

pub fn routes(v: &mut Vec<RouteSpec>) {
    auth::routes(v);
    staff::routes(v);
    patients::routes(v);
    invitations::routes(v);
    series::routes(v);
    timeline::routes(v);
    manager::routes(v);
    openapi::routes(v);
}
