//! Access control as a matrix: every role (at its scope) × every entity kind × posyandu
//! inside and outside the scope, pushed; then every user pulls on another tablet, and sees
//! exactly their area (the pushing tablet, which holds its own changes, gets the others').

use crate::common::{ATAMBUA_P01, Backend, MAWAR, MELATI, TULAMALAE_P01, TestServer, body_for};
use serde_json::json;
use std::collections::{BTreeMap, BTreeSet};
use sync_protocol::{EntityKind, RecordId};

both_backends!(role_scope_kind_matrix, edits_follow_the_record_posyandu);

const TARGETS: [&str; 4] = [MAWAR, MELATI, TULAMALAE_P01, ATAMBUA_P01];

/// (username, the posyandu of TARGETS inside its scope)
fn users() -> Vec<(&'static str, Vec<&'static str>)> {
    vec![
        ("kader.mawar", vec![MAWAR]),
        ("kader.melati", vec![MELATI]),
        ("bidan.naitimu", vec![MAWAR, MELATI]),
        ("perawat.halilulik", vec![MAWAR, MELATI, TULAMALAE_P01]),
        ("admin.halilulik", vec![MAWAR, MELATI, TULAMALAE_P01]),
        ("dinas", TARGETS.to_vec()),
    ]
}

/// The write rules, stated independently of the server's code.
fn may_write(username: &str, kind: EntityKind) -> bool {
    use EntityKind as K;
    if username.starts_with("kader") {
        !matches!(kind, K::PersonMerge | K::ConflictReview)
    } else if username.starts_with("bidan") || username.starts_with("perawat") {
        true
    } else {
        matches!(kind, K::Note | K::PersonMerge | K::ConflictReview)
    }
}

async fn role_scope_kind_matrix(b: Backend) {
    let srv = TestServer::demo(b).await;
    // Posyandu of the change → how many changes were accepted there.
    let mut accepted_at: BTreeMap<&str, usize> = BTreeMap::new();
    let mut sessions = Vec::new();
    for (username, scope) in users() {
        let mut s = srv.session(username).await;
        let mut batch = Vec::new();
        let mut expect = Vec::new();
        let mut own_accepted = 0usize;
        for kind in EntityKind::ALL {
            for target in TARGETS {
                batch.push(s.change(kind, RecordId::new_v7(), body_for(kind, target)));
                let want = if !may_write(username, kind) {
                    "forbidden_role"
                } else if !scope.contains(&target) {
                    "out_of_scope"
                } else {
                    *accepted_at.entry(target).or_default() += 1;
                    own_accepted += 1;
                    "accepted"
                };
                expect.push((kind, target, want));
            }
        }
        // Referral status rules: a kader makes, a health worker receives.
        for status in ["received", "done"] {
            let p = RecordId::new_v7().to_string();
            batch.push(s.change(
                EntityKind::ReferralEvent,
                RecordId::new_v7(),
                json!({"posyandu": scope[0], "referral": p, "status": status, "date": "2025-11-22"}),
            ));
            let want = if username.starts_with("bidan") || username.starts_with("perawat") {
                *accepted_at.entry(scope[0]).or_default() += 1;
                own_accepted += 1;
                "accepted"
            } else {
                "forbidden_role"
            };
            expect.push((EntityKind::ReferralEvent, scope[0], want));
        }
        let (st, v) = srv.push(&s, &batch).await;
        assert_eq!(st, 200, "{username}: {v}");
        let outcomes = v["outcomes"].as_array().unwrap();
        assert_eq!(outcomes.len(), expect.len());
        for (o, (kind, target, want)) in outcomes.iter().zip(&expect) {
            let got = o["rejection"]["code"]
                .as_str()
                .or(o["status"].as_str())
                .unwrap();
            assert_eq!(got, *want, "{username} writing a {kind} in {target}");
        }
        sessions.push((username, scope, s, own_accepted));
    }
    // Pull: each user receives exactly the accepted changes of their area, nothing else, on
    // another tablet; the tablet that pushed gets all but its own.
    for (username, scope, pusher, own_accepted) in &sessions {
        let reader = srv.other_tablet(username).await;
        let (got, _) = srv.pull_all(&reader, None, 37).await;
        let places: BTreeSet<String> = got
            .iter()
            .map(|c| c.body["posyandu"].as_str().unwrap().to_string())
            .collect();
        for p in &places {
            assert!(
                scope.contains(&p.as_str()),
                "{username} received a change of {p}"
            );
        }
        let want: usize = scope
            .iter()
            .map(|p| accepted_at.get(p).copied().unwrap_or(0))
            .sum();
        assert_eq!(got.len(), want, "{username}");
        let (theirs, _) = srv.pull_all(pusher, None, 37).await;
        assert_eq!(
            theirs.len(),
            want - own_accepted,
            "{username}'s pushing tablet"
        );
        assert!(
            theirs
                .iter()
                .all(|c| scope.contains(&c.body["posyandu"].as_str().unwrap()))
        );
    }
    // The point of it all, said plainly.
    let mawar = srv.other_tablet("kader.mawar").await;
    let (got, _) = srv.pull_all(&mawar, None, 1000).await;
    assert!(got.iter().all(|c| c.body["posyandu"] != json!(MELATI)));
    assert!(!got.is_empty());
    srv.finish().await;
}

async fn edits_follow_the_record_posyandu(b: Backend) {
    let srv = TestServer::demo(b).await;
    let mut mawar = srv.session("kader.mawar").await;
    let mut melati = srv.session("kader.melati").await;
    let mut bidan = srv.session("bidan.naitimu").await;
    let person = RecordId::new_v7();
    let c = mawar.change(
        EntityKind::Person,
        person,
        body_for(EntityKind::Person, MAWAR),
    );
    let (_, v) = srv.push(&mawar, &[c]).await;
    assert_eq!(v["outcomes"][0]["status"], "accepted");
    // Another posyandu's kader cannot edit it (no posyandu in the edit: the record's counts),
    // nor tombstone it, nor move it to her own posyandu.
    let batch = [
        melati.change(EntityKind::Person, person, json!({"name": "Nama Lain"})),
        {
            let mut t = melati.change(EntityKind::Person, person, json!({}));
            t.tombstone = true;
            t.body.clear();
            t
        },
        melati.change(EntityKind::Person, person, json!({"posyandu": MELATI})),
    ];
    let (_, v) = srv.push(&melati, &batch).await;
    for o in v["outcomes"].as_array().unwrap() {
        assert_eq!(o["rejection"]["code"], "out_of_scope", "{o}");
    }
    // The desa's bidan may move the person between her posyandu; then Melati sees it.
    let c = bidan.change(EntityKind::Person, person, json!({"posyandu": MELATI}));
    let (_, v) = srv.push(&bidan, &[c]).await;
    assert_eq!(v["outcomes"][0]["status"], "accepted", "{v}");
    let c = melati.change(EntityKind::Person, person, json!({"has_kms": true}));
    let (_, v) = srv.push(&melati, &[c]).await;
    assert_eq!(v["outcomes"][0]["status"], "accepted", "{v}");
    // And Mawar may no longer edit it.
    let c = mawar.change(EntityKind::Person, person, json!({"has_kms": false}));
    let (_, v) = srv.push(&mawar, &[c]).await;
    assert_eq!(v["outcomes"][0]["rejection"]["code"], "out_of_scope");
    srv.finish().await;
}
