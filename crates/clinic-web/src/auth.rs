//! Who is calling: session tokens (Bearer for the API, a cookie for pages) checked against their login
//! session on every request, and the actions around a password hash, whose hashing runs on the
//! hashing threads between the halves the use cases provide.

use crate::address::client_address;
use crate::audit::Written;
use crate::error::ApiError;
use crate::html::PageError;
use crate::run::{audit_not_written, blocking, read};
use crate::state::AppState;
use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use clinic_app::accounts::{self, Judged, SignInOutcome, SignedIn};
use clinic_app::audit::Collected;
use clinic_app::{Actor, Error, ErrorCode};
use clinic_auth::{DUMMY_HASH_INPUT, Password, hash_password, verify_password};
use clinic_db::generations::Generation;
use clinic_db::login_sessions::LoginSession;
use clinic_db::users::User;
use clinic_db::{DbConn, login_sessions};
use clinic_domain::FieldError;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, LazyLock};

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

/// The application state: one reference counted, not a copy of its fields.
fn state_of(req: &HttpRequest) -> Result<web::Data<AppState>, Error> {
    req.app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| Error::bug("no application state"))
}

/// Checks a token and its session (the login session with its account, through the kept reads);
/// refusals are audited.
async fn authenticate(req: &HttpRequest, token: Option<String>) -> Result<Actor, Error> {
    let state = state_of(req)?;
    let reads = Arc::clone(&state.kept_reads);
    let with_user = move |conn: &mut DbConn, sid: &str| {
        Ok(reads
            .find_with_user(conn, sid)?
            .map(|(session, user)| (session, user, ())))
    };
    authenticate_then(req, state, token, with_user, |_, _, _, ()| Ok(()))
        .await
        .map(|(actor, ())| actor)
}

/// What a session that must first enrol a second factor may reach: who it is, enrolment, sign-out.
fn reachable_before_enrolment(path: &str) -> bool {
    matches!(
        path,
        "/api/v1/me" | "/api/v1/me/mfa" | "/api/v1/auth/logout" | "/logout" | "/mfa"
    ) || path.starts_with("/api/v1/me/mfa/")
        || path.starts_with("/mfa/")
}

/// Reads a login session by id with its account, and beside them whatever the handler needs (`Q`).
pub trait SessionLookup<Q>:
    FnOnce(&mut DbConn, &str) -> Result<Option<(LoginSession, User, Q)>, Error> + Send + 'static
{
}

impl<Q, L> SessionLookup<Q> for L where
    L: FnOnce(&mut DbConn, &str) -> Result<Option<(LoginSession, User, Q)>, Error> + Send + 'static
{
}

