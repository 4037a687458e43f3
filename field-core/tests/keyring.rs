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
    let err = Store::unlock(&f.path, "maria", "999990", opts(&f.clock)).unwrap_err();
    assert!(matches!(err, StoreError::WrongPin), "{err}");
    let err = Store::unlock(&f.path, "nobody", "258046", opts(&f.clock)).unwrap_err();
    assert!(matches!(err, StoreError::UnknownUser(_)), "{err}");
    assert!(Store::unlock(&f.path, "maria", "258046", opts(&f.clock)).is_ok());
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
        Store::unlock(&f.path, "maria", "258046", opts(&f.clock)),
        Err(StoreError::NotFound(_))
    ));
}

#[test]
fn pin_change_rewraps_only_that_user_and_keeps_the_data() {
    let mut f = fixture();
    let reg = family(&mut f.store);
    f.store
        .add_user(&user("bidan_rosa"), "739154", KdfParams::INSECURE_FOR_TESTS)
        .unwrap();
    drop(f.store);
    let db_before = std::fs::read(&f.path).unwrap();
    let ring_path = keyring::Keyring::path_for(&f.path);
    let ring_before = keyring::Keyring::load(&ring_path).unwrap();

    // Wrong old PIN: refused, nothing changes.
    let err = keyring::change_pin(
        &f.path,
        "maria",
        "000001",
        "246813",
        KdfParams::INSECURE_FOR_TESTS,
    )
    .unwrap_err();
    assert!(matches!(err, StoreError::WrongPin));
    keyring::change_pin(
        &f.path,
        "maria",
        "258046",
        "246813",
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
        Store::unlock(&f.path, "maria", "258046", opts(&f.clock)),
        Err(StoreError::WrongPin)
    ));
    let s = Store::unlock(&f.path, "maria", "246813", opts(&f.clock)).unwrap();
    assert_eq!(s.household(reg.household).unwrap().members.len(), 3);
    drop(s);
    let s = Store::unlock(&f.path, "bidan_rosa", "739154", opts(&f.clock)).unwrap();
    assert_eq!(s.user().username, "bidan_rosa");
    assert_eq!(s.household(reg.household).unwrap().members.len(), 3);
}

