//! Two (or more) tablets and a real district server over HTTP on 127.0.0.1.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use field_core::sync::{SyncError, SyncPhase};
use field_core::{Clock, ManualClock, MeasurementInput};
use serde_json::json;
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use sync_protocol::Change;

fn body(v: serde_json::Value) -> sync_protocol::Body {
    v.as_object().cloned().unwrap()
}

fn weight(kg: f64) -> MeasurementInput {
    MeasurementInput {
        kind: "weight".into(),
        value: kg,
        unit: "kg".into(),
        position: None,
        measured_by: None,
        ..Default::default()
    }
}

/// Every change a store holds, keyed by what survives the trip: (record, stamp, body).
fn exported(store: &field_core::Store) -> Vec<Change> {
    let mut out = Vec::new();
    store
        .export_changes(|c| {
            out.push(c.clone());
            Ok(())
        })
        .unwrap();
    out
}

fn key(c: &Change) -> (String, String, String, String) {
    let sorted = |m: Vec<(String, String)>| {
        let m: std::collections::BTreeMap<_, _> = m.into_iter().collect();
        format!("{m:?}")
    };
    (
        c.id.to_string(),
        c.stamp().to_string(),
        sorted(
            c.body
                .iter()
                .map(|(k, v)| (k.clone(), v.to_string()))
                .collect(),
        ),
        sorted(
            c.base
                .iter()
                .map(|(k, v)| (k.clone(), v.to_string()))
                .collect(),
        ),
    )
}

