//! What a kader sees of the household search (`Store::search_households`, the Keluarga
//! screen) among many namesakes: the households of the closest member names first, at every
//! limit, spelling-tolerant; the head's name as written after them; the dusun/RT filter; the
//! user's posyandu; deleted households, deleted and merged-away members left out.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use field_core::{HouseholdHit, HouseholdInput, PersonInput};
use sync_protocol::RecordId;

const OTHER: &str = "53.04.05.2001.P02";

/// One household in `posyandu`, dusun `dusun`, headed by `head`, of `members` (born a year
/// apart); its id and its members' ids.
fn register(
    f: &mut Fixture,
    posyandu: &str,
    dusun: &str,
    head: &str,
    members: &[&str],
) -> (RecordId, Vec<RecordId>) {
    let people: Vec<PersonInput> = members
        .iter()
        .enumerate()
        .map(|(i, n)| person(n, "female", &format!("{}-01-01", 1960 + i)))
        .collect();
    let r = f
        .store
        .register_household(
            &HouseholdInput {
                posyandu: posyandu.into(),
                head_name: head.into(),
                dusun: Some(dusun.into()),
                rt: Some("001".into()),
                ..Default::default()
            },
            &people,
            &[],
        )
        .unwrap();
    (r.household, r.persons)
}

fn heads(hits: &[HouseholdHit]) -> Vec<String> {
    hits.iter().map(|h| h.head_name.clone()).collect()
}

fn search(f: &Fixture, q: &str, dusun: Option<&str>, limit: usize) -> Vec<HouseholdHit> {
    f.store.search_households(q, dusun, None, limit).unwrap()
}

/// 30 households of namesakes ("Maria Bria Seran", two each) registered before the one
/// household of "Maria Bria", households whose member holds the words elsewhere or only
/// begins like them, and one whose head's name (not a member's) holds "bria" inside a word.
/// Returns the "Maria Bria" household.
fn village(f: &mut Fixture) -> RecordId {
    for i in 0..30 {
        register(
            f,
            POSYANDU,
            "Dusun A",
            &format!("Kepala {i}"),
            &["Maria Bria Seran", "Maria Bria Seran"],
        );
    }
    register(f, POSYANDU, "Dusun A", "Kepala Mariana", &["Mariana Bria"]);
    register(
        f,
        POSYANDU,
        "Dusun A",
        "Kepala Yohanes",
        &["Yohanes Maria Bria"],
    );
    register(f, POSYANDU, "Dusun A", "Kepala Balik", &["Bria Maria"]);
    register(f, POSYANDU, "Dusun B", "Lukas Gabriana", &["Lukas Tefa"]);
    register(
        f,
        POSYANDU,
        "Dusun B",
        "Kepala Maria",
        &["Maria Bria", "Anton Bria"],
    )
    .0
}

#[test]
fn the_closest_members_first_at_every_limit_then_the_heads_name() {
    let mut f = fixture();
    let exact = village(&mut f);
    for limit in [1, 2, 5, 31, 100] {
        for q in ["maria bria", "Marya Bria", "MARIA  BRIA"] {
            let hits = search(&f, q, None, limit);
            assert_eq!(hits.len(), limit.min(34), "{q} {limit}");
            assert_eq!(hits[0].id, exact, "{q} {limit}");
            assert_eq!(hits[0].head_name, "Kepala Maria");
            assert_eq!(hits[0].matched_members, ["Maria Bria"], "{q}");
            assert_eq!(hits[0].members, 2);
            // Then the households of names beginning with the query (each listed once,
            // with both its matching members).
            for h in &hits[1..limit.min(31)] {
                assert!(
                    h.head_name.starts_with("Kepala "),
                    "{q}: {:?}",
                    heads(&hits)
                );
                assert_eq!(h.matched_members, ["Maria Bria Seran"], "{q}");
            }
        }
    }
    // All of them: the whole name, the 30 beginning with it, the names holding both words
    // (fewer words first), then the names whose words only begin like the query's.
    let all = search(&f, "maria bria", None, 100);
    assert_eq!(
        heads(&all[31..]),
        ["Kepala Balik", "Kepala Yohanes", "Kepala Mariana"]
    );
    // The head's name as written (a substring, any case), after the members' matches.
    let bria = search(&f, "bria", None, 100);
    assert_eq!(bria.len(), 35, "{:?}", heads(&bria));
    assert_eq!(bria.last().unwrap().head_name, "Lukas Gabriana");
    assert!(bria.last().unwrap().matched_members.is_empty());
    // A household found through two members (the whole word "bria" in both).
    let exact_hit = bria.iter().find(|h| h.id == exact).unwrap();
    assert_eq!(exact_hit.matched_members.len(), 2, "{exact_hit:?}");
    assert_eq!(heads(&search(&f, "GABRI", None, 100)), ["Lukas Gabriana"]);
    // A query that is the beginning of a word: the households of names beginning with it.
    let mari = search(&f, "Mari", None, 3);
    assert_eq!(mari[0].id, exact);
    assert_eq!(search(&f, "Mari", None, 100).len(), 34);
    assert!(search(&f, "ximenes", None, 10).is_empty());
    assert!(search(&f, "maria bria", None, 0).is_empty());
}

