//! Photos on the pages: the patient page's upload form (multipart, with its CSRF token as a part) and
//! the images the page shows (cookie session; every view audited).

use crate::api::photos::{jpeg_response, part_text, photo_bytes, read_parts, store_upload};
use crate::auth::PageCaller;
use crate::csrf;
use crate::html::{PageError, see_other};
use crate::routes::RouteSpec;
use crate::state::AppState;
use actix_multipart::Multipart;
use actix_web::http::Method;
use actix_web::{HttpRequest, HttpResponse, web};
use clinic_app::Error;
use clinic_domain::SessionId;

pub fn routes(v: &mut Vec<RouteSpec>) {
    v.push(RouteSpec::new(Method::GET, "/photos/{id}", || web::get().to(full)));
    v.push(RouteSpec::new(Method::GET, "/photos/{id}/thumbnail", || {
        web::get().to(thumbnail)
    }));
    v.push(RouteSpec::new(Method::POST, "/patients/{id}/photos", || {
        web::post().to(upload)
    }));
}

async fn full(state: web::Data<AppState>, caller: PageCaller, path: web::Path<i64>) -> Result<HttpResponse, PageError> {
    let bytes = photo_bytes(&state, caller.0, path.into_inner(), false).await?;
    Ok(jpeg_response(bytes))
}

async fn thumbnail(
    state: web::Data<AppState>,
    caller: PageCaller,
    path: web::Path<i64>,
) -> Result<HttpResponse, PageError> {
    let bytes = photo_bytes(&state, caller.0, path.into_inner(), true).await?;
    Ok(jpeg_response(bytes))
}

async fn upload(
    state: web::Data<AppState>,
    req: HttpRequest,
    caller: PageCaller,
    path: web::Path<i64>,
    payload: Multipart,
) -> Result<HttpResponse, PageError> {
    let actor = caller.0;
    actor.require(&state.env(), &[clinic_domain::user::Role::Provider])?;
    let parts = read_parts(payload).await?;
    csrf::check_session(&state, &req, &actor.session_id, part_text(&parts, "csrf"))?;
    let session: i64 = part_text(&parts, "session_id")
        .trim()
        .parse()
        .map_err(|_| Error::from(clinic_domain::FieldError::new("session_id", "choose a session")))?;
    store_upload(&state, actor, SessionId(session), parts).await?;
    Ok(see_other(&format!("/patients/{}#photos", path.into_inner())))
}