async fn a_household_recorded_offline_reaches_the_other_tablet_and_edits_converge(
    backend: Backend,
) {
    let server = Server::start_on(backend).await;
    // Small batches and pages, so the run has to page through.
    let small = || {
        client_with(|c| {
            c.push_batch = 3;
            c.pull_limit = 4;
        })
    };
    let mut a = Device::enrol_with(&server, "kader.mawar", opts(), small()).await;
    let mut b = Device::enrol_with(&server, "kader.mawar2", opts(), small()).await;

    // Device B, with nothing anywhere, is up to date in one round trip.
    let r = b.sync().await;
    assert!(r.up_to_date, "{r:?}");
    assert_eq!(r.requests, 1, "{r:?}");

    // Device A, offline: a household with a mother and child, and two weighings.
    let reg = a
        .store
        .register_household(
            &household("Yohanes Bria"),
            &[
                person("Maria Bria", "female", "1995-03-02"),
                person("Yohana Bria", "female", "2024-01-10"),
            ],
            &[(1, 0)],
        )
        .unwrap();
    let child = reg.persons[1];
    let today = a.store.today().unwrap().format("%Y-%m-%d").to_string();
    a.store
        .save_measurement(child, None, &today, &weight(8.2))
        .unwrap();
    a.store
        .save_measurement(reg.persons[0], None, &today, &weight(52.0))
        .unwrap();
    let made = a.store.pending_changes(1000).unwrap();
    assert_eq!(made.len(), 5);

    let events = Arc::new(Mutex::new(Vec::new()));
    let ev = events.clone();
    let client = a.client.clone().on_event(move |e| {
        ev.lock().unwrap().push(e.clone());
    });
    let r = client
        .sync(&mut a.store, Some(PASSWORD))
        .await
        .expect("sync A");
    assert_eq!((r.sent, r.rejected, r.waiting), (5, 0, 0), "{r:?}");
    assert_eq!(r.push_requests, 2, "batches of 3: {r:?}");
    let phases: Vec<SyncPhase> = events
        .lock()
        .unwrap()
        .iter()
        .map(|e| e.phase.clone())
        .collect();
    assert_eq!(phases.first(), Some(&SyncPhase::Status));
    assert!(phases.contains(&SyncPhase::Pushing), "{phases:?}");
    assert_eq!(phases.last(), Some(&SyncPhase::Done), "{phases:?}");
    let first_push = events
        .lock()
        .unwrap()
        .iter()
        .find(|e| e.phase == SyncPhase::Pushing)
        .map(|e| e.waiting);
    assert_eq!(first_push, Some(5));
    assert!(a.store.sync_state().unwrap().last_success_ms.is_some());

    // Device B receives exactly those records.
    let r = b.sync().await;
    assert_eq!(r.received, 5, "{r:?}");
    assert_eq!(r.pull_requests, 2, "pages of 4: {r:?}");
    let sent: BTreeSet<_> = made.iter().map(key).collect();
    let got: BTreeSet<_> = exported(&b.store).iter().map(key).collect();
    assert_eq!(got, sent);
    let hb = b.store.household(reg.household).unwrap();
    let ha = a.store.household(reg.household).unwrap();
    assert_eq!(hb, ha);
    assert_eq!(hb.members.len(), 2);
    let tb = b.store.person_timeline(child).unwrap();
    assert_eq!(tb.entries.len(), 1);
    assert_eq!(tb.entries[0].body["value"], json!(8.2));

    // A, syncing again, pulls its own changes back as duplicates and is then up to date.
    a.sync().await;
    let r = a.sync().await;
    assert!(r.up_to_date && r.requests == 1, "{r:?}");

    // Both edit the same person offline; sync A then B, then A: they converge, with a conflict.
    a.store
        .update_person(child, body(json!({"name": "Yohana Bria Mali"})))
        .unwrap();
    std::thread::sleep(LATER);
    b.store
        .update_person(
            child,
            body(json!({"name": "Yohana Beria", "phone": "081234"})),
        )
        .unwrap();
    a.sync().await;
    b.sync().await;
    a.sync().await;
    let pa = a.store.person(child).unwrap();
    let pb = b.store.person(child).unwrap();
    assert_eq!(pa.name, pb.name);
    assert_eq!(pa.values, pb.values);
    assert_eq!(pa.name, "Yohana Beria", "the later edit wins");
    assert_eq!(pb.values["phone"], json!("081234"));
    assert_eq!(a.store.conflicts().unwrap().len(), 1);
    assert_eq!(b.store.conflicts().unwrap().len(), 1);
    assert_eq!(a.store.sync_counts().unwrap().open_conflicts, 1);

    // And in the other order: B syncs first.
    b.store
        .update_person(child, body(json!({"rt": "002"})))
        .unwrap();
    std::thread::sleep(LATER);
    a.store
        .update_person(child, body(json!({"rt": "003"})))
        .unwrap();
    b.sync().await;
    a.sync().await;
    b.sync().await;
    let pa = a.store.person(child).unwrap();
    let pb = b.store.person(child).unwrap();
    assert_eq!(pa.values, pb.values);
    assert_eq!(pa.values["rt"], json!("003"));
    assert_eq!(a.store.conflicts().unwrap().len(), 2);
    assert_eq!(b.store.conflicts().unwrap().len(), 2);
    // Same record state everywhere: the same set of changes.
    let ka: BTreeSet<_> = exported(&a.store)
        .iter()
        .map(|c| (c.id.to_string(), c.stamp().to_string()))
        .collect();
    let kb: BTreeSet<_> = exported(&b.store)
        .iter()
        .map(|c| (c.id.to_string(), c.stamp().to_string()))
        .collect();
    assert_eq!(ka, kb);
    server.stop().await;
}

