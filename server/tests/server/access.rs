//! Access control as a matrix: every role (at its scope) × every entity kind × posyandu
//! inside and outside the scope, pushed; then every user pulls on another tablet, and sees
//! exactly their area (the pushing tablet, which holds its own changes, gets the others').

use crate::common::{
    ATAMBUA_P01, Backend, MAWAR, MELATI, Session, TULAMALAE_P01, TestServer, body_for,
};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use sync_protocol::{EntityKind, RecordId};

both_backends!(
    role_scope_kind_matrix,
    edits_follow_the_record_posyandu,
    references_lie_in_the_authors_area,
    deletions_follow_the_role_rules,
    who_may_resolve_likely_duplicates_and_conflicts,
    disabling_ends_sessions,
    login_failures_cannot_lock_a_kader_out_of_her_tablet,
);

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
        matches!(
            kind,
            K::Note | K::PersonMerge | K::ConflictReview | K::DuplicateDismissal
        )
    }
}

/// Who may delete (tombstone) a kind, stated independently of the server's code: `None` when
/// the role may not, else the limit a kader has (`Some("a kader's")`, `Some("a kader's, while
/// made")`) or none (`Some("")`).
fn may_delete(username: &str, kind: EntityKind) -> Option<&'static str> {
    use EntityKind as K;
    if !may_write(username, kind) {
        None
    } else if username.starts_with("kader") {
        Some(if matches!(kind, K::Referral | K::ReferralEvent) {
            "a kader's, while made"
        } else {
            "a kader's"
        })
    } else {
        Some("")
    }
}

/// The row of `kind` in the spec's table "Who may write and delete what".
fn spec_row(kind: EntityKind) -> String {
    use EntityKind as K;
    let cell = |user: &str| {
        let write = match (may_write(user, kind), user.starts_with("kader")) {
            (false, _) => return "no".to_string(),
            (true, true) if matches!(kind, K::Referral | K::ReferralEvent) => {
                "write (status `made`)".to_string()
            }
            (true, _) => "write".to_string(),
        };
        match may_delete(user, kind) {
            None => write,
            Some("") => format!("{write}, delete"),
            Some(limit) => format!("{write}, delete ({})", limit.replace("made", "`made`")),
        }
    };
    format!(
        "| `{kind}` | {} | {} | {} |",
        cell("kader.mawar"),
        cell("bidan.naitimu"),
        cell("admin.halilulik")
    )
}

