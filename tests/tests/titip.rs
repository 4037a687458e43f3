//! Titip (docs/sync-protocol.md section 10): a kader's tablet that never reaches the server
//! syncs through a bidan's tablet, with a real district server over HTTP and the fault proxy
//! cutting the kader off.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use field_core::sync::SyncError;
use field_core::{HomeVisitInput, MemberPanel, ReferralInput};
use std::collections::BTreeSet;
use sync_protocol::relay::{self, KeyPair, RelayError};

/// A kader's household with a mother and a child, and a home visit that refers the mother.
/// Returns the referral's id.
fn refer(store: &mut field_core::Store) -> sync_protocol::RecordId {
    let reg = store
        .register_household(
            &household("Yohanes Bria"),
            &[
                person("Maria Bria", "female", "1995-03-02"),
                person("Yohana Bria", "female", "2024-01-10"),
            ],
            &[(1, 0)],
        )
        .unwrap();
    let today = store.today().unwrap().format("%Y-%m-%d").to_string();
    let hv = store
        .record_home_visit(&HomeVisitInput {
            household: reg.household,
            date: today,
            panels: vec![MemberPanel {
                person: reg.persons[0],
                services: Default::default(),
                findings: Some("Batuk 3 minggu".into()),
                education: None,
                follow_up_date: None,
                reminded_to_facility: Some(true),
                reported_to_health_worker: None,
                referral: Some(ReferralInput {
                    reason: "Suspek TB".into(),
                    destination: "puskesmas".into(),
                    destination_name: Some("Puskesmas Halilulik".into()),
                }),
            }],
            household_update: None,
            family_acknowledged: None,
        })
        .unwrap();
    hv.panels[0].saved.referral.expect("a referral")
}

/// A tablet's titip key pair, read from its own database (a test's way to "be" the carrier).
fn keys_of(store: &field_core::Store) -> KeyPair {
    let secret: Vec<u8> = store
        .connection()
        .query_row("SELECT secret FROM titip_keys WHERE id = 1", [], |r| {
            r.get(0)
        })
        .unwrap();
    KeyPair::from_bytes(&secret.try_into().unwrap())
}

/// Every (device, seq) the server logged for Mawar, and how often.
async fn logged(server: &Server) -> (usize, BTreeSet<(String, u64)>) {
    let all = server.changes(MAWAR).await;
    let set: BTreeSet<_> = all.iter().map(|c| (c.device.to_string(), c.seq)).collect();
    (all.len(), set)
}

/// A kader cut off from the server gets her changes to it through the bidan's tablet, and
/// the bidan's referral update back the same way.
async fn a_cut_off_kader_syncs_through_the_bidans_tablet(backend: Backend) {
    let server = Server::start_on(backend).await;
    let proxy = Proxy::start(server.addr).await;
    let mut kader = Device::enrol_at(&server, &proxy.url(), "kader.mawar", opts(), client()).await;
    let mut bidan = Device::enrol(&server, "bidan.naitimu").await;
    assert!(kader.store.titip_ready().unwrap());
    // The kader's village has no signal from now on.
    proxy.cut();
    let referral = refer(&mut kader.store);
    let made = kader.store.pending_changes(1000).unwrap();
    assert!(made.len() >= 5, "{}", made.len());
    let err = kader
        .client
        .sync(&mut kader.store, Some(PASSWORD))
        .await
        .unwrap_err();
    assert!(matches!(err, SyncError::Network(_)), "{err:?}");

    // The kader seals; the bidan carries; the carrier cannot read it.
    let bundle = kader.store.seal_titip(None, 2000).unwrap();
    assert_eq!(bidan.store.carry_titip(&bundle).unwrap(), 1);
    assert_eq!(bidan.store.carry_titip(&bundle).unwrap(), 0, "kept once");
    let sealed = relay::parse(&bundle).unwrap();
    assert_eq!(sealed.header.device, kader.store.device_id());
    assert_eq!(sealed.header.count, Some(made.len() as u64));
    let limits = sync_protocol::Limits::default();
    assert_eq!(
        sealed.decrypt(&keys_of(&bidan.store), &limits),
        Err(RelayError::Decrypt),
        "the carrier's own key does not open it"
    );

    // The bidan's own sync hands it over; the server judged it as the kader's push.
    let r = bidan.sync().await;
    assert_eq!((r.titip_handed, r.titip_refused), (1, 0), "{r:?}");
    let (n, set) = logged(&server).await;
    assert_eq!(n, made.len());
    for c in &made {
        assert!(set.contains(&(c.device.to_string(), c.seq)), "{c:?}");
    }
    let (count, _) = {
        let c = bidan.store.titip_carried().unwrap();
        (c.len(), c)
    };
    assert_eq!(count, 1);

    // The bidan receives the referral (next sync) and takes it in.
    bidan.sync().await;
    let today = bidan.store.today().unwrap().format("%Y-%m-%d").to_string();
    bidan
        .store
        .advance_referral(referral, "received", &today, None)
        .unwrap();
    bidan.sync().await;

    // The first answer back: the kader's changes are confirmed.
    let (answers, k) = bidan.store.collect_titip().unwrap();
    assert_eq!(k, 1);
    let opened = kader.store.open_titip(&answers).unwrap();
    assert_eq!(opened.confirmed, made.len() as u64, "{opened:?}");
    assert_eq!(kader.store.pending_changes(1000).unwrap().len(), 0);
    assert_eq!(
        kader.store.referral(referral).unwrap().referral.status,
        "made"
    );

    // A second bundle (nothing to send: it asks for news) brings the bidan's update back.
    let ask = kader.store.seal_titip(None, 2000).unwrap();
    assert_eq!(bidan.store.carry_titip(&ask).unwrap(), 1);
    let r = bidan.sync().await;
    assert_eq!(r.titip_handed, 1, "{r:?}");
    let (answers, k) = bidan.store.collect_titip().unwrap();
    assert_eq!(k, 2, "collect gives every answer kept");
    let opened = kader.store.open_titip(&answers).unwrap();
    assert_eq!(opened.answers, 2, "{opened:?}");
    assert_eq!(
        opened.confirmed, 0,
        "the first answer was counted when it was opened: {opened:?}"
    );
    assert!(opened.received >= 1, "{opened:?}");
    assert_eq!(
        kader.store.referral(referral).unwrap().referral.status,
        "received"
    );
    let sent = kader.store.titip_sent().unwrap();
    assert_eq!(sent.len(), 2);
    assert!(sent.iter().all(|s| s.answered_ms.is_some()), "{sent:?}");
    // The server remembers the last contact by titip.
    assert_eq!(
        logged(&server).await.0,
        made.len() + 2,
        "the bidan's two changes"
    );
    server.stop().await;
}