async fn a_revoked_tablet_is_refused_keeps_its_data_and_says_why(backend: Backend) {
    let server = Server::start_on(backend).await;
    let mut a = Device::enrol(&server, "kader.mawar").await;
    let reg = a
        .store
        .register_household(
            &household("Agustinus Mali"),
            &[person("Agustinus Mali", "male", "1980-05-05")],
            &[],
        )
        .unwrap();
    a.sync().await;
    let mut b = Device::enrol(&server, "kader.mawar2").await;
    // Recorded after the last sync: still waiting when the tablet is revoked.
    a.store
        .update_household(reg.household, body(json!({"rt": "004"})))
        .unwrap();
    let before = a.view();
    assert!(
        server
            .store
            .revoke_device(a.store.device_id(), district_server::model::now_ms())
            .await
            .unwrap()
    );
    let err = a
        .client
        .sync(&mut a.store, Some(PASSWORD))
        .await
        .unwrap_err();
    assert!(matches!(err, SyncError::DeviceRevoked { .. }), "{err:?}");
    assert_eq!(err.message_key(), "sync.error.device_revoked");
    let st = a.store.sync_state().unwrap();
    let revoked = st.revoked.expect("revocation remembered");
    assert!(revoked.message.contains("revoked"), "{revoked:?}");
    assert_eq!(
        st.last_error.map(|e| e.0).as_deref(),
        Some("sync.error.device_revoked")
    );
    // The data stays, the waiting change too.
    assert_eq!(a.store.sync_counts().unwrap().pending, 1);
    let h = a.store.household(reg.household).unwrap();
    assert_eq!(h.values["rt"], json!("004"));
    // Nothing leaks either way: the waiting edit never reached the server, and a household
    // recorded by another tablet after the revocation never reaches the revoked one.
    let from_a: Vec<_> = server
        .changes(MAWAR)
        .await
        .into_iter()
        .filter(|c| c.device == a.store.device_id())
        .collect();
    assert_eq!(from_a.len(), 2, "{from_a:?}");
    assert!(
        from_a
            .iter()
            .all(|c| !c.body.contains_key("rt") || c.body["rt"] == "001")
    );
    let later = b
        .store
        .register_household(
            &household("Keluarga Sesudah"),
            &[person("Maria Sesudah", "female", "1991-01-01")],
            &[],
        )
        .unwrap();
    assert_eq!(b.sync().await.sent, 2);
    let err = a
        .client
        .sync(&mut a.store, Some(PASSWORD))
        .await
        .unwrap_err();
    assert!(matches!(err, SyncError::DeviceRevoked { .. }), "{err:?}");
    assert!(a.store.household(later.household).is_err());
    assert_same("the revoked tablet, unchanged", &a.view(), &before);
    // Also after reopening the database, and without touching the network.
    drop(a.store);
    let mut store = field_core::Store::unlock(&a.path, "kader.mawar", PIN, opts()).unwrap();
    server.stop().await;
    let err = a.client.sync(&mut store, None).await.unwrap_err();
    assert!(matches!(err, SyncError::DeviceRevoked { .. }), "{err:?}");
    assert!(a.sleeper.delays().is_empty());
}

async fn an_ended_session_asks_for_login_and_the_secret_renews_it(backend: Backend) {
    let server = Server::start_on(backend).await;
    let mut a = Device::enrol(&server, "kader.mawar").await;
    a.store.clear_session().unwrap();
    let err = a.client.sync(&mut a.store, None).await.unwrap_err();
    assert!(matches!(err, SyncError::LoginRequired), "{err:?}");
    assert_eq!(err.message_key(), "sync.error.login_required");
    let r = a.client.sync(&mut a.store, Some(PASSWORD)).await.unwrap();
    assert!(r.up_to_date, "{r:?}");
    // A wrong secret: a typed error, nothing lost.
    a.store.clear_session().unwrap();
    let err = a
        .client
        .sync(&mut a.store, Some("wrong-secret"))
        .await
        .unwrap_err();
    assert!(matches!(err, SyncError::LoginFailed), "{err:?}");
    a.client.login(&mut a.store, PASSWORD).await.unwrap();
    assert!(a.client.sync(&mut a.store, None).await.unwrap().up_to_date);
    server.stop().await;
}

async fn an_unreachable_server_is_retried_with_backoff_and_nothing_is_lost(backend: Backend) {
    let server = Server::start_on(backend).await;
    let mut a = Device::enrol(&server, "kader.mawar").await;
    a.store
        .register_household(
            &household("Fransiska Luan"),
            &[person("Fransiska Luan", "female", "1990-01-01")],
            &[],
        )
        .unwrap();
    server.stop().await;
    let events = Arc::new(Mutex::new(Vec::new()));
    let ev = events.clone();
    let client = a
        .client
        .clone()
        .on_event(move |e| ev.lock().unwrap().push(e.clone()));
    let err = client.sync(&mut a.store, Some(PASSWORD)).await.unwrap_err();
    assert!(matches!(err, SyncError::Network(_)), "{err:?}");
    let events = events.lock().unwrap().clone();
    let retries: Vec<_> = events
        .iter()
        .filter(|e| matches!(e.phase, SyncPhase::Retrying { .. }))
        .collect();
    assert_eq!(retries.len(), 3, "{events:?}");
    assert!(retries.iter().all(|e| e.waiting == 2), "{retries:?}");
    assert!(
        matches!(&events.last().unwrap().phase, SyncPhase::Failed { key } if key == "sync.error.network"),
        "{events:?}"
    );
    let delays: Vec<f64> = a.sleeper.delays().iter().map(|d| d.as_secs_f64()).collect();
    assert_eq!(delays.len(), 3, "{delays:?}");
    for (i, d) in delays.iter().enumerate() {
        let base = f64::from(1u32 << i);
        assert!(*d >= base * 0.5 && *d <= base * 1.5, "{delays:?}");
    }
    let st = a.store.sync_state().unwrap();
    assert_eq!(
        st.last_error.map(|e| e.0).as_deref(),
        Some("sync.error.network")
    );
    assert_eq!(a.store.sync_counts().unwrap().pending, 2);
}

