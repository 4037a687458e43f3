//! The web dashboard (issue 14) over real HTTP on both backends: login and sessions (cookie
//! flags, CSRF on every form, logout), a kader refused, every page and CSV limited to the
//! user's area, an admin action audited, bad input kept.

use crate::common::{Backend, TestServer};
use district_server::admin::DEMO_PASSWORD;

const HALILULIK: &str = "53.04.PKM07";
const OTHER_PKM: &str = "53.04.PKM01";

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

fn url(s: &TestServer, path: &str) -> String {
    format!("http://{}{}", s.addr, path)
}

/// `name=value` of the first `Set-Cookie` of `name`, and the whole header.
fn set_cookie(r: &reqwest::Response, name: &str) -> Option<(String, String)> {
    r.headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(|v| (v.split(';').next().unwrap().to_string(), v.to_string()))
}

/// The value of the first hidden `csrf` field of a page.
fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a csrf field") + 19;
    html[at..].split('"').next().unwrap().to_string()
}

/// The login form: its CSRF cookie and field.
async fn login_form(s: &TestServer) -> (String, String) {
    let r = client().get(url(s, "/")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let cookie = set_cookie(&r, "jangkau_login").expect("login cookie").0;
    let html = r.text().await.unwrap();
    (cookie, csrf_of(&html))
}

async fn try_login(s: &TestServer, user: &str, password: &str) -> reqwest::Response {
    let (cookie, csrf) = login_form(s).await;
    client()
        .post(url(s, "/masuk"))
        .header("cookie", cookie)
        .form(&[("username", user), ("password", password), ("csrf", &csrf)])
        .send()
        .await
        .unwrap()
}

/// Logs in; returns the session cookie (`name=value`) and the session's CSRF token.
pub(crate) async fn login(s: &TestServer, user: &str) -> (String, String) {
    let r = try_login(s, user, DEMO_PASSWORD).await;
    assert_eq!(r.status(), 303, "{user} logs in");
    let (cookie, _) = set_cookie(&r, "jangkau_dasbor").expect("session cookie");
    let html = get(s, &cookie, "/dasbor").await.1;
    (cookie.clone(), csrf_of(&html))
}

pub(crate) async fn get(s: &TestServer, cookie: &str, path: &str) -> (u16, String) {
    let r = client()
        .get(url(s, path))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn login_sessions_and_csrf(b: Backend) {
    let s = TestServer::demo(b).await;
    // The session cookie: HttpOnly, SameSite=Strict, not Secure over plain http.
    let r = try_login(&s, "dinas", DEMO_PASSWORD).await;
    assert_eq!(r.status(), 303);
    let (cookie, header) = set_cookie(&r, "jangkau_dasbor").unwrap();
    assert!(
        header.contains("HttpOnly") && header.contains("SameSite=Strict"),
        "{header}"
    );
    assert!(!header.contains("Secure"));
    let (st, html) = get(&s, &cookie, "/dasbor").await;
    assert_eq!(st, 200);
    assert!(html.contains("Ringkasan"));
    // No cookie, or a made-up one: to the login page.
    assert_eq!(get(&s, "", "/dasbor/skdn").await.0, 303);
    assert_eq!(
        get(&s, "jangkau_dasbor=made-up", "/dasbor/skdn").await.0,
        303
    );

    // A login form without its CSRF cookie is refused, the username kept.
    let (_, csrf) = login_form(&s).await;
    let r = client()
        .post(url(&s, "/masuk"))
        .form(&[
            ("username", "dinas"),
            ("password", DEMO_PASSWORD),
            ("csrf", &csrf),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(set_cookie(&r, "jangkau_dasbor").is_none());

    // A wrong password: the message, and the username as typed.
    let r = try_login(&s, "Dinas", "bukan-sandinya").await;
    assert_eq!(r.status(), 401);
    let html = r.text().await.unwrap();
    assert!(html.contains("Nama pengguna atau kata sandi salah."));
    assert!(html.contains("value=\"Dinas\""), "the typed username stays");

    // A kader may not log in here.
    let r = try_login(&s, "kader.mawar", DEMO_PASSWORD).await;
    assert_eq!(r.status(), 403);
    assert!(set_cookie(&r, "jangkau_dasbor").is_none());
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("Akun kader tidak dapat masuk ke dasbor")
    );

    // Logout needs the session's CSRF token; after it the cookie is dead.
    let csrf = csrf_of(&html_of(&s, &cookie, "/dasbor").await);
    let bad = client()
        .post(url(&s, "/keluar"))
        .header("cookie", &cookie)
        .form(&[("csrf", "wrong")])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 403);
    assert_eq!(get(&s, &cookie, "/dasbor").await.0, 200, "still logged in");
    let out = client()
        .post(url(&s, "/keluar"))
        .header("cookie", &cookie)
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 303);
    assert_eq!(get(&s, &cookie, "/dasbor").await.0, 303);
    s.finish().await;
}

async fn html_of(s: &TestServer, cookie: &str, path: &str) -> String {
    get(s, cookie, path).await.1
}

async fn pages_are_scoped(b: Backend) {
    let s = TestServer::demo(b).await;
    let (pkm, _) = login(&s, "admin.halilulik").await;
    let month = "2026-01";
    for page in [
        "/dasbor",
        "/dasbor/skdn",
        "/dasbor/gizi",
        "/dasbor/imunisasi",
        "/dasbor/kia",
        "/dasbor/rujukan",
        "/dasbor/tablet",
    ] {
        let own = get(&s, &pkm, &format!("{page}?place={HALILULIK}&month={month}")).await;
        assert_eq!(own.0, 200, "{page} of the own puskesmas: {}", own.1);
        assert!(own.1.contains("Puskesmas Halilulik"));
        let other = get(&s, &pkm, &format!("{page}?place={OTHER_PKM}&month={month}")).await;
        assert_eq!(other.0, 404, "{page} of another puskesmas");
        assert!(!other.1.contains("Puskesmas Kota Atambua"));
        let kab = get(&s, &pkm, &format!("{page}?place=53.04&month={month}")).await;
        assert_eq!(kab.0, 404, "{page} of the kabupaten");
    }
    // The CSV of another puskesmas is refused as the page is.
    let csv = get(
        &s,
        &pkm,
        &format!("/dasbor/skdn?place={OTHER_PKM}&month={month}&csv=posyandu"),
    )
    .await;
    assert_eq!(csv.0, 404);
    let own = client()
        .get(url(
            &s,
            &format!("/dasbor/skdn?place={HALILULIK}&month={month}&csv=posyandu"),
        ))
        .header("cookie", &pkm)
        .send()
        .await
        .unwrap();
    assert_eq!(own.status(), 200);
    assert_eq!(own.headers()["content-type"], "text/csv; charset=utf-8");
    let text = own.text().await.unwrap();
    assert!(
        text.trim_start_matches('\u{feff}')
            .starts_with("Posyandu;Hari posyandu;S;K;D;N"),
        "{text}"
    );
    assert!(text.contains("Posyandu Mawar"));
    // KIA's KF/KN visits table, per desa, as CSV.
    let (code, kf) = get(
        &s,
        &pkm,
        &format!("/dasbor/kia?place={HALILULIK}&month={month}&csv=kunjungan-nifas-neonatal"),
    )
    .await;
    assert_eq!(code, 200, "{kf}");
    assert!(
        kf.trim_start_matches('\u{feff}')
            .starts_with("Wilayah;KF jatuh tempo;KF dilakukan;KF terlewat;KN jatuh tempo"),
        "{kf}"
    );
    // The drill-down of the kabupaten lists the puskesmas for the dinas only.
    let (dinas, _) = login(&s, "dinas").await;
    let k = html_of(&s, &dinas, &format!("/dasbor?place=53.04&month={month}")).await;
    assert!(k.contains("data-testid=\"drill-53.04.PKM01\""));
    assert_eq!(k.matches("data-testid=\"drill-53.04.PKM").count(), 17);
    // A bidan sees no Administrasi; a puskesmas admin sees only its own users.
    let (bidan, _) = login(&s, "bidan.naitimu").await;
    assert_eq!(get(&s, &bidan, "/dasbor/admin").await.0, 403);
    let adm = html_of(&s, &pkm, "/dasbor/admin").await;
    assert!(adm.contains("kader.mawar"));
    assert!(
        !adm.contains(">dinas<"),
        "the dinas account is outside the puskesmas"
    );
    s.finish().await;
}

async fn admin_actions_need_csrf_and_are_audited(b: Backend) {
    let s = TestServer::demo(b).await;
    let (pkm, csrf) = login(&s, "admin.halilulik").await;
    let post = |form: Vec<(&'static str, String)>| {
        let c = pkm.clone();
        let u = url(&s, "/dasbor/admin/user");
        async move {
            client()
                .post(u)
                .header("cookie", c)
                .form(&form)
                .send()
                .await
                .unwrap()
        }
    };
    let form = |csrf: &str, username: &str| {
        vec![
            ("csrf", csrf.to_string()),
            ("username", username.to_string()),
            ("name", "Kader Baru <b>".to_string()),
            ("role", "kader".to_string()),
            ("scope", "53.04.05.2001.P02".to_string()),
            ("password", "rahasia-123".to_string()),
        ]
    };
    // Without the session's token: refused, nothing added.
    assert_eq!(post(form("forged", "kader.baru")).await.status(), 403);
    assert!(
        s.db.store
            .user_by_username("kader.baru".into())
            .await
            .unwrap()
            .is_none()
    );
    // With it: added and audited.
    let r = post(form(&csrf, "kader.baru")).await;
    assert_eq!(r.status(), 303);
    assert!(
        s.db.store
            .user_by_username("kader.baru".into())
            .await
            .unwrap()
            .is_some()
    );
    let page = html_of(&s, &pkm, "/dasbor/admin").await;
    assert!(page.contains("user_add"), "the audit log shows the action");
    assert!(page.contains("Kader Baru &lt;b&gt;"), "names are escaped");
    assert!(!page.contains("Kader Baru <b>"));
    // A duplicate username: the reason, and what was typed.
    let r = post(form(&csrf, "kader.baru")).await;
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("Nama pengguna itu sudah dipakai."));
    assert!(html.contains("value=\"kader.baru\""));
    // A scope outside the puskesmas is refused.
    let mut outside = form(&csrf, "kader.luar");
    outside[4].1 = "53.04.01.2100.P01".into();
    assert_eq!(post(outside).await.status(), 422);
    // A places CSV with a bad line: every bad line named, the text kept.
    let csv_text = "code,name,level,parent,ilp_since\n53.04.05.2001.D1.P09,Posyandu Baru,posyandu,53.04.05.2001.D1,\n53.04.PKM07,Puskesmas Halilulik,puskesmas,53.04.05,2024-07-01\nbad code,X,posyandu,53.04.05.2001.D1,\n";
    let r = client()
        .post(url(&s, "/dasbor/admin/places"))
        .header("cookie", &pkm)
        .form(&[("csrf", csrf.as_str()), ("csv", csv_text)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let html = r.text().await.unwrap();
    assert!(html.contains("Baris 4"), "{html}");
    assert!(html.contains("Posyandu Baru"), "the typed CSV stays");
    s.finish().await;
}

async fn web_logins_are_rate_limited(b: Backend) {
    let s = TestServer::demo_with(b, |c| c.rate_limits.login_per_minute = 2).await;
    for _ in 0..2 {
        assert_eq!(try_login(&s, "dinas", "salah-terus").await.status(), 401);
    }
    // Held now, even with the right password; the username is kept.
    let r = try_login(&s, "dinas", DEMO_PASSWORD).await;
    assert_eq!(r.status(), 429);
    assert!(set_cookie(&r, "jangkau_dasbor").is_none());
    let html = r.text().await.unwrap();
    assert!(html.contains("Terlalu banyak percobaan gagal"));
    assert!(html.contains("value=\"dinas\""));
    s.finish().await;
}

/// Gzipped bytes of a GET as a browser asks it (reqwest here does not decompress).
async fn gz_bytes(s: &TestServer, cookie: &str, path: &str) -> usize {
    let r = client()
        .get(url(s, path))
        .header("cookie", cookie)
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{path}");
    assert_eq!(r.headers()["content-encoding"], "gzip", "{path}");
    r.bytes().await.unwrap().len()
}

/// Every page's first load (HTML, CSS, JS; no fonts, nothing from elsewhere) is gzipped and
/// within 150 KB for the demo district (`--nocapture` prints the figures).
async fn pages_are_light(b: Backend) {
    let s = TestServer::demo(b).await;
    let (dinas, _) = login(&s, "dinas").await;
    let assets = gz_bytes(&s, &dinas, "/dasbor/aset/dasbor.css").await
        + gz_bytes(&s, &dinas, "/dasbor/aset/dasbor.js").await;
    for (page, _, _) in district_server::web::layout::NAV {
        let n = gz_bytes(&s, &dinas, &format!("{page}?place=53.04&month=2026-01")).await;
        println!(
            "{page}: {n} + {assets} (css, js) = {} bytes gzipped",
            n + assets
        );
        assert!(n + assets <= 150_000, "{page}: {}", n + assets);
    }
    let login_page = client()
        .get(url(&s, "/"))
        .header("accept-encoding", "gzip")
        .send()
        .await
        .unwrap();
    assert_eq!(login_page.headers()["content-encoding"], "gzip");
    s.finish().await;
}

/// The places CSV's `ilp_since` column, as `jangkau-server places import` reads it, shows on
/// Ringkasan.
async fn ilp_since_from_the_places_csv(b: Backend) {
    let s = TestServer::demo(b).await;
    let csv = "code,name,level,parent,ilp_since\n53.04.PKM02,Puskesmas Umanen,puskesmas,53.04.01,2026-02-03\n";
    let n = district_server::web::admin::import_places_csv(s.db.store.as_ref(), csv)
        .await
        .unwrap();
    assert_eq!(n, 1);
    let bad = "code,name,level,parent,ilp_since\n53.04.PKM04,Puskesmas Atambua Selatan,puskesmas,53.04.03,kemarin\n";
    assert!(
        district_server::web::admin::import_places_csv(s.db.store.as_ref(), bad)
            .await
            .is_err()
    );
    let (dinas, _) = login(&s, "dinas").await;
    let html = html_of(&s, &dinas, "/dasbor?place=53.04&month=2026-03").await;
    assert!(
        html.contains("03/02/2026"),
        "Umanen on ILP since 3 February 2026"
    );
    // The demo's 9 of 17 (Umanen was among them already).
    assert!(html.contains("data-testid=\"sum-ilp\">9 / 17<"), "{html}");
    s.finish().await;
}

/// A password reset on the Administrasi page ends every session of the user: the dashboard's
/// and the tablets' (a tablet's token answers `session_expired`; the old password no longer
/// logs in, the new one does).
async fn a_password_reset_ends_the_users_tablet_and_web_sessions(b: Backend) {
    let s = TestServer::demo(b).await;
    let status = serde_json::json!({"v": 1, "last_seq": 0, "app_version": "0.1.0"});
    let tablet = s.session("bidan.naitimu").await;
    assert_eq!(
        s.post("/v1/sync/status", &status, Some(&tablet.bearer))
            .await
            .0,
        200
    );
    let (web, _) = login(&s, "bidan.naitimu").await;
    assert_eq!(get(&s, &web, "/dasbor").await.0, 200);
    let (pkm, csrf) = login(&s, "admin.halilulik").await;
    let r = client()
        .post(url(&s, "/dasbor/admin/password"))
        .header("cookie", &pkm)
        .form(&[
            ("csrf", csrf.as_str()),
            ("target", "bidan.naitimu"),
            ("password", "sandi-baru-77"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    // The tablet's session ended: told so, it logs in again.
    let (code, v) = s
        .post("/v1/sync/status", &status, Some(&tablet.bearer))
        .await;
    assert_eq!(
        (code, v["code"].as_str()),
        (401, Some("session_expired")),
        "{v}"
    );
    // The dashboard's session ended too.
    assert_ne!(get(&s, &web, "/dasbor").await.0, 200);
    let relog = |secret: &'static str| {
        let (s, device) = (&s, format!("Device {}", tablet.device_token));
        async move {
            s.post(
                "/v1/login",
                &serde_json::json!({"v": 1, "username": "bidan.naitimu", "secret": secret}),
                Some(&device),
            )
            .await
        }
    };
    let (code, v) = relog(DEMO_PASSWORD).await;
    assert_eq!(
        (code, v["code"].as_str()),
        (401, Some("login_failed")),
        "{v}"
    );
    let (code, v) = relog("sandi-baru-77").await;
    assert_eq!(code, 200, "{v}");
    let bearer = format!("Bearer {}", v["session_token"].as_str().unwrap());
    assert_eq!(
        s.post("/v1/sync/status", &status, Some(&bearer)).await.0,
        200
    );
    // Another user's tablet session is untouched.
    let other = s.session("kader.mawar").await;
    assert_eq!(
        s.post("/v1/sync/status", &status, Some(&other.bearer))
            .await
            .0,
        200
    );
    s.finish().await;
}

both_backends!(
    ilp_since_from_the_places_csv,
    pages_are_light,
    web_logins_are_rate_limited,
    login_sessions_and_csrf,
    pages_are_scoped,
    admin_actions_need_csrf_and_are_audited,
    a_password_reset_ends_the_users_tablet_and_web_sessions
);
