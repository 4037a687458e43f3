//! Tinjauan: what waits for the bidan's review at or under the place shown — conflicts no
//! one has reviewed and likely duplicates the server finds (`readmodel::review`) — per
//! posyandu with how long the oldest has waited (each posyandu opens its own page), then
//! every conflict and every pair, the longest waiting first. Pairs are found in the user's
//! whole area; a pair across two posyandu counts and shows in both. The decisions themselves are
//! made on the tablet (its Tinjauan screen); a decision synced takes the item off here.

use super::html::{Cell, Table};
use super::{Ctx, Page, WebError, format};
use crate::http::AppState;
use crate::model::now_ms;
use crate::readmodel::review::{self, days_waiting};
use records::duplicates::Reason;

crate::page_route!(page);

/// Items listed on the page per table (the CSV has them all).
pub const PAGE_ROWS: usize = 200;

/// An item waiting this many days or more is marked.
pub const LATE_DAYS: i64 = 14;

fn reason(ctx: &Ctx, r: Reason) -> &'static str {
    match r {
        Reason::Nik => ctx.t("NIK sama", "same NIK"),
        Reason::NameBirthMother => ctx.t(
            "nama, tanggal lahir dan ibu sama",
            "same name, birth date and mother",
        ),
    }
}

fn kind(ctx: &Ctx, k: &str) -> String {
    match k {
        "person" => ctx.t("orang", "person").into(),
        "household" => ctx.t("keluarga", "household").into(),
        "pregnancy" => ctx.t("kehamilan", "pregnancy").into(),
        "referral" => ctx.t("rujukan", "referral").into(),
        other => other.to_string(),
    }
}

fn field(ctx: &Ctx, f: &str) -> String {
    if f == "_deleted" {
        ctx.t("(penghapusan)", "(deletion)").into()
    } else {
        f.to_string()
    }
}

fn days_cell(days: Option<i64>) -> Cell {
    Cell::num(days.map_or_else(|| "–".into(), format::int))
}

pub async fn page(st: &AppState, ctx: &Ctx) -> Result<Page, WebError> {
    let now = now_ms();
    // Pairs are found in the user's whole area, then kept when a person of the pair is at
    // or under the place shown: a pair across two posyandu shows on both posyandu's pages.
    let mut waiting = review::waiting(st.store.as_ref(), &ctx.me.user.scope.place).await?;
    waiting.retain(|code| ctx.under(code, &ctx.place.code));
    let mut page = Page::new(ctx.t("Tinjauan bidan", "Review queue"), "/dasbor/tinjauan");
    let per = waiting.per_posyandu();
    let days = |ms: Option<u64>| ms.map(|ms| days_waiting(ms, now));
    page.html(format!(
        "<p data-testid=\"waiting-total\">{} {}, {} {}</p>",
        format::int(waiting.conflicts.len() as i64),
        ctx.t("konflik menunggu", "conflicts waiting"),
        format::int(waiting.pairs.len() as i64),
        ctx.t("kemungkinan duplikat menunggu", "likely duplicates waiting"),
    ));
    let mut t = Table::new(
        "tinjauan",
        &[
            "Posyandu",
            ctx.t("Konflik menunggu", "Conflicts waiting"),
            ctx.t("Konflik terlama (hari)", "Oldest conflict (days)"),
            ctx.t("Kemungkinan duplikat", "Likely duplicates"),
            ctx.t("Duplikat terlama (hari)", "Oldest duplicate (days)"),
        ],
    );
    for (code, w) in per
        .iter()
        .filter(|(code, _)| ctx.under(code, &ctx.place.code))
    {
        let oldest = [w.oldest_conflict_ms, w.oldest_duplicate_ms]
            .into_iter()
            .flatten()
            .min();
        let cells = vec![
            Cell::link(ctx.name(code), &ctx.href("/dasbor/tinjauan", code)),
            Cell::num(format::int(w.conflicts as i64)),
            days_cell(days(w.oldest_conflict_ms)),
            Cell::num(format::int(w.duplicates as i64)),
            days_cell(days(w.oldest_duplicate_ms)),
        ];
        if oldest.is_some_and(|ms| days_waiting(ms, now) >= LATE_DAYS) {
            t.row_with(cells, "late");
        } else {
            t.row(cells);
        }
    }
    page.table(
        ctx.t(
            "Menunggu tinjauan per posyandu (≥ 14 hari ditandai)",
            "Waiting for review per posyandu (14 days or more marked)",
        ),
        t,
        ctx.t("Tidak ada yang menunggu.", "Nothing waiting."),
    );
    let mut c = Table::new(
        "konflik",
        &[
            "Posyandu",
            ctx.t("Data", "Record"),
            ctx.t("Isian", "Field"),
            ctx.t("Menunggu sejak", "Waiting since"),
            ctx.t("Hari menunggu", "Days waiting"),
        ],
    );
    c.page_limit = Some(PAGE_ROWS);
    for k in &waiting.conflicts {
        let d = days_waiting(k.since_ms, now);
        let cells = vec![
            Cell::text(ctx.name(&k.posyandu)),
            Cell::text(kind(ctx, &k.kind)),
            Cell::text(field(ctx, &k.field)),
            Cell::text(format::time_ms(i64::try_from(k.since_ms).ok())),
            Cell::num(format::int(d)),
        ];
        if d >= LATE_DAYS {
            c.row_with(cells, "late");
        } else {
            c.row(cells);
        }
    }
    page.table(
        ctx.t(
            "Konflik antar tablet (terlama dahulu)",
            "Conflicts between tablets (oldest first)",
        ),
        c,
        ctx.t("Tidak ada konflik.", "No conflicts."),
    );
    let mut pairs: Vec<_> = waiting.pairs.iter().collect();
    pairs.sort_by_key(|p| (p.found_at_ms, p.first.clone(), p.second.clone()));
    let mut d = Table::new(
        "duplikat",
        &[
            ctx.t("Nama 1", "Name 1"),
            "Posyandu 1",
            ctx.t("Nama 2", "Name 2"),
            "Posyandu 2",
            ctx.t("Alasan", "Reason"),
            ctx.t("Ditemukan", "Found"),
            ctx.t("Hari menunggu", "Days waiting"),
        ],
    );
    d.page_limit = Some(PAGE_ROWS);
    for p in pairs {
        let days = days_waiting(p.found_at_ms, now);
        let cells = vec![
            Cell::text(p.first_name.clone()),
            Cell::text(ctx.name(&p.first_posyandu)),
            Cell::text(p.second_name.clone()),
            Cell::text(ctx.name(&p.second_posyandu)),
            Cell::text(reason(ctx, p.reason)),
            Cell::text(format::time_ms(i64::try_from(p.found_at_ms).ok())),
            Cell::num(format::int(days)),
        ];
        if days >= LATE_DAYS {
            d.row_with(cells, "late");
        } else {
            d.row(cells);
        }
    }
    page.table(
        ctx.t(
            "Kemungkinan duplikat (terlama dahulu)",
            "Likely duplicates (oldest first)",
        ),
        d,
        ctx.t("Tidak ada kemungkinan duplikat.", "No likely duplicates."),
    );
    Ok(page)
}
