//! Ringkasan: per place one drill step down (the puskesmas of the kabupaten), whether it
//! runs ILP and since when, posyandu held this month against planned, D/S, tablets active
//! and stale, open referrals.

use super::html::{Cell, Table};
use super::layout::drill_children;
use super::{Ctx, Page, WebError, format, store};
use crate::http::AppState;
use crate::model::now_ms;
use crate::readmodel::reports;
use crate::readmodel::routes::DEFAULT_STALE_DAYS;
use health_rules::report::Counts;

crate::page_route!(page);

pub async fn page(st: &AppState, ctx: &Ctx) -> Result<Page, WebError> {
    let scope = ctx.me.user.scope.place.clone();
    let report = super::skdn::report(st, ctx, ctx.month).await?;
    let tablets = reports::tablets(st.store.as_ref(), &scope, DEFAULT_STALE_DAYS, now_ms()).await?;
    let referrals = reports::open_referrals(st.store.as_ref(), &scope, now_ms()).await?;
    let ilp = store::ilp(st.store.as_ref()).await?;
    let mut page = Page::new(ctx.t("Ringkasan", "Summary"), "/dasbor");

    let mut rows: Vec<(String, String)> = drill_children(ctx, &ctx.place.code);
    if rows.is_empty() {
        rows.push((ctx.place.code.clone(), ctx.place.name.clone()));
    }
    let mut t = Table::new(
        "ringkasan",
        &[
            ctx.t("Wilayah", "Area"),
            "ILP",
            ctx.t("ILP sejak", "ILP since"),
            ctx.t("Posyandu buka / rencana", "Posyandu held / planned"),
            "S",
            "D",
            "D/S",
            ctx.t("Tablet aktif", "Tablets active"),
            ctx.t("Tablet lama tidak sinkron", "Tablets stale"),
            ctx.t("Rujukan terbuka", "Open referrals"),
        ],
    );
    let (mut on_ilp, mut pkm) = (0, 0);
    for (code, name) in &rows {
        let posyandu: Vec<_> = report
            .posyandu
            .iter()
            .filter(|p| ctx.under(&p.code, code))
            .collect();
        let held = posyandu
            .iter()
            .filter(|p| !p.f1.activity.sessions.is_empty())
            .count();
        let c = posyandu
            .iter()
            .fold(Counts::default(), |a, p| a + p.skdn.counts);
        let pkm_code = ctx.up_to(code, sync_protocol::PlaceLevel::Puskesmas);
        let since = pkm_code
            .as_ref()
            .and_then(|p| ilp.get(p))
            .or_else(|| ilp.get(code));
        if ctx
            .places
            .get(code)
            .is_some_and(|p| p.level == sync_protocol::PlaceLevel::Puskesmas)
        {
            pkm += 1;
            if since.is_some() {
                on_ilp += 1;
            }
        }
        let mine = |area: &str| ctx.under(area, code);
        let tabs: Vec<_> = tablets.tablets.iter().filter(|t| mine(&t.area)).collect();
        let stale = tabs.iter().filter(|t| t.stale).count();
        let open = referrals
            .referrals
            .iter()
            .filter(|r| ctx.under(&r.posyandu, code))
            .count();
        t.row(vec![
            Cell::link(name.clone(), &ctx.href("/dasbor", code)),
            Cell::text(if since.is_some() {
                ctx.t("Ya", "Yes")
            } else {
                ctx.t("Belum", "Not yet")
            }),
            Cell::text(since.map_or_else(|| "–".to_string(), |s| format::date(s))),
            Cell::num(format!(
                "{} / {}",
                format::int(held as i64),
                format::int(posyandu.len() as i64)
            )),
            Cell::num(format::int(i64::from(c.s))),
            Cell::num(format::int(i64::from(c.d))),
            Cell::num(format::pct(c.ratios().d_s)),
            Cell::num(format::int((tabs.len() - stale) as i64)),
            Cell::num(format::int(stale as i64)),
            Cell::num(format::int(open as i64)),
        ]);
    }
    let total = report.total;
    let held = report
        .posyandu
        .iter()
        .filter(|p| !p.f1.activity.sessions.is_empty())
        .count();
    let mut cards = format!(
        "<div class=\"cards\"><div><b data-testid=\"sum-held\">{} / {}</b>{}</div><div><b>{}</b>D/S</div>\
         <div><b>{}</b>{}</div><div><b>{}</b>{}</div>",
        format::int(held as i64),
        format::int(report.posyandu.len() as i64),
        ctx.t("posyandu buka bulan ini", "posyandu held this month"),
        format::pct(total.ratios().d_s),
        format::int(tablets.stale as i64),
        ctx.t("tablet lama tidak sinkron", "tablets stale"),
        format::int(referrals.referrals.len() as i64),
        ctx.t("rujukan terbuka", "open referrals"),
    );
    if pkm > 0 {
        cards.push_str(&format!(
            "<div><b data-testid=\"sum-ilp\">{} / {}</b>{}</div>",
            on_ilp,
            pkm,
            ctx.t("puskesmas sudah ILP", "puskesmas on ILP")
        ));
    }
    cards.push_str("</div>");
    page.html(cards);
    page.table(
        ctx.t("Per wilayah", "By area"),
        t,
        ctx.t("Tidak ada wilayah.", "No areas."),
    );
    Ok(page)
}
