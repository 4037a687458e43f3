//! Administrasi (dinas_admin; puskesmas_admin within its puskesmas): users (add, disable,
//! enable, reset password), tablets (issue an enrolment code, shown large and as a QR code
//! to print; list; revoke), places (import the CSV as `jangkau-server places import` does,
//! with an optional `ilp_since` column), the district's KFA product codes per vaccine series
//! (dinas_admin only; others see them). Every action is written to the audit log shown on
//! the page. Every form carries the session's CSRF token; a refused form comes back with
//! what was typed and the reason in the user's language.

use super::html::{Cell, Table, esc, url};
use super::session::{csrf_ok, is_admin};
use super::store::{self, AuditEntry};
use super::{Ctx, Page, WebError, format};
use crate::admin::{self as cli, AdminError};
use crate::http::AppState;
use crate::model::{Place, now_ms, parse_role, role_str};
use crate::storage::vaccine_kfa::{self, KfaCodeError};
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use std::collections::HashMap;
use std::fmt::Write;
use sync_protocol::Role;
use sync_protocol::schema::KFA_CODE_DIGITS;

/// What a refused or finished action shows on the page.
#[derive(Debug, Default, Clone)]
pub struct Flash {
    /// Which form (`user`, `code`, `places`, …) the message belongs to.
    pub form: String,
    pub ok: Option<String>,
    pub error: Option<String>,
    /// Per-line errors of a places CSV.
    pub rows: Vec<(u64, String)>,
    /// What was typed, to show again.
    pub typed: HashMap<String, String>,
    /// A newly issued enrolment code and whom it is for.
    pub code: Option<(String, String)>,
}

pub async fn handler(
    State(st): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, WebError> {
    let ctx = super::ctx(&st, &headers, q, uri.path()).await?;
    if !is_admin(ctx.me.user.role) {
        return Err(WebError::Forbidden);
    }
    let mut flash = Flash::default();
    if let Some(m) = ctx.query.get("ok") {
        flash.ok = Some(done_message(&ctx, m));
    }
    let page = page(&st, &ctx, &flash).await?;
    super::respond(&ctx, page)
}

fn done_message(ctx: &Ctx, what: &str) -> String {
    match what {
        "user_added" => ctx.t("Pengguna ditambahkan.", "User added."),
        "disabled" => ctx.t("Pengguna dinonaktifkan.", "User disabled."),
        "enabled" => ctx.t("Pengguna diaktifkan kembali.", "User enabled."),
        "password" => ctx.t("Kata sandi diganti.", "Password reset."),
        "nik" => ctx.t(
            "NIK tenaga kesehatan disimpan.",
            "Health worker's NIK saved.",
        ),
        "kfa" => ctx.t(
            "Kode produk KFA vaksin disimpan.",
            "Vaccine KFA product codes saved.",
        ),
        "revoked" => ctx.t(
            "Tablet dicabut; sinkron berikutnya akan ditolak.",
            "Tablet revoked; its next sync will be refused.",
        ),
        _ => ctx.t("Selesai.", "Done."),
    }
    .to_string()
}

/// Places at or under the admin's scope, by name.
fn my_places(ctx: &Ctx) -> Vec<&Place> {
    let mut v: Vec<&Place> = ctx
        .places
        .values()
        .filter(|p| ctx.under(&p.code, &ctx.me.user.scope.place))
        .collect();
    v.sort_by(|a, b| a.code.cmp(&b.code));
    v
}

/// The roles this admin may give.
fn roles(ctx: &Ctx) -> &'static [Role] {
    match ctx.me.user.role {
        Role::DinasAdmin => &[
            Role::Kader,
            Role::Bidan,
            Role::Perawat,
            Role::PuskesmasAdmin,
            Role::DinasAdmin,
        ],
        _ => &[
            Role::Kader,
            Role::Bidan,
            Role::Perawat,
            Role::PuskesmasAdmin,
        ],
    }
}

fn typed<'a>(flash: &'a Flash, form: &str, field: &str) -> &'a str {
    if flash.form == form {
        flash.typed.get(field).map_or("", String::as_str)
    } else {
        ""
    }
}

fn message(flash: &Flash, form: &str) -> String {
    let mut s = String::new();
    if flash.form == form || (form == "top" && flash.form.is_empty()) {
        if let Some(e) = &flash.error {
            let _ = write!(
                s,
                "<p class=\"error\" role=\"alert\" data-testid=\"error-{form}\">{}</p>",
                esc(e)
            );
        }
        if let Some(o) = &flash.ok {
            let _ = write!(
                s,
                "<p class=\"ok\" role=\"status\" data-testid=\"ok-{form}\">{}</p>",
                esc(o)
            );
        }
    }
    s
}

fn csrf_field(ctx: &Ctx) -> String {
    format!(
        "<input type=\"hidden\" name=\"csrf\" value=\"{}\">",
        esc(&ctx.me.csrf)
    )
}

/// A small form of one button (and optional fields) posting `action` for `target`.
fn button_form(
    ctx: &Ctx,
    action: &str,
    target: &str,
    label: &str,
    extra: &str,
    testid: &str,
) -> String {
    format!(
        "<form method=\"post\" action=\"/dasbor/admin/{action}\" class=\"inline\">{}<input type=\"hidden\" name=\"target\" value=\"{}\">{extra}<button data-testid=\"{}\">{}</button></form>",
        csrf_field(ctx),
        esc(target),
        esc(testid),
        esc(label)
    )
}

