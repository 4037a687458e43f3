//! Issue #12 item 12: on a shared tablet, search, household and profile reads are limited to
//! the unlocked user's scope. A bidan of the desa brought two posyandu to the tablet; the
//! kader of one of them sees only her own.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use field_core::{HouseholdInput, KdfParams, Store, StoreError};
use sync_protocol::{PlaceLevel, Scope};

const OTHER: &str = "53.04.05.2001.P02";
const DESA: &str = "53.04.05.2001";

fn scope(level: PlaceLevel, place: &str) -> Scope {
    Scope {
        level,
        place: place.into(),
    }
}

#[test]
fn a_kader_reads_only_her_posyandu_on_a_shared_tablet() {
    let mut f = fixture_with_role("bidan");
    let ours = family(&mut f.store);
    let theirs = f
        .store
        .register_household(
            &HouseholdInput {
                posyandu: OTHER.into(),
                head_name: "Agus Mali".into(),
                dusun: Some("Halilulik B".into()),
                ..Default::default()
            },
            &[
                person("Agus Mali", "male", "1980-01-01"),
                person("Yohana Mali", "female", "2023-03-01"),
            ],
            &[],
        )
        .unwrap();
    // No scope known yet (never logged in): nothing is hidden.
    assert_eq!(f.store.read_scope().unwrap(), None);
    assert_eq!(
        f.store.search_households("", None, None, 50).unwrap().len(),
        2
    );

    // The bidan's scope is the desa: both posyandu.
    f.store
        .save_session("t1", T0 + DAY, &scope(PlaceLevel::Desa, DESA))
        .unwrap();
    let mut both = f.store.read_scope().unwrap().unwrap();
    both.sort();
    assert_eq!(both, vec![POSYANDU.to_string(), OTHER.to_string()]);
    assert_eq!(
        f.store.search_households("", None, None, 50).unwrap().len(),
        2
    );
    f.store
        .add_user(
            &user("kader.mawar"),
            "369258",
            KdfParams::INSECURE_FOR_TESTS,
        )
        .unwrap();
    drop(f.store);

    // The kader of Posyandu Mawar (P01) unlocks the same tablet with her own PIN.
    let mut kader = Store::unlock(&f.path, "kader.mawar", "369258", opts(&f.clock)).unwrap();
    kader
        .save_session("t2", T0 + DAY, &scope(PlaceLevel::Posyandu, POSYANDU))
        .unwrap();
    assert_eq!(
        kader.read_scope().unwrap(),
        Some(vec![POSYANDU.to_string()])
    );
    // Search: an empty query, a head's name, a member's name of the other posyandu.
    let hits = kader.search_households("", None, None, 50).unwrap();
    assert_eq!(
        hits.iter().map(|h| h.id).collect::<Vec<_>>(),
        vec![ours.household]
    );
    assert!(
        kader
            .search_households("Agus", None, None, 50)
            .unwrap()
            .is_empty()
    );
    assert!(
        kader
            .search_households("Yohana Mali", None, None, 50)
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        kader
            .search_households("Yohanes", None, None, 50)
            .unwrap()
            .len(),
        1
    );
    // A household and a profile outside her posyandu are not on the tablet, for her.
    assert!(matches!(
        kader.household(theirs.household),
        Err(StoreError::NoSuchRecord { .. })
    ));
    for p in &theirs.persons {
        assert!(matches!(
            kader.person(*p),
            Err(StoreError::NoSuchRecord { .. })
        ));
        assert!(matches!(
            kader.person_timeline(*p),
            Err(StoreError::NoSuchRecord { .. })
        ));
    }
    assert_eq!(kader.household(ours.household).unwrap().members.len(), 3);
    assert!(kader.person_timeline(ours.persons[2]).is_ok());
    drop(kader);

    // The bidan, unlocked again, still reads both.
    let bidan = reopen(&f.path, &f.clock);
    assert!(bidan.household(theirs.household).is_ok());
    assert!(bidan.person(theirs.persons[0]).is_ok());
}
