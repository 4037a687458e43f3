//! The store's cipher settings: new stores are made with 8 KiB pages and HMAC-SHA256 page MACs
//! (issue 19, fifth pass); stores made before, with SQLCipher 4's 4096 and HMAC-SHA512, or with
//! the fourth pass's 16 KiB, keep opening and read the same, and a wrong key still fails cleanly.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use field_core::store::{
    CipherSettings, LEGACY_HMAC, NEW_STORE_HMAC, NEW_STORE_PAGE_SIZE, PAGE_HMACS, PAGE_SIZES,
    PageHmac,
};
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

/// A new store at `path` made with `cipher` (as the version that used it made its stores).
fn create_with(
    path: &std::path::Path,
    clock: &field_core::ManualClock,
    cipher: CipherSettings,
) -> Store {
    Store::create(
        path,
        DeviceId::new_v7(),
        &user("maria"),
        "258046",
        opts(clock)
            .with_page_size(cipher.page_size)
            .with_page_hmac(cipher.hmac),
    )
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

/// Creates a store with the given cipher settings, adds a family, and returns what is seen of it.
fn made_with(
    path: &std::path::Path,
    clock: &field_core::ManualClock,
    cipher: CipherSettings,
) -> (field_core::Registered, (Vec<String>, usize, usize)) {
    let mut store = create_with(path, clock, cipher);
    assert_eq!(store.cipher_settings(), cipher);
    let reg = family(&mut store);
    let seen = seen(&store, &reg);
    (reg, seen)
}

#[test]
fn a_new_store_has_8_kib_pages_and_hmac_sha256() {
    let f = fixture();
    assert_eq!(NEW_STORE_PAGE_SIZE, 8_192);
    assert_eq!(NEW_STORE_HMAC, PageHmac::Sha256);
    assert_eq!(pragma(&f.store, "cipher_page_size"), "8192");
    assert_eq!(pragma(&f.store, "page_size"), "8192");
    assert_eq!(pragma(&f.store, "cipher_hmac_algorithm"), "HMAC_SHA256");
    // The key of the page MAC is derived with the matching PBKDF2 (2 iterations: the database
    // key is a raw random key).
    assert_eq!(
        pragma(&f.store, "cipher_kdf_algorithm"),
        "PBKDF2_HMAC_SHA256"
    );
    assert_eq!(
        f.store.cipher_settings(),
        CipherSettings {
            page_size: 8_192,
            hmac: PageHmac::Sha256
        }
    );
    // A checkpoint every 32 MiB of WAL, as with 4096-byte pages (8192 of them).
    assert_eq!(pragma(&f.store, "wal_autocheckpoint"), "4096");
    let second = f.store.reopen().unwrap();
    assert_eq!(pragma(&second, "page_size"), "8192");
    assert_eq!(pragma(&second, "cipher_hmac_algorithm"), "HMAC_SHA256");
    assert_eq!(pragma(&second, "wal_autocheckpoint"), "4096");
    drop(second);
    drop(f.store);
    let store = reopen(&f.path, &f.clock);
    assert_eq!(
        store.cipher_settings(),
        CipherSettings {
            page_size: NEW_STORE_PAGE_SIZE,
            hmac: NEW_STORE_HMAC
        }
    );
}

#[test]
fn a_store_with_4096_byte_pages_opens_and_reads_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jangkau.db");
    let clock = field_core::ManualClock::new(T0);
    // As every version before this one made it.
    let mut old = create_with(&path, &clock, CipherSettings::LEGACY);
    assert_eq!(pragma(&old, "page_size"), "4096");
    assert_eq!(old.cipher_settings(), CipherSettings::LEGACY);
    let reg = family(&mut old);
    let before = seen(&old, &reg);
    // Left with its last commits in the WAL (no checkpoint at close), as after a crash.
    std::mem::forget(old);
    assert!(std::fs::metadata(format!("{}-wal", path.display())).is_ok_and(|m| m.len() > 0));

    // Opened by this version (whose new stores have 8 KiB pages): the old size is found.
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
fn every_page_size_and_mac_a_store_may_have_opens() {
    for page_size in PAGE_SIZES {
        for hmac in PAGE_HMACS {
            let made = CipherSettings { page_size, hmac };
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("jangkau.db");
            let clock = field_core::ManualClock::new(T0);
            let (reg, before) = made_with(&path, &clock, made);
            // Whatever settings the options name for new stores (tried first: a store that
            // opened with other settings than its own would report those).
            for asked_size in PAGE_SIZES {
                for asked_hmac in PAGE_HMACS {
                    let store = Store::unlock(
                        &path,
                        "maria",
                        "258046",
                        opts(&clock)
                            .with_page_size(asked_size)
                            .with_page_hmac(asked_hmac),
                    )
                    .unwrap();
                    assert_eq!(store.cipher_settings(), made);
                    assert_eq!(pragma(&store, "page_size"), page_size.to_string());
                    assert_eq!(
                        pragma(&store, "cipher_hmac_algorithm"),
                        hmac.sqlcipher_name()
                    );
                    assert_eq!(seen(&store, &reg), before);
                    let second = store.reopen().unwrap();
                    assert_eq!(second.cipher_settings(), made);
                    assert_eq!(seen(&second, &reg), before);
                }
            }
        }
    }
}

/// A store made before issue 19's fourth pass (4096-byte pages, HMAC-SHA512) and one made by
/// the fourth pass (16 KiB pages, HMAC-SHA512), each left with commits in its WAL, open with
/// this version, read the same, are written to with their own settings and reopen.
#[test]
fn stores_with_hmac_sha512_open_and_keep_it() {
    for made in [
        CipherSettings::LEGACY,
        CipherSettings {
            page_size: 16_384,
            hmac: LEGACY_HMAC,
        },
    ] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("jangkau.db");
        let clock = field_core::ManualClock::new(T0);
        let mut old = create_with(&path, &clock, made);
        let reg = family(&mut old);
        let before = seen(&old, &reg);
        std::mem::forget(old);
        let mut store = reopen(&path, &clock);
        assert_eq!(store.cipher_settings(), made);
        assert_eq!(pragma(&store, "cipher_hmac_algorithm"), "HMAC_SHA512");
        assert_eq!(pragma(&store, "cipher_kdf_algorithm"), "PBKDF2_HMAC_SHA512");
        assert_eq!(seen(&store, &reg), before);
        let more = family(&mut store);
        assert_eq!(store.integrity_check().unwrap(), vec!["ok".to_string()]);
        drop(store);
        let store = reopen(&path, &clock);
        assert_eq!(store.cipher_settings(), made);
        assert_eq!(seen(&store, &more).1, before.1 * 2);
        assert_eq!(store.integrity_check().unwrap(), vec!["ok".to_string()]);
    }
}

/// A wrong key (another store's, sealed under the same PIN) fails with every page size and
/// MAC tried, as `NotADatabase`, and leaves the file as it was.
#[test]
fn a_wrong_key_fails_cleanly_whatever_the_settings() {
    for made in [
        CipherSettings::LEGACY,
        CipherSettings {
            page_size: NEW_STORE_PAGE_SIZE,
            hmac: NEW_STORE_HMAC,
        },
    ] {
        let dir = tempfile::tempdir().unwrap();
        let clock = field_core::ManualClock::new(T0);
        let path = dir.path().join("jangkau.db");
        let other = dir.path().join("other.db");
        made_with(&path, &clock, made);
        made_with(&other, &clock, made);
        let ring = field_core::keyring::Keyring::path_for;
        std::fs::copy(ring(&other), ring(&path)).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let err = Store::unlock(&path, "maria", "258046", opts(&clock)).unwrap_err();
        assert!(matches!(err, StoreError::NotADatabase(_)), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), bytes);
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
