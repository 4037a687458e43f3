//! The storage suite: the same story against both backends, through the trait only.

use crate::common::{Backend, MAWAR, MELATI, TestDb, body_for, now_ms};
use district_server::auth::{self, PasswordCost};
use district_server::model::NewDevice;
use district_server::storage::{EnrolRefusal, Storage, StorageError};
use district_server::sync::PushContext;
use std::collections::HashSet;
use std::sync::Arc;
use sync_protocol::{
    Change, ClockPolicy, DeviceId, EntityKind, Hlc, OutcomeStatus, RecordId, RejectCode, Role,
    UserId,
};

both_backends!(
    migrations_are_idempotent,
    places_form_a_tree,
    users_and_enrolment,
    push_is_idempotent_and_pull_is_scoped,
    settled_numbers_are_found_close_together_or_scattered,
    a_pull_at_the_head_finds_what_others_push_next,
    check_ins_racing_pushes_miss_nothing,
    a_check_in_reads_its_session_and_page_at_once,
    demo_seeds_fictional_records_once,
);

async fn demo_seeds_fictional_records_once(b: Backend) {
    let db = TestDb::new(b).await;
    let s = db.store.as_ref();
    let first = district_server::admin::demo(s, PasswordCost::TEST, 24, true)
        .await
        .unwrap();
    assert_eq!((first.users_created, first.records_seeded), (6, 6));
    let page = s.pull(MAWAR.into(), 0, 100).await.unwrap();
    assert_eq!(page.changes.len(), 6);
    assert!(
        page.changes
            .iter()
            .all(|(_, j)| !j.contains("\"posyandu\":\"53.04.05.2001.P02\""))
    );
    let again = district_server::admin::demo(s, PasswordCost::TEST, 24, true)
        .await
        .unwrap();
    assert_eq!((again.users_created, again.records_seeded), (0, 0));
    assert_ne!(first.kader_code, again.kader_code);
    assert!(
        s.pull(MELATI.into(), 0, 100)
            .await
            .unwrap()
            .changes
            .is_empty()
    );
    db.finish().await;
}

async fn migrations_are_idempotent(b: Backend) {
    let db = TestDb::new(b).await;
    assert_eq!(db.store.migrate().await.unwrap(), 0);
    // The highest migration number (not a literal: migrations are added by several hands).
    let last = match b {
        Backend::Sqlite => district_server::storage::sqlite::MIGRATIONS,
        Backend::Postgres => district_server::storage::postgres::MIGRATIONS,
    };
    assert_eq!(
        db.store.schema_version().await.unwrap(),
        last.iter().map(|m| m.0).max().unwrap()
    );
    db.store.ping().await.unwrap();
    db.finish().await;
}

async fn places_form_a_tree(b: Backend) {
    let db = TestDb::new(b).await;
    let s = db.store.as_ref();
    district_server::admin::demo(s, PasswordCost::TEST, 24, false)
        .await
        .unwrap();
    let all = s.posyandu_under("53.04".into()).await.unwrap();
    assert_eq!(
        all.len(),
        16 + 6,
        "16 puskesmas with one posyandu, Halilulik with six"
    );
    let halilulik = s.posyandu_under("53.04.PKM07".into()).await.unwrap();
    assert_eq!(halilulik.len(), 6);
    let mut desa: Vec<String> = s.posyandu_under("53.04.05.2001".into()).await.unwrap();
    desa.sort();
    assert_eq!(desa, vec![MAWAR.to_string(), MELATI.to_string()]);
    assert_eq!(s.posyandu_under(MAWAR.into()).await.unwrap(), vec![MAWAR]);
    assert!(s.posyandu_under("99.99".into()).await.unwrap().is_empty());
    let p = s.place("53.04.PKM07".into()).await.unwrap().unwrap();
    assert_eq!(p.name, "Puskesmas Halilulik");
    // What a user of a scope is sent: the scope, what is under it, what is above it.
    let codes = |places: Vec<district_server::model::Place>| {
        let mut codes: Vec<String> = places.into_iter().map(|p| p.code).collect();
        codes.sort();
        codes
    };
    assert_eq!(
        codes(s.places_for_scope(MAWAR.into()).await.unwrap()),
        [
            "53.04",
            "53.04.05",
            "53.04.05.2001",
            "53.04.05.2001.D1",
            MAWAR,
            "53.04.PKM07"
        ]
    );
    let pkm = codes(s.places_for_scope("53.04.PKM07".into()).await.unwrap());
    assert_eq!(pkm.len(), 2 + 1 + 3 + 6 + 6, "{pkm:?}");
    assert!(pkm.contains(&MELATI.to_string()));
    assert_eq!(
        s.places_for_scope("53.04".into()).await.unwrap(),
        s.all_places().await.unwrap()
    );
    assert!(s.places_for_scope("99.99".into()).await.unwrap().is_empty());
    // Importing again (the same places) changes nothing.
    s.import_places(district_server::admin::demo_places())
        .await
        .unwrap();
    assert_eq!(s.posyandu_under("53.04".into()).await.unwrap().len(), 22);
    db.finish().await;
}

