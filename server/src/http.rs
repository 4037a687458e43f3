//! The HTTP API (axum): routes, extractors, handlers. Handlers are thin: decode, check who
//! asks, call storage, encode. Every refusal goes through [`AppError`].

use crate::auth::{self, RateLimiter};
use crate::config::Config;
use crate::error::{AppError, error_response};
use crate::metrics::Metrics;
use crate::model::{SessionInfo, now_ms, today_for_validation};
use crate::storage::{EnrolRefusal, Storage};
use crate::sync::PushContext;
use axum::Router;
use axum::body::HttpBody;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header, request::Parts};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use sync_protocol::{
    ClockPolicy, DeviceId, Encoding, EnrolRequest, EnrolResponse, ErrorBody, ErrorCode,
    LoginRequest, LoginResponse, PROTOCOL_HEADER, PROTOCOL_VERSION, PlaceInfo, PlacesResponse,
    PullRequest, PushRequest, PushResponse, RelayKeysRequest, RelayKeysResponse, StatusRequest,
    StatusResponse, VersionRange, WireMessage,
};

/// Every route of the API, `(method, path)`. The OpenAPI document must list exactly these
/// (tested), and [`router`] serves exactly these.
pub const ROUTES: &[(&str, &str)] = &[
    ("GET", "/healthz"),
    ("GET", "/metrics"),
    ("GET", "/v1/openapi.json"),
    ("POST", "/v1/enrol"),
    ("POST", "/v1/login"),
    ("POST", "/v1/sync/status"),
    ("POST", "/v1/sync/push"),
    ("POST", "/v1/sync/pull"),
    ("GET", "/v1/places"),
    ("POST", "/v1/relay"),
    ("POST", "/v1/relay/keys"),
    // The read model's reads (crate::readmodel::routes).
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

/// The OpenAPI 3.1 document of this API.
pub const OPENAPI_JSON: &str = include_str!("../openapi.json");

/// Bodies decompressed above this size are decoded on a blocking thread.
const INLINE_DECODE_BYTES: usize = 64 * 1024;

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Storage>,
    pub cfg: Arc<Config>,
    pub metrics: Arc<Metrics>,
    pub enrol_limiter: Arc<RateLimiter>,
    pub login_limiter: Arc<RateLimiter>,
    /// Login failures per (device, user), address and user.
    pub login_guard: Arc<auth::LoginGuard>,
    /// Verified against when the username is unknown, so a wrong username costs as long as
    /// a wrong password (no account enumeration by timing).
    pub dummy_hash: Arc<String>,
    /// `/v1/reports` answers kept until the read model changes.
    pub reports: Arc<crate::readmodel::cache::ReportCache>,
    /// The device and scope of sessions seen at a check-in (pull or status): the next
    /// check-in's guess.
    pub checkins: Arc<crate::checkin::CheckinHints>,
}

/// Makes ring the process-wide rustls crypto provider, unless one is set already. The server's
/// TLS uses it; so does any rustls client in the same process whose features leave the
/// choice to the application (e.g. reqwest's `*-no-provider` features elsewhere in the
/// workspace).
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

impl AppState {
    pub fn new(store: Arc<dyn Storage>, cfg: Config) -> Result<Self, AppError> {
        install_crypto_provider();
        let minute = Duration::from_secs(60);
        let dummy = auth::hash_password("jangkau-dummy-secret", cfg.password_cost)?;
        Ok(Self {
            store,
            enrol_limiter: Arc::new(RateLimiter::new(cfg.rate_limits.enrol_per_minute, minute)),
            login_limiter: Arc::new(RateLimiter::new(cfg.rate_limits.login_per_minute, minute)),
            login_guard: Arc::new(auth::LoginGuard::new(cfg.rate_limits.login_per_minute)),
            cfg: Arc::new(cfg),
            metrics: Arc::new(Metrics::default()),
            dummy_hash: Arc::new(dummy),
            reports: Arc::default(),
            checkins: Arc::default(),
        })
    }
}

/// The application: routes, limits, timeout, metrics, panic guard.
pub fn router(state: AppState) -> Router {
    let timeout = Duration::from_secs(state.cfg.request_timeout_s.max(1));
    let wire = Router::new()
        .route("/v1/enrol", post(enrol))
        .route("/v1/login", post(login))
        .route("/v1/sync/status", post(status))
        .route("/v1/sync/push", post(push))
        .route("/v1/sync/pull", post(pull))
        .route("/v1/places", get(places))
        .route("/v1/relay", post(crate::relay::relay))
        .route("/v1/relay/keys", post(relay_keys))
        .route_layer(middleware::from_fn(require_protocol));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/v1/openapi.json", get(openapi))
        .merge(wire)
        .merge(crate::readmodel::routes::router())
        // The web dashboard (HTML, own sessions: crate::web).
        .merge(crate::web::router())
        .fallback(not_found)
        .method_not_allowed_fallback(not_found)
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            timeout,
        ))
        .layer(middleware::from_fn(error_body_for_bare_status))
        .layer(middleware::from_fn_with_state(state.clone(), observe))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(on_panic))
        .layer(middleware::from_fn(compress_responses))
        .layer(axum::extract::DefaultBodyLimit::disable())
        .with_state(state)
}

