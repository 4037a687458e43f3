//! The SKDN page's 12-month trend (`web::trend`): its totals, summed from the report parts,
//! equal the 12 separate SKDN reports' totals, from cold and kept parts, and after a push.

use crate::common::{Backend, MAWAR, TestServer};
use district_server::readmodel::monthly;
use district_server::readmodel::parts::PartCache;
use district_server::web::layout::last_12;
use district_server::web::trend::totals;
use health_rules::kms::YearMonth;
use health_rules::report::Counts;
use serde_json::{Value, json};
use sync_protocol::{EntityKind, RecordId};

both_backends!(
    the_trend_equals_the_twelve_skdn_reports,
    the_pages_show_the_numbers_of_the_report_routes
);

fn ok(push: (u16, Value)) {
    assert_eq!(push.0, 200, "{}", push.1);
    for o in push.1["outcomes"].as_array().unwrap() {
        assert_eq!(o["status"], "accepted", "{}", push.1);
    }
}

async fn separate(srv: &TestServer, place: &str, months: &[YearMonth]) -> Vec<Counts> {
    let mut out = Vec::new();
    for m in months {
        let r = monthly::skdn(srv.store(), "53.04", place, *m)
            .await
            .unwrap()
            .unwrap();
        out.push(r.total);
    }
    out
}

/// Two children of Mawar weighed at posyandu days through 2021 (one gains, one does not);
/// the kader's session, and the first child.
async fn weighed_2021(srv: &TestServer) -> (crate::common::Session, RecordId) {
    let mut k = srv.session("kader.mawar").await;
    // Two children weighed at posyandu days through 2021; one gains, one does not.
    let (a, c) = (RecordId::new_v7(), RecordId::new_v7());
    let mut batch = vec![
        k.change(
            EntityKind::Person,
            a,
            json!({"posyandu": MAWAR, "name": "Anak A", "sex": "male", "birth_date": "2020-06-02"}),
        ),
        k.change(
            EntityKind::Person,
            c,
            json!({"posyandu": MAWAR, "name": "Anak C", "sex": "female", "birth_date": "2020-09-15"}),
        ),
    ];
    for m in 1..=10u32 {
        let date = format!("2021-{m:02}-10");
        batch.push(k.change(
            EntityKind::PosyanduSession,
            RecordId::new_v7(),
            json!({"posyandu": MAWAR, "date": date}),
        ));
        for (who, kg) in [(a, 8.0 + f64::from(m) * 0.3), (c, 7.0)] {
            if who == c && m % 3 == 0 {
                continue;
            }
            batch.push(k.change(
                EntityKind::Measurement,
                RecordId::new_v7(),
                json!({"posyandu": MAWAR, "person": who.to_string(), "type": "weight", "value": kg, "unit": "kg", "date": date}),
            ));
        }
    }
    ok(srv.push(&k, &batch).await);
    (k, a)
}

async fn the_trend_equals_the_twelve_skdn_reports(b: Backend) {
    let srv = TestServer::demo(b).await;
    let (mut k, a) = weighed_2021(&srv).await;
    let months = last_12(YearMonth::new(2021, 12).unwrap());
    // The report parts of a server (`readmodel::parts`), empty: the first call computes.
    let cache = PartCache::default();
    for place in ["53.04", "53.04.05.2001", MAWAR] {
        let want = separate(&srv, place, &months).await;
        let cold = totals(&cache, srv.db.store.as_ref(), "53.04", place, &months)
            .await
            .unwrap();
        let warm = totals(&cache, srv.db.store.as_ref(), "53.04", place, &months)
            .await
            .unwrap();
        assert_eq!(cold, want, "{place}");
        assert_eq!(warm, want, "{place}");
    }
    let before = separate(&srv, MAWAR, &months).await;
    assert!(before.iter().any(|c| c.d > 0), "{before:?}");
    // A later weighing in November: the cached months are dropped, the trend follows.
    let batch = vec![k.change(
        EntityKind::Measurement,
        RecordId::new_v7(),
        json!({"posyandu": MAWAR, "person": a.to_string(), "type": "weight", "value": 11.5, "unit": "kg", "date": "2021-11-10"}),
    )];
    ok(srv.push(&k, &batch).await);
    let want = separate(&srv, MAWAR, &months).await;
    assert_ne!(want, before);
    let now = totals(&cache, srv.db.store.as_ref(), "53.04", MAWAR, &months)
        .await
        .unwrap();
    assert_eq!(now, want);
}

/// A browser session of `user` (made in storage, as a login would), as a cookie.
async fn web_cookie(srv: &TestServer, user: &str) -> String {
    let store = srv.db.store.as_ref();
    let u = store.user_by_username(user.into()).await.unwrap().unwrap();
    let token = format!("test-web-session-{user}");
    let now = district_server::model::now_ms();
    district_server::web::store::create_session(
        store,
        &district_server::auth::hash_secret(&token),
        u.id,
        "csrf",
        now,
        now + 3_600_000,
    )
    .await
    .unwrap();
    format!("{}={token}", district_server::web::session::COOKIE)
}

async fn page(srv: &TestServer, cookie: &str, path: &str) -> String {
    let r = reqwest::Client::new()
        .get(format!("http://{}{path}", srv.addr))
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{path}");
    r.text().await.unwrap()
}