#[test]
fn a_whole_word_before_a_longer_word_that_begins_with_it() {
    let mut f = fixture();
    // Many "Anisa" and "Anita" registered first: the whole word still comes first.
    for i in 0..20 {
        register(
            &mut f,
            POSYANDU,
            "Dusun A",
            &format!("Kepala {i}"),
            &["Anisa", "Anita"],
        );
    }
    let (susanti, _) = register(&mut f, POSYANDU, "Dusun A", "Ani Susanti", &["Ani Susanti"]);
    let (budi, _) = register(&mut f, POSYANDU, "Dusun A", "Budi Ani", &["Budi Ani"]);
    for limit in [1, 2, 3, 22] {
        let hits = search(&f, "ani", None, limit);
        assert_eq!(hits.len(), limit, "{limit}");
        assert_eq!(hits[0].id, susanti, "{limit}: {:?}", heads(&hits));
        if limit > 1 {
            assert_eq!(hits[1].id, budi, "{limit}: {:?}", heads(&hits));
        }
    }
    let persons: Vec<String> = f
        .store
        .search_persons("ani", None, 3)
        .unwrap()
        .into_iter()
        .map(|h| h.person.name)
        .collect();
    assert_eq!(persons, ["Ani Susanti", "Budi Ani", "Anisa"]);
}

#[test]
fn a_household_ranks_by_its_closest_member() {
    let mut f = fixture();
    // The longer name comes first in key order, so the household is found through it;
    // its closer member ("Ani Susanti", two words) must still rank it before "Ani Wati".
    let (family, _) = register(
        &mut f,
        POSYANDU,
        "Dusun A",
        "Kepala Keluarga",
        &["Ani Budi Susanti", "Ani Susanti"],
    );
    let (wati, _) = register(&mut f, POSYANDU, "Dusun A", "Kepala Wati", &["Ani Wati"]);
    let hits = search(&f, "ani", None, 10);
    let ids: Vec<&RecordId> = hits.iter().map(|h| &h.id).collect();
    assert_eq!(ids, [&family, &wati], "{:?}", heads(&hits));
}

#[test]
fn the_place_filters_scope_deleted_and_merged() {
    let mut f = fixture();
    let exact = village(&mut f);
    let (there, there_people) = register(&mut f, OTHER, "Dusun A", "Kepala Lain", &["Maria Bria"]);
    // The dusun narrows, in every source (any case).
    let b = search(&f, "maria bria", Some("dusun b"), 100);
    assert_eq!(b.iter().map(|h| h.id).collect::<Vec<_>>(), [exact]);
    let a = search(&f, "maria bria", Some("Dusun A"), 2);
    assert_eq!(a[0].id, there);
    assert!(a.iter().all(|h| h.id != exact));
    // The RT too, leading zeros ignored.
    assert_eq!(
        f.store
            .search_households("maria bria", None, Some("2"), 10)
            .unwrap()
            .len(),
        0
    );
    assert_eq!(
        f.store
            .search_households("maria bria", Some("dusun b"), Some("1"), 10)
            .unwrap()
            .len(),
        1
    );
    // A member merged into another is no longer found; the household of the one kept is.
    let exact_member = f
        .store
        .household(exact)
        .unwrap()
        .members
        .iter()
        .find(|m| m.name == "Maria Bria")
        .unwrap()
        .id;
    f.store
        .merge_persons(exact_member, there_people[0], None)
        .unwrap();
    let after = search(&f, "maria bria", None, 100);
    assert_eq!(after[0].id, exact);
    assert!(after.iter().all(|h| h.id != there), "{:?}", heads(&after));
    assert_eq!(after.len(), 34);
    // A deleted household and a deleted member are left out by every source.
    let c = f.store.connection();
    c.execute(
        "UPDATE households SET deleted = 1 WHERE id = ?1",
        [exact.to_string()],
    )
    .unwrap();
    let gone = search(&f, "maria bria", None, 100);
    assert!(gone.iter().all(|h| h.id != exact));
    assert_eq!(gone.len(), 33);
    assert_eq!(
        heads(&search(&f, "kepala maria", None, 10)),
        ["Kepala Mariana"]
    );
    c.execute(
        "UPDATE persons SET deleted = 1 WHERE name = 'Bria Maria'",
        [],
    )
    .unwrap();
    assert_eq!(search(&f, "maria bria", None, 100).len(), 32);
}

#[test]
fn the_users_posyandu_only() {
    let mut f = fixture();
    village(&mut f);
    let (there, _) = register(&mut f, OTHER, "Dusun A", "Kepala Lain", &["Maria Bria"]);
    f.store
        .save_session(
            "t1",
            T0 + DAY,
            &sync_protocol::Scope {
                level: sync_protocol::PlaceLevel::Posyandu,
                place: POSYANDU.into(),
            },
        )
        .unwrap();
    let hits = search(&f, "maria bria", None, 100);
    assert_eq!(hits.len(), 34);
    assert!(hits.iter().all(|h| h.id != there));
    assert!(search(&f, "kepala lain", None, 10).is_empty());
}