/// The spec's role × kind × action table says what these tests check.
#[test]
fn the_spec_states_the_write_and_delete_rules() {
    let spec = include_str!("../../../docs/sync-protocol.md");
    for kind in EntityKind::ALL {
        let row = spec_row(kind);
        assert!(spec.contains(&row), "the spec's access table lacks {row}");
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
                    // The harness speaks protocol 1: a pull there leaves out the kinds of a
                    // newer body schema (docs/sync-protocol.md, section 2).
                    if sync_protocol::schema::kind_since(kind)
                        <= sync_protocol::schema::max_schema_for_protocol(1)
                    {
                        *accepted_at.entry(target).or_default() += 1;
                        own_accepted += 1;
                    }
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
    // Issue #12, item 7: not even the desa's bidan moves a record by editing its posyandu
    // (the new posyandu would never receive its creation); the same value is no move.
    let batch = [
        bidan.change(EntityKind::Person, person, json!({"posyandu": MELATI})),
        bidan.change(
            EntityKind::Person,
            person,
            json!({"posyandu": MAWAR, "has_kms": true}),
        ),
    ];
    let (_, v) = srv.push(&bidan, &batch).await;
    assert_eq!(
        v["outcomes"][0]["rejection"]["code"], "invalid_value",
        "{v}"
    );
    assert_eq!(v["outcomes"][0]["rejection"]["field"], "posyandu", "{v}");
    assert_eq!(v["outcomes"][1]["status"], "accepted", "{v}");
    let c = melati.change(EntityKind::Person, person, json!({"has_kms": true}));
    let (_, v) = srv.push(&melati, &[c]).await;
    assert_eq!(v["outcomes"][0]["rejection"]["code"], "out_of_scope");
    // The defined way: Mawar's kader marks her moved, Melati's kader registers her again,
    // the bidan links the two records.
    let c = mawar.change(
        EntityKind::Person,
        person,
        json!({"status": "moved", "status_date": "2025-11-20"}),
    );
    let (_, v) = srv.push(&mawar, &[c]).await;
    assert_eq!(v["outcomes"][0]["status"], "accepted", "{v}");
    let again = RecordId::new_v7();
    let c = melati.change(
        EntityKind::Person,
        again,
        body_for(EntityKind::Person, MELATI),
    );
    let (_, v) = srv.push(&melati, &[c]).await;
    assert_eq!(v["outcomes"][0]["status"], "accepted", "{v}");
    let merge = bidan.change(
        EntityKind::PersonMerge,
        RecordId::new_v7(),
        json!({"posyandu": MELATI, "kept": again.to_string(), "merged": person.to_string(), "reason": "pindah"}),
    );
    let (_, v) = srv.push(&bidan, std::slice::from_ref(&merge)).await;
    assert_eq!(v["outcomes"][0]["status"], "accepted", "{v}");
    let reader = srv.other_tablet("kader.melati").await;
    let (got, _) = srv.pull_all(&reader, None, 100).await;
    assert!(got.contains(&merge));
    assert!(got.iter().any(|c| c.id == again));
    assert!(
        !got.iter().any(|c| c.id == person),
        "the old record stays in Mawar"
    );
    srv.finish().await;
}

fn codes(v: &Value) -> Vec<String> {
    v["outcomes"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|o| {
                    o["rejection"]["code"]
                        .as_str()
                        .or(o["status"].as_str())
                        .unwrap_or("?")
                        .to_string()
                })
                .collect()
        })
        .unwrap_or_default()
}

