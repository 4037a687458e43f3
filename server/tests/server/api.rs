//! The HTTP API over real sockets, both backends.

use crate::common::{ATAMBUA_P01, Backend, MAWAR, MELATI, TestServer, body_for, now_ms};
use district_server::auth;
use serde_json::{Value, json};
use sync_protocol::codec::{Encoding, compress, decompress};
use sync_protocol::{
    Change, EntityKind, Hlc, Limits, PlaceInfo, PlaceLevel, PlacesResponse, RecordId,
};

both_backends!(
    enrol_login_and_revocation,
    protocol_version_is_required,
    push_pull_status_round_trip,
    every_change_gets_an_outcome,
    compressed_bodies_both_ways,
    bad_input_is_a_4xx_with_a_code,
    rate_limits_answer_429,
    ops_endpoints,
    places_of_each_scope,
    a_session_ended_between_check_ins_is_refused,
);

fn code_of(v: &Value) -> &str {
    v["code"].as_str().unwrap_or("<none>")
}

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

async fn enrol_login_and_revocation(b: Backend) {
    let srv = TestServer::demo(b).await;
    // Unknown, malformed codes.
    let (s, v) = srv
        .post(
            "/v1/enrol",
            &json!({"v":1,"code":"ZZZ-ZZZ-ZZZ","device_name":"t","app_version":"1"}),
            None,
        )
        .await;
    assert_eq!((s, code_of(&v)), (400, "enrol_code_invalid"));
    assert_eq!(v["key"], "sync.error.enrol_code_invalid");
    let (s, v) = srv
        .post(
            "/v1/enrol",
            &json!({"v":1,"code":"hello","device_name":"t","app_version":"1"}),
            None,
        )
        .await;
    assert_eq!((s, code_of(&v)), (400, "enrol_code_invalid"));
    // Expired code.
    let kader = srv
        .store()
        .user_by_username("kader.mawar".into())
        .await
        .unwrap()
        .unwrap();
    let now = now_ms();
    srv.store()
        .create_enrol_code(auth::hash_secret("EXP7RED22"), kader.id, now - 100, now - 1)
        .await
        .unwrap();
    let (s, v) = srv
        .post(
            "/v1/enrol",
            &json!({"v":1,"code":"exp-7re-d22","device_name":"t","app_version":"1"}),
            None,
        )
        .await;
    assert_eq!((s, code_of(&v)), (400, "enrol_code_expired"));
    // A code is single use; typed in lower case with spaces it still works.
    let code = district_server::admin::issue_enrol_code(srv.store(), "kader.mawar", 24)
        .await
        .unwrap();
    let typed = code.to_lowercase().replace('-', " ");
    let (s, v) = srv
        .post(
            "/v1/enrol",
            &json!({"v":1,"code":typed,"device_name":"Tablet Mawar","app_version":"0.1.0"}),
            None,
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let token = v["device_token"].as_str().unwrap().to_string();
    // The code is used up by the first successful login on the device it enrolled
    // (issue #16: a wrong password must not cost the code).
    let (s, v) = srv
        .post(
            "/v1/login",
            &json!({"v":1,"username":"kader.mawar","secret":district_server::admin::DEMO_PASSWORD}),
            Some(&format!("Device {token}")),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = srv
        .post(
            "/v1/enrol",
            &json!({"v":1,"code":code,"device_name":"Tablet 2","app_version":"0.1.0"}),
            None,
        )
        .await;
    assert_eq!((s, code_of(&v)), (400, "enrol_code_invalid"));
    // Only the hash of the device token is stored.
    let dev = srv
        .store()
        .device_by_token(auth::hash_secret(&token))
        .await
        .unwrap()
        .unwrap();
    assert!(
        srv.store()
            .device_by_token(token.clone())
            .await
            .unwrap()
            .is_none()
    );
    // Login: wrong secret, unknown user, no device token.
    let device_auth = format!("Device {token}");
    for (user, secret) in [("kader.mawar", "wrong-pin"), ("nobody", "belu-demo-2025")] {
        let (s, v) = srv
            .post(
                "/v1/login",
                &json!({"v":1,"username":user,"secret":secret}),
                Some(&device_auth),
            )
            .await;
        assert_eq!((s, code_of(&v)), (401, "login_failed"));
    }
    let (s, v) = srv
        .post(
            "/v1/login",
            &json!({"v":1,"username":"kader.mawar","secret":"belu-demo-2025"}),
            Some("Device not-a-token"),
        )
        .await;
    assert_eq!((s, code_of(&v)), (401, "unauthorized"));
    let (s, login) = srv
        .post(
            "/v1/login",
            &json!({"v":1,"username":"kader.mawar","secret":"belu-demo-2025"}),
            Some(&device_auth),
        )
        .await;
    assert_eq!(s, 200, "{login}");
    assert_eq!(login["role"], "kader");
    let (s, _) = srv
        .post(
            "/v1/login",
            &json!({"v":1,"username":" Kader.Mawar","secret":"belu-demo-2025"}),
            Some(&device_auth),
        )
        .await;
    assert_eq!(s, 200, "usernames are case-insensitive");
    assert_eq!(login["scope"], json!({"level":"posyandu","place":MAWAR}));
    let bearer = format!("Bearer {}", login["session_token"].as_str().unwrap());
    let status = json!({"v":1,"last_seq":0,"app_version":"0.1.1"});
    let (s, v) = srv.post("/v1/sync/status", &status, Some(&bearer)).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["up_to_date"], true);
    // A session token is not a device token and the reverse.
    let (s, _) = srv
        .post("/v1/sync/status", &status, Some(&format!("Bearer {token}")))
        .await;
    assert_eq!(s, 401);
    let (s, _) = srv.post("/v1/sync/status", &status, None).await;
    assert_eq!(s, 401);
    // The app version is recorded for `device list`.
    let listed = srv.store().device(dev.id).await.unwrap().unwrap();
    assert_eq!(listed.app_version, "0.1.1");
    // Disabling the user: refused at the next request, and at login.
    srv.store()
        .set_user_disabled("kader.mawar".into(), true, now_ms())
        .await
        .unwrap();
    let (s, v) = srv.post("/v1/sync/status", &status, Some(&bearer)).await;
    assert_eq!((s, code_of(&v)), (403, "user_disabled"));
    let (s, v) = srv
        .post(
            "/v1/login",
            &json!({"v":1,"username":"kader.mawar","secret":"belu-demo-2025"}),
            Some(&device_auth),
        )
        .await;
    assert_eq!((s, code_of(&v)), (403, "user_disabled"));
    srv.store()
        .set_user_disabled("kader.mawar".into(), false, now_ms())
        .await
        .unwrap();
    // Enabled again: the old session stays ended (issue #12, item 8); she logs in again.
    let (s, v) = srv.post("/v1/sync/status", &status, Some(&bearer)).await;
    assert_eq!((s, code_of(&v)), (401, "session_expired"));
    let (s, v) = srv
        .post(
            "/v1/login",
            &json!({"v":1,"username":"kader.mawar","secret":"belu-demo-2025"}),
            Some(&device_auth),
        )
        .await;
    assert_eq!(s, 200, "{v}");
    let bearer = format!("Bearer {}", v["session_token"].as_str().unwrap());
    let (s, _) = srv.post("/v1/sync/status", &status, Some(&bearer)).await;
    assert_eq!(s, 200);
    // An expired session.
    srv.store()
        .create_session(
            "expired-hash".into(),
            kader.id,
            dev.id,
            now - 10,
            now - 1,
            None,
        )
        .await
        .unwrap();
    let expired_token = "tok-expired";
    srv.store()
        .create_session(
            auth::hash_secret(expired_token),
            kader.id,
            dev.id,
            now - 10,
            now - 1,
            None,
        )
        .await
        .unwrap();
    let (s, v) = srv
        .post(
            "/v1/sync/status",
            &status,
            Some(&format!("Bearer {expired_token}")),
        )
        .await;
    assert_eq!((s, code_of(&v)), (401, "session_expired"));
    // Revoking the device: the next request is refused, login too.
    srv.store().revoke_device(dev.id, now_ms()).await.unwrap();
    let (s, v) = srv.post("/v1/sync/status", &status, Some(&bearer)).await;
    assert_eq!((s, code_of(&v)), (403, "device_revoked"));
    let (s, v) = srv
        .post(
            "/v1/login",
            &json!({"v":1,"username":"kader.mawar","secret":"belu-demo-2025"}),
            Some(&device_auth),
        )
        .await;
    assert_eq!((s, code_of(&v)), (403, "device_revoked"));
    srv.finish().await;
}

async fn protocol_version_is_required(b: Backend) {
    let srv = TestServer::demo(b).await;
    let newer = (sync_protocol::PROTOCOL_VERSION + 1).to_string();
    for header in [None, Some(newer.as_str()), Some("0"), Some("abc")] {
        let mut req = srv
            .http
            .post(srv.url("/v1/enrol"))
            .body(r#"{"v":1,"code":"AAA-AAA-AAA","device_name":"t","app_version":"1"}"#);
        if let Some(h) = header {
            req = req.header("Jangkau-Protocol", h);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status().as_u16(), 426, "{header:?}");
        let v: Value = resp.json_value().await;
        assert_eq!(code_of(&v), "protocol_unsupported");
        assert_eq!(
            v["supported"],
            json!({"min":1,"max":sync_protocol::PROTOCOL_VERSION})
        );
        let want_key = if header == Some(newer.as_str()) {
            "sync.update_server"
        } else {
            "sync.update_app"
        };
        assert_eq!(v["key"], want_key, "{header:?}");
    }
    // A body of another version is refused the same way.
    let (s, v) = srv
        .post(
            "/v1/enrol",
            &json!({"v":sync_protocol::PROTOCOL_VERSION + 1,"code":"AAA-AAA-AAA","device_name":"t","app_version":"1","new":1}),
            None,
        )
        .await;
    assert_eq!((s, code_of(&v)), (426, "protocol_unsupported"));
    // Protocol 1 (an app before body schema 2) is still spoken: its body says `"v":1`, and a
    // body whose `v` is not the header's version is refused.
    for (header, body_v, want) in [("1", 1, 400), ("2", 2, 400), ("1", 2, 426), ("2", 1, 426)] {
        let resp = srv
            .http
            .post(srv.url("/v1/enrol"))
            .header("Jangkau-Protocol", header)
            .body(format!(
                r#"{{"v":{body_v},"code":"AAA-AAA-AAA","device_name":"t","app_version":"1"}}"#
            ))
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let v: Value = resp.json_value().await;
        assert_eq!(status, want, "header {header}, body v {body_v}: {v}");
        if want == 400 {
            // Read in that version: an unknown code, answered in the same version.
            assert_eq!(code_of(&v), "enrol_code_invalid");
        }
    }
    srv.finish().await;
}

trait JsonValue {
    async fn json_value(self) -> Value;
}

impl JsonValue for reqwest::Response {
    async fn json_value(self) -> Value {
        let b = self.bytes().await.unwrap_or_default();
        serde_json::from_slice(&b).unwrap_or(Value::Null)
    }
}

async fn push_pull_status_round_trip(b: Backend) {
    let srv = TestServer::demo(b).await;
    let mut mawar = srv.session("kader.mawar").await;
    let mut melati = srv.session("kader.melati").await;
    let bidan = srv.session("bidan.naitimu").await;
    let hh = RecordId::new_v7();
    let person = RecordId::new_v7();
    let changes = vec![
        mawar.change(EntityKind::Household, hh, body_for(EntityKind::Household, MAWAR)),
        mawar.change(EntityKind::Person, person, body_for(EntityKind::Person, MAWAR)),
        mawar.change(
            EntityKind::Measurement,
            RecordId::new_v7(),
            json!({"posyandu": MAWAR, "person": person.to_string(), "type": "weight", "value": 8.2, "unit": "kg"}),
        ),
        // An edit of the person without its posyandu: the server remembers it.
        mawar.change(EntityKind::Person, person, json!({"has_kms": true})),
    ];
    let (s, v) = srv.push(&mawar, &changes).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(outcome_codes(&v), ["accepted"; 4]);
    assert_eq!(v["acked_seq"], 4);
    // Pushing the same batch again: duplicates.
    let (_, v) = srv.push(&mawar, &changes).await;
    assert_eq!(outcome_codes(&v), ["duplicate"; 4]);
    // Melati's kader pushes in her posyandu.
    let c = melati.change(
        EntityKind::Person,
        RecordId::new_v7(),
        body_for(EntityKind::Person, MELATI),
    );
    let (_, v) = srv.push(&melati, &[c]).await;
    assert_eq!(outcome_codes(&v), ["accepted"]);
    // Pull, on another tablet of each user: each kader sees only their posyandu; the bidan
    // of the desa sees both.
    let mawar2 = srv.other_tablet("kader.mawar").await;
    let (got, cursor2) = srv.pull_all(&mawar2, None, 2).await;
    assert_eq!(got, changes);
    let melati2 = srv.other_tablet("kader.melati").await;
    let (got, _) = srv.pull_all(&melati2, None, 100).await;
    assert_eq!(got.len(), 1);
    let (got, _) = srv.pull_all(&bidan, None, 100).await;
    assert_eq!(got.len(), 5);
    // The tablets that pushed hold their changes already: none comes back down, and they do
    // not count towards the limit (no paging through one's own work).
    let (s, page) = srv
        .post(
            "/v1/sync/pull",
            &json!({"v":1,"limit":2}),
            Some(&mawar.bearer),
        )
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        (&page["changes"], &page["has_more"]),
        (&json!([]), &json!(false))
    );
    let cursor = page["cursor"].as_str().unwrap().to_string();
    let (got, _) = srv.pull_all(&melati, None, 100).await;
    assert!(got.is_empty());
    // Status: one round trip says up to date, or what is pending.
    let (s, v) = srv.status(&mawar, 4, Some(&cursor)).await;
    assert_eq!(s, 200);
    assert_eq!(
        (&v["acked_seq"], &v["pull_pending"], &v["up_to_date"]),
        (&json!(4), &json!(false), &json!(true))
    );
    assert_eq!(
        v["limits"],
        serde_json::to_value(Limits::default()).unwrap()
    );
    let (_, v) = srv.status(&mawar, 5, Some(&cursor)).await;
    assert_eq!(v["up_to_date"], false, "seq 5 is not pushed yet");
    // Without a cursor, the only news in Mawar are this tablet's own changes: up to date.
    // Its other tablet has them to pull.
    let (_, v) = srv.status(&mawar, 4, None).await;
    assert_eq!(
        (&v["pull_pending"], &v["up_to_date"]),
        (&json!(false), &json!(true))
    );
    let (_, v) = srv.status(&mawar2, 0, None).await;
    assert_eq!(
        (&v["pull_pending"], &v["up_to_date"]),
        (&json!(true), &json!(false))
    );
    // The bidan edits the person (in her desa); both Mawar tablets pull the edit from their
    // cursors, exactly once.
    let mut bidan = bidan;
    let edit = bidan.change(EntityKind::Person, person, json!({"phone": "0812"}));
    let (_, v) = srv.push(&bidan, std::slice::from_ref(&edit)).await;
    assert_eq!(outcome_codes(&v), ["accepted"]);
    let (_, v) = srv.status(&mawar, 4, Some(&cursor)).await;
    assert_eq!(
        (&v["pull_pending"], &v["up_to_date"]),
        (&json!(true), &json!(false))
    );
    let (got, next) = srv.pull_all(&mawar, Some(cursor.clone()), 100).await;
    assert_eq!(got, vec![edit.clone()]);
    let (_, page) = srv
        .post(
            "/v1/sync/pull",
            &json!({"v":1,"limit":1}),
            Some(&mawar.bearer),
        )
        .await;
    assert_eq!(
        (&page["changes"], &page["has_more"]),
        (&json!([edit]), &json!(false)),
        "the edit first, past the tablet's own four"
    );
    let (got, _) = srv.pull_all(&mawar, Some(next.clone()), 100).await;
    assert!(got.is_empty());
    let (_, v) = srv.status(&mawar, 4, Some(&next)).await;
    assert_eq!(v["up_to_date"], true, "{v}");
    let (got, _) = srv.pull_all(&mawar2, Some(cursor2), 100).await;
    assert_eq!(got, vec![edit]);
    // A cursor the server did not make.
    let (s, v) = srv
        .post(
            "/v1/sync/pull",
            &json!({"v":1,"cursor":"bogus","limit":10}),
            Some(&mawar.bearer),
        )
        .await;
    assert_eq!((s, code_of(&v)), (400, "malformed_body"));
    srv.finish().await;
}

async fn every_change_gets_an_outcome(b: Backend) {
    let srv = TestServer::demo(b).await;
    let mut k = srv.session("kader.mawar").await;
    let other = srv.session("kader.melati").await;
    let person = RecordId::new_v7();
    let fact = RecordId::new_v7();
    let mut ahead = k.change(
        EntityKind::Note,
        RecordId::new_v7(),
        body_for(EntityKind::Note, MAWAR),
    );
    ahead.hlc = Hlc {
        wall_ms: now_ms() + 365 * 86_400_000,
        counter: 0,
    };
    let mut wrong_author = k.change(
        EntityKind::Note,
        RecordId::new_v7(),
        body_for(EntityKind::Note, MAWAR),
    );
    wrong_author.author = other.user;
    let mut wrong_device = k.change(
        EntityKind::Note,
        RecordId::new_v7(),
        body_for(EntityKind::Note, MAWAR),
    );
    wrong_device.device = other.device;
    let mut bad_schema = k.change(
        EntityKind::Note,
        RecordId::new_v7(),
        body_for(EntityKind::Note, MAWAR),
    );
    bad_schema.schema = 9;
    let mut batch = vec![
        k.change(EntityKind::Person, person, body_for(EntityKind::Person, MAWAR)),
        // 2: the weight is out of range.
        k.change(
            EntityKind::Measurement,
            RecordId::new_v7(),
            json!({"posyandu": MAWAR, "person": person.to_string(), "type": "weight", "value": 900, "unit": "kg"}),
        ),
        // 3: an unknown field.
        k.change(EntityKind::Person, RecordId::new_v7(), json!({"posyandu": MAWAR, "name": "x", "sex": "male", "birth_date": "2020-01-01", "colour": "red"})),
        // 4: another posyandu.
        k.change(EntityKind::Household, RecordId::new_v7(), body_for(EntityKind::Household, MELATI)),
        // 5: the same id as the person, another kind.
        k.change(EntityKind::Household, person, body_for(EntityKind::Household, MAWAR)),
        // 6, 7: a fact, then the same id with another body.
        k.change(EntityKind::Note, fact, json!({"posyandu": MAWAR, "text": "satu"})),
        k.change(EntityKind::Note, fact, json!({"posyandu": MAWAR, "text": "dua"})),
        ahead,
        wrong_author,
        wrong_device,
        bad_schema,
        // 12: a date in the future.
        k.change(EntityKind::Immunisation, RecordId::new_v7(), json!({"posyandu": MAWAR, "person": person.to_string(), "vaccine": "BCG", "date": "2999-01-01"})),
        // 13: a kader closing a referral.
        k.change(EntityKind::Referral, RecordId::new_v7(), json!({"posyandu": MAWAR, "person": person.to_string(), "reason": "x", "destination": "puskesmas", "status": "done"})),
        // 14: fine.
        k.change(EntityKind::Note, RecordId::new_v7(), body_for(EntityKind::Note, MAWAR)),
    ];
    for (i, c) in batch.iter_mut().enumerate() {
        c.seq = i as u64 + 1;
    }
    let (s, v) = srv.push(&k, &batch).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        outcome_codes(&v),
        [
            "accepted",
            "invalid_value",
            "invalid_body",
            "out_of_scope",
            "kind_mismatch",
            "accepted",
            "fact_immutable",
            "clock_ahead",
            "identity_mismatch",
            "identity_mismatch",
            "unsupported_schema",
            "invalid_value",
            "forbidden_role",
            "accepted"
        ]
    );
    let rej = &v["outcomes"][1]["rejection"];
    assert_eq!(rej["key"], "sync.reject.invalid_value");
    assert_eq!(rej["field"], "value");
    // clock_ahead is not settled: acked_seq stops before it; seq 10 belonged to another
    // device's sequence, so this device's 10 is still open too.
    assert_eq!(v["acked_seq"], 7);
    // Re-stamped, the same seq is accepted.
    let mut fixed = batch[7].clone();
    fixed.hlc = Hlc {
        wall_ms: now_ms(),
        counter: 0,
    };
    let mut fixed_device = batch[9].clone();
    fixed_device.device = k.device;
    let (_, v) = srv.push(&k, &[fixed, fixed_device]).await;
    assert_eq!(outcome_codes(&v), ["accepted", "accepted"]);
    assert_eq!(v["acked_seq"], 14);
    // Final rejections replay on a re-push, and count as settled.
    let (_, v) = srv.push(&k, &batch[1..2]).await;
    assert_eq!(outcome_codes(&v), ["invalid_value"]);
    // Only accepted changes are served (to another tablet: the pushing one holds them).
    let k2 = srv.other_tablet("kader.mawar").await;
    let (got, _) = srv.pull_all(&k2, None, 100).await;
    assert_eq!(got.len(), 5);
    let (got, _) = srv.pull_all(&k, None, 100).await;
    assert!(got.is_empty());
    srv.finish().await;
}

