//! A tablet of the app before body schema 2 (protocol 1, schema-1 bodies) keeps syncing
//! against the server of protocol 1..=2 while a tablet of today's app (protocol 2) writes
//! the new fields: a newborn's birth weight, length and time, a dose's KFA code and expiry,
//! a weighing's oedema (`docs/sync-protocol.md` section 2, "What a protocol-1 tablet sees").
//!
//! The v1 tablet is a faithful raw-HTTP client of protocol 1: every request carries
//! `Jangkau-Protocol: 1` and `"v":1`, every answer must say `"v":1`, and every change it
//! is sent must be one the app before schema 2 reads (a kind and fields of schema 1,
//! `schema: 1`); what it holds is merged by sync-protocol's reference replica, as that app's
//! store does. The v2 tablet is field-core, the real app's store and sync client.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use field_core::{
    HomeVisitInput, ImmunisationInput, MeasurementInput, MemberPanel, PersonInput, Services,
};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use sync_protocol::schema::{downgrade, fields, kind_since};
use sync_protocol::{Change, DeviceId, EntityKind, Hlc, RecordId, UserId};

/// A tablet that speaks protocol 1 only, over plain HTTP with JSON bodies.
struct V1Tablet {
    http: reqwest::Client,
    url: String,
    device: DeviceId,
    user: UserId,
    session: String,
    seq: u64,
    counter: u16,
    cursor: Option<String>,
    /// Every change it holds: its own and what it pulled.
    held: Vec<Change>,
}

impl V1Tablet {
    async fn post(&self, path: &str, auth: &str, body: Value) -> Value {
        self.post_as(1, path, auth, body).await
    }

    /// A request of protocol `v` (1 for this tablet; 2 once "its app was updated").
    async fn post_as(&self, v: u16, path: &str, auth: &str, mut body: Value) -> Value {
        body["v"] = json!(v);
        let resp = self
            .http
            .post(format!("{}{path}", self.url))
            .header("Jangkau-Protocol", v.to_string())
            .header("Content-Type", "application/json")
            .header("Authorization", auth)
            .body(body.to_string())
            .send()
            .await
            .expect("request");
        let status = resp.status().as_u16();
        let answer: Value = serde_json::from_slice(&resp.bytes().await.expect("body")).unwrap();
        assert_eq!(status, 200, "{path}: {answer}");
        assert_eq!(
            answer["v"],
            json!(v),
            "{path} answers in the request's version"
        );
        answer
    }

    async fn enrol(server: &Server, username: &str) -> V1Tablet {
        let mut t = V1Tablet {
            http: reqwest::Client::new(),
            url: server.url(),
            device: DeviceId::new_v7(),
            user: UserId::new_v7(),
            session: String::new(),
            seq: 0,
            counter: 0,
            cursor: None,
            held: Vec::new(),
        };
        let e = t
            .post(
                "/v1/enrol",
                "",
                json!({"code": server.code(username).await, "device_name": "Tablet lama",
                       "app_version": "0.9.0"}),
            )
            .await;
        t.device = serde_json::from_value(e["device_id"].clone()).unwrap();
        let token = e["device_token"].as_str().unwrap().to_string();
        let l = t
            .post(
                "/v1/login",
                &format!("Device {token}"),
                json!({"username": username, "secret": PASSWORD}),
            )
            .await;
        t.user = serde_json::from_value(l["user_id"].clone()).unwrap();
        t.session = l["session_token"].as_str().unwrap().to_string();
        t
    }

    fn bearer(&self) -> String {
        format!("Bearer {}", self.session)
    }

    /// A schema-1 change of this tablet, stamped after everything it holds.
    fn change(&mut self, id: RecordId, kind: EntityKind, body: Value) -> Change {
        self.seq += 1;
        self.counter += 1;
        let wall = self
            .held
            .iter()
            .map(|c| c.hlc.wall_ms)
            .max()
            .unwrap_or(0)
            .max(now_ms());
        Change {
            id,
            kind,
            device: self.device,
            seq: self.seq,
            hlc: Hlc::new(wall, self.counter).unwrap(),
            author: self.user,
            schema: 1,
            tombstone: false,
            supersedes: None,
            base: BTreeMap::new(),
            body: body.as_object().cloned().unwrap(),
        }
    }

    async fn push(&mut self, changes: Vec<Change>) {
        let a = self
            .post("/v1/sync/push", &self.bearer(), json!({"changes": changes}))
            .await;
        for o in a["outcomes"].as_array().unwrap() {
            assert_eq!(o["status"], "accepted", "{o}");
        }
        self.held.extend(changes);
    }