fn on_panic(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a handler panicked");
    error_response(&ErrorBody::new(
        ErrorCode::Internal,
        "the server failed; the request changed nothing",
    ))
}

/// Answers produced below the handlers (the timeout) carry no body: give them an ErrorBody.
async fn error_body_for_bare_status(req: Request, next: Next) -> Response {
    let resp = next.run(req).await;
    if resp.status() == StatusCode::SERVICE_UNAVAILABLE
        && !resp.headers().contains_key(header::CONTENT_TYPE)
    {
        let mut b = ErrorBody::new(
            ErrorCode::Unavailable,
            "the server took too long; try again (pushes are safe to repeat)",
        );
        b.retry_after_s = Some(10);
        return error_response(&b);
    }
    resp
}

async fn not_found() -> AppError {
    AppError::refused(ErrorCode::NotFound, "no such route")
}

/// Logs and counts every request, by route template (never the body, never a token).
async fn observe(State(st): State<AppState>, req: Request, next: Next) -> Response {
    let route: &'static str = req
        .extensions()
        .get::<MatchedPath>()
        .and_then(|m| ROUTES.iter().find(|(_, p)| *p == m.as_str()).map(|r| r.1))
        .unwrap_or("other");
    let started = Instant::now();
    let resp = next.run(req).await;
    let secs = started.elapsed().as_secs_f64();
    let status = resp.status().as_u16();
    st.metrics.request(route, status, secs);
    if resp
        .extensions()
        .get::<PullSent>()
        .is_some_and(|p| p.0 == 0)
    {
        st.metrics.pull_nothing_new(secs);
    }
    tracing::info!(route, status, ms = (secs * 1000.0).round(), "request");
    resp
}

/// `Jangkau-Protocol: 1` or `2` on every request of the wire API; 426 otherwise. The
/// negotiated version travels with the request ([`Protocol`]): bodies are read and answered
/// in it.
async fn require_protocol(mut req: Request, next: Next) -> Response {
    let header = req
        .headers()
        .get(PROTOCOL_HEADER)
        .map(|v| v.to_str().unwrap_or("?"));
    match VersionRange::CURRENT.negotiate_header(header) {
        Ok(v) => {
            req.extensions_mut().insert(Protocol(v));
            next.run(req).await
        }
        Err(e) => AppError::from(e).into_response(),
    }
}

/// The protocol version negotiated for this request (section 2 of `docs/sync-protocol.md`):
/// the request's `v` must be it, and the answer's `v` is it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Protocol(pub u16);

impl<S: Send + Sync> FromRequestParts<S> for Protocol {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<Protocol>()
            .copied()
            .unwrap_or(Protocol(PROTOCOL_VERSION)))
    }
}

/// A decoded request body, of the negotiated protocol version.
pub struct Wire<T> {
    pub msg: T,
    /// The negotiated protocol version (the body's `v`).
    pub protocol: u16,
}

fn header_str(h: &HeaderMap, name: header::HeaderName) -> Result<Option<&str>, ()> {
    match h.get(name) {
        None => Ok(None),
        Some(v) => v.to_str().map(Some).map_err(|_| ()),
    }
}

