//! A child's growth chart, opened from the Gizi follow-up list: the person as
//! `/v1/records/persons/{id}` reads them (`reports::person`, limited to the user's area),
//! their growth by `health::person_health`, drawn like the tablet's chart.

use super::chart::{self, GrowthDot};
use super::html::{Cell, Table, esc};
use super::{Ctx, Page, WebError, format};
use crate::http::AppState;
use crate::model::now_ms;
use crate::readmodel::{health, reports};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use chrono::NaiveDate;
use std::collections::HashMap;
use sync_protocol::RecordId;

pub async fn handler(
    State(st): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, WebError> {
    let ctx = super::ctx(&st, &headers, q, uri.path()).await?;
    let page = page(&st, &ctx, &id).await?;
    super::respond(&ctx, page)
}

pub async fn page(st: &AppState, ctx: &Ctx, id: &str) -> Result<Page, WebError> {
    let id: RecordId = id.parse().map_err(|_| WebError::NotFound)?;
    let now = now_ms();
    let p = reports::person(st.store.as_ref(), &ctx.me.user.scope.place, id, now)
        .await?
        .ok_or(WebError::NotFound)?;
    let field = |f: &str| p.values.get(f).and_then(serde_json::Value::as_str);
    let birth = field("birth_date").and_then(|b| NaiveDate::parse_from_str(b, "%Y-%m-%d").ok());
    let sex = match field("sex") {
        Some("male") => Some(health_rules::Sex::Male),
        Some("female") => Some(health_rules::Sex::Female),
        _ => None,
    };
    let h = health::person_health(
        st.store.as_ref(),
        &p.id,
        field("sex"),
        birth,
        reports::today(now),
    )
    .await?;
    let name = field("name").unwrap_or("?").to_string();
    let mut page = Page::new(
        format!("{} · {}", ctx.t("Grafik pertumbuhan", "Growth chart"), name),
        "/dasbor/gizi",
    );
    page.drill = false;
    page.html(format!(
        "<p data-testid=\"child-info\">{} · {} {} · {}</p>",
        esc(&name),
        ctx.t("lahir", "born"),
        esc(&birth.map_or_else(|| "–".into(), |b| b.format("%d/%m/%Y").to_string())),
        esc(&ctx.name(&p.posyandu)),
    ));
    let dots: Vec<GrowthDot> = h
        .growth
        .iter()
        .filter_map(|g| {
            Some(GrowthDot {
                age_months: g.age_months as f64,
                kg: g.weight_kg?,
                kms: g
                    .kms
                    .as_ref()
                    .map(|k| format!("{:?}", k.result))
                    .unwrap_or_default(),
                bgm: g.kms.as_ref().and_then(|k| k.bgm).unwrap_or(false),
            })
        })
        .collect();
    if let Some(sex) = sex {
        let c =
            health_rules::growth::chart::chart(health_rules::growth::Indicator::WeightForAge, sex)
                .map_err(|e| WebError::Report(e.to_string()))?;
        page.html(format!(
            "<section><h2>{}</h2>{}<p class=\"legend\">{}</p></section>",
            ctx.t("Berat badan menurut umur (BB/U), KMS", "Weight-for-age (W/A), KMS"),
            chart::growth(&c, &dots, "BB/U"),
            ctx.t(
                "Garis WHO −3, −2, median, +2, +3 SD; garis merah dan oranye KMS; titik: penimbangan.",
                "WHO lines −3, −2, median, +2, +3 SD; the KMS red and orange lines; dots: weighings."
            )
        ));
    }
    let mut t = Table::new(
        "penimbangan",
        &[
            ctx.t("Tanggal", "Date"),
            ctx.t("Umur (bln)", "Age (mo)"),
            ctx.t("Berat (kg)", "Weight (kg)"),
            ctx.t("Panjang/tinggi (cm)", "Length/height (cm)"),
            "KMS",
        ],
    );
    for g in &h.growth {
        t.row(vec![
            Cell::text(format::date(&g.date)),
            Cell::num(format::int(g.age_months)),
            Cell::num(
                g.weight_kg
                    .map_or_else(|| "–".into(), |w| format::dec(w, 1)),
            ),
            Cell::num(
                g.length_height_cm
                    .map_or_else(|| "–".into(), |w| format::dec(w, 1)),
            ),
            Cell::text(g.kms.as_ref().map_or_else(String::new, |k| {
                let mut s = format!("{:?}", k.result);
                if k.two_t {
                    s.push_str(" 2T");
                }
                if k.bgm == Some(true) {
                    s.push_str(" BGM");
                }
                s
            })),
        ]);
    }
    page.table(
        ctx.t("Penimbangan", "Weighings"),
        t,
        ctx.t("Belum ada penimbangan.", "No weighings yet."),
    );
    Ok(page)
}
