//! Protocol §5 on a shared tablet, both backends: every user who logged in on the device may
//! author its changes (role and scope checked against the author); a pull cursor belongs to
//! the scope it was issued under; sessions last 30 days by default.

use crate::common::{Backend, MAWAR, MELATI, Session, TestServer, body_for};
use serde_json::{Value, json};
use sync_protocol::{EntityKind, RecordId};

both_backends!(
    authors_are_the_users_logged_in_on_the_device,
    cursors_belong_to_their_scope,
    sessions_last_30_days_by_default,
);

fn outcome_codes(v: &Value) -> Vec<String> {
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

/// Logs `username` in on the device of `on`; the new session shares its sequence numbers.
async fn login_on(srv: &TestServer, on: &Session, username: &str) -> (Session, Value) {
    let (s, login) = srv
        .post(
            "/v1/login",
            &json!({"v": 1, "username": username, "secret": district_server::admin::DEMO_PASSWORD}),
            Some(&format!("Device {}", on.device_token)),
        )
        .await;
    assert_eq!(s, 200, "login: {login}");
    let session = Session {
        device: on.device,
        device_token: on.device_token.clone(),
        user: login["user_id"].as_str().unwrap().parse().unwrap(),
        bearer: format!("Bearer {}", login["session_token"].as_str().unwrap()),
        next_seq: on.next_seq,
    };
    (session, login)
}

async fn authors_are_the_users_logged_in_on_the_device(b: Backend) {
    let srv = TestServer::demo(b).await;
    // Kader A (Mawar) enrols the tablet; kader B (Melati) and the bidan of the desa log in
    // on it too. The perawat logs in on another tablet only.
    let mut a = srv.session("kader.mawar").await;
    let (mut kb, _) = login_on(&srv, &a, "kader.melati").await;
    let (bidan, _) = login_on(&srv, &a, "bidan.naitimu").await;
    let perawat = srv.session("perawat.halilulik").await;
    let hh = RecordId::new_v7();
    let mut batch = vec![
        // 1: A's household in Mawar, pushed by B's session: scoped by A, accepted.
        a.change(
            EntityKind::Household,
            hh,
            body_for(EntityKind::Household, MAWAR),
        ),
        // 2: A's household in Melati: B's scope, not A's.
        a.change(
            EntityKind::Household,
            RecordId::new_v7(),
            body_for(EntityKind::Household, MELATI),
        ),
        // 3: A (a kader) may not merge persons, whoever pushes it.
        a.change(
            EntityKind::PersonMerge,
            RecordId::new_v7(),
            body_for(EntityKind::PersonMerge, MAWAR),
        ),
    ];
    kb.next_seq = a.next_seq;
    // 4, 5: B's own changes, scoped by B.
    batch.push(kb.change(
        EntityKind::Note,
        RecordId::new_v7(),
        body_for(EntityKind::Note, MELATI),
    ));
    batch.push(kb.change(
        EntityKind::Note,
        RecordId::new_v7(),
        body_for(EntityKind::Note, MAWAR),
    ));
    // 6: the perawat never logged in on this tablet (her scope covers Mawar).
    let mut stranger = kb.change(
        EntityKind::Note,
        RecordId::new_v7(),
        body_for(EntityKind::Note, MAWAR),
    );
    stranger.author = perawat.user;
    batch.push(stranger);
    // 7: the bidan's (logged in here) edit of A's household, in her desa.
    let mut by_bidan = kb.change(EntityKind::Household, hh, json!({"rt": "02"}));
    by_bidan.author = bidan.user;
    batch.push(by_bidan);
    // 8: the bidan's person_merge: her role allows it.
    let mut merge = kb.change(
        EntityKind::PersonMerge,
        RecordId::new_v7(),
        body_for(EntityKind::PersonMerge, MAWAR),
    );
    merge.author = bidan.user;
    batch.push(merge);
    let (s, v) = srv.push(&kb, &batch).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        outcome_codes(&v),
        [
            "accepted",
            "out_of_scope",
            "forbidden_role",
            "accepted",
            "out_of_scope",
            "identity_mismatch",
            "accepted",
            "accepted",
        ],
        "{v}"
    );
    let rej = &v["outcomes"][5]["rejection"];
    assert_eq!(rej["field"], "author");
    assert_eq!(v["acked_seq"], 8, "every outcome is final");
    // A, on another tablet, pulls her own change, as authored by her, and the bidan's edit;
    // not B's notes. The shared tablet holds them all already: it is sent none, whoever of
    // its users asks.
    let a2 = srv.other_tablet("kader.mawar").await;
    let (got, _) = srv.pull_all(&a2, None, 100).await;
    assert_eq!(
        got,
        vec![batch[0].clone(), batch[6].clone(), batch[7].clone()]
    );
    assert_eq!(got[0].author, a.user);
    for on_the_tablet in [&a, &kb, &bidan] {
        let (got, _) = srv.pull_all(on_the_tablet, None, 100).await;
        assert!(got.is_empty());
    }
    // The same change from another tablet where A never logged in: identity_mismatch.
    let mut elsewhere = srv.session("kader.melati").await;
    let mut c = elsewhere.change(
        EntityKind::Note,
        RecordId::new_v7(),
        body_for(EntityKind::Note, MAWAR),
    );
    c.author = a.user;
    let (_, v) = srv.push(&elsewhere, &[c]).await;
    assert_eq!(outcome_codes(&v), ["identity_mismatch"]);
    // A disabled author's changes are refused (identity_mismatch) on a shared tablet too.
    assert!(
        srv.store()
            .set_user_disabled("kader.melati".into(), true, crate::common::now_ms())
            .await
            .unwrap()
    );
    a.next_seq = kb.next_seq;
    let mut c = a.change(
        EntityKind::Note,
        RecordId::new_v7(),
        body_for(EntityKind::Note, MELATI),
    );
    c.author = kb.user;
    let (s, v) = srv.push(&a, &[c.clone()]).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(outcome_codes(&v), ["identity_mismatch"]);
    assert!(
        v["outcomes"][0]["rejection"]["message"]
            .as_str()
            .unwrap()
            .contains("disabled"),
        "{v}"
    );
    // Enabled again, a new change of hers is accepted (the refused one stays refused).
    srv.store()
        .set_user_disabled("kader.melati".into(), false, crate::common::now_ms())
        .await
        .unwrap();
    let (_, v) = srv.push(&a, &[c]).await;
    assert_eq!(outcome_codes(&v), ["identity_mismatch"]);
    let mut c = a.change(
        EntityKind::Note,
        RecordId::new_v7(),
        body_for(EntityKind::Note, MELATI),
    );
    c.author = kb.user;
    let (_, v) = srv.push(&a, &[c]).await;
    assert_eq!(outcome_codes(&v), ["accepted"]);
    srv.finish().await;
}