/// The same bundle twice, out of order, after a direct sync, or truncated: no duplicates and
/// no loss.
async fn repeated_reordered_late_and_truncated_bundles(backend: Backend) {
    let server = Server::start_on(backend).await;
    let proxy = Proxy::start(server.addr).await;
    let mut kader = Device::enrol_at(&server, &proxy.url(), "kader.mawar", opts(), client()).await;
    let mut bidan = Device::enrol(&server, "bidan.naitimu").await;
    let mut other = Device::enrol(&server, "kader.mawar2").await;
    proxy.cut();
    refer(&mut kader.store);
    let first = kader.store.pending_changes(1000).unwrap();
    let a = kader.store.seal_titip(None, 2000).unwrap();
    kader
        .store
        .register_household(
            &household("Agustinus Mau"),
            &[person("Agustinus Mau", "male", "1980-05-01")],
            &[],
        )
        .unwrap();
    let all = kader.store.pending_changes(1000).unwrap();
    let next = first.last().unwrap().seq + 1;
    let b = kader.store.seal_titip(Some(next), 2000).unwrap();
    assert_eq!(relay::parse(&b).unwrap().header.first_seq, Some(next));

    // Out of order: B first (acked_seq cannot move past the gap), then A.
    bidan.store.carry_titip(&b).unwrap();
    assert_eq!(bidan.sync().await.titip_handed, 1);
    let (n, _) = logged(&server).await;
    assert_eq!(n, all.len() - first.len());
    // A truncated copy of A: refused, reported, nothing judged.
    let truncated = &a[..a.len() - 10];
    other.store.carry_titip(truncated).unwrap();
    let r = other.sync().await;
    assert_eq!((r.titip_handed, r.titip_refused), (0, 1), "{r:?}");
    // A whole, once: everything is there, each change once.
    other.store.carry_titip(&a).unwrap();
    assert_eq!(other.sync().await.titip_handed, 1);
    let (n, set) = logged(&server).await;
    assert_eq!(n, all.len());
    assert_eq!(set.len(), all.len());
    // The same A again, by another carrier: every change a duplicate, nothing stored twice.
    bidan.store.carry_titip(&a).unwrap();
    assert_eq!(bidan.sync().await.titip_handed, 1);
    assert_eq!(logged(&server).await.0, all.len());
    let (pack, _) = bidan.store.collect_titip().unwrap();
    // The kader opens the answers (B's, then A's twice): everything confirmed.
    let opened = kader.store.open_titip(&pack).unwrap();
    assert_eq!(opened.acked_seq, all.last().unwrap().seq, "{opened:?}");
    assert_eq!(
        kader.store.pending_changes(1000).unwrap().len(),
        0,
        "{opened:?} {:?}",
        kader.store.titip_sent().unwrap()
    );

    // After a direct sync: a late copy of an old bundle changes nothing.
    kader
        .store
        .register_household(
            &household("Fransiska Luruk"),
            &[person("Fransiska Luruk", "female", "1990-01-01")],
            &[],
        )
        .unwrap();
    let late = kader.store.seal_titip(None, 2000).unwrap();
    proxy.restore();
    let r = kader.sync().await;
    assert!(r.sent >= 2, "{r:?}");
    let before = logged(&server).await.0;
    other.store.carry_titip(&late).unwrap();
    assert_eq!(other.sync().await.titip_handed, 1);
    assert_eq!(
        logged(&server).await.0,
        before,
        "nothing new from a late bundle"
    );
    let (pack, _) = other.store.collect_titip().unwrap();
    // Opening the late answer does not undo anything (and does not move the cursor back; it
    // may move it forward past the kader's own changes, as a pull that finds nothing new does).
    let seq = |c: Option<String>| -> u64 {
        let c = c.expect("a cursor");
        c.trim_start_matches('s')
            .split('.')
            .next()
            .and_then(|n| n.parse().ok())
            .expect("a cursor s<seq>.<tag>")
    };
    let cursor = seq(kader.store.pull_cursor().unwrap());
    kader.store.open_titip(&pack).unwrap();
    assert!(seq(kader.store.pull_cursor().unwrap()) >= cursor);
    assert_eq!(kader.store.pending_changes(1000).unwrap().len(), 0);
    server.stop().await;
}