async fn compressed_bodies_both_ways(b: Backend) {
    let srv = TestServer::demo(b).await;
    let mut k = srv.session("kader.mawar").await;
    let changes: Vec<Change> = (0..50)
        .map(|_| {
            k.change(
                EntityKind::Measurement,
                RecordId::new_v7(),
                body_for(EntityKind::Measurement, MAWAR),
            )
        })
        .collect();
    let json = serde_json::to_vec(&json!({"v":1,"changes":changes[..25]})).unwrap();
    let auth = k.bearer.clone();
    let (s, _, body) = srv
        .raw(
            "/v1/sync/push",
            compress(&json, Encoding::Zstd).unwrap(),
            &[("Content-Encoding", "zstd"), ("Authorization", &auth)],
        )
        .await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&body));
    let json = serde_json::to_vec(&json!({"v":1,"changes":changes[25..]})).unwrap();
    let (s, _, _) = srv
        .raw(
            "/v1/sync/push",
            compress(&json, Encoding::Gzip).unwrap(),
            &[("Content-Encoding", "gzip"), ("Authorization", &auth)],
        )
        .await;
    assert_eq!(s, 200);
    // Pulled on another tablet of the kader (the pushing one is not sent its own changes).
    let reader = srv.other_tablet("kader.mawar").await.bearer;
    for (accept, enc) in [("zstd, gzip", Encoding::Zstd), ("gzip", Encoding::Gzip)] {
        let (s, h, body) = srv
            .raw(
                "/v1/sync/pull",
                br#"{"v":1,"limit":1000}"#.to_vec(),
                &[("Accept-Encoding", accept), ("Authorization", &reader)],
            )
            .await;
        assert_eq!(s, 200);
        assert_eq!(
            h.get("content-encoding").and_then(|v| v.to_str().ok()),
            enc.header_value()
        );
        let plain = decompress(&body, enc, &Limits::default()).unwrap();
        let page: sync_protocol::PullResponse = serde_json::from_slice(&plain).unwrap();
        assert_eq!(page.changes, changes);
        assert!(!page.has_more);
    }
    srv.finish().await;
}