async fn a_tablet_a_year_ahead_is_repaired_and_its_changes_accepted(backend: Backend) {
    let server = Server::start_on(backend).await;
    let clock = ManualClock::new(district_server::model::now_ms());
    let o = opts().with_clock(Arc::new(clock.clone()));
    let mut a = Device::enrol_with(&server, "kader.mawar", o, client()).await;
    // The tablet's clock jumps a year ahead (after enrolment calibrated it), the kader
    // records, and the clock is then set right.
    clock.advance(365 * 86_400_000);
    let reg = a
        .store
        .register_household(
            &household("Paulus Seran"),
            &[person("Paulus Seran", "male", "1985-07-07")],
            &[],
        )
        .unwrap();
    let r = a.sync().await;
    assert_eq!((r.sent, r.rejected), (2, 0), "{r:?}");
    assert!(r.restamped >= 2, "refused clock_ahead, re-stamped: {r:?}");
    let hlc = a.store.hybrid_clock().unwrap();
    let now = district_server::model::now_ms();
    assert!(
        hlc.last.wall_ms < now + 15 * 60_000,
        "clock repaired: {hlc:?}"
    );
    let b_clock = ManualClock::new(now);
    let mut b = Device::enrol_clocked(&server, "kader.mawar2", &b_clock).await;
    b.sync().await;
    assert_eq!(b.store.household(reg.household).unwrap().members.len(), 1);

    // Afterwards, edits order as the kaders made them, although A's wall clock still reads a
    // year ahead (the offset learned from the server corrects it). Corrected times are set
    // ten seconds apart so the order does not hang on milliseconds.
    let h = reg.household;
    let stamp_of_last = |d: &Device| {
        d.store
            .pending_changes(100)
            .unwrap()
            .last()
            .unwrap()
            .stamp()
    };
    // 1. B, later, changes the RT.
    b.set_physical(&b_clock, now + 10_000);
    b.store
        .update_household(h, body(json!({"rt": "002"})))
        .unwrap();
    let b_rt = stamp_of_last(&b);
    assert_eq!(b.sync().await.sent, 1);
    let r = a.sync().await;
    assert_eq!((r.sent, r.rejected, r.restamped), (0, 0, 0), "{r:?}");
    assert_eq!(a.store.household(h).unwrap().values["rt"], json!("002"));
    // 2. Both rename the head of the family offline, A first: B's later name wins, A's is
    //    kept as a conflict.
    a.set_physical(&clock, now + 20_000);
    assert!(
        clock.now_ms() > now + 364 * 86_400_000,
        "A's wall clock is still ahead"
    );
    a.store
        .update_household(h, body(json!({"head_name": "Paulus Seran Bau"})))
        .unwrap();
    let a_head = stamp_of_last(&a);
    b.set_physical(&b_clock, now + 30_000);
    b.store
        .update_household(h, body(json!({"head_name": "Paulus Seran Mau"})))
        .unwrap();
    let b_head = stamp_of_last(&b);
    for d in [&mut a, &mut b] {
        let r = d.sync().await;
        assert_eq!((r.sent, r.rejected, r.restamped), (1, 0, 0), "{r:?}");
    }
    a.sync().await;
    for d in [&a, &b] {
        let hv = d.store.household(h).unwrap();
        assert_eq!(hv.values["head_name"], json!("Paulus Seran Mau"));
        let keys: Vec<_> = d
            .store
            .conflicts()
            .unwrap()
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(
            keys,
            vec![field_core::ConflictKey {
                record: h,
                field: "head_name".into(),
                loser: a_head,
            }]
        );
    }
    // 3. A, having seen B's name, puts the old one back: its edit orders after B's even
    //    though A's corrected clock reads earlier than B's edit. No new conflict.
    a.set_physical(&clock, now + 25_000);
    a.store
        .update_household(h, body(json!({"head_name": "Paulus Seran"})))
        .unwrap();
    let a_back = stamp_of_last(&a);
    assert_eq!(a.sync().await.sent, 1);
    b.sync().await;
    let sv = server.view(MAWAR).await;
    for (who, v) in [("A", a.view()), ("B", b.view())] {
        assert_same(who, &v, &sv);
    }
    let Rec::Mutable { values, .. } = &sv.records[&h] else {
        panic!("household")
    };
    assert_eq!(values["head_name"], json!("Paulus Seran"));
    assert_eq!(values["rt"], json!("002"));
    assert_eq!(sv.conflicts.len(), 1);
    // The exact order of the household's stamps on the server: as made, none a year ahead.
    let stamps: Vec<_> = server
        .changes(MAWAR)
        .await
        .into_iter()
        .filter(|c| c.id == h)
        .map(|c| c.stamp())
        .collect();
    let created = stamps[0];
    assert_eq!(stamps, vec![created, b_rt, a_head, b_head, a_back]);
    assert!(stamps.windows(2).all(|w| w[0] < w[1]), "{stamps:?}");
    let limit = district_server::model::now_ms() + 15 * 60_000;
    assert!(stamps.iter().all(|s| s.hlc.wall_ms < limit), "{stamps:?}");
    assert!(a.store.rejected_changes().unwrap().is_empty());
    server.stop().await;
}

