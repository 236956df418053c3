//! Before and after photos of a session: decoded by the `image` crate whatever the file claims to be,
//! refused beyond 40 megapixels before any pixel is decoded, turned upright, re-encoded without
//! metadata (EXIF and GPS gone), with a thumbnail; stored content-addressed in the database in the
//! transaction of their row. Every view is audited.

use crate::{Actor, Env, Error, ErrorCode, Result};
use clinic_db::photos::{self as store, NewPhoto, Photo};
use clinic_db::{DbConn, series};
use clinic_domain::user::Role;
use clinic_domain::{PatientId, SessionId};
use image::codecs::jpeg::JpegEncoder;
use image::metadata::Orientation;
use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits};
use sha2::{Digest, Sha256};
use std::io::Cursor;

/// Largest upload accepted, counted while it streams in.
pub const MAX_BYTES: usize = 15 * 1024 * 1024;
/// Largest image accepted (a decompression bomb declares far more).
pub const MAX_PIXELS: u64 = 40_000_000;
const THUMBNAIL_EDGE: u32 = 320;
const QUALITY: u8 = 90;

/// Before or after the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Before,
    After,
}

impl Kind {
    pub fn parse(raw: &str) -> Result<Self, clinic_domain::FieldError> {
        match raw.trim() {
            "before" => Ok(Kind::Before),
            "after" => Ok(Kind::After),
            _ => Err(clinic_domain::FieldError::new("kind", "must be before or after")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Before => "before",
            Kind::After => "after",
        }
    }
}

/// An upload made safe to keep: the re-encoded image and its thumbnail, with their hashes.
pub struct Processed {
    pub image: Vec<u8>,
    pub sha256: String,
    pub thumbnail: Vec<u8>,
    pub thumbnail_sha256: String,
    pub width: u32,
    pub height: u32,
}

fn unsupported(why: &str) -> Error {
    Error::refused(
        ErrorCode::UnsupportedImage,
        format!("send a JPEG, PNG or WebP photo of at most 40 megapixels: {why}"),
    )
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

fn jpeg(image: &DynamicImage, quality: u8) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(&image.to_rgb8())
        .map_err(|e| Error::internal("encoding a photo", e))?;
    Ok(out)
}

/// Decodes, checks, turns upright and re-encodes an upload (CPU work: run it off the async workers).
pub fn process(bytes: &[u8]) -> Result<Processed> {
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|_| unsupported("the file could not be read"))?;
    if !matches!(
        reader.format(),
        Some(ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP)
    ) {
        return Err(unsupported("this is not a JPEG, PNG or WebP file"));
    }
    let mut limits = Limits::default();
    limits.max_alloc = Some(512 * 1024 * 1024);
    reader.limits(limits);
    let mut decoder = reader
        .into_decoder()
        .map_err(|_| unsupported("the image could not be decoded"))?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(unsupported("the image is larger than 40 megapixels"));
    }
    let orientation = decoder.orientation().unwrap_or(Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(|_| unsupported("the image could not be decoded"))?;
    image.apply_orientation(orientation);
    let stored = jpeg(&image, QUALITY)?;
    let thumbnail = jpeg(&image.thumbnail(THUMBNAIL_EDGE, THUMBNAIL_EDGE), 80)?;
    Ok(Processed {
        sha256: sha256_hex(&stored),
        thumbnail_sha256: sha256_hex(&thumbnail),
        width: image.width(),
        height: image.height(),
        image: stored,
        thumbnail,
    })
}

/// Stores a processed photo of a session (provider): the row, and with `bytes_here` the bytes too, in
/// one transaction (without, the caller has put them in object storage already).
#[tracing::instrument(level = "debug", skip_all, fields(session = %session))]
pub fn upload(
    conn: &mut DbConn,
    env: &Env<'_>,
    actor: &Actor,
    session: SessionId,
    kind: Kind,
    photo: &Processed,
    bytes_here: bool,
) -> Result<Photo> {
    actor.require(env, &[Role::Provider])?;
    let now = env.now();
    conn.write_transaction(|conn| {
        let found = series::find_session(conn, session)?;
        let patient = series::find(conn, found.series_id)?.patient_id;
        if bytes_here {
            store::put_blob(conn, &photo.sha256, &photo.image, now)?;
            store::put_blob(conn, &photo.thumbnail_sha256, &photo.thumbnail, now)?;
        }
        let row = store::insert(
            conn,
            &NewPhoto {
                session,
                patient,
                kind: kind.as_str(),
                sha256: &photo.sha256,
                thumbnail_sha256: &photo.thumbnail_sha256,
                width: i32::try_from(photo.width).unwrap_or(i32::MAX),
                height: i32::try_from(photo.height).unwrap_or(i32::MAX),
                by: actor.user.id,
                now,
            },
        )?;
        clinic_db::audit::insert(
            conn,
            &actor
                .event(env, "photo.upload", "success")
                .patient(Some(patient))
                .subject(format!("photo:{}", row.id))
                .detail(format!("{} of session {}", kind.as_str(), session))
                .build(),
        )?;
        Ok(row)
    })
}

