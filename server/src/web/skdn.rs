//! SKDN and the monthly report (F1): per posyandu as the tablet's Laporan (the same
//! `readmodel::parts::skdn` as `/v1/reports/skdn`), rolled up per place one drill step
//! down (desa, puskesmas), and the 12-month trend of D/S and N/D.

use super::chart::{self, Series};
use super::html::{Cell, Table};
use super::layout::{drill_children, last_12};
use super::{Ctx, Page, WebError, format};
use crate::http::AppState;
use crate::readmodel::monthly::SkdnReport;
use crate::readmodel::parts;
use health_rules::kms::YearMonth;
use health_rules::report::Counts;

crate::page_route!(page);

/// The SKDN report of the page's place and month, or 404 outside the user's area.
pub async fn report(st: &AppState, ctx: &Ctx, month: YearMonth) -> Result<SkdnReport, WebError> {
    parts::skdn(
        &st.reports.parts,
        st.store.as_ref(),
        &ctx.me.user.scope.place,
        &ctx.place.code,
        month,
    )
    .await?
    .ok_or(WebError::NotFound)
}

/// The SKDN totals of the 12 months ending with the page's month, oldest first: the page's
/// own month from `current` (its full report), the 11 before it from the report parts
/// ([`super::trend`]); `None` for a month still to be computed (in the background: a cold
/// kabupaten's month costs seconds, the page answers now).
pub async fn trend(
    st: &AppState,
    ctx: &Ctx,
    current: &SkdnReport,
) -> Result<Vec<(YearMonth, Option<Counts>)>, WebError> {
    let months = last_12(ctx.month);
    let before: Vec<YearMonth> = months.iter().copied().filter(|m| *m != ctx.month).collect();
    let totals =
        super::trend::totals_or_later(st, &ctx.me.user.scope.place, &ctx.place.code, &before)
            .await?;
    let mut out: Vec<(YearMonth, Option<Counts>)> = before.into_iter().zip(totals).collect();
    out.push((ctx.month, Some(current.total)));
    Ok(out)
}

/// The SKDN columns of a table.
pub fn skdn_head(first: &str) -> Vec<&str> {
    vec![
        first, "S", "K", "D", "N", "T", "O", "B", "BGM", "2T", "D/S", "N/D", "K/S",
    ]
}

pub fn skdn_cells(c: &Counts) -> Vec<Cell> {
    let r = c.ratios();
    let i = |v: u32| Cell::num(format::int(i64::from(v)));
    vec![
        i(c.s),
        i(c.k),
        i(c.d),
        i(c.n),
        i(c.t),
        i(c.o),
        i(c.b),
        i(c.bgm),
        i(c.two_t),
        Cell::num(format::pct(r.d_s)),
        Cell::num(format::pct(r.n_d)),
        Cell::num(format::pct(r.k_s)),
    ]
}

/// Sums the posyandu of `report` per place one drill step below the page's place.
pub fn by_child(ctx: &Ctx, report: &SkdnReport) -> Vec<(String, String, Counts)> {
    drill_children(ctx, &ctx.place.code)
        .into_iter()
        .map(|(code, name)| {
            let sum = report
                .posyandu
                .iter()
                .filter(|p| ctx.under(&p.code, &code))
                .fold(Counts::default(), |a, p| a + p.skdn.counts);
            (code, name, sum)
        })
        .collect()
}

