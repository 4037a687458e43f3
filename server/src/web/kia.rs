//! KIA: K1, K4, K6 coverage, KEK and anaemia, expected deliveries of the pregnant women of
//! the month (`readmodel::pregnancies`, as the tablet's F1), per desa.

use super::html::{Cell, Table};
use super::{Ctx, Page, WebError, format};
use crate::http::AppState;
use crate::readmodel::pregnancies;

crate::page_route!(page);

pub async fn page(st: &AppState, ctx: &Ctx) -> Result<Page, WebError> {
    let report = pregnancies::pregnancies(
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
    Ok(page)
}
