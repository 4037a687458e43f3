//! The store's page size (issue 19, fourth pass): new stores are made with 16 KiB pages;
//! stores made before, with SQLCipher's 4096, keep opening and read the same.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use field_core::store::{LEGACY_PAGE_SIZE, NEW_STORE_PAGE_SIZE};
use field_core::{Store, StoreError};
use sync_protocol::DeviceId;

fn pragma(store: &Store, name: &str) -> String {
    store
        .connection()
        .query_row(&format!("PRAGMA {name}"), [], |r| {
            r.get::<_, rusqlite::types::Value>(0)
        })
        .map(|v| match v {
            rusqlite::types::Value::Integer(i) => i.to_string(),
            rusqlite::types::Value::Text(t) => t,
            other => format!("{other:?}"),
        })
        .unwrap()
}

/// What a user sees of the family: the household's members and a name search.
fn seen(store: &Store, reg: &field_core::Registered) -> (Vec<String>, usize, usize) {
    let view = store.household(reg.household).unwrap();
    let mut names: Vec<String> = view.members.iter().map(|m| m.name.clone()).collect();
    names.sort();
    let found = store.search_persons("Bria", None, 20).unwrap().len();
    let timeline = store.person_timeline(reg.persons[2]).unwrap();
    (names, found, timeline.entries.len())
}

#[test]
fn a_new_store_has_16_kib_pages() {
    let f = fixture();
    assert_eq!(NEW_STORE_PAGE_SIZE, 16_384);
    assert_eq!(pragma(&f.store, "cipher_page_size"), "16384");
    assert_eq!(pragma(&f.store, "page_size"), "16384");
    // The rest of the SQLCipher 4 format is unchanged.
    assert_eq!(pragma(&f.store, "cipher_hmac_algorithm"), "HMAC_SHA512");
    assert_eq!(
        pragma(&f.store, "cipher_kdf_algorithm"),
        "PBKDF2_HMAC_SHA512"
    );
    // A checkpoint every 32 MiB of WAL, as with 4096-byte pages (8000 of them).
    assert_eq!(pragma(&f.store, "wal_autocheckpoint"), "2048");
    let second = f.store.reopen().unwrap();
    assert_eq!(pragma(&second, "page_size"), "16384");
    assert_eq!(pragma(&second, "wal_autocheckpoint"), "2048");
}

#[test]
fn a_store_with_4096_byte_pages_opens_and_reads_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jangkau.db");
    let clock = field_core::ManualClock::new(T0);
    // As every version before this one made it.
    let mut old = Store::create(
        &path,
        DeviceId::new_v7(),
        &user("maria"),
        "258046",
        opts(&clock).with_page_size(LEGACY_PAGE_SIZE),
    )
    .unwrap();
    assert_eq!(pragma(&old, "page_size"), "4096");
    let reg = family(&mut old);
    let before = seen(&old, &reg);
    // Left with its last commits in the WAL (no checkpoint at close), as after a crash.
    std::mem::forget(old);
    assert!(std::fs::metadata(format!("{}-wal", path.display())).is_ok_and(|m| m.len() > 0));

    // Opened by this version (whose new stores have 16 KiB pages): the old size is found.
    let mut store = reopen(&path, &clock);
    assert_eq!(pragma(&store, "cipher_page_size"), "4096");
    assert_eq!(pragma(&store, "page_size"), "4096");
    assert_eq!(pragma(&store, "wal_autocheckpoint"), "8192");
    assert_eq!(seen(&store, &reg), before);
    assert_eq!(store.integrity_check().unwrap(), vec!["ok".to_string()]);
    // It is written to as before, and a second handle has the same page size.
    let more = family(&mut store);
    let second = store.reopen().unwrap();
    assert_eq!(pragma(&second, "page_size"), "4096");
    assert_eq!(seen(&second, &more).1, before.1 * 2);
    drop(second);
    drop(store);
    let store = reopen(&path, &clock);
    assert_eq!(pragma(&store, "page_size"), "4096");
    assert_eq!(seen(&store, &reg).0, before.0);
}

#[test]
fn every_page_size_a_store_may_have_opens() {
    for size in field_core::store::PAGE_SIZES {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jangkau.db");
        let clock = field_core::ManualClock::new(T0);
        let mut store = Store::create(
            &path,
            DeviceId::new_v7(),
            &user("maria"),
            "258046",
            opts(&clock).with_page_size(size),
        )
        .unwrap();
        let reg = family(&mut store);
        let before = seen(&store, &reg);
        drop(store);
        // Whatever size the options name for new stores.
        for asked in [4_096, 8_192, 16_384] {
            let store = Store::unlock(&path, "maria", "258046", opts(&clock).with_page_size(asked))
                .unwrap();
            assert_eq!(pragma(&store, "page_size"), size.to_string());
            assert_eq!(seen(&store, &reg), before);
        }
    }
}

#[test]
fn a_page_size_sqlcipher_cannot_use_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jangkau.db");
    let clock = field_core::ManualClock::new(T0);
    for bad in [0, 1000, 256, 131_072] {
        let err = Store::create(
            &path,
            DeviceId::new_v7(),
            &user("maria"),
            "258046",
            opts(&clock).with_page_size(bad),
        )
        .unwrap_err();
        assert!(
            matches!(err, StoreError::InvalidPageSize(_)),
            "{bad}: {err}"
        );
        assert!(!path.exists());
    }
}