fn new_device(now: u64) -> (NewDevice, String) {
    let token = auth::new_token().unwrap();
    (
        NewDevice {
            id: DeviceId::new_v7(),
            name: "Tablet uji".into(),
            token_hash: auth::hash_secret(&token),
            app_version: "0.1.0".into(),
            now,
        },
        token,
    )
}

async fn users_and_enrolment(b: Backend) {
    let db = TestDb::new(b).await;
    let s = db.store.as_ref();
    district_server::admin::demo(s, PasswordCost::TEST, 24, false)
        .await
        .unwrap();
    // Usernames are unique.
    let dup = district_server::admin::add_user(
        s,
        "kader.mawar",
        "x",
        Role::Kader,
        MAWAR,
        "123456",
        PasswordCost::TEST,
    )
    .await;
    assert!(matches!(
        dup,
        Err(district_server::admin::AdminError::Storage(
            StorageError::Conflict(_)
        ))
    ));
    // A kader's scope must be a posyandu.
    let wrong = district_server::admin::add_user(
        s,
        "kader.x",
        "x",
        Role::Kader,
        "53.04.PKM07",
        "123456",
        PasswordCost::TEST,
    )
    .await;
    assert!(wrong.is_err());
    let kader = s
        .user_by_username("kader.mawar".into())
        .await
        .unwrap()
        .unwrap();
    assert!(auth::verify_password(
        district_server::admin::DEMO_PASSWORD,
        &kader.secret_hash
    ));
    // A code works once.
    let now = now_ms();
    s.create_enrol_code(auth::hash_secret("AAAAAAAAA"), kader.id, now, now + 60_000)
        .await
        .unwrap();
    let (d, _first_token) = new_device(now);
    let dev = s
        .enrol(auth::hash_secret("AAAAAAAAA"), d)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(dev.user_id, kader.id);
    // Until a login on the device succeeds, the code enrols the same device again.
    let (d2, token) = new_device(now);
    let again = s
        .enrol(auth::hash_secret("AAAAAAAAA"), d2)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.id, dev.id);
    s.create_session(
        auth::hash_secret("session"),
        kader.id,
        dev.id,
        now,
        now + 1_000,
        None,
    )
    .await
    .unwrap();
    let (d3, _) = new_device(now);
    assert_eq!(
        s.enrol(auth::hash_secret("AAAAAAAAA"), d3).await.unwrap(),
        Err(EnrolRefusal::Invalid)
    );
    // An expired code is refused as expired.
    s.create_enrol_code(auth::hash_secret("BBBBBBBBB"), kader.id, now - 10, now - 1)
        .await
        .unwrap();
    let (d3, _) = new_device(now);
    assert_eq!(
        s.enrol(auth::hash_secret("BBBBBBBBB"), d3).await.unwrap(),
        Err(EnrolRefusal::Expired)
    );
    let (d4, _) = new_device(now);
    assert_eq!(
        s.enrol(auth::hash_secret("CCCCCCCCC"), d4).await.unwrap(),
        Err(EnrolRefusal::Invalid)
    );
    // Device token and session lookups; revocation and disabling show at once.
    let found = s.device_by_token(auth::hash_secret(&token)).await.unwrap();
    assert_eq!(found.map(|d| d.id), Some(dev.id));
    s.create_session("h1".into(), kader.id, dev.id, now, now + 1000, None)
        .await
        .unwrap();
    let sess = s.session("h1".into()).await.unwrap().unwrap();
    assert_eq!(sess.user.username, "kader.mawar");
    assert_eq!(sess.device.id, dev.id);
    assert!(s.revoke_device(dev.id, now).await.unwrap());
    assert!(!s.revoke_device(DeviceId::new_v7(), now).await.unwrap());
    assert!(
        s.session("h1".into())
            .await
            .unwrap()
            .unwrap()
            .device
            .revoked_at
            .is_some()
    );
    assert!(
        s.set_user_disabled("kader.mawar".into(), true, now)
            .await
            .unwrap()
    );
    assert!(s.session("h1".into()).await.unwrap().unwrap().user.disabled);
    assert!(
        !s.set_user_disabled("nobody".into(), true, now)
            .await
            .unwrap()
    );
    s.touch_device(dev.id, now + 5, Some("0.2.0".into()))
        .await
        .unwrap();
    let listed = s.list_devices().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].app_version, "0.2.0");
    assert_eq!(s.list_users().await.unwrap().len(), 6);
    db.finish().await;
}

