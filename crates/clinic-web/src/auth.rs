//! Who is calling: sign-in, session tokens (Bearer for the API, a cookie for pages), and role checks.
//! The token names a login session; the session row and the account (role, status) are read from the
//! database on every request.

use crate::address::client_address;
use crate::audit::event;
use crate::error::{AppError, PageError};
use crate::{AppState, blocking, quick_read};
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use chrono::{Duration, NaiveDateTime};
use clinic_auth::{DUMMY_HASH_INPUT, Password, backoff_after, generate_secret, hash_password, verify_password};
use clinic_db::login_sessions::LoginSession;
use clinic_db::users::User;
use clinic_db::{DbConn, login_sessions, throttle, users};
use clinic_domain::PatientId;
use clinic_domain::user::{Email, Role};
use std::future::Future;
use std::pin::Pin;
use std::sync::LazyLock;

/// A login session lasts at most this long…
pub const SESSION_ABSOLUTE_HOURS: i64 = 8;
/// …and ends after this long without a request.
pub const SESSION_IDLE_MINUTES: i64 = 30;
/// `last_seen_at` is written at most this often per session.
const TOUCH_AFTER_SECS: i64 = 60;
/// Failed attempts from one address within the window before it is locked out.
const ADDRESS_FAILURE_LIMIT: u32 = 50;
const ADDRESS_WINDOW_MINUTES: i64 = 15;
/// Consecutive failures of one account are counted over this window.
const ACCOUNT_WINDOW_HOURS: i64 = 24;

pub const SESSION_COOKIE: &str = "clinic_session";
pub const SECURE_SESSION_COOKIE: &str = "__Host-clinic_session";

/// An argon2id hash no account has: unknown e-mail addresses are verified against it, so the answer
/// takes as long as a wrong password.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    Password::parse(DUMMY_HASH_INPUT)
        .ok()
        .and_then(|p| hash_password(&p).ok())
        .unwrap_or_default()
});

/// The signed-in caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: User,
    pub session_id: String,
    pub address: String,
}

impl Caller {
    /// Refuses (403, audited) unless the caller has one of `roles`.
    pub fn require(&self, state: &AppState, roles: &[Role]) -> Result<(), AppError> {
        if roles.contains(&self.user.role) {
            return Ok(());
        }
        state.audit.record(
            event(state.now(), "access.role_refused", "denied")
                .actor(Some(self.user.id))
                .address(&self.address)
                .detail(format!("role {}", self.user.role)),
        );
        Err(AppError::Forbidden)
    }
}

impl Caller {
    /// Staff may read any patient's record; a patient only their own (anyone else's is "not found").
    pub fn may_read_patient(&self, state: &AppState, patient: PatientId) -> Result<(), AppError> {
        match self.user.role {
            Role::Provider | Role::Manager => Ok(()),
            Role::Patient if self.user.patient_id == Some(patient) => Ok(()),
            Role::Patient => {
                state.audit.record(
                    event(state.now(), "access.other_patient", "denied")
                        .actor(Some(self.user.id))
                        .patient(Some(patient))
                        .address(&self.address),
                );
                Err(AppError::NotFound)
            }
        }
    }

    /// An audit event with this caller as actor, from their address.
    pub fn event(&self, state: &AppState, action: &str, outcome: &str) -> crate::audit::Event {
        event(state.now(), action, outcome)
            .actor(Some(self.user.id))
            .address(&self.address)
    }
}

pub fn session_cookie_name(state: &AppState) -> &'static str {
    if state.settings.secure_cookies {
        SECURE_SESSION_COOKIE
    } else {
        SESSION_COOKIE
    }
}

fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_owned())
}

/// Checks a token and its session; refusals are audited.
async fn authenticate(req: &HttpRequest, token: Option<String>) -> Result<Caller, AppError> {
    let lookup = |conn: &mut DbConn, sid: &str| {
        Ok(login_sessions::find_with_user(conn, sid)?.map(|(session, user)| (session, user, ())))
    };
    authenticate_then(req, token, lookup, |_, _, ()| Ok(()))
        .await
        .map(|(caller, ())| caller)
}

/// Reads a login session by id with its account, and beside them whatever the handler needs (`Q`).
pub trait SessionLookup<Q>:
    FnOnce(&mut DbConn, &str) -> Result<Option<(LoginSession, User, Q)>, AppError> + Send + 'static
{
}

impl<Q, L> SessionLookup<Q> for L where
    L: FnOnce(&mut DbConn, &str) -> Result<Option<(LoginSession, User, Q)>, AppError> + Send + 'static
{
}

/// The handler's work once the session is known live, on the connection the lookup used.
pub trait LiveRead<Q, T>: FnOnce(&mut DbConn, &Caller, Q) -> Result<T, AppError> + Send + 'static {}

impl<Q, T, F> LiveRead<Q, T> for F where F: FnOnce(&mut DbConn, &Caller, Q) -> Result<T, AppError> + Send + 'static {}