/// The handler's work once the session is known live, on the connection the lookup used.
pub trait LiveRead<Q, T>:
    FnOnce(&mut DbConn, &clinic_app::Env<'_>, &Actor, Q) -> Result<T, Error> + Send + 'static
{
}

impl<Q, T, F> LiveRead<Q, T> for F where
    F: FnOnce(&mut DbConn, &clinic_app::Env<'_>, &Actor, Q) -> Result<T, Error> + Send + 'static
{
}

/// Authenticates a bearer token and, once the session is known live, runs `then` on the same
/// connection with what `lookup` read beside the session: one trip to the pool, and with a lookup
/// that reads what the handler needs in the same query, one round trip (the patient's own timeline,
/// the route patients reload). Refusals are audited as for [`ApiCaller`].
pub async fn api_read<Q, T, L, F>(req: &HttpRequest, lookup: L, then: F) -> Result<(Actor, T), Error>
where
    L: SessionLookup<Q>,
    F: LiveRead<Q, T>,
    T: Send + 'static,
{
    authenticate_then(req, state_of(req)?, bearer(req), lookup, then).await
}

async fn authenticate_then<Q, T, L, F>(
    req: &HttpRequest,
    state: web::Data<AppState>,
    token: Option<String>,
    lookup: L,
    then: F,
) -> Result<(Actor, T), Error>
where
    L: SessionLookup<Q>,
    F: LiveRead<Q, T>,
    T: Send + 'static,
{
    let address = client_address(req, &state.settings.trusted_proxies);
    let open = reachable_before_enrolment(req.path());
    let result = match token.filter(|t| !t.is_empty()) {
        Some(token) => check_session(&state, &token, address.clone(), open, lookup, then).await,
        None => Err(Error::Unauthorized),
    };
    if let Err(Error::Unauthorized) = &result {
        // Counted, one row per address and minute: a flood of bad tokens cannot grow the log.
        state.audit.token_refused(&address, state.env().now());
    }
    result
}

/// A bearer token's session answered from what the kept reads hold, with no lookup of its own: once it
/// is judged live (no idle stamp due, not limited to enrolment) and `then` succeeds, `then`'s audit
/// rows are committed only if the account's `read_generation` is still the kept one, checked in the
/// rows' group commit (`AuditSink::commit_if_current`). `None` sends the caller the usual way
/// ([`api_read`]): nothing kept, anything but a plain success, or a number that has moved on; nothing
/// of this attempt is written then.
pub async fn kept_api_read<T>(
    req: &HttpRequest,
    then: impl FnOnce(&clinic_app::Env<'_>, &Actor, &login_sessions::Latest) -> Result<T, Error>,
) -> Result<Option<(Actor, T)>, Error> {
    let then = |env: &clinic_app::Env<'_>, actor: &Actor, latest: &login_sessions::Latest| {
        then(env, actor, latest).map(|value| (value, Vec::new()))
    };
    kept_read(req, bearer(req), then).await
}

/// [`kept_api_read`] for a page, from the session cookie: `then` answers from what else is kept (and
/// the latest session kept with the login session) and says which further numbers must still stand
/// for its answer to be current (`Err` when nothing is kept: the caller goes the usual way,
/// [`page_read`]).
pub async fn kept_page_read<T>(
    req: &HttpRequest,
    then: impl FnOnce(&clinic_app::Env<'_>, &Actor, &login_sessions::Latest) -> Result<(T, Vec<(Generation, i64)>), Error>,
) -> Result<Option<(Actor, T)>, Error> {
    kept_read(req, page_token(req), then).await
}

async fn kept_read<T>(
    req: &HttpRequest,
    token: Option<String>,
    then: impl FnOnce(&clinic_app::Env<'_>, &Actor, &login_sessions::Latest) -> Result<(T, Vec<(Generation, i64)>), Error>,
) -> Result<Option<(Actor, T)>, Error> {
    let state = state_of(req)?;
    let Some(claims) = token.and_then(|token| state.keys.verify(&token).ok()) else {
        return Ok(None);
    };
    let Some(kept) = state.kept_reads.unchecked(&claims.sid) else {
        return Ok(None);
    };
    let (session, user, latest) = &*kept;
    let trail = Collected::default();
    let env = state.env_with(&trail);
    let address = client_address(req, &state.settings.trusted_proxies);
    let actor = match accounts::judge(Some((session.clone(), user.clone())), &claims.sub, env.now(), address) {
        Judged::Live { actor, touch: false } if !actor.enrolment_only => actor,
        _ => return Ok(None),
    };
    let Ok((value, mut numbers)) = then(&env, &actor, latest) else {
        return Ok(None);
    };
    numbers.push((Generation::Account(user.id), user.read_generation));
    match state.audit.commit_if_current(trail.take(), numbers).await {
        Written::Yes => Ok(Some((actor, value))),
        Written::Stale => Ok(None),
        Written::No => Err(audit_not_written()),
    }
}

/// The token's session, if it is live, then `then`: read by key in one trip (see `run::read`); the
/// rare writes (expiry, the once-a-minute idle stamp) go to the blocking pool afterwards.
async fn check_session<Q, T, L, F>(
    state: &AppState,
    token: &str,
    address: String,
    open_before_enrolment: bool,
    lookup: L,
    then: F,
) -> Result<(Actor, T), Error>
where
    L: SessionLookup<Q>,
    F: LiveRead<Q, T>,
    T: Send + 'static,
{
    let claims = state.keys.verify(token).map_err(|_| Error::Unauthorized)?;
    let (judged, value) = read(state, move |conn, env| {
        let (found, extra) = match lookup(conn, &claims.sid)? {
            Some((session, user, extra)) => (Some((session, user)), Some(extra)),
            None => (None, None),
        };
        let judged = accounts::judge(found, &claims.sub, env.now(), address);
        let value = match (&judged, extra) {
            (Judged::Live { actor, .. }, Some(extra)) if open_before_enrolment || !actor.enrolment_only => {
                Some(then(conn, env, actor, extra))
            }
            _ => None,
        };
        Ok((judged, value))
    })
    .await?;
    let now = state.env().now();
    let st = state.clone();
    match (judged, value) {
        (Judged::Live { actor, touch }, Some(value)) => {
            if touch {
                let id = actor.session_id.clone();
                blocking(move || Ok(login_sessions::touch(&mut *st.conn()?, &id, now)?)).await?;
            }
            Ok((actor, value?))
        }
        (Judged::Live { .. }, None) => Err(Error::refused(
            ErrorCode::MfaEnrolmentRequired,
            "set up a second factor first: the clinic requires one for your account",
        )),
        (Judged::Refused { revoke: Some(id) }, _) => {
            blocking(move || Ok(login_sessions::revoke(&mut *st.conn()?, &id, now)?)).await?;
            Err(Error::Unauthorized)
        }
        _ => Err(Error::Unauthorized),
    }
}

/// The caller of an API route, from `Authorization: Bearer`.
pub struct ApiCaller(pub Actor);

impl FromRequest for ApiCaller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { Ok(ApiCaller(authenticate(&req, bearer(&req)).await?)) })
    }
}

/// The caller of a page, from the session cookie; without one the page redirects to `/login`.
pub struct PageCaller(pub Actor);

impl FromRequest for PageCaller {
    type Error = PageError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { Ok(PageCaller(authenticate(&req, page_token(&req)).await?)) })
    }
}