pub async fn page(st: &AppState, ctx: &Ctx, flash: &Flash) -> Result<Page, WebError> {
    let scope = ctx.me.user.scope.place.clone();
    let mut page = Page::new(ctx.t("Administrasi", "Administration"), "/dasbor/admin");
    page.drill = false;
    page.html(message(flash, "top"));
    if let Some((code, who)) = &flash.code {
        page.html(code_box(st, ctx, code, who));
    }
    let users: Vec<_> = st
        .store
        .list_users()
        .await?
        .into_iter()
        .filter(|u| ctx.under(&u.scope.place, &scope))
        .collect();

    // Users.
    let mut ut = Table::new(
        "pengguna",
        &[
            ctx.t("Nama pengguna", "Username"),
            ctx.t("Nama", "Name"),
            ctx.t("Peran", "Role"),
            ctx.t("Wilayah", "Area"),
            "NIK",
            ctx.t("Status", "Status"),
            ctx.t("Tindakan", "Actions"),
        ],
    );
    let niks = crate::satusehat::store::user_niks(st.store.as_ref()).await?;
    for u in &users {
        let toggle = if u.disabled {
            button_form(
                ctx,
                "enable",
                &u.username,
                ctx.t("Aktifkan", "Enable"),
                "",
                &format!("enable-{}", u.username),
            )
        } else {
            button_form(
                ctx,
                "disable",
                &u.username,
                ctx.t("Nonaktifkan", "Disable"),
                "",
                &format!("disable-{}", u.username),
            )
        };
        let reset = button_form(
            ctx,
            "password",
            &u.username,
            ctx.t("Ganti kata sandi", "Reset password"),
            &format!(
                "<input type=\"password\" name=\"password\" minlength=\"6\" required placeholder=\"{}\" aria-label=\"{}\" data-testid=\"password-{}\">",
                ctx.t("sandi baru", "new password"),
                ctx.t("Kata sandi baru", "New password"),
                esc(&u.username)
            ),
            &format!("reset-{}", u.username),
        );
        let status = if u.disabled {
            ctx.t("nonaktif", "disabled")
        } else {
            ctx.t("aktif", "active")
        };
        let nik = niks.get(&u.id.to_string()).cloned().unwrap_or_default();
        let shown = if flash.form == "nik" && typed(flash, "nik", "target") == u.username {
            typed(flash, "nik", "nik").to_string()
        } else {
            nik.clone()
        };
        let nik_form = button_form(
            ctx,
            "nik",
            &u.username,
            ctx.t("Simpan NIK", "Save NIK"),
            &format!(
                "<input name=\"nik\" inputmode=\"numeric\" maxlength=\"20\" value=\"{}\" placeholder=\"{}\" aria-label=\"{}\" data-testid=\"nik-{}\">",
                esc(&shown),
                ctx.t("16 digit (kosong: hapus)", "16 digits (empty: remove)"),
                ctx.t("NIK tenaga kesehatan", "Health worker's NIK"),
                esc(&u.username)
            ),
            &format!("nik-save-{}", u.username),
        );
        ut.row(vec![
            Cell::text(u.username.clone()),
            Cell::text(u.display_name.clone()),
            Cell::text(role_str(u.role)),
            Cell::text(ctx.name(&u.scope.place)),
            Cell {
                html: nik_form,
                text: nik,
                num: false,
            },
            Cell::text(status),
            Cell {
                html: format!("{toggle} {reset}"),
                text: String::new(),
                num: false,
            },
        ]);
    }
    let mut role_opts = String::new();
    for r in roles(ctx) {
        let sel = if typed(flash, "user", "role") == role_str(*r) {
            " selected"
        } else {
            ""
        };
        let _ = write!(
            role_opts,
            "<option value=\"{0}\"{sel}>{0}</option>",
            role_str(*r)
        );
    }
    let mut place_opts = String::new();
    for p in my_places(ctx) {
        let sel = if typed(flash, "user", "scope") == p.code {
            " selected"
        } else {
            ""
        };
        let _ = write!(
            place_opts,
            "<option value=\"{}\"{sel}>{} ({})</option>",
            esc(&p.code),
            esc(&p.name),
            esc(&p.code)
        );
    }
    page.html(format!(
        "<section><h2>{}</h2>{}<form method=\"post\" action=\"/dasbor/admin/user\" class=\"grid\" data-testid=\"user-form\">{}\
         <label>{}<input name=\"username\" required maxlength=\"64\" value=\"{}\" data-testid=\"user-username\"></label>\
         <label>{}<input name=\"name\" required maxlength=\"120\" value=\"{}\" data-testid=\"user-name\"></label>\
         <label>{}<select name=\"role\" data-testid=\"user-role\">{role_opts}</select></label>\
         <label>{}<select name=\"scope\" data-testid=\"user-scope\">{place_opts}</select></label>\
         <label>{}<input name=\"password\" type=\"password\" minlength=\"6\" required data-testid=\"user-password\"></label>\
         <label>{}<input name=\"nik\" inputmode=\"numeric\" maxlength=\"20\" value=\"{}\" data-testid=\"user-nik\"></label>\
         <button data-testid=\"user-add\">{}</button></form></section>",
        ctx.t("Tambah pengguna", "Add a user"),
        message(flash, "user"),
        csrf_field(ctx),
        ctx.t("Nama pengguna", "Username"),
        esc(typed(flash, "user", "username")),
        ctx.t("Nama lengkap", "Full name"),
        esc(typed(flash, "user", "name")),
        ctx.t("Peran", "Role"),
        ctx.t("Wilayah", "Area"),
        ctx.t("Kata sandi awal", "First password"),
        ctx.t(
            "NIK tenaga kesehatan (boleh kosong; untuk SATUSEHAT)",
            "Health worker's NIK (optional; for SATUSEHAT)"
        ),
        esc(typed(flash, "user", "nik")),
        ctx.t("Tambah", "Add"),
    ));
    page.html(message(flash, "nik"));
    page.table(
        ctx.t("Pengguna", "Users"),
        ut,
        ctx.t("Belum ada pengguna.", "No users yet."),
    );

    // Tablets: issue a code, list, revoke.
    let mut user_opts = String::new();
    for u in users.iter().filter(|u| !u.disabled) {
        let sel = if typed(flash, "code", "username") == u.username {
            " selected"
        } else {
            ""
        };
        let _ = write!(
            user_opts,
            "<option value=\"{0}\"{sel}>{0} ({1})</option>",
            esc(&u.username),
            esc(&u.display_name)
        );
    }
    page.html(format!(
        "<section><h2>{}</h2>{}<form method=\"post\" action=\"/dasbor/admin/code\" data-testid=\"code-form\">{}\
         <label>{}<select name=\"username\" data-testid=\"code-username\">{user_opts}</select></label> <button data-testid=\"code-issue\">{}</button></form></section>",
        ctx.t("Daftarkan tablet", "Enrol a tablet"),
        message(flash, "code"),
        csrf_field(ctx),
        ctx.t("Untuk pengguna", "For user"),
        ctx.t("Buat kode pendaftaran", "Issue an enrolment code"),
    ));
    let by_id: HashMap<_, _> = users.iter().map(|u| (u.id, u)).collect();
    let mut dt = Table::new(
        "daftar-tablet",
        &[
            ctx.t("Tablet", "Tablet"),
            ctx.t("Pengguna", "User"),
            ctx.t("Terdaftar", "Enrolled"),
            ctx.t("Sinkron terakhir", "Last sync"),
            ctx.t("Status", "Status"),
            ctx.t("Tindakan", "Actions"),
        ],
    );
    for d in st.store.list_devices().await? {
        let Some(u) = by_id.get(&d.user_id) else {
            continue;
        };
        let ms = |v: Option<u64>| v.and_then(|v| i64::try_from(v).ok());
        let (status, action) = match d.revoked_at {
            Some(at) => (
                format!(
                    "{} {}",
                    ctx.t("dicabut", "revoked"),
                    format::time_ms(ms(Some(at)))
                ),
                String::new(),
            ),
            None => (
                ctx.t("aktif", "active").to_string(),
                button_form(
                    ctx,
                    "revoke",
                    &d.id.to_string(),
                    ctx.t("Cabut", "Revoke"),
                    "",
                    &format!("revoke-{}", d.name),
                ),
            ),
        };
        dt.row(vec![
            Cell::text(d.name.clone()),
            Cell::text(u.username.clone()),
            Cell::text(format::time_ms(ms(Some(d.enrolled_at)))),
            Cell::text(format::time_ms(ms(d.last_sync_at))),
            Cell::text(status),
            Cell {
                html: action,
                text: String::new(),
                num: false,
            },
        ]);
    }
    page.table(
        ctx.t("Tablet terdaftar", "Enrolled tablets"),
        dt,
        ctx.t("Belum ada tablet.", "No tablets yet."),
    );

    // Places.
    let mut rows_html = String::new();
    if flash.form == "places" && !flash.rows.is_empty() {
        rows_html.push_str("<ul class=\"error\" data-testid=\"places-row-errors\">");
        for (line, m) in &flash.rows {
            let _ = write!(
                rows_html,
                "<li>{} {line}: {}</li>",
                ctx.t("Baris", "Line"),
                esc(m)
            );
        }
        rows_html.push_str("</ul>");
    }
    page.html(format!(
        "<section><h2>{}</h2><p>{}</p>{}{rows_html}<form method=\"post\" action=\"/dasbor/admin/places\" data-testid=\"places-form\">{}\
         <input type=\"file\" accept=\".csv,text/csv\" data-fill=\"places-csv\" class=\"noprint\">\
         <textarea name=\"csv\" id=\"places-csv\" rows=\"8\" data-testid=\"places-csv\">{}</textarea>\
         <button data-testid=\"places-import\">{}</button></form></section>",
        ctx.t("Impor wilayah (CSV)", "Import places (CSV)"),
        ctx.t(
            "Kolom: code,name,level,parent dan (boleh) ilp_since (YYYY-MM-DD: sejak kapan puskesmas menjalankan ILP). Sama seperti perintah places import.",
            "Columns: code,name,level,parent and (optional) ilp_since (YYYY-MM-DD: since when the puskesmas runs ILP). As the places import command."
        ),
        message(flash, "places"),
        csrf_field(ctx),
        esc(typed(flash, "places", "csv")),
        ctx.t("Impor", "Import"),
    ));

    page.html(kfa_section(st, ctx, flash).await?);

    // Audit log.
    let mut at = Table::new(
        "audit",
        &[
            ctx.t("Waktu", "Time"),
            ctx.t("Oleh", "By"),
            ctx.t("Tindakan", "Action"),
            ctx.t("Sasaran", "Target"),
            ctx.t("Wilayah", "Area"),
            ctx.t("Keterangan", "Detail"),
        ],
    );
    for e in store::audit_log(st.store.as_ref(), &scope, 200).await? {
        at.row(vec![
            Cell::text(format::time_ms(Some(e.at))),
            Cell::text(e.username),
            Cell::text(e.action),
            Cell::text(e.target),
            Cell::text(ctx.name(&e.place)),
            Cell::text(e.detail),
        ]);
    }
    page.table(
        ctx.t("Catatan audit", "Audit log"),
        at,
        ctx.t("Belum ada tindakan.", "No actions yet."),
    );
    Ok(page)
}