/// A bundle altered by its carrier, re-signed by it, or sealed by a revoked tablet: refused,
/// reported to admins, and the carrier's own sync goes on.
async fn altered_and_revoked_bundles_are_refused_and_reported(backend: Backend) {
    let server = Server::start_on(backend).await;
    let mut kader = Device::enrol(&server, "kader.mawar").await;
    let mut bidan = Device::enrol(&server, "bidan.naitimu").await;
    refer(&mut kader.store);
    let bundle = kader.store.seal_titip(None, 2000).unwrap();

    // One byte of the ciphertext changed.
    let mut altered = bundle.clone();
    let mid = altered.len() / 2;
    altered[mid] ^= 0x01;
    bidan.store.carry_titip(&altered).unwrap();
    // Re-signed with the carrier's own key after the change.
    let mut resigned = bundle.clone();
    resigned[mid] ^= 0x02;
    let body = &resigned[..resigned.len() - 64];
    let forged = {
        // The carrier signs with its own Ed25519 seed (bytes 32..64 of its key pair).
        let mut out = body.to_vec();
        let k = keys_of(&bidan.store).to_bytes();
        let seed: [u8; 32] = k[32..].try_into().unwrap();
        let sig = relay_sign(&seed, body);
        out.extend_from_slice(&sig);
        out
    };
    bidan.store.carry_titip(&forged).unwrap();
    let r = bidan.sync().await;
    assert_eq!((r.titip_handed, r.titip_refused), (0, 2), "{r:?}");
    assert_eq!(logged(&server).await.0, 0, "nothing judged");
    let carried = bidan.store.titip_carried().unwrap();
    assert!(carried.iter().all(|c| c.refused.is_some()), "{carried:?}");
    let reports = server.store.titip_refusals(10).await.unwrap();
    assert_eq!(reports.len(), 2);
    assert!(
        reports.iter().all(
            |r| r.device.as_deref() == Some(&kader.store.device_id().to_string())
                && r.carrier == bidan.store.device_id().to_string()
        ),
        "{reports:?}"
    );

    // The kader's tablet is revoked: its bundle is refused, the bidan syncs on.
    server
        .store
        .revoke_device(kader.store.device_id(), district_server::model::now_ms())
        .await
        .unwrap();
    bidan.store.carry_titip(&bundle).unwrap();
    let r = bidan.sync().await;
    assert_eq!((r.titip_handed, r.titip_refused), (0, 1), "{r:?}");
    let reports = server.store.titip_refusals(10).await.unwrap();
    assert_eq!(reports.len(), 3);
    assert!(reports[0].reason.contains("revoked"), "{reports:?}");
    assert_eq!(logged(&server).await.0, 0);
    // Nothing is sent twice: a refused bundle stays refused.
    let r = bidan.sync().await;
    assert_eq!((r.titip_handed, r.titip_refused), (0, 0), "{r:?}");
    server.stop().await;
}

/// An Ed25519 signature by `seed` (the carrier forging a bundle with its own key).
fn relay_sign(seed: &[u8; 32], msg: &[u8]) -> [u8; 64] {
    relay::sign_detached(seed, msg)
}

