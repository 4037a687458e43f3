//! What the Tauri app needs from the store: a second handle for the background sync task
//! (`Store::reopen`), and the household list of the Keluarga screen (`search_households`).
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use field_core::HouseholdInput;

#[test]
fn a_second_handle_sees_and_makes_the_same_data_without_the_pin() {
    let mut f = fixture();
    let mut second = f.store.reopen().unwrap();
    assert_eq!(second.user(), f.store.user());
    assert_eq!(second.device_id(), f.store.device_id());
    // A write through one handle is read through the other (WAL), in both directions.
    let reg = family(&mut f.store);
    assert_eq!(second.household(reg.household).unwrap().members.len(), 3);
    let more = second
        .add_member(
            reg.household,
            &person("Agustina Bria", "female", "2025-01-05"),
        )
        .unwrap();
    assert_eq!(
        f.store.person(more.persons[0]).unwrap().name,
        "Agustina Bria"
    );
    // One outbox, one sequence: the two handles' changes are numbered without gaps or reuse.
    let seqs: Vec<u64> = f
        .store
        .pending_changes(100)
        .unwrap()
        .iter()
        .map(|c| c.seq)
        .collect();
    assert_eq!(seqs, (1..=seqs.len() as u64).collect::<Vec<_>>());
    // Dropping the first handle leaves the second working; the keyring was not touched.
    drop(f.store);
    assert!(second.integrity_check().unwrap() == vec!["ok".to_string()]);
    let again = second.reopen().unwrap();
    assert_eq!(again.sync_counts().unwrap().pending, seqs.len() as u64);
}

fn household(head: &str, dusun: &str, rt: &str) -> HouseholdInput {
    HouseholdInput {
        posyandu: POSYANDU.into(),
        head_name: head.into(),
        dusun: Some(dusun.into()),
        rt: Some(rt.into()),
        ..Default::default()
    }
}

#[test]
fn households_are_found_by_head_member_dusun_and_rt() {
    let mut f = fixture();
    let s = &mut f.store;
    let bria = s
        .register_household(
            &household("Yohanes Bria", "Halilulik A", "001"),
            &[
                person("Yohanes Bria", "male", "1990-02-03"),
                person("Maria Goreti Hale", "female", "1994-07-21"),
                person("Fransiskus Bria", "male", "2024-05-10"),
            ],
            &[(2, 1)],
        )
        .unwrap();
    let mau = s
        .register_household(
            &household("Petrus Mau", "Halilulik B", "2"),
            &[
                person("Petrus Mau", "male", "1980-01-01"),
                person("Theresia Mau", "female", "1985-01-01"),
            ],
            &[],
        )
        .unwrap();
    let ids = |hits: &[field_core::HouseholdHit]| hits.iter().map(|h| h.id).collect::<Vec<_>>();

    // By a member's name, spelling-tolerant, and the member is named.
    let hits = s.search_households("goretti", None, None, 50).unwrap();
    assert_eq!(ids(&hits), vec![bria.household]);
    assert_eq!(
        hits[0].matched_members,
        vec!["Maria Goreti Hale".to_string()]
    );
    assert_eq!(
        (hits[0].members, hits[0].head_name.as_str()),
        (3, "Yohanes Bria")
    );
    assert_eq!(hits[0].dusun.as_deref(), Some("Halilulik A"));
    // A household found through several members is listed once.
    let hits = s.search_households("bria", None, None, 50).unwrap();
    assert_eq!(ids(&hits), vec![bria.household]);
    assert_eq!(hits[0].matched_members.len(), 2);
    // By the head's name as written (a substring, any case).
    assert_eq!(
        ids(&s.search_households("TRUS MA", None, None, 50).unwrap()),
        vec![mau.household]
    );
    // Dusun (any case) and RT (leading zeros ignored) narrow; an empty query lists.
    assert_eq!(
        ids(&s
            .search_households("", Some("halilulik b"), None, 50)
            .unwrap()),
        vec![mau.household]
    );
    assert_eq!(
        ids(&s.search_households(" ", None, Some("1"), 50).unwrap()),
        vec![bria.household]
    );
    assert_eq!(
        ids(&s.search_households("", None, Some("002"), 50).unwrap()),
        vec![mau.household]
    );
    assert!(
        s.search_households("mau", Some("Halilulik A"), None, 50)
            .unwrap()
            .is_empty()
    );
    assert_eq!(s.search_households("", None, None, 50).unwrap().len(), 2);
    assert_eq!(s.search_households("", None, None, 1).unwrap().len(), 1);
    // Merged-away persons are not counted nor found; deleted households are not listed.
    s.merge_persons(mau.persons[1], mau.persons[0], None)
        .unwrap();
    let hits = s.search_households("petrus", None, None, 50).unwrap();
    assert_eq!(ids(&hits), vec![mau.household]);
    assert!(hits[0].matched_members.is_empty(), "{hits:?}");
    assert_eq!(hits[0].members, 1);
}
