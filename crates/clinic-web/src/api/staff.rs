//! Staff accounts: managers create, list, disable and re-enable them.

use crate::audit::event;
use crate::auth::{ApiCaller, Caller, hash_off_worker};
use crate::error::AppError;
use crate::{AppState, RouteSpec, blocking};
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpResponse, web};
use clinic_auth::Password;
use clinic_db::users::User;
use clinic_db::{DbError, login_sessions, users};
use clinic_domain::user::{Email, PersonName, Role};
use clinic_domain::{FieldError, UserId};
use serde::{Deserialize, Serialize};

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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewStaff {
    email: String,
    display_name: String,
    role: String,
    password: String,
}

#[derive(Serialize)]
pub(crate) struct StaffView {
    id: i64,
    email: String,
    display_name: String,
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
            created_at: u
                .created_at
                .and_utc()
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        }
    }
}

fn email_taken() -> AppError {
    AppError::rule(
        StatusCode::CONFLICT,
        "email_taken",
        "an account with this e-mail address already exists",
    )
}

/// Creates a staff account (shared by the API and the staff page).
pub(crate) async fn create_staff(
    state: &AppState,
    caller: &Caller,
    email: &str,
    display_name: &str,
    role: &str,
    password: &str,
) -> Result<User, AppError> {
    caller.require(state, &[Role::Manager])?;
    let email = Email::parse("email", email)?;
    let name = PersonName::parse("display_name", display_name)?;
    let role: Role = role.parse()?;
    if !role.is_staff() {
        return Err(FieldError::new("role", "must be manager or provider").into());
    }
    let password = Password::parse(password).map_err(|e| FieldError::new("password", e.to_string()))?;
    let hash = hash_off_worker(state, password).await?;
    let st = state.clone();
    let caller = caller.clone();
    blocking(move || {
        let now = st.now();
        let mut conn = st.conn()?;
        let created = conn.write_transaction(|conn| {
            if users::find_by_email(conn, email.as_str())?.is_some() {
                return Ok(None);
            }
            let user = users::insert(
                conn,
                &users::NewUser {
                    email: email.as_str(),
                    display_name: name.as_str(),
                    role: role.as_str(),
                    password_hash: &hash,
                    patient_id: None,
                    created_at: now,
                },
            )?;
            let audit = caller
                .event(&st, "staff.create", "success")
                .subject(format!("user:{}", user.id));
            clinic_db::audit::insert(conn, &audit.detail(format!("role {role}")).build())?;
            Ok::<_, DbError>(Some(user))
        });
        match created {
            Ok(Some(user)) => Ok(user),
            Ok(None) | Err(DbError::Conflict(_)) => Err(email_taken()),
            Err(e) => Err(e.into()),
        }
    })
    .await
}

async fn create(
    state: web::Data<AppState>,
    caller: ApiCaller,
    body: web::Json<NewStaff>,
) -> Result<HttpResponse, AppError> {
    let b = body.into_inner();
    let user = create_staff(&state, &caller.0, &b.email, &b.display_name, &b.role, &b.password).await?;
    Ok(HttpResponse::Created().json(StaffView::from(user)))
}

/// Staff accounts, for a manager (audited).
pub(crate) async fn list_staff(state: &AppState, caller: &Caller) -> Result<Vec<User>, AppError> {
    caller.require(state, &[Role::Manager])?;
    let st = state.clone();
    let caller = caller.clone();
    blocking(move || {
        let staff = users::list_staff(&mut *st.conn()?)?;
        st.audit.record(caller.event(&st, "staff.list", "success"));
        Ok(staff)
    })
    .await
}

async fn list(state: web::Data<AppState>, caller: ApiCaller) -> Result<HttpResponse, AppError> {
    let staff = list_staff(&state, &caller.0).await?;
    Ok(HttpResponse::Ok().json(staff.into_iter().map(StaffView::from).collect::<Vec<_>>()))
}

async fn disable(
    state: web::Data<AppState>,
    caller: ApiCaller,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    set_active(&state, &caller.0, UserId(path.into_inner()), false).await?;
    Ok(HttpResponse::NoContent().finish())
}

async fn enable(state: web::Data<AppState>, caller: ApiCaller, path: web::Path<i64>) -> Result<HttpResponse, AppError> {
    set_active(&state, &caller.0, UserId(path.into_inner()), true).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Disables (ending the account's sessions at once) or re-enables a staff account. The last active
/// manager cannot be disabled.
pub(crate) async fn set_active(state: &AppState, caller: &Caller, id: UserId, active: bool) -> Result<(), AppError> {
    let caller = caller.clone();
    caller.require(state, &[Role::Manager])?;
    let st = state.clone();
    blocking(move || {
        let now = st.now();
        let mut conn = st.conn()?;
        conn.write_transaction(|conn| {
            let target = users::find(conn, id)?;
            if !target.role.is_staff() {
                return Err(AppError::NotFound);
            }
            if !active && target.role == Role::Manager && target.is_active() && users::count_active_managers(conn)? <= 1
            {
                return Err(AppError::rule(
                    StatusCode::CONFLICT,
                    "last_manager",
                    "this is the last active manager; add or enable another manager first",
                ));
            }
            users::set_disabled(conn, id, if active { None } else { target.disabled_at.or(Some(now)) })?;
            if !active {
                login_sessions::revoke_all_of_user(conn, id, None, now)?;
            }
            let action = if active { "staff.enable" } else { "staff.disable" };
            clinic_db::audit::insert(
                conn,
                &event(now, action, "success")
                    .actor(Some(caller.user.id))
                    .subject(format!("user:{id}"))
                    .address(&caller.address)
                    .build(),
            )?;
            Ok(())
        })
    })
    .await
}
