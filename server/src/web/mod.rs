//! The web dashboard (Dasbor, issue 14): server-rendered HTML pages for the puskesmas and
//! the dinas, on the same read model as `/v1/reports` (the same Rust functions, the same
//! scope checks), with its own login and browser sessions.
//!
//! Layout: [`session`] (cookies, CSRF), [`login`], [`layout`] (page shell, drill-down,
//! month picker), one file per page ([`summary`], [`skdn`], [`gizi`], [`imunisasi`],
//! [`kia`], [`rujukan`], [`tablet`], [`tinjauan`], [`admin`], [`child`]), [`html`] (escaping, tables),
//! [`csv`], [`format`] (Indonesian numbers and dates), [`chart`] (inline SVG), [`store`]
//! (the dashboard's rows), [`i18n`]. Assets (`dasbor.css`, `dasbor.js`) are compiled in.
//!
//! A new page: a file with `async fn page(st, ctx) -> Result<Page, WebError>`, a route in
//! [`router`] through [`page_route`], and an entry in [`layout::NAV`].

pub mod admin;
pub mod chart;
pub mod child;
pub mod csv;
pub mod format;
pub mod gizi;
pub mod html;
pub mod i18n;
pub mod imunisasi;
pub mod kia;
pub mod layout;
pub mod login;
pub mod rujukan;
pub mod session;
pub mod skdn;
pub mod store;
pub mod summary;
pub mod tablet;
pub mod tinjauan;
pub mod trend;

use crate::http::AppState;
use crate::model::Place;
use crate::readmodel::reports;
use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use health_rules::kms::YearMonth;
use i18n::Lang;
use std::collections::HashMap;
use sync_protocol::PlaceLevel;

pub use layout::Page;
pub use session::WebUser;

pub const CSS: &str = include_str!("assets/dasbor.css");
pub const JS: &str = include_str!("assets/dasbor.js");

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error(transparent)]
    Storage(#[from] crate::storage::StorageError),
    #[error(transparent)]
    Auth(#[from] crate::auth::AuthError),
    #[error(transparent)]
    Admin(#[from] crate::admin::AdminError),
    #[error("{0}")]
    Report(String),
    /// Not logged in: to the login page.
    #[error("not logged in")]
    Login,
    /// Outside the user's area, or no such thing.
    #[error("not found")]
    NotFound,
    #[error("forbidden")]
    Forbidden,
    #[error("{0}")]
    BadRequest(String),
}

impl From<crate::readmodel::monthly::MonthlyError> for WebError {
    fn from(e: crate::readmodel::monthly::MonthlyError) -> Self {
        match e {
            crate::readmodel::monthly::MonthlyError::Storage(s) => WebError::Storage(s),
            other => WebError::Report(other.to_string()),
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, id, en) = match &self {
            WebError::Login => {
                return (StatusCode::SEE_OTHER, [(header::LOCATION, "/")]).into_response();
            }
            WebError::NotFound => (
                StatusCode::NOT_FOUND,
                "Tidak ditemukan di wilayah Anda.",
                "Not found in your area.",
            ),
            WebError::Forbidden => (
                StatusCode::FORBIDDEN,
                "Anda tidak berhak membuka halaman ini.",
                "You may not open this page.",
            ),
            WebError::BadRequest(_) => (
                StatusCode::BAD_REQUEST,
                "Permintaan tidak dapat dibaca.",
                "The request could not be read.",
            ),
            _ => {
                tracing::error!(error = %self, "dashboard page failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Server gagal; coba lagi.",
                    "The server failed; try again.",
                )
            }
        };
        let body = format!(
            "<!doctype html><html lang=\"id\"><head><meta charset=\"utf-8\"><title>{status}</title>\
             <link rel=\"stylesheet\" href=\"/dasbor/aset/dasbor.css\"></head><body><main class=\"err\">\
             <h1 data-testid=\"error\">{}</h1><p>{}</p><p><a href=\"/dasbor\">Dasbor</a></p></main></body></html>",
            html::esc(id),
            html::esc(en)
        );
        let mut r = (status, body).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        r
    }
}

/// What every dashboard page knows of its request.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub me: WebUser,
    pub lang: Lang,
    /// The place shown: at or under the user's scope (checked).
    pub place: Place,
    pub month: YearMonth,
    pub query: HashMap<String, String>,
    /// Every place, by code (for names and the drill-down).
    pub places: HashMap<String, Place>,
    pub path: String,
}

impl Ctx {
    pub fn t(&self, id: &'static str, en: &'static str) -> &'static str {
        self.lang.t(id, en)
    }

    /// A place's name (its code when unknown).
    pub fn name(&self, code: &str) -> String {
        self.places
            .get(code)
            .map_or_else(|| code.to_string(), |p| p.name.clone())
    }

    /// The nearest place of level `level` at or above `code`.
    pub fn up_to(&self, code: &str, level: PlaceLevel) -> Option<String> {
        let mut cur = self.places.get(code)?;
        for _ in 0..16 {
            if cur.level == level {
                return Some(cur.code.clone());
            }
            cur = self.places.get(cur.parent.as_deref()?)?;
        }
        None
    }

    /// Whether `code` is at or under `ancestor`.
    pub fn under(&self, code: &str, ancestor: &str) -> bool {
        let mut cur = code;
        for _ in 0..16 {
            if cur == ancestor {
                return true;
            }
            match self.places.get(cur).and_then(|p| p.parent.as_deref()) {
                Some(p) => cur = p,
                None => return false,
            }
        }
        false
    }

    /// A link to `path` for `place` and the month shown.
    pub fn href(&self, path: &str, place: &str) -> String {
        format!("{path}?place={}&month={}", html::url(place), self.month)
    }
}

