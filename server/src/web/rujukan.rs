//! Rujukan: referrals not yet done (`reports::open_referrals`, the user's area) at or under
//! the place shown, by status and age, the longest open first.

use super::html::{Cell, Table};
use super::{Ctx, Page, WebError, format};
use crate::http::AppState;
use crate::model::now_ms;
use crate::readmodel::reports;

crate::page_route!(page);

/// A referral open this many days or more is overdue.
pub const OVERDUE_DAYS: i64 = 7;

fn status(ctx: &Ctx, s: &str) -> String {
    match s {
        "made" => ctx.t("dirujuk", "made").into(),
        "received" => ctx.t("diterima", "received").into(),
        other => other.to_string(),
    }
}

pub async fn page(st: &AppState, ctx: &Ctx) -> Result<Page, WebError> {
    let report =
        reports::open_referrals(st.store.as_ref(), &ctx.me.user.scope.place, now_ms()).await?;
    let mut open: Vec<&reports::OpenReferral> = report
        .referrals
        .iter()
        .filter(|r| ctx.under(&r.posyandu, &ctx.place.code))
        .collect();
    open.sort_by_key(|r| std::cmp::Reverse(r.days_open));
    let mut page = Page::new(
        ctx.t("Rujukan terbuka", "Open referrals"),
        "/dasbor/rujukan",
    );
    page.drill = true;
    let mut by = Table::new(
        "status",
        &[
            ctx.t("Status", "Status"),
            ctx.t("Jumlah", "Count"),
            "0–7 hr",
            "8–30 hr",
            "> 30 hr",
        ],
    );
    for s in ["made", "received"] {
        let of: Vec<_> = open.iter().filter(|r| r.status == s).collect();
        let band = |lo: i64, hi: i64| {
            of.iter()
                .filter(|r| r.days_open >= lo && r.days_open <= hi)
                .count() as i64
        };
        by.row(vec![
            Cell::text(status(ctx, s)),
            Cell::num(format::int(of.len() as i64)),
            Cell::num(format::int(band(0, 7))),
            Cell::num(format::int(band(8, 30))),
            Cell::num(format::int(band(31, i64::MAX))),
        ]);
    }
    page.table(
        ctx.t("Menurut status dan umur", "By status and age"),
        by,
        "–",
    );
    let mut t = Table::new(
        "rujukan",
        &[
            ctx.t("Nama", "Name"),
            "Posyandu",
            ctx.t("Status", "Status"),
            ctx.t("Dirujuk", "Made on"),
            ctx.t("Hari terbuka", "Days open"),
            ctx.t("Alasan", "Reason"),
            ctx.t("Tujuan", "Destination"),
        ],
    );
    for r in open {
        let cells = vec![
            Cell::text(r.person_name.clone().unwrap_or_else(|| "–".into())),
            Cell::text(ctx.name(&r.posyandu)),
            Cell::text(status(ctx, &r.status)),
            Cell::text(format::date(&r.made_on)),
            Cell::num(format::int(r.days_open)),
            Cell::text(r.reason.clone().unwrap_or_default()),
            Cell::text(r.destination.clone().unwrap_or_default()),
        ];
        if r.days_open >= OVERDUE_DAYS {
            t.row_with(cells, "late");
        } else {
            t.row(cells);
        }
    }
    page.table(
        ctx.t(
            "Rujukan (terlama dahulu; ≥ 7 hari ditandai)",
            "Referrals (longest open first; 7 days or more marked)",
        ),
        t,
        ctx.t("Tidak ada rujukan terbuka.", "No open referrals."),
    );
    Ok(page)
}