    /// Pulls every page (of 3) in protocol `v`; returns the changes received.
    async fn pull_as(&mut self, v: u16) -> Vec<Change> {
        let mut got = Vec::new();
        loop {
            let mut req = json!({"limit": 3});
            if let Some(c) = &self.cursor {
                req["cursor"] = json!(c);
            }
            let a = self.post_as(v, "/v1/sync/pull", &self.bearer(), req).await;
            for c in a["changes"].as_array().unwrap() {
                // What the app before schema 2 does with a page: parse every change (an
                // unknown kind or field would fail it), as its store does.
                let c: Change = serde_json::from_value(c.clone()).expect("a change of the page");
                if v == 1 {
                    assert_readable_by_v1(&c);
                }
                got.push(c);
            }
            self.cursor = a["cursor"].as_str().map(str::to_string);
            if a["has_more"] != json!(true) {
                break;
            }
        }
        // A change held already (the same device and seq) is the projection it was sent in
        // protocol 1: the full copy takes its place, as the app's store keeps the copy with
        // more fields (docs/sync-protocol.md section 7).
        for c in &got {
            self.held
                .retain(|h| (h.device, h.seq) != (c.device, c.seq) || h.same_content(c));
            if !self.held.iter().any(|h| h.same_content(c)) {
                self.held.push(c.clone());
            }
        }
        got
    }

    fn view(&self) -> View {
        View::of_changes(&self.held)
    }
}