/// The district's KFA product code per vaccine series: a form for the dinas_admin (what was
/// typed kept when refused), a read-only table for the others.
async fn kfa_section(st: &AppState, ctx: &Ctx, flash: &Flash) -> Result<String, WebError> {
    let stored = vaccine_kfa::codes(st.store.as_ref()).await?;
    let editable = ctx.me.user.role == Role::DinasAdmin;
    let mut rows = String::new();
    for series in vaccine_kfa::series() {
        let saved = stored.get(series).map_or("", String::as_str);
        let cell = if editable {
            let field = format!("kfa_{series}");
            let shown = if flash.form == "kfa" {
                typed(flash, "kfa", &field)
            } else {
                saved
            };
            format!(
                "<input name=\"{}\" inputmode=\"numeric\" maxlength=\"40\" value=\"{}\" aria-label=\"{} {}\" data-testid=\"kfa-{}\">",
                esc(&field),
                esc(shown),
                ctx.t("Kode KFA", "KFA code"),
                esc(series),
                esc(series)
            )
        } else if saved.is_empty() {
            format!("<span data-testid=\"kfa-{}\">–</span>", esc(series))
        } else {
            format!(
                "<span data-testid=\"kfa-{}\">{}</span>",
                esc(series),
                esc(saved)
            )
        };
        let _ = write!(
            rows,
            "<tr><th scope=\"row\">{}</th><td>{cell}</td></tr>",
            esc(series)
        );
    }
    let table = format!(
        "<table data-testid=\"kfa-table\"><thead><tr><th>{}</th><th>{}</th></tr></thead><tbody>{rows}</tbody></table>",
        ctx.t("Seri vaksin", "Vaccine series"),
        ctx.t("Kode produk KFA", "KFA product code"),
    );
    let intro = ctx.t(
        "Kode produk KFA (Kamus Farmasi dan Alat Kesehatan) vaksin yang didistribusikan dinas, per seri. Dikirim ke SATUSEHAT pada setiap imunisasi yang dicatat tanpa kode KFA; kode yang dicatat di tablet tetap dipakai. Hanya angka, 6–20 digit; kosong: tanpa kode.",
        "The KFA (Kamus Farmasi dan Alat Kesehatan) product code of the vaccine the district distributes, per series. Sent to SATUSEHAT with every immunisation recorded without a KFA code; a code recorded on the tablet is kept. Digits only, 6 to 20; empty: no code.",
    );
    Ok(if editable {
        format!(
            "<section><h2>{}</h2><p>{intro}</p>{}<form method=\"post\" action=\"/dasbor/admin/kfa\" data-testid=\"kfa-form\">{}{table}<button data-testid=\"kfa-save\">{}</button></form></section>",
            ctx.t("Kode produk KFA vaksin", "Vaccine KFA product codes"),
            message(flash, "kfa"),
            csrf_field(ctx),
            ctx.t("Simpan kode KFA", "Save KFA codes"),
        )
    } else {
        format!(
            "<section><h2>{}</h2><p>{intro} {}</p>{table}</section>",
            ctx.t("Kode produk KFA vaksin", "Vaccine KFA product codes"),
            ctx.t("Diatur oleh admin dinas.", "Set by the district admin."),
        )
    })
}

