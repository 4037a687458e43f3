//! A bulk first sync commits its middle pages without an fsync each (`field-core/src/store/
//! bulk.rs`, `Store::apply_sync_page_deferring_fsync`): a power cut may then lose the last of
//! those commits. This test makes that loss by hand: a copy of the tablet's files taken between
//! two pages, its WAL cut short (the unsynced tail a power cut may drop), is opened and synced
//! again. It must open with its indexes, resume from the cursor of the last page it kept, and
//! end with exactly what the tablet that was not cut holds; the tablet that ran on has every
//! commit synced again (`synchronous = FULL`) once its run is over.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use field_core::Store;
use field_core::sync::SyncPhase;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

crate::both_backends!(a_power_cut_in_a_bulk_first_sync_loses_only_whole_pages_it_pulls_again,);

/// The database's files as a power cut would find them (no `-shm`: SQLite rebuilds it).
fn copy_files(db: &Path, to: &Path) {
    let ring = field_core::keyring::Keyring::path_for(db);
    let ring_to = field_core::keyring::Keyring::path_for(to);
    std::fs::copy(db, to).unwrap();
    let mut wal = db.as_os_str().to_owned();
    wal.push("-wal");
    let mut wal_to = to.as_os_str().to_owned();
    wal_to.push("-wal");
    if Path::new(&wal).exists() {
        std::fs::copy(&wal, &wal_to).unwrap();
    }
    std::fs::copy(ring, ring_to).unwrap();
}

/// Cuts a WAL file in the middle of the frame after its second-to-last commit frame: what
/// a power cut leaves when the last commit's frames were written but not synced. (WAL frames:
/// a 32-byte file header, then frames of a 24-byte header and one page; a commit frame's
/// header holds the database's size in pages after the commit, other frames 0. SQLCipher
/// encrypts the pages, not these headers.)
fn cut_last_commit(wal: &Path) {
    let bytes = std::fs::read(wal).unwrap();
    let page = u32::from_be_bytes(bytes[8..12].try_into().unwrap()) as usize;
    let frame = 24 + page;
    let salt = &bytes[16..24];
    let mut commits = Vec::new();
    let mut at = 32;
    while at + frame <= bytes.len() && &bytes[at + 8..at + 16] == salt {
        if bytes[at + 4..at + 8] != [0, 0, 0, 0] {
            commits.push(at + frame);
        }
        at += frame;
    }
    assert!(commits.len() >= 2, "{} commits in the WAL", commits.len());
    let keep = commits[commits.len() - 2] + frame / 2;
    let f = std::fs::OpenOptions::new().write(true).open(wal).unwrap();
    f.set_len(keep as u64).unwrap();
}

fn synchronous(store: &Store) -> i64 {
    store
        .connection()
        .query_row("PRAGMA synchronous", [], |r| r.get(0))
        .unwrap()
}

async fn a_power_cut_in_a_bulk_first_sync_loses_only_whole_pages_it_pulls_again(backend: Backend) {
    let server = Server::start_on(backend).await;
    let mut kader = Device::enrol(&server, "kader.mawar").await;
    for i in 0..200 {
        kader
            .store
            .register_household(
                &household(&format!("Kepala {i}")),
                &[
                    person(&format!("Ibu {i}"), "female", "1995-03-02"),
                    person(&format!("Anak {i}"), "male", "2024-01-10"),
                ],
                &[(1, 0)],
            )
            .unwrap();
    }
    let sent = kader.sync().await.sent;
    assert!(sent >= 600, "{sent}");

    // Pages of 100: the first begins the bulk, the middle ones are committed without an
    // fsync. At the fifth pull event pages 1 to 3 are committed and page 4 is not yet
    // applied: the files are copied there.
    let snapshot = tempfile::tempdir().unwrap();
    let cut_db = snapshot.path().join("jangkau.db");
    let db_path: Arc<Mutex<Option<PathBuf>>> = Arc::default();
    let pulls = Arc::new(AtomicUsize::new(0));
    let (client, sleeper) = client_with(|c| {
        c.pull_limit = 100;
        c.pull_limit_max = 100;
    });
    let (hook_path, hook_pulls, hook_to) = (db_path.clone(), pulls.clone(), cut_db.clone());
    let client = client.on_event(move |e| {
        if e.phase == SyncPhase::Pulling && hook_pulls.fetch_add(1, Ordering::SeqCst) + 1 == 5 {
            if let Some(p) = hook_path.lock().unwrap().as_ref() {
                copy_files(p, &hook_to);
            }
        }
    });
    let mut whole = Device::enrol_with(&server, "kader.mawar", opts(), (client, sleeper)).await;
    *db_path.lock().unwrap() = Some(whole.path.clone());
    let r = whole.sync().await;
    assert_eq!(r.received, sent, "{r:?}");
    assert!(r.pull_requests >= 4, "{r:?}");
    assert!(cut_db.exists(), "the copy between pages was taken");
    assert!(!whole.store.bulk_sync_active().unwrap());
    // 2 = FULL: after the run every commit is synced again.
    assert_eq!(synchronous(&whole.store), 2);

    // The power cut: the WAL loses its last commit (page 3, not synced), cut mid-frame.
    let mut wal = cut_db.as_os_str().to_owned();
    wal.push("-wal");
    cut_last_commit(Path::new(&wal));

    let mut cut = Store::unlock(&cut_db, "kader.mawar", PIN, opts()).unwrap();
    // Opened with its indexes (the bulk a cut left is finished before any read), at the
    // cursor of the last whole page it kept.
    assert!(!cut.bulk_sync_active().unwrap());
    assert_eq!(synchronous(&cut), 2);
    let kept = View::of_store(&cut);
    assert!(
        kept.records.len() < whole.view().records.len(),
        "the cut lost pages"
    );
    let (client, _) = client_with(|c| {
        c.pull_limit = 100;
        c.pull_limit_max = 100;
    });
    let again = client.sync(&mut cut, Some(PASSWORD)).await.unwrap();
    // Pages 1 and 2 were kept with their cursor: the rest, and only the rest, came again.
    assert_eq!(again.received + 200, sent, "{again:?}");
    assert!(!cut.bulk_sync_active().unwrap());
    assert_same("after the power cut", &View::of_store(&cut), &whole.view());
    assert_same("the server", &whole.view(), &server.view(MAWAR).await);
    server.stop().await;
}
