//! Key wrapping: wrong PIN, PIN change, second user, and a file unreadable without the key.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use field_core::keyring::{self, KdfParams};
use field_core::{ManualClock, Store, StoreError};
use std::io::Read;
use sync_protocol::DeviceId;

#[test]
fn wrong_pin_is_refused_offline() {
    let f = fixture();
    drop(f.store);
    let err = Store::unlock(&f.path, "maria", "9999", opts(&f.clock)).unwrap_err();
    assert!(matches!(err, StoreError::WrongPin), "{err}");
    let err = Store::unlock(&f.path, "nobody", "1234", opts(&f.clock)).unwrap_err();
    assert!(matches!(err, StoreError::UnknownUser(_)), "{err}");
    assert!(Store::unlock(&f.path, "maria", "1234", opts(&f.clock)).is_ok());
}

#[test]
fn the_file_is_unreadable_without_the_key() {
    let mut f = fixture();
    family(&mut f.store);
    drop(f.store);
    // Not an SQLite file to anyone without the key: no plain header, no readable names.
    let mut head = [0u8; 16];
    std::fs::File::open(&f.path)
        .unwrap()
        .read_exact(&mut head)
        .unwrap();
    assert_ne!(&head, b"SQLite format 3\0");
    let bytes = std::fs::read(&f.path).unwrap();
    assert!(!bytes.windows(7).any(|w| w == b"Yohanes"));
    let wal = std::fs::read(format!("{}-wal", f.path.display())).unwrap_or_default();
    assert!(!wal.windows(7).any(|w| w == b"Yohanes"));
    // Plain SQLite (no key) cannot read it.
    let conn = rusqlite::Connection::open(&f.path).unwrap();
    assert!(
        conn.query_row("SELECT count(*) FROM persons", [], |r| r.get::<_, i64>(0))
            .is_err()
    );
    // Another random key cannot either.
    let conn = rusqlite::Connection::open(&f.path).unwrap();
    conn.execute_batch(&format!("PRAGMA key = \"x'{}'\";", "ab".repeat(32)))
        .unwrap();
    assert!(
        conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r
            .get::<_, i64>(0))
            .is_err()
    );
    // Without the keyring the store cannot be opened at all.
    std::fs::remove_file(keyring::Keyring::path_for(&f.path)).unwrap();
    assert!(matches!(
        Store::unlock(&f.path, "maria", "1234", opts(&f.clock)),
        Err(StoreError::NotFound(_))
    ));
}

#[test]
fn pin_change_rewraps_only_that_user_and_keeps_the_data() {
    let mut f = fixture();
    let reg = family(&mut f.store);
    f.store
        .add_user(&user("bidan_rosa"), "5555", KdfParams::INSECURE_FOR_TESTS)
        .unwrap();
    drop(f.store);
    let db_before = std::fs::read(&f.path).unwrap();
    let ring_path = keyring::Keyring::path_for(&f.path);
    let ring_before = keyring::Keyring::load(&ring_path).unwrap();

    // Wrong old PIN: refused, nothing changes.
    let err = keyring::change_pin(
        &f.path,
        "maria",
        "0000",
        "24680",
        KdfParams::INSECURE_FOR_TESTS,
    )
    .unwrap_err();
    assert!(matches!(err, StoreError::WrongPin));
    keyring::change_pin(
        &f.path,
        "maria",
        "1234",
        "24680",
        KdfParams::INSECURE_FOR_TESTS,
    )
    .unwrap();

    // The database file was not rewritten; the other user's entry is untouched.
    assert_eq!(std::fs::read(&f.path).unwrap(), db_before);
    let ring_after = keyring::Keyring::load(&ring_path).unwrap();
    let rosa =
        |r: &keyring::Keyring| serde_json::to_string(r.entry("bidan_rosa").unwrap()).unwrap();
    assert_eq!(rosa(&ring_before), rosa(&ring_after));

    assert!(matches!(
        Store::unlock(&f.path, "maria", "1234", opts(&f.clock)),
        Err(StoreError::WrongPin)
    ));
    let s = Store::unlock(&f.path, "maria", "24680", opts(&f.clock)).unwrap();
    assert_eq!(s.household(reg.household).unwrap().members.len(), 3);
    drop(s);
    let s = Store::unlock(&f.path, "bidan_rosa", "5555", opts(&f.clock)).unwrap();
    assert_eq!(s.user().username, "bidan_rosa");
    assert_eq!(s.household(reg.household).unwrap().members.len(), 3);
}

#[test]
fn a_second_user_opens_the_same_data_and_authors_their_own_changes() {
    let mut f = fixture();
    let reg = family(&mut f.store);
    let rosa = user("bidan_rosa");
    f.store
        .add_user(&rosa, "5555", KdfParams::INSECURE_FOR_TESTS)
        .unwrap();
    assert!(matches!(
        f.store
            .add_user(&rosa, "5555", KdfParams::INSECURE_FOR_TESTS),
        Err(StoreError::UserExists(_))
    ));
    drop(f.store);
    let users = Store::local_users(&f.path).unwrap();
    assert_eq!(users.len(), 2);
    let mut s = Store::unlock(&f.path, "bidan_rosa", "5555", opts(&f.clock)).unwrap();
    s.add_note(
        Some(reg.persons[2]),
        None,
        "Anak rewel, ibu diberi konseling",
    )
    .unwrap();
    let last = s.pending_changes(100).unwrap().pop().unwrap();
    assert_eq!(last.author, rosa.user_id);
    assert!(matches!(
        Store::unlock(&f.path, "bidan_rosa", "1234", opts(&f.clock)),
        Err(StoreError::WrongPin)
    ));
    // Removing a user takes their access away.
    s.remove_user("bidan_rosa").unwrap();
    drop(s);
    assert!(matches!(
        Store::unlock(&f.path, "bidan_rosa", "5555", opts(&f.clock)),
        Err(StoreError::UnknownUser(_))
    ));
}

#[test]
fn bad_pins_and_existing_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    let clock = ManualClock::new(T0);
    let err = Store::create(&path, DeviceId::new_v7(), &user("x"), "12", opts(&clock)).unwrap_err();
    assert_eq!(err.as_validation().unwrap().key, "validation.pin_format");
    assert!(!path.exists());
    Store::create(&path, DeviceId::new_v7(), &user("x"), "1234", opts(&clock)).unwrap();
    assert!(matches!(
        Store::create(&path, DeviceId::new_v7(), &user("x"), "1234", opts(&clock)),
        Err(StoreError::AlreadyExists(_))
    ));
}

#[test]
fn keyring_holds_no_key_in_the_clear() {
    let f = fixture();
    let text = std::fs::read_to_string(keyring::Keyring::path_for(&f.path)).unwrap();
    assert!(text.contains("\"username\": \"maria\""));
    assert!(!text.to_lowercase().contains("\"pin\""));
    assert!(text.contains("\"m_kib\""));
}