/// Authenticates a bearer token and, once the session is known live, runs `then` on the same
/// connection with what `lookup` read beside the session: one trip to the pool, and with a lookup
/// that reads what the handler needs in the same query, one round trip (the patient's own timeline,
/// the route patients reload). Refusals are audited as for [`ApiCaller`].
pub async fn api_read<Q, T, L, F>(req: &HttpRequest, lookup: L, then: F) -> Result<(Caller, T), AppError>
where
    L: SessionLookup<Q>,
    F: LiveRead<Q, T>,
    T: Send + 'static,
{
    authenticate_then(req, bearer(req), lookup, then).await
}

async fn authenticate_then<Q, T, L, F>(
    req: &HttpRequest,
    token: Option<String>,
    lookup: L,
    then: F,
) -> Result<(Caller, T), AppError>
where
    L: SessionLookup<Q>,
    F: LiveRead<Q, T>,
    T: Send + 'static,
{
    let state = req
        .app_data::<web::Data<AppState>>()
        .ok_or_else(|| AppError::Internal("no state".into()))?
        .clone();
    let address = client_address(req, &state.settings.trusted_proxies);
    let result = match token.filter(|t| !t.is_empty()) {
        Some(token) => check_session(&state, &token, address.clone(), lookup, then).await,
        None => Err(AppError::Unauthorized),
    };
    if let Err(AppError::Unauthorized) = &result {
        state
            .audit
            .record(event(state.now(), "auth.token_refused", "denied").address(&address));
    }
    result
}

/// What the session row says of a token.
enum Judged {
    Refused { revoke: Option<String> },
    Live { caller: Caller, touch: bool },
}

fn judge(found: Option<(LoginSession, User)>, subject: &str, now: NaiveDateTime, address: String) -> Judged {
    let Some((session, user)) = found else {
        return Judged::Refused { revoke: None };
    };
    let idle_since = now - Duration::minutes(SESSION_IDLE_MINUTES);
    let live = session.revoked_at.is_none()
        && session.expires_at > now
        && session.last_seen_at > idle_since
        && subject == user.id.0.to_string()
        && user.is_active();
    if !live {
        return Judged::Refused {
            revoke: session.revoked_at.is_none().then_some(session.id),
        };
    }
    Judged::Live {
        touch: (now - session.last_seen_at).num_seconds() >= TOUCH_AFTER_SECS,
        caller: Caller {
            user,
            session_id: session.id,
            address,
        },
    }
}

/// The token's session, if it is live, then `then`: read by key in one trip (see [`quick_read`]); the
/// rare writes (expiry, the once-a-minute idle stamp) go to the blocking pool afterwards.
async fn check_session<Q, T, L, F>(
    state: &AppState,
    token: &str,
    address: String,
    lookup: L,
    then: F,
) -> Result<(Caller, T), AppError>
where
    L: SessionLookup<Q>,
    F: LiveRead<Q, T>,
    T: Send + 'static,
{
    let claims = state.keys.verify(token).map_err(|_| AppError::Unauthorized)?;
    let st = state.clone();
    let (judged, value) = quick_read(state, move |conn| {
        let (found, extra) = match lookup(conn, &claims.sid)? {
            Some((session, user, extra)) => (Some((session, user)), Some(extra)),
            None => (None, None),
        };
        let judged = judge(found, &claims.sub, st.now(), address);
        let value = match (&judged, extra) {
            (Judged::Live { caller, .. }, Some(extra)) => Some(then(conn, caller, extra)),
            _ => None,
        };
        Ok((judged, value))
    })
    .await?;
    let now = state.now();
    let st = state.clone();
    match (judged, value) {
        (Judged::Live { caller, touch }, Some(value)) => {
            if touch {
                let id = caller.session_id.clone();
                blocking(move || Ok(login_sessions::touch(&mut *st.conn()?, &id, now)?)).await?;
            }
            Ok((caller, value?))
        }
        (Judged::Refused { revoke: Some(id) }, _) => {
            blocking(move || Ok(login_sessions::revoke(&mut *st.conn()?, &id, now)?)).await?;
            Err(AppError::Unauthorized)
        }
        _ => Err(AppError::Unauthorized),
    }
}

/// The caller of an API route, from `Authorization: Bearer`.
pub struct ApiCaller(pub Caller);

impl FromRequest for ApiCaller {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { authenticate(&req, bearer(&req)).await.map(ApiCaller) })
    }
}

/// The caller of a page, from the session cookie; without one the page redirects to `/login`.
pub struct PageCaller(pub Caller);

impl FromRequest for PageCaller {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let token = req
                .cookie(SECURE_SESSION_COOKIE)
                .or_else(|| req.cookie(SESSION_COOKIE))
                .map(|c| c.value().to_owned());
            authenticate(&req, token).await.map(PageCaller).map_err(|e| match e {
                AppError::Unauthorized => PageError(AppError::LoginRequired),
                other => PageError(other),
            })
        })
    }
}

/// A new login session and its token.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub token: String,
    pub expires_at: NaiveDateTime,
    pub user: User,
}