/// Why a typed KFA code of `series` is refused, in the user's language.
fn kfa_error(ctx: &Ctx, series: &str, e: &KfaCodeError) -> String {
    use super::i18n::Lang;
    match (e, ctx.lang) {
        (KfaCodeError::NotDigits, Lang::Id) => {
            format!("Kode KFA {series} hanya berisi angka.")
        }
        (KfaCodeError::NotDigits, Lang::En) => {
            format!("The KFA code of {series} holds digits only.")
        }
        (KfaCodeError::BadLength { len }, Lang::Id) => format!(
            "Kode KFA {series} harus {}–{} digit; yang diisi {len}.",
            KFA_CODE_DIGITS.0, KFA_CODE_DIGITS.1
        ),
        (KfaCodeError::BadLength { len }, Lang::En) => format!(
            "The KFA code of {series} has {} to {} digits; this has {len}.",
            KFA_CODE_DIGITS.0, KFA_CODE_DIGITS.1
        ),
        (KfaCodeError::UnknownSeries(_), Lang::Id) => {
            format!("Seri vaksin {series} tidak dikenal.")
        }
        (KfaCodeError::UnknownSeries(_), Lang::En) => format!("Unknown vaccine series {series}."),
    }
}

/// Saves the district's KFA codes (dinas_admin only): every typed code checked first
/// (nothing saved when one is refused), then each changed series stored and audited.
async fn set_kfa(
    st: &AppState,
    ctx: &Ctx,
    form: &HashMap<String, String>,
) -> Result<Option<&'static str>, String> {
    let stored = vaccine_kfa::codes(st.store.as_ref())
        .await
        .map_err(|e| e.to_string())?;
    let mut changes = Vec::new();
    for series in vaccine_kfa::series() {
        let Some(typed) = form.get(&format!("kfa_{series}")) else {
            continue;
        };
        let code = match typed.trim() {
            "" => None,
            t => Some(vaccine_kfa::check_code(t).map_err(|e| kfa_error(ctx, series, &e))?),
        };
        if code.as_deref() != stored.get(series).map(String::as_str) {
            changes.push((series, code));
        }
    }
    if changes.is_empty() {
        return Ok(Some("kfa"));
    }
    let now = now_ms();
    for (series, code) in &changes {
        vaccine_kfa::set_code(
            st.store.as_ref(),
            series,
            code.as_deref(),
            &ctx.me.user.username,
            now,
        )
        .await
        .map_err(|e| e.to_string())?;
    }
    let detail: Vec<String> = changes
        .iter()
        .map(|(s, c)| format!("{s}={}", c.as_deref().unwrap_or("-")))
        .collect();
    let target: Vec<&str> = changes.iter().map(|(s, _)| *s).collect();
    audit(
        st,
        ctx,
        "vaccine_kfa",
        &target.join(" "),
        &ctx.me.user.scope.place,
        detail.join(" "),
    )
    .await?;
    Ok(Some("kfa"))
}

