//! `/v1/records/…` and `/v1/reports/…`: JSON reads of the read model for the roles that see
//! beyond one tablet (bidan, perawat, puskesmas_admin, dinas_admin), with the same bearer
//! session as sync (`POST /v1/login` through an enrolled device), each answer limited to the
//! caller's area exactly as pull is.

use super::{cache, duplicates, health, monthly, parts, reports};
use crate::error::AppError;
use crate::http::{AppState, Authed};
use crate::model::{SessionInfo, now_ms};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::NaiveDate;
use health_rules::kms::YearMonth;
use serde::Serialize;
use std::collections::HashMap;
use sync_protocol::{ErrorCode, RecordId, Role};

/// The routes of this module, `(method, path)` as in [`crate::http::ROUTES`].
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/v1/records/places/{code}"),
    ("GET", "/v1/records/persons/{id}"),
    ("GET", "/v1/records/duplicates"),
    ("GET", "/v1/reports/referrals"),
    ("GET", "/v1/reports/tablets"),
    ("GET", "/v1/reports/skdn"),
    ("GET", "/v1/reports/nutrition"),
    ("GET", "/v1/reports/followup"),
    ("GET", "/v1/reports/pregnancies"),
    ("GET", "/v1/reports/immunisation"),
];

/// Days without a sync after which a tablet is stale, unless `stale_days` says otherwise.
pub const DEFAULT_STALE_DAYS: u32 = 7;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/records/places/{code}", get(place_tree))
        .route("/v1/records/persons/{id}", get(person))
        .route("/v1/records/duplicates", get(duplicates))
        .route("/v1/reports/referrals", get(referrals))
        .route("/v1/reports/tablets", get(tablets))
        .route("/v1/reports/skdn", get(skdn))
        .route("/v1/reports/nutrition", get(nutrition))
        .route("/v1/reports/followup", get(followup))
        .route("/v1/reports/pregnancies", get(pregnancies))
        .route("/v1/reports/immunisation", get(immunisation))
}

/// The roles that see beyond one tablet; a kader's tablet already holds her area.
fn reader(s: &SessionInfo) -> Result<&str, AppError> {
    match s.user.role {
        Role::Bidan | Role::Perawat | Role::PuskesmasAdmin | Role::DinasAdmin => {
            Ok(s.user.scope.place.as_str())
        }
        Role::Kader => Err(AppError::refused(
            ErrorCode::Forbidden,
            "reports are for bidan, perawat and admins",
        )),
    }
}

fn not_found(what: &str) -> AppError {
    AppError::refused(ErrorCode::NotFound, format!("no such {what} in your area"))
}