pub(crate) fn ctx(device: DeviceId, user: UserId, role: Role, scope: &[&str]) -> Arc<PushContext> {
    let now = now_ms();
    Arc::new(PushContext {
        device,
        user,
        role,
        scope_posyandu: scope.iter().map(|s| s.to_string()).collect::<HashSet<_>>(),
        now_ms: now,
        today: district_server::model::today_for_validation(now),
        clock: ClockPolicy::default(),
    })
}

pub(crate) fn change(
    device: DeviceId,
    user: UserId,
    seq: u64,
    kind: EntityKind,
    posyandu: &str,
) -> Change {
    Change {
        id: RecordId::new_v7(),
        kind,
        device,
        seq,
        hlc: Hlc {
            wall_ms: now_ms() - 1000,
            counter: 0,
        },
        author: user,
        schema: 1,
        tombstone: false,
        supersedes: None,
        base: Default::default(),
        body: body_for(kind, posyandu).as_object().cloned().unwrap(),
    }
}

pub(crate) async fn enrolled(s: &dyn Storage, username: &str) -> (DeviceId, UserId) {
    let user = s.user_by_username(username.into()).await.unwrap().unwrap();
    let code = district_server::admin::issue_enrol_code(s, username, 24)
        .await
        .unwrap();
    let code = auth::normalise_code(&code).unwrap();
    let (d, _) = new_device(now_ms());
    let dev = s.enrol(auth::hash_secret(&code), d).await.unwrap().unwrap();
    (dev.id, user.id)
}

/// What a batch's sequence numbers settled is found whether they are close together (one
/// range of the index, whose other numbers are not the batch's) or far apart (each alone),
/// and the acknowledged number moves only over settled numbers without a gap.
async fn settled_numbers_are_found_close_together_or_scattered(b: Backend) {
    let db = TestDb::new(b).await;
    let s = db.store.as_ref();
    district_server::admin::demo(s, PasswordCost::TEST, 24, false)
        .await
        .unwrap();
    let (dev, user) = enrolled(s, "kader.mawar").await;
    let c = ctx(dev, user, Role::Kader, &[MAWAR]);
    let at = |seq: u64| change(dev, user, seq, EntityKind::Measurement, MAWAR);
    let statuses = |r: &district_server::sync::PushResult| {
        r.outcomes.iter().map(|o| o.status).collect::<Vec<_>>()
    };
    // A change is a duplicate when re-sent as it was (`at` makes a new record each time).
    let first: Vec<Change> = (1..=10).map(at).collect();
    let r = s.push(c.clone(), first.clone()).await.unwrap();
    assert_eq!(r.acked_seq, 10);
    // Close together: 3 and 5 settled, 11 new; 4 (settled, in the range) is not the batch's.
    let r = s
        .push(c.clone(), vec![first[2].clone(), first[4].clone(), at(11)])
        .await
        .unwrap();
    use OutcomeStatus::{Accepted, Duplicate};
    assert_eq!(statuses(&r), vec![Duplicate, Duplicate, Accepted]);
    assert_eq!(r.acked_seq, 11);
    // Far apart: one settled, two new past a gap (acked stays).
    let scattered = vec![first[1].clone(), at(5_000), at(900_000)];
    let r = s.push(c.clone(), scattered.clone()).await.unwrap();
    assert_eq!(statuses(&r), vec![Duplicate, Accepted, Accepted]);
    assert_eq!(r.acked_seq, 11);
    let r = s.push(c.clone(), scattered).await.unwrap();
    assert_eq!(statuses(&r), vec![Duplicate, Duplicate, Duplicate]);
    // Settled before, past the acknowledged number: counted when the gap fills.
    let r = s
        .push(c.clone(), (12..=4_999).map(at).collect())
        .await
        .unwrap();
    assert_eq!(r.acked_seq, 5_000);
    assert_eq!(s.device(dev).await.unwrap().unwrap().acked_seq, 5_000);
}