/// A newly issued enrolment code, large and as a QR code, printable.
fn code_box(st: &AppState, ctx: &Ctx, code: &str, who: &str) -> String {
    format!(
        "<div class=\"code\" data-testid=\"enrol-code-box\"><p>{} <b>{}</b> ({} {} {})</p>\
         <p class=\"big\" data-testid=\"enrol-code\">{}</p><div class=\"qr\" data-testid=\"enrol-qr\">{}</div>\
         <p>{}</p><button type=\"button\" class=\"noprint\" data-print>{}</button></div>",
        ctx.t(
            "Kode pendaftaran tablet untuk",
            "Enrolment code for the tablet of"
        ),
        esc(who),
        ctx.t("berlaku", "valid for"),
        st.cfg.enrol_code_ttl_hours,
        ctx.t("jam, sekali pakai", "hours, single use"),
        esc(code),
        qr_svg(code).unwrap_or_default(),
        ctx.t(
            "Ketik kode ini di layar pertama aplikasi Jangkau, atau pindai QR.",
            "Type this code on the Jangkau app's first screen, or scan the QR code."
        ),
        ctx.t("Cetak kode", "Print the code"),
    )
}

/// The enrolment code as a QR code (SVG, inline).
pub fn qr_svg(code: &str) -> Option<String> {
    let q = qrcode::QrCode::new(code.as_bytes()).ok()?;
    let svg = q
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .build();
    Some(match svg.find("<svg") {
        Some(i) => svg[i..].to_string(),
        None => svg,
    })
}

/// A POSTed admin action: CSRF checked, scope checked, done, audited; then back to the page
/// (with what was typed and why when refused).
pub async fn action(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(what): Path<String>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, WebError> {
    let mut q = HashMap::new();
    if let Some(l) = super::session::cookie(&headers, "lang") {
        q.insert("lang".to_string(), l.to_string());
    }
    let ctx = super::ctx(&st, &headers, q, "/dasbor/admin").await?;
    if !csrf_ok(&ctx.me, form.get("csrf").map(String::as_str)) {
        return Err(WebError::Forbidden);
    }
    if !is_admin(ctx.me.user.role) {
        return Err(WebError::Forbidden);
    }
    let get = |k: &str| {
        form.get(k)
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    };
    let mut flash = Flash {
        form: what.clone(),
        ..Flash::default()
    };
    let result: Result<Option<&'static str>, String> = match what.as_str() {
        "user" => add_user(&st, &ctx, &form).await,
        "disable" | "enable" => toggle(&st, &ctx, &get("target"), what == "disable").await,
        "password" => {
            reset(
                &st,
                &ctx,
                &get("target"),
                form.get("password").map_or("", String::as_str),
            )
            .await
        }
        "code" => match issue(&st, &ctx, &get("username")).await {
            Ok(code) => {
                flash.code = Some((code, get("username")));
                flash.ok = Some(ctx.t("Kode dibuat.", "Code issued.").to_string());
                Ok(None)
            }
            Err(e) => Err(e),
        },
        "revoke" => revoke(&st, &ctx, &get("target")).await,
        "nik" => set_nik(&st, &ctx, &get("target"), &get("nik")).await,
        // The district's codes: the dinas_admin's alone (others see no form).
        "kfa" if ctx.me.user.role != Role::DinasAdmin => return Err(WebError::Forbidden),
        "kfa" => set_kfa(&st, &ctx, &form).await,
        "places" => match import(&st, &ctx, form.get("csv").map_or("", String::as_str)).await {
            Ok(n) => {
                flash.ok = Some(match ctx.lang {
                    super::i18n::Lang::Id => format!("{n} wilayah diimpor."),
                    super::i18n::Lang::En => format!("{n} places imported."),
                });
                Ok(None)
            }
            Err((message, rows)) => {
                flash.rows = rows;
                Err(message)
            }
        },
        _ => return Err(WebError::NotFound),
    };
    match result {
        Ok(Some(done)) => Ok(super::login::redirect(
            &format!("/dasbor/admin?ok={}", url(done)),
            None,
        )),
        Ok(None) => {
            let page = page(&st, &ctx, &flash).await?;
            super::respond(&ctx, page)
        }
        Err(message) => {
            flash.error = Some(message);
            flash.typed = form
                .into_iter()
                .filter(|(k, _)| k != "password" && k != "csrf")
                .collect();
            let page = page(&st, &ctx, &flash).await?;
            let mut r = super::respond(&ctx, page)?;
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            Ok(r)
        }
    }
}

async fn audit(
    st: &AppState,
    ctx: &Ctx,
    action: &str,
    target: &str,
    place: &str,
    detail: String,
) -> Result<(), String> {
    store::audit(
        st.store.as_ref(),
        &AuditEntry {
            at: i64::try_from(now_ms()).unwrap_or(i64::MAX),
            username: ctx.me.user.username.clone(),
            action: action.into(),
            target: target.into(),
            place: place.into(),
            detail,
        },
    )
    .await
    .map_err(|e| e.to_string())
}