/// Everything of a change a tablet of protocol 1 must be able to read: a kind and fields of
/// body schema 1, and `schema: 1` (a higher one it would keep aside as "update the app").
#[track_caller]
fn assert_readable_by_v1(c: &Change) {
    assert_eq!(c.schema, 1, "{c:?}");
    assert_eq!(kind_since(c.kind), 1, "{c:?}");
    for k in c.body.keys() {
        assert!(
            fields(c.kind).iter().any(|f| f.name == k && f.since == 1),
            "{}.{k} is not a schema-1 field",
            c.kind
        );
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

fn days_ago(n: i64) -> String {
    (chrono::Local::now().date_naive() - chrono::Duration::days(n))
        .format("%Y-%m-%d")
        .to_string()
}

fn new_id() -> RecordId {
    RecordId::new_v7()
}

/// The server's changes for Mawar as a tablet of protocol 1 is sent them.
fn as_protocol_1(changes: &[Change]) -> Vec<Change> {
    changes
        .iter()
        .filter_map(|c| downgrade(c, 1).map(|d| d.into_owned()))
        .collect()
}

async fn a_v1_tablet_keeps_syncing_while_a_v2_tablet_writes_the_new_fields(backend: Backend) {
    let server = Server::start_on(backend).await;
    let mut v2 = Device::enrol(&server, "kader.mawar").await;
    let mut v1 = V1Tablet::enrol(&server, "kader.mawar2").await;

    // The v2 tablet registers a mother and her newborn with the birth's weight, length and
    // time, gives HB0 (KFA code, lot, expiry) and weighs an older child who has oedema.
    let born = days_ago(1);
    let newborn = PersonInput {
        relation: Some("child".into()),
        birth_weight: Some(3.1),
        birth_length: Some(49.5),
        birth_time: Some("06:45".into()),
        ..person("Bayi Ny. Maria Bere", "female", &born)
    };
    let reg = v2
        .store
        .register_household(
            &household("Yosef Bere"),
            &[
                person("Maria Bere", "female", "1998-04-02"),
                newborn,
                person("Agus Bere", "male", &days_ago(700)),
            ],
            &[(1, 0), (2, 0)],
        )
        .unwrap();
    let (baby, older) = (reg.persons[1], reg.persons[2]);
    let hv = v2
        .store
        .record_home_visit(&HomeVisitInput {
            household: reg.household,
            date: days_ago(0),
            panels: vec![
                MemberPanel {
                    person: baby,
                    services: Services {
                        immunisations: vec![ImmunisationInput {
                            vaccine: "HB0".into(),
                            batch: Some("HB24-117".into()),
                            kfa_code: Some("93000631".into()),
                            expiry: Some("2030-06-30".into()),
                            ..Default::default()
                        }],
                        ..Default::default()
                    },
                    ..panel(baby)
                },
                MemberPanel {
                    person: older,
                    services: Services {
                        measurements: vec![MeasurementInput {
                            kind: "weight".into(),
                            value: 8.4,
                            unit: "kg".into(),
                            oedema: Some(true),
                            ..Default::default()
                        }],
                        ..Default::default()
                    },
                    ..panel(older)
                },
            ],
            household_update: None,
            family_acknowledged: None,
        })
        .unwrap();
    let dose = hv.panels[0].saved.immunisations[0];
    let weighing = hv.panels[1].saved.measurements[0];
    v2.sync().await;

    // The v1 tablet pulls: every change arrives readable by it (checked per change), the
    // newborn and the dose without the fields it does not know.
    let got = v1.pull_as(1).await;
    assert!(!got.is_empty());
    let seen = v1.view();
    let Rec::Mutable { values, .. } = &seen.records[&baby] else {
        panic!("the newborn is a person")
    };
    assert_eq!(values["name"], "Bayi Ny. Maria Bere");
    assert!(!values.contains_key("birth_weight"));
    let Rec::Fact { body, .. } = &seen.records[&dose] else {
        panic!("a dose")
    };
    assert_eq!(
        (body["vaccine"].as_str(), body["batch"].as_str()),
        (Some("HB0"), Some("HB24-117")),
        "the v1 tablet sees the dose and its lot, so it never offers HB0 again"
    );
    assert!(!body.contains_key("kfa_code") && !body.contains_key("expiry"));
    assert!(seen.records.contains_key(&weighing));

    // Meanwhile the v1 tablet writes schema-1 changes: it renames the newborn (an edit of a
    // record whose schema-2 fields it never saw), weighs her, and registers a family.
    let name_stamp = v1
        .held
        .iter()
        .filter(|c| c.id == baby && c.body.contains_key("name"))
        .map(Change::stamp)
        .max()
        .unwrap();
    let mut rename = v1.change(baby, EntityKind::Person, json!({"name": "Yohana Bere"}));
    rename.base.insert("name".into(), name_stamp);
    let weigh = v1.change(
        new_id(),
        EntityKind::Measurement,
        json!({"posyandu": MAWAR, "person": baby.to_string(), "type": "weight",
               "value": 3.3, "unit": "kg", "date": days_ago(0)}),
    );
    let family = new_id();
    let hh = v1.change(
        family,
        EntityKind::Household,
        json!({"posyandu": MAWAR, "head_name": "Kornelis Mali"}),
    );
    v1.push(vec![rename, weigh.clone(), hh]).await;
    v1.pull_as(1).await;

    // The v2 tablet receives them; its newborn keeps every field, with the v1 tablet's name.
    v2.sync().await;
    let server_changes = server.changes(MAWAR).await;
    let full = View::of_changes(&server_changes);
    assert_same(
        "v2 tablet = server",
        &full.within(&[MAWAR]),
        &v2.view().within(&[MAWAR]),
    );
    let Rec::Mutable { values, .. } = &full.records[&baby] else {
        panic!("a person")
    };
    assert_eq!(values["name"], "Yohana Bere");
    assert_eq!(
        (
            &values["birth_weight"],
            &values["birth_length"],
            &values["birth_time"]
        ),
        (&json!(3.1), &json!(49.5), &json!("06:45")),
        "nothing the v2 tablet wrote was lost by the v1 tablet's edit"
    );
    let Rec::Fact { body, .. } = &full.records[&dose] else {
        panic!("a dose")
    };
    assert_eq!(
        (&body["kfa_code"], &body["expiry"]),
        (&json!("93000631"), &json!("2030-06-30"))
    );
    let Rec::Fact { body, .. } = &full.records[&weighing] else {
        panic!("a weighing")
    };
    assert_eq!(body["oedema"], json!(true));
    assert!(full.records.contains_key(&weigh.id) && full.records.contains_key(&family));
    // No conflict: the rename was made on what the v1 tablet saw.
    assert!(full.conflicts.is_empty(), "{:?}", full.conflicts);

    // The v1 tablet holds exactly the server's state as protocol 1 serves it.
    assert_same(
        "v1 tablet = server for protocol 1",
        &View::of_changes(&as_protocol_1(&server_changes)),
        &v1.view(),
    );

    // Its app is updated: the same cursor, now in protocol 2, gets again every change it was
    // sent only in part, and it then holds everything the server holds.
    let again = v1.pull_as(2).await;
    assert!(again.iter().any(|c| c.id == dose && c.schema == 2));
    assert_same("updated tablet = server", &full, &v1.view());
    // Once through, the cursor no longer goes back.
    assert!(v1.pull_as(2).await.is_empty());

    server.stop().await;
}

fn panel(person: RecordId) -> MemberPanel {
    MemberPanel {
        person,
        services: Services::default(),
        findings: None,
        education: None,
        follow_up_date: None,
        reminded_to_facility: None,
        reported_to_health_worker: None,
        referral: None,
    }
}

both_backends!(a_v1_tablet_keeps_syncing_while_a_v2_tablet_writes_the_new_fields);
