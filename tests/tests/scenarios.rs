//! Field scenarios against a real district server, each on SQLite and on PostgreSQL: three
//! tablets editing one family offline and syncing in every order; tablets whose clocks were
//! set back; refusals that leak nothing and lose nothing; a fresh tablet that receives
//! exactly its area. Every test checks the exact end state of every tablet and of the server
//! (its change log read through the `Storage` trait and merged by sync-protocol's reference
//! replica).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use field_core::sync::SyncError;
use field_core::{Clock, ConflictKey, ManualClock, MeasurementInput, Registered};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use sync_protocol::{Body, EntityKind, RecordId, Role, Stamp};

const SECOND: u64 = 1_000;
const DAY: u64 = 86_400_000;

fn body(v: Value) -> Body {
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

fn now_ms() -> u64 {
    district_server::model::now_ms()
}

/// Today in Belu (WITA), by the real clock: the date a kader picks on the form.
fn real_today() -> String {
    field_core::clock::local_date(now_ms())
        .format("%Y-%m-%d")
        .to_string()
}

/// The stamp of the change a tablet recorded last.
fn last_stamp(d: &Device) -> Stamp {
    d.store
        .pending_changes(1000)
        .unwrap()
        .last()
        .unwrap()
        .stamp()
}

fn key(record: RecordId, field: &str, loser: Stamp) -> ConflictKey {
    ConflictKey {
        record,
        field: field.into(),
        loser,
    }
}

/// `base` with `changes` applied: the values a record should end with.
fn with(base: &Body, changes: Value) -> Body {
    let mut out = base.clone();
    out.extend(body(changes));
    out
}

/// Compares two records field by field, naming the first field that differs.
#[track_caller]
fn assert_fields(what: &str, got: &Body, want: &Body) {
    for (f, v) in want {
        assert_eq!(got.get(f), Some(v), "{what}: field {f}");
    }
    for f in got.keys() {
        assert!(
            want.contains_key(f),
            "{what}: unexpected field {f} = {}",
            got[f]
        );
    }
}

fn values(v: &View, id: RecordId) -> &Body {
    match &v.records[&id] {
        Rec::Mutable { values, .. } => values,
        r => panic!("{id} is not a mutable record: {r:?}"),
    }
}

/// A family (mother and child) in `posyandu`, with the child's weighing: (registration,
/// weighing).
fn family(d: &mut Device, posyandu: &str, head: &str) -> (Registered, RecordId) {
    let mut hh = household(head);
    hh.posyandu = posyandu.into();
    let reg = d
        .store
        .register_household(
            &hh,
            &[
                person(&format!("Ibu {head}"), "female", "1994-04-04"),
                person(&format!("Anak {head}"), "male", "2024-02-02"),
            ],
            &[(1, 0)],
        )
        .unwrap();
    let w = d
        .store
        .save_measurement(reg.persons[1], None, &real_today(), &weight(11.0))
        .unwrap();
    (reg, w)
}

/// Two kader of Posyandu Mawar and the bidan of its desa edit one family offline: the same
/// fields and different ones, each with a weighing; then they sync in one of the six orders,
/// and once more in that order so everyone has everything. Repeated for every order (a new
/// family each time). Edits are made 20 s apart on the tablets' corrected clocks, so the
/// bidan's is the latest, then kader 2's, then kader 1's, whatever the sync order.
async fn three_tablets_editing_one_family_offline_converge_in_every_sync_order(backend: Backend) {
    let server = Server::start_on(backend).await;
    let start = now_ms();
    let clocks: Vec<ManualClock> = (0..3).map(|_| ManualClock::new(start)).collect();
    let mut devs = Vec::new();
    for (name, clock) in ["kader.mawar", "kader.mawar2", "bidan.naitimu"]
        .iter()
        .zip(&clocks)
    {
        devs.push(Device::enrol_clocked(&server, name, clock).await);
    }
    let orders = [
        [0, 1, 2],
        [0, 2, 1],
        [1, 0, 2],
        [1, 2, 0],
        [2, 0, 1],
        [2, 1, 0],
    ];
    let mut all_conflicts = BTreeSet::new();
    for (k, order) in orders.iter().enumerate() {
        // Later than every stamp of the rounds before (they end at base + 40 s).
        let base = start + (k as u64 + 1) * 60 * SECOND;
        let reg = devs[0]
            .store
            .register_household(
                &household(&format!("Keluarga {k}")),
                &[
                    person(&format!("Ibu {k}"), "female", "1994-04-04"),
                    person(&format!("Anak {k}"), "male", "2024-02-02"),
                ],
                &[(1, 0)],
            )
            .unwrap();
        let (h, child) = (reg.household, reg.persons[1]);
        for d in devs.iter_mut() {
            assert_eq!(d.sync().await.rejected, 0);
        }
        let h0 = devs[2].store.household(h).unwrap().values;
        let c0 = devs[2].store.person(child).unwrap().values;

        // Kader 1, offline.
        let d = &mut devs[0];
        d.set_physical(&clocks[0], base);
        d.store
            .update_household(
                h,
                body(json!({"head_name": format!("Kepala K1 {k}"), "rt": "011",
                            "water_source": "well"})),
            )
            .unwrap();
        let k1_h = last_stamp(d);
        d.store
            .update_person(
                child,
                body(json!({"name": format!("Anak K1 {k}"), "has_kms": true})),
            )
            .unwrap();
        let k1_c = last_stamp(d);
        let w1 = d
            .store
            .save_measurement(child, None, &real_today(), &weight(10.1))
            .unwrap();
        // Kader 2, offline, 20 s later.
        let d = &mut devs[1];
        d.set_physical(&clocks[1], base + 20 * SECOND);
        d.store
            .update_household(
                h,
                body(json!({"head_name": format!("Kepala K2 {k}"), "rt": "012",
                            "dusun": "Dusun B"})),
            )
            .unwrap();
        let k2_h = last_stamp(d);
        d.store
            .update_person(child, body(json!({"phone": "081200001111", "rt": "021"})))
            .unwrap();
        let k2_c = last_stamp(d);
        let w2 = d
            .store
            .save_measurement(child, None, &real_today(), &weight(10.2))
            .unwrap();
        let baby = d
            .store
            .add_member(h, &person(&format!("Bayi {k}"), "female", "2026-06-01"))
            .unwrap()
            .persons[0];
        // The bidan, offline, 20 s later again.
        let d = &mut devs[2];
        d.set_physical(&clocks[2], base + 40 * SECOND);
        d.store
            .update_household(
                h,
                body(json!({"head_name": format!("Kepala Bd {k}"), "phone": "081300002222"})),
            )
            .unwrap();
        d.store
            .update_person(
                child,
                body(json!({"name": format!("Anak Bd {k}"), "rt": "022",
                            "jkn_number": "0001234567890"})),
            )
            .unwrap();
        let w3 = d
            .store
            .save_measurement(child, None, &real_today(), &weight(10.3))
            .unwrap();
        let note = d
            .store
            .add_note(Some(child), None, "Perlu kunjungan rumah")
            .unwrap();

        for round in 0..2 {
            for &i in order {
                let r = devs[i].sync().await;
                assert_eq!(r.rejected, 0, "order {order:?}, round {round}: {r:?}");
            }
        }

        // Each field: the latest edit; the other edits of a field edited by several are
        // conflicts, the same on every tablet and on the server.
        let want_h = with(
            &h0,
            json!({"head_name": format!("Kepala Bd {k}"), "rt": "012", "water_source": "well",
                   "dusun": "Dusun B", "phone": "081300002222"}),
        );
        let want_c = with(
            &c0,
            json!({"name": format!("Anak Bd {k}"), "has_kms": true, "phone": "081200001111",
                   "rt": "022", "jkn_number": "0001234567890"}),
        );
        let want_conflicts: BTreeSet<_> = [
            key(h, "head_name", k1_h),
            key(h, "head_name", k2_h),
            key(h, "rt", k1_h),
            key(child, "name", k1_c),
            key(child, "rt", k2_c),
        ]
        .into();
        all_conflicts.extend(want_conflicts.iter().cloned());
        let sv = server.view(NAITIMU).await;
        assert_fields(
            &format!("order {order:?}: server household"),
            values(&sv, h),
            &want_h,
        );
        assert_fields(
            &format!("order {order:?}: server child"),
            values(&sv, child),
            &want_c,
        );
        for (i, d) in devs.iter().enumerate() {
            let what = format!("order {order:?}, tablet {i}");
            let hv = d.store.household(h).unwrap();
            assert_fields(&format!("{what}: household"), &hv.values, &want_h);
            let members: BTreeSet<_> = hv.members.iter().map(|m| m.id).collect();
            assert_eq!(
                members,
                BTreeSet::from([reg.persons[0], child, baby]),
                "{what}"
            );
            let pc = d.store.person(child).unwrap();
            assert_fields(&format!("{what}: child"), &pc.values, &want_c);
            assert_eq!(pc.name, format!("Anak Bd {k}"), "{what}");
            let v = d.view();
            let mine: BTreeSet<_> = v
                .conflicts
                .iter()
                .filter(|c| c.record == h || c.record == child)
                .cloned()
                .collect();
            assert_eq!(mine, want_conflicts, "{what}: conflicts");
            // No fact lost: every weighing, and the note, on every tablet.
            assert_eq!(
                v.facts_of(EntityKind::Measurement, child),
                BTreeSet::from([w1, w2, w3]),
                "{what}"
            );
            assert!(
                v.facts_of(EntityKind::Note, child).contains(&note),
                "{what}"
            );
            assert_same(&what, &v, &sv);
            assert_eq!(d.store.sync_counts().unwrap().pending, 0, "{what}");
        }
    }
    // Every record is in Mawar: the kaders' scope and the bidan's hold the same.
    let sv = server.view(NAITIMU).await;
    assert_same("Mawar and Naitimu", &server.view(MAWAR).await, &sv);
    assert_eq!(sv.conflicts, all_conflicts);
    assert_eq!(sv.conflicts.len(), 6 * 5);
    server.stop().await;
}

/// A tablet whose clock falls back (a flat battery resets it a year; later someone sets it a
/// week wrong) still stamps its edits after everything it has seen, so an edit made after
/// seeing another wins over it; the server refuses nothing and nothing is lost. An edit it
/// makes without having seen a concurrent one is ordered by what it saw, not by the real
/// time: the other edit wins and its own is kept as a conflict for review.
async fn a_tablet_set_back_a_year_or_a_week_stamps_its_edits_after_what_it_saw(backend: Backend) {
    let server = Server::start_on(backend).await;
    let t0 = now_ms();
    let (a_clock, c_clock) = (ManualClock::new(t0), ManualClock::new(t0));
    let mut a = Device::enrol_clocked(&server, "kader.mawar", &a_clock).await;
    let mut c = Device::enrol_clocked(&server, "kader.mawar2", &c_clock).await;
    let reg = a
        .store
        .register_household(
            &household("Yosef Tae"),
            &[
                person("Maria Tae", "female", "1993-03-03"),
                person("Anak Tae", "female", "2024-02-02"),
            ],
            &[(1, 0)],
        )
        .unwrap();
    let (h, child) = (reg.household, reg.persons[1]);
    a.sync().await;
    c.sync().await;
    let seen = c.store.hybrid_clock().unwrap().max_observed;

    // 1. C's clock falls back a year. Offline, C renames the child and weighs her: the edit
    //    is stamped just after what C saw, not a year back.
    c_clock.set(c_clock.now_ms() - 365 * DAY);
    c.store
        .update_person(child, body(json!({"name": "Anak Tae C"})))
        .unwrap();
    let c1 = last_stamp(&c);
    assert!(c1.hlc > seen, "{c1} after {seen}");
    assert!(c1.hlc.wall_ms < t0 + 60 * SECOND, "{c1}");
    // The form offers the tablet's own date, a year back: saved as the kader confirmed it.
    let c_day = c.store.today().unwrap().format("%Y-%m-%d").to_string();
    assert_ne!(c_day, real_today());
    let w = c
        .store
        .save_measurement(child, None, &c_day, &weight(12.5))
        .unwrap();

    // 2. A, a minute on, renames the child too (not having seen C's name) and sets the RT.
    a.set_physical(&a_clock, t0 + 60 * SECOND);
    a.store
        .update_person(child, body(json!({"name": "Anak Tae A"})))
        .unwrap();
    let a2 = last_stamp(&a);
    a.store
        .update_household(h, body(json!({"rt": "033"})))
        .unwrap();
    assert_eq!(a.sync().await.sent, 2);

    // 3. C syncs: nothing refused. A's name, the later one, wins; C's is kept as a conflict.
    let r = c.sync().await;
    assert_eq!((r.sent, r.rejected, r.restamped), (2, 0, 0), "{r:?}");
    assert_eq!(c.store.person(child).unwrap().name, "Anak Tae A");
    // The status call set C's corrected time right again.
    let physical = c
        .store
        .hybrid_clock()
        .unwrap()
        .physical_ms(c_clock.now_ms());
    assert!(physical.abs_diff(now_ms()) < 60 * SECOND, "{physical}");

    // 4. A sets the child's phone; then C's clock is set a week back, and C, having seen
    //    A's name and RT but not the phone, renames the child again, changes the RT and sets
    //    the phone. C's edits order after what it saw (they win over A's name and RT), but
    //    not after A's phone, which C had not seen: A's phone wins, C's is a conflict.
    a.set_physical(&a_clock, t0 + 70 * SECOND);
    a.store
        .update_person(child, body(json!({"phone": "081100000001"})))
        .unwrap();
    let a_phone = last_stamp(&a);
    assert_eq!(a.sync().await.sent, 1);
    c_clock.set(c_clock.now_ms() - 7 * DAY);
    c.store
        .update_person(
            child,
            body(json!({"name": "Anak Tae Baru", "phone": "081100000002"})),
        )
        .unwrap();
    let c3 = last_stamp(&c);
    c.store
        .update_household(h, body(json!({"rt": "044"})))
        .unwrap();
    let c3_rt = last_stamp(&c);
    assert!(c3 > a2 && c3_rt > c3 && c3 < a_phone, "{c3} {a2} {a_phone}");
    let r = c.sync().await;
    assert_eq!((r.sent, r.rejected, r.restamped), (2, 0, 0), "{r:?}");
    let r = a.sync().await;
    assert_eq!(r.rejected, 0, "{r:?}");

    let sv = server.view(MAWAR).await;
    assert_same("A", &a.view(), &sv);
    assert_same("C", &c.view(), &sv);
    let pc = values(&sv, child);
    assert_eq!(pc["name"], json!("Anak Tae Baru"));
    assert_eq!(pc["phone"], json!("081100000001"));
    assert_eq!(values(&sv, h)["rt"], json!("044"));
    assert_eq!(
        sv.conflicts,
        BTreeSet::from([key(child, "name", c1), key(child, "phone", c3)])
    );
    // Nothing lost: the weighing C made with its clock a year back is everywhere.
    assert_eq!(
        sv.facts_of(EntityKind::Measurement, child),
        BTreeSet::from([w])
    );
    let Rec::Fact { body: wb, .. } = &sv.records[&w] else {
        panic!("weighing")
    };
    assert_eq!((&wb["date"], &wb["value"]), (&json!(c_day), &json!(12.5)));
    for d in [&a, &c] {
        assert!(d.store.rejected_changes().unwrap().is_empty());
        assert_eq!(d.store.sync_counts().unwrap().pending, 0);
    }
    server.stop().await;
}

/// The server ends a session (its expiry passed, as the server stores it) while the tablet
/// still believes in it: the run stops with `LoginRequired` before anything moves either way,
/// the tablet keeps everything; with the secret the next run logs in again and completes.
async fn an_expired_session_is_refused_keeps_the_data_and_the_secret_renews_it(backend: Backend) {
    let server = Server::start_on(backend).await;
    let mut a = Device::enrol(&server, "kader.mawar").await;
    let mut b = Device::enrol(&server, "kader.mawar2").await;
    let (first, _) = family(&mut a, MAWAR, "Fransiskus Nahak");
    assert_eq!(a.sync().await.sent, 4);
    // Waiting on A: an edit and a new family. Meanwhile B records a family of its own.
    a.store
        .update_household(first.household, body(json!({"rt": "005"})))
        .unwrap();
    let (second, _) = family(&mut a, MAWAR, "Yakobus Bere");
    let (from_b, _) = family(&mut b, MAWAR, "Kornelis Asa");
    assert_eq!(b.sync().await.sent, 4);

    // The session the tablet holds ended yesterday by the server's record.
    let token = "test-session-that-the-server-has-ended";
    let user = server
        .store
        .user_by_username("kader.mawar".into())
        .await
        .unwrap()
        .unwrap();
    let now = now_ms();
    server
        .store
        .create_session(
            district_server::auth::hash_secret(token),
            user.id,
            a.store.device_id(),
            now - 31 * DAY,
            now - DAY,
            None,
        )
        .await
        .unwrap();
    let scope = a.store.scope().unwrap().unwrap();
    a.store.save_session(token, now + DAY, &scope).unwrap();
    let before = a.view();
    let err = a.client.sync(&mut a.store, None).await.unwrap_err();
    assert!(matches!(err, SyncError::LoginRequired), "{err:?}");
    assert_eq!(err.message_key(), "sync.error.login_required");
    let st = a.store.sync_state().unwrap();
    assert_eq!(
        st.last_error.map(|e| e.0).as_deref(),
        Some("sync.error.login_required")
    );
    assert_eq!(
        st.session_expires_at, None,
        "the ended session is forgotten"
    );
    assert!(a.sleeper.delays().is_empty(), "not retried");
    // Nothing moved: the tablet holds exactly what it held, with 5 changes waiting, and
    // the server has none of them.
    assert_same("A after the refusal", &a.view(), &before);
    assert_eq!(a.store.sync_counts().unwrap().pending, 5);
    assert!(a.store.household(from_b.household).is_err());
    let on_server = server
        .changes(MAWAR)
        .await
        .into_iter()
        .filter(|c| c.device == a.store.device_id())
        .count();
    assert_eq!(on_server, 4);

    // With the secret: a new login, then the waiting changes go and B's family comes.
    let r = a.sync().await;
    assert_eq!((r.sent, r.rejected, r.waiting), (5, 0, 0), "{r:?}");
    let st = a.store.sync_state().unwrap();
    assert!(st.session_expires_at.unwrap() > now + 29 * DAY, "{st:?}");
    assert_eq!(st.last_error, None);
    b.sync().await;
    let sv = server.view(MAWAR).await;
    assert_same("A", &a.view(), &sv);
    assert_same("B", &b.view(), &sv);
    assert_eq!(values(&sv, first.household)["rt"], json!("005"));
    for id in [second.household, from_b.household] {
        assert!(sv.records.contains_key(&id));
    }
    server.stop().await;
}

/// Tablets outside an area are refused (`out_of_scope`) for what they push into it, keep it
/// with the reason, and leak nothing into it; and every tablet's pulls hold its own area's
/// records only.
async fn a_tablet_outside_the_area_is_refused_and_pulls_stay_inside_each_area(backend: Backend) {
    let server = Server::start_on(backend).await;
    server.add_user("kader.anggrek", Role::Kader, ANGGREK).await;
    let mut m = Device::enrol(&server, "kader.mawar").await;
    let mut l = Device::enrol(&server, "kader.melati").await;
    let mut g = Device::enrol(&server, "kader.anggrek").await;
    let mut bd = Device::enrol(&server, "bidan.naitimu").await;
    let (mawar, mawar_w) = family(&mut m, MAWAR, "Keluarga Mawar");
    let (melati, _) = family(&mut l, MELATI, "Keluarga Melati");
    family(&mut g, ANGGREK, "Keluarga Anggrek");
    for d in [&mut m, &mut l, &mut g, &mut bd] {
        assert_eq!(d.sync().await.rejected, 0);
    }

    // The Melati kader's tablet got the Mawar family by other means (a copied export), as
    // if pulled.
    let mut exported = Vec::new();
    m.store
        .export_changes(|c| {
            exported.push(c.clone());
            Ok(())
        })
        .unwrap();
    l.store.apply_pulled(&exported, None, None).unwrap();
    let side_loaded: BTreeSet<RecordId> = exported.iter().map(|c| c.id).collect();
    let l_before = l.view();
    // On it, the Melati kader records a family in Mawar, edits the Mawar household, weighs
    // the Mawar child; and edits her own Melati household (allowed).
    let (intruder, _) = family(&mut l, MAWAR, "Keluarga Salah");
    l.store
        .update_household(mawar.household, body(json!({"rt": "099"})))
        .unwrap();
    l.store
        .save_measurement(mawar.persons[1], None, &real_today(), &weight(9.9))
        .unwrap();
    l.store
        .update_household(melati.household, body(json!({"rt": "055"})))
        .unwrap();
    // The Naitimu bidan records a family in Anggrek (another desa).
    let (bd_intruder, _) = family(&mut bd, ANGGREK, "Keluarga Lain Desa");

    let r = l.sync().await;
    assert_eq!((r.sent, r.rejected, r.waiting), (1, 6, 0), "{r:?}");
    let refused = l.store.rejected_changes().unwrap();
    assert_eq!(refused.len(), 6);
    for (c, why) in &refused {
        let why = why.as_ref().expect("reason kept");
        assert_eq!(why.key, "sync.reject.out_of_scope", "{c:?}");
        if c.body.contains_key("posyandu") {
            assert_eq!(c.body["posyandu"], json!(MAWAR));
            assert_eq!(why.field.as_deref(), Some("posyandu"));
        } else {
            assert_eq!(c.id, mawar.household, "the edit of the Mawar household");
        }
    }
    // Kept on the tablet as refused, and taken out of its records: the Mawar family is as
    // it came, the family recorded in Mawar is gone; the Melati edit went through.
    assert_eq!(l.store.sync_counts().unwrap().rejected, 6);
    assert!(l.store.household(intruder.household).is_err());
    let lv = l.view();
    assert_same(
        "the Mawar records on the Melati tablet",
        &lv.within(&[MAWAR]),
        &l_before.within(&[MAWAR]),
    );
    assert_eq!(values(&lv, melati.household)["rt"], json!("055"));
    let r = bd.sync().await;
    assert_eq!((r.sent, r.rejected), (0, 4), "{r:?}");
    assert!(bd.store.household(bd_intruder.household).is_err());
    for (_, why) in bd.store.rejected_changes().unwrap() {
        assert_eq!(why.unwrap().key, "sync.reject.out_of_scope");
    }

    // Nothing leaked: the server holds no refused change, and the Mawar tablet, synced
    // again, holds exactly the server's Mawar records, unchanged.
    let all = server.changes(DISTRICT).await;
    assert!(
        all.iter()
            .all(|c| c.id != intruder.household && c.id != bd_intruder.household)
    );
    let from_l: Vec<_> = all
        .iter()
        .filter(|c| c.device == l.store.device_id())
        .collect();
    assert!(
        from_l
            .iter()
            .all(|c| c.body.get("posyandu").is_none_or(|p| p == MELATI)
                && !side_loaded.contains(&c.id)),
        "{from_l:?}"
    );
    for d in [&mut m, &mut l, &mut g, &mut bd] {
        assert_eq!(d.sync().await.rejected, 0);
    }
    let mv = m.view();
    assert_eq!(values(&mv, mawar.household)["rt"], json!("001"));
    assert_eq!(
        mv.facts_of(EntityKind::Measurement, mawar.persons[1]),
        BTreeSet::from([mawar_w])
    );

    // Every tablet's records are its area's and exactly what the server holds for it (the
    // Melati tablet's side-loaded Mawar records aside).
    let mut lv = l.view();
    lv.records.retain(|id, _| !side_loaded.contains(id));
    for (who, v, scope, area) in [
        ("Mawar", mv, MAWAR, vec![MAWAR]),
        ("Melati", lv, MELATI, vec![MELATI]),
        ("Anggrek", g.view(), ANGGREK, vec![ANGGREK]),
        ("bidan Naitimu", bd.view(), NAITIMU, vec![MAWAR, MELATI]),
    ] {
        let area: BTreeSet<String> = area.into_iter().map(String::from).collect();
        assert_eq!(v.posyandu(), area, "{who}");
        assert_same(who, &v, &server.view(scope).await);
    }
    server.stop().await;
}

/// A fresh tablet enrolled in an area with history (records of several tablets in two
/// posyandu of one desa and in another desa; edits, a conflict, corrections, retracted
/// facts) receives exactly its area: the same records and values as the server holds for
/// that scope and as the tablets that made the history hold for that area.
async fn a_fresh_tablet_receives_exactly_its_area_and_its_history(backend: Backend) {
    let server = Server::start_on(backend).await;
    server.add_user("kader.anggrek", Role::Kader, ANGGREK).await;
    let mut m1 = Device::enrol(&server, "kader.mawar").await;
    let mut m2 = Device::enrol(&server, "kader.mawar2").await;
    let mut bd = Device::enrol(&server, "bidan.naitimu").await;
    let mut l = Device::enrol(&server, "kader.melati").await;
    let mut g = Device::enrol(&server, "kader.anggrek").await;
    let today = real_today();

    // Mawar: kader 1's family; kader 2 corrects its weighing, adds a family, sets the RT.
    let (f1, w1) = family(&mut m1, MAWAR, "Benediktus Luan");
    let w_mother = m1
        .store
        .save_measurement(f1.persons[0], None, &today, &weight(55.0))
        .unwrap();
    m1.sync().await;
    m2.sync().await;
    let c1 = m2
        .store
        .correct_fact(w1, body(json!({"value": 11.4})))
        .unwrap();
    let (f2, _) = family(&mut m2, MAWAR, "Agustina Soi");
    m2.store
        .update_household(f1.household, body(json!({"rt": "007"})))
        .unwrap();
    m2.sync().await;
    // The bidan and kader 1 both set the phone of family 1 offline: a conflict. The bidan
    // retracts the mother's weighing and leaves a note.
    bd.sync().await;
    m1.store
        .update_household(f1.household, body(json!({"phone": "081111111111"})))
        .unwrap();
    let m1_phone = last_stamp(&m1);
    bd.store
        .update_household(f1.household, body(json!({"phone": "081222222222"})))
        .unwrap();
    let bd_phone = last_stamp(&bd);
    bd.store.retract_fact(w_mother).unwrap();
    bd.store
        .add_note(Some(f1.persons[1]), None, "Gizi kurang, kunjungan ulang")
        .unwrap();
    // Melati: the kader's family with two weighings (one, mistyped, retracted); the bidan corrects the
    // other and renames the child.
    let (f3, w3) = family(&mut l, MELATI, "Martinus Taek");
    let w3b = l
        .store
        .save_measurement(f3.persons[1], None, &today, &weight(19.5))
        .unwrap();
    l.store.retract_fact(w3b).unwrap();
    l.sync().await;
    bd.sync().await;
    bd.store
        .correct_fact(w3, body(json!({"value": 11.8})))
        .unwrap();
    bd.store
        .update_person(f3.persons[1], body(json!({"name": "Anak Martinus Taek"})))
        .unwrap();
    // Anggrek, the other desa: a family, an edit, a retracted weighing and a new one.
    let (f4, w4) = family(&mut g, ANGGREK, "Paulina Mau");
    g.store
        .update_household(f4.household, body(json!({"head_name": "Paulina Mau Bere"})))
        .unwrap();
    g.store.retract_fact(w4).unwrap();
    g.store
        .save_measurement(f4.persons[1], None, &today, &weight(11.2))
        .unwrap();
    // Everyone syncs until everyone has everything of their area.
    for _ in 0..2 {
        for d in [&mut m1, &mut m2, &mut bd, &mut l, &mut g] {
            assert_eq!(d.sync().await.rejected, 0);
        }
    }

    // Fresh tablets: a second one for kader 1 (pages of 5) and one for the bidan.
    let mut fm = Device::enrol_with(
        &server,
        "kader.mawar",
        opts(),
        client_with(|c| c.pull_limit = 5),
    )
    .await;
    let mut fb = Device::enrol(&server, "bidan.naitimu").await;
    let r = fm.sync().await;
    assert!(r.pull_requests > 1, "{r:?}");
    fb.sync().await;

    let sm = server.view(MAWAR).await;
    let sn = server.view(NAITIMU).await;
    let fmv = fm.view();
    let fbv = fb.view();
    assert_same("fresh Mawar tablet vs server", &fmv, &sm);
    assert_same("fresh Mawar tablet vs kader 1", &fmv, &m1.view());
    assert_same("fresh Mawar tablet vs kader 2", &fmv, &m2.view());
    assert_same(
        "fresh Mawar tablet vs the bidan's Mawar",
        &fmv,
        &bd.view().within(&[MAWAR]),
    );
    assert_same("fresh bidan tablet vs server", &fbv, &sn);
    assert_same("fresh bidan tablet vs the bidan", &fbv, &bd.view());
    assert_same(
        "fresh bidan tablet's Melati vs the Melati kader",
        &fbv.within(&[MELATI]),
        &l.view(),
    );
    assert_eq!(fmv.posyandu(), BTreeSet::from([MAWAR.to_string()]));
    assert_eq!(
        fbv.posyandu(),
        BTreeSet::from([MAWAR.to_string(), MELATI.to_string()])
    );
    let anggrek: BTreeSet<RecordId> = g.view().records.keys().copied().collect();
    assert!(fbv.records.keys().all(|id| !anggrek.contains(id)));

    // The history, as it should read on the fresh tablet.
    assert_eq!(
        values(&fmv, f1.household)["phone"],
        json!(if bd_phone > m1_phone {
            "081222222222"
        } else {
            "081111111111"
        })
    );
    assert_eq!(values(&fmv, f1.household)["rt"], json!("007"));
    assert_eq!(
        fmv.conflicts,
        BTreeSet::from([key(f1.household, "phone", bd_phone.min(m1_phone))])
    );
    let fact = |v: &View, id: RecordId| v.records[&id].clone();
    assert!(fact(&fmv, w_mother).deleted(), "retracted");
    assert!(matches!(fact(&fmv, c1), Rec::Fact { supersedes: Some(s), .. } if s == w1));
    assert!(fmv.records.contains_key(&f2.household));
    assert_eq!(
        fm.store
            .person_timeline(f1.persons[1])
            .unwrap()
            .entries
            .len(),
        3
    );
    assert!(fact(&fbv, w3b).deleted());
    assert_eq!(
        fb.store.person(f3.persons[1]).unwrap().name,
        "Anak Martinus Taek"
    );
    assert!(fbv.records.contains_key(&w3));
    assert_eq!(fb.store.sync_counts().unwrap().pending, 0);
    server.stop().await;
}

both_backends!(
    three_tablets_editing_one_family_offline_converge_in_every_sync_order,
    a_tablet_set_back_a_year_or_a_week_stamps_its_edits_after_what_it_saw,
    an_expired_session_is_refused_keeps_the_data_and_the_secret_renews_it,
    a_tablet_outside_the_area_is_refused_and_pulls_stay_inside_each_area,
    a_fresh_tablet_receives_exactly_its_area_and_its_history,
);