fn admin_error(ctx: &Ctx, e: AdminError) -> String {
    match e {
        AdminError::Invalid(m) if m.starts_with("a username") => ctx
            .t(
                "Nama pengguna 1–64 huruf, angka, '.', '_' atau '-'.",
                "A username is 1 to 64 letters, digits, '.', '_' or '-'.",
            )
            .into(),
        AdminError::Invalid(m) if m.starts_with("a password") => ctx
            .t(
                "Kata sandi minimal 6 karakter.",
                "A password has at least 6 characters.",
            )
            .into(),
        AdminError::Invalid(m) if m.contains("cannot have a") => match ctx.lang {
            super::i18n::Lang::Id => format!("Peran ini tidak dapat memiliki wilayah itu ({m})."),
            super::i18n::Lang::En => format!("This role cannot have that area ({m})."),
        },
        AdminError::Storage(crate::storage::StorageError::Conflict(_)) => ctx
            .t(
                "Nama pengguna itu sudah dipakai.",
                "That username is taken.",
            )
            .into(),
        other => other.to_string(),
    }
}

async fn add_user(
    st: &AppState,
    ctx: &Ctx,
    form: &HashMap<String, String>,
) -> Result<Option<&'static str>, String> {
    let get = |k: &str| {
        form.get(k)
            .map(|s| s.trim().to_string())
            .unwrap_or_default()
    };
    let role = parse_role(&get("role"))
        .filter(|r| roles(ctx).contains(r))
        .ok_or_else(|| ctx.t("Peran tidak dikenal.", "Unknown role.").to_string())?;
    let scope = get("scope");
    if !ctx.under(&scope, &ctx.me.user.scope.place) {
        return Err(ctx
            .t(
                "Wilayah di luar wilayah Anda.",
                "That area is outside yours.",
            )
            .into());
    }
    if st
        .store
        .user_by_username(get("username").to_lowercase())
        .await
        .map_err(|e| e.to_string())?
        .is_some()
    {
        return Err(ctx
            .t(
                "Nama pengguna itu sudah dipakai.",
                "That username is taken.",
            )
            .into());
    }
    if get("name").is_empty() {
        return Err(ctx.t("Isi nama lengkap.", "Fill in the full name.").into());
    }
    let nik = match get("nik").as_str() {
        "" => None,
        typed => Some(cli::check_user_nik(typed).map_err(|_| nik_error(ctx, typed))?),
    };
    let user = cli::add_user(
        st.store.as_ref(),
        &get("username"),
        &get("name"),
        role,
        &scope,
        form.get("password").map_or("", String::as_str),
        st.cfg.password_cost,
    )
    .await
    .map_err(|e| admin_error(ctx, e))?;
    if let Some(nik) = &nik {
        cli::set_user_nik(st.store.as_ref(), &user.username, Some(nik))
            .await
            .map_err(|e| admin_error(ctx, e))?;
    }
    audit(
        st,
        ctx,
        "user_add",
        &user.username,
        &scope,
        role_str(role).into(),
    )
    .await?;
    Ok(Some("user_added"))
}

/// A user of the admin's area, by username.
async fn my_user(st: &AppState, ctx: &Ctx, username: &str) -> Result<crate::model::User, String> {
    st.store
        .user_by_username(username.to_lowercase())
        .await
        .map_err(|e| e.to_string())?
        .filter(|u| ctx.under(&u.scope.place, &ctx.me.user.scope.place))
        .ok_or_else(|| {
            ctx.t(
                "Tidak ada pengguna itu di wilayah Anda.",
                "No such user in your area.",
            )
            .to_string()
        })
}

/// Why a typed NIK is refused, in the user's language.
fn nik_error(ctx: &Ctx, typed: &str) -> String {
    use health_rules::identity::IdentityError as E;
    match health_rules::identity::parse_nik(typed) {
        Err(E::NikBadLength(n)) => match ctx.lang {
            super::i18n::Lang::Id => format!("NIK harus 16 digit; yang diisi {n} karakter."),
            super::i18n::Lang::En => format!("A NIK has 16 digits; this has {n} characters."),
        },
        Err(E::NikNotDigits { .. }) => ctx
            .t("NIK hanya berisi angka.", "A NIK holds digits only.")
            .into(),
        Err(E::NikBadRegion(_)) => ctx
            .t(
                "Kode wilayah NIK (6 digit pertama) tidak valid.",
                "The NIK's region code (first 6 digits) is not valid.",
            )
            .into(),
        Err(E::NikBadBirthDate(_)) => ctx
            .t(
                "Tanggal lahir dalam NIK (digit 7-12) tidak valid.",
                "The birth date in the NIK (digits 7-12) is not valid.",
            )
            .into(),
        _ => ctx.t("NIK tidak valid.", "The NIK is not valid.").into(),
    }
}

/// Sets (or, empty, removes) a health worker's NIK.
async fn set_nik(
    st: &AppState,
    ctx: &Ctx,
    username: &str,
    nik: &str,
) -> Result<Option<&'static str>, String> {
    let u = my_user(st, ctx, username).await?;
    let nik = match nik {
        "" => None,
        typed => Some(cli::check_user_nik(typed).map_err(|_| nik_error(ctx, typed))?),
    };
    cli::set_user_nik(st.store.as_ref(), &u.username, nik.as_deref())
        .await
        .map_err(|e| admin_error(ctx, e))?;
    audit(
        st,
        ctx,
        "user_nik",
        &u.username,
        &u.scope.place,
        if nik.is_some() { "set" } else { "removed" }.into(),
    )
    .await?;
    Ok(Some("nik"))
}

