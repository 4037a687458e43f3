//! The page shell: header (user, language, logout), the page tabs, the drill-down
//! (kabupaten → puskesmas → desa → posyandu) with the month picker, and each table with its
//! CSV download and printable view.

use super::html::{Table, esc, url};
use super::session::is_admin;
use super::{Ctx, format};
use std::fmt::Write;
use sync_protocol::PlaceLevel;

/// A part of a page.
#[derive(Debug, Clone)]
pub enum Block {
    Html(String),
    /// A titled table, downloadable as CSV.
    Table {
        title: String,
        table: Table,
        empty: String,
    },
}

/// A built page.
#[derive(Debug, Clone)]
pub struct Page {
    pub title: String,
    /// Which tab is lit: the path of [`NAV`].
    pub nav: &'static str,
    pub blocks: Vec<Block>,
    /// Show the drill-down and month picker.
    pub drill: bool,
}

impl Page {
    pub fn new(title: impl Into<String>, nav: &'static str) -> Page {
        Page {
            title: title.into(),
            nav,
            blocks: Vec::new(),
            drill: true,
        }
    }

    pub fn html(&mut self, h: impl Into<String>) {
        self.blocks.push(Block::Html(h.into()));
    }

    pub fn table(&mut self, title: impl Into<String>, table: Table, empty: impl Into<String>) {
        self.blocks.push(Block::Table {
            title: title.into(),
            table,
            empty: empty.into(),
        });
    }

    pub fn tables(&self) -> impl Iterator<Item = &Table> {
        self.blocks.iter().filter_map(|b| match b {
            Block::Table { table, .. } => Some(table),
            Block::Html(_) => None,
        })
    }
}

/// The tabs: path, Indonesian, English.
pub const NAV: &[(&str, &str, &str)] = &[
    ("/dasbor", "Ringkasan", "Summary"),
    ("/dasbor/skdn", "SKDN & F1", "SKDN & F1"),
    ("/dasbor/gizi", "Gizi", "Nutrition"),
    ("/dasbor/imunisasi", "Imunisasi", "Immunisation"),
    ("/dasbor/kia", "KIA", "Maternal & child"),
    ("/dasbor/rujukan", "Rujukan", "Referrals"),
    ("/dasbor/tablet", "Tablet", "Tablets"),
    ("/dasbor/tinjauan", "Tinjauan", "Review"),
    ("/dasbor/admin", "Administrasi", "Administration"),
];

/// The test id of a tab: `ringkasan` for `/dasbor`, else its last segment.
pub fn nav_id(path: &str) -> &str {
    match path.rsplit_once('/') {
        Some(("", _)) | None => "ringkasan",
        Some((_, last)) => last,
    }
}

/// The drill-down levels, top to bottom.
pub const DRILL: [PlaceLevel; 4] = [
    PlaceLevel::Kabupaten,
    PlaceLevel::Puskesmas,
    PlaceLevel::Desa,
    PlaceLevel::Posyandu,
];

/// The places one drill step below `code`: the nearest places of the next drill level
/// under it (a kecamatan or dusun between is passed through), by name.
pub fn drill_children(ctx: &Ctx, code: &str) -> Vec<(String, String)> {
    let Some(p) = ctx.places.get(code) else {
        return Vec::new();
    };
    let next = match p.level {
        PlaceLevel::Kabupaten | PlaceLevel::Kecamatan => PlaceLevel::Puskesmas,
        PlaceLevel::Puskesmas => PlaceLevel::Desa,
        PlaceLevel::Desa | PlaceLevel::Dusun => PlaceLevel::Posyandu,
        PlaceLevel::Posyandu => return Vec::new(),
    };
    let mut out: Vec<(String, String)> = ctx
        .places
        .values()
        .filter(|c| c.level == next && c.code != code && ctx.under(&c.code, code))
        .map(|c| (c.code.clone(), c.name.clone()))
        .collect();
    out.sort_by(|a, b| a.1.cmp(&b.1).then(a.0.cmp(&b.0)));
    out
}

