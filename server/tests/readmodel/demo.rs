//! `jangkau-server demo`'s generated history: every change accepted through the push path,
//! and every kabupaten report of the read model for the current month filled and
//! self-consistent.

use crate::common::{Backend, TestDb};
use chrono::Datelike;
use district_server::auth::PasswordCost;
use district_server::readmodel::{immunisation, monthly, nutrition, pregnancies, reports};
use health_rules::kms::YearMonth;

both_backends!(demo_history_fills_every_report_of_the_current_month);

async fn demo_history_fills_every_report_of_the_current_month(b: Backend) {
    let db = TestDb::new(b).await;
    let s = db.store.as_ref();
    district_server::admin::demo(s, PasswordCost::TEST, 24, true)
        .await
        .unwrap();
    let now = district_server::model::now_ms();
    let h = district_server::admin::demo_history(
        s,
        PasswordCost::TEST,
        now,
        district_server::demodata::SEED,
    )
    .await
    .unwrap();
    assert_eq!(h.changes_rejected, 0, "{h:?}");
    assert_eq!(h.tablets, district_server::demodata::TABLETS.len());
    assert!(h.changes_accepted > 3_000, "{h:?}");
    // A second run adds nothing.
    let again = district_server::admin::demo_history(
        s,
        PasswordCost::TEST,
        now,
        district_server::demodata::SEED,
    )
    .await
    .unwrap();
    assert_eq!((again.tablets, again.changes_accepted), (0, 0));

    let today = reports::today(now);
    let month = YearMonth {
        year: today.year(),
        month: today.month(),
    };
    let kab = "53.04";

    let skdn = monthly::skdn(s, kab, kab, month).await.unwrap().unwrap();
    let t = skdn.total;
    assert!(t.s > 100 && t.d > 50, "{t:?}");
    assert!(t.d <= t.k && t.k <= t.s, "{t:?}");
    assert_eq!(t.n + t.t + t.o + t.b, t.d, "{t:?}");
    assert!(t.n > 0 && t.t > 0, "some gained, some did not: {t:?}");
    assert!(t.bgm <= t.d && t.two_t <= t.t, "{t:?}");
    assert_eq!(t.absent, t.k - t.d);
    // Each posyandu's SKDN adds up too; this month's days of the tablets that synced since.
    for p in &skdn.posyandu {
        let c = &p.skdn.counts;
        assert!(
            c.d <= c.k && c.k <= c.s && c.n + c.t + c.o + c.b == c.d,
            "{p:?}"
        );
    }
    let weighing_posyandu = skdn.posyandu.iter().filter(|p| p.skdn.counts.d > 0).count();
    assert!(weighing_posyandu >= 4, "{weighing_posyandu}");

    let first = today.with_day(1).unwrap();
    let nut = nutrition::nutrition(s, kab, kab, first, today)
        .await
        .unwrap()
        .unwrap()
        .total;
    assert_eq!(u64::from(t.d), nut.measured, "the weighed are the measured");
    for ind in [
        &nut.weight_for_age,
        &nut.height_for_age,
        &nut.weight_for_height,
    ] {
        assert!(ind.assessed > 0 && ind.assessed <= nut.measured, "{nut:?}");
        assert_eq!(ind.by_category.values().sum::<u64>(), ind.assessed);
        assert!(ind.severe <= ind.problem && ind.problem <= ind.assessed);
    }
    assert!(nut.height_for_age.problem > 0, "Belu has stunting: {nut:?}");

    let born_from = today - chrono::Days::new(365 * 2);
    let cov = immunisation::coverage(s, kab, kab, born_from, today, today)
        .await
        .unwrap()
        .unwrap()
        .total;
    assert!(cov.children > 0, "{cov:?}");
    assert!(cov.given.values().all(|g| *g <= cov.children), "{cov:?}");
    assert!(cov.given.values().any(|g| *g > 0));
    assert!(cov.idl <= cov.children);

    let preg = pregnancies::pregnancies(s, kab, kab, month)
        .await
        .unwrap()
        .unwrap()
        .total;
    assert!(preg.pregnant_women > 0, "{preg:?}");
    assert!(preg.k6 <= preg.k4 && preg.k4 <= preg.k1 && preg.k1 <= preg.pregnant_women);
    assert!(preg.kek <= preg.pregnant_women && preg.anaemia <= preg.pregnant_women);

    let refs = reports::open_referrals(s, kab, now).await.unwrap();
    assert!(!refs.referrals.is_empty(), "{refs:?}");
    assert!(
        refs.referrals
            .iter()
            .all(|r| r.status == "made" || r.status == "received")
    );

    let tabs = reports::tablets(s, kab, 7, now).await.unwrap();
    let demo: Vec<_> = tabs
        .tablets
        .iter()
        .filter(|t| t.app_version == "demo")
        .collect();
    assert_eq!(demo.len(), district_server::demodata::TABLETS.len());
    assert!(demo.iter().all(|t| t.last_sync_at.is_some()));
    let stale = demo.iter().filter(|t| t.stale).count();
    assert!(stale >= 1 && stale < demo.len(), "{tabs:?}");
    db.finish().await;
}