async fn one_sync_at_a_time_per_database(backend: Backend) {
    let server = Server::start_on(backend).await;
    let mut a = Device::enrol(&server, "kader.mawar").await;
    let lock_path = a.dir.path().join("jangkau.db.sync.lock");
    let held = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .unwrap();
    held.lock().unwrap();
    let err = a
        .client
        .sync(&mut a.store, Some(PASSWORD))
        .await
        .unwrap_err();
    assert!(matches!(err, SyncError::AlreadyRunning), "{err:?}");
    held.unlock().unwrap();
    assert!(a.sync().await.up_to_date);
    server.stop().await;
}

async fn a_connection_cut_in_the_middle_of_a_pull_resumes_where_it_stopped(backend: Backend) {
    let server = Server::start_on(backend).await;
    let mut a = Device::enrol(&server, "kader.mawar").await;
    for i in 0..6 {
        a.store
            .register_household(
                &household(&format!("Keluarga {i}")),
                &[person(&format!("Anggota {i}"), "female", "1990-01-01")],
                &[],
            )
            .unwrap();
    }
    assert_eq!(a.sync().await.sent, 12);

    let proxy = Proxy::start(server.addr).await;
    let mut b = Device::enrol_at(
        &server,
        &proxy.url(),
        "kader.mawar2",
        opts(),
        client_with(|c| c.pull_limit = 5),
    )
    .await;
    // The link drops just before the second page is asked for.
    let (down, cut) = proxy.handle();
    let pulls = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let p = pulls.clone();
    let client = b.client.clone().on_event(move |e| {
        if e.phase == SyncPhase::Pulling && p.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 1
        {
            down.store(true, std::sync::atomic::Ordering::SeqCst);
            cut.notify_waiters();
        }
    });
    let err = client.sync(&mut b.store, Some(PASSWORD)).await.unwrap_err();
    assert!(matches!(err, SyncError::Network(_)), "{err:?}");
    assert_eq!(b.sleeper.delays().len(), 3, "retried with backoff");
    // The first page is kept, with its cursor.
    let kept = exported(&b.store).len();
    assert_eq!(kept, 5);
    let cursor = b.store.pull_cursor().unwrap();
    assert!(cursor.is_some());

    // The link is back: the next run asks from that cursor and gets the rest, once.
    proxy.restore();
    let r = b.sync().await;
    assert_eq!(r.received, 7, "{r:?}");
    let sent: BTreeSet<_> = exported(&a.store).iter().map(key).collect();
    let got: BTreeSet<_> = exported(&b.store).iter().map(key).collect();
    assert_eq!(got, sent);
    server.stop().await;
}

