//! Concurrent pushes. On SQLite they are group-committed: pushes that arrive while the
//! writer is busy are settled in one transaction, a savepoint each, and answered after its
//! commit. On PostgreSQL each push is its own transaction, run concurrently. Either way: each
//! push is answered once, with its own outcomes; a duplicate in flight is a duplicate; a push
//! that fails is undone alone and the others are committed.

use crate::common::{Backend, MAWAR, TestDb};
use crate::storage;
use district_server::auth::PasswordCost;
use district_server::storage::{Storage, StorageError};
use district_server::sync::PushContext;
use std::collections::HashMap;
use std::sync::Arc;
use sync_protocol::{Change, DeviceId, EntityKind, OutcomeStatus, Role, UserId};

both_backends!(
    concurrent_pushes_are_all_committed_and_answered_once,
    a_failing_push_does_not_take_its_group_down,
);

/// A kader's push context for Mawar.
fn ctx(device: DeviceId, user: UserId) -> Arc<PushContext> {
    storage::ctx(device, user, Role::Kader, &[MAWAR])
}

/// Measurements for Mawar with these sequence numbers.
fn batch(device: DeviceId, user: UserId, seqs: std::ops::RangeInclusive<u64>) -> Vec<Change> {
    seqs.map(|seq| storage::change(device, user, seq, EntityKind::Measurement, MAWAR))
        .collect()
}

/// The demo's Mawar kader on a newly enrolled tablet.
async fn enrolled(s: &dyn Storage) -> (DeviceId, UserId) {
    storage::enrolled(s, "kader.mawar").await
}

/// Every change of the log of MAWAR: `(device, seq)` → times logged.
async fn logged(s: &dyn Storage) -> HashMap<(DeviceId, u64), usize> {
    let mut out = HashMap::new();
    let mut after = 0;
    loop {
        let page = s.pull(MAWAR.into(), after, 1000).await.unwrap();
        for (_, json) in &page.changes {
            let c: Change = serde_json::from_str(json).unwrap();
            *out.entry((c.device, c.seq)).or_default() += 1;
        }
        after = page.scanned_to;
        if !page.has_more {
            return out;
        }
    }
}

/// Eight tablets push at once, five rounds of 40 changes each, and every batch is sent
/// twice at the same time (a retry in flight): each push is answered with one outcome per
/// change, each change is accepted exactly once over the two answers (the other answer says
/// duplicate), the log holds each once, and every tablet's acknowledged sequence is its last.
async fn concurrent_pushes_are_all_committed_and_answered_once(b: Backend) {
    let db = TestDb::new(b).await;
    let s = db.store.clone();
    district_server::admin::demo(s.as_ref(), PasswordCost::TEST, 24, false)
        .await
        .unwrap();
    let mut tablets = Vec::new();
    for _ in 0..8 {
        tablets.push(enrolled(s.as_ref()).await);
    }
    for round in 0..5u64 {
        let mut tasks = Vec::new();
        for &(dev, user) in &tablets {
            let changes = batch(dev, user, round * 40 + 1..=round * 40 + 40);
            for _ in 0..2 {
                let (s, c, changes) = (s.clone(), ctx(dev, user), changes.clone());
                tasks.push(tokio::spawn(async move {
                    (dev, s.push(c, changes).await.unwrap())
                }));
            }
        }
        let mut accepted: HashMap<(DeviceId, u64), usize> = HashMap::new();
        for t in tasks {
            let (dev, r) = t.await.unwrap();
            assert_eq!(r.outcomes.len(), 40, "one outcome per change");
            for o in &r.outcomes {
                match o.status {
                    OutcomeStatus::Accepted => *accepted.entry((dev, o.seq)).or_default() += 1,
                    OutcomeStatus::Duplicate => {
                        accepted.entry((dev, o.seq)).or_default();
                    }
                    OutcomeStatus::Rejected => panic!("rejected: {o:?}"),
                }
            }
        }
        assert_eq!(accepted.len(), 8 * 40);
        assert!(
            accepted.values().all(|&n| n == 1),
            "each change accepted once over the two answers"
        );
    }
    let log = logged(s.as_ref()).await;
    assert_eq!(log.len(), 8 * 200);
    assert!(log.values().all(|&n| n == 1), "each change logged once");
    for &(dev, _) in &tablets {
        let st = s.status(dev, MAWAR.into(), 0).await.unwrap();
        assert_eq!(st.acked_seq, 200);
    }
    db.finish().await;
}