impl<T> FromRequest<AppState> for Wire<T>
where
    T: DeserializeOwned + WireMessage + Send + 'static,
{
    type Rejection = AppError;

    async fn from_request(req: Request, st: &AppState) -> Result<Self, AppError> {
        let (parts, body) = req.into_parts();
        let protocol = parts
            .extensions
            .get::<Protocol>()
            .map_or(PROTOCOL_VERSION, |p| p.0);
        let content_encoding =
            header_str(&parts.headers, header::CONTENT_ENCODING).map_err(|()| {
                AppError::refused(
                    ErrorCode::UnsupportedEncoding,
                    "unreadable Content-Encoding",
                )
            })?;
        let encoding = Encoding::from_header(content_encoding)?;
        // Only a push carries changes; every other request is a few short strings, refused
        // past `small_body_bytes` before any of it is decoded.
        let small = parts.uri.path() != "/v1/sync/push";
        let limits = if small {
            sync_protocol::Limits::small(st.cfg.small_body_bytes)
        } else {
            st.cfg.limits
        };
        let too_large = || {
            AppError::refused(
                ErrorCode::BodyTooLarge,
                format!(
                    "the body is over {} bytes on the wire",
                    limits.max_compressed
                ),
            )
        };
        // Past the limit the rest is read and dropped (up to a cap), so the client gets its
        // 413 instead of a connection reset mid-upload.
        let drain_cap = if small {
            limits.max_compressed.saturating_mul(8).max(64 << 10)
        } else {
            limits.max_compressed.saturating_mul(4).max(8 << 20)
        };
        let declared = header_str(&parts.headers, header::CONTENT_LENGTH)
            .ok()
            .flatten()
            .and_then(|v| v.trim().parse::<u64>().ok());
        if declared.is_some_and(|n| n > drain_cap as u64) {
            return Err(too_large());
        }
        let mut body = std::pin::pin!(body);
        let mut bytes = Vec::new();
        let mut total = 0usize;
        while let Some(frame) = std::future::poll_fn(|cx| body.as_mut().poll_frame(cx)).await {
            let frame = frame.map_err(|_| {
                AppError::refused(ErrorCode::MalformedBody, "the body could not be read")
            })?;
            if let Ok(data) = frame.into_data() {
                total = total.saturating_add(data.len());
                if total <= limits.max_compressed {
                    bytes.extend_from_slice(&data);
                } else if total > drain_cap {
                    return Err(too_large());
                }
            }
        }
        if total > limits.max_compressed {
            return Err(too_large());
        }
        let msg = if small || (bytes.len() <= INLINE_DECODE_BYTES && encoding == Encoding::Identity)
        {
            sync_protocol::codec::decode_version::<T>(&bytes, encoding, &limits, protocol)?
        } else {
            tokio::task::spawn_blocking(move || {
                sync_protocol::codec::decode_version::<T>(&bytes, encoding, &limits, protocol)
            })
            .await
            .map_err(|e| AppError::Internal(e.to_string()))??
        };
        Ok(Wire { msg, protocol })
    }
}

/// A JSON answer, uncompressed: [`compress_responses`] compresses every JSON answer.
fn wire_json(json: Vec<u8>) -> Response {
    let mut resp = (StatusCode::OK, json).into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

fn wire<T: Serialize>(msg: &T) -> Result<Response, AppError> {
    let json = serde_json::to_vec(msg).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(wire_json(json))
}

/// Compresses every JSON answer (errors included) with the best encoding the request's
/// `Accept-Encoding` offers (zstd, then gzip), as the protocol asks.
async fn compress_responses(req: Request, next: Next) -> Response {
    let accept = Encoding::negotiate_accept(
        header_str(req.headers(), header::ACCEPT_ENCODING)
            .ok()
            .flatten(),
    );
    let resp = next.run(req).await;
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !is_json || resp.headers().contains_key(header::CONTENT_ENCODING) {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    parts
        .headers
        .insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    let Some(value) = accept.header_value() else {
        return Response::from_parts(parts, body);
    };
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return error_response(&ErrorBody::new(
            ErrorCode::Internal,
            "the answer could not be read back",
        ));
    };
    let compressed = if bytes.len() > INLINE_DECODE_BYTES {
        let plain = bytes.clone();
        tokio::task::spawn_blocking(move || sync_protocol::codec::compress(&plain, accept))
            .await
            .ok()
            .and_then(Result::ok)
    } else {
        sync_protocol::codec::compress(&bytes, accept).ok()
    };
    match compressed {
        Some(c) => {
            parts
                .headers
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static(value));
            parts.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(parts, axum::body::Body::from(c))
        }
        None => Response::from_parts(parts, axum::body::Body::from(bytes)),
    }
}

/// The client's address, for rate limits (never logged).
pub struct ClientAddr(pub String);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, AppError> {
        Ok(ClientAddr(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map_or_else(|| "unknown".to_string(), |c| c.0.ip().to_string()),
        ))
    }
}

fn credential<'a>(parts: &'a Parts, scheme: &str) -> Option<&'a str> {
    let v = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (s, token) = v.trim().split_once(' ')?;
    let token = token.trim();
    (s.eq_ignore_ascii_case(scheme) && !token.is_empty() && token.len() <= 128).then_some(token)
}

/// A valid session: the user and the device it is bound to, checked at every request, so a
/// revocation takes effect at the next one.
pub struct Authed(pub SessionInfo);

impl FromRequestParts<AppState> for Authed {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, AppError> {
        let SessionToken(hash) = SessionToken::from_request_parts(parts, st).await?;
        authenticate(st, hash).await.map(Authed)
    }
}

