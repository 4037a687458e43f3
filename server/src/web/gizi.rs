//! Gizi: underweight, stunting and wasting (and severe) among the under-fives measured in
//! the month, per desa, with charts and a table (`readmodel::parts::nutrition`, as
//! `/v1/reports/nutrition`), and the children to follow up (BGM, 2T, gizi buruk, gizi kurang;
//! `parts::followup`),
//! each opening the child's growth chart.

use super::chart;
use super::html::{Cell, Table};
use super::{Ctx, Page, WebError, format};
use crate::http::AppState;
use crate::model::now_ms;
use crate::readmodel::{nutrition, parts, reports};

crate::page_route!(page);

/// Children listed on the page (the CSV has all): keeps a kabupaten's page light.
pub const PAGE_ROWS: usize = 200;

fn reason(ctx: &Ctx, r: &str) -> String {
    match r {
        "bgm" => "BGM".into(),
        "2t" => "2T".into(),
        "gizi_buruk" => ctx.t("gizi buruk", "severe wasting").into(),
        "gizi_kurang" => ctx.t("gizi kurang", "wasting").into(),
        other => other.to_string(),
    }
}

pub async fn page(st: &AppState, ctx: &Ctx) -> Result<Page, WebError> {
    let scope = &ctx.me.user.scope.place;
    let (from, to) = records::report::month_bounds(ctx.month)
        .ok_or_else(|| WebError::BadRequest("month".into()))?;
    let report = parts::nutrition(
        &st.reports.parts,
        st.store.as_ref(),
        scope,
        &ctx.place.code,
        from,
        to,
    )
    .await?
    .ok_or(WebError::NotFound)?;
    let follow = parts::followup(
        &st.reports.parts,
        st.store.as_ref(),
        scope,
        &ctx.place.code,
        reports::today(now_ms()),
    )
    .await?
    .ok_or(WebError::NotFound)?;
    let mut page = Page::new(ctx.t("Gizi balita", "Child nutrition"), "/dasbor/gizi");
    let rows: Vec<&nutrition::NutritionCounts> = if report.desa.len() > 1 {
        report.desa.iter().collect()
    } else {
        report.posyandu.iter().collect()
    };
    let mut charts = String::from("<div class=\"charts3\">");
    for (title, pick) in [
        (ctx.t("Underweight (BB/U)", "Underweight (W/A)"), 0),
        (ctx.t("Stunting (PB/U-TB/U)", "Stunting (L/A-H/A)"), 1),
        (ctx.t("Wasting (BB/PB-BB/TB)", "Wasting (W/L-W/H)"), 2),
    ] {
        let items: Vec<(String, Option<f64>)> = rows
            .iter()
            .map(|c| {
                let ind = [&c.weight_for_age, &c.height_for_age, &c.weight_for_height][pick];
                (c.name.clone(), ind.prevalence)
            })
            .collect();
        charts.push_str(&format!(
            "<figure><figcaption>{title}</figcaption>{}</figure>",
            chart::bars(title, &items)
        ));
    }
    charts.push_str("</div>");
    page.html(charts);
    let mut t = Table::new(
        "prevalensi",
        &[
            ctx.t("Wilayah", "Area"),
            ctx.t("Diukur", "Measured"),
            "Underweight",
            ctx.t("Sangat kurang (BB/U)", "Severe underweight"),
            "Stunting",
            ctx.t("Sangat pendek", "Severe stunting"),
            "Wasting",
            ctx.t("Gizi buruk", "Severe wasting"),
        ],
    );
    for c in rows.iter().copied().chain(std::iter::once(&report.total)) {
        t.row(vec![
            Cell::text(if std::ptr::eq(c, &report.total) {
                ctx.t("Jumlah", "Total").to_string()
            } else {
                c.name.clone()
            }),
            Cell::num(format::int(c.measured as i64)),
            Cell::num(format::pct(c.weight_for_age.prevalence)),
            Cell::num(format::pct(c.weight_for_age.severe_prevalence)),
            Cell::num(format::pct(c.height_for_age.prevalence)),
            Cell::num(format::pct(c.height_for_age.severe_prevalence)),
            Cell::num(format::pct(c.weight_for_height.prevalence)),
            Cell::num(format::pct(c.weight_for_height.severe_prevalence)),
        ]);
    }
    page.table(
        ctx.t(
            "Prevalensi di antara balita yang diukur bulan ini",
            "Prevalence among under-fives measured this month",
        ),
        t,
        ctx.t("Tidak ada data.", "No data."),
    );
    let mut f = Table::new(
        "tindak-lanjut",
        &[
            ctx.t("Nama", "Name"),
            "Posyandu",
            ctx.t("Tanggal lahir", "Birth date"),
            ctx.t("Umur (bln)", "Age (mo)"),
            ctx.t("Terakhir diukur", "Last measured"),
            ctx.t("Berat (kg)", "Weight (kg)"),
            ctx.t("Alasan", "Reason"),
        ],
    );
    f.page_limit = Some(PAGE_ROWS);
    for c in &follow.children {
        let href = format!(
            "/dasbor/anak/{}?place={}&month={}",
            super::html::url(&c.person),
            super::html::url(&ctx.place.code),
            ctx.month
        );
        f.row(vec![
            Cell::link(c.name.clone(), &href),
            Cell::text(ctx.name(&c.posyandu)),
            Cell::text(format::date(&c.birth_date)),
            Cell::num(format::int(c.age_months)),
            Cell::text(format::date(&c.date)),
            Cell::num(
                c.weight_kg
                    .map_or_else(|| "–".into(), |w| format::dec(w, 1)),
            ),
            Cell::text(
                c.reasons
                    .iter()
                    .map(|r| reason(ctx, r))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
        ]);
    }
    page.table(
        ctx.t(
            "Balita untuk ditindaklanjuti (BGM, 2T, gizi buruk, gizi kurang)",
            "Children to follow up (BGM, 2T, severe or moderate wasting)",
        ),
        f,
        ctx.t(
            "Tidak ada balita untuk ditindaklanjuti.",
            "No child to follow up.",
        ),
    );
    Ok(page)
}
