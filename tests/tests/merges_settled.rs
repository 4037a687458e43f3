//! Contradicting merges settled alike on tablets and server (issue #17): two bidan tablets,
//! offline, merge the same child into two different children (or A into B and B into A);
//! whichever pushes first, the district server's read model keeps the same merges in effect
//! as the tablets (`records::merges::effective`: the earlier by stamp), and its SKDN of the
//! posyandu and month — computed directly, from kept per-posyandu parts, and after a
//! rebuild — equals the tablet's, on both backends. Quarantining the merge in effect lets
//! the other take effect on the server; releasing it settles back.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use district_server::readmodel::parts::{self, PartCache};
use district_server::readmodel::{Param, monthly};
use field_core::{AttendanceInput, MeasurementInput, Services};
use health_rules::kms::YearMonth;
use serde_json::Value;
use std::collections::BTreeSet;
use sync_protocol::Role;

both_backends!(
    one_child_merged_into_two_earlier_pushed_first,
    one_child_merged_into_two_later_pushed_first,
    a_cycle_of_merges_earlier_pushed_first,
    a_cycle_of_merges_later_pushed_first,
);

async fn one_child_merged_into_two_earlier_pushed_first(b: Backend) {
    settled(b, false, true).await;
}

async fn one_child_merged_into_two_later_pushed_first(b: Backend) {
    settled(b, false, false).await;
}

async fn a_cycle_of_merges_earlier_pushed_first(b: Backend) {
    settled(b, true, true).await;
}

async fn a_cycle_of_merges_later_pushed_first(b: Backend) {
    settled(b, true, false).await;
}

fn weight(kg: f64) -> MeasurementInput {
    MeasurementInput {
        kind: "weight".into(),
        value: kg,
        unit: "kg".into(),
        ..Default::default()
    }
}