/// The stored hash of the request's `Authorization: Bearer` token; 401 without one. Not yet
/// checked against the sessions ([`authenticate`], [`admit`]).
pub struct SessionToken(pub String);

impl<S: Send + Sync> FromRequestParts<S> for SessionToken {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        let token = credential(parts, "Bearer").ok_or_else(AppError::unauthorized)?;
        Ok(SessionToken(auth::hash_secret(token)))
    }
}

/// The session of a token hash, admitted ([`admit`]).
async fn authenticate(st: &AppState, token_hash: String) -> Result<SessionInfo, AppError> {
    admit(st.store.session(token_hash).await?)
}

/// Every request's judgement of its session row: unknown 401, device revoked or user
/// disabled 403, expired or ended 401.
fn admit(s: Option<SessionInfo>) -> Result<SessionInfo, AppError> {
    let s = s.ok_or_else(AppError::unauthorized)?;
    if s.device.revoked_at.is_some() {
        return Err(AppError::refused(
            ErrorCode::DeviceRevoked,
            "this device was revoked by an admin; its records stay on it, ask the puskesmas to enrol it again",
        ));
    }
    if s.user.disabled {
        return Err(AppError::refused(
            ErrorCode::UserDisabled,
            "this account is disabled; ask the puskesmas admin",
        ));
    }
    if now_ms() >= s.expires_at {
        return Err(AppError::refused(
            ErrorCode::SessionExpired,
            "the session expired: log in again (work on the tablet is kept)",
        ));
    }
    Ok(s)
}

async fn healthz(State(st): State<AppState>) -> Response {
    match st.store.ping().await {
        Ok(()) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
            "ok",
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            let mut b = ErrorBody::new(ErrorCode::Unavailable, "the database does not answer");
            b.retry_after_s = Some(10);
            error_response(&b)
        }
    }
}

async fn metrics(State(st): State<AppState>) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        st.metrics.render(),
    )
        .into_response()
}

async fn openapi() -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        OPENAPI_JSON,
    )
        .into_response()
}

fn check_text(value: &str, field: &str, max: usize) -> Result<(), AppError> {
    if value.trim().is_empty() || value.chars().count() > max || value.chars().any(char::is_control)
    {
        return Err(AppError::refused(
            ErrorCode::MalformedBody,
            format!("{field} must be 1 to {max} printable characters"),
        ));
    }
    Ok(())
}

/// The enrolment rate limit of the client's address, counted before the body is read.
pub struct EnrolGate;

impl FromRequestParts<AppState> for EnrolGate {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, AppError> {
        let ClientAddr(addr) = ClientAddr::from_request_parts(parts, st).await?;
        st.enrol_limiter
            .hit(&format!("enrol:{addr}"))
            .map_err(AppError::rate_limited)?;
        Ok(EnrolGate)
    }
}

async fn enrol(
    State(st): State<AppState>,
    _gate: EnrolGate,
    Wire { msg, protocol }: Wire<EnrolRequest>,
) -> Result<Response, AppError> {
    check_text(&msg.device_name, "device_name", 80)?;
    check_text(&msg.app_version, "app_version", 40)?;
    if let Some(keys) = &msg.titip {
        keys.validate()
            .map_err(|e| AppError::refused(ErrorCode::MalformedBody, format!("titip: {e}")))?;
    }
    let invalid = || {
        AppError::refused(
            ErrorCode::EnrolCodeInvalid,
            "this enrolment code is unknown or already used; ask the admin for a new one",
        )
    };
    let code = auth::normalise_code(&msg.code).ok_or_else(invalid)?;
    let token = auth::new_token()?;
    let now = now_ms();
    let device = crate::model::NewDevice {
        id: sync_protocol::DeviceId::new_v7(),
        name: msg.device_name,
        token_hash: auth::hash_secret(&token),
        app_version: msg.app_version,
        now,
    };
    match st.store.enrol(auth::hash_secret(&code), device).await? {
        Ok(d) => {
            tracing::info!(device = %d.id, "device enrolled");
            // Titip keys: registered when the tablet sent its own, answered only then.
            let titip = match &msg.titip {
                Some(keys) => Some(crate::relay::register_device_keys(&st, d.id, keys).await?),
                None => None,
            };
            wire(&EnrolResponse {
                v: protocol,
                device_id: d.id,
                device_token: token,
                server_time: now,
                titip,
            })
        }
        Err(EnrolRefusal::Invalid) => Err(invalid()),
        Err(EnrolRefusal::Expired) => Err(AppError::refused(
            ErrorCode::EnrolCodeExpired,
            "this enrolment code expired; ask the admin for a new one",
        )),
    }
}