/// The text of the element with `data-testid="{id}"` (up to its first tag).
fn testid(html: &str, id: &str) -> String {
    let at = html
        .find(&format!("data-testid=\"{id}\">"))
        .unwrap_or_else(|| panic!("{id} in {html}"));
    let rest = &html[at..];
    let start = rest.find('>').unwrap() + 1;
    rest[start..].split('<').next().unwrap().to_string()
}

/// The body rows of the table `data-testid="table-{id}"`, each cell's text.
fn rows(html: &str, id: &str) -> Vec<Vec<String>> {
    let at = html
        .find(&format!("data-testid=\"table-{id}\""))
        .unwrap_or_else(|| panic!("table {id}"));
    let table = &html[at..at + html[at..].find("</table>").unwrap()];
    let body = &table[table.find("<tbody>").unwrap()..];
    body.split("<tr")
        .skip(1)
        .map(|tr| {
            tr.split("<td")
                .skip(1)
                .map(|td| {
                    let inner = &td[td.find('>').unwrap() + 1..];
                    let inner = inner.split("</td>").next().unwrap();
                    // Strip a link.
                    let mut out = String::new();
                    let mut in_tag = false;
                    for ch in inner.chars() {
                        match ch {
                            '<' => in_tag = true,
                            '>' => in_tag = false,
                            c if !in_tag => out.push(c),
                            _ => {}
                        }
                    }
                    out
                })
                .collect()
        })
        .collect()
}

/// The dashboard's SKDN page (its totals and its 12-month trend, summed from the report
/// parts) and its Imunisasi page (coverage and overdue children from one read) show the same
/// numbers as `/v1/reports/skdn` and `/v1/reports/immunisation`, before and after a push.
async fn the_pages_show_the_numbers_of_the_report_routes(b: Backend) {
    let srv = TestServer::demo(b).await;
    let (mut k, a) = weighed_2021(&srv).await;
    let dinas = srv.session("dinas").await;
    let cookie = web_cookie(&srv, "dinas").await;
    let month = YearMonth::new(2021, 10).unwrap();
    let route_total = |m: YearMonth| {
        let srv = &srv;
        let bearer = dinas.bearer.clone();
        async move {
            let (st, r) = srv
                .get(
                    &format!("/v1/reports/skdn?place=53.04&month={m}"),
                    Some(&bearer),
                )
                .await;
            assert_eq!(st, 200, "{r}");
            r["total"].clone()
        }
    };
    for round in 0..2 {
        if round == 1 {
            // A later weighing: the page follows the push.
            let batch = vec![k.change(
                EntityKind::Measurement,
                RecordId::new_v7(),
                json!({"posyandu": MAWAR, "person": a.to_string(), "type": "weight", "value": 11.5, "unit": "kg", "date": "2021-09-10"}),
            )];
            ok(srv.push(&k, &batch).await);
        }
        let path = format!("/dasbor/skdn?place=53.04&month={month}");
        // The months not yet kept are computed in the background; the page says so.
        let mut html = page(&srv, &cookie, &path).await;
        for _ in 0..600 {
            if !html.contains("trend-pending") {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            html = page(&srv, &cookie, &path).await;
        }
        assert!(!html.contains("trend-pending"), "the trend is computed");
        let total = route_total(month).await;
        for (id, field) in [
            ("total-s", "s"),
            ("total-k", "k"),
            ("total-d", "d"),
            ("total-n", "n"),
        ] {
            assert_eq!(
                testid(&html, id),
                total[field].to_string(),
                "{id} round {round}"
            );
        }
        let trend = rows(&html, "tren");
        let months = last_12(month);
        assert_eq!(trend.len(), 12);
        let mut seen_d = 0;
        for (m, row) in months.iter().zip(&trend) {
            let t = route_total(*m).await;
            // Month, S, K, D, N, …
            for (i, field) in [(1, "s"), (2, "k"), (3, "d"), (4, "n")] {
                assert_eq!(row[i], t[field].to_string(), "{m} {field} round {round}");
            }
            seen_d += t["d"].as_u64().unwrap();
        }
        assert!(seen_d > 0, "the trend has weighings");
    }

    // Imunisasi: coverage of the cohort as the route's, the overdue children from the same
    // read as `readmodel::overdue`.
    let (st, r) = srv
        .get(
            "/v1/reports/immunisation?place=53.04&cohort=2020",
            Some(&dinas.bearer),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    let html = page(
        &srv,
        &cookie,
        "/dasbor/imunisasi?place=53.04&month=2021-10&cohort=2020",
    )
    .await;
    let cov = rows(&html, "cakupan");
    let last = cov.last().unwrap();
    assert_eq!(last[1], r["total"]["children"].to_string(), "{html}");
    assert_eq!(last[2], r["total"]["idl"].to_string(), "{html}");
    assert!(r["total"]["children"].as_u64().unwrap() >= 2, "{r}");
    let today = district_server::readmodel::reports::today(district_server::model::now_ms());
    let late = district_server::readmodel::overdue::overdue(
        srv.db.store.as_ref(),
        "53.04",
        "53.04",
        chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
        chrono::NaiveDate::from_ymd_opt(2020, 12, 31).unwrap(),
        today,
    )
    .await
    .unwrap()
    .unwrap();
    let listed = rows(&html, "terlambat");
    if late.is_empty() {
        assert_eq!(listed.len(), 1, "the empty row");
    } else {
        let names: Vec<&str> = listed.iter().map(|r| r[0].as_str()).collect();
        let want: Vec<&str> = late.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, want);
    }
    srv.finish().await;
}