async fn bad_input_is_a_4xx_with_a_code(b: Backend) {
    let srv = TestServer::demo_with(b, |c| {
        c.limits = Limits {
            max_compressed: 64 * 1024,
            max_decompressed: 256 * 1024,
            max_batch: 20,
        };
    })
    .await;
    let mut k = srv.session("kader.mawar").await;
    let auth = k.bearer.clone();
    let push = |body: Vec<u8>, enc: &'static str| {
        let auth = auth.clone();
        let srv = &srv;
        async move {
            let (s, _, b) = srv
                .raw(
                    "/v1/sync/push",
                    body,
                    &[("Authorization", &auth), ("Content-Encoding", enc)],
                )
                .await;
            let v: Value = serde_json::from_slice(&b).unwrap_or(Value::Null);
            (s, code_of(&v).to_string(), v)
        }
    };
    let cases: Vec<(Vec<u8>, &str, u16, &str)> = vec![
        (b"{not json".to_vec(), "identity", 400, "malformed_body"),
        (b"".to_vec(), "identity", 400, "malformed_body"),
        (
            br#"{"v":1,"changes":"many"}"#.to_vec(),
            "identity",
            400,
            "malformed_body",
        ),
        (br#"{"v":1}"#.to_vec(), "identity", 400, "malformed_body"),
        (
            br#"{"v":1,"changes":[],"extra":true}"#.to_vec(),
            "identity",
            400,
            "malformed_body",
        ),
        (
            br#"{"v":1,"changes":[{"id":"x"}]}"#.to_vec(),
            "identity",
            400,
            "malformed_body",
        ),
        (b"{}".to_vec(), "br", 415, "unsupported_encoding"),
        (
            b"\x28\xb5\x2f\xfd garbage".to_vec(),
            "zstd",
            400,
            "malformed_body",
        ),
        (
            b"\x1f\x8b truncated".to_vec(),
            "gzip",
            400,
            "malformed_body",
        ),
        (vec![b' '; 70 * 1024], "identity", 413, "body_too_large"),
        // A decompression bomb: 10 MB of spaces in a few kB of zstd.
        (
            compress(&vec![b' '; 10 * 1024 * 1024], Encoding::Zstd).unwrap(),
            "zstd",
            413,
            "body_too_large",
        ),
        (
            compress(&vec![b' '; 10 * 1024 * 1024], Encoding::Gzip).unwrap(),
            "gzip",
            413,
            "body_too_large",
        ),
    ];
    for (body, enc, status, code) in cases {
        let (s, c, v) = push(body, enc).await;
        assert_eq!((s, c.as_str()), (status, code), "{v}");
        assert!(v["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    // An unknown entity kind refuses the request as malformed; nothing is stored.
    let mut c = k.change(
        EntityKind::Note,
        RecordId::new_v7(),
        body_for(EntityKind::Note, MAWAR),
    );
    c.seq = 1;
    let mut v = serde_json::to_value(&c).unwrap();
    v["kind"] = json!("spaceship");
    let body = serde_json::to_vec(&json!({"v":1,"changes":[c, v]})).unwrap();
    let (s, code, _) = push(body, "identity").await;
    assert_eq!((s, code.as_str()), (400, "malformed_body"));
    // Too many changes.
    let many: Vec<Change> = (0..21)
        .map(|_| {
            k.change(
                EntityKind::Note,
                RecordId::new_v7(),
                body_for(EntityKind::Note, MAWAR),
            )
        })
        .collect();
    let body = serde_json::to_vec(&json!({"v":1,"changes":many})).unwrap();
    let (s, code, _) = push(body, "identity").await;
    assert_eq!((s, code.as_str()), (413, "too_many_changes"));
    // Nothing above reached the log (read whole: a device's own pull would leave its own out).
    let page = srv.store().pull(MAWAR.into(), 0, 10).await.unwrap();
    assert!(page.changes.is_empty() && !page.has_more);
    // Unknown routes and methods.
    let r = srv.http.get(srv.url("/v1/nothing")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 404);
    assert_eq!(code_of(&r.json_value().await), "not_found");
    let r = srv.http.get(srv.url("/v1/sync/push")).send().await.unwrap();
    assert_eq!(code_of(&r.json_value().await), "not_found");
    srv.finish().await;
}

async fn rate_limits_answer_429(b: Backend) {
    let srv = TestServer::demo_with(b, |c| {
        c.rate_limits.enrol_per_minute = 3;
        c.rate_limits.login_per_minute = 3;
    })
    .await;
    let bad = json!({"v":1,"code":"ZZZ-ZZZ-ZZZ","device_name":"t","app_version":"1"});
    let mut last = (0, Value::Null);
    for _ in 0..4 {
        last = srv.post("/v1/enrol", &bad, None).await;
    }
    assert_eq!((last.0, code_of(&last.1)), (429, "rate_limited"));
    assert!(last.1["retry_after_s"].as_u64().is_some_and(|s| s >= 1));
    // Login attempts per device.
    let db = srv.store();
    let code = district_server::admin::issue_enrol_code(db, "kader.mawar", 24)
        .await
        .unwrap();
    let token = auth::new_token().unwrap();
    let dev = db
        .enrol(
            auth::hash_secret(&auth::normalise_code(&code).unwrap()),
            district_server::model::NewDevice {
                id: sync_protocol::DeviceId::new_v7(),
                name: "t".into(),
                token_hash: auth::hash_secret(&token),
                app_version: "1".into(),
                now: now_ms(),
            },
        )
        .await
        .unwrap();
    assert!(dev.is_ok());
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let (s, _) = srv
            .post(
                "/v1/login",
                &json!({"v":1,"username":"kader.mawar","secret":"wrong-secret"}),
                Some(&format!("Device {token}")),
            )
            .await;
        statuses.push(s);
    }
    assert_eq!(statuses, [401, 401, 401, 429]);
    srv.finish().await;
}

async fn ops_endpoints(b: Backend) {
    let srv = TestServer::demo(b).await;
    let r = srv.http.get(srv.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.text().await.unwrap(), "ok");
    assert_eq!(
        srv.store().backend(),
        match b {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    );
    // Error bodies are compressed like any other answer.
    let (s, h, body) = srv
        .raw(
            "/v1/sync/status",
            br#"{"v":1,"last_seq":0,"app_version":"1"}"#.to_vec(),
            &[("Accept-Encoding", "zstd")],
        )
        .await;
    assert_eq!(s, 401);
    assert_eq!(
        h.get("content-encoding").and_then(|v| v.to_str().ok()),
        Some("zstd")
    );
    let plain = decompress(&body, Encoding::Zstd, &Limits::default()).unwrap();
    let v: Value = serde_json::from_slice(&plain).unwrap();
    assert_eq!(code_of(&v), "unauthorized");
    let mut k = srv.session("kader.mawar").await;
    let c = k.change(
        EntityKind::Note,
        RecordId::new_v7(),
        body_for(EntityKind::Note, MAWAR),
    );
    let d = k.change(
        EntityKind::Note,
        RecordId::new_v7(),
        body_for(EntityKind::Note, MELATI),
    );
    srv.push(&k, &[c, d]).await;
    let text = srv.metrics().await;
    for needle in [
        "jangkau_changes_accepted_total 1",
        "jangkau_changes_rejected_total{code=\"out_of_scope\"} 1",
        "jangkau_http_requests_total{route=\"/v1/sync/push\",status=\"200\"} 1",
        "jangkau_sync_lag_seconds_count 1",
    ] {
        assert!(text.contains(needle), "{needle} missing from\n{text}");
    }
    // Neither tokens nor personal data appear in metrics.
    assert!(!text.contains("kader.mawar"));
    srv.finish().await;
}

/// `GET /v1/places`: the user's scope, every place under it and its ancestors up to the
/// kabupaten, parents first; nothing of other areas; a session is required.
async fn places_of_each_scope(b: Backend) {
    let srv = TestServer::demo(b).await;
    let places_of = |username: &'static str| {
        let srv = &srv;
        async move {
            let s = srv.session(username).await;
            let (status, v) = srv.get("/v1/places", Some(&s.bearer)).await;
            assert_eq!(status, 200, "{username}: {v}");
            let resp: PlacesResponse = serde_json::from_value(v).unwrap();
            assert_eq!(resp.v, 1);
            resp.places
        }
    };
    let codes = |places: &[PlaceInfo]| places.iter().map(|p| p.code.clone()).collect::<Vec<_>>();
    let ancestors = ["53.04", "53.04.05", "53.04.PKM07"];

    // A kader: their posyandu and the places above it, each once, parents first.
    let kader = places_of("kader.mawar").await;
    assert_eq!(
        codes(&kader),
        [
            "53.04",
            "53.04.05",
            "53.04.PKM07",
            "53.04.05.2001",
            "53.04.05.2001.D1",
            MAWAR
        ]
    );
    let mawar = kader.iter().find(|p| p.code == MAWAR).unwrap();
    assert_eq!(
        (mawar.name.as_str(), mawar.level, mawar.parent.as_deref()),
        (
            "Posyandu Mawar",
            PlaceLevel::Posyandu,
            Some("53.04.05.2001.D1")
        )
    );
    assert_eq!(kader[0].name, "Kabupaten Belu");
    assert_eq!(kader[0].parent, None);
    for (i, p) in kader.iter().enumerate().skip(1) {
        let parent = p.parent.as_deref().unwrap();
        assert!(kader[..i].iter().any(|q| q.code == parent), "{p:?}");
    }

    // A bidan of a desa: the desa's dusun and posyandu, and the places above the desa.
    let bidan = places_of("bidan.naitimu").await;
    let posyandu: Vec<String> = bidan
        .iter()
        .filter(|p| p.level == PlaceLevel::Posyandu)
        .map(|p| format!("{} {}", p.code, p.name))
        .collect();
    assert_eq!(
        posyandu,
        [
            format!("{MAWAR} Posyandu Mawar"),
            format!("{MELATI} Posyandu Melati")
        ]
    );
    let all = codes(&bidan);
    for c in ancestors
        .iter()
        .chain(&["53.04.05.2001.D1", "53.04.05.2001.D2"])
    {
        assert!(all.iter().any(|x| x == c), "{c} missing from {all:?}");
    }
    assert_eq!(all.len(), 8, "{all:?}");
    assert!(
        !all.iter().any(|c| c.starts_with("53.04.05.2002")),
        "{all:?}"
    );

    // A puskesmas scope: its desa, dusun and posyandu, although their codes do not start
    // with the puskesmas code.
    let perawat = places_of("perawat.halilulik").await;
    let count = |level| perawat.iter().filter(|p| p.level == level).count();
    assert_eq!(
        [
            PlaceLevel::Kabupaten,
            PlaceLevel::Kecamatan,
            PlaceLevel::Puskesmas,
            PlaceLevel::Desa,
            PlaceLevel::Dusun,
            PlaceLevel::Posyandu
        ]
        .map(count),
        [1, 1, 1, 3, 6, 6],
        "{:?}",
        codes(&perawat)
    );
    assert!(!codes(&perawat).contains(&ATAMBUA_P01.to_string()));

    // The dinas: the whole kabupaten.
    let dinas = places_of("dinas").await;
    assert_eq!(dinas.len(), srv.store().all_places().await.unwrap().len());

    // No session, a device token, a missing protocol header.
    let (s, v) = srv.get("/v1/places", None).await;
    assert_eq!((s, code_of(&v)), (401, "unauthorized"));
    let k = srv.session("kader.mawar").await;
    let (s, v) = srv
        .get("/v1/places", Some(&format!("Bearer {}", k.device_token)))
        .await;
    assert_eq!((s, code_of(&v)), (401, "unauthorized"));
    let r = srv
        .http
        .get(srv.url("/v1/places"))
        .header("Authorization", &k.bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 426);
    // A disabled user is refused like on the sync routes.
    srv.store()
        .set_user_disabled("kader.mawar".into(), true, now_ms())
        .await
        .unwrap();
    let (s, v) = srv.get("/v1/places", Some(&k.bearer)).await;
    assert_eq!((s, code_of(&v)), (403, "user_disabled"));
    srv.finish().await;
}

/// The OpenAPI document lists exactly the routes the server serves.
#[tokio::test]
async fn openapi_matches_the_routes() {
    let doc: Value = serde_json::from_str(district_server::http::OPENAPI_JSON).unwrap();
    let mut documented: Vec<(String, String)> = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            documented.push((method.to_uppercase(), path.clone()));
        }
    }
    documented.sort();
    let mut served: Vec<(String, String)> = district_server::http::ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    served.sort();
    assert_eq!(documented, served);
    // And every listed route is really served (not 404) by the router.
    let srv = TestServer::demo(Backend::Sqlite).await;
    for (method, path) in district_server::http::ROUTES {
        let req = match *method {
            "GET" => srv.http.get(srv.url(path)),
            _ => srv.http.post(srv.url(path)).header("Jangkau-Protocol", "1"),
        };
        let r = req.send().await.unwrap();
        assert_ne!(r.status().as_u16(), 404, "{method} {path}");
        assert!(r.status().as_u16() < 500, "{method} {path}");
    }
    let served_doc: Value = srv
        .http
        .get(srv.url("/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json_value()
        .await;
    assert_eq!(served_doc, doc);
    srv.finish().await;
}

/// `jangkau_checkins_at_once_total` of the server's metrics.
async fn checkins_at_once(srv: &TestServer) -> u64 {
    let text = srv.metrics().await;
    text.lines()
        .find_map(|l| l.strip_prefix("jangkau_checkins_at_once_total "))
        .and_then(|n| n.trim().parse().ok())
        .expect("the counter is exported")
}

/// The second check-in of a session asks the store for the session and its page (or status)
/// at once (`district_server::checkin`): news still arrives, and a session ended, a user
/// disabled or a device revoked since the first is refused exactly as at a first check-in.
async fn a_session_ended_between_check_ins_is_refused(b: Backend) {
    let srv = TestServer::demo(b).await;
    let mut writer = srv.session("kader.mawar").await;
    let reader = srv.other_tablet("kader.mawar").await;
    let pull = |cursor: Option<&str>| {
        let mut body = json!({"v": 1, "limit": 100});
        if let Some(c) = cursor {
            body["cursor"] = json!(c);
        }
        body
    };
    // Two check-ins with nothing new: the second one is the guessed one.
    let (s, page) = srv
        .post("/v1/sync/pull", &pull(None), Some(&reader.bearer))
        .await;
    assert_eq!((s, &page["changes"]), (200, &json!([])), "{page}");
    let cursor = page["cursor"].as_str().unwrap().to_string();
    let (s, page) = srv
        .post("/v1/sync/pull", &pull(Some(&cursor)), Some(&reader.bearer))
        .await;
    assert_eq!((s, &page["changes"]), (200, &json!([])), "{page}");
    assert_eq!(page["cursor"].as_str(), Some(cursor.as_str()));
    let (s, v) = srv.status(&reader, 0, Some(&cursor)).await;
    assert_eq!((s, &v["up_to_date"]), (200, &json!(true)), "{v}");
    // The second pull and the status were read with their session on PostgreSQL (one round
    // trip); SQLite never guesses.
    let at_once = checkins_at_once(&srv).await;
    match b {
        Backend::Postgres => assert_eq!(at_once, 2),
        Backend::Sqlite => assert_eq!(at_once, 0),
    }
    // News reaches the guessed check-ins (status first, then the page with its payloads).
    let c = writer.change(
        EntityKind::Person,
        RecordId::new_v7(),
        body_for(EntityKind::Person, MAWAR),
    );
    let (s, v) = srv.push(&writer, std::slice::from_ref(&c)).await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = srv.status(&reader, 0, Some(&cursor)).await;
    assert_eq!((s, &v["pull_pending"]), (200, &json!(true)), "{v}");
    let (s, page) = srv
        .post("/v1/sync/pull", &pull(Some(&cursor)), Some(&reader.bearer))
        .await;
    assert_eq!(s, 200, "{page}");
    let got: Vec<Change> = serde_json::from_value(page["changes"].clone()).unwrap();
    assert_eq!(got, [c]);
    let cursor = page["cursor"].as_str().unwrap().to_string();
    // A body refused with a session refused: the session's answer, as at a first check-in.
    let garbage = async |bearer: &str| {
        let auth = [("Authorization", bearer)];
        let (s, _, body) = srv.raw("/v1/sync/pull", b"not json".to_vec(), &auth).await;
        let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
        (s, code_of(&v).to_string())
    };
    assert_eq!(
        garbage(&reader.bearer).await,
        (400, "malformed_body".to_string())
    );
    // The user disabled between two check-ins: refused, pull and status.
    srv.store()
        .set_user_disabled("kader.mawar".into(), true, now_ms())
        .await
        .unwrap();
    let (s, v) = srv
        .post("/v1/sync/pull", &pull(Some(&cursor)), Some(&reader.bearer))
        .await;
    assert_eq!((s, code_of(&v)), (403, "user_disabled"));
    let (s, v) = srv.status(&reader, 0, Some(&cursor)).await;
    assert_eq!((s, code_of(&v)), (403, "user_disabled"));
    srv.store()
        .set_user_disabled("kader.mawar".into(), false, now_ms())
        .await
        .unwrap();
    // Enabled again, the session stays ended.
    let (s, v) = srv
        .post("/v1/sync/pull", &pull(Some(&cursor)), Some(&reader.bearer))
        .await;
    assert_eq!((s, code_of(&v)), (401, "session_expired"));
    let (s, v) = srv.status(&reader, 0, Some(&cursor)).await;
    assert_eq!((s, code_of(&v)), (401, "session_expired"));
    assert_eq!(
        garbage(&reader.bearer).await,
        (401, "session_expired".to_string())
    );
    // A session that expires between two check-ins (its expiry moved into the past).
    let token = "tok-short";
    let now = now_ms();
    srv.store()
        .create_session(
            auth::hash_secret(token),
            reader.user,
            reader.device,
            now,
            now + 3_600_000,
            None,
        )
        .await
        .unwrap();
    let bearer = format!("Bearer {token}");
    for _ in 0..2 {
        let (s, page) = srv
            .post("/v1/sync/pull", &pull(Some(&cursor)), Some(&bearer))
            .await;
        assert_eq!((s, &page["changes"]), (200, &json!([])), "{page}");
    }
    srv.store()
        .web_exec(
            "UPDATE sessions SET expires_at = ?2 WHERE token_hash = ?1".into(),
            vec![
                district_server::readmodel::Param::Text(auth::hash_secret(token)),
                district_server::readmodel::Param::Int(i64::try_from(now_ms()).unwrap() - 1),
            ],
        )
        .await
        .unwrap();
    let (s, v) = srv
        .post("/v1/sync/pull", &pull(Some(&cursor)), Some(&bearer))
        .await;
    assert_eq!((s, code_of(&v)), (401, "session_expired"));
    // The device revoked between two check-ins of a new session.
    let reader = srv.session("kader.mawar").await;
    for _ in 0..2 {
        let (s, page) = srv
            .post("/v1/sync/pull", &pull(Some(&cursor)), Some(&reader.bearer))
            .await;
        assert_eq!((s, &page["changes"]), (200, &json!([])), "{page}");
        let (s, _) = srv.status(&reader, 0, Some(&cursor)).await;
        assert_eq!(s, 200);
    }
    srv.store()
        .revoke_device(reader.device, now_ms())
        .await
        .unwrap();
    let (s, v) = srv
        .post("/v1/sync/pull", &pull(Some(&cursor)), Some(&reader.bearer))
        .await;
    assert_eq!((s, code_of(&v)), (403, "device_revoked"));
    let (s, v) = srv.status(&reader, 0, Some(&cursor)).await;
    assert_eq!((s, code_of(&v)), (403, "device_revoked"));
    assert_eq!(
        garbage(&reader.bearer).await,
        (403, "device_revoked".to_string())
    );
    srv.finish().await;
}