/// The drill path from the user's scope down to the place shown.
fn crumbs(ctx: &Ctx) -> Vec<(String, String)> {
    let scope = &ctx.me.user.scope.place;
    let mut out = Vec::new();
    let mut cur = Some(ctx.place.code.clone());
    for _ in 0..16 {
        let Some(code) = cur else { break };
        let Some(p) = ctx.places.get(&code) else {
            break;
        };
        if DRILL.contains(&p.level) || code == *scope {
            out.push((p.code.clone(), p.name.clone()));
        }
        if code == *scope {
            break;
        }
        cur = p.parent.clone();
    }
    out.reverse();
    out
}

fn level_name(ctx: &Ctx, l: PlaceLevel) -> &'static str {
    match l {
        PlaceLevel::Kabupaten => ctx.t("Kabupaten", "District"),
        PlaceLevel::Kecamatan => ctx.t("Kecamatan", "Subdistrict"),
        PlaceLevel::Puskesmas => "Puskesmas",
        PlaceLevel::Desa => ctx.t("Desa", "Village"),
        PlaceLevel::Dusun => ctx.t("Dusun", "Hamlet"),
        PlaceLevel::Posyandu => "Posyandu",
    }
}

/// The query string of this page with `extra` set (other parameters kept).
pub fn with(ctx: &Ctx, extra: &[(&str, &str)]) -> String {
    let mut q: Vec<(String, String)> = ctx
        .query
        .iter()
        .filter(|(k, _)| !extra.iter().any(|(e, _)| e == k) && *k != "csv" && *k != "print")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    for (k, v) in extra {
        q.push(((*k).to_string(), (*v).to_string()));
    }
    q.sort();
    let parts: Vec<String> = q
        .iter()
        .map(|(k, v)| format!("{}={}", url(k), url(v)))
        .collect();
    format!("{}?{}", ctx.path, parts.join("&"))
}

/// The whole page.
pub fn render(ctx: &Ctx, page: &Page, print: bool) -> String {
    let mut s = String::with_capacity(16 * 1024);
    let _ = write!(
        s,
        "<!doctype html><html lang=\"{}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{} · Dasbor Jangkau</title><link rel=\"stylesheet\" href=\"/dasbor/aset/dasbor.css\">\
         <script src=\"/dasbor/aset/dasbor.js\" defer></script></head><body class=\"{}\">",
        ctx.lang.code(),
        esc(&page.title),
        if print { "print" } else { "" }
    );
    let place_line = format!(
        "{} {} · {}",
        level_name(ctx, ctx.place.level),
        esc(&ctx.place.name),
        esc(&format::month(
            &ctx.month.to_string(),
            ctx.lang == super::i18n::Lang::En
        ))
    );
    if print {
        let _ = write!(
            s,
            "<header class=\"ph\"><h1 data-testid=\"page-title\">{}</h1><p>{place_line}</p>\
             <button type=\"button\" class=\"noprint\" data-print>{}</button> \
             <a class=\"noprint\" href=\"{}\">{}</a></header><main>",
            esc(&page.title),
            ctx.t("Cetak", "Print"),
            esc(&with(ctx, &[])),
            ctx.t("Kembali", "Back")
        );
    } else {
        let user = &ctx.me.user;
        let other = match ctx.lang {
            super::i18n::Lang::Id => ("en", "English"),
            super::i18n::Lang::En => ("id", "Bahasa Indonesia"),
        };
        let _ = write!(
            s,
            "<header class=\"top\"><a class=\"brand\" href=\"/dasbor\">Dasbor Jangkau</a>\
             <span class=\"who\" data-testid=\"who\">{} ({})</span>\
             <a href=\"{}\" data-testid=\"lang-switch\">{}</a>\
             <form method=\"post\" action=\"/keluar\" class=\"inline\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <button data-testid=\"logout\">{}</button></form></header><nav class=\"tabs\">",
            esc(&user.display_name),
            esc(crate::model::role_str(user.role)),
            esc(&with(ctx, &[("lang", other.0)])),
            other.1,
            esc(&ctx.me.csrf),
            ctx.t("Keluar", "Log out"),
        );
        for (path, id, en) in NAV {
            if *path == "/dasbor/admin" && !is_admin(user.role) {
                continue;
            }
            let on = if *path == page.nav {
                " class=\"on\""
            } else {
                ""
            };
            let _ = write!(
                s,
                "<a{on} href=\"{}\" data-testid=\"nav-{}\">{}</a>",
                esc(&ctx.href(path, &ctx.place.code)),
                nav_id(path),
                esc(ctx.t(id, en))
            );
        }
        s.push_str("</nav><main>");
        let _ = write!(
            s,
            "<h1 data-testid=\"page-title\">{}</h1>",
            esc(&page.title)
        );
        if page.drill {
            drill(ctx, page, &mut s);
        }
    }
    for b in &page.blocks {
        match b {
            Block::Html(h) => s.push_str(h),
            Block::Table {
                title,
                table,
                empty,
            } => {
                let _ = write!(s, "<section class=\"tbl\"><h2>{}</h2>", esc(title));
                if !print {
                    let _ = write!(
                        s,
                        "<p class=\"dl noprint\"><a href=\"{}\" data-testid=\"csv-{}\">{}</a> · <a href=\"{}\" data-testid=\"print-{}\">{}</a></p>",
                        esc(&with(ctx, &[("csv", table.id)])),
                        table.id,
                        ctx.t(
                            "Unduh CSV (Excel, pemisah ;)",
                            "Download CSV (Excel, ; separated)"
                        ),
                        esc(&with(ctx, &[("print", "1")])),
                        table.id,
                        ctx.t("Versi cetak", "Printable"),
                    );
                }
                let more = ctx.t(
                    "baris lagi: unduh CSV untuk semuanya",
                    "more rows: download the CSV for all",
                );
                if print {
                    // The printed page has every row.
                    let mut all = table.clone();
                    all.page_limit = None;
                    s.push_str(&all.html(empty, more));
                } else {
                    s.push_str(&table.html(empty, more));
                }
                s.push_str("</section>");
            }
        }
    }
    s.push_str("</main></body></html>");
    s
}

