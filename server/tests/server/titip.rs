//! Titip over real HTTP, both backends: keys exchanged at enrolment, `POST /v1/relay`
//! judging a sealed bundle as the device's own push, refusals reported.

use crate::common::{Backend, MAWAR, Session, TestServer, body_for};
use serde_json::{Value, json};
use sync_protocol::relay::{self, KeyPair, PublicKeys, RelayBundle};
use sync_protocol::{EntityKind, Limits, OutcomeStatus, PROTOCOL_VERSION, RecordId};

both_backends!(
    keys_at_enrolment_and_the_relay_route,
    keys_registered_after_enrolment
);

/// Enrols `username` with titip keys; returns the session and the server's public keys.
async fn enrol_with_keys(
    srv: &TestServer,
    username: &str,
    keys: &KeyPair,
) -> (Session, PublicKeys) {
    let code = district_server::admin::issue_enrol_code(srv.store(), username, 24)
        .await
        .unwrap();
    let (s, enrol) = srv
        .post(
            "/v1/enrol",
            &json!({"v": 1, "code": code, "device_name": "Tablet titip", "app_version": "0.1.0",
                    "titip": keys.public()}),
            None,
        )
        .await;
    assert_eq!(s, 200, "{enrol}");
    let server: PublicKeys = serde_json::from_value(enrol["titip"].clone()).unwrap();
    let token = enrol["device_token"].as_str().unwrap().to_string();
    let (s, login) = srv
        .post(
            "/v1/login",
            &json!({"v": 1, "username": username, "secret": district_server::admin::DEMO_PASSWORD}),
            Some(&format!("Device {token}")),
        )
        .await;
    assert_eq!(s, 200, "{login}");
    let session = Session {
        device: enrol["device_id"].as_str().unwrap().parse().unwrap(),
        device_token: token,
        user: login["user_id"].as_str().unwrap().parse().unwrap(),
        bearer: format!("Bearer {}", login["session_token"].as_str().unwrap()),
        next_seq: 1,
    };
    (session, server)
}

async fn relay_post(srv: &TestServer, bearer: Option<&str>, bytes: Vec<u8>) -> (u16, Vec<u8>) {
    let mut headers = vec![("Content-Type", "application/vnd.jangkau.titip")];
    if let Some(b) = bearer {
        headers.push(("Authorization", b));
    }
    let (s, _, body) = srv.raw("/v1/relay", bytes, &headers).await;
    (s, body)
}