/// The session cookie's token. Only the name this server sets: over https, the `__Host-` cookie,
/// which no subdomain or plain-http page can plant.
fn page_token(req: &HttpRequest) -> Option<String> {
    let name = state_of(req).map_or(SECURE_SESSION_COOKIE, |s| session_cookie_name(&s));
    req.cookie(name).map(|c| c.value().to_owned())
}

/// [`PageCaller`] and then `then` on the same connection, in one trip to the pool, with what `lookup`
/// read beside the session (as [`api_read`]).
pub async fn page_read<Q, T, L, F>(req: &HttpRequest, lookup: L, then: F) -> Result<(Actor, T), Error>
where
    L: SessionLookup<Q>,
    F: LiveRead<Q, T>,
    T: Send + 'static,
{
    authenticate_then(req, state_of(req)?, page_token(req), lookup, then).await
}

/// Checks e-mail and password (throttled, timing-safe for unknown accounts) and opens a session, or
/// for an account with a second factor, a challenge for its code.
pub async fn sign_in(state: &AppState, email: &str, password: &str, address: &str) -> Result<SignInOutcome, Error> {
    let email = accounts::sign_in_name(email);
    let password = password.to_owned();
    let (addr, key) = (address.to_owned(), email.clone());
    let st = state.clone();
    let attempt = blocking(move || accounts::sign_in_lookup(&mut *st.conn()?, &st.env(), &key, &addr)).await?;
    // Unknown accounts are checked against the dummy hash, so the answer takes as long.
    let stored = attempt.user.as_ref().map(|u| u.password_hash.clone());
    let checked = state
        .hasher
        .run(move || verify_password(&password, stored.as_deref().unwrap_or(&DUMMY_HASH)))
        .await;
    let matches = match checked {
        Ok(matches) => matches,
        Err(e) => {
            // Not evaluated (the hashing queue is full): the attempt is given back.
            let (st, addr, key) = (state.clone(), address.to_owned(), email.clone());
            blocking(move || accounts::sign_in_not_evaluated(&mut *st.conn()?, &key, &addr, &attempt)).await?;
            return Err(e);
        }
    };
    let (st, address) = (state.clone(), address.to_owned());
    blocking(move || {
        accounts::sign_in_finish(
            &mut *st.conn()?,
            &st.env(),
            &st.keys,
            &email,
            &address,
            attempt,
            matches,
        )
    })
    .await
}

/// The second step of signing in: the challenge's token and a code.
pub async fn sign_in_second_factor(
    state: &AppState,
    mfa_token: &str,
    code: &str,
    address: &str,
) -> Result<SignedIn, Error> {
    let (st, token, code, address) = (state.clone(), mfa_token.to_owned(), code.to_owned(), address.to_owned());
    blocking(move || {
        accounts::sign_in_second_factor(
            &mut *st.conn()?,
            &st.env(),
            &st.keys,
            &st.totp_key,
            &token,
            &code,
            &address,
        )
    })
    .await
}