async fn push_is_idempotent_and_pull_is_scoped(b: Backend) {
    let db = TestDb::new(b).await;
    let s = db.store.as_ref();
    district_server::admin::demo(s, PasswordCost::TEST, 24, false)
        .await
        .unwrap();
    let (dev, user) = enrolled(s, "kader.mawar").await;
    let c = ctx(dev, user, Role::Kader, &[MAWAR]);
    let batch: Vec<Change> = (1..=3)
        .map(|i| change(dev, user, i, EntityKind::Measurement, MAWAR))
        .collect();
    let r = s.push(c.clone(), batch.clone()).await.unwrap();
    assert!(
        r.outcomes
            .iter()
            .all(|o| o.status == OutcomeStatus::Accepted)
    );
    assert_eq!(r.acked_seq, 3);
    // Again: duplicates, nothing new in the log.
    let r = s.push(c.clone(), batch.clone()).await.unwrap();
    assert!(
        r.outcomes
            .iter()
            .all(|o| o.status == OutcomeStatus::Duplicate)
    );
    // The same seq with another content: seq_reused.
    let other = change(dev, user, 2, EntityKind::Measurement, MAWAR);
    let r = s.push(c.clone(), vec![other]).await.unwrap();
    assert_eq!(
        r.outcomes[0].rejection.as_ref().map(|x| x.code),
        Some(RejectCode::SeqReused)
    );
    // A gap holds acked_seq; filling it moves it on. An out-of-scope change settles too.
    let r = s
        .push(
            c.clone(),
            vec![
                change(dev, user, 5, EntityKind::Measurement, MAWAR),
                change(dev, user, 6, EntityKind::Measurement, MELATI),
            ],
        )
        .await
        .unwrap();
    assert_eq!(r.acked_seq, 3);
    assert_eq!(
        r.outcomes[1].rejection.as_ref().map(|x| x.code),
        Some(RejectCode::OutOfScope)
    );
    let r = s
        .push(
            c.clone(),
            vec![change(dev, user, 4, EntityKind::Note, MAWAR)],
        )
        .await
        .unwrap();
    assert_eq!(r.acked_seq, 6);
    // Pull: in server order, paged, scoped.
    let p1 = s.pull(MAWAR.into(), 0, 2).await.unwrap();
    assert_eq!(p1.changes.len(), 2);
    assert!(p1.has_more);
    let p2 = s.pull(MAWAR.into(), p1.changes[1].0, 10).await.unwrap();
    assert_eq!(p2.changes.len(), 3);
    assert!(!p2.has_more);
    assert!(p1.changes[0].0 < p1.changes[1].0 && p1.changes[1].0 < p2.changes[0].0);
    let all = s.pull("53.04".into(), 0, 100).await.unwrap();
    assert_eq!(all.changes.len(), 5);
    assert!(
        s.pull(MELATI.into(), 0, 100)
            .await
            .unwrap()
            .changes
            .is_empty()
    );
    let first: Change = serde_json::from_str(&p1.changes[0].1).unwrap();
    assert_eq!(first, batch[0]);
    // Status.
    let last = p2.changes.last().unwrap().0;
    let st = s.status(dev, MAWAR.into(), last).await.unwrap();
    assert_eq!(st.acked_seq, 6);
    assert!(!st.pull_pending);
    // The device's own changes are not news to it: not pending, left out of its pages while
    // the cursor moves past them; another device sees them.
    let st = s.status(dev, MAWAR.into(), 0).await.unwrap();
    assert!(!st.pull_pending);
    let other = DeviceId::new_v7();
    assert!(s.status(other, MAWAR.into(), 0).await.unwrap().pull_pending);
    let own = s
        .pull_for(dev, MAWAR.into(), 0, 2, usize::MAX)
        .await
        .unwrap();
    assert!(own.changes.is_empty() && !own.has_more);
    // The whole scope was read: the cursor moves to the log's end, past the device's own
    // changes, so its next check-in reads only what came after (not its own work again).
    assert_eq!(own.scanned_to, last);
    let st = s.status(dev, MAWAR.into(), own.scanned_to).await.unwrap();
    assert!(!st.pull_pending);
    let theirs = s
        .pull_for(other, MAWAR.into(), 0, 2, usize::MAX)
        .await
        .unwrap();
    assert_eq!(theirs.changes, p1.changes);
    assert_eq!(
        theirs.scanned_to, p1.changes[1].0,
        "a full page keeps its cursor"
    );
    // A change of another tablet made after the jump still reaches the device.
    let (dev2, user2) = enrolled(s, "kader.mawar").await;
    let c2 = ctx(dev2, user2, Role::Kader, &[MAWAR]);
    let news = change(dev2, user2, 1, EntityKind::Measurement, MAWAR);
    let r = s.push(c2, vec![news.clone()]).await.unwrap();
    assert_eq!(r.outcomes[0].status, OutcomeStatus::Accepted);
    assert!(
        s.status(dev, MAWAR.into(), own.scanned_to)
            .await
            .unwrap()
            .pull_pending
    );
    let next = s
        .pull_for(dev, MAWAR.into(), own.scanned_to, 10, usize::MAX)
        .await
        .unwrap();
    assert_eq!(next.changes.len(), 1);
    let got: Change = serde_json::from_str(&next.changes[0].1).unwrap();
    assert_eq!(got, news);
    assert_eq!(next.scanned_to, next.changes[0].0);
    db.finish().await;
}

