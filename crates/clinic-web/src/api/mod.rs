//! The JSON API under `/api/v1`.

mod auth;
mod invitations;
mod staff;

pub(crate) use auth::activate;

use crate::RouteSpec;

pub fn routes(v: &mut Vec<RouteSpec>) {
    auth::routes(v);
    staff::routes(v);
    invitations::routes(v);
}