/// Removes the actor's second factor with their password and a code.
pub async fn remove_second_factor(state: &AppState, actor: &Actor, password: &str, code: &str) -> Result<(), Error> {
    let matches = own_password_matches(state, actor, password).await?;
    let (st, a, code) = (state.clone(), actor.clone(), code.to_owned());
    blocking(move || clinic_app::mfa::remove(&mut *st.conn()?, &st.env(), &a, &st.totp_key, matches, &code)).await
}

/// Parses a new password (the policy's refusal names `field`).
pub fn new_password(field: &'static str, raw: &str) -> Result<Password, Error> {
    Password::parse(raw).map_err(|e| FieldError::new(field, e.to_string()).into())
}

/// Hashes a password on the hashing threads.
pub async fn hash_off_worker(state: &AppState, password: Password) -> Result<String, Error> {
    state
        .hasher
        .run(move || hash_password(&password))
        .await?
        .map_err(|e| Error::internal("hashing a password", e))
}

/// Activates a one-time code with a new password and signs in.
pub async fn activate(state: &AppState, code: &str, password: &str, address: &str) -> Result<SignedIn, Error> {
    let password = new_password("password", password)?;
    let (st, addr) = (state.clone(), address.to_owned());
    blocking(move || accounts::activation_attempt(&mut *st.conn()?, &st.env(), &addr)).await?;
    let hash = hash_off_worker(state, password).await?;
    let (st, code, address) = (state.clone(), code.to_owned(), address.to_owned());
    blocking(move || accounts::activate(&mut *st.conn()?, &st.env(), &st.keys, &code, &hash, &address)).await
}

/// Changes the actor's password after checking the current one (a wrong one counts as a failed
/// sign-in); the account's other sessions end.
pub async fn change_password(state: &AppState, actor: &Actor, current: &str, new: &str) -> Result<(), Error> {
    let new = new_password("new_password", new)?;
    if !own_password_matches(state, actor, current).await? {
        return accounts::wrong_current_password(&state.env(), actor);
    }
    let (st, a) = (state.clone(), actor.clone());
    let hash = hash_off_worker(state, new).await?;
    blocking(move || accounts::set_password(&mut *st.conn()?, &st.env(), &a, &hash)).await
}

/// Checks the signed-in actor's own password, the attempt taken from their sign-in limits first (a
/// wrong one stays counted).
async fn own_password_matches(state: &AppState, actor: &Actor, password: &str) -> Result<bool, Error> {
    let (st, a) = (state.clone(), actor.clone());
    blocking(move || accounts::password_change_attempt(&mut *st.conn()?, &st.env(), &a)).await?;
    let (password, stored) = (password.to_owned(), actor.user.password_hash.clone());
    state.hasher.run(move || verify_password(&password, &stored)).await
}

/// Asks for a password reset link for `email` (e-mailed when it names an active account).
pub async fn request_reset(state: &AppState, email: &str, address: &str) -> Result<(), Error> {
    let (st, email, address) = (state.clone(), email.to_owned(), address.to_owned());
    blocking(move || accounts::request_password_reset(&mut *st.conn()?, &st.env(), &email, &address)).await
}

/// Sets a new password with a reset link's token. The link is checked before the password is hashed.
pub async fn confirm_reset(state: &AppState, token: &str, password: &str, address: &str) -> Result<(), Error> {
    let password = new_password("new_password", password)?;
    let (st, t, addr) = (state.clone(), token.to_owned(), address.to_owned());
    blocking(move || accounts::reset_link_is_usable(&mut *st.conn()?, &st.env(), &t, &addr)).await?;
    let hash = hash_off_worker(state, password).await?;
    let (st, token, address) = (state.clone(), token.to_owned(), address.to_owned());
    blocking(move || accounts::confirm_password_reset(&mut *st.conn()?, &st.env(), &token, &hash, &address)).await
}

/// Ends the actor's login session.
pub async fn sign_out(state: &AppState, actor: &Actor) -> Result<(), Error> {
    let (st, a) = (state.clone(), actor.clone());
    blocking(move || accounts::sign_out(&mut *st.conn()?, &st.env(), &a)).await
}