pub async fn page(st: &AppState, ctx: &Ctx) -> Result<Page, WebError> {
    let report = &report(st, ctx, ctx.month).await?;
    let months = trend(st, ctx, report).await?;
    let en = ctx.lang == super::i18n::Lang::En;
    let mut page = Page::new(
        ctx.t(
            "SKDN dan laporan bulanan (F1)",
            "SKDN and the monthly report (F1)",
        ),
        "/dasbor/skdn",
    );
    let total = &report.total;
    let r = total.ratios();
    page.html(format!(
        "<div class=\"cards\" data-testid=\"skdn-total\"><div><b data-testid=\"total-s\">{}</b>S</div><div><b data-testid=\"total-k\">{}</b>K</div>\
         <div><b data-testid=\"total-d\">{}</b>D</div><div><b data-testid=\"total-n\">{}</b>N</div>\
         <div><b>{}</b>D/S</div><div><b>{}</b>N/D</div><div><b>{}</b>BGM</div></div>",
        format::int(i64::from(total.s)),
        format::int(i64::from(total.k)),
        format::int(i64::from(total.d)),
        format::int(i64::from(total.n)),
        format::pct(r.d_s),
        format::pct(r.n_d),
        format::int(i64::from(total.bgm)),
    ));
    let labels: Vec<String> = months
        .iter()
        .map(|(m, _)| format!("{:02}/{}", m.month, m.year % 100))
        .collect();
    let ds: Vec<Option<f64>> = months
        .iter()
        .map(|(_, r)| r.and_then(|r| r.ratios().d_s))
        .collect();
    let nd: Vec<Option<f64>> = months
        .iter()
        .map(|(_, r)| r.and_then(|r| r.ratios().n_d))
        .collect();
    let pending = months.iter().any(|(_, r)| r.is_none());
    page.html(format!(
        "<section><h2>{}</h2>{}{}</section>",
        ctx.t("Tren 12 bulan: D/S dan N/D", "12-month trend: D/S and N/D"),
        if pending {
            format!(
                "<p class=\"note\" data-testid=\"trend-pending\">{}</p>",
                ctx.t(
                    "Sebagian bulan sedang dihitung; muat ulang halaman sebentar lagi.",
                    "Some months are being computed; reload the page in a moment."
                )
            )
        } else {
            String::new()
        },
        chart::lines(
            ctx.t("Tren D/S dan N/D", "D/S and N/D trend"),
            &labels,
            &[
                Series {
                    name: ctx.t("D/S (partisipasi)", "D/S (participation)"),
                    values: ds,
                    class: "s1"
                },
                Series {
                    name: ctx.t("N/D (naik berat)", "N/D (gained weight)"),
                    values: nd,
                    class: "s2"
                },
            ],
        )
    ));
    let mut trend_t = Table::new("tren", &skdn_head(ctx.t("Bulan", "Month")));
    for (m, r) in &months {
        let mut row = vec![Cell::text(format::month(&m.to_string(), en))];
        match r {
            Some(r) => row.extend(skdn_cells(r)),
            None => row.push(Cell::text(ctx.t("sedang dihitung", "being computed"))),
        }
        trend_t.row(row);
    }
    let kids = by_child(ctx, report);
    if !kids.is_empty() {
        let mut t = Table::new("wilayah", &skdn_head(ctx.t("Wilayah", "Area")));
        for (code, name, c) in &kids {
            let mut row = vec![Cell::link(name.clone(), &ctx.href("/dasbor/skdn", code))];
            row.extend(skdn_cells(c));
            t.row(row);
        }
        page.table(
            ctx.t("Per wilayah", "By area"),
            t,
            ctx.t("Tidak ada data.", "No data."),
        );
    }
    let mut t = Table::new("posyandu", &{
        let mut h = skdn_head("Posyandu");
        h.insert(1, ctx.t("Hari posyandu", "Posyandu days"));
        h
    });
    for p in &report.posyandu {
        let days: Vec<String> =
            p.f1.activity
                .sessions
                .iter()
                .map(|d| format::date(d))
                .collect();
        let mut row = vec![
            Cell::link(p.name.clone(), &ctx.href("/dasbor/skdn", &p.code)),
            Cell::text(if days.is_empty() {
                "–".to_string()
            } else {
                days.join(", ")
            }),
        ];
        row.extend(skdn_cells(&p.skdn.counts));
        t.row(row);
    }
    page.table(
        ctx.t(
            "Per posyandu (sama dengan Laporan di tablet)",
            "By posyandu (as the tablet's report)",
        ),
        t,
        ctx.t("Tidak ada posyandu.", "No posyandu."),
    );
    // F1 by age band and sex, for the place as a whole.
    let mut f1 = Table::new("f1", &{
        let mut h = skdn_head(ctx.t("Umur", "Age"));
        h.insert(1, ctx.t("Jenis kelamin", "Sex"));
        h
    });
    for row in &report.rollup {
        let band = row.band.map_or_else(
            || ctx.t("0–59 bln", "0–59 mo").to_string(),
            |b| b.as_str().to_string(),
        );
        let sex = match row.sex {
            Some(health_rules::Sex::Male) => ctx.t("L", "M"),
            Some(health_rules::Sex::Female) => "P",
            None => ctx.t("L+P", "M+F"),
        };
        let mut cells = vec![Cell::text(band), Cell::text(sex)];
        cells.extend(skdn_cells(&row.counts));
        f1.row(cells);
    }
    page.table(
        ctx.t(
            "F1 menurut umur dan jenis kelamin",
            "F1 by age band and sex",
        ),
        f1,
        ctx.t("Tidak ada data.", "No data."),
    );
    page.table(
        ctx.t("Tren 12 bulan", "12-month trend"),
        trend_t,
        ctx.t("Tidak ada data.", "No data."),
    );
    Ok(page)
}