async fn status(srv: &TestServer, s: &Session, cursor: Option<&str>) -> (u16, Value) {
    srv.status(s, 0, cursor).await
}

async fn cursors_belong_to_their_scope(b: Backend) {
    let srv = TestServer::demo(b).await;
    // Tablet `a` of the Mawar kader reads; her other tablet `w` and B's tablet write (a
    // tablet is not sent its own changes).
    let a = srv.session("kader.mawar").await;
    let mut w = srv.other_tablet("kader.mawar").await;
    let mut kb = srv.session("kader.melati").await;
    // Four Mawar changes, one Melati change.
    let mawar: Vec<_> = (0..4)
        .map(|_| {
            w.change(
                EntityKind::Note,
                RecordId::new_v7(),
                body_for(EntityKind::Note, MAWAR),
            )
        })
        .collect();
    let (_, v) = srv.push(&w, &mawar).await;
    assert_eq!(outcome_codes(&v), ["accepted"; 4]);
    let cb = kb.change(
        EntityKind::Note,
        RecordId::new_v7(),
        body_for(EntityKind::Note, MELATI),
    );
    let (_, v) = srv.push(&kb, std::slice::from_ref(&cb)).await;
    assert_eq!(outcome_codes(&v), ["accepted"]);
    let (mawar_all, cursor_a) = srv.pull_all(&a, None, 3).await;
    assert_eq!(mawar_all, mawar);
    let (digits, fingerprint) = cursor_a
        .strip_prefix('s')
        .and_then(|c| c.split_once('.'))
        .expect("s<n>.<scope>");
    assert!(
        digits.parse::<i64>().is_ok() && fingerprint.len() == 8,
        "{cursor_a}"
    );
    let (s, v) = status(&srv, &a, Some(&cursor_a)).await;
    assert_eq!((s, &v["pull_pending"]), (200, &json!(false)), "{v}");
    // The writing tablet: nothing new to it, nothing sent to it.
    let (_, v) = status(&srv, &w, None).await;
    assert_eq!(v["up_to_date"], true, "{v}");
    let (got, _) = srv.pull_all(&w, None, 3).await;
    assert!(got.is_empty());
    // Melati's kader unlocks the same tablet: the tablet's Mawar cursor is not hers. It
    // counts as absent: status says there is something to pull, and she gets her whole
    // scope (the Melati change came before that cursor).
    let (shared, _) = login_on(&srv, &a, "kader.melati").await;
    let (s, v) = status(&srv, &shared, Some(&cursor_a)).await;
    assert_eq!((s, &v["pull_pending"]), (200, &json!(true)), "{v}");
    let (got, cursor_b) = srv.pull_all(&shared, Some(cursor_a.clone()), 100).await;
    assert_eq!(got, vec![cb.clone()]);
    assert_ne!(cursor_a, cursor_b);
    let (_, v) = status(&srv, &shared, Some(&cursor_b)).await;
    assert_eq!(v["pull_pending"], false, "{v}");
    // Her cursor is not the Mawar kader's either.
    let (got, _) = srv.pull_all(&a, Some(cursor_b.clone()), 100).await;
    assert_eq!(got, mawar_all);
    // Same scope on another session or device: the cursor holds.
    let kb2 = srv.other_tablet("kader.melati").await;
    let (got, _) = srv.pull_all(&kb2, Some(cursor_b.clone()), 100).await;
    assert!(got.is_empty());
    let (got, _) = srv.pull_all(&kb2, None, 100).await;
    assert_eq!(got, vec![cb.clone()]);
    // A cursor of the old form `s<n>` names no scope: absent, everything again.
    let old = format!("s{digits}");
    let (_, v) = status(&srv, &a, Some(&old)).await;
    assert_eq!(v["pull_pending"], true, "{v}");
    let (got, _) = srv.pull_all(&a, Some(old), 100).await;
    assert_eq!(got, mawar_all);
    // Malformed cursors are still refused, on pull and status alike.
    for bad in ["bogus", "s5.zz", "s5.", "s.0123abcd", "s-1.0123abcd"] {
        let (s, v) = srv
            .post(
                "/v1/sync/pull",
                &json!({"v": 1, "cursor": bad, "limit": 10}),
                Some(&a.bearer),
            )
            .await;
        assert_eq!(
            (s, v["code"].as_str()),
            (400, Some("malformed_body")),
            "{bad}"
        );
        let (s, v) = status(&srv, &a, Some(bad)).await;
        assert_eq!(
            (s, v["code"].as_str()),
            (400, Some("malformed_body")),
            "{bad}"
        );
    }
    srv.finish().await;
}

