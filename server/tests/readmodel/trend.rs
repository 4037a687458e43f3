//! The SKDN page's 12-month trend (`web::trend`): its totals equal the 12 separate SKDN
//! reports' totals, from a cold and a warm cache, and a push invalidates the cache.

use crate::common::{Backend, MAWAR, TestServer};
use district_server::readmodel::monthly;
use district_server::web::layout::last_12;
use district_server::web::trend::totals;
use health_rules::kms::YearMonth;
use health_rules::report::Counts;
use serde_json::{Value, json};
use sync_protocol::{EntityKind, RecordId};

both_backends!(the_trend_equals_the_twelve_skdn_reports);

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

async fn the_trend_equals_the_twelve_skdn_reports(b: Backend) {
    let srv = TestServer::demo(b).await;
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
    let months = last_12(YearMonth::new(2021, 12).unwrap());
    for place in ["53.04", "53.04.05.2001", MAWAR] {
        let want = separate(&srv, place, &months).await;
        let cold = totals(&srv.db.store, "53.04", place, &months)
            .await
            .unwrap();
        let warm = totals(&srv.db.store, "53.04", place, &months)
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
    let now = totals(&srv.db.store, "53.04", MAWAR, &months)
        .await
        .unwrap();
    assert_eq!(now, want);
}