// TLS is orthogonal to the storage: this one runs on SQLite only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_https_the_client_trusts_exactly_the_roots_it_was_given() {
    use field_core::sync::TrustRoots;
    let server = Server::start_tls().await;
    // The bundled Mozilla roots do not know the district's own CA: refused, not retried
    // into success.
    let dir = tempfile::tempdir().unwrap();
    let (client, _) = client_with(|c| c.backoff.max_retries = 0);
    let e = field_core::sync::Enrolment {
        server_url: server.url(),
        code: server.code("kader.mawar").await,
        device_name: "Tablet TLS".into(),
        username: "kader.mawar".into(),
        secret: PASSWORD.to_string().into(),
        pin: PIN.to_string().into(),
    };
    let err = client
        .enrol(&dir.path().join("jangkau.db"), &e, opts())
        .await
        .unwrap_err();
    assert!(matches!(err, SyncError::Network(_)), "{err:?}");
    assert!(
        err.to_string().to_lowercase().contains("certificate"),
        "{err}"
    );
    // With the district CA: enrolment, records and sync over TLS.
    let mut a = Device::enrol_with(
        &server,
        "kader.mawar",
        opts(),
        client_with(|c| c.trust = TrustRoots::DistrictCa(Server::ca_pem())),
    )
    .await;
    a.store
        .register_household(
            &household("Maria Luruk"),
            &[person("Maria Luruk", "female", "1992-02-02")],
            &[],
        )
        .unwrap();
    let r = a.sync().await;
    assert_eq!(r.sent, 2, "{r:?}");
    // Plain HTTP is refused for anything but loopback.
    assert!(matches!(
        field_core::sync::check_server_url("http://jangkau.belu.go.id"),
        Err(SyncError::BadUrl(_))
    ));
    server.stop().await;
}

async fn a_connection_cut_between_push_batches_resumes_without_duplicates(backend: Backend) {
    let server = Server::start_on(backend).await;
    let proxy = Proxy::start(server.addr).await;
    let mut a = Device::enrol_at(
        &server,
        &proxy.url(),
        "kader.mawar",
        opts(),
        client_with(|c| c.push_batch = 2),
    )
    .await;
    for i in 0..3 {
        a.store
            .register_household(
                &household(&format!("Rumah {i}")),
                &[person(&format!("Orang {i}"), "male", "1970-01-01")],
                &[],
            )
            .unwrap();
    }
    let (down, cut) = proxy.handle();
    let pushes = Arc::new(std::sync::atomic::AtomicU32::new(0));
    let p = pushes.clone();
    let client = a.client.clone().on_event(move |e| {
        if e.phase == SyncPhase::Pushing && p.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 1
        {
            down.store(true, std::sync::atomic::Ordering::SeqCst);
            cut.notify_waiters();
        }
    });
    let err = client.sync(&mut a.store, Some(PASSWORD)).await.unwrap_err();
    assert!(matches!(err, SyncError::Network(_)), "{err:?}");
    assert_eq!(a.store.sync_counts().unwrap().pending, 4);
    proxy.restore();
    let r = a.sync().await;
    assert_eq!((r.sent, r.waiting), (4, 0), "{r:?}");
    let mut b = Device::enrol(&server, "kader.mawar2").await;
    assert_eq!(b.sync().await.received, 6);
    server.stop().await;
}