/// `POST /v1/relay/keys`: a tablet enrolled before titip existed registers its titip keys
/// once, with its device token; the answer is the server's public keys. The same keys again
/// are answered as the first time; other keys for a device that has some are refused.
async fn relay_keys(
    State(st): State<AppState>,
    DeviceAuth(device): DeviceAuth,
    Wire { msg, protocol }: Wire<RelayKeysRequest>,
) -> Result<Response, AppError> {
    let titip = crate::relay::register_late_device_keys(&st, device.id, &msg.titip).await?;
    wire(&RelayKeysResponse { v: protocol, titip })
}

/// An enrolled device's login rate limit, counted before the body is read.
pub struct LoginGate(pub crate::model::Device);

impl FromRequestParts<AppState> for LoginGate {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, AppError> {
        let DeviceAuth(device) = DeviceAuth::from_request_parts(parts, st).await?;
        st.login_limiter
            .hit(&format!("device:{}", device.id))
            .map_err(AppError::rate_limited)?;
        Ok(LoginGate(device))
    }
}

async fn login(
    State(st): State<AppState>,
    ClientAddr(addr): ClientAddr,
    LoginGate(device): LoginGate,
    Wire { msg, protocol }: Wire<LoginRequest>,
) -> Result<Response, AppError> {
    // Attempts per device were counted before the body was read (LoginGate); failures per
    // (device, user), address and user below.
    let failed = || AppError::refused(ErrorCode::LoginFailed, "wrong username or password/PIN");
    if msg.username.len() > 64 || msg.secret.len() > 256 {
        return Err(failed());
    }
    let username = msg.username.trim().to_lowercase();
    let device_key = device.id.to_string();
    let user = st.store.user_by_username(username.clone()).await?;
    let known = match &user {
        Some(u) => st.store.device_user_known(device.id, u.id).await?,
        None => false,
    };
    st.login_guard
        .check(&device_key, &username, &addr, known)
        .map_err(AppError::rate_limited)?;
    let phc = user.as_ref().map_or_else(
        || st.dummy_hash.as_str().to_string(),
        |u| u.secret_hash.clone(),
    );
    let secret = msg.secret;
    let ok = tokio::task::spawn_blocking(move || auth::verify_password(&secret, &phc))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let user = match user {
        Some(u) if ok => u,
        _ => {
            st.login_guard.failed(&device_key, &username, &addr);
            tracing::info!(device = %device.id, "login failed");
            return Err(failed());
        }
    };
    st.login_guard.succeeded(&device_key, &username);
    if user.disabled {
        return Err(AppError::refused(
            ErrorCode::UserDisabled,
            "this account is disabled; ask the puskesmas admin",
        ));
    }
    let token = auth::new_token()?;
    let now = now_ms();
    let ttl = st.cfg.session_ttl_hours.saturating_mul(3_600_000);
    let expires_at = now.saturating_add(ttl);
    st.store
        .create_session(
            auth::hash_secret(&token),
            user.id,
            device.id,
            now,
            expires_at,
            msg.hlc,
        )
        .await?;
    tracing::info!(device = %device.id, user = %user.id, "logged in");
    wire(&LoginResponse {
        v: protocol,
        user_id: user.id,
        display_name: user.display_name,
        role: user.role,
        scope: user.scope,
        session_token: token,
        expires_at,
        server_time: now,
    })
}

/// `Authorization: Device <token>` of an enrolled, not revoked device.
pub struct DeviceAuth(pub crate::model::Device);

impl FromRequestParts<AppState> for DeviceAuth {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, AppError> {
        let token = credential(parts, "Device").ok_or_else(AppError::unauthorized)?;
        let d = st
            .store
            .device_by_token(auth::hash_secret(token))
            .await?
            .ok_or_else(AppError::unauthorized)?;
        if d.revoked_at.is_some() {
            return Err(AppError::refused(
                ErrorCode::DeviceRevoked,
                "this device was revoked by an admin; ask the puskesmas to enrol it again",
            ));
        }
        Ok(DeviceAuth(d))
    }
}

/// Where the user's pull starts: a cursor issued under another scope (or in the old form
/// without one) counts as absent.
fn cursor_after(
    cursor: Option<&str>,
    scope: &sync_protocol::Scope,
) -> Result<crate::sync::CursorPos, AppError> {
    crate::sync::decode_cursor_pos(cursor, scope).ok_or_else(|| {
        AppError::refused(
            ErrorCode::MalformedBody,
            "the cursor was not made by this server; pull again without one",
        )
    })
}

/// The device and scope the session of `token_hash` was last admitted as at a check-in, when
/// the store reads a check-in's session and page (or status) at once; else never guessed.
fn checkin_hint(st: &AppState, token_hash: &str) -> Option<(DeviceId, sync_protocol::Scope)> {
    if !st.store.reads_check_ins_at_once() {
        return None;
    }
    st.checkins.get(token_hash)
}

