//! The patient's portal: today's stage first, the whole timeline, the calendar file, a printout, and
//! changing the password.

use crate::api::timeline::ics_response;
use crate::auth::{PageCaller, change_password, kept_page_read, page_read};
use crate::csrf;
use crate::html::{Fields, MessagePage, ONCE, PageError, field_message, once_key, render, see_other, shown_on_form};
use crate::idempotency;
use crate::pages::provider::{TimelinePage, Which};
use crate::pages::sessions::Choice;
use crate::routes::RouteSpec;
use crate::state::AppState;
use crate::views::TimelineView;
use actix_web::http::{Method, StatusCode};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::NaiveDate;
use clinic_app::check_ins::{self, CheckInInput};
use clinic_app::clinic::Clinic;
use clinic_app::timeline::Found;
use clinic_app::{Actor, Env, Error, ErrorCode, timeline};
use clinic_db::DbConn;
use clinic_db::check_ins::CheckIn;
use clinic_db::kept::Kept;
use clinic_db::login_sessions::Latest;
use clinic_db::users::User;
use clinic_domain::checkin::parse_effects;
use clinic_domain::protocol::{CHECK_IN_LAST_DAY, Effect};
use clinic_domain::session::Notes;
use clinic_domain::user::Role;
use clinic_domain::{SessionId, UserId};
use serde::Deserialize;
use std::sync::Arc;

pub fn routes(v: &mut Vec<RouteSpec>) {
    v.push(RouteSpec::new(Method::GET, "/portal", || web::get().to(portal)));
    v.push(RouteSpec::new(Method::GET, "/portal/timeline.ics", || {
        web::get().to(calendar)
    }));
    v.push(RouteSpec::new(Method::GET, "/portal/print", || web::get().to(print)));
    v.push(RouteSpec::new(Method::POST, "/portal/check-in", || {
        web::post().to(check_in)
    }));
    v.push(RouteSpec::new(Method::GET, "/portal/password", || {
        web::get().to(password_form)
    }));
    v.push(RouteSpec::new(Method::POST, "/portal/password", || {
        web::post().to(password_submit)
    }));
}

#[derive(Template)]
#[template(path = "print.html")]
struct PrintPage {
    clinic: Arc<Clinic>,
    t: TimelineView,
}

#[derive(Template)]
#[template(path = "password.html")]
struct PasswordPage {
    clinic: Arc<Clinic>,
    csrf: String,
    error: Option<String>,
    done: bool,
}

fn nothing_yet(state: &AppState) -> HttpResponse {
    let page = MessagePage::new(
        state.clinic(),
        "Your aftercare",
        "No session has been recorded for you yet. Your timeline appears here after your procedure.",
        None,
    );
    render(StatusCode::OK, &page)
}

/// The check-in part of the portal page: the form while check-ins are open, and those already sent.
pub(crate) struct CheckInSection {
    pub session_id: i64,
    pub day: i64,
    /// Check-ins are open on days 0 to 7.
    pub open: bool,
    pub last_day: i64,
    pub effects: Vec<Choice>,
    pub unexpected: bool,
    pub note: String,
    pub csrf: String,
    pub once: String,
    pub error: Option<String>,
    /// Just sent: and flagged or not.
    pub sent: Option<bool>,
    pub phone: Option<String>,
    pub history: Vec<CheckInRow>,
}

/// A check-in in words.
pub(crate) struct CheckInRow {
    pub day: i32,
    pub effects: String,
    pub note: String,
    pub flagged: bool,
}

impl From<&CheckIn> for CheckInRow {
    fn from(c: &CheckIn) -> Self {
        let effects: Vec<&str> = c
            .effect_codes()
            .into_iter()
            .filter_map(|code| code.parse::<Effect>().ok())
            .map(Effect::label)
            .collect();
        Self {
            day: c.day,
            effects: if effects.is_empty() {
                "None of the expected effects".into()
            } else {
                effects.join(", ")
            },
            note: c.note.clone().unwrap_or_default(),
            flagged: c.flagged,
        }
    }
}

/// What the portal page shows besides the timeline: a check-in just sent, or a form sent back.
#[derive(Deserialize, Default)]
struct Shown {
    session_id: Option<i64>,
    /// Set after a check-in: "flagged" or "ok".
    checked_in: Option<String>,
}