/// The drill path, the places one step down, and the month picker.
fn drill(ctx: &Ctx, page: &Page, s: &mut String) {
    s.push_str("<div class=\"drill\"><nav class=\"crumbs\" data-testid=\"crumbs\">");
    let path = crumbs(ctx);
    for (i, (code, name)) in path.iter().enumerate() {
        if i > 0 {
            s.push_str(" › ");
        }
        if i + 1 == path.len() {
            let _ = write!(s, "<strong>{}</strong>", esc(name));
        } else {
            let _ = write!(
                s,
                "<a href=\"{}\">{}</a>",
                esc(&ctx.href(page.nav, code)),
                esc(name)
            );
        }
    }
    s.push_str("</nav>");
    let kids = drill_children(ctx, &ctx.place.code);
    if !kids.is_empty() {
        s.push_str("<ul class=\"kids\" data-testid=\"drill-children\">");
        for (code, name) in kids {
            let _ = write!(
                s,
                "<li><a href=\"{}\" data-testid=\"drill-{}\">{}</a></li>",
                esc(&ctx.href(page.nav, &code)),
                esc(&code),
                esc(&name)
            );
        }
        s.push_str("</ul>");
    }
    let prev = ctx.month.prev();
    let next = next_month(ctx.month);
    let _ = write!(
        s,
        "<form method=\"get\" action=\"{}\" class=\"month\" data-testid=\"month-form\">\
         <input type=\"hidden\" name=\"place\" value=\"{}\">\
         <a href=\"{}\" data-testid=\"month-prev\">‹</a>\
         <label>{} <input type=\"month\" name=\"month\" value=\"{}\" data-testid=\"month\"></label>\
         <a href=\"{}\" data-testid=\"month-next\">›</a> <button>{}</button></form></div>",
        esc(page.nav),
        esc(&ctx.place.code),
        esc(&with(ctx, &[("month", &prev.to_string())])),
        ctx.t("Bulan", "Month"),
        ctx.month,
        esc(&with(ctx, &[("month", &next.to_string())])),
        ctx.t("Tampilkan", "Show"),
    );
}

/// The month after `m`.
pub fn next_month(m: health_rules::kms::YearMonth) -> health_rules::kms::YearMonth {
    let (y, mo) = if m.month >= 12 {
        (m.year + 1, 1)
    } else {
        (m.year, m.month + 1)
    };
    health_rules::kms::YearMonth::new(y, mo).unwrap_or(m)
}

/// The 12 months ending with `m`, oldest first.
pub fn last_12(m: health_rules::kms::YearMonth) -> Vec<health_rules::kms::YearMonth> {
    let mut out = vec![m];
    for _ in 0..11 {
        let p = out[out.len() - 1].prev();
        out.push(p);
    }
    out.reverse();
    out
}
