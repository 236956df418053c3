//! Staff accounts: managers create, list, disable and re-enable them.

use crate::audit::event;
use crate::auth::{ApiCaller, hash_off_worker};
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

async fn create(
    state: web::Data<AppState>,
    caller: ApiCaller,
    body: web::Json<NewStaff>,
) -> Result<HttpResponse, AppError> {
    let caller = caller.0;
    caller.require(&state, &[Role::Manager])?;
    let body = body.into_inner();
    let email = Email::parse("email", &body.email)?;
    let name = PersonName::parse("display_name", &body.display_name)?;
    let role: Role = body.role.parse()?;
    if !role.is_staff() {
        return Err(FieldError::new("role", "must be manager or provider").into());
    }
    let password = Password::parse(&body.password).map_err(|e| FieldError::new("password", e.to_string()))?;
    let hash = hash_off_worker(&state, password).await?;
    let st = state.clone();
    let user = blocking(move || {
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
            clinic_db::audit::insert(
                conn,
                &event(now, "staff.create", "success")
                    .actor(Some(caller.user.id))
                    .subject(format!("user:{}", user.id))
                    .address(&caller.address)
                    .detail(format!("role {role}"))
                    .build(),
            )?;
            Ok::<_, DbError>(Some(user))
        });
        match created {
            Ok(Some(user)) => Ok(user),
            Ok(None) | Err(DbError::Conflict(_)) => Err(email_taken()),
            Err(e) => Err(e.into()),
        }
    })
    .await?;
    Ok(HttpResponse::Created().json(StaffView::from(user)))
}

async fn list(state: web::Data<AppState>, caller: ApiCaller) -> Result<HttpResponse, AppError> {
    let caller = caller.0;
    caller.require(&state, &[Role::Manager])?;
    let st = state.clone();
    let staff = blocking(move || {
        let staff = users::list_staff(&mut *st.conn()?)?;
        st.audit.record(
            event(st.now(), "staff.list", "success")
                .actor(Some(caller.user.id))
                .address(&caller.address),
        );
        Ok(staff)
    })
    .await?;
    Ok(HttpResponse::Ok().json(staff.into_iter().map(StaffView::from).collect::<Vec<_>>()))
}

async fn disable(
    state: web::Data<AppState>,
    caller: ApiCaller,
    path: web::Path<i64>,
) -> Result<HttpResponse, AppError> {
    set_active(state, caller, UserId(path.into_inner()), false).await
}

async fn enable(state: web::Data<AppState>, caller: ApiCaller, path: web::Path<i64>) -> Result<HttpResponse, AppError> {
    set_active(state, caller, UserId(path.into_inner()), true).await
}

/// Disables (ending the account's sessions at once) or re-enables a staff account. The last active
/// manager cannot be disabled.
async fn set_active(
    state: web::Data<AppState>,
    caller: ApiCaller,
    id: UserId,
    active: bool,
) -> Result<HttpResponse, AppError> {
    let caller = caller.0;
    caller.require(&state, &[Role::Manager])?;
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
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