/// What the portal page lists beside the timeline, read at the account's `read_generation`: the
/// patient's sessions (to choose another timeline) and their check-ins. Every change to either raises
/// that number (migrations 000013 and 000017), so lists kept at the number that still stands when the
/// page's audit row commits equal lists read now.
pub struct PortalLists {
    generation: i64,
    /// (session id, number, date), newest first.
    sessions: Vec<(i64, u8, String)>,
    check_ins: Vec<CheckIn>,
}

/// Accounts whose lists are kept (a full store starts again), and the longest lists kept (a course
/// of five sessions has at most 40 check-ins): a few megabytes at most.
const KEPT_PORTALS: usize = 512;
const KEPT_ROWS: usize = 64;

/// The portal lists of recently seen patients, per account.
#[derive(Default)]
pub struct KeptPortals {
    lists: Kept<UserId, PortalLists, KEPT_PORTALS>,
}

impl KeptPortals {
    /// The account's lists, if they were read at the `read_generation` its session was read with.
    fn current(&self, user: &User) -> Option<Arc<PortalLists>> {
        self.lists
            .get(&user.id)
            .filter(|l| l.generation == user.read_generation)
    }

    fn keep(&self, user: &User, lists: PortalLists) -> Arc<PortalLists> {
        let lists = Arc::new(lists);
        if lists.sessions.len() <= KEPT_ROWS && lists.check_ins.len() <= KEPT_ROWS {
            self.lists.keep_shared(user.id, Arc::clone(&lists));
        }
        lists
    }
}

/// The session asked for (the latest when `which` is `None`), audited, from the patient's latest
/// session read with their login session when it is that one.
fn chosen(env: &Env<'_>, actor: &Actor, latest: &Latest, which: Option<SessionId>) -> Result<Option<Found>, Error> {
    let patient = actor.own_patient()?;
    match (which, latest) {
        (None, _) => timeline::audited(env, actor, patient, latest.clone(), false).map(Some),
        (Some(id), Some((session, _))) if session.id == id => {
            timeline::audited(env, actor, patient, latest.clone(), true).map(Some)
        }
        _ => Ok(None),
    }
}

/// The signed-in patient's timeline (the latest session, or the one asked for) with `T` beside it.
/// While the account's number stands, all of it comes from what is kept (`kept`), checked with the
/// page's audit row as the timeline API is; otherwise the session, its latest session and `read`'s rows
/// are read in one trip to the pool.
async fn read_own<T: Send + 'static>(
    state: &AppState,
    req: &HttpRequest,
    which: Option<SessionId>,
    kept: impl FnOnce(&Actor) -> Option<T>,
    read: impl FnOnce(&mut DbConn, &Env<'_>, &Actor) -> Result<T, Error> + Send + 'static,
) -> Result<(Actor, Found, T), Error> {
    let from_kept = move |env: &Env<'_>, actor: &Actor, latest: &Latest| {
        actor.require(env, &[Role::Patient])?;
        let beside = kept(actor).ok_or(Error::NotFound)?;
        let found = chosen(env, actor, latest, which)?.ok_or(Error::NotFound)?;
        Ok(((found, beside), Vec::new()))
    };
    if let Some((actor, (found, beside))) = kept_page_read(req, from_kept).await? {
        return Ok((actor, found, beside));
    }
    let kept_reads = Arc::clone(&state.kept_reads);
    let lookup = move |conn: &mut DbConn, sid: &str| Ok(kept_reads.find_with_latest_session(conn, sid)?);
    let (actor, (found, beside)) = page_read(req, lookup, move |conn, env, actor, latest| {
        actor.require(env, &[Role::Patient])?;
        let patient = actor.own_patient()?;
        let found = match chosen(env, actor, &latest, which)? {
            Some(found) => found,
            None => timeline::find_for_patient(conn, env, actor, patient, which)?,
        };
        Ok((found, read(conn, env, actor)?))
    })
    .await?;
    Ok((actor, found, beside))
}

