//! Before and after photos: upload (multipart, the size limit enforced while the body streams in, the
//! decoding off the async workers), view (audited), list, withdraw.

use crate::auth::ApiCaller;
use crate::error::{ApiError, ErrorBody};
use crate::routes::RouteSpec;
use crate::run::db;
use crate::state::AppState;
use actix_multipart::Multipart;
use actix_web::http::{Method, header};
use actix_web::{HttpResponse, web};
use clinic_app::photos::{self, Kind, MAX_BYTES, Processed};
use clinic_app::{Actor, Error, ErrorCode};
use clinic_db::photos::Photo;
use clinic_domain::user::Role;
use clinic_domain::{FieldError, PatientId, SessionId};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub fn routes(v: &mut Vec<RouteSpec>) {
    v.push(RouteSpec::new(Method::POST, "/api/v1/sessions/{id}/photos", || {
        web::post().to(upload)
    }));
    v.push(RouteSpec::new(Method::GET, "/api/v1/photos/{id}", || {
        web::get().to(full)
    }));
    v.push(RouteSpec::new(Method::GET, "/api/v1/photos/{id}/thumbnail", || {
        web::get().to(thumbnail)
    }));
    v.push(RouteSpec::new(Method::GET, "/api/v1/patients/{id}/photos", || {
        web::get().to(list)
    }));
    v.push(RouteSpec::new(Method::POST, "/api/v1/photos/{id}/withdraw", || {
        web::post().to(withdraw)
    }));
}

#[derive(Serialize, ToSchema)]
#[schema(as = Photo)]
pub(crate) struct PhotoView {
    id: i64,
    session_id: i64,
    #[schema(schema_with = photo_kind)]
    kind: String,
    width: i32,
    height: i32,
    /// SHA-256 (hex) of the stored image (re-encoded as JPEG without metadata).
    sha256: String,
    uploaded_at: String,
    withdrawn: bool,
}

fn photo_kind() -> utoipa::openapi::Object {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::Type::String)
        .enum_values(Some(["before", "after"]))
        .build()
}

impl From<&Photo> for PhotoView {
    fn from(p: &Photo) -> Self {
        Self {
            id: p.id,
            session_id: p.session_id.0,
            kind: p.kind.clone(),
            width: p.width,
            height: p.height,
            sha256: p.sha256.clone(),
            uploaded_at: crate::views::utc(p.uploaded_at),
            withdrawn: p.is_withdrawn(),
        }
    }
}

/// The multipart form of an upload.
#[derive(ToSchema)]
#[allow(dead_code)]
pub(crate) struct UploadForm {
    /// JPEG, PNG or WebP, at most 15 MB and 40 megapixels.
    #[schema(value_type = String, format = Binary)]
    file: Vec<u8>,
    #[schema(schema_with = photo_kind)]
    kind: String,
}

fn too_large() -> Error {
    Error::refused(ErrorCode::PayloadTooLarge, "the photo is larger than 15 MB")
}

fn unreadable() -> Error {
    Error::refused(
        ErrorCode::InvalidBody,
        "send the photo as multipart/form-data with the parts file and kind",
    )
}

/// Reads a multipart upload: the `file` part (at most [`MAX_BYTES`], counted as it arrives), the `kind`
/// part, and any `csrf` part (pages), as raw parts by name.
pub(crate) async fn read_parts(mut payload: Multipart) -> Result<Vec<(String, Vec<u8>)>, Error> {
    let mut parts = Vec::new();
    while let Some(field) = payload.next().await {
        let mut field = field.map_err(|_| unreadable())?;
        let name = field.name().unwrap_or_default().to_owned();
        let limit = if name == "file" { MAX_BYTES } else { 1024 };
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|_| unreadable())?;
            if bytes.len() + chunk.len() > limit {
                return Err(if name == "file" { too_large() } else { unreadable() });
            }
            bytes.extend_from_slice(&chunk);
        }
        if parts.len() >= 8 {
            return Err(unreadable());
        }
        parts.push((name, bytes));
    }
    Ok(parts)
}

/// A text part of an upload by name; empty when absent or not UTF-8.
pub(crate) fn part_text<'a>(parts: &'a [(String, Vec<u8>)], name: &str) -> &'a str {
    parts
        .iter()
        .find(|(n, _)| n == name)
        .and_then(|(_, b)| std::str::from_utf8(b).ok())
        .unwrap_or_default()
}

