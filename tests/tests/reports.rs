//! The same numbers on both sides: tablets record a posyandu month (weighings with one N, one
//! T and a new child, an immunisation, a pregnant woman's ANC contact), sync over HTTP, and
//! the district server's SKDN and F1 of that posyandu and month (its read model, computed by
//! `records`) equal the tablet's Laporan (field-core) field by field, on both backends.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use field_core::{
    AncContactInput, AttendanceInput, ImmunisationInput, MeasurementInput, PregnancyInput, Services,
};
use health_rules::kms::YearMonth;
use serde_json::Value;

both_backends!(the_servers_skdn_and_f1_equal_the_tablets);

fn weight(kg: f64) -> MeasurementInput {
    MeasurementInput {
        kind: "weight".into(),
        value: kg,
        unit: "kg".into(),
        position: None,
        measured_by: None,
        ..Default::default()
    }
}

fn ymd(d: chrono::NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

async fn the_servers_skdn_and_f1_equal_the_tablets(backend: Backend) {
    let server = Server::start_on(backend).await;
    let mut a = Device::enrol(&server, "kader.mawar").await;
    let mut b = Device::enrol(&server, "kader.mawar2").await;
    let today = field_core::clock::local_date(district_server::model::now_ms());
    let month = YearMonth::of(today);
    let first = chrono::NaiveDate::from_ymd_opt(
        chrono::Datelike::year(&today),
        chrono::Datelike::month(&today),
        1,
    )
    .unwrap();
    // A day of last month (the weighings N and T compare with).
    let last_month = ymd(first - chrono::Days::new(10));
    let day = ymd(today);

    // Tablet A: a mother (pregnant again) and two children weighed last month.
    let reg = a
        .store
        .register_household(
            &household("Keluarga Satu"),
            &[
                person("Ibu Satu", "female", "1996-05-05"),
                person("Anak Naik", "male", "2024-06-02"),
                person("Anak Turun", "female", "2024-09-15"),
            ],
            &[(1, 0), (2, 0)],
        )
        .unwrap();
    let (mother, up, down) = (reg.persons[0], reg.persons[1], reg.persons[2]);
    a.store
        .save_measurement(up, None, &last_month, &weight(9.0))
        .unwrap();
    a.store
        .save_measurement(down, None, &last_month, &weight(8.5))
        .unwrap();
    // This month's posyandu day on A: one gains (N), one loses (T).
    let session = a.store.open_posyandu_session(MAWAR, &day, None).unwrap();
    for (child, kg) in [(up, 9.6), (down, 8.3)] {
        a.store
            .record_attendance(&AttendanceInput {
                session,
                person: child,
                services: Services {
                    measurements: vec![weight(kg)],
                    ..Default::default()
                },
                counselling: None,
                findings: None,
                follow_up_date: None,
                referral: None,
            })
            .unwrap();
    }
    // The mother is pregnant; her first ANC contact this month.
    let hpht = ymd(today - chrono::Days::new(70));
    let pregnancy = a
        .store
        .start_pregnancy(
            mother,
            &PregnancyInput {
                hpht: Some(hpht),
                gravida: Some(2),
                para: Some(1),
            },
        )
        .unwrap();
    a.store
        .record_anc_contact(
            pregnancy,
            &AncContactInput {
                contact: 1,
                date: day.clone(),
                ..Default::default()
            },
        )
        .unwrap();

    // Tablet B, the second kader of the same day: a new child, weighed for the first time (B)
    // and immunised.
    let born = ymd(first - chrono::Days::new(40));
    let reg_b = b
        .store
        .register_household(
            &household("Keluarga Dua"),
            &[
                person("Ibu Dua", "female", "1998-02-02"),
                person("Bayi Baru", "male", &born),
            ],
            &[(1, 0)],
        )
        .unwrap();
    let session_b = b.store.open_posyandu_session(MAWAR, &day, None).unwrap();
    b.store
        .record_attendance(&AttendanceInput {
            session: session_b,
            person: reg_b.persons[1],
            services: Services {
                measurements: vec![weight(4.8)],
                immunisations: vec![ImmunisationInput {
                    vaccine: "BCG".into(),
                    batch: None,
                    catch_up: None,
                    date: None,
                    ..Default::default()
                }],
                ..Default::default()
            },
            counselling: None,
            findings: None,
            follow_up_date: None,
            referral: None,
        })
        .unwrap();

    a.sync().await;
    b.sync().await;
    a.sync().await;

    // The tablet's Laporan (A holds the whole posyandu after the syncs).
    let tablet_skdn = a.store.skdn(MAWAR, month).unwrap();
    let tablet_f1 = a.store.monthly_report(MAWAR, month).unwrap();
    let t = tablet_skdn.counts;
    assert_eq!((t.d, t.n, t.t, t.b), (3, 1, 1, 1), "{tablet_skdn:?}");
    assert_eq!(tablet_f1.activity.anc_contacts, 1);
    assert_eq!(tablet_f1.activity.pregnant_women, 1);
    assert_eq!(tablet_f1.activity.immunisations.values().sum::<u32>(), 1);

    // The server's, for the posyandu and for the desa above it.
    for place in [MAWAR, NAITIMU, DISTRICT] {
        let r = district_server::readmodel::monthly::skdn(
            server.store.as_ref(),
            DISTRICT,
            place,
            month,
        )
        .await
        .unwrap()
        .expect("the place is in the kabupaten");
        let mawar = r
            .posyandu
            .iter()
            .find(|p| p.code == MAWAR)
            .expect("Mawar is under the place");
        assert_eq!(json(&mawar.skdn), json(&tablet_skdn), "SKDN at {place}");
        assert_eq!(json(&mawar.f1), json(&tablet_f1), "F1 at {place}");
        // No other posyandu has records: the roll-up is Mawar's.
        assert_eq!(r.total, t, "roll-up at {place}");
        for row in &tablet_f1.report.rows {
            let cell = r
                .rollup
                .iter()
                .find(|c| c.band == row.band && c.sex == row.sex)
                .expect("every F1 cell rolls up");
            assert_eq!(cell.counts, row.counts, "roll-up cell at {place}");
        }
    }

    // A child's growth results and the pregnancy's ANC status: the server's (records over
    // the read tables) equal the tablet's.
    let on = district_server::readmodel::reports::today(district_server::model::now_ms());
    for (child, sex, birth) in [(up, "male", "2024-06-02"), (down, "female", "2024-09-15")] {
        let server_health = district_server::readmodel::health::person_health(
            server.store.as_ref(),
            &child.to_string(),
            Some(sex),
            chrono::NaiveDate::parse_from_str(birth, "%Y-%m-%d").ok(),
            on,
        )
        .await
        .unwrap();
        let tablet = a.store.person_timeline(child).unwrap();
        assert_eq!(tablet.growth.len(), 2, "two weighing days");
        assert_eq!(json(&server_health.growth), json(&tablet.growth), "growth");
        assert!(server_health.pregnancy.is_none());
    }
    let server_mother = district_server::readmodel::health::person_health(
        server.store.as_ref(),
        &mother.to_string(),
        Some("female"),
        chrono::NaiveDate::from_ymd_opt(1996, 5, 5),
        on,
    )
    .await
    .unwrap();
    let tablet_pregnancy = a.store.pregnancy_view(mother).unwrap();
    assert!(tablet_pregnancy.is_some());
    assert_eq!(
        json(&server_mother.pregnancy),
        json(&tablet_pregnancy),
        "ANC status"
    );

    // The district's pregnancy and immunisation reports count what the tablet shows: the
    // F1's pregnant women, her K1; the new child's card (BCG given, no IDL yet).
    let store = server.store.as_ref();
    let preg = district_server::readmodel::pregnancies::pregnancies(store, DISTRICT, MAWAR, month)
        .await
        .unwrap()
        .unwrap();
    let pm = &preg.posyandu[0];
    assert_eq!(
        pm.pregnant_women,
        u64::from(tablet_f1.activity.pregnant_women)
    );
    assert_eq!((pm.k1, pm.k4), (1, 0));
    let baby = reg_b.persons[1];
    let card = a.store.immunisation_card(baby, &ymd(on)).unwrap();
    let born_on = chrono::NaiveDate::parse_from_str(&born, "%Y-%m-%d").unwrap();
    let cov = district_server::readmodel::immunisation::coverage(
        store, DISTRICT, MAWAR, born_on, born_on, on,
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(cov.total.children, 1);
    for dose in &card.doses {
        let given = u64::from(dose.status == records::card::CardStatus::Given);
        assert_eq!(
            cov.total.given.get(&dose.dose_id),
            Some(&given),
            "{}",
            dose.dose_id
        );
    }
    assert_eq!(cov.total.given.get("BCG"), Some(&1));
    assert_eq!(cov.total.idl, u64::from(card.complete_basic()));
    server.stop().await;
}

/// Both sides compared as the JSON they answer with (every field, nothing skipped).
fn json<T: serde::Serialize>(x: &T) -> Value {
    serde_json::to_value(x).unwrap()
}