/// Check-ins racing pushes of other tablets receive every change once: a page that is not
/// full moves its cursor to the log's high-water mark (`PageCutter::finish_at`), which must
/// never pass a change the page did not see.
async fn check_ins_racing_pushes_miss_nothing(b: Backend) {
    let db = TestDb::new(b).await;
    let s = db.store.clone();
    district_server::admin::demo(s.as_ref(), PasswordCost::TEST, 24, false)
        .await
        .unwrap();
    let (reader, _) = enrolled(s.as_ref(), "kader.mawar").await;
    let mut writers = Vec::new();
    for _ in 0..4 {
        writers.push(enrolled(s.as_ref(), "kader.mawar").await);
    }
    const PUSHES: u64 = 15;
    let mut tasks = Vec::new();
    for (dev, user) in writers {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let c = ctx(dev, user, Role::Kader, &[MAWAR]);
            for seq in 1..=PUSHES {
                let kind = if seq % 2 == 0 {
                    EntityKind::Note
                } else {
                    EntityKind::Measurement
                };
                s.push(c.clone(), vec![change(dev, user, seq, kind, MAWAR)])
                    .await
                    .unwrap();
            }
        }));
    }
    // The reader checks in (small pages) while the writers push, then once more after.
    let mut got: Vec<(DeviceId, u64)> = Vec::new();
    let mut cursor = 0;
    let check_in = async |cursor: &mut i64, got: &mut Vec<(DeviceId, u64)>| loop {
        let page = s
            .pull_for(reader, MAWAR.into(), *cursor, 3, usize::MAX)
            .await
            .unwrap();
        for (sseq, json) in &page.changes {
            assert!(*sseq > *cursor && *sseq <= page.scanned_to);
            let c: Change = serde_json::from_str(json).unwrap();
            got.push((c.device, c.seq));
        }
        assert!(page.scanned_to >= *cursor);
        *cursor = page.scanned_to;
        if !page.has_more {
            return;
        }
    };
    while tasks.iter().any(|t| !t.is_finished()) {
        check_in(&mut cursor, &mut got).await;
        tokio::task::yield_now().await;
    }
    for t in tasks {
        t.await.unwrap();
    }
    check_in(&mut cursor, &mut got).await;
    let distinct: HashSet<_> = got.iter().copied().collect();
    assert_eq!(distinct.len(), got.len(), "a change received twice");
    assert_eq!(got.len(), 4 * PUSHES as usize, "every change received");
    db.finish().await;
}