fn fields(v: &Value) -> Vec<String> {
    v["outcomes"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|o| o["rejection"]["field"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// A body of `kind` in `posyandu` whose references name `refs`.
fn body_with(kind: EntityKind, posyandu: &str, refs: &[(&str, RecordId)]) -> Value {
    let mut b = body_for(kind, posyandu);
    for (field, id) in refs {
        b[*field] = json!(id.to_string());
    }
    b
}

fn tombstone(s: &mut Session, kind: EntityKind, id: RecordId) -> sync_protocol::Change {
    let mut t = s.change(kind, id, json!({}));
    t.tombstone = true;
    t.body.clear();
    t
}

/// Issue #12, item 2: every record a change points at (body references and `supersedes`)
/// must lie in the author's area, not only the posyandu the body names.
async fn references_lie_in_the_authors_area(b: Backend) {
    use EntityKind as K;
    let srv = TestServer::demo(b).await;
    let mut melati = srv.session("kader.melati").await;
    let mut mawar = srv.session("kader.mawar").await;
    let mut bidan = srv.session("bidan.naitimu").await;
    // Melati's records.
    let (p_mel, h_mel, v_mel, r_mel, m_mel) = (
        RecordId::new_v7(),
        RecordId::new_v7(),
        RecordId::new_v7(),
        RecordId::new_v7(),
        RecordId::new_v7(),
    );
    let batch = [
        melati.change(K::Household, h_mel, body_for(K::Household, MELATI)),
        melati.change(
            K::Person,
            p_mel,
            body_with(K::Person, MELATI, &[("household", h_mel)]),
        ),
        melati.change(
            K::Visit,
            v_mel,
            body_with(K::Visit, MELATI, &[("person", p_mel)]),
        ),
        melati.change(
            K::Referral,
            r_mel,
            body_with(K::Referral, MELATI, &[("person", p_mel)]),
        ),
        melati.change(
            K::Measurement,
            m_mel,
            body_with(K::Measurement, MELATI, &[("person", p_mel)]),
        ),
    ];
    let (_, v) = srv.push(&melati, &batch).await;
    assert!(codes(&v).iter().all(|c| c == "accepted"), "{v}");
    // Mawar's kader, every change labelled with her own posyandu.
    let p_maw = RecordId::new_v7();
    let mut superseding = mawar.change(
        K::Measurement,
        RecordId::new_v7(),
        body_with(K::Measurement, MAWAR, &[("person", p_maw)]),
    );
    superseding.supersedes = Some(m_mel);
    let batch = vec![
        // Her own person, created in this batch: references to it are fine.
        mawar.change(K::Person, p_maw, body_for(K::Person, MAWAR)),
        mawar.change(
            K::Measurement,
            RecordId::new_v7(),
            body_with(K::Measurement, MAWAR, &[("person", p_mel)]),
        ),
        mawar.change(
            K::Visit,
            RecordId::new_v7(),
            body_with(K::Visit, MAWAR, &[("person", p_maw), ("household", h_mel)]),
        ),
        mawar.change(
            K::Measurement,
            RecordId::new_v7(),
            body_with(
                K::Measurement,
                MAWAR,
                &[("person", p_maw), ("visit", v_mel)],
            ),
        ),
        mawar.change(
            K::ReferralEvent,
            RecordId::new_v7(),
            body_with(K::ReferralEvent, MAWAR, &[("referral", r_mel)]),
        ),
        superseding,
        mawar.change(K::Person, p_maw, json!({"household": h_mel.to_string()})),
        mawar.change(
            K::Person,
            RecordId::new_v7(),
            body_with(K::Person, MAWAR, &[("mother", p_mel)]),
        ),
        mawar.change(
            K::Note,
            RecordId::new_v7(),
            body_with(K::Note, MAWAR, &[("person", p_mel)]),
        ),
        // Fine: her own person; a record the server does not know (documented: accepted).
        mawar.change(
            K::Measurement,
            RecordId::new_v7(),
            body_with(K::Measurement, MAWAR, &[("person", p_maw)]),
        ),
        mawar.change(
            K::Measurement,
            RecordId::new_v7(),
            body_for(K::Measurement, MAWAR),
        ),
    ];
    let (_, v) = srv.push(&mawar, &batch).await;
    assert_eq!(
        codes(&v),
        [
            "accepted",
            "out_of_scope",
            "out_of_scope",
            "out_of_scope",
            "out_of_scope",
            "out_of_scope",
            "out_of_scope",
            "out_of_scope",
            "out_of_scope",
            "accepted",
            "accepted"
        ],
        "{v}"
    );
    assert_eq!(
        fields(&v),
        [
            "",
            "person",
            "household",
            "visit",
            "referral",
            "supersedes",
            "household",
            "mother",
            "person",
            "",
            ""
        ]
    );
    // The bidan of the desa holds both posyandu: her references across them are fine, and so
    // is her merge of a person registered in both.
    let merge = bidan.change(
        K::PersonMerge,
        RecordId::new_v7(),
        body_with(
            K::PersonMerge,
            MELATI,
            &[("kept", p_mel), ("merged", p_maw)],
        ),
    );
    let batch = [
        bidan.change(
            K::Measurement,
            RecordId::new_v7(),
            body_with(
                K::Measurement,
                MAWAR,
                &[("person", p_mel), ("visit", v_mel)],
            ),
        ),
        merge,
    ];
    let (_, v) = srv.push(&bidan, &batch).await;
    assert_eq!(codes(&v), ["accepted", "accepted"], "{v}");
    // Melati's kader received none of Mawar's refused changes.
    let reader = srv.other_tablet("kader.melati").await;
    let (got, _) = srv.pull_all(&reader, None, 100).await;
    assert!(got.iter().all(|c| c.device != mawar.device), "{got:?}");
    srv.finish().await;
}

/// Issue #12, item 3: a deletion needs the right to write the kind, and a kader deletes only
/// what a kader created, a referral (or its event) only while `made`.
async fn deletions_follow_the_role_rules(b: Backend) {
    use EntityKind as K;
    let srv = TestServer::demo(b).await;
    let mut kader = srv.session("kader.mawar").await;
    let mut bidan = srv.session("bidan.naitimu").await;
    let mut admin = srv.session("admin.halilulik").await;
    let person = RecordId::new_v7();
    let (referral, made_event, other_referral, kader_weight) = (
        RecordId::new_v7(),
        RecordId::new_v7(),
        RecordId::new_v7(),
        RecordId::new_v7(),
    );
    let batch = [
        kader.change(K::Person, person, body_for(K::Person, MAWAR)),
        kader.change(
            K::Referral,
            referral,
            body_with(K::Referral, MAWAR, &[("person", person)]),
        ),
        kader.change(
            K::ReferralEvent,
            made_event,
            body_with(K::ReferralEvent, MAWAR, &[("referral", referral)]),
        ),
        kader.change(
            K::Referral,
            other_referral,
            body_with(K::Referral, MAWAR, &[("person", person)]),
        ),
        kader.change(
            K::Measurement,
            kader_weight,
            body_with(K::Measurement, MAWAR, &[("person", person)]),
        ),
    ];
    let (_, v) = srv.push(&kader, &batch).await;
    assert!(codes(&v).iter().all(|c| c == "accepted"), "{v}");
    // The bidan receives the referral (edit and event) and records a weighing and a note.
    let (received_event, bidan_weight, bidan_note, bidan_household) = (
        RecordId::new_v7(),
        RecordId::new_v7(),
        RecordId::new_v7(),
        RecordId::new_v7(),
    );
    let mut ev = body_with(K::ReferralEvent, MAWAR, &[("referral", referral)]);
    ev["status"] = json!("received");
    let batch = [
        bidan.change(K::Referral, referral, json!({"status": "received"})),
        bidan.change(K::ReferralEvent, received_event, ev),
        bidan.change(
            K::Measurement,
            bidan_weight,
            body_with(K::Measurement, MAWAR, &[("person", person)]),
        ),
        bidan.change(
            K::Note,
            bidan_note,
            body_with(K::Note, MAWAR, &[("person", person)]),
        ),
        bidan.change(K::Household, bidan_household, body_for(K::Household, MAWAR)),
    ];
    let (_, v) = srv.push(&bidan, &batch).await;
    assert!(codes(&v).iter().all(|c| c == "accepted"), "{v}");
    // The kader's deletions.
    let batch = [
        tombstone(&mut kader, K::ReferralEvent, received_event),
        tombstone(&mut kader, K::Referral, referral),
        tombstone(&mut kader, K::Measurement, bidan_weight),
        tombstone(&mut kader, K::Note, bidan_note),
        tombstone(&mut kader, K::Household, bidan_household),
        tombstone(&mut kader, K::ReferralEvent, made_event),
        tombstone(&mut kader, K::Referral, other_referral),
        tombstone(&mut kader, K::Measurement, kader_weight),
    ];
    let (_, v) = srv.push(&kader, &batch).await;
    assert_eq!(
        codes(&v),
        [
            "forbidden_role",
            "forbidden_role",
            "forbidden_role",
            "forbidden_role",
            "forbidden_role",
            "accepted",
            "accepted",
            "accepted"
        ],
        "{v}"
    );
    // An admin deletes only what admins write; the bidan deletes anything of her area.
    let batch = [
        tombstone(&mut admin, K::Measurement, bidan_weight),
        tombstone(&mut admin, K::Note, bidan_note),
    ];
    let (_, v) = srv.push(&admin, &batch).await;
    assert_eq!(codes(&v), ["forbidden_role", "accepted"], "{v}");
    let batch = [
        tombstone(&mut bidan, K::ReferralEvent, received_event),
        tombstone(&mut bidan, K::Referral, referral),
        tombstone(&mut bidan, K::Person, person),
    ];
    let (_, v) = srv.push(&bidan, &batch).await;
    assert_eq!(codes(&v), ["accepted", "accepted", "accepted"], "{v}");
    srv.finish().await;
}

/// Issue #12, item 8: `user disable` ends the user's sessions; after `user enable` the old
/// token stays dead and the user logs in again.
async fn disabling_ends_sessions(b: Backend) {
    let srv = TestServer::demo(b).await;
    let k = srv.session("kader.mawar").await;
    let status = json!({"v": 1, "last_seq": 0, "app_version": "0.1.0"});
    let (s, _) = srv.post("/v1/sync/status", &status, Some(&k.bearer)).await;
    assert_eq!(s, 200);
    let now = crate::common::now_ms();
    assert!(
        srv.store()
            .set_user_disabled("kader.mawar".into(), true, now)
            .await
            .unwrap()
    );
    let (s, v) = srv.post("/v1/sync/status", &status, Some(&k.bearer)).await;
    assert_eq!((s, v["code"].as_str()), (403, Some("user_disabled")), "{v}");
    srv.store()
        .set_user_disabled("kader.mawar".into(), false, now)
        .await
        .unwrap();
    let (s, v) = srv.post("/v1/sync/status", &status, Some(&k.bearer)).await;
    assert_eq!(
        (s, v["code"].as_str()),
        (401, Some("session_expired")),
        "{v}"
    );
    let (s, v) = srv.get("/v1/places", Some(&k.bearer)).await;
    assert_eq!(s, 401, "{v}");
    let (s, login) = srv
        .post(
            "/v1/login",
            &json!({"v": 1, "username": "kader.mawar", "secret": district_server::admin::DEMO_PASSWORD}),
            Some(&format!("Device {}", k.device_token)),
        )
        .await;
    assert_eq!(s, 200, "{login}");
    let bearer = format!("Bearer {}", login["session_token"].as_str().unwrap());
    let (s, _) = srv.post("/v1/sync/status", &status, Some(&bearer)).await;
    assert_eq!(s, 200);
    srv.finish().await;
}

/// Issue #12, item 9: failures are counted per (device, user), per address and per user; a
/// kader's own tablet, where she logged in before, is held only by its own failures.
async fn login_failures_cannot_lock_a_kader_out_of_her_tablet(b: Backend) {
    let srv = TestServer::demo_with(b, |c| c.rate_limits.login_per_minute = 4).await;
    let login = |device_token: String, username: &'static str, secret: &'static str| {
        let srv = &srv;
        async move {
            srv.post(
                "/v1/login",
                &json!({"v": 1, "username": username, "secret": secret}),
                Some(&format!("Device {device_token}")),
            )
            .await
        }
    };
    // Her tablet, and five others (enrolled before the attack: their own logins count too).
    let own = srv.session("kader.mawar").await;
    let mut others = Vec::new();
    for _ in 0..5 {
        others.push(srv.session("kader.melati").await);
    }
    // Wrong passwords for her username from four other tablets, until each is refused.
    for t in &others[..4] {
        let mut limited = false;
        for _ in 0..10 {
            let (s, v) = login(t.device_token.clone(), "kader.mawar", "salah-salah").await;
            match s {
                401 => assert_eq!(v["code"], "login_failed"),
                429 => {
                    assert_eq!(v["code"], "rate_limited");
                    limited = true;
                    break;
                }
                other => panic!("{other}: {v}"),
            }
        }
        assert!(limited, "a tablet trying passwords is held");
    }
    // A tablet where she never logged in is held for her username now (and for the address).
    let (s, v) = login(
        others[4].device_token.clone(),
        "kader.mawar",
        district_server::admin::DEMO_PASSWORD,
    )
    .await;
    assert_eq!((s, v["code"].as_str()), (429, Some("rate_limited")), "{v}");
    // Her own tablet is not: she logs in.
    let (s, v) = login(
        own.device_token.clone(),
        "kader.mawar",
        district_server::admin::DEMO_PASSWORD,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    // Her own tablet's wrong PINs hold that pair after the limit.
    let mut last = 0;
    for _ in 0..6 {
        last = login(own.device_token.clone(), "kader.mawar", "salah-salah")
            .await
            .0;
    }
    assert_eq!(last, 429);
    srv.finish().await;
}

/// Issue #17: a kader may dismiss a likely-duplicate pair of her own area (not of another
/// posyandu) and delete only her own dismissal; merging and reviewing a conflict stay with
/// the bidan (`forbidden_role`), who may also dismiss and delete a kader's dismissal.
async fn who_may_resolve_likely_duplicates_and_conflicts(b: Backend) {
    use EntityKind as K;
    let srv = TestServer::demo(b).await;
    let mut melati = srv.session("kader.melati").await;
    let mut mawar = srv.session("kader.mawar").await;
    let mut bidan = srv.session("bidan.naitimu").await;
    let (a, c, m) = (RecordId::new_v7(), RecordId::new_v7(), RecordId::new_v7());
    let batch = [
        mawar.change(K::Person, a, body_for(K::Person, MAWAR)),
        mawar.change(K::Person, c, body_for(K::Person, MAWAR)),
    ];
    let (_, v) = srv.push(&mawar, &batch).await;
    assert!(codes(&v).iter().all(|c| c == "accepted"), "{v}");
    let batch = [melati.change(K::Person, m, body_for(K::Person, MELATI))];
    let (_, v) = srv.push(&melati, &batch).await;
    assert!(codes(&v).iter().all(|c| c == "accepted"), "{v}");
    let pair = |x: RecordId, y: RecordId, posyandu: &str| {
        let (x, y) = (x.to_string(), y.to_string());
        let (first, second) = if x < y { (x, y) } else { (y, x) };
        json!({"posyandu": posyandu, "first": first, "second": second})
    };
    let (own, cross, bidans) = (RecordId::new_v7(), RecordId::new_v7(), RecordId::new_v7());
    let batch = [
        // Her own two persons: she may say they are not the same.
        mawar.change(K::DuplicateDismissal, own, pair(a, c, MAWAR)),
        // One of them is Melati's: outside her area.
        mawar.change(K::DuplicateDismissal, cross, pair(a, m, MAWAR)),
        // Merging and reviewing are the bidan's.
        mawar.change(
            K::PersonMerge,
            RecordId::new_v7(),
            body_with(K::PersonMerge, MAWAR, &[("kept", a), ("merged", c)]),
        ),
        mawar.change(
            K::ConflictReview,
            RecordId::new_v7(),
            body_with(K::ConflictReview, MAWAR, &[("record", a)]),
        ),
    ];
    let (_, v) = srv.push(&mawar, &batch).await;
    assert_eq!(
        codes(&v),
        [
            "accepted",
            "out_of_scope",
            "forbidden_role",
            "forbidden_role"
        ],
        "{v}"
    );
    // The bidan dismisses across her desa's posyandu and merges.
    let batch = [
        bidan.change(K::DuplicateDismissal, bidans, pair(a, m, MAWAR)),
        bidan.change(
            K::PersonMerge,
            RecordId::new_v7(),
            body_with(K::PersonMerge, MAWAR, &[("kept", a), ("merged", c)]),
        ),
    ];
    let (_, v) = srv.push(&bidan, &batch).await;
    assert_eq!(codes(&v), ["accepted", "accepted"], "{v}");
    // A kader deletes her own dismissal, never the bidan's; the bidan may delete hers.
    let batch = [
        tombstone(&mut mawar, K::DuplicateDismissal, bidans),
        tombstone(&mut mawar, K::DuplicateDismissal, own),
    ];
    let (_, v) = srv.push(&mawar, &batch).await;
    assert_eq!(codes(&v), ["forbidden_role", "accepted"], "{v}");
    let batch = [tombstone(&mut bidan, K::DuplicateDismissal, bidans)];
    let (_, v) = srv.push(&bidan, &batch).await;
    assert_eq!(codes(&v), ["accepted"], "{v}");
    srv.finish().await;
}
