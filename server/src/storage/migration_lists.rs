//! The two backends' migration lists must say the same thing: the same numbers, in order,
//! each the file of that number in its backend's directory, and the two directories the same
//! names. A migration added to one backend only, or listed under the wrong number, fails here
//! rather than on the first server that runs the other backend.

use std::collections::BTreeMap;
use std::path::Path;

/// The `.sql` files of `server/migrations/<backend>`, by the number their name starts with.
fn files(backend: &str) -> BTreeMap<i64, (String, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(backend);
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).expect("migrations directory") {
        let path = entry.expect("directory entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("file name")
            .to_string();
        if !name.ends_with(".sql") {
            continue;
        }
        let number: i64 = name
            .split('_')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{backend}/{name}: no leading number"));
        let text = std::fs::read_to_string(&path).expect("migration file");
        assert!(
            out.insert(number, (name.clone(), text)).is_none(),
            "{backend}: two files numbered {number}"
        );
    }
    out
}

fn numbers(list: &[(i64, &str)]) -> Vec<i64> {
    list.iter().map(|(n, _)| *n).collect()
}

#[test]
fn both_backends_list_the_same_migrations_in_order() {
    let lite = numbers(super::sqlite::MIGRATIONS);
    let pg = numbers(super::postgres::MIGRATIONS);
    assert_eq!(lite, pg, "SQLite and PostgreSQL list different migrations");
    assert!(
        lite.windows(2).all(|w| w[0] < w[1]),
        "migration numbers not strictly increasing: {lite:?}"
    );
}

#[test]
fn each_listed_migration_is_the_file_of_its_number() {
    for (backend, list) in [
        ("sqlite", super::sqlite::MIGRATIONS),
        ("postgres", super::postgres::MIGRATIONS),
    ] {
        let on_disk = files(backend);
        assert_eq!(
            numbers(list),
            on_disk.keys().copied().collect::<Vec<_>>(),
            "{backend}: the list and the directory hold different numbers"
        );
        for (number, sql) in list {
            let (name, text) = &on_disk[number];
            assert_eq!(sql, text, "{backend}: migration {number} is not {name}");
        }
    }
}

#[test]
fn both_directories_name_their_migrations_alike() {
    let names = |b| {
        files(b)
            .into_values()
            .map(|(name, _)| name)
            .collect::<Vec<_>>()
    };
    assert_eq!(names("sqlite"), names("postgres"));
}
