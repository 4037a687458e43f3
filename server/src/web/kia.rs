//! KIA: K1, K4, K6 coverage, KEK and anaemia, expected deliveries of the pregnant women of
//! the month (`readmodel::parts::pregnancies`, as `/v1/reports/pregnancies`), per desa; postpartum (KF) and
//! newborn (KN) visits due, done and overdue in the month, per desa, and the mothers and
//! babies overdue (`readmodel::visits`, by the tablet's visit windows).

use super::html::{Cell, Table};
use super::{Ctx, Page, WebError, format};
use crate::http::AppState;
use crate::model::now_ms;
use crate::readmodel::{parts, pregnancies, reports, visits};

crate::page_route!(page);

pub async fn page(st: &AppState, ctx: &Ctx) -> Result<Page, WebError> {
    let report = parts::pregnancies(
        &st.reports.parts,
        st.store.as_ref(),
        &ctx.me.user.scope.place,
        &ctx.place.code,
        ctx.month,
    )
    .await?
    .ok_or(WebError::NotFound)?;
    let en = ctx.lang == super::i18n::Lang::En;
    let mut page = Page::new(
        ctx.t("KIA: ibu hamil", "Maternal health: pregnancies"),
        "/dasbor/kia",
    );
    let mut t = Table::new(
        "kia",
        &[
            ctx.t("Wilayah", "Area"),
            ctx.t("Ibu hamil", "Pregnant women"),
            "K1",
            "K1 %",
            "K4",
            "K4 %",
            "K6",
            "K6 %",
            "KEK",
            ctx.t("Anemia", "Anaemia"),
        ],
    );
    let rows: Vec<&pregnancies::PregnancyCounts> = if report.desa.len() > 1 {
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
        let i = |n: u64| Cell::num(format::int(n as i64));
        t.row(vec![
            Cell::text(name),
            i(c.pregnant_women),
            i(c.k1),
            Cell::num(format::pct(c.k1_coverage)),
            i(c.k4),
            Cell::num(format::pct(c.k4_coverage)),
            i(c.k6),
            Cell::num(format::pct(c.k6_coverage)),
            i(c.kek),
            i(c.anaemia),
        ]);
    }
    page.table(
        ctx.t("K1, K4, K6, KEK dan anemia", "K1, K4, K6, KEK and anaemia"),
        t,
        ctx.t("Tidak ada data.", "No data."),
    );
    let mut d = Table::new(
        "persalinan",
        &[
            ctx.t(
                "Bulan perkiraan persalinan (HPL)",
                "Month of expected delivery",
            ),
            ctx.t("Ibu hamil", "Pregnant women"),
        ],
    );
    for (m, n) in &report.total.expected_deliveries {
        d.row(vec![
            Cell::text(format::month(m, en)),
            Cell::num(format::int(*n as i64)),
        ]);
    }
    page.table(
        ctx.t("Perkiraan persalinan", "Expected deliveries"),
        d,
        ctx.t("Tidak ada.", "None."),
    );
    visit_tables(st, ctx, &mut page).await?;
    Ok(page)
}

/// KF and KN due, done and overdue per desa; the overdue mothers and babies.
async fn visit_tables(st: &AppState, ctx: &Ctx, page: &mut Page) -> Result<(), WebError> {
    let report = visits::visits(
        st.store.as_ref(),
        &ctx.me.user.scope.place,
        &ctx.place.code,
        ctx.month,
        reports::today(now_ms()),
    )
    .await?
    .ok_or(WebError::NotFound)?;
    let mut t = Table::new(
        "kunjungan-nifas-neonatal",
        &[
            ctx.t("Wilayah", "Area"),
            ctx.t("KF jatuh tempo", "KF due"),
            ctx.t("KF dilakukan", "KF done"),
            ctx.t("KF terlewat", "KF overdue"),
            ctx.t("KN jatuh tempo", "KN due"),
            ctx.t("KN dilakukan", "KN done"),
            ctx.t("KN terlewat", "KN overdue"),
        ],
    );
    for c in report.desa.iter().chain(std::iter::once(&report.total)) {
        let name = if std::ptr::eq(c, &report.total) {
            ctx.t("Jumlah", "Total").to_string()
        } else {
            c.name.clone()
        };
        let i = |n: u64| Cell::num(format::int(n as i64));
        t.row(vec![
            Cell::text(name),
            i(c.kf.due),
            i(c.kf.done),
            i(c.kf.overdue),
            i(c.kn.due),
            i(c.kn.done),
            i(c.kn.overdue),
        ]);
    }
    page.table(
        ctx.t(
            "Kunjungan nifas (KF) dan neonatal (KN) bulan ini",
            "Postpartum (KF) and newborn (KN) visits this month",
        ),
        t,
        ctx.t("Tidak ada data.", "No data."),
    );
    let mut o = Table::new(
        "kunjungan-terlewat",
        &[
            ctx.t("Nama", "Name"),
            ctx.t("Kunjungan", "Visit"),
            ctx.t("Dari", "From"),
            ctx.t("Sampai", "Until"),
            "Posyandu",
            "Desa",
        ],
    );
    o.page_limit = Some(super::gizi::PAGE_ROWS);
    for v in &report.overdue {
        o.row(vec![
            Cell::text(v.name.clone()),
            Cell::text(v.visit.clone()),
            Cell::text(v.from.format("%d/%m/%Y").to_string()),
            Cell::text(v.until.format("%d/%m/%Y").to_string()),
            Cell::text(v.posyandu.clone()),
            Cell::text(v.desa.clone()),
        ]);
    }
    page.table(
        ctx.t(
            "Ibu nifas dan bayi baru lahir dengan kunjungan terlewat",
            "Mothers and newborns with a missed visit",
        ),
        o,
        ctx.t("Tidak ada kunjungan terlewat.", "No missed visit."),
    );
    Ok(())
}