/// A check-in's body and what is known of its session before the store is asked: the device
/// and scope it was last admitted as ([`checkin_hint`]), or, for a session not remembered,
/// the session itself, judged before the body is read as on every other route (a request
/// with an unknown or refused token costs one session lookup, never a body's decompression
/// and decoding). A body refused is answered only once the session is admitted.
async fn check_in_body<T>(
    st: &AppState,
    token_hash: &str,
    req: Request,
) -> Result<
    (
        Option<(DeviceId, sync_protocol::Scope)>,
        Option<SessionInfo>,
        Wire<T>,
    ),
    AppError,
>
where
    T: DeserializeOwned + WireMessage + Send + 'static,
{
    let hint = checkin_hint(st, token_hash);
    let known = match hint {
        Some(_) => None,
        None => Some(authenticate(st, token_hash.to_string()).await?),
    };
    match Wire::<T>::from_request(req, st).await {
        Ok(w) => Ok((hint, known, w)),
        Err(e) => {
            if known.is_none() {
                authenticate(st, token_hash.to_string()).await?;
            }
            Err(e)
        }
    }
}

/// After a check-in whose guess was not used: its device and scope remembered for the next
/// one (only for a store that reads a check-in at once).
fn remember_check_in(st: &AppState, token_hash: &str, s: &SessionInfo) {
    if st.store.reads_check_ins_at_once() {
        st.checkins.remember(token_hash, s.device.id, &s.user.scope);
    }
}

/// A status check-in: the session judged as at [`pull`], so that a session remembered from
/// an earlier check-in asks the store for its session and its status at once.
async fn status(
    State(st): State<AppState>,
    SessionToken(token_hash): SessionToken,
    req: Request,
) -> Result<Response, AppError> {
    let (hint, known, Wire { msg, protocol }) =
        check_in_body::<StatusRequest>(&st, &token_hash, req).await?;
    let guess = hint.and_then(|(device, scope)| {
        let pos = crate::sync::decode_cursor_pos(msg.cursor.as_deref(), &scope)?;
        let ask = crate::storage::StatusAsk {
            device,
            scope: scope.place.clone(),
            after: pos.start_for(protocol),
        };
        Some((scope, ask))
    });
    let (s, guessed) = match known {
        Some(s) => (s, None),
        None => {
            let (row, guessed) = st
                .store
                .session_and_status(token_hash.clone(), guess.as_ref().map(|g| g.1.clone()))
                .await?;
            (admit(row)?, guessed)
        }
    };
    let after = cursor_after(msg.cursor.as_deref(), &s.user.scope)?.start_for(protocol);
    check_text(&msg.app_version, "app_version", 40)?;
    let now = now_ms();
    let hit = guess.as_ref().is_some_and(|(scope, ask)| {
        *scope == s.user.scope && ask.device == s.device.id && ask.after == after
    });
    let info = match guessed {
        Some(info) if hit => {
            st.metrics.checkins_at_once.fetch_add(1, Ordering::Relaxed);
            info
        }
        _ => {
            remember_check_in(&st, &token_hash, &s);
            st.store
                .status(s.device.id, s.user.scope.place.clone(), after)
                .await?
        }
    };
    // Only news is written: with nothing beyond what the server stored, the waiting count is
    // 0 whatever was reported before (outbox numbers only grow).
    if msg.last_seq > info.acked_seq {
        note_sync(
            &st,
            s.device.id,
            crate::readmodel::SyncNote::Status {
                last_seq: msg.last_seq,
            },
        );
    }
    let stale = s
        .device
        .last_seen_at
        .is_none_or(|t| now.saturating_sub(t) > 60_000);
    if stale || s.device.app_version != msg.app_version {
        st.store
            .touch_device(s.device.id, now, Some(msg.app_version))
            .await?;
    }
    wire(&StatusResponse {
        v: protocol,
        server_time: now,
        acked_seq: info.acked_seq,
        pull_pending: info.pull_pending,
        up_to_date: info.acked_seq >= msg.last_seq && !info.pull_pending,
        limits: st.cfg.limits,
    })
}