#[test]
fn a_second_user_opens_the_same_data_and_authors_their_own_changes() {
    let mut f = fixture();
    let reg = family(&mut f.store);
    let rosa = user("bidan_rosa");
    f.store
        .add_user(&rosa, "739154", KdfParams::INSECURE_FOR_TESTS)
        .unwrap();
    assert!(matches!(
        f.store
            .add_user(&rosa, "739154", KdfParams::INSECURE_FOR_TESTS),
        Err(StoreError::UserExists(_))
    ));
    drop(f.store);
    let users = Store::local_users(&f.path).unwrap();
    assert_eq!(users.len(), 2);
    let mut s = Store::unlock(&f.path, "bidan_rosa", "739154", opts(&f.clock)).unwrap();
    s.add_note(
        Some(reg.persons[2]),
        None,
        "Anak rewel, ibu diberi konseling",
    )
    .unwrap();
    let last = s.pending_changes(100).unwrap().pop().unwrap();
    assert_eq!(last.author, rosa.user_id);
    assert!(matches!(
        Store::unlock(&f.path, "bidan_rosa", "258046", opts(&f.clock)),
        Err(StoreError::WrongPin)
    ));
    // Nobody removes themselves (the store they hold would be unopenable next time)...
    assert!(matches!(
        s.remove_user("bidan_rosa"),
        Err(StoreError::CannotRemoveCurrentUser(_))
    ));
    drop(s);
    // ...but another user can remove them, which takes their access away.
    let mut s = Store::unlock(&f.path, "maria", "258046", opts(&f.clock)).unwrap();
    s.remove_user("bidan_rosa").unwrap();
    // The last user can never be removed.
    assert!(matches!(
        s.remove_user("maria"),
        Err(StoreError::CannotRemoveCurrentUser(_))
    ));
    let mut ring = keyring::Keyring::load(&keyring::Keyring::path_for(&f.path)).unwrap();
    assert!(matches!(
        ring.remove_user("maria"),
        Err(StoreError::CannotRemoveLastUser(_))
    ));
    drop(s);
    assert!(Store::unlock(&f.path, "maria", "258046", opts(&f.clock)).is_ok());
    assert!(matches!(
        Store::unlock(&f.path, "bidan_rosa", "739154", opts(&f.clock)),
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
    Store::create(
        &path,
        DeviceId::new_v7(),
        &user("x"),
        "258046",
        opts(&clock),
    )
    .unwrap();
    assert!(matches!(
        Store::create(
            &path,
            DeviceId::new_v7(),
            &user("x"),
            "258046",
            opts(&clock)
        ),
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

#[test]
fn pins_must_be_six_digits_and_not_trivial() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    let clock = ManualClock::new(T0);
    for (pin, key) in [
        ("2580", "validation.pin_format"),
        ("25804a", "validation.pin_format"),
        ("111111", "validation.pin_too_simple"),
        ("123456", "validation.pin_too_simple"),
        ("654321", "validation.pin_too_simple"),
        ("8901234", "validation.pin_too_simple"),
    ] {
        let err =
            Store::create(&path, DeviceId::new_v7(), &user("x"), pin, opts(&clock)).unwrap_err();
        assert_eq!(err.as_validation().unwrap().key, key, "{pin}");
        assert!(!path.exists());
    }
    keyring::check_pin("258046").unwrap();
    // A PIN change to a trivial PIN is refused too, and nothing changes.
    let f = fixture();
    drop(f.store);
    let err = keyring::change_pin(
        &f.path,
        "maria",
        "258046",
        "000000",
        KdfParams::INSECURE_FOR_TESTS,
    )
    .unwrap_err();
    assert_eq!(
        err.as_validation().unwrap().key,
        "validation.pin_too_simple"
    );
    assert!(Store::unlock(&f.path, "maria", "258046", opts(&f.clock)).is_ok());
}

#[test]
fn wrong_pins_bring_growing_delays_and_a_right_one_clears_them() {
    let f = fixture();
    drop(f.store);
    for _ in 0..keyring::FREE_ATTEMPTS {
        assert!(matches!(
            Store::unlock(&f.path, "maria", "999990", opts(&f.clock)),
            Err(StoreError::WrongPin)
        ));
    }
    // The next wrong PIN starts the delays...
    assert!(matches!(
        Store::unlock(&f.path, "maria", "999990", opts(&f.clock)),
        Err(StoreError::WrongPin)
    ));
    // ...during which even the right PIN is not tried.
    match Store::unlock(&f.path, "maria", "258046", opts(&f.clock)) {
        Err(StoreError::PinLocked { retry_after_ms }) => assert_eq!(retry_after_ms, 30_000),
        other => panic!("{other:?}"),
    }
    f.clock.advance(30_000);
    assert!(matches!(
        Store::unlock(&f.path, "maria", "999990", opts(&f.clock)),
        Err(StoreError::WrongPin)
    ));
    match Store::unlock(&f.path, "maria", "258046", opts(&f.clock)) {
        Err(StoreError::PinLocked { retry_after_ms }) => assert_eq!(retry_after_ms, 60_000),
        other => panic!("{other:?}"),
    }
    // Another user of the tablet is not slowed down by it.
    // (Only maria exists here; the counter is per username.)
    assert!(keyring::delay_after(100) <= 3_600_000);
    f.clock.advance(60_000);
    assert!(Store::unlock(&f.path, "maria", "258046", opts(&f.clock)).is_ok());
    // Cleared: the next wrong PIN is a free one again.
    assert!(matches!(
        Store::unlock(&f.path, "maria", "999990", opts(&f.clock)),
        Err(StoreError::WrongPin)
    ));
    assert!(Store::unlock(&f.path, "maria", "258046", opts(&f.clock)).is_ok());
    // Wrong old PINs of a PIN change count too.
    for _ in 0..=keyring::FREE_ATTEMPTS {
        let _ = keyring::change_pin(
            &f.path,
            "maria",
            "999990",
            "246813",
            KdfParams::INSECURE_FOR_TESTS,
        );
    }
    let attempts = keyring::PinAttempts::load(&keyring::attempts_path(&f.path));
    assert_eq!(attempts.users["maria"].failures, keyring::FREE_ATTEMPTS + 1);
}

#[test]
fn role_and_kdf_parameters_are_bound_and_bounded() {
    let f = fixture();
    drop(f.store);
    let path = keyring::Keyring::path_for(&f.path);
    let original = std::fs::read_to_string(&path).unwrap();
    let edit = |f: &dyn Fn(&mut serde_json::Value)| {
        let mut v: serde_json::Value = serde_json::from_str(&original).unwrap();
        f(&mut v["users"][0]);
        std::fs::write(&path, serde_json::to_vec(&v).unwrap()).unwrap();
    };
    // A kader made a bidan by editing the file: the key no longer opens.
    edit(&|u| u["role"] = "bidan".into());
    assert!(matches!(
        Store::unlock(&f.path, "maria", "258046", opts(&f.clock)),
        Err(StoreError::WrongPin)
    ));
    // Cheaper parameters written in: the same.
    edit(&|u| u["kdf"]["t"] = 2.into());
    assert!(matches!(
        Store::unlock(&f.path, "maria", "258046", opts(&f.clock)),
        Err(StoreError::WrongPin)
    ));
    // A huge memory cost is refused before Argon2id runs (no 4 TiB allocation).
    edit(&|u| u["kdf"]["m_kib"] = u32::MAX.into());
    assert!(matches!(
        Store::unlock(&f.path, "maria", "258046", opts(&f.clock)),
        Err(StoreError::KeyringCorrupt(_))
    ));
    edit(&|u| u["kdf"]["p"] = 0.into());
    assert!(matches!(
        Store::unlock(&f.path, "maria", "258046", opts(&f.clock)),
        Err(StoreError::KeyringCorrupt(_))
    ));
    std::fs::write(&path, &original).unwrap();
    std::fs::remove_file(keyring::attempts_path(&f.path)).unwrap();
    assert!(Store::unlock(&f.path, "maria", "258046", opts(&f.clock)).is_ok());
}

#[test]
fn the_raw_key_is_in_no_file() {
    let mut f = fixture();
    family(&mut f.store);
    drop(f.store);
    let ring = keyring::Keyring::load(&keyring::Keyring::path_for(&f.path)).unwrap();
    let (_, key) = ring.unlock("maria", "258046").unwrap();
    let raw = key.expose_for_tests();
    let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
    let dir = f.path.parent().unwrap();
    let mut files = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        files += 1;
        assert!(!bytes.windows(32).any(|w| w == raw));
        let lower = String::from_utf8_lossy(&bytes).to_lowercase();
        assert!(!lower.contains(&hex));
    }
    assert!(files >= 2);
}

#[test]
fn a_database_without_keyring_is_moved_aside_not_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");
    let clock = ManualClock::new(T0);
    std::fs::write(&path, b"someone's data").unwrap();
    let s = Store::create(
        &path,
        DeviceId::new_v7(),
        &user("x"),
        "258046",
        opts(&clock),
    )
    .unwrap();
    drop(s);
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let aside = names
        .iter()
        .find(|n| n.starts_with("a.db.orphaned-"))
        .unwrap_or_else(|| panic!("{names:?}"));
    assert_eq!(
        std::fs::read(dir.path().join(aside)).unwrap(),
        b"someone's data"
    );
    // No temporary database or keyring file is left behind.
    assert!(
        names
            .iter()
            .all(|n| !n.contains(".creating-") && !n.contains(".tmp-")),
        "{names:?}"
    );
    assert!(Store::unlock(&path, "x", "258046", opts(&clock)).is_ok());
}

#[test]
fn a_stale_user_row_with_a_new_id_does_not_block_unlock() {
    let mut f = fixture();
    // The server re-created maria: same username, new id. The tablet's keyring got the new
    // entry (PIN re-set), the database still has the old row.
    let maria = f.store.user().clone();
    f.store
        .add_user(&user("bidan_rosa"), "739154", KdfParams::INSECURE_FOR_TESTS)
        .unwrap();
    drop(f.store);
    let mut s = Store::unlock(&f.path, "bidan_rosa", "739154", opts(&f.clock)).unwrap();
    s.remove_user("maria").unwrap();
    let mut new_maria = user("maria");
    new_maria.display_name = maria.display_name.clone();
    s.add_user(&new_maria, "258046", KdfParams::INSECURE_FOR_TESTS)
        .unwrap();
    // As a database copied from before the re-creation would hold it.
    s.connection()
        .execute(
            "UPDATE users SET id = ?1 WHERE username = 'maria'",
            [maria.user_id.to_string()],
        )
        .unwrap();
    drop(s);
    let s = Store::unlock(&f.path, "maria", "258046", opts(&f.clock)).unwrap();
    assert_eq!(s.user().user_id, new_maria.user_id);
    let n: i64 = s
        .connection()
        .query_row(
            "SELECT count(*) FROM users WHERE username = 'maria'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 1);
}

#[test]
fn sqlcipher_settings_are_pinned() {
    let f = fixture();
    let get = |c: &rusqlite::Connection, p: &str| -> String {
        c.query_row(&format!("PRAGMA {p}"), [], |r| r.get(0))
            .unwrap_or_else(|e| panic!("{p}: {e}"))
    };
    // The SQLCipher 4 format (cipher_compatibility = 4 has no getter; its settings do).
    let c = f.store.connection();
    // HMAC-SHA256 page MACs for new stores since issue 19's fifth pass (stores made with
    // HMAC-SHA512 keep theirs: page_size.rs), the MAC key's PBKDF2 to match.
    assert_eq!(get(c, "cipher_hmac_algorithm"), "HMAC_SHA256");
    assert_eq!(get(c, "cipher_kdf_algorithm"), "PBKDF2_HMAC_SHA256");
    assert_eq!(get(c, "cipher_use_hmac"), "1");
    // Pages of 8 KiB for new stores since issue 19's fifth pass (stores of 4096 or 16384 keep
    // theirs: page_size.rs).
    assert_eq!(get(c, "cipher_page_size"), "8192");
    // Memory wiping is off by default (its cost: see OpenOptions::memory_security) and works
    // in this build when asked for.
    assert_eq!(get(c, "cipher_memory_security"), "0");
    drop(f.store);
    let s = Store::unlock(
        &f.path,
        "maria",
        "258046",
        opts(&f.clock).with_memory_security(true),
    )
    .unwrap();
    assert_eq!(get(s.connection(), "cipher_memory_security"), "1");
}

/// A passphrase (any characters, at least 12) may be used instead of the 6-digit PIN; short
/// or one-character passphrases are refused with the PIN's messages.
#[test]
fn a_passphrase_unlocks_instead_of_a_pin() {
    for (secret, key) in [
        ("kader mawar", "validation.pin_format"),
        ("aaaaaaaaaaaaaa", "validation.pin_too_simple"),
        ("            x", ""),
        ("             ", "validation.pin_format"),
    ] {
        let r = keyring::check_pin(secret);
        if key.is_empty() {
            assert!(r.is_ok(), "{secret:?}");
        } else {
            assert_eq!(
                r.unwrap_err().as_validation().unwrap().key,
                key,
                "{secret:?}"
            );
        }
    }
    let too_long = "x".repeat(keyring::MAX_SECRET_LEN) + "y";
    assert!(keyring::check_pin(&too_long).is_err());

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.db");
    let clock = ManualClock::new(T0);
    let phrase = "Posyandu Mawar, Atambua 2025!";
    let mut store = Store::create(
        &path,
        DeviceId::new_v7(),
        &user("maria"),
        phrase,
        opts(&clock),
    )
    .unwrap();
    family(&mut store);
    drop(store);
    let err = Store::unlock(
        &path,
        "maria",
        "posyandu mawar, atambua 2025!",
        opts(&clock),
    )
    .unwrap_err();
    assert!(matches!(err, StoreError::WrongPin), "{err}");
    let store = Store::unlock(&path, "maria", phrase, opts(&clock)).unwrap();
    assert_eq!(store.user().username, "maria");
    drop(store);
    // From a passphrase to a PIN and back.
    keyring::change_pin(
        &path,
        "maria",
        phrase,
        "258046",
        KdfParams::INSECURE_FOR_TESTS,
    )
    .unwrap();
    keyring::change_pin(
        &path,
        "maria",
        "258046",
        "dua kata lagi",
        KdfParams::INSECURE_FOR_TESTS,
    )
    .unwrap();
    assert!(Store::unlock(&path, "maria", "dua kata lagi", opts(&clock)).is_ok());
}

/// Keyrings sealed with a lower Argon2id cost (the first releases' 19 MiB, 2 passes) keep
/// opening; the entry is sealed again with the current cost at that unlock, once.
#[test]
fn keyrings_of_the_old_cost_unlock_and_are_upgraded() {
    assert!(KdfParams::FIRST_RELEASE.weaker_than(&KdfParams::TABLET));
    assert!(!KdfParams::TABLET.weaker_than(&KdfParams::TABLET));
    const { assert!(KdfParams::TABLET.m_kib >= 64 * 1024 && KdfParams::TABLET.t >= 3) };
    KdfParams::TABLET.check().unwrap();

    // Cheap stand-ins for "old" and "current" (the real ones cost ~0.3 s each in a test).
    let old = KdfParams {
        m_kib: 64,
        t: 1,
        p: 1,
    };
    let current = KdfParams {
        m_kib: 256,
        t: 2,
        p: 1,
    };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    let clock = ManualClock::new(T0);
    let with = |kdf| opts(&clock).with_kdf(kdf);
    let mut store = Store::create(
        &path,
        DeviceId::new_v7(),
        &user("maria"),
        "258046",
        with(old),
    )
    .unwrap();
    let reg = family(&mut store);
    store.add_user(&user("rosa"), "739154", old).unwrap();
    drop(store);
    let ring_path = keyring::Keyring::path_for(&path);
    let before = keyring::Keyring::load(&ring_path).unwrap();
    assert!(before.users.iter().all(|u| u.kdf == old));

    // A wrong PIN changes nothing.
    assert!(matches!(
        Store::unlock(&path, "maria", "999990", with(current)),
        Err(StoreError::WrongPin)
    ));
    assert_eq!(
        keyring::Keyring::load(&ring_path).unwrap().users[0].kdf,
        old
    );

    let store = Store::unlock(&path, "maria", "258046", with(current)).unwrap();
    assert!(store.household(reg.household).is_ok());
    drop(store);
    let after = keyring::Keyring::load(&ring_path).unwrap();
    assert_eq!(after.users[0].kdf, current, "maria's entry upgraded");
    assert_eq!(
        after.users[1].kdf, old,
        "rosa's entry waits for her own unlock"
    );
    // The upgraded entry opens with the same PIN, and is not sealed again.
    let text = std::fs::read(&ring_path).unwrap();
    let store = Store::unlock(&path, "maria", "258046", with(current)).unwrap();
    drop(store);
    assert_eq!(std::fs::read(&ring_path).unwrap(), text);
    // Rosa's old entry still opens, and is upgraded in turn.
    drop(Store::unlock(&path, "rosa", "739154", with(current)).unwrap());
    assert!(
        keyring::Keyring::load(&ring_path)
            .unwrap()
            .users
            .iter()
            .all(|u| u.kdf == current)
    );
}

/// Maria's enrolment of a new store at `path` begun: the store under its temporary name and
/// the seal of its key running.
fn begin_maria(path: &std::path::Path, clock: &ManualClock) -> (Store, field_core::store::Sealing) {
    Store::create_sealing(
        path,
        DeviceId::new_v7(),
        &user("maria"),
        "258046",
        opts(clock),
    )
    .unwrap()
}

/// The names in `dir`.
fn names_in(dir: &std::path::Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn a_store_written_while_its_key_is_sealed_takes_its_name_only_with_its_keyring() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jangkau.db");
    let clock = ManualClock::new(T0);
    // A seal slow enough to still run while the store is written (a few Argon2id passes).
    let kdf = KdfParams {
        m_kib: 16 * 1024,
        t: 2,
        p: 1,
    };
    let (mut store, sealing) = Store::create_sealing(
        &path,
        DeviceId::new_v7(),
        &user("maria"),
        "258046",
        opts(&clock).with_kdf(kdf),
    )
    .unwrap();
    // Written under the temporary name; nothing at `path`, no keyring yet.
    let household = family(&mut store).household;
    assert_ne!(store.path(), path.as_path());
    assert!(!path.exists());
    assert!(!keyring::Keyring::path_for(&path).exists());
    assert!(store.path().exists());
    let store = sealing.finish(store).unwrap();
    assert_eq!(store.path(), path.as_path());
    assert!(store.household(household).is_ok());
    drop(store);
    let names = names_in(dir.path());
    assert!(names.iter().all(|n| !n.contains(".creating-")), "{names:?}");
    // What was written before the seal ended is in the named, keyed store.
    let store = Store::unlock(&path, "maria", "258046", opts(&clock).with_kdf(kdf)).unwrap();
    assert_eq!(store.household(household).unwrap().members.len(), 3);
}

#[test]
fn a_store_given_up_while_its_key_is_sealed_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jangkau.db");
    let clock = ManualClock::new(T0);
    let (mut store, sealing) = begin_maria(&path, &clock);
    family(&mut store);
    // An enrolment that fails (a store error, the app closed) drops both.
    drop(sealing);
    drop(store);
    let names = names_in(dir.path());
    assert!(names.is_empty(), "{names:?}");
    // A bad PIN is refused before anything is written.
    let err = Store::create_sealing(
        &path,
        DeviceId::new_v7(),
        &user("maria"),
        "123456",
        opts(&clock),
    )
    .unwrap_err();
    assert_eq!(
        err.as_validation().unwrap().key,
        "validation.pin_too_simple"
    );
    assert!(names_in(dir.path()).is_empty());
}

/// A cut enrolment (a dead battery, a killed app) leaves `<db>.creating-<pid>-<id>` files that
/// no key opens; the next enrolment of that database removes them, and only them: not an
/// enrolment still running in this process, not a running process's, not another database's.
#[test]
// Whether another process still runs is read from `/proc`; elsewhere every other process's
// files are kept, and the dead process's below would stay.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn an_enrolment_removes_what_a_cut_one_left() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jangkau.db");
    let clock = ManualClock::new(T0);
    let id = "019aaaac26007000800000000000d00a";
    let write = |name: &str| std::fs::write(dir.path().join(name), b"pages").unwrap();
    // A process that no longer runs (above any pid the system gives) and this process's
    // own id (a process before a reboot may have had it) left a database, -wal and -shm.
    let dead = u32::MAX - 7;
    let ours = std::process::id();
    let stale: Vec<String> = ["", "-wal", "-shm", "-journal"]
        .iter()
        .flat_map(|s| {
            [
                format!("jangkau.db.creating-{dead}-{id}{s}"),
                format!("jangkau.db.creating-{ours}-{id}{s}"),
            ]
        })
        .collect();
    for name in &stale {
        write(name);
    }
    // Left alone: a running process's (pid 1), another database's, other names.
    let kept = [
        format!("jangkau.db.creating-1-{id}"),
        format!("other.db.creating-{dead}-{id}"),
        format!("jangkau.db.creating-{dead}-{id}.bak"),
        format!("jangkau.db.creating-{dead}-notes"),
        "jangkau.db.orphaned-1".to_string(),
        // Not exactly the pattern: a signed or zero-led pid, an id in capitals.
        format!("jangkau.db.creating-+{dead}-{id}"),
        format!("jangkau.db.creating-0{dead}-{id}"),
        format!("jangkau.db.creating-{dead}-{}", id.to_uppercase()),
    ];
    for name in &kept {
        write(name);
    }
    let (mut store, sealing) = begin_maria(&path, &clock);
    family(&mut store);
    let running = store.path().to_path_buf();
    let names = names_in(dir.path());
    for name in &stale {
        assert!(!names.contains(name), "{name} left: {names:?}");
    }
    for name in &kept {
        assert!(names.contains(name), "{name} removed: {names:?}");
    }
    // A second enrolment of the same database in this process leaves the running one's
    // files (the first is still building under its temporary name).
    let (second, second_sealing) = begin_maria(&path, &clock);
    assert!(running.exists());
    drop(second_sealing);
    drop(second);
    assert!(running.exists());
    // The first finishes: the named database opens with what it wrote.
    let store = sealing.finish(store).unwrap();
    assert_eq!(store.path(), path.as_path());
    drop(store);
    Store::unlock(&path, "maria", "258046", opts(&clock)).unwrap();
    let names = names_in(dir.path());
    assert!(
        names
            .iter()
            .filter(|n| n.starts_with("jangkau.db.creating-"))
            .all(|n| kept.contains(n)),
        "{names:?}"
    );
}