/// A check-in whose cursor is at the log's head is answered without reading a page; the
/// answer is still right: nothing new and the same cursor, its own pushes skipped, and
/// another tablet's push made in between arrives at the next pull.
async fn a_pull_at_the_head_finds_what_others_push_next(b: Backend) {
    let db = TestDb::new(b).await;
    let s = db.store.as_ref();
    district_server::admin::demo(s, PasswordCost::TEST, 24, false)
        .await
        .unwrap();
    let (a, ua) = enrolled(s, "kader.mawar").await;
    let (b_dev, ub) = enrolled(s, "kader.mawar").await;
    let ca = ctx(a, ua, Role::Kader, &[MAWAR]);
    let cb = ctx(b_dev, ub, Role::Kader, &[MAWAR]);
    s.push(ca.clone(), vec![change(a, ua, 1, EntityKind::Note, MAWAR)])
        .await
        .unwrap();
    let first = s
        .pull_for(a, MAWAR.into(), 0, 10, usize::MAX)
        .await
        .unwrap();
    assert!(first.changes.is_empty() && !first.has_more);
    let head = first.scanned_to;
    assert!(head > 0, "the cursor moved past its own change");
    // Nothing new: the same cursor back, again and again.
    for _ in 0..3 {
        let again = s
            .pull_for(a, MAWAR.into(), head, 10, usize::MAX)
            .await
            .unwrap();
        assert!(again.changes.is_empty() && !again.has_more);
        assert_eq!(again.scanned_to, head);
    }
    // Its own next push moves the head; the check-in skips it and moves on.
    s.push(ca.clone(), vec![change(a, ua, 2, EntityKind::Note, MAWAR)])
        .await
        .unwrap();
    let own = s
        .pull_for(a, MAWAR.into(), head, 10, usize::MAX)
        .await
        .unwrap();
    assert!(own.changes.is_empty() && !own.has_more);
    assert!(own.scanned_to > head);
    // Another tablet pushes between two check-ins: the next one brings its change.
    let news = change(b_dev, ub, 1, EntityKind::Measurement, MAWAR);
    s.push(cb, vec![news.clone()]).await.unwrap();
    let next = s
        .pull_for(a, MAWAR.into(), own.scanned_to, 10, usize::MAX)
        .await
        .unwrap();
    assert_eq!(next.changes.len(), 1, "{:?}", next.changes);
    let got: Change = serde_json::from_str(&next.changes[0].1).unwrap();
    assert_eq!(got, news);
    let after = s
        .pull_for(a, MAWAR.into(), next.scanned_to, 10, usize::MAX)
        .await
        .unwrap();
    assert!(after.changes.is_empty() && after.scanned_to == next.scanned_to);
    // Out of scope: a change in Melati moves the head, not what Mawar receives.
    let (m, um) = enrolled(s, "kader.melati").await;
    s.push(
        ctx(m, um, Role::Kader, &[MELATI]),
        vec![change(m, um, 1, EntityKind::Note, MELATI)],
    )
    .await
    .unwrap();
    let melati = s
        .pull_for(a, MAWAR.into(), next.scanned_to, 10, usize::MAX)
        .await
        .unwrap();
    assert!(melati.changes.is_empty() && !melati.has_more);
    assert!(melati.scanned_to > next.scanned_to);
    db.finish().await;
}

/// What a push acknowledged is on disk: a fresh process (a new store on the same file)
/// finds it, and the device's acked_seq with it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_batches_survive_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("reopen.db").to_string_lossy().to_string();
    let (dev, acked) = {
        let store = district_server::storage::open(&path).await.unwrap();
        store.migrate().await.unwrap();
        district_server::admin::demo(store.as_ref(), PasswordCost::TEST, 24, false)
            .await
            .unwrap();
        let (dev, user) = enrolled(store.as_ref(), "kader.mawar").await;
        let c = ctx(dev, user, Role::Kader, &[MAWAR]);
        let batch: Vec<Change> = (1..=50)
            .map(|i| change(dev, user, i, EntityKind::Measurement, MAWAR))
            .collect();
        let r = store.push(c, batch).await.unwrap();
        (dev, r.acked_seq)
    };
    assert_eq!(acked, 50);
    let store = district_server::storage::open(&path).await.unwrap();
    assert_eq!(store.migrate().await.unwrap(), 0);
    assert_eq!(
        store
            .pull(MAWAR.into(), 0, 100)
            .await
            .unwrap()
            .changes
            .len(),
        50
    );
    assert_eq!(store.device(dev).await.unwrap().unwrap().acked_seq, 50);
}