async fn push(
    State(st): State<AppState>,
    Authed(s): Authed,
    Wire { msg, protocol }: Wire<PushRequest>,
) -> Result<Response, AppError> {
    let scope: HashSet<String> = st
        .store
        .posyandu_under(s.user.scope.place.clone())
        .await?
        .into_iter()
        .collect();
    let now = now_ms();
    let ctx = Arc::new(PushContext {
        device: s.device.id,
        user: s.user.id,
        role: s.user.role,
        scope_posyandu: scope,
        now_ms: now,
        today: today_for_validation(now),
        clock: ClockPolicy::default(),
    });
    let n = msg.changes.len();
    // Stored on its own task: a client that hangs up, or a shutdown, does not cut a batch
    // in half; the answer is sent only after the commit.
    let store = st.store.clone();
    let metrics = st.metrics.clone();
    metrics.in_flight_pushes.fetch_add(1, Ordering::Relaxed);
    let task = tokio::spawn(async move {
        let r = store.push(ctx, msg.changes).await;
        metrics.in_flight_pushes.fetch_sub(1, Ordering::Relaxed);
        r
    });
    let result = task
        .await
        .map_err(|e| AppError::Internal(e.to_string()))??;
    let mut accepted = 0u64;
    let mut duplicate = 0u64;
    for o in &result.outcomes {
        match (&o.status, &o.rejection) {
            (sync_protocol::OutcomeStatus::Accepted, _) => accepted += 1,
            (sync_protocol::OutcomeStatus::Duplicate, _) => duplicate += 1,
            (sync_protocol::OutcomeStatus::Rejected, Some(r)) => {
                st.metrics
                    .rejected(r.code.message_key().trim_start_matches("sync.reject."));
            }
            (sync_protocol::OutcomeStatus::Rejected, None) => st.metrics.rejected("unknown"),
        }
    }
    st.metrics
        .changes_accepted
        .fetch_add(accepted, Ordering::Relaxed);
    st.metrics
        .changes_duplicate
        .fetch_add(duplicate, Ordering::Relaxed);
    for wall in &result.accepted_wall_ms {
        st.metrics.lag(now.saturating_sub(*wall) as f64 / 1000.0);
    }
    tracing::info!(device = %s.device.id, changes = n, accepted, duplicate, acked_seq = result.acked_seq, "push");
    wire(&PushResponse {
        v: protocol,
        outcomes: result.outcomes,
        acked_seq: result.acked_seq,
        server_time: now_ms(),
    })
}

/// A pull: the session is judged as [`Authed`] does; for a session remembered from an
/// earlier check-in after the body is read, so that it asks the store for the session and
/// its page at once ([`crate::checkin`]); for any other before ([`check_in_body`]). The
/// answers are those of [`Authed`] first, then of the body: a body refused is answered only
/// once the session is admitted.
async fn pull(
    State(st): State<AppState>,
    SessionToken(token_hash): SessionToken,
    req: Request,
) -> Result<Response, AppError> {
    let (hint, known, Wire { msg, protocol }) =
        check_in_body::<PullRequest>(&st, &token_hash, req).await?;
    let max = st.cfg.limits.max_batch;
    let limit = usize::try_from(msg.limit).unwrap_or(max).clamp(1, max);
    let max_bytes = st.cfg.pull_page_bytes;
    // The guess: the device and scope of this session's last check-in, and the page they
    // would read.
    let guess = hint.and_then(|(device, scope)| {
        let pos = crate::sync::decode_cursor_pos(msg.cursor.as_deref(), &scope)?;
        let ask = crate::storage::PageAsk {
            device,
            scope: scope.place.clone(),
            after: pos.start_for(protocol),
            limit,
            max_bytes,
        };
        Some((scope, ask))
    });
    let (s, guessed_page) = match known {
        Some(s) => (s, None),
        None => {
            let (row, page) = st
                .store
                .session_and_page(token_hash.clone(), guess.as_ref().map(|g| g.1.clone()))
                .await?;
            (admit(row)?, page)
        }
    };
    let pos = cursor_after(msg.cursor.as_deref(), &s.user.scope)?;
    let after = pos.start_for(protocol);
    // The guessed page is the one this path would read only when the row matches the guess
    // whole (device, scope, and so where the cursor starts).
    let hit = guess.as_ref().is_some_and(|(scope, ask)| {
        *scope == s.user.scope && ask.device == s.device.id && ask.after == after
    });
    let page = match guessed_page {
        Some(page) if hit => {
            st.metrics.checkins_at_once.fetch_add(1, Ordering::Relaxed);
            page
        }
        _ => {
            remember_check_in(&st, &token_hash, &s);
            st.store
                .pull_for(
                    s.device.id,
                    s.user.scope.place.clone(),
                    after,
                    limit,
                    max_bytes,
                )
                .await?
        }
    };
    if !page.skipped.is_empty() {
        // Stored before the limits of one change: never served; an admin lists them with
        // `change list --over-limit` and may quarantine them.
        tracing::warn!(device = %s.device.id, skipped = ?page.skipped, limit = st.cfg.pull_page_bytes, "over-size changes skipped in a pull page");
        st.metrics
            .changes_skipped
            .fetch_add(page.skipped.len() as u64, Ordering::Relaxed);
    }
    if !page.has_more {
        // A pull is complete at its last page: one write per sync, not per page.
        note_sync(&st, s.device.id, crate::readmodel::SyncNote::Pull);
    }
    let last = page.scanned_to;
    // A peer of protocol 1 gets schema-2 changes as schema 1 (section 2 of the spec).
    let (changes, partial_from) =
        crate::sync::page_for_protocol(page.changes, protocol, pos.partial_from);
    let n = changes.len();
    // The stored payloads are the changes' JSON already: splice them, do not re-parse.
    let mut json = Vec::with_capacity(64 + changes.iter().map(|c| c.1.len() + 1).sum::<usize>());
    json.extend_from_slice(format!("{{\"v\":{protocol},\"changes\":[").as_bytes());
    for (i, (_, payload)) in changes.iter().enumerate() {
        if i > 0 {
            json.push(b',');
        }
        json.extend_from_slice(payload.as_bytes());
    }
    let tail = serde_json::json!({
        "cursor": crate::sync::encode_cursor_partial(last, &s.user.scope, partial_from),
        "has_more": page.has_more,
        "server_time": now_ms(),
    });
    let tail = serde_json::to_string(&tail).map_err(|e| AppError::Internal(e.to_string()))?;
    json.extend_from_slice(b"],");
    json.extend_from_slice(tail.trim_start_matches('{').as_bytes());
    st.metrics
        .changes_pulled
        .fetch_add(n as u64, Ordering::Relaxed);
    tracing::info!(device = %s.device.id, changes = n, has_more = page.has_more, "pull");
    let mut resp = wire_json(json);
    resp.extensions_mut().insert(PullSent(n));
    Ok(resp)
}