/// Whether `actor` may see photos of `patient`: staff always; the patient their own, when the clinic
/// lets patients see their photos.
fn may_see(env: &Env<'_>, actor: &Actor, patient: PatientId) -> bool {
    match actor.user.role {
        Role::Provider | Role::Manager => true,
        Role::Patient => env.clinic.patients_see_photos && actor.user.patient_id == Some(patient),
    }
}

/// The key of a photo's bytes (or its thumbnail's) for a caller who may see it, the view audited.
/// Withdrawn photos and photos the caller may not see are "not found".
#[tracing::instrument(level = "debug", skip_all, fields(photo = id))]
pub fn view_key(conn: &mut DbConn, env: &Env<'_>, actor: &Actor, id: i64, thumbnail: bool) -> Result<String> {
    let photo = store::find(conn, id)?;
    if photo.is_withdrawn() || !may_see(env, actor, photo.patient_id) {
        return Err(Error::NotFound);
    }
    env.trail.record(
        actor
            .event(env, "photo.view", "success")
            .patient(Some(photo.patient_id))
            .subject(format!("photo:{id}"))
            .detail(if thumbnail { "thumbnail" } else { "photo" })
            .build(),
    );
    Ok(if thumbnail {
        photo.thumbnail_sha256
    } else {
        photo.sha256
    })
}

/// A photo's bytes from the database store (see [`view_key`]).
pub fn view(conn: &mut DbConn, env: &Env<'_>, actor: &Actor, id: i64, thumbnail: bool) -> Result<Vec<u8>> {
    let key = view_key(conn, env, actor, id, thumbnail)?;
    store::blob(conn, &key)?.ok_or_else(|| Error::bug("a photo's bytes are missing"))
}

/// A patient's photos that are not withdrawn, audited.
pub fn of_patient(conn: &mut DbConn, env: &Env<'_>, actor: &Actor, patient: PatientId) -> Result<Vec<Photo>> {
    if !may_see(env, actor, patient) {
        return Err(match actor.user.role {
            Role::Patient => Error::NotFound,
            _ => Error::Forbidden,
        });
    }
    Ok(shown(env, actor, patient, store::of_patient(conn, patient)?))
}

/// The photos of `patient` a viewer who may see them is shown (not the withdrawn ones), the listing
/// audited.
fn shown(env: &Env<'_>, actor: &Actor, patient: PatientId, all: Vec<Photo>) -> Vec<Photo> {
    let photos = visible(all);
    env.trail.record(
        actor
            .event(env, "photo.list", "success")
            .patient(Some(patient))
            .detail(format!("{} photos", photos.len()))
            .build(),
    );
    photos
}

/// The photos of `all` that are shown (not the withdrawn ones).
pub(crate) fn visible(all: Vec<Photo>) -> Vec<Photo> {
    all.into_iter().filter(|p| !p.is_withdrawn()).collect()
}

/// Hides a photo, keeping it (provider).
pub fn withdraw(conn: &mut DbConn, env: &Env<'_>, actor: &Actor, id: i64, reason: &str) -> Result<Photo> {
    actor.require(env, &[Role::Provider])?;
    let reason = crate::sessions::reason(Some(reason))?;
    conn.write_transaction(|conn| {
        let photo = store::find(conn, id)?;
        if !store::withdraw(conn, id, actor.user.id, reason.as_str(), env.now())? {
            return Err(Error::refused(
                ErrorCode::PhotoWithdrawn,
                "this photo is withdrawn already",
            ));
        }
        clinic_db::audit::insert(
            conn,
            &actor
                .event(env, "photo.withdraw", "success")
                .patient(Some(photo.patient_id))
                .subject(format!("photo:{id}"))
                .detail(reason.as_str().to_owned())
                .build(),
        )?;
        Ok(store::find(conn, id)?)
    })
}

/// What `clinic check-photos` found.
#[derive(Debug, Default)]
pub struct Check {
    pub blobs: usize,
    pub photos: usize,
    pub problems: Vec<String>,
}

/// Verifies every stored blob against its hash and that every photo's bytes are there.
pub fn check(conn: &mut DbConn) -> Result<Check> {
    let mut found = Check::default();
    for key in store::blob_keys(conn)? {
        found.blobs += 1;
        match store::blob(conn, &key)? {
            Some(bytes) if sha256_hex(&bytes) == key => {}
            Some(_) => found
                .problems
                .push(format!("blob {key}: its bytes do not match their hash")),
            None => found.problems.push(format!("blob {key}: gone while checking")),
        }
    }
    for photo in store::all(conn)? {
        found.photos += 1;
        for key in [&photo.sha256, &photo.thumbnail_sha256] {
            if store::blob(conn, key)?.is_none() {
                found
                    .problems
                    .push(format!("photo {}: no stored bytes for {key}", photo.id));
            }
        }
    }
    Ok(found)
}
