//! What a kader sees of the name search (`Store::search_persons`) among many namesakes: the
//! closest names first, spelling-tolerant, within the limit, the posyandu filter, merged
//! and deleted persons left out.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use field_core::{HouseholdInput, PersonInput};
use sync_protocol::RecordId;

fn names(f: &Fixture, q: &str, posyandu: Option<&str>, limit: usize) -> Vec<String> {
    f.store
        .search_persons(q, posyandu, limit)
        .unwrap()
        .into_iter()
        .map(|h| h.person.name)
        .collect()
}

/// One household of `members` (born a year apart) in `posyandu`; their ids.
fn register(f: &mut Fixture, posyandu: &str, members: &[&str]) -> Vec<RecordId> {
    let people: Vec<PersonInput> = members
        .iter()
        .enumerate()
        .map(|(i, n)| person(n, "female", &format!("{}-01-01", 1960 + i)))
        .collect();
    f.store
        .register_household(
            &HouseholdInput {
                posyandu: posyandu.into(),
                head_name: members[0].into(),
                ..Default::default()
            },
            &people,
            &[],
        )
        .unwrap()
        .persons
}

/// 30 namesakes whose names begin with "Maria Bria", registered before the one "Maria Bria",
/// and names that hold the words elsewhere or only begin like them.
fn village(f: &mut Fixture) -> RecordId {
    let mut many = vec!["Maria Bria Seran"; 30];
    many.extend([
        "Mariana Bria",
        "Bria Maria",
        "Yohanes Maria Bria",
        "Maria Mau",
    ]);
    register(f, POSYANDU, &many);
    register(f, POSYANDU, &["Maria Bria"])[0]
}

#[test]
fn the_whole_name_first_then_names_beginning_with_it_then_its_words() {
    let mut f = fixture();
    village(&mut f);
    // Spelling variants of the query find the same names.
    for q in ["maria bria", "Marya Bria", "MARIA  BRIA"] {
        let top = names(&f, q, None, 5);
        assert_eq!(top.len(), 5, "{q}");
        assert_eq!(top[0], "Maria Bria", "{q}");
        assert!(
            top[1..].iter().all(|n| n == "Maria Bria Seran"),
            "{q}: {top:?}"
        );
    }
    // All of them: the whole name, the 30 beginning with it, the names holding both words
    // (fewer words first), then the names whose words only begin like the query's.
    let all = names(&f, "maria bria", None, 50);
    assert_eq!(all.len(), 34, "{all:?}");
    assert_eq!(all[0], "Maria Bria");
    assert!(all[1..31].iter().all(|n| n == "Maria Bria Seran"));
    assert_eq!(
        all[31..],
        ["Bria Maria", "Yohanes Maria Bria", "Mariana Bria"]
    );
    // A query that is the beginning of a word: the names beginning with it, by key.
    let mar = names(&f, "Mari", None, 3);
    assert_eq!(mar, ["Maria Bria", "Maria Bria Seran", "Maria Bria Seran"]);
    assert_eq!(names(&f, "Mari", None, 100).len(), 35);
    // A word found anywhere in the name, not only at its start.
    let seran = names(&f, "seran", None, 100);
    assert_eq!(seran.len(), 30);
    assert!(names(&f, "ximenes", None, 10).is_empty());
    assert!(names(&f, "maria bria", None, 0).is_empty());
}

#[test]
fn the_posyandu_filter_merged_and_deleted_persons() {
    let mut f = fixture();
    let exact = village(&mut f);
    let other = "53.04.05.2001.P02";
    let there = register(&mut f, other, &["Maria Bria"])[0];
    // Each posyandu sees its own "Maria Bria" first.
    let p1 = f
        .store
        .search_persons("maria bria", Some(POSYANDU), 3)
        .unwrap();
    assert_eq!(p1[0].person.id, exact);
    assert!(
        p1.iter()
            .all(|h| h.person.posyandu.as_deref() == Some(POSYANDU))
    );
    let p2 = f
        .store
        .search_persons("maria bria", Some(other), 3)
        .unwrap();
    assert_eq!(p2.len(), 1);
    assert_eq!(p2[0].person.id, there);
    // Without a filter both whole names come first.
    let both = f.store.search_persons("maria bria", None, 2).unwrap();
    let mut ids: Vec<_> = both.iter().map(|h| h.person.id).collect();
    ids.sort();
    let mut want = vec![exact, there];
    want.sort();
    assert_eq!(ids, want);
    // A person merged into another is no longer found, by any of the sources.
    f.store.merge_persons(exact, there, None).unwrap();
    let after = f.store.search_persons("maria bria", None, 50).unwrap();
    assert!(after.iter().all(|h| h.person.id != there));
    assert_eq!(after[0].person.id, exact);
    assert_eq!(after.len(), 34);
    assert!(
        f.store
            .search_persons("maria bria", Some(other), 5)
            .unwrap()
            .is_empty()
    );
}

/// A whole word of the query before a longer word that merely begins with it ("ani": "Ani
/// Susanti" and "Budi Ani" before "Anisa"), at every limit, even with many of the longer
/// names registered first.
#[test]
fn a_whole_word_before_a_longer_word_beginning_with_it() {
    let mut f = fixture();
    for _ in 0..10 {
        register(&mut f, POSYANDU, &["Anisa", "Anita"]);
    }
    register(&mut f, POSYANDU, &["Ani Susanti"]);
    register(&mut f, POSYANDU, &["Budi Ani"]);
    register(&mut f, POSYANDU, &["Ani"]);
    let want = ["Ani", "Ani Susanti", "Budi Ani", "Anisa"];
    for limit in 1..=4 {
        assert_eq!(names(&f, "ani", None, limit), want[..limit], "{limit}");
    }
    let all = names(&f, "Ani", None, 100);
    assert_eq!(all.len(), 23);
    assert_eq!(all[..3], want[..3]);
    assert!(all[3..13].iter().all(|n| n == "Anisa"), "{all:?}");
    assert!(all[13..].iter().all(|n| n == "Anita"), "{all:?}");
}