/// The live merges (`person_merge`, `deleted = 0`) of a tablet.
fn tablet_merges(d: &Device) -> BTreeSet<String> {
    let conn = d.store.connection();
    let mut q = conn
        .prepare("SELECT id FROM facts WHERE kind = 'person_merge' AND deleted = 0")
        .unwrap();
    q.query_map((), |r| r.get::<_, String>(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// The live merges of the server's read model.
async fn server_merges(s: &Server) -> BTreeSet<String> {
    s.store
        .read_rows(
            "SELECT id FROM facts WHERE kind = 'person_merge' AND deleted = 0".into(),
            Vec::<Param>::new(),
        )
        .await
        .unwrap()
        .iter()
        .filter_map(|r| r[0].text().map(str::to_string))
        .collect()
}

/// The server's SKDN of Mawar (directly and from `cache`'s parts) equals the tablet's.
async fn same_skdn(s: &Server, cache: &PartCache, d: &Device, month: YearMonth, when: &str) {
    let tablet = json(&d.store.skdn(MAWAR, month).unwrap());
    let store = s.store.as_ref();
    let direct = monthly::skdn(store, DISTRICT, MAWAR, month)
        .await
        .unwrap()
        .unwrap();
    let kept = parts::skdn(cache, store, DISTRICT, MAWAR, month)
        .await
        .unwrap()
        .unwrap();
    for (how, r) in [("direct", direct), ("parts", kept)] {
        let mawar = r.posyandu.iter().find(|p| p.code == MAWAR).unwrap();
        assert_eq!(json(&mawar.skdn), tablet, "SKDN {how} {when}");
    }
}

/// `cycle`: A merges X into Y and B merges Y into X; else A merges X into Y and B merges X
/// into Z. A merges first (the earlier stamp); `earlier_first`: A pushes first.
async fn settled(backend: Backend, cycle: bool, earlier_first: bool) {
    let server = Server::start_on(backend).await;
    server
        .add_user("bidan.naitimu2", Role::Bidan, NAITIMU)
        .await;
    let mut kader = Device::enrol(&server, "kader.mawar").await;
    let today = field_core::clock::local_date(district_server::model::now_ms());
    let month = YearMonth::of(today);
    let day = today.format("%Y-%m-%d").to_string();

    // Three children of Mawar, one weighed this month (D = 1 whoever survives).
    let reg = kader
        .store
        .register_household(
            &household("Keluarga Tiga"),
            &[
                person("Ibu Tiga", "female", "1995-03-03"),
                person("Anak X", "male", "2024-05-05"),
                person("Anak Y", "male", "2024-05-05"),
                person("Anak Z", "male", "2024-05-05"),
            ],
            &[(1, 0), (2, 0), (3, 0)],
        )
        .unwrap();
    let (x, y, z) = (reg.persons[1], reg.persons[2], reg.persons[3]);
    let session = kader
        .store
        .open_posyandu_session(MAWAR, &day, None)
        .unwrap();
    kader
        .store
        .record_attendance(&AttendanceInput {
            session,
            person: x,
            services: Services {
                measurements: vec![weight(10.2)],
                ..Default::default()
            },
            counselling: None,
            findings: None,
            follow_up_date: None,
            referral: None,
        })
        .unwrap();
    kader.sync().await;

    let mut a = Device::enrol(&server, "bidan.naitimu").await;
    let mut b = Device::enrol(&server, "bidan.naitimu2").await;
    a.sync().await;
    b.sync().await;
    let cache = PartCache::default();
    same_skdn(&server, &cache, &a, month, "before the merges").await;

    // Offline, each bidan decides.
    let first = a.store.merge_persons(y, x, None).unwrap();
    std::thread::sleep(LATER);
    let second = if cycle {
        b.store.merge_persons(x, y, None).unwrap()
    } else {
        b.store.merge_persons(z, x, None).unwrap()
    };

    let (p, q) = if earlier_first {
        (&mut a, &mut b)
    } else {
        (&mut b, &mut a)
    };
    p.sync().await;
    assert_eq!(server_merges(&server).await.len(), 1);
    same_skdn(&server, &cache, p, month, "after the first push").await;
    q.sync().await;
    p.sync().await;

    // One rule everywhere: the earlier merge holds, the later is kept but ignored.
    let want: BTreeSet<String> = [first.to_string()].into();
    assert_eq!(tablet_merges(&a), want, "tablet A");
    assert_eq!(tablet_merges(&b), want, "tablet B");
    assert_eq!(server_merges(&server).await, want, "server");
    let stored: Vec<_> = server
        .store
        .read_rows(
            "SELECT id FROM facts WHERE id = ?1".into(),
            vec![Param::Text(second.to_string())],
        )
        .await
        .unwrap();
    assert_eq!(stored.len(), 1, "the ignored merge is kept");

    let skdn = a.store.skdn(MAWAR, month).unwrap();
    assert_eq!(skdn.counts.d, 1, "{skdn:?}");
    same_skdn(&server, &cache, &a, month, "after both pushes").await;
    same_skdn(&server, &cache, &b, month, "after both pushes (B)").await;

    // A rebuild from the log settles the same.
    district_server::readmodel::reindex(server.store.as_ref(), true, 3, |_| {})
        .await
        .unwrap();
    assert_eq!(server_merges(&server).await, want, "server after a rebuild");
    same_skdn(&server, &cache, &a, month, "after a rebuild").await;

    // Quarantining the merge in effect lets the other take effect; releasing it restores it.
    let store = server.store.as_ref();
    district_server::quarantine::set(store, &first.to_string(), true, "salah gabung")
        .await
        .unwrap();
    let other: BTreeSet<String> = [second.to_string()].into();
    assert_eq!(server_merges(&server).await, other, "the first quarantined");
    district_server::quarantine::set(store, &first.to_string(), false, "benar")
        .await
        .unwrap();
    assert_eq!(server_merges(&server).await, want, "the first released");
    same_skdn(&server, &cache, &a, month, "after the release").await;
    server.stop().await;
}

fn json<T: serde::Serialize>(x: &T) -> Value {
    serde_json::to_value(x).unwrap()
}