async fn a_change_the_server_refuses_stays_on_the_tablet_with_its_reason(backend: Backend) {
    let server = Server::start_on(backend).await;
    let mut a = Device::enrol(&server, "kader.mawar").await;
    // Posyandu Melati is outside kader.mawar's area.
    let mut outside = household("Keluarga Melati");
    outside.posyandu = "53.04.05.2001.P02".into();
    let bad = a
        .store
        .register_household(
            &outside,
            &[person("Orang Melati", "male", "1975-01-01")],
            &[],
        )
        .expect("the tablet does not check the scope itself");
    a.store
        .register_household(
            &household("Keluarga Mawar"),
            &[person("Orang Mawar", "female", "1977-01-01")],
            &[],
        )
        .unwrap();
    let r = a.sync().await;
    assert_eq!((r.sent, r.rejected, r.waiting), (2, 2, 0), "{r:?}");
    let refused = a.store.rejected_changes().unwrap();
    assert_eq!(refused.len(), 2);
    for (c, why) in &refused {
        assert_eq!(c.body["posyandu"], json!("53.04.05.2001.P02"));
        let why = why.as_ref().expect("reason kept");
        assert_eq!(why.key, "sync.reject.out_of_scope");
        assert_eq!(why.field.as_deref(), Some("posyandu"));
    }
    // Taken out of the records (no other replica will have it); the counts say so.
    assert!(a.store.household(bad.household).is_err());
    assert_eq!(a.store.sync_counts().unwrap().rejected, 2);
    // A later run does not send them again.
    let r = a.sync().await;
    assert_eq!(r.sent + r.rejected, 0, "{r:?}");
    server.stop().await;
}

both_backends!(
    a_household_recorded_offline_reaches_the_other_tablet_and_edits_converge,
    a_revoked_tablet_is_refused_keeps_its_data_and_says_why,
    an_ended_session_asks_for_login_and_the_secret_renews_it,
    an_unreachable_server_is_retried_with_backoff_and_nothing_is_lost,
    a_tablet_a_year_ahead_is_repaired_and_its_changes_accepted,
    one_sync_at_a_time_per_database,
    a_connection_cut_in_the_middle_of_a_pull_resumes_where_it_stopped,
    a_connection_cut_between_push_batches_resumes_without_duplicates,
    a_change_the_server_refuses_stays_on_the_tablet_with_its_reason,
);

// The enrolment's own work, the same on both storages: SQLite only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enrolment_pulls_pages_while_the_key_is_sealed_and_the_sync_goes_on_from_there() {
    let server = Server::start().await;
    let mut a = Device::enrol(&server, "kader.mawar").await;
    for i in 0..100 {
        a.store
            .register_household(
                &household(&format!("Kepala {i}")),
                &[
                    person(&format!("Ibu {i}"), "female", "1990-01-01"),
                    person(&format!("Anak {i}"), "male", "2024-02-02"),
                ],
                &[(1, 0)],
            )
            .unwrap();
    }
    let sent = a.sync().await.sent;
    assert!(sent >= 300, "{sent}");

    // The second tablet seals its key at the tablet's real cost, and asks for pages of 100:
    // its first page begins a first sync in bulk (`store/bulk.rs`) in the store under its
    // temporary name, and the sync after the enrolment ends it under the real one.
    let slow = opts().with_kdf(field_core::KdfParams::TABLET);
    let pages = || {
        client_with(|c| {
            c.pull_limit = 100;
            c.pull_limit_max = 100;
        })
    };
    let mut b = Device::enrol_with(&server, "kader.mawar2", slow, pages()).await;
    let t = b.client.last_enrol_times();
    assert!(t.pulled >= 100 && t.pull_requests >= 1, "{t:?}");
    assert_eq!(b.client.last_enrol_pages().len() as u32, t.pull_requests);
    // The store has its name and its keyring; nothing is left under the temporary one.
    assert_eq!(b.store.path(), b.path.as_path());
    let names: Vec<String> = std::fs::read_dir(b.dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.contains(".creating-")), "{names:?}");
    assert!(field_core::keyring::Keyring::path_for(&b.path).exists());
    if t.pulled < sent {
        assert!(b.store.bulk_sync_active().unwrap());
    }

    let r = b.sync().await;
    assert_eq!(r.received + t.pulled, sent, "{r:?} after {t:?}");
    assert!(!b.store.bulk_sync_active().unwrap());
    let want: BTreeSet<_> = exported(&a.store).iter().map(key).collect();
    let got: BTreeSet<_> = exported(&b.store).iter().map(key).collect();
    assert_eq!(got, want);
    assert_same("B after its first sync", &b.view(), &a.view());
    // The store opens with the PIN, as any other.
    drop(b.store);
    let store = field_core::Store::unlock(&b.path, "kader.mawar2", PIN, opts()).unwrap();
    assert_eq!(exported(&store).len(), want.len());
    server.stop().await;
}
