//! Issue #12 item 10: the device's files are private whatever the umask. With umask 022 the
//! database, its -wal and -shm, the keyring and the attempt counter are created 0600, and the
//! data directory 0700; files of an older install left 0644 are tightened at unlock.
#![allow(clippy::unwrap_used)]
#![cfg(unix)]

mod common;

use common::*;
use field_core::keyring::{self, Keyring};
use field_core::store::files;
use field_core::{ManualClock, Store, StoreError};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use sync_protocol::DeviceId;

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o777
}

fn with(p: &Path, suffix: &str) -> PathBuf {
    PathBuf::from(format!("{}{suffix}", p.display()))
}

#[test]
fn device_files_are_0600_and_the_directory_0700_under_umask_022() {
    // The usual desktop umask (group and others may read what is created).
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o022));
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data/tablet");
    files::create_private_dir(&dir).unwrap();
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&tmp.path().join("data")), 0o700);

    let path = dir.join("jangkau.db");
    let clock = ManualClock::new(T0);
    let mut store = Store::create(
        &path,
        DeviceId::new_v7(),
        &user("maria"),
        "258046",
        opts(&clock),
    )
    .unwrap();
    family(&mut store);
    // The store is open: its WAL and shared-memory files exist now.
    for p in [
        path.clone(),
        with(&path, "-wal"),
        with(&path, "-shm"),
        Keyring::path_for(&path),
    ] {
        assert_eq!(mode(&p), 0o600, "{}", p.display());
    }
    drop(store);
    // A wrong PIN writes the attempt counter: private too.
    let err = Store::unlock(&path, "maria", "999990", opts(&clock)).unwrap_err();
    assert!(matches!(err, StoreError::WrongPin), "{err}");
    assert_eq!(mode(&keyring::attempts_path(&path)), 0o600);

    // Files an older release left 0644 are made 0600 at the next unlock.
    for p in [
        path.clone(),
        Keyring::path_for(&path),
        keyring::attempts_path(&path),
    ] {
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let store = Store::unlock(&path, "maria", "258046", opts(&clock)).unwrap();
    for p in [path.clone(), with(&path, "-wal"), Keyring::path_for(&path)] {
        assert_eq!(mode(&p), 0o600, "{}", p.display());
    }
    drop(store);
}