/// The portal page's reads: the signed-in patient's timeline and lists, the lists kept per account at
/// its number.
async fn read_portal(
    state: &AppState,
    req: &HttpRequest,
    which: Option<SessionId>,
) -> Result<(Actor, Found, Arc<PortalLists>), Error> {
    let keeper = Arc::clone(&state.kept_portals);
    read_own(
        state,
        req,
        which,
        |actor| state.kept_portals.current(&actor.user),
        move |conn, env, actor| {
            let patient = actor.own_patient()?;
            // Read after the number (with the session): never older than it.
            let lists = PortalLists {
                generation: actor.user.read_generation,
                sessions: listed(timeline::sessions_of_patient(conn, patient)?),
                check_ins: check_ins::mine(conn, env, actor)?,
            };
            Ok(keeper.keep(&actor.user, lists))
        },
    )
    .await
}

/// The signed-in patient's timeline alone (the calendar file, the printout), or `None` when no
/// session is recorded yet.
async fn own_timeline(state: &AppState, req: &HttpRequest, which: Option<i64>) -> Result<Option<TimelineView>, Error> {
    match read_own(state, req, which.map(SessionId), |_| Some(()), |_, _, _| Ok(())).await {
        Ok((_, found, ())) => Ok(Some(TimelineView::from(found.built()))),
        Err(Error::Refused {
            code: ErrorCode::NoSession,
            ..
        }) => Ok(None),
        Err(e) => Err(e),
    }
}

fn listed(sessions: Vec<(SessionId, u8, NaiveDate)>) -> Vec<(i64, u8, String)> {
    sessions
        .into_iter()
        .map(|(id, n, d)| (id.0, n, d.to_string()))
        .collect()
}

/// The portal page, with the check-in form as sent when it came back with an error.
async fn portal_page(
    state: &AppState,
    req: &HttpRequest,
    shown: &Shown,
    status: StatusCode,
    sent: Option<(&Fields, String)>,
) -> Result<HttpResponse, PageError> {
    match read_portal(state, req, shown.session_id.map(SessionId)).await {
        Ok((actor, found, lists)) => {
            let t = TimelineView::from(found.built());
            render_portal(state, &actor, t, &lists, shown, status, sent)
        }
        Err(Error::Refused {
            code: ErrorCode::NoSession,
            ..
        }) => Ok(nothing_yet(state)),
        Err(e) => Err(e.into()),
    }
}

fn render_portal(
    state: &AppState,
    actor: &Actor,
    t: TimelineView,
    lists: &PortalLists,
    shown: &Shown,
    status: StatusCode,
    sent: Option<(&Fields, String)>,
) -> Result<HttpResponse, PageError> {
    let session_id = t.session.id;
    let ticked = |code: &str| {
        sent.as_ref()
            .is_some_and(|(f, _)| f.all("effects").iter().any(|e| e == code))
    };
    let clinic = state.clinic();
    let section = CheckInSection {
        session_id,
        day: t.day_number,
        open: (0..=CHECK_IN_LAST_DAY).contains(&t.day_number),
        last_day: CHECK_IN_LAST_DAY,
        effects: Effect::ALL
            .into_iter()
            .filter(|e| *e != Effect::EyeAreaBruising || t.session.eye_area)
            .map(|e| Choice {
                code: e.code(),
                label: e.label(),
                checked: ticked(e.code()),
            })
            .collect(),
        unexpected: sent.as_ref().is_some_and(|(f, _)| f.ticked("unexpected")),
        note: sent.as_ref().map(|(f, _)| f.get("note").to_owned()).unwrap_or_default(),
        csrf: csrf::session_token(state, &actor.session_id),
        once: once_key()?,
        error: sent.map(|(_, e)| e),
        sent: shown.checked_in.as_deref().map(|c| c == "flagged"),
        phone: clinic.phone.clone(),
        history: lists
            .check_ins
            .iter()
            .filter(|c| c.session_id.0 == session_id)
            .map(CheckInRow::from)
            .collect(),
    };
    let which = format!("?session_id={session_id}");
    let page = TimelinePage {
        clinic,
        attention: 0,
        t,
        preview: false,
        name: actor.user.display_name.clone(),
        sessions: lists.sessions.clone(),
        base: "/portal".into(),
        ics_href: format!("/portal/timeline.ics{which}"),
        print_href: format!("/portal/print{which}"),
        check_in: Some(section),
    };
    Ok(render(status, &page))
}