async fn keys_at_enrolment_and_the_relay_route(b: Backend) {
    let srv = TestServer::demo(b).await;
    // An older app sends no keys and gets none back.
    let old = srv.session("kader.melati").await;
    let (s, v) = srv.get("/v1/places", Some(&old.bearer)).await;
    assert_eq!(s, 200, "{v}");
    let code = district_server::admin::issue_enrol_code(srv.store(), "kader.melati", 24)
        .await
        .unwrap();
    let (s, v) = srv
        .post(
            "/v1/enrol",
            &json!({"v":1,"code":code,"device_name":"t","app_version":"1"}),
            None,
        )
        .await;
    assert_eq!(s, 200);
    assert!(v.get("titip").is_none(), "{v}");
    // A key that is no Ed25519 point is refused.
    let code = district_server::admin::issue_enrol_code(srv.store(), "kader.melati", 24)
        .await
        .unwrap();
    let bad =
        json!({"box": relay::Key32([0; 32]).to_b64(), "sign": relay::Key32([0; 32]).to_b64()});
    let (s, v) = srv
        .post(
            "/v1/enrol",
            &json!({"v":1,"code":code,"device_name":"t","app_version":"1","titip":bad}),
            None,
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (400, Some("malformed_body")),
        "{v}"
    );

    let tablet = KeyPair::from_bytes(&[2; 64]);
    let (mut kader, server) = enrol_with_keys(&srv, "kader.mawar", &tablet).await;
    let carrier = srv.session("bidan.naitimu").await;
    let changes: Vec<_> = (0..3)
        .map(|_| {
            kader.change(
                EntityKind::Household,
                RecordId::new_v7(),
                body_for(EntityKind::Household, MAWAR),
            )
        })
        .collect();
    let bundle = RelayBundle {
        v: PROTOCOL_VERSION,
        device: kader.device,
        user: kader.user,
        cursor: None,
        changes,
    };
    let sealed = relay::seal_bundle(&bundle, 1, &server, &tablet, [4; 32]).unwrap();

    // The carrier's session is needed.
    let (s, _) = relay_post(&srv, None, sealed.clone()).await;
    assert_eq!(s, 401);
    let (s, answer) = relay_post(&srv, Some(&carrier.bearer), sealed.clone()).await;
    assert_eq!(s, 200, "{}", String::from_utf8_lossy(&answer));
    let (_, a) = relay::open_answer(&answer, &server, &tablet, &Limits::default()).unwrap();
    assert_eq!(a.device, kader.device);
    assert_eq!(a.acked_seq, 3);
    assert!(
        a.outcomes
            .iter()
            .all(|o| o.status == OutcomeStatus::Accepted),
        "{a:?}"
    );
    // The carrier cannot open the answer.
    let carrier_keys = KeyPair::from_bytes(&[3; 64]);
    assert!(relay::open_answer(&answer, &server, &carrier_keys, &Limits::default()).is_err());
    // Twice: duplicates, nothing stored twice.
    let (s, answer) = relay_post(&srv, Some(&carrier.bearer), sealed.clone()).await;
    assert_eq!(s, 200);
    let (_, a) = relay::open_answer(&answer, &server, &tablet, &Limits::default()).unwrap();
    assert!(
        a.outcomes
            .iter()
            .all(|o| o.status == OutcomeStatus::Duplicate),
        "{a:?}"
    );
    assert_eq!(
        srv.store()
            .pull(MAWAR.into(), 0, 100)
            .await
            .unwrap()
            .changes
            .len(),
        3
    );

    // The last contact by titip is kept for the device (admins see it in `device list`).
    let dev = srv.store().device(kader.device).await.unwrap().unwrap();
    assert!(dev.last_relay_at.is_some(), "{dev:?}");
    // … and in the tablets report the puskesmas and the dinas read.
    let (s, v) = srv.get("/v1/reports/tablets", Some(&carrier.bearer)).await;
    assert_eq!(s, 200, "{v}");
    let row = v["tablets"]
        .as_array()
        .and_then(|t| {
            t.iter()
                .find(|t| t["device_id"] == kader.device.to_string())
        })
        .cloned()
        .unwrap_or_else(|| panic!("kader's tablet in {v}"));
    assert_eq!(
        row["last_relay_at"].as_i64(),
        dev.last_relay_at.map(|t| t as i64),
        "{row}"
    );

    // Garbage, and an altered bundle: 422 titip_refused, kept for admins.
    let (s, body) = relay_post(&srv, Some(&carrier.bearer), b"hello".to_vec()).await;
    let v: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    assert_eq!((s, v["code"].as_str()), (422, Some("titip_refused")), "{v}");
    let mut altered = sealed.clone();
    let at = altered.len() - 100;
    altered[at] ^= 1;
    let (s, _) = relay_post(&srv, Some(&carrier.bearer), altered).await;
    assert_eq!(s, 422);
    let reports = srv.store().titip_refusals(10).await.unwrap();
    assert_eq!(reports.len(), 2, "{reports:?}");
    assert_eq!(
        reports[0].device.as_deref(),
        Some(kader.device.to_string().as_str())
    );
    assert_eq!(reports[1].device, None);
    let metrics = srv.metrics().await;
    assert!(
        metrics.contains("jangkau_titip_refused_total 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("jangkau_titip_bundles_total 2"),
        "{metrics}"
    );
    srv.finish().await;
}

/// A tablet enrolled before titip registers its keys once with its device token; a retry
/// with the same keys gets the same answer, other keys are refused and the first kept.
async fn keys_registered_after_enrolment(b: Backend) {
    let srv = TestServer::demo(b).await;
    let old = srv.session("kader.mawar").await;
    assert!(
        srv.store()
            .device_titip(old.device)
            .await
            .unwrap()
            .is_none()
    );
    let device = format!("Device {}", old.device_token);
    let tablet = KeyPair::from_bytes(&[4; 64]);
    let body = json!({"v": 1, "titip": tablet.public()});
    // Not without the device token, not with a user's session.
    assert_eq!(srv.post("/v1/relay/keys", &body, None).await.0, 401);
    assert_eq!(
        srv.post("/v1/relay/keys", &body, Some(&old.bearer)).await.0,
        401
    );
    let (s, first) = srv.post("/v1/relay/keys", &body, Some(&device)).await;
    assert_eq!(s, 200, "{first}");
    let server: PublicKeys = serde_json::from_value(first["titip"].clone()).unwrap();
    let stored = srv.store().device_titip(old.device).await.unwrap().unwrap();
    assert_eq!(stored.box_key, tablet.public().box_key.to_b64());
    assert_eq!(stored.sign, tablet.public().sign.to_b64());
    // The answer was lost on the way: the same keys again, the same answer.
    let (s, again) = srv.post("/v1/relay/keys", &body, Some(&device)).await;
    assert_eq!((s, &again["titip"]), (200, &first["titip"]), "{again}");
    // Other keys for a device that has some: refused, the first kept.
    let other = KeyPair::from_bytes(&[5; 64]);
    let (s, e) = srv
        .post(
            "/v1/relay/keys",
            &json!({"v": 1, "titip": other.public()}),
            Some(&device),
        )
        .await;
    assert_eq!((s, e["code"].as_str()), (422, Some("titip_refused")), "{e}");
    let kept = srv.store().device_titip(old.device).await.unwrap().unwrap();
    assert_eq!(kept.box_key, tablet.public().box_key.to_b64());
    // The server's keys are the ones a tablet enrolled with keys gets.
    let (_, enrolled) = enrol_with_keys(&srv, "kader.melati", &other).await;
    assert_eq!(enrolled, server);
    srv.finish().await;
}
