//! Staff accounts: managers create, list, disable and re-enable them.

use crate::auth::ApiCaller;
use crate::error::{ApiError, ErrorBody};
use crate::routes::RouteSpec;
use crate::run::db;
use crate::state::AppState;
use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use clinic_app::invitations::Issued;
use clinic_app::staff::{self, NewStaff};
use clinic_app::{Actor, Error};
use clinic_db::users::User;
use clinic_domain::FieldError;
use clinic_domain::UserId;
use clinic_domain::user::Role;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub fn routes(v: &mut Vec<RouteSpec>) {
    v.push(RouteSpec::new(Method::POST, "/api/v1/staff", || web::post().to(create)));
    v.push(RouteSpec::new(Method::GET, "/api/v1/staff", || web::get().to(list)));
    v.push(RouteSpec::new(Method::POST, "/api/v1/staff/{id}/disable", || {
        web::post().to(disable)
    }));
    v.push(RouteSpec::new(Method::POST, "/api/v1/staff/{id}/enable", || {
        web::post().to(enable)
    }));
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewStaff)]
pub(crate) struct NewStaffBody {
    email: String,
    display_name: String,
    #[schema(schema_with = crate::schemas::staff_role)]
    role: String,
    /// Refused (422): staff set their own password through the invitation.
    #[serde(default)]
    password: Option<serde_json::Value>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = StaffInvitation)]
pub(crate) struct StaffInvitationView {
    /// The new account's id.
    id: i64,
    /// The one-time code the person activates their account with (shown once).
    code: String,
    activation_url: String,
    expires_at: String,
}

#[derive(Serialize, ToSchema)]
#[schema(as = Staff)]
pub(crate) struct StaffView {
    id: i64,
    email: String,
    display_name: String,
    #[schema(schema_with = crate::schemas::role)]
    role: Role,
    active: bool,
    created_at: String,
}

impl From<User> for StaffView {
    fn from(u: User) -> Self {
        Self {
            id: u.id.0,
            active: u.is_active(),
            email: u.email,
            display_name: u.display_name,
            role: u.role,
            created_at: crate::views::utc(u.created_at),
        }
    }
}

/// Invites a staff member (shared by the API and the staff page): the role is checked and the input
/// parsed; the person sets their own password with the code.
pub(crate) async fn invite_staff(
    state: &AppState,
    actor: &Actor,
    email: &str,
    display_name: &str,
    role: &str,
) -> Result<(User, Issued), Error> {
    let new = NewStaff::parse(email, display_name, role)?;
    let actor = actor.clone();
    db(state, move |conn, env| staff::invite(conn, env, &actor, &new)).await
}

/// Invite a staff member (manager): their account and a one-time code with which they set their own
/// password (`POST /auth/activate`). A `password` is refused: managers do not choose staff passwords.
#[utoipa::path(post, path = "/api/v1/staff", tag = "staff", request_body = NewStaffBody,
    responses((status = 201, body = StaffInvitationView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn create(
    state: web::Data<AppState>,
    caller: ApiCaller,
    body: web::Json<NewStaffBody>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    caller.0.require(&state.env(), &[Role::Manager])?;
    if b.password.is_some() {
        let refused = FieldError::new(
            "password",
            "leave it out: staff set their own password with the invitation code",
        );
        return Err(Error::from(refused).into());
    }
    let (user, issued) = invite_staff(&state, &caller.0, &b.email, &b.display_name, &b.role).await?;
    Ok(HttpResponse::Created().json(StaffInvitationView {
        id: user.id.0,
        code: issued.code.as_str().to_owned(),
        activation_url: issued.activation_url,
        expires_at: crate::views::utc(issued.expires_at),
    }))
}

/// List staff accounts (manager).
#[utoipa::path(get, path = "/api/v1/staff", tag = "staff",
    responses((status = 200, body = Vec<StaffView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(crate) async fn list(state: web::Data<AppState>, caller: ApiCaller) -> Result<HttpResponse, ApiError> {
    let actor = caller.0;
    let staff = db(&state, move |conn, env| staff::list(conn, env, &actor)).await?;
    Ok(HttpResponse::Ok().json(staff.into_iter().map(StaffView::from).collect::<Vec<_>>()))
}

/// Disable a staff account; its tokens end at once (manager).
#[utoipa::path(post, path = "/api/v1/staff/{id}/disable", tag = "staff", params(("id" = i64, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(crate) async fn disable(
    state: web::Data<AppState>,
    caller: ApiCaller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let (actor, id) = (caller.0, UserId(path.into_inner()));
    db(&state, move |conn, env| staff::set_active(conn, env, &actor, id, false)).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Re-enable a staff account (manager).
#[utoipa::path(post, path = "/api/v1/staff/{id}/enable", tag = "staff", params(("id" = i64, Path)),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub(crate) async fn enable(
    state: web::Data<AppState>,
    caller: ApiCaller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let (actor, id) = (caller.0, UserId(path.into_inner()));
    db(&state, move |conn, env| staff::set_active(conn, env, &actor, id, true)).await?;
    Ok(HttpResponse::NoContent().finish())
}