async fn toggle(
    st: &AppState,
    ctx: &Ctx,
    username: &str,
    disable: bool,
) -> Result<Option<&'static str>, String> {
    let u = my_user(st, ctx, username).await?;
    if u.id == ctx.me.user.id {
        return Err(ctx
            .t(
                "Anda tidak dapat menonaktifkan akun sendiri.",
                "You cannot disable your own account.",
            )
            .into());
    }
    st.store
        .set_user_disabled(u.username.clone(), disable, now_ms())
        .await
        .map_err(|e| e.to_string())?;
    if disable {
        store::end_user_sessions(st.store.as_ref(), u.id, now_ms())
            .await
            .map_err(|e| e.to_string())?;
    }
    audit(
        st,
        ctx,
        if disable {
            "user_disable"
        } else {
            "user_enable"
        },
        &u.username,
        &u.scope.place,
        String::new(),
    )
    .await?;
    Ok(Some(if disable { "disabled" } else { "enabled" }))
}

async fn reset(
    st: &AppState,
    ctx: &Ctx,
    username: &str,
    password: &str,
) -> Result<Option<&'static str>, String> {
    let u = my_user(st, ctx, username).await?;
    if password.chars().count() < 6 {
        return Err(ctx
            .t(
                "Kata sandi minimal 6 karakter.",
                "A password has at least 6 characters.",
            )
            .into());
    }
    let (secret, cost) = (password.to_string(), st.cfg.password_cost);
    let phc = tokio::task::spawn_blocking(move || crate::auth::hash_password(&secret, cost))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| e.to_string())?;
    store::set_secret(st.store.as_ref(), u.id, &phc)
        .await
        .map_err(|e| e.to_string())?;
    // The new password holds; the old one's sessions end now. Should that fail, the admin is
    // told so: resetting again is safe and ends them.
    store::end_user_sessions(st.store.as_ref(), u.id, now_ms())
        .await
        .map_err(|e| {
            format!(
                "{} ({e})",
                ctx.t(
                    "Kata sandi sudah diganti, tetapi sesi lama belum diakhiri: ulangi penggantian.",
                    "The password was changed, but the old sessions were not ended: reset it again.",
                )
            )
        })?;
    audit(
        st,
        ctx,
        "password_reset",
        &u.username,
        &u.scope.place,
        String::new(),
    )
    .await?;
    Ok(Some("password"))
}

async fn issue(st: &AppState, ctx: &Ctx, username: &str) -> Result<String, String> {
    let u = my_user(st, ctx, username).await?;
    let code = cli::issue_enrol_code(st.store.as_ref(), &u.username, st.cfg.enrol_code_ttl_hours)
        .await
        .map_err(|e| admin_error(ctx, e))?;
    audit(
        st,
        ctx,
        "enrol_code",
        &u.username,
        &u.scope.place,
        format!("{} h", st.cfg.enrol_code_ttl_hours),
    )
    .await?;
    Ok(code)
}

async fn revoke(st: &AppState, ctx: &Ctx, device: &str) -> Result<Option<&'static str>, String> {
    let nf = || {
        ctx.t(
            "Tidak ada tablet itu di wilayah Anda.",
            "No such tablet in your area.",
        )
        .to_string()
    };
    let id: sync_protocol::DeviceId = device.parse().map_err(|_| nf())?;
    let d = st
        .store
        .device(id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(nf)?;
    let u = st
        .store
        .user_by_id(d.user_id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(nf)?;
    if !ctx.under(&u.scope.place, &ctx.me.user.scope.place) {
        return Err(nf());
    }
    st.store
        .revoke_device(id, now_ms())
        .await
        .map_err(|e| e.to_string())?;
    audit(
        st,
        ctx,
        "tablet_revoke",
        &d.name,
        &u.scope.place,
        format!("{} · {}", u.username, d.id),
    )
    .await?;
    Ok(Some("revoked"))
}

/// A places CSV row's line, code and `ilp_since`.
type IlpRow = (u64, String, Option<String>);

/// Splits an optional trailing `ilp_since` column off a places CSV: the CSV the CLI reads,
/// and `(code, since)` per row that has one.
fn split_ilp(csv_text: &str) -> Result<(String, Vec<IlpRow>), String> {
    let mut rdr = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .flexible(true)
        .from_reader(csv_text.as_bytes());
    let head = rdr.headers().map_err(|e| e.to_string())?.clone();
    let ilp = head.len() == 5
        && head
            .get(4)
            .is_some_and(|h| h.eq_ignore_ascii_case("ilp_since"));
    if !ilp {
        return Ok((csv_text.to_string(), Vec::new()));
    }
    let mut w = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::new());
    let _ = w.write_record(head.iter().take(4));
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| e.to_string())?;
        let line = rec.position().map_or(0, |p| p.line());
        let _ = w.write_record(rec.iter().take(4));
        let since = rec.get(4).map(str::to_string).filter(|s| !s.is_empty());
        out.push((line, rec.get(0).unwrap_or_default().to_string(), since));
    }
    let bytes = w.into_inner().map_err(|e| e.to_string())?;
    Ok((String::from_utf8_lossy(&bytes).into_owned(), out))
}

/// `jangkau-server places import`: the places CSV as [`cli::import_places`] reads it, with
/// the optional `ilp_since` column (YYYY-MM-DD; empty: not on ILP) stored as the web import
/// stores it.
pub async fn import_places_csv(
    store: &dyn crate::Storage,
    csv_text: &str,
) -> Result<usize, AdminError> {
    let (plain, ilp) = split_ilp(csv_text).map_err(|m| AdminError::Csv {
        line: 1,
        message: m,
    })?;
    for (line, _, since) in &ilp {
        if let Some(s) = since
            && chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_err()
        {
            return Err(AdminError::Csv {
                line: *line,
                message: format!("ilp_since {s:?} is not a date YYYY-MM-DD"),
            });
        }
    }
    let n = cli::import_places(store, plain.as_bytes()).await?;
    for (_, code, since) in &ilp {
        store::set_ilp(store, code, since.as_deref()).await?;
    }
    Ok(n)
}

