//! KF and KN visits of a month (`readmodel::visits`): known deliveries, births and visits
//! pushed by real tablets, read back as exact due, done and overdue counts per desa.

use crate::common::{Backend, MAWAR, TULAMALAE_P01, TestServer};
use chrono::NaiveDate;
use district_server::auth::PasswordCost;
use district_server::readmodel::visits::{Tally, VisitKind, visits};
use health_rules::kms::YearMonth;
use serde_json::{Value, json};
use sync_protocol::{EntityKind, RecordId, Role};

both_backends!(kf_and_kn_due_done_and_overdue_per_desa);

fn d(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

fn ok(push: (u16, Value)) {
    assert_eq!(push.0, 200, "{}", push.1);
    for o in push.1["outcomes"].as_array().unwrap() {
        assert_eq!(o["status"], "accepted", "{}", push.1);
    }
}

fn tally(due: u64, done: u64, overdue: u64) -> Tally {
    Tally { due, done, overdue }
}

async fn kf_and_kn_due_done_and_overdue_per_desa(b: Backend) {
    let srv = TestServer::demo(b).await;
    district_server::admin::add_user(
        srv.store(),
        "kader.tulamalae",
        "Contoh (fiktif)",
        Role::Kader,
        TULAMALAE_P01,
        district_server::admin::DEMO_PASSWORD,
        PasswordCost::TEST,
    )
    .await
    .unwrap();
    let mut k = srv.session("kader.mawar").await;
    let mut kt = srv.session("kader.tulamalae").await;
    // Naitimu (Mawar): Ibu Sari delivered Bayi Sari on 2021-03-01. KF1 (visit 03-02) and KF3
    // (visit 03-20) done, KF2 (03-04..03-08) missed; KF4 closes in April. The baby: KN2
    // (visit 03-05) done; KN1 (a visit 03-02, deleted) and KN3 missed.
    let (mother, baby, pregnancy) = (RecordId::new_v7(), RecordId::new_v7(), RecordId::new_v7());
    let deleted = RecordId::new_v7();
    let mut batch = vec![
        k.change(
            EntityKind::Person,
            mother,
            json!({"posyandu": MAWAR, "name": "Ibu Sari", "sex": "female", "birth_date": "1996-01-10"}),
        ),
        k.change(
            EntityKind::Person,
            baby,
            json!({"posyandu": MAWAR, "mother": mother.to_string(), "name": "Bayi Sari", "sex": "male", "birth_date": "2021-03-01"}),
        ),
        k.change(
            EntityKind::Pregnancy,
            pregnancy,
            json!({"posyandu": MAWAR, "person": mother.to_string(), "hpht": "2020-05-25", "status": "ended", "delivery_date": "2021-03-01"}),
        ),
    ];
    for (who, date) in [
        (mother, "2021-03-02"),
        (mother, "2021-03-20"),
        (baby, "2021-03-05"),
    ] {
        batch.push(k.change(
            EntityKind::Visit,
            RecordId::new_v7(),
            json!({"posyandu": MAWAR, "person": who.to_string(), "type": "home", "date": date}),
        ));
    }
    batch.push(k.change(
        EntityKind::Visit,
        deleted,
        json!({"posyandu": MAWAR, "person": baby.to_string(), "type": "home", "date": "2021-03-02"}),
    ));
    let mut gone = k.change(EntityKind::Visit, deleted, json!({}));
    gone.tombstone = true;
    batch.push(gone);
    ok(srv.push(&k, &batch).await);
    // Tulamalae: Ibu Rina delivered on 2021-02-20 (baby not registered); of her windows only
    // KF3 (02-28..03-20) closes in March, missed.
    let rina = RecordId::new_v7();
    let batch = vec![
        kt.change(
            EntityKind::Person,
            rina,
            json!({"posyandu": TULAMALAE_P01, "name": "Ibu Rina", "sex": "female", "birth_date": "1990-07-01"}),
        ),
        kt.change(
            EntityKind::Pregnancy,
            RecordId::new_v7(),
            json!({"posyandu": TULAMALAE_P01, "person": rina.to_string(), "hpht": "2020-05-15", "status": "ended", "delivery_date": "2021-02-20"}),
        ),
    ];
    ok(srv.push(&kt, &batch).await);

    let march = YearMonth::new(2021, 3).unwrap();
    let r = visits(srv.store(), "53.04.05", "53.04.05", march, d("2026-01-01"))
        .await
        .unwrap()
        .unwrap();
    let desa: Vec<_> = r
        .desa
        .iter()
        .map(|c| (c.code.as_str(), c.kf, c.kn))
        .collect();
    assert_eq!(
        desa,
        vec![
            ("53.04.05.2001", tally(3, 2, 1), tally(3, 1, 2)),
            ("53.04.05.2002", tally(1, 0, 1), tally(0, 0, 0)),
        ],
        "{r:?}"
    );
    assert_eq!((r.total.kf, r.total.kn), (tally(4, 2, 2), tally(3, 1, 2)));
    let overdue: Vec<_> = r
        .overdue
        .iter()
        .map(|o| (o.kind, o.visit.as_str(), o.name.as_str()))
        .collect();
    assert_eq!(
        overdue,
        vec![
            (VisitKind::Newborn, "KN1", "Bayi Sari"),
            (VisitKind::Postpartum, "KF2", "Ibu Sari"),
            (VisitKind::Newborn, "KN3", "Bayi Sari"),
            (VisitKind::Postpartum, "KF3", "Ibu Rina"),
        ],
        "{r:?}"
    );
    // On 2021-03-06 KN3 and KF3 are still open: due, not overdue.
    let r = visits(
        srv.store(),
        "53.04.05",
        "53.04.05.2001",
        march,
        d("2021-03-06"),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!((r.total.kf, r.total.kn), (tally(3, 2, 0), tally(3, 1, 1)));
    // April: KF4 of Ibu Sari (03-30..04-12), KF4 of Ibu Rina (03-21..04-03); no KN.
    let r = visits(
        srv.store(),
        "53.04.05",
        "53.04.05",
        YearMonth::new(2021, 4).unwrap(),
        d("2026-01-01"),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!((r.total.kf, r.total.kn), (tally(2, 0, 2), tally(0, 0, 0)));
    // Outside the caller's area: nothing.
    let r = visits(
        srv.store(),
        "53.04.05.2002",
        "53.04.05.2001",
        march,
        d("2026-01-01"),
    )
    .await
    .unwrap();
    assert!(r.is_none());
}