fn json<T: Serialize>(v: &T) -> Result<Response, AppError> {
    let body = serde_json::to_vec(v).map_err(|e| AppError::Internal(e.to_string()))?;
    let mut resp = (StatusCode::OK, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(resp)
}

fn json_bytes(body: Bytes) -> Response {
    let mut resp = (StatusCode::OK, body).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

/// A report of `place` (checked against the caller's `scope` first): the answer kept for
/// `key` while the read model is unchanged ([`cache`]), else `compute`d and kept. The answer
/// depends on the place and the parameters in `key` only, not on who asks.
async fn cached<T, F>(
    st: &AppState,
    scope: &str,
    place: &str,
    key: String,
    compute: F,
) -> Result<Response, AppError>
where
    T: Serialize,
    F: std::future::Future<Output = Result<Option<T>, monthly::MonthlyError>>,
{
    if !reports::in_scope(st.store.as_ref(), scope, place).await? {
        return Err(not_found("place"));
    }
    let generation = cache::generation(st.store.as_ref()).await?;
    if let Some(body) = st.reports.get(&key, &generation) {
        return Ok(json_bytes(body));
    }
    let answer = compute
        .await
        .map_err(monthly_error)?
        .ok_or_else(|| not_found("place"))?;
    let body =
        Bytes::from(serde_json::to_vec(&answer).map_err(|e| AppError::Internal(e.to_string()))?);
    st.reports.put(key, generation, body.clone());
    Ok(json_bytes(body))
}

async fn place_tree(
    State(st): State<AppState>,
    Authed(s): Authed,
    Path(code): Path<String>,
) -> Result<Response, AppError> {
    let scope = reader(&s)?;
    if code.len() > 64 {
        return Err(not_found("place"));
    }
    let tree = reports::place_tree(st.store.as_ref(), scope, &code, now_ms())
        .await?
        .ok_or_else(|| not_found("place"))?;
    json(&tree)
}

async fn person(
    State(st): State<AppState>,
    Authed(s): Authed,
    Path(id): Path<String>,
) -> Result<Response, AppError> {
    let scope = reader(&s)?;
    let id: RecordId = id.parse().map_err(|_| not_found("person"))?;
    let now = now_ms();
    let p = reports::person(st.store.as_ref(), scope, id, now)
        .await?
        .ok_or_else(|| not_found("person"))?;
    let field = |f: &str| p.values.get(f).and_then(serde_json::Value::as_str);
    let birth = field("birth_date").and_then(|b| NaiveDate::parse_from_str(b, "%Y-%m-%d").ok());
    let h = health::person_health(
        st.store.as_ref(),
        &p.id,
        field("sex"),
        birth,
        reports::today(now),
    )
    .await
    .map_err(monthly_error)?;
    json(&PersonWithHealth {
        record: &p,
        health: h,
    })
}

/// A person with what `records` reads of their health.
#[derive(Serialize)]
struct PersonWithHealth<'a> {
    #[serde(flatten)]
    record: &'a reports::PersonRecord,
    #[serde(flatten)]
    health: health::PersonHealth,
}

fn monthly_error(e: monthly::MonthlyError) -> AppError {
    match e {
        monthly::MonthlyError::Storage(e) => AppError::from(e),
        other => AppError::Internal(other.to_string()),
    }
}

/// Likely duplicates at or under `place` ([`duplicates`]): pairs the tablets show in their
/// review queue. Not kept in the report cache: a dismissal or merge must show at once.
async fn duplicates(
    State(st): State<AppState>,
    Authed(s): Authed,
    headers: axum::http::HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let scope = reader(&s)?;
    let place = place_param(&q)?;
    if !reports::in_scope(st.store.as_ref(), scope, place).await? {
        return Err(not_found("place"));
    }
    let mut answer = duplicates::duplicates(st.store.as_ref(), place).await?;
    // A tablet's request names its protocol version (`Jangkau-Protocol`) and checks that
    // the answer's `v` is it; without the header (a dashboard, curl) the contract's 1.
    if let Some(h) = headers.get(sync_protocol::PROTOCOL_HEADER) {
        let v = sync_protocol::VersionRange::CURRENT
            .negotiate_header(Some(h.to_str().unwrap_or("?")))
            .map_err(AppError::from)?;
        answer.v = v;
    }
    json(&answer)
}

async fn referrals(State(st): State<AppState>, Authed(s): Authed) -> Result<Response, AppError> {
    let scope = reader(&s)?;
    json(&reports::open_referrals(st.store.as_ref(), scope, now_ms()).await?)
}

async fn tablets(
    State(st): State<AppState>,
    Authed(s): Authed,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let scope = reader(&s)?;
    let days = match q.get("stale_days") {
        None => DEFAULT_STALE_DAYS,
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|d| (1..=3650).contains(d))
            .ok_or_else(|| {
                AppError::refused(
                    ErrorCode::MalformedBody,
                    "stale_days must be a whole number of days from 1 to 3650",
                )
            })?,
    };
    json(&reports::tablets(st.store.as_ref(), scope, days, now_ms()).await?)
}

/// A query parameter that must be there.
fn required<'a>(q: &'a HashMap<String, String>, name: &str) -> Result<&'a str, AppError> {
    q.get(name)
        .map(String::as_str)
        .ok_or_else(|| AppError::refused(ErrorCode::MalformedBody, format!("{name} is required")))
}

async fn skdn(
    State(st): State<AppState>,
    Authed(s): Authed,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let scope = reader(&s)?;
    let place = required(&q, "place")?;
    let month: YearMonth = required(&q, "month")?
        .parse()
        .map_err(|_| AppError::refused(ErrorCode::MalformedBody, "month must be YYYY-MM"))?;
    if place.len() > 64 {
        return Err(not_found("place"));
    }
    let key = format!("skdn {place} {month}");
    let store = st.store.as_ref();
    cached(
        &st,
        scope,
        place,
        key,
        parts::skdn(&st.reports.parts, store, scope, place, month),
    )
    .await
}