async fn portal(
    state: web::Data<AppState>,
    req: HttpRequest,
    shown: web::Query<Shown>,
) -> Result<HttpResponse, PageError> {
    portal_page(&state, &req, &shown, StatusCode::OK, None).await
}

/// The patient's check-in from the portal form; back to the portal page (303) once it is kept.
async fn check_in(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: PageCaller,
    form: web::Form<Fields>,
) -> Result<HttpResponse, PageError> {
    let actor = caller.0;
    csrf::check_form(&state, &req, &actor, &[Role::Patient], form.get("csrf"))?;
    let session = form.get("session_id").trim().parse::<i64>().ok();
    let sent = async {
        let input = CheckInInput {
            session: session.map(SessionId),
            effects: parse_effects(form.all("effects").iter().map(String::as_str))?,
            unexpected: form.ticked("unexpected"),
            note: Notes::parse("note", Some(form.get("note")))?,
        };
        let a = actor.clone();
        idempotency::run_form(
            &state,
            &actor,
            &req,
            form.get(ONCE),
            &form.request(),
            move |conn, env| {
                let c = check_ins::check_in(conn, env, &a, &input)?;
                Ok((StatusCode::CREATED, serde_json::json!({ "flagged": c.flagged })))
            },
        )
        .await
    };
    let (status, error) = match sent.await {
        Ok(a) if a.status.is_success() => {
            let how = if a.body["flagged"].as_bool().unwrap_or(false) {
                "flagged"
            } else {
                "ok"
            };
            let which = session.map(|s| format!("session_id={s}&")).unwrap_or_default();
            return Ok(see_other(&format!("/portal?{which}checked_in={how}#check-in")));
        }
        Ok(a) => (a.status, a.form_message()),
        Err(e) if shown_on_form(&e) => (crate::error::status_of(e.code()), field_message(&e)),
        Err(e) => return Err(e.into()),
    };
    let shown = Shown {
        session_id: session,
        checked_in: None,
    };
    portal_page(&state, &req, &shown, status, Some((&form, error))).await
}

async fn calendar(
    state: web::Data<AppState>,
    req: HttpRequest,
    which: web::Query<Which>,
) -> Result<HttpResponse, PageError> {
    match own_timeline(&state, &req, which.session_id).await? {
        Some(t) => Ok(ics_response(&t, state.clock.now())),
        None => Err(Error::NotFound.into()),
    }
}

async fn print(
    state: web::Data<AppState>,
    req: HttpRequest,
    which: web::Query<Which>,
) -> Result<HttpResponse, PageError> {
    match own_timeline(&state, &req, which.session_id).await? {
        Some(t) => Ok(render(
            StatusCode::OK,
            &PrintPage {
                clinic: state.clinic(),
                t,
            },
        )),
        None => Ok(nothing_yet(&state)),
    }
}

async fn password_form(state: web::Data<AppState>, caller: PageCaller) -> HttpResponse {
    let csrf = csrf::session_token(&state, &caller.0.session_id);
    render(
        StatusCode::OK,
        &PasswordPage {
            clinic: state.clinic(),
            csrf,
            error: None,
            done: false,
        },
    )
}

#[derive(Deserialize)]
struct PasswordForm {
    csrf: String,
    current_password: String,
    new_password: String,
}

/// Any signed-in account may change its password here; the account's other sessions end.
async fn password_submit(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: PageCaller,
    form: web::Form<PasswordForm>,
) -> Result<HttpResponse, PageError> {
    let actor = caller.0;
    csrf::check_session(&state, &req, &actor.session_id, &form.csrf)?;
    let csrf = csrf::session_token(&state, &actor.session_id);
    match change_password(&state, &actor, &form.current_password, &form.new_password).await {
        Ok(()) => {}
        Err(e @ (Error::Validation(_) | Error::Refused { .. })) => {
            let error = match &e {
                Error::Validation(f) => f.message.clone(),
                other => other.public_message(),
            };
            return Ok(render(
                StatusCode::UNPROCESSABLE_ENTITY,
                &PasswordPage {
                    clinic: state.clinic(),
                    csrf,
                    error: Some(error),
                    done: false,
                },
            ));
        }
        Err(e) => return Err(e.into()),
    }
    Ok(render(
        StatusCode::OK,
        &PasswordPage {
            clinic: state.clinic(),
            csrf,
            error: None,
            done: true,
        },
    ))
}