/// Imports a places CSV: every line checked (all errors listed, by line), the places inside
/// the admin's area, then stored as the CLI stores them, with the ILP dates.
async fn import(
    st: &AppState,
    ctx: &Ctx,
    csv_text: &str,
) -> Result<usize, (String, Vec<(u64, String)>)> {
    let fail = |m: String| -> (String, Vec<(u64, String)>) { (m, Vec::new()) };
    let (plain, ilp) = split_ilp(csv_text).map_err(fail)?;
    let known = st
        .store
        .all_places()
        .await
        .map_err(|e| fail(e.to_string()))?;
    let mut rows = Vec::new();
    // The whole file as the CLI checks it; on an error, each line on its own (with the
    // file's other lines as known places) so every bad line is named.
    let places = match cli::parse_places_csv(plain.as_bytes(), &known) {
        Ok(p) => p,
        Err(first) => {
            let mut lines = plain.lines();
            let head = lines.next().unwrap_or_default().to_string();
            let body: Vec<&str> = lines.filter(|l| !l.trim().is_empty()).collect();
            // The file's places (read loosely) count as known when a line names its parent.
            let mut others = known.clone();
            for l in &body {
                let mut r = csv::ReaderBuilder::new()
                    .has_headers(false)
                    .trim(csv::Trim::All)
                    .flexible(true)
                    .from_reader(l.as_bytes());
                if let Some(Ok(rec)) = r.records().next()
                    && let Some(level) = crate::model::parse_level(rec.get(2).unwrap_or_default())
                {
                    others.push(Place {
                        code: rec.get(0).unwrap_or_default().into(),
                        name: String::new(),
                        level,
                        parent: None,
                    });
                }
            }
            for (i, l) in body.iter().enumerate() {
                let line = u64::try_from(i).unwrap_or(0) + 2;
                if let Err(e) = cli::parse_places_csv(format!("{head}\n{l}\n").as_bytes(), &others)
                {
                    let m = match e {
                        AdminError::Csv { message, .. } => message,
                        other => other.to_string(),
                    };
                    rows.push((line, m));
                }
            }
            if rows.is_empty() {
                rows.push(match first {
                    AdminError::Csv { line, message } => (line, message),
                    other => (0, other.to_string()),
                });
            }
            return Err((
                ctx.t(
                    "CSV tidak diimpor; perbaiki baris berikut.",
                    "The CSV was not imported; correct these lines.",
                )
                .into(),
                rows,
            ));
        }
    };
    // Inside the admin's area: each place's parent at or under the scope (through the file).
    let scope = ctx.me.user.scope.place.clone();
    let mut inside: std::collections::HashSet<String> = known
        .iter()
        .filter(|p| ctx.under(&p.code, &scope))
        .map(|p| p.code.clone())
        .collect();
    loop {
        let before = inside.len();
        for p in &places {
            if p.parent.as_ref().is_some_and(|q| inside.contains(q))
                && !known
                    .iter()
                    .any(|k| k.code == p.code && !ctx.under(&k.code, &scope))
            {
                inside.insert(p.code.clone());
            }
        }
        if inside.len() == before {
            break;
        }
    }
    for (i, p) in places.iter().enumerate() {
        if !inside.contains(&p.code) || (p.code == scope && ctx.me.user.role != Role::DinasAdmin) {
            rows.push((
                u64::try_from(i).unwrap_or(0) + 2,
                match ctx.lang {
                    super::i18n::Lang::Id => format!("{} di luar wilayah Anda", p.code),
                    super::i18n::Lang::En => format!("{} is outside your area", p.code),
                },
            ));
        }
    }
    let mut dates = Vec::new();
    for (line, code, since) in &ilp {
        if let Some(s) = since
            && chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_err()
        {
            rows.push((*line, format!("ilp_since {s:?}: YYYY-MM-DD")));
            continue;
        }
        dates.push((code.clone(), since.clone()));
    }
    if !rows.is_empty() {
        return Err((
            ctx.t(
                "CSV tidak diimpor; perbaiki baris berikut.",
                "The CSV was not imported; correct these lines.",
            )
            .into(),
            rows,
        ));
    }
    let n = places.len();
    let codes: Vec<String> = places.iter().map(|p| p.code.clone()).collect();
    st.store
        .import_places(places)
        .await
        .map_err(|e| fail(e.to_string()))?;
    for (code, since) in &dates {
        store::set_ilp(st.store.as_ref(), code, since.as_deref())
            .await
            .map_err(|e| fail(e.to_string()))?;
    }
    audit(
        st,
        ctx,
        "places_import",
        &format!("{n}"),
        &scope,
        codes.join(" ").chars().take(500).collect(),
    )
    .await
    .map_err(fail)?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ilp_column_is_split_off() {
        let (plain, ilp) = split_ilp("code,name,level,parent,ilp_since\n53.04.PKM01,Puskesmas A,puskesmas,53.04.01,2024-07-01\n53.04.PKM02,Puskesmas B,puskesmas,53.04.01,\n").expect("csv");
        assert_eq!(plain.lines().next(), Some("code,name,level,parent"));
        assert_eq!(ilp[0].1, "53.04.PKM01");
        assert_eq!(ilp[0].2.as_deref(), Some("2024-07-01"));
        assert_eq!(ilp[1].2, None);
        let (same, none) = split_ilp("code,name,level,parent\n").expect("csv");
        assert_eq!(same, "code,name,level,parent\n");
        assert!(none.is_empty());
    }

    #[test]
    fn the_qr_code_is_inline_svg() {
        let svg = qr_svg("K7F-3QX-9M2").expect("qr");
        assert!(svg.starts_with("<svg"));
    }
}