/// A tablet without titip keys (enrolled before titip, or the answer to its registration
/// lost on the way) registers them at its next sync, with the same key pair when it had
/// already made one; keys the server does not know for it are refused without stopping the
/// sync.
async fn a_tablet_without_keys_registers_them_at_its_next_sync(backend: Backend) {
    let server = Server::start_on(backend).await;
    let mut kader = Device::enrol(&server, "kader.mawar").await;
    let mut bidan = Device::enrol(&server, "bidan.naitimu").await;
    let secret = keys_of(&kader.store).to_bytes();
    // Its key pair was made and sent, the server's answer never came back.
    kader
        .store
        .connection()
        .execute(
            "UPDATE titip_keys SET server_box = NULL, server_sign = NULL WHERE id = 1",
            [],
        )
        .unwrap();
    assert!(!kader.store.titip_ready().unwrap());
    kader.sync().await;
    assert!(kader.store.titip_ready().unwrap(), "registered again");
    assert_eq!(
        keys_of(&kader.store).to_bytes(),
        secret,
        "the same key pair"
    );
    // It seals again, and the server judges what it sealed.
    refer(&mut kader.store);
    let bundle = kader.store.seal_titip(None, 2000).unwrap();
    assert_eq!(bidan.store.carry_titip(&bundle).unwrap(), 1);
    let r = bidan.sync().await;
    assert_eq!((r.titip_handed, r.titip_refused), (1, 0), "{r:?}");

    // A key pair the server does not know for this device: refused, and the sync goes on.
    kader
        .store
        .connection()
        .execute(
            "UPDATE titip_keys SET secret = ?1, server_box = NULL, server_sign = NULL",
            [vec![9u8; 64]],
        )
        .unwrap();
    refer(&mut kader.store);
    let r = kader.sync().await;
    assert!(r.sent > 0, "{r:?}");
    assert!(!kader.store.titip_ready().unwrap());
    server.stop().await;
}

both_backends!(
    a_cut_off_kader_syncs_through_the_bidans_tablet,
    repeated_reordered_late_and_truncated_bundles,
    altered_and_revoked_bundles_are_refused_and_reported,
    a_tablet_without_keys_registers_them_at_its_next_sync,
);

/// The benchmark figure of issue 18: a month of one posyandu (300 changes: 100 households of
/// a head and a child) sealed, carried and judged, against a direct push of the same changes.
/// Bytes are asserted (a sealed bundle within 10 % of the push body); times are printed
/// (`cargo test -p system-tests --test titip -- month --nocapture`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_posyandu_month_sealed_carried_and_judged() {
    use std::time::Instant;
    let server = Server::start().await;
    let mut kader = Device::enrol(&server, "kader.mawar").await;
    let mut bidan = Device::enrol(&server, "bidan.naitimu").await;
    for i in 0..100 {
        kader
            .store
            .register_household(
                &household(&format!("Kepala Keluarga {i}")),
                &[
                    person(&format!("Kepala Keluarga {i}"), "male", "1985-04-01"),
                    person(&format!("Anak {i}"), "female", "2024-06-15"),
                ],
                &[],
            )
            .unwrap();
    }
    let changes = kader.store.pending_changes(1000).unwrap();
    assert_eq!(changes.len(), 300);
    let push = sync_protocol::encode(
        &sync_protocol::PushRequest {
            v: sync_protocol::PROTOCOL_VERSION,
            changes: changes.clone(),
        },
        sync_protocol::Encoding::Zstd,
    )
    .unwrap()
    .len();
    let t0 = Instant::now();
    let bundle = kader.store.seal_titip(None, 2000).unwrap();
    let sealed_ms = t0.elapsed().as_secs_f64() * 1000.0;
    let t1 = Instant::now();
    bidan.store.carry_titip(&bundle).unwrap();
    let carried_ms = t1.elapsed().as_secs_f64() * 1000.0;
    let t2 = Instant::now();
    let r = bidan.sync().await;
    let judged_ms = t2.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(r.titip_handed, 1);
    assert_eq!(server.changes(MAWAR).await.len(), 300);
    let (answers, _) = bidan.store.collect_titip().unwrap();
    let t3 = Instant::now();
    let opened = kader.store.open_titip(&answers).unwrap();
    let opened_ms = t3.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(opened.confirmed, 300);
    let ratio = bundle.len() as f64 / push as f64;
    println!(
        "titip month: 300 changes; direct push {push} B ({:.1} B/change); sealed bundle {} B ({:.1} B/change, {:+.1} %); answer {} B; seal {sealed_ms:.1} ms, carry {carried_ms:.1} ms, bidan's sync with hand-over and judging {judged_ms:.1} ms, open {opened_ms:.1} ms",
        push as f64 / 300.0,
        bundle.len(),
        bundle.len() as f64 / 300.0,
        (ratio - 1.0) * 100.0,
        answers.len(),
    );
    assert!(
        ratio <= 1.10,
        "{} B sealed vs {push} B pushed",
        bundle.len()
    );
    server.stop().await;
}