async fn sessions_last_30_days_by_default(b: Backend) {
    let srv = TestServer::demo(b).await;
    let a = srv.session("kader.mawar").await;
    let (_, login) = login_on(&srv, &a, "kader.mawar").await;
    let ttl = login["expires_at"].as_u64().unwrap() - login["server_time"].as_u64().unwrap();
    assert_eq!(ttl, 30 * 24 * 3_600_000, "{login}");
    srv.finish().await;
    // The setting still rules.
    let srv = TestServer::demo_with(b, |c| c.session_ttl_hours = 1).await;
    let a = srv.session("kader.mawar").await;
    let (_, login) = login_on(&srv, &a, "kader.mawar").await;
    let ttl = login["expires_at"].as_u64().unwrap() - login["server_time"].as_u64().unwrap();
    assert_eq!(ttl, 3_600_000, "{login}");
    srv.finish().await;
}

/// Migration 0002 on a database that already has sessions: the devices' past logins are
/// recorded from them, so a shared tablet keeps working across the upgrade.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migration_0002_records_past_logins_from_sessions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("upgrade.db").to_string_lossy().to_string();
    let store = district_server::storage::open(&path).await.unwrap();
    store.migrate().await.unwrap();
    district_server::admin::demo(
        store.as_ref(),
        district_server::auth::PasswordCost::TEST,
        24,
        false,
    )
    .await
    .unwrap();
    let mawar = store
        .user_by_username("kader.mawar".into())
        .await
        .unwrap()
        .unwrap();
    let melati = store
        .user_by_username("kader.melati".into())
        .await
        .unwrap()
        .unwrap();
    let code = district_server::admin::issue_enrol_code(store.as_ref(), "kader.mawar", 24)
        .await
        .unwrap();
    let code = district_server::auth::normalise_code(&code).unwrap();
    let now = crate::common::now_ms();
    let dev = store
        .enrol(
            district_server::auth::hash_secret(&code),
            district_server::model::NewDevice {
                id: sync_protocol::DeviceId::new_v7(),
                name: "t".into(),
                token_hash: "tok".into(),
                app_version: "0.1.0".into(),
                now,
            },
        )
        .await
        .unwrap()
        .unwrap();
    for (i, u) in [&mawar, &melati].into_iter().enumerate() {
        store
            .create_session(format!("s{i}"), u.id, dev.id, now, now + 1000)
            .await
            .unwrap();
    }
    // Back to schema version 1 with those sessions.
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(
            "DROP TABLE device_users; DROP TABLE change_quarantine_log;
             ALTER TABLE changes DROP COLUMN quarantined_at;
             ALTER TABLE changes DROP COLUMN quarantine_reason;
             DELETE FROM schema_migrations WHERE version IN (2, 4)",
        )
        .unwrap();
    }
    let store = district_server::storage::open(&path).await.unwrap();
    assert_eq!(store.schema_version().await.unwrap(), 1);
    assert_eq!(store.migrate().await.unwrap(), 2);
    assert_eq!(store.schema_version().await.unwrap(), 4);
    // Mawar's session pushes Melati's change: she logged in on the device before.
    let ctx = std::sync::Arc::new(district_server::sync::PushContext {
        device: dev.id,
        user: mawar.id,
        role: mawar.role,
        scope_posyandu: [MAWAR.to_string()].into_iter().collect(),
        now_ms: now,
        today: district_server::model::today_for_validation(now),
        clock: sync_protocol::ClockPolicy::default(),
    });
    let mut s = Session {
        device: dev.id,
        device_token: String::new(),
        user: melati.id,
        bearer: String::new(),
        next_seq: 1,
    };
    let c = s.change(
        EntityKind::Note,
        RecordId::new_v7(),
        body_for(EntityKind::Note, MELATI),
    );
    let r = store.push(ctx, vec![c]).await.unwrap();
    assert_eq!(
        r.outcomes[0].status,
        sync_protocol::OutcomeStatus::Accepted,
        "{:?}",
        r.outcomes
    );
}