fn account_key(email: &str) -> String {
    format!("account:{email}")
}

fn address_key(purpose: &str, address: &str) -> String {
    format!("{purpose}-address:{address}")
}

/// Refuses with 429 while `key` is locked.
pub fn check_throttle(conn: &mut DbConn, keys: &[&str], now: NaiveDateTime) -> Result<(), AppError> {
    let mut wait = None;
    for key in keys {
        if let Some(secs) = throttle::get(conn, key)?.and_then(|t| t.locked_for(now)) {
            wait = Some(wait.map_or(secs, |w: i64| w.max(secs)));
        }
    }
    wait.map_or(Ok(()), |retry_after| Err(AppError::Throttled { retry_after }))
}

/// Counts a failed attempt against an account (consecutive, growing back-off) and an address.
pub fn record_failure(
    conn: &mut DbConn,
    account: Option<&str>,
    purpose: &str,
    address: &str,
    now: NaiveDateTime,
) -> Result<(), AppError> {
    if let Some(key) = account {
        throttle::record_failure(conn, key, now, Duration::hours(ACCOUNT_WINDOW_HOURS), backoff_after)?;
    }
    let address_lock = |n: u32| {
        (n >= ADDRESS_FAILURE_LIMIT).then(|| std::time::Duration::from_secs(60 * ADDRESS_WINDOW_MINUTES as u64))
    };
    throttle::record_failure(
        conn,
        &address_key(purpose, address),
        now,
        Duration::minutes(ADDRESS_WINDOW_MINUTES),
        address_lock,
    )?;
    Ok(())
}

/// Opens a login session for `user` and signs its token.
pub fn open_session(state: &AppState, conn: &mut DbConn, user: User, now: NaiveDateTime) -> Result<SignedIn, AppError> {
    let session_id = generate_secret().map_err(|e| AppError::Internal(e.to_string()))?;
    let expires_at = now + Duration::hours(SESSION_ABSOLUTE_HOURS);
    login_sessions::insert(conn, &session_id, user.id, now, expires_at)?;
    let token = state
        .keys
        .issue(
            user.id.0,
            &session_id,
            now.and_utc().timestamp(),
            expires_at.and_utc().timestamp(),
        )
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(SignedIn {
        token,
        expires_at,
        user,
    })
}

/// Checks e-mail and password (throttled, timing-safe for unknown accounts) and opens a session.
pub async fn sign_in(state: &AppState, email: &str, password: &str, address: &str) -> Result<SignedIn, AppError> {
    let email = Email::parse("email", email)
        .map(|e| e.as_str().to_owned())
        .unwrap_or_else(|_| email.trim().to_lowercase());
    let password = password.to_owned();
    let address = address.to_owned();
    let st = state.clone();
    let (addr, key) = (address.clone(), email.clone());
    let user = blocking(move || {
        let now = st.now();
        let mut conn = st.conn()?;
        let throttled = check_throttle(&mut conn, &[&account_key(&key), &address_key("login", &addr)], now);
        if let Err(e) = throttled {
            st.audit.record(event(now, "auth.login", "throttled").address(&addr));
            return Err(e);
        }
        Ok(users::find_by_email(&mut conn, &key)?)
    })
    .await?;
    // Unknown accounts are checked against the dummy hash, so the answer takes as long.
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    let matches = state
        .hasher
        .run(move || verify_password(&password, stored.as_deref().unwrap_or(&DUMMY_HASH)))
        .await?;
    let st = state.clone();
    blocking(move || {
        let now = st.now();
        let mut conn = st.conn()?;
        let account = account_key(&email);
        match user {
            Some(user) if matches && user.is_active() => {
                throttle::reset(&mut conn, &account)?;
                let signed = open_session(&st, &mut conn, user, now)?;
                st.audit.record(
                    event(now, "auth.login", "success")
                        .actor(Some(signed.user.id))
                        .address(&address),
                );
                Ok(signed)
            }
            other => {
                record_failure(&mut conn, Some(&account), "login", &address, now)?;
                st.audit.record(
                    event(now, "auth.login", "failure")
                        .actor(other.map(|u| u.id))
                        .address(&address),
                );
                Err(AppError::InvalidCredentials)
            }
        }
    })
    .await
}

/// Ends a login session.
pub async fn sign_out(state: &AppState, caller: &Caller) -> Result<(), AppError> {
    let st = state.clone();
    let caller = caller.clone();
    blocking(move || {
        let now = st.now();
        let mut conn = st.conn()?;
        login_sessions::revoke(&mut conn, &caller.session_id, now)?;
        st.audit.record(
            event(now, "auth.logout", "success")
                .actor(Some(caller.user.id))
                .address(&caller.address),
        );
        Ok(())
    })
    .await
}

/// Hashes a password on the hashing threads.
pub async fn hash_off_worker(state: &AppState, password: Password) -> Result<String, AppError> {
    state
        .hasher
        .run(move || hash_password(&password))
        .await?
        .map_err(|e| AppError::Internal(e.to_string()))
}
