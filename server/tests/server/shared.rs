//! Protocol §5 on a shared tablet, both backends: every user who logged in on the device may
//! author its changes (role and scope checked against the author); a pull cursor belongs to
//! the scope it was issued under; sessions last 30 days by default.

use crate::common::{Backend, MAWAR, MELATI, Session, TestServer, body_for};
use serde_json::{Value, json};
use sync_protocol::{Change, EntityKind, Hlc, RecordId};

/// `c` stamped at `wall_ms` (the counter keeps stamps of one test distinct).
fn at(mut c: Change, wall_ms: u64) -> Change {
    c.hlc = Hlc {
        wall_ms,
        counter: u16::try_from(c.seq % 1000).unwrap_or(0),
    };
    c
}

/// A few milliseconds, so that the next clock reading is later.
async fn tick() {
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
}

both_backends!(
    authors_are_the_users_logged_in_on_the_device,
    another_author_only_inside_her_window,
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
/// The login carries no HLC: the server's clock stands in.
async fn login_on(srv: &TestServer, on: &Session, username: &str) -> (Session, Value) {
    login_on_at(srv, on, username, None).await
}

/// [`login_on`] with the device's HLC at the login (`wall_ms`, counter 0).
async fn login_on_at(
    srv: &TestServer,
    on: &Session,
    username: &str,
    hlc_wall_ms: Option<u64>,
) -> (Session, Value) {
    let mut body =
        json!({"v": 1, "username": username, "secret": district_server::admin::DEMO_PASSWORD});
    if let Some(wall_ms) = hlc_wall_ms {
        body["hlc"] = json!(
            Hlc {
                wall_ms,
                counter: 0
            }
            .to_string()
        );
    }
    let (s, login) = srv
        .post(
            "/v1/login",
            &body,
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
    // Each one's changes are stamped while they are the one logged in (see
    // `another_author_only_inside_her_window` for the others).
    let mut a = srv.session("kader.mawar").await;
    tick().await;
    let a_time = crate::common::now_ms();
    tick().await;
    let (mut kb, _) = login_on_at(&srv, &a, "kader.melati", Some(crate::common::now_ms())).await;
    tick().await;
    let kb_time = crate::common::now_ms();
    tick().await;
    let (bidan, _) = login_on_at(&srv, &a, "bidan.naitimu", Some(crate::common::now_ms())).await;
    tick().await;
    let bidan_time = crate::common::now_ms();
    let perawat = srv.session("perawat.halilulik").await;
    let hh = RecordId::new_v7();
    let mut batch = vec![
        // 1: A's household in Mawar, pushed by B's session: scoped by A, accepted.
        at(
            a.change(
                EntityKind::Household,
                hh,
                body_for(EntityKind::Household, MAWAR),
            ),
            a_time,
        ),
        // 2: A's household in Melati: B's scope, not A's.
        at(
            a.change(
                EntityKind::Household,
                RecordId::new_v7(),
                body_for(EntityKind::Household, MELATI),
            ),
            a_time,
        ),
        // 3: A (a kader) may not merge persons, whoever pushes it.
        at(
            a.change(
                EntityKind::PersonMerge,
                RecordId::new_v7(),
                body_for(EntityKind::PersonMerge, MAWAR),
            ),
            a_time,
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
    batch.push(at(by_bidan, bidan_time));
    // 8: the bidan's person_merge: her role allows it.
    let mut merge = kb.change(
        EntityKind::PersonMerge,
        RecordId::new_v7(),
        body_for(EntityKind::PersonMerge, MAWAR),
    );
    merge.author = bidan.user;
    batch.push(at(merge, bidan_time));
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
    let (_, v) = srv.push(&a, &[at(c, kb_time)]).await;
    assert_eq!(outcome_codes(&v), ["accepted"]);
    srv.finish().await;
}

/// Issue #12, item 4: on a shared tablet, a session pushes another user's change only when it
/// was stamped while she was the one logged in (the device's login history, with its HLC);
/// each change is judged by its author's role and scope; a change outside her window waits
/// (`awaits_author`, unsettled) and her own session delivers it.
async fn another_author_only_inside_her_window(b: Backend) {
    let srv = TestServer::demo(b).await;
    // The kader enrols the tablet; the bidan of the desa logs in on it; later the kader logs
    // in again (a new session): the bidan's window runs from her login to the kader's.
    let mut kader = srv.session("kader.mawar").await;
    tick().await;
    let (mut bidan, _) =
        login_on_at(&srv, &kader, "bidan.naitimu", Some(crate::common::now_ms())).await;
    tick().await;
    let in_bidan_window = crate::common::now_ms();
    tick().await;
    let (kader2, _) = login_on_at(&srv, &kader, "kader.mawar", Some(crate::common::now_ms())).await;
    tick().await;
    let after_kader_login = crate::common::now_ms();
    // A referral the kader made (her own, any time).
    let referral = RecordId::new_v7();
    let made = at(
        kader.change(
            EntityKind::Referral,
            referral,
            body_for(EntityKind::Referral, MAWAR),
        ),
        after_kader_login,
    );
    bidan.next_seq = kader.next_seq;
    // In the bidan's window: she receives it (her role), and registers a household in
    // Melati (her scope, not the kader's).
    let received = at(
        bidan.change(
            EntityKind::Referral,
            referral,
            json!({"status": "received"}),
        ),
        in_bidan_window + 1,
    );
    let melati_hh = at(
        bidan.change(
            EntityKind::Household,
            RecordId::new_v7(),
            body_for(EntityKind::Household, MELATI),
        ),
        in_bidan_window,
    );
    // After the kader's new login: the same kind of changes, authored by the bidan.
    let late_received = at(
        bidan.change(EntityKind::Referral, referral, json!({"status": "done"})),
        after_kader_login,
    );
    let late_hh = at(
        bidan.change(
            EntityKind::Household,
            RecordId::new_v7(),
            body_for(EntityKind::Household, MELATI),
        ),
        after_kader_login,
    );
    kader.next_seq = bidan.next_seq;
    // The kader's own edit setting `received` is her role's: refused.
    let kader_received = at(
        kader.change(
            EntityKind::Referral,
            referral,
            json!({"status": "received"}),
        ),
        after_kader_login,
    );
    let batch = [
        made.clone(),
        received.clone(),
        melati_hh.clone(),
        late_received.clone(),
        late_hh.clone(),
        kader_received,
    ];
    // Pushed by the kader's new session.
    let kader2 = Session {
        next_seq: kader.next_seq,
        ..kader2
    };
    let (s, v) = srv.push(&kader2, &batch).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        outcome_codes(&v),
        [
            "accepted",
            "accepted",
            "accepted",
            "awaits_author",
            "awaits_author",
            "forbidden_role"
        ],
        "{v}"
    );
    assert_eq!(v["outcomes"][3]["rejection"]["field"], "author");
    // Not settled: acked_seq stops before the first waiting change, and pushing them again
    // in the kader's session changes nothing.
    assert_eq!(v["acked_seq"], late_received.seq - 1, "{v}");
    let (_, v) = srv
        .push(&kader2, &[late_received.clone(), late_hh.clone()])
        .await;
    assert_eq!(outcome_codes(&v), ["awaits_author", "awaits_author"]);
    // The bidan's own session (a new login on the tablet) delivers them: nothing is lost.
    let (bidan2, _) =
        login_on_at(&srv, &kader, "bidan.naitimu", Some(crate::common::now_ms())).await;
    let (_, v) = srv
        .push(&bidan2, &[late_received.clone(), late_hh.clone()])
        .await;
    assert_eq!(outcome_codes(&v), ["accepted", "accepted"], "{v}");
    assert_eq!(v["acked_seq"], late_hh.seq + 1, "every seq settled: {v}");
    // The bidan's other tablet receives all of hers, as authored by her.
    let other = srv.other_tablet("bidan.naitimu").await;
    let (got, _) = srv.pull_all(&other, None, 100).await;
    for c in [&made, &received, &melati_hh, &late_received, &late_hh] {
        assert!(got.contains(c), "{c:?} missing");
    }
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

/// Migrations 0002 and 0003 on a database that already has sessions: the devices' past
/// logins (and their windows) are recorded from them, so a shared tablet keeps working
/// across the upgrade.
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
            .create_session(format!("s{i}"), u.id, dev.id, now, now + 1000, None)
            .await
            .unwrap();
    }
    // Records made before 0003: the kader's person and two referrals, one received by the
    // bidan (pushed through the storage, as their sessions would).
    let bidan = store
        .user_by_username("bidan.naitimu".into())
        .await
        .unwrap()
        .unwrap();
    let ctx_of = |u: &district_server::model::User, scope: &[&str]| {
        std::sync::Arc::new(district_server::sync::PushContext {
            device: dev.id,
            user: u.id,
            role: u.role,
            scope_posyandu: scope.iter().map(|p| p.to_string()).collect(),
            now_ms: now,
            today: district_server::model::today_for_validation(now),
            clock: sync_protocol::ClockPolicy::default(),
        })
    };
    let as_user = |u: &district_server::model::User, seq: u64| Session {
        device: dev.id,
        device_token: String::new(),
        user: u.id,
        bearer: String::new(),
        next_seq: seq,
    };
    let (person, made, received) = (RecordId::new_v7(), RecordId::new_v7(), RecordId::new_v7());
    let mut k = as_user(&mawar, 1);
    let mut referral = |id| {
        let mut b = body_for(EntityKind::Referral, MAWAR);
        b["person"] = json!(person.to_string());
        k.change(EntityKind::Referral, id, b)
    };
    let batch = vec![referral(made), referral(received)];
    let r = store.push(ctx_of(&mawar, &[MAWAR]), batch).await.unwrap();
    assert_eq!(r.acked_seq, 2, "{:?}", r.outcomes);
    let mut bd = as_user(&bidan, 3);
    let edit = bd.change(
        EntityKind::Referral,
        received,
        json!({"status": "received"}),
    );
    let r = store
        .push(ctx_of(&bidan, &[MAWAR, MELATI]), vec![edit])
        .await
        .unwrap();
    assert_eq!(r.acked_seq, 3, "{:?}", r.outcomes);
    // Back to schema version 1 with those sessions.
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(
            "DROP TABLE device_users; DROP TABLE device_logins; DROP TABLE change_quarantine_log;
             ALTER TABLE records DROP COLUMN creator_role; ALTER TABLE records DROP COLUMN status;
             ALTER TABLE changes DROP COLUMN quarantined_at;
             ALTER TABLE changes DROP COLUMN quarantine_reason;
             DROP TABLE titip_server_key; DROP TABLE titip_refusals;
             ALTER TABLE devices DROP COLUMN titip_box; ALTER TABLE devices DROP COLUMN titip_sign;
             ALTER TABLE devices DROP COLUMN last_relay_at;
             DROP VIEW posyandu_sessions; DROP TABLE read_model_state; DROP TABLE merged_records;
             DROP TABLE households; DROP TABLE persons; DROP TABLE pregnancies;
             DROP TABLE referrals; DROP TABLE facts; DROP TABLE conflicts; DROP TABLE device_sync;
             DROP TABLE web_sessions; DROP TABLE audit_log; DROP TABLE place_ilp;
             DROP TABLE satusehat_resources; DROP TABLE vaccine_kfa; DROP TABLE report_questions;
             ALTER TABLE users DROP COLUMN nik;
             DELETE FROM schema_migrations WHERE version > 1",
        )
        .unwrap();
    }
    let store = district_server::storage::open(&path).await.unwrap();
    assert_eq!(store.schema_version().await.unwrap(), 1);
    let migrations = district_server::storage::sqlite::MIGRATIONS;
    assert_eq!(store.migrate().await.unwrap(), migrations.len() - 1);
    assert_eq!(
        store.schema_version().await.unwrap(),
        migrations.iter().map(|m| m.0).max().unwrap()
    );
    // The log predates the read model (0005): it starts behind and is built before serving.
    assert!(store.read_model_state().await.unwrap().behind());
    district_server::readmodel::ensure_current(store.as_ref())
        .await
        .unwrap();
    let built = store.read_model_state().await.unwrap();
    assert!(!built.behind() && built.applied_through == 3, "{built:?}");
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
        next_seq: 10,
    };
    let mut c = s.change(
        EntityKind::Note,
        RecordId::new_v7(),
        body_for(EntityKind::Note, MELATI),
    );
    // Migration 0003 dates those logins by the sessions' start: Melati's change, stamped
    // after her login, is in her window.
    c.hlc = sync_protocol::Hlc {
        wall_ms: now,
        counter: 5,
    };
    let r = store.push(ctx, vec![c]).await.unwrap();
    assert_eq!(
        r.outcomes[0].status,
        sync_protocol::OutcomeStatus::Accepted,
        "{:?}",
        r.outcomes
    );
    // 0003 learnt who made each referral and how far it went: the kader may delete the one
    // still `made`, not the one the bidan received.
    let mut k = as_user(&mawar, 20);
    let mut tomb = |id| {
        let mut t = k.change(EntityKind::Referral, id, json!({}));
        t.tombstone = true;
        t.body.clear();
        t
    };
    let batch = vec![tomb(received), tomb(made)];
    let r = store.push(ctx_of(&mawar, &[MAWAR]), batch).await.unwrap();
    let codes: Vec<_> = r
        .outcomes
        .iter()
        .map(|o| o.rejection.as_ref().map(|r| r.code))
        .collect();
    assert_eq!(
        codes,
        [Some(sync_protocol::RejectCode::ForbiddenRole), None],
        "{:?}",
        r.outcomes
    );
}
