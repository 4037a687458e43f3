//! Tablet: each tablet of the area with its user, last sync, last titip relay, waiting
//! changes, app version, the stale ones highlighted (`reports::tablets`, `?stale_days=`),
//! the conflicts waiting for review per posyandu, and the SATUSEHAT submission per posyandu
//! (sent, waiting, refused) with each refusal's reason (`crate::satusehat`).

use super::html::{Cell, Table};
use super::{Ctx, Page, WebError, format, store};
use crate::http::AppState;
use crate::model::now_ms;
use crate::readmodel::reports;
use crate::readmodel::routes::DEFAULT_STALE_DAYS;

crate::page_route!(page);

pub async fn page(st: &AppState, ctx: &Ctx) -> Result<Page, WebError> {
    let days = match ctx.query.get("stale_days") {
        None => DEFAULT_STALE_DAYS,
        Some(v) => v
            .parse::<u32>()
            .ok()
            .filter(|d| (1..=3650).contains(d))
            .ok_or_else(|| WebError::BadRequest("stale_days".into()))?,
    };
    let scope = &ctx.me.user.scope.place;
    let report = reports::tablets(st.store.as_ref(), scope, days, now_ms()).await?;
    let conflicts = store::conflicts_by_posyandu(st.store.as_ref(), &ctx.place.code).await?;
    let mut page = Page::new(ctx.t("Tablet", "Tablets"), "/dasbor/tablet");
    let mut t = Table::new(
        "tablet",
        &[
            ctx.t("Tablet", "Tablet"),
            ctx.t("Pengguna", "User"),
            ctx.t("Peran", "Role"),
            ctx.t("Wilayah", "Area"),
            ctx.t("Sinkron terakhir", "Last sync"),
            ctx.t("Titip terakhir", "Last relay"),
            ctx.t("Perubahan menunggu", "Changes waiting"),
            ctx.t("Versi aplikasi", "App version"),
            ctx.t("Status", "Status"),
        ],
    );
    let mine: Vec<_> = report
        .tablets
        .iter()
        .filter(|t| ctx.under(&t.area, &ctx.place.code))
        .collect();
    for tb in &mine {
        let cells = vec![
            Cell::text(tb.name.clone()),
            Cell::text(format!("{} ({})", tb.display_name, tb.username)),
            Cell::text(tb.role.clone()),
            Cell::text(ctx.name(&tb.area)),
            Cell::text(format::time_ms(tb.last_sync_at)),
            Cell::text(format::time_ms(tb.last_relay_at)),
            Cell::num(tb.waiting_changes.map_or_else(|| "–".into(), format::int)),
            Cell::text(tb.app_version.clone()),
            Cell::text(if tb.stale {
                ctx.t("lama tidak sinkron", "stale")
            } else {
                ctx.t("aktif", "active")
            }),
        ];
        if tb.stale {
            t.row_with(cells, "stale");
        } else {
            t.row(cells);
        }
    }
    page.html(format!(
        "<form method=\"get\" class=\"month\"><input type=\"hidden\" name=\"place\" value=\"{}\"><input type=\"hidden\" name=\"month\" value=\"{}\">\
         <label>{} <input name=\"stale_days\" type=\"number\" min=\"1\" max=\"3650\" value=\"{days}\"></label> <button>{}</button></form>\
         <p data-testid=\"stale-count\">{} {}</p>",
        super::html::esc(&ctx.place.code),
        ctx.month,
        ctx.t("Dianggap lama tidak sinkron setelah (hari)", "Stale after (days)"),
        ctx.t("Tampilkan", "Show"),
        format::int(mine.iter().filter(|t| t.stale).count() as i64),
        ctx.t("tablet lama tidak sinkron", "tablets stale"),
    ));
    page.table(
        ctx.t("Tablet", "Tablets"),
        t,
        ctx.t("Belum ada tablet terdaftar.", "No tablet enrolled yet."),
    );
    let mut c = Table::new(
        "konflik",
        &[
            "Posyandu",
            ctx.t("Konflik menunggu tinjauan", "Conflicts waiting for review"),
        ],
    );
    for (code, n) in &conflicts {
        c.row(vec![
            Cell::text(ctx.name(code)),
            Cell::num(format::int(*n as i64)),
        ]);
    }
    page.table(
        ctx.t("Konflik per posyandu", "Conflicts per posyandu"),
        c,
        ctx.t("Tidak ada konflik.", "No conflicts."),
    );
    satusehat(st, ctx, &mut page).await?;
    Ok(page)
}

/// SATUSEHAT: per posyandu what was sent, what waits for a retry, what was refused; then
/// each refusal with the platform's reason (its `OperationOutcome`).
async fn satusehat(st: &AppState, ctx: &Ctx, page: &mut Page) -> Result<(), WebError> {
    use crate::satusehat::store;
    let place = &ctx.place.code;
    let counts = store::counts_under(st.store.as_ref(), place).await?;
    let mut t = Table::new(
        "satusehat",
        &[
            "Posyandu",
            ctx.t("Terkirim", "Sent"),
            ctx.t("Menunggu kirim ulang", "Waiting for a retry"),
            ctx.t("Ditolak", "Refused"),
        ],
    );
    for (code, sent, waiting, refused) in &counts {
        t.row(vec![
            Cell::text(ctx.name(code)),
            Cell::num(format::int(*sent)),
            Cell::num(format::int(*waiting)),
            Cell::num(format::int(*refused)),
        ]);
    }
    page.table(
        ctx.t("SATUSEHAT per posyandu", "SATUSEHAT per posyandu"),
        t,
        ctx.t(
            "Belum ada data yang dikirim ke SATUSEHAT.",
            "Nothing sent to SATUSEHAT yet.",
        ),
    );
    let mut r = Table::new(
        "satusehat-ditolak",
        &[
            ctx.t("Waktu", "Time"),
            "Posyandu",
            ctx.t("Nama", "Name"),
            ctx.t("Jenis data", "Resource"),
            ctx.t("ID data", "Record id"),
            ctx.t("Alasan penolakan", "Reason refused"),
        ],
    );
    for (row, name) in store::refused_under(st.store.as_ref(), place, 500).await? {
        let reason = row
            .outcome
            .as_deref()
            .and_then(|o| serde_json::from_str::<serde_json::Value>(o).ok())
            .map(|o| crate::satusehat::outcome_text(&o))
            .unwrap_or_default();
        r.row(vec![
            Cell::text(format::time_ms(Some(row.updated_at))),
            Cell::text(ctx.name(&row.posyandu)),
            Cell::text(name.unwrap_or_else(|| "–".into())),
            Cell::text(row.resource_type.clone()),
            Cell::text(row.record_id.clone()),
            Cell::text(reason),
        ]);
    }
    page.table(
        ctx.t("Ditolak SATUSEHAT", "Refused by SATUSEHAT"),
        r,
        ctx.t("Tidak ada yang ditolak.", "Nothing refused."),
    );
    Ok(())
}
