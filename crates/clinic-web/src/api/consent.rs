//! Consent forms (`/consent-forms`: a manager publishes versions, staff read them) and the patient's
//! signature (`/me/consent`).

use crate::auth::ApiCaller;
use crate::error::{ApiError, ErrorBody};
use crate::routes::RouteSpec;
use crate::run::db;
use crate::state::AppState;
use actix_web::http::Method;
use actix_web::{HttpResponse, web};
use clinic_app::consent::{self, Signature};
use clinic_db::consent::{Consent, ConsentForm};
use clinic_domain::SeriesId;
use clinic_domain::consent::ConsentText;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub fn routes(v: &mut Vec<RouteSpec>) {
    v.push(RouteSpec::new(Method::POST, "/api/v1/consent-forms", || {
        web::post().to(publish)
    }));
    v.push(RouteSpec::new(Method::GET, "/api/v1/consent-forms", || {
        web::get().to(forms)
    }));
    v.push(RouteSpec::new(Method::GET, "/api/v1/me/consent", || {
        web::get().to(mine)
    }));
    v.push(RouteSpec::new(Method::POST, "/api/v1/me/consent", || {
        web::post().to(sign)
    }));
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewConsentForm)]
pub(crate) struct FormBody {
    #[schema(max_length = 200)]
    title: String,
    #[schema(max_length = 50000)]
    body: String,
}

#[derive(Serialize, ToSchema)]
#[schema(as = ConsentForm)]
pub(crate) struct FormView {
    version: i64,
    title: String,
    body: String,
    published_at: String,
}

impl From<&ConsentForm> for FormView {
    fn from(f: &ConsentForm) -> Self {
        Self {
            version: f.version,
            title: f.title.clone(),
            body: f.body.clone(),
            published_at: crate::views::utc(f.published_at),
        }
    }
}

#[derive(Serialize, ToSchema)]
#[schema(as = ConsentSignature)]
pub(crate) struct SignatureView {
    id: i64,
    series_id: i64,
    signed_at: String,
    form_version: i64,
    typed_name: String,
    /// SHA-256 (hex) of the exact text signed: the title, a blank line, the body.
    text_sha256: String,
}

impl From<&Consent> for SignatureView {
    fn from(c: &Consent) -> Self {
        Self {
            id: c.id,
            series_id: c.series_id.0,
            signed_at: crate::views::utc(c.signed_at),
            form_version: c.form_version,
            typed_name: c.typed_name.clone(),
            text_sha256: c.text_sha256.clone(),
        }
    }
}

/// Publish a new version of the clinic's consent form (manager). Versions are immutable.
#[utoipa::path(post, path = "/api/v1/consent-forms", tag = "consent", request_body = FormBody,
    responses((status = 201, body = FormView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
pub(crate) async fn publish(
    state: web::Data<AppState>,
    caller: ApiCaller,
    body: web::Json<FormBody>,
) -> Result<HttpResponse, ApiError> {
    let actor = caller.0;
    actor.require(&state.env(), &[clinic_domain::user::Role::Manager])?;
    let text = ConsentText::parse(&body.title, &body.body).map_err(clinic_app::Error::from)?;
    let form = db(&state, move |conn, env| consent::publish(conn, env, &actor, &text)).await?;
    Ok(HttpResponse::Created().json(FormView::from(&form)))
}

/// Every version of the consent form, newest first (provider, manager).
#[utoipa::path(get, path = "/api/v1/consent-forms", tag = "consent",
    responses((status = 200, body = Vec<FormView>), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(crate) async fn forms(state: web::Data<AppState>, caller: ApiCaller) -> Result<HttpResponse, ApiError> {
    let actor = caller.0;
    let forms = db(&state, move |conn, env| consent::forms(conn, env, &actor)).await?;
    Ok(HttpResponse::Ok().json(forms.iter().map(FormView::from).collect::<Vec<_>>()))
}

#[derive(Serialize, ToSchema)]
#[schema(as = MyConsent)]
pub(crate) struct MineView {
    /// The form in force; null while the clinic has published none.
    form: Option<FormView>,
    /// The open series the signature is for; null without one.
    series_id: Option<i64>,
    /// Whether the patient has signed for that series.
    signed: bool,
    signature: Option<SignatureView>,
}

/// The consent to sign for the open series, and whether it is signed (patient).
#[utoipa::path(get, path = "/api/v1/me/consent", tag = "consent",
    responses((status = 200, body = MineView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(crate) async fn mine(state: web::Data<AppState>, caller: ApiCaller) -> Result<HttpResponse, ApiError> {
    let actor = caller.0;
    let mine = db(&state, move |conn, env| consent::mine(conn, env, &actor)).await?;
    Ok(HttpResponse::Ok().json(MineView {
        form: mine.form.as_ref().map(FormView::from),
        series_id: mine.series.map(|s| s.0),
        signed: mine.signed.is_some(),
        signature: mine.signed.as_ref().map(SignatureView::from),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = SignConsent)]
pub(crate) struct SignBody {
    series_id: i64,
    form_version: i64,
    /// The patient's full name, typed.
    #[schema(max_length = 200)]
    typed_name: String,
    /// Must be true.
    agree: bool,
}

/// Sign the consent form in force for an open series (patient): the typed name, the time, the address
/// and the hash of the exact text are kept.
#[utoipa::path(post, path = "/api/v1/me/consent", tag = "consent", request_body = SignBody,
    responses((status = 201, body = SignatureView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub(crate) async fn sign(
    state: web::Data<AppState>,
    caller: ApiCaller,
    body: web::Json<SignBody>,
) -> Result<HttpResponse, ApiError> {
    let actor = caller.0;
    let b = body.into_inner();
    let signed = db(&state, move |conn, env| {
        let signature = Signature {
            series: SeriesId(b.series_id),
            form_version: b.form_version,
            typed_name: &b.typed_name,
            agree: b.agree,
        };
        consent::sign(conn, env, &actor, &signature)
    })
    .await?;
    Ok(HttpResponse::Created().json(SignatureView::from(&signed)))
}