/// The month shown by default: the current one in WITA.
pub fn this_month() -> YearMonth {
    YearMonth::of(reports::today(crate::model::now_ms()))
}

/// Builds the request's [`Ctx`]: the session (else to the login page), the language, the
/// place (the user's scope unless `?place=` names one at or under it: else 404) and month.
pub async fn ctx(
    st: &AppState,
    headers: &HeaderMap,
    query: HashMap<String, String>,
    path: &str,
) -> Result<Ctx, WebError> {
    let me = session::current(st, headers)
        .await?
        .ok_or(WebError::Login)?;
    let lang = i18n::lang(headers, &query);
    let scope = me.user.scope.place.clone();
    let code = query.get("place").cloned().unwrap_or_else(|| scope.clone());
    if code.len() > 64 || !reports::in_scope(st.store.as_ref(), &scope, &code).await? {
        return Err(WebError::NotFound);
    }
    let places: HashMap<String, Place> = st
        .store
        .all_places()
        .await?
        .into_iter()
        .map(|p| (p.code.clone(), p))
        .collect();
    let place = places.get(&code).cloned().ok_or(WebError::NotFound)?;
    let month = match query.get("month").filter(|m| !m.is_empty()) {
        Some(m) => m
            .parse::<YearMonth>()
            .map_err(|_| WebError::BadRequest("month must be YYYY-MM".into()))?,
        None => this_month(),
    };
    Ok(Ctx {
        me,
        lang,
        place,
        month,
        query,
        places,
        path: path.to_string(),
    })
}

/// The dashboard's routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(login::show))
        .route("/masuk", post(login::submit))
        .route("/keluar", post(login::logout))
        .route("/dasbor", get(summary::handler))
        .route("/dasbor/skdn", get(skdn::handler))
        .route("/dasbor/gizi", get(gizi::handler))
        .route("/dasbor/imunisasi", get(imunisasi::handler))
        .route("/dasbor/kia", get(kia::handler))
        .route("/dasbor/rujukan", get(rujukan::handler))
        .route("/dasbor/tablet", get(tablet::handler))
        .route("/dasbor/tinjauan", get(tinjauan::handler))
        .route("/dasbor/anak/{id}", get(child::handler))
        .route("/dasbor/admin", get(admin::handler))
        .route("/dasbor/admin/{action}", post(admin::action))
        .route("/dasbor/aset/dasbor.css", get(css))
        .route("/dasbor/aset/dasbor.js", get(js))
        .layer(middleware::from_fn(gzip_html))
}

async fn css() -> Response {
    asset(CSS, "text/css; charset=utf-8")
}

async fn js() -> Response {
    asset(JS, "text/javascript; charset=utf-8")
}

fn asset(body: &'static str, kind: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

/// Renders a built page: as HTML, as the CSV of one of its tables (`?csv=<table>`), or
/// printable (`?print=1`).
pub fn respond(ctx: &Ctx, page: Page) -> Result<Response, WebError> {
    if let Some(id) = ctx.query.get("csv") {
        let table = page
            .tables()
            .find(|t| t.id == id.as_str())
            .ok_or(WebError::NotFound)?;
        return Ok(csv::response(
            table,
            &format!("{}-{}-{}", table.id, ctx.place.code, ctx.month),
        ));
    }
    let print = ctx.query.get("print").is_some_and(|v| v == "1");
    let mut r = html_response(layout::render(ctx, &page, print));
    // `?lang=` switches the language for the pages that follow too.
    if ctx.query.contains_key("lang")
        && let Ok(v) = HeaderValue::from_str(&format!(
            "lang={}; Path=/; SameSite=Strict; Max-Age=31536000",
            ctx.lang.code()
        ))
    {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(r)
}

/// An HTML answer that no cache keeps (pages hold names).
pub fn html_response(body: String) -> Response {
    let mut r = body.into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'",
        ),
    );
    r
}

/// Compresses HTML, CSS, JS and CSV answers with gzip when the browser accepts it.
async fn gzip_html(req: Request, next: Next) -> Response {
    let gzip = req
        .headers()
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|e| e.split(';').next().is_some_and(|n| n.trim() == "gzip"));
    let resp = next.run(req).await;
    let textual = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/"));
    if !textual || resp.headers().contains_key(header::CONTENT_ENCODING) {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    parts
        .headers
        .insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if !gzip {
        return Response::from_parts(parts, body);
    }
    let Ok(bytes) = axum::body::to_bytes(body, 64 << 20).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "").into_response();
    };
    match sync_protocol::codec::compress(&bytes, sync_protocol::Encoding::Gzip) {
        Ok(c) => {
            parts
                .headers
                .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            parts.headers.remove(header::CONTENT_LENGTH);
            Response::from_parts(parts, axum::body::Body::from(c))
        }
        Err(_) => Response::from_parts(parts, axum::body::Body::from(bytes)),
    }
}

/// A handler for a page: builds the [`Ctx`], calls `build`, renders.
#[macro_export]
macro_rules! page_route {
    ($build:path) => {
        pub async fn handler(
            axum::extract::State(st): axum::extract::State<$crate::http::AppState>,
            headers: axum::http::HeaderMap,
            uri: axum::http::Uri,
            axum::extract::Query(q): axum::extract::Query<
                std::collections::HashMap<String, String>,
            >,
        ) -> Result<axum::response::Response, $crate::web::WebError> {
            let ctx = $crate::web::ctx(&st, &headers, q, uri.path()).await?;
            let page = $build(&st, &ctx).await?;
            $crate::web::respond(&ctx, page)
        }
    };
}