/// A push of a device the server does not know fails (its changes pass the checks, then the
/// device's row is missing) while six tablets push at the same moment, ten times over: it is
/// answered with its error, nothing of it is logged, and every other push is committed.
async fn a_failing_push_does_not_take_its_group_down(b: Backend) {
    let db = TestDb::new(b).await;
    let s = db.store.clone();
    district_server::admin::demo(s.as_ref(), PasswordCost::TEST, 24, false)
        .await
        .unwrap();
    let mut tablets = Vec::new();
    for _ in 0..6 {
        tablets.push(enrolled(s.as_ref()).await);
    }
    let ghost = DeviceId::new_v7();
    let ghost_user = tablets[0].1;
    for round in 0..10u64 {
        let seqs = round * 20 + 1..=round * 20 + 20;
        let mut tasks = Vec::new();
        for (i, &(dev, user)) in tablets.iter().enumerate() {
            let (st, c, changes) = (s.clone(), ctx(dev, user), batch(dev, user, seqs.clone()));
            tasks.push(tokio::spawn(async move { st.push(c, changes).await }));
            if i == 2 {
                let (s, c) = (s.clone(), ctx(ghost, ghost_user));
                let changes = batch(ghost, ghost_user, seqs.clone());
                tasks.push(tokio::spawn(async move { s.push(c, changes).await }));
            }
        }
        for (i, t) in tasks.into_iter().enumerate() {
            let r = t.await.unwrap();
            if i == 3 {
                assert!(
                    matches!(r, Err(StorageError::NotFound(_))),
                    "the unknown device's push fails with its reason: {r:?}"
                );
            } else {
                let r = r.unwrap();
                assert_eq!(r.outcomes.len(), 20);
                assert!(
                    r.outcomes
                        .iter()
                        .all(|o| o.status == OutcomeStatus::Accepted)
                );
                assert_eq!(r.acked_seq, round * 20 + 20);
            }
        }
    }
    let log = logged(s.as_ref()).await;
    assert_eq!(log.len(), 6 * 200, "every other push is logged");
    assert!(
        log.keys().all(|(d, _)| *d != ghost),
        "nothing of the failed push"
    );
    assert!(log.values().all(|&n| n == 1));
    db.finish().await;
}

/// SQLite: the WAL is checkpointed by the store's own thread, not by a commit passing
/// SQLite's 1,000-page threshold: a few small pushes (far below it) reach the database file
/// itself within a moment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_commits_reach_the_database_file_through_the_checkpoint_thread() {
    let db = TestDb::new(Backend::Sqlite).await;
    let s = db.store.clone();
    district_server::admin::demo(s.as_ref(), PasswordCost::TEST, 24, false)
        .await
        .unwrap();
    let (dev, user) = enrolled(s.as_ref()).await;
    let size = || std::fs::metadata(&db.url).map(|m| m.len()).unwrap_or(0);
    let before = size();
    for round in 0..5u64 {
        let r = s
            .push(
                ctx(dev, user),
                batch(dev, user, round * 100 + 1..=round * 100 + 100),
            )
            .await
            .unwrap();
        assert_eq!(r.acked_seq, round * 100 + 100);
    }
    let mut grown = false;
    for _ in 0..50 {
        if size() > before {
            grown = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        grown,
        "the pushes' pages were copied into the database file ({before} bytes before, {} now)",
        size()
    );
    assert_eq!(logged(s.as_ref()).await.len(), 500);
    db.finish().await;
}
