//! Imunisasi: coverage per antigen and IDL of an age cohort (born in a year, `?cohort=`,
//! by default the year before the month shown), per desa, and the children with doses overdue, from the same per-posyandu
//! parts as `/v1/reports/immunisation` (`readmodel::parts::cohort`).

use super::html::{Cell, Table};
use super::{Ctx, Page, WebError, format};
use crate::http::AppState;
use crate::model::now_ms;
use crate::readmodel::{immunisation, parts, reports};
use chrono::NaiveDate;

crate::page_route!(page);

pub async fn page(st: &AppState, ctx: &Ctx) -> Result<Page, WebError> {
    let year: i32 = match ctx.query.get("cohort") {
        Some(y) => y
            .parse()
            .ok()
            .filter(|y| (1900..=2200).contains(y))
            .ok_or_else(|| WebError::BadRequest("cohort".into()))?,
        None => ctx.month.year - 1,
    };
    let (from, to) = match (
        NaiveDate::from_ymd_opt(year, 1, 1),
        NaiveDate::from_ymd_opt(year, 12, 31),
    ) {
        (Some(a), Some(b)) => (a, b),
        _ => return Err(WebError::BadRequest("cohort".into())),
    };
    let on = reports::today(now_ms());
    // Coverage and the overdue children from the same kept parts (one read of the cohort).
    let (report, late) = parts::cohort(
        &st.reports.parts,
        st.store.as_ref(),
        &ctx.me.user.scope.place,
        &ctx.place.code,
        from,
        to,
        on,
    )
    .await?
    .ok_or(WebError::NotFound)?;
    let mut page = Page::new(ctx.t("Imunisasi", "Immunisation"), "/dasbor/imunisasi");
    page.html(format!(
        "<form method=\"get\" class=\"month\"><input type=\"hidden\" name=\"place\" value=\"{}\"><input type=\"hidden\" name=\"month\" value=\"{}\">\
         <label>{} <input name=\"cohort\" type=\"number\" min=\"1900\" max=\"2200\" value=\"{year}\" data-testid=\"cohort\"></label> <button>{}</button></form>\
         <p>{} {year} ({} {}). IDL: {}.</p>",
        super::html::esc(&ctx.place.code),
        ctx.month,
        ctx.t("Kohort lahir tahun", "Cohort born in"),
        ctx.t("Tampilkan", "Show"),
        ctx.t("Anak yang lahir pada tahun", "Children born in"),
        ctx.t("status per", "as of"),
        format::date(&report.on),
        ctx.t("imunisasi dasar lengkap", "complete basic immunisation"),
    ));
    let doses: Vec<String> = report.total.given.keys().cloned().collect();
    let mut head: Vec<&str> = vec![
        ctx.t("Wilayah", "Area"),
        ctx.t("Anak", "Children"),
        "IDL",
        "IDL %",
    ];
    head.extend(doses.iter().map(String::as_str));
    let mut t = Table::new("cakupan", &head);
    let rows: Vec<&immunisation::Coverage> = if report.desa.len() > 1 {
        report.desa.iter().collect()
    } else {
        report.posyandu.iter().collect()
    };
    for c in rows.into_iter().chain(std::iter::once(&report.total)) {
        let name = if std::ptr::eq(c, &report.total) {
            ctx.t("Jumlah", "Total").to_string()
        } else {
            c.name.clone()
        };
        let mut row = vec![
            Cell::text(name),
            Cell::num(format::int(c.children as i64)),
            Cell::num(format::int(c.idl as i64)),
            Cell::num(format::pct(c.idl_coverage)),
        ];
        for d in &doses {
            row.push(Cell::num(format::pct(c.coverage.get(d).copied().flatten())));
        }
        t.row(row);
    }
    page.table(
        ctx.t("Cakupan per antigen", "Coverage per antigen"),
        t,
        ctx.t("Tidak ada data.", "No data."),
    );
    let mut o = Table::new(
        "terlambat",
        &[
            ctx.t("Nama", "Name"),
            "Posyandu",
            ctx.t("Tanggal lahir", "Birth date"),
            ctx.t("Dosis terlambat (kejar)", "Doses overdue (catch-up)"),
        ],
    );
    o.page_limit = Some(super::gizi::PAGE_ROWS);
    for c in &late {
        o.row(vec![
            Cell::text(c.name.clone()),
            Cell::text(ctx.name(&c.posyandu)),
            Cell::text(format::date(&c.birth_date)),
            Cell::text(c.doses.join(", ")),
        ]);
    }
    page.table(
        ctx.t(
            "Anak dengan imunisasi terlambat",
            "Children with doses overdue",
        ),
        o,
        ctx.t(
            "Tidak ada anak dengan imunisasi terlambat.",
            "No child has a dose overdue.",
        ),
    );
    Ok(page)
}