/// Checks and stores an upload of `parts` for `session` as `actor` (shared with the patient page).
pub(crate) async fn store_upload(
    state: &AppState,
    actor: Actor,
    session: SessionId,
    parts: Vec<(String, Vec<u8>)>,
) -> Result<Photo, Error> {
    actor.require(&state.env(), &[Role::Provider])?;
    let kind = Kind::parse(part_text(&parts, "kind"))?;
    let Some(file) = parts.into_iter().find(|(n, _)| n == "file").map(|(_, b)| b) else {
        return Err(FieldError::new("file", "attach the photo as the part named file").into());
    };
    // Decoding and re-encoding take CPU and memory: the photo thread, never an async worker nor the
    // blocking pool that the database work of other requests runs on.
    let processed: Processed = state.imaging.run(move || photos::process(&file)).await??;
    // Object storage: the bytes first, under their hash; the row after (see `photo_store`).
    let in_database = state.photos.in_database();
    if !in_database {
        state.photos.put(&processed.sha256, processed.image.clone()).await?;
        state
            .photos
            .put(&processed.thumbnail_sha256, processed.thumbnail.clone())
            .await?;
    }
    db(state, move |conn, env| {
        photos::upload(conn, env, &actor, session, kind, &processed, in_database)
    })
    .await
}

/// A photo's bytes for `actor`, from whichever store holds them; the view audited.
pub(crate) async fn photo_bytes(state: &AppState, actor: Actor, id: i64, thumbnail: bool) -> Result<Vec<u8>, Error> {
    if state.photos.in_database() {
        return db(state, move |conn, env| photos::view(conn, env, &actor, id, thumbnail)).await;
    }
    let key = db(state, move |conn, env| {
        photos::view_key(conn, env, &actor, id, thumbnail)
    })
    .await?;
    state.photos.get(&key).await
}

/// Upload a before or after photo of a session (provider; multipart `file` and `kind`). The image is
/// decoded whatever its name says, turned upright, re-encoded without metadata and stored with a
/// thumbnail; anything but JPEG, PNG or WebP within 40 megapixels is 422 `unsupported_image`.
#[utoipa::path(post, path = "/api/v1/sessions/{id}/photos", tag = "photos", params(("id" = i64, Path)),
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses((status = 201, body = PhotoView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn upload(
    state: web::Data<AppState>,
    caller: ApiCaller,
    path: web::Path<i64>,
    payload: Multipart,
) -> Result<HttpResponse, ApiError> {
    let actor = caller.0;
    actor.require(&state.env(), &[Role::Provider])?;
    let parts = read_parts(payload).await?;
    let photo = store_upload(&state, actor, SessionId(path.into_inner()), parts).await?;
    Ok(HttpResponse::Created().json(PhotoView::from(&photo)))
}

pub(crate) fn jpeg_response(bytes: Vec<u8>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "image/jpeg"))
        .insert_header((header::CONTENT_DISPOSITION, "inline"))
        .body(bytes)
}

/// A photo (provider, manager; the patient their own when the clinic allows it). Audited.
#[utoipa::path(get, path = "/api/v1/photos/{id}", tag = "photos", params(("id" = i64, Path)),
    responses((status = 200, content_type = "image/jpeg", body = Vec<u8>), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub(crate) async fn full(
    state: web::Data<AppState>,
    caller: ApiCaller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let bytes = photo_bytes(&state, caller.0, path.into_inner(), false).await?;
    Ok(jpeg_response(bytes))
}

/// A photo's thumbnail (as for the photo). Audited.
#[utoipa::path(get, path = "/api/v1/photos/{id}/thumbnail", tag = "photos", params(("id" = i64, Path)),
    responses((status = 200, content_type = "image/jpeg", body = Vec<u8>), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub(crate) async fn thumbnail(
    state: web::Data<AppState>,
    caller: ApiCaller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let bytes = photo_bytes(&state, caller.0, path.into_inner(), true).await?;
    Ok(jpeg_response(bytes))
}

/// A patient's photos not withdrawn, oldest first (provider, manager; the patient their own when the
/// clinic allows it).
#[utoipa::path(get, path = "/api/v1/patients/{id}/photos", tag = "photos", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<PhotoView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub(crate) async fn list(
    state: web::Data<AppState>,
    caller: ApiCaller,
    path: web::Path<i64>,
) -> Result<HttpResponse, ApiError> {
    let (actor, id) = (caller.0, PatientId(path.into_inner()));
    let found = db(&state, move |conn, env| photos::of_patient(conn, env, &actor, id)).await?;
    Ok(HttpResponse::Ok().json(found.iter().map(PhotoView::from).collect::<Vec<_>>()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = PhotoWithdrawal)]
pub(crate) struct WithdrawBody {
    reason: String,
}

/// Withdraw a photo: hidden from every view, kept (provider).
#[utoipa::path(post, path = "/api/v1/photos/{id}/withdraw", tag = "photos", params(("id" = i64, Path)),
    request_body = WithdrawBody,
    responses((status = 200, body = PhotoView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn withdraw(
    state: web::Data<AppState>,
    caller: ApiCaller,
    path: web::Path<i64>,
    body: web::Json<WithdrawBody>,
) -> Result<HttpResponse, ApiError> {
    let (actor, id, reason) = (caller.0, path.into_inner(), body.into_inner().reason);
    let photo = db(&state, move |conn, env| {
        photos::withdraw(conn, env, &actor, id, &reason)
    })
    .await?;
    Ok(HttpResponse::Ok().json(PhotoView::from(&photo)))
}