/// A `YYYY-MM-DD` query parameter that must be there.
fn date_param(q: &HashMap<String, String>, name: &str) -> Result<NaiveDate, AppError> {
    NaiveDate::parse_from_str(required(q, name)?, "%Y-%m-%d").map_err(|_| {
        AppError::refused(
            ErrorCode::MalformedBody,
            format!("{name} must be YYYY-MM-DD"),
        )
    })
}

/// The `place` query parameter (a code longer than any place is no place).
fn place_param(q: &HashMap<String, String>) -> Result<&str, AppError> {
    let place = required(q, "place")?;
    if place.len() > 64 {
        return Err(not_found("place"));
    }
    Ok(place)
}

async fn nutrition(
    State(st): State<AppState>,
    Authed(s): Authed,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let scope = reader(&s)?;
    let place = place_param(&q)?;
    let (from, to) = (date_param(&q, "from")?, date_param(&q, "to")?);
    if from > to || (to - from).num_days() > 3660 {
        return Err(AppError::refused(
            ErrorCode::MalformedBody,
            "from must not be after to, and the period at most ten years",
        ));
    }
    let key = format!("nutrition {place} {from} {to}");
    let store = st.store.as_ref();
    cached(
        &st,
        scope,
        place,
        key,
        parts::nutrition(&st.reports.parts, store, scope, place, from, to),
    )
    .await
}

async fn followup(
    State(st): State<AppState>,
    Authed(s): Authed,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let scope = reader(&s)?;
    let place = place_param(&q)?;
    let today = reports::today(now_ms());
    let key = format!("followup {place} {today}");
    let store = st.store.as_ref();
    cached(
        &st,
        scope,
        place,
        key,
        parts::followup(&st.reports.parts, store, scope, place, today),
    )
    .await
}

async fn pregnancies(
    State(st): State<AppState>,
    Authed(s): Authed,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let scope = reader(&s)?;
    let place = place_param(&q)?;
    let month: YearMonth = required(&q, "month")?
        .parse()
        .map_err(|_| AppError::refused(ErrorCode::MalformedBody, "month must be YYYY-MM"))?;
    let key = format!("pregnancies {place} {month}");
    let store = st.store.as_ref();
    cached(
        &st,
        scope,
        place,
        key,
        parts::pregnancies(&st.reports.parts, store, scope, place, month),
    )
    .await
}

/// `cohort=YYYY` (born in that year) or `born_from` and `born_to` (`YYYY-MM-DD`).
fn cohort(q: &HashMap<String, String>) -> Result<(NaiveDate, NaiveDate), AppError> {
    let bad = |m: &str| AppError::refused(ErrorCode::MalformedBody, m.to_string());
    let (from, to) = match q.get("cohort") {
        Some(y) => {
            let y: i32 = y
                .parse()
                .ok()
                .filter(|y| (1900..=2200).contains(y))
                .ok_or_else(|| bad("cohort must be a year, YYYY"))?;
            match (
                NaiveDate::from_ymd_opt(y, 1, 1),
                NaiveDate::from_ymd_opt(y, 12, 31),
            ) {
                (Some(a), Some(b)) => (a, b),
                _ => return Err(bad("cohort must be a year, YYYY")),
            }
        }
        None => (date_param(q, "born_from")?, date_param(q, "born_to")?),
    };
    if from > to || (to - from).num_days() > 3660 {
        return Err(bad(
            "born_from must not be after born_to, and the cohort at most ten years",
        ));
    }
    Ok((from, to))
}

async fn immunisation(
    State(st): State<AppState>,
    Authed(s): Authed,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, AppError> {
    let scope = reader(&s)?;
    let place = place_param(&q)?;
    let (from, to) = cohort(&q)?;
    let on = reports::today(now_ms());
    let key = format!("immunisation {place} {from} {to} {on}");
    let store = st.store.as_ref();
    cached(
        &st,
        scope,
        place,
        key,
        parts::coverage(&st.reports.parts, store, scope, place, from, to, on),
    )
    .await
}