/// `session_and_page` / `session_and_status` (a check-in's guess): PostgreSQL answers the page
/// and status `pull_for` and `status` answer, with the session's row, and no page or status
/// when the row does not name the device and scope asked for; SQLite the row alone.
async fn a_check_in_reads_its_session_and_page_at_once(b: Backend) {
    use district_server::storage::{PageAsk, StatusAsk};
    let db = TestDb::new(b).await;
    let s = db.store.as_ref();
    district_server::admin::demo(s, PasswordCost::TEST, 24, false)
        .await
        .unwrap();
    let (reader, user) = enrolled(s, "kader.mawar").await;
    let (writer, _) = enrolled(s, "kader.mawar").await;
    let now = now_ms();
    let hash = auth::hash_secret("reader's session");
    s.create_session(hash.clone(), user, reader, now, now + 600_000, None)
        .await
        .unwrap();
    let wc = ctx(writer, user, Role::Kader, &[MAWAR]);
    let theirs: Vec<Change> = (1..=5)
        .map(|seq| change(writer, user, seq, EntityKind::Measurement, MAWAR))
        .collect();
    s.push(wc, theirs).await.unwrap();
    let rc = ctx(reader, user, Role::Kader, &[MAWAR]);
    s.push(rc, vec![change(reader, user, 1, EntityKind::Note, MAWAR)])
        .await
        .unwrap();
    let ask = |device: DeviceId, scope: &str, after: i64, limit: usize| PageAsk {
        device,
        scope: scope.into(),
        after,
        limit,
        max_bytes: usize::MAX,
    };
    let head = s.pull(MAWAR.into(), 0, 100).await.unwrap().scanned_to;
    for (after, limit) in [(0, 2), (0, 100), (2, 2), (head, 10)] {
        let want = s
            .pull_for(reader, MAWAR.into(), after, limit, usize::MAX)
            .await
            .unwrap();
        let (row, page) = s
            .session_and_page(hash.clone(), Some(ask(reader, MAWAR, after, limit)))
            .await
            .unwrap();
        let row = row.expect("the session's row");
        assert_eq!((row.device.id, row.user.id), (reader, user));
        match b {
            Backend::Postgres => {
                let page = page.expect("the page, read with the row");
                assert_eq!(
                    (page.changes, page.has_more, page.scanned_to, page.skipped),
                    (want.changes, want.has_more, want.scanned_to, want.skipped),
                    "after {after}, limit {limit}"
                );
            }
            Backend::Sqlite => assert!(page.is_none()),
        }
        let want = s.status(reader, MAWAR.into(), after).await.unwrap();
        let status_ask = StatusAsk {
            device: reader,
            scope: MAWAR.into(),
            after,
        };
        let (row, info) = s
            .session_and_status(hash.clone(), Some(status_ask))
            .await
            .unwrap();
        assert_eq!(row.map(|r| r.device.id), Some(reader));
        match b {
            Backend::Postgres => {
                let info = info.expect("the status, read with the row");
                assert_eq!(
                    (info.acked_seq, info.pull_pending),
                    (want.acked_seq, want.pull_pending)
                );
            }
            Backend::Sqlite => assert!(info.is_none()),
        }
    }
    // A guess of another device or another scope: the row, never its page.
    for wrong in [ask(writer, MAWAR, 0, 100), ask(reader, MELATI, 0, 100)] {
        let (row, page) = s.session_and_page(hash.clone(), Some(wrong)).await.unwrap();
        assert_eq!(row.map(|r| r.device.id), Some(reader));
        assert!(page.is_none());
    }
    // An unknown token: nothing.
    let (row, page) = s
        .session_and_page(
            auth::hash_secret("nobody's"),
            Some(ask(reader, MAWAR, 0, 100)),
        )
        .await
        .unwrap();
    assert!(row.is_none() && page.is_none());
    // No guess: the row alone.
    let (row, page) = s.session_and_page(hash.clone(), None).await.unwrap();
    assert!(row.is_some() && page.is_none());
    db.finish().await;
}