/// How many changes a pull's answer holds (a response extension, for the metrics of pulls
/// that found nothing new).
#[derive(Debug, Clone, Copy)]
struct PullSent(usize);

/// Records what a device told of itself for `GET /v1/reports/tablets`, off the request's
/// path (bookkeeping: a failure is logged, never answered).
fn note_sync(st: &AppState, device: sync_protocol::DeviceId, note: crate::readmodel::SyncNote) {
    let store = st.store.clone();
    // The time of the request, not of the task: on a busy server the task may run after the
    // answer has reached the tablet (and the tablet's next request).
    let at = now_ms();
    tokio::spawn(async move {
        if let Err(e) =
            crate::readmodel::ReadModel::note_device_sync(store.as_ref(), device, note, at).await
        {
            tracing::warn!(%device, error = %e, "device sync state not recorded");
        }
    });
}

/// The places the user needs: their scope, everything under it and everything above it,
/// parents before children (level, then code). Asked once per login, never during a sync.
async fn places(
    State(st): State<AppState>,
    Protocol(protocol): Protocol,
    Authed(s): Authed,
) -> Result<Response, AppError> {
    let mut places = st
        .store
        .places_for_scope(s.user.scope.place.clone())
        .await?;
    places.sort_by(|a, b| a.level.cmp(&b.level).then_with(|| a.code.cmp(&b.code)));
    tracing::info!(device = %s.device.id, places = places.len(), "places");
    wire(&PlacesResponse {
        v: protocol,
        places: places
            .into_iter()
            .map(|p| PlaceInfo {
                code: p.code,
                level: p.level,
                name: p.name,
                parent: p.parent,
            })
            .collect(),
    })
}

/// Serves the app on a bound listener until `shutdown` resolves, then finishes the requests
/// in flight (at most `grace`).
pub async fn serve_listener(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        let _ = tx.send(());
    });
    let mut server = std::pin::pin!(server.into_future());
    tokio::select! {
        r = &mut server => r,
        () = async {
            let _ = rx.await;
            tokio::time::sleep(grace).await;
        } => {
            tracing::warn!("shutdown grace period over; dropping requests still in flight");
            Ok(())
        }
    }
}

/// Serves HTTPS with rustls (certificate chain and key from PEM files) on a bound listener
/// until `shutdown`, with the same grace.
pub async fn serve_tls(
    listener: std::net::TcpListener,
    tls: &crate::config::TlsConfig,
    app: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    install_crypto_provider();
    let config = axum_server::tls_rustls::RustlsConfig::from_pem_file(&tls.cert, &tls.key).await?;
    let handle = axum_server::Handle::new();
    let h = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        h.graceful_shutdown(Some(grace));
    });
    listener.set_nonblocking(true)?;
    axum_server::from_tcp_rustls(listener, config)?
        .handle(handle)
        .serve(app.into_make_service_with_connect_info::<SocketAddr>())
        .await
}
