//! Likely duplicates the server finds, on a bidan's tablet (issue #17): one child registered
//! by the kaders of two posyandu of her desa with the same NIK; the district server's finder
//! (`GET /v1/records/duplicates`) lists the pair, her tablet's sync fetches it and shows it
//! among its likely duplicates; once she dismisses the pair and syncs, the server's route no
//! longer lists it and her tablet no longer shows it. On both backends.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use field_core::review::PairSource;
use field_core::{HouseholdInput, PersonInput};
use serde_json::{Value, json};
use sync_protocol::RecordId;

both_backends!(a_pair_the_server_found_is_shown_and_dismissed);

const NIK: &str = "5304050505240001";

fn child() -> PersonInput {
    PersonInput {
        nik: Some(NIK.into()),
        ..person("Yohanes Bria", "male", "2024-05-05")
    }
}

/// The pairs of the server's route for the bidan's desa, as `(first, second)`.
async fn route_pairs(server: &Server, bearer: &str) -> Vec<(String, String)> {
    let res = reqwest::Client::new()
        .get(format!(
            "{}/v1/records/duplicates?place={NAITIMU}",
            server.url()
        ))
        .bearer_auth(bearer)
        .header("Jangkau-Protocol", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: Value = serde_json::from_slice(&res.bytes().await.unwrap()).unwrap();
    body["pairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["first"].as_str().unwrap().to_string(),
                p["second"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

async fn a_pair_the_server_found_is_shown_and_dismissed(backend: Backend) {
    let server = Server::start_on(backend).await;
    let mut mawar = Device::enrol(&server, "kader.mawar").await;
    let mut melati = Device::enrol(&server, "kader.melati").await;
    let a = mawar
        .store
        .register_household(&household("Keluarga Bria"), &[child()], &[])
        .unwrap()
        .persons[0];
    let b = melati
        .store
        .register_household(
            &HouseholdInput {
                posyandu: MELATI.into(),
                ..household("Keluarga Bria (Melati)")
            },
            &[child()],
            &[],
        )
        .unwrap()
        .persons[0];
    mawar.sync().await;
    melati.sync().await;
    let (first, second) = if a.to_string() < b.to_string() {
        (a, b)
    } else {
        (b, a)
    };
    let pair = (first.to_string(), second.to_string());

    // The server's finder lists the pair for the bidan of the desa.
    let mut bidan = Device::enrol(&server, "bidan.naitimu").await;
    let bearer = login(&server, "bidan.naitimu").await;
    assert!(route_pairs(&server, &bearer).await.contains(&pair));

    // Her sync fetches it; her likely duplicates show it, found by the server.
    let report = bidan.sync().await;
    assert!(report.server_duplicates.unwrap_or(0) >= 1, "{report:?}");
    let shown = |d: &Device| -> Option<PairSource> {
        d.store
            .duplicate_pairs()
            .unwrap()
            .into_iter()
            .find(|p| ids(p.first.person.id, p.second.person.id) == (first, second))
            .map(|p| p.source)
    };
    let source = shown(&bidan).expect("the pair is shown");
    assert!(
        matches!(source, PairSource::Server | PairSource::Both),
        "{source:?}"
    );

    // Both find it (the tablet holds the desa); what the server sent is kept apart.
    assert_eq!(
        from_server(&bidan, first, second),
        1,
        "the server's pair is kept"
    );

    // "Not the same person": dismissed on the tablet, synced.
    bidan.store.dismiss_duplicate(a, b, Some("kembar")).unwrap();
    assert_eq!(shown(&bidan), None, "dismissed on the tablet");
    let report = bidan.sync().await;
    assert!(report.server_duplicates.is_some(), "{report:?}");
    assert!(
        !route_pairs(&server, &bearer).await.contains(&pair),
        "the server no longer lists a dismissed pair"
    );
    assert_eq!(shown(&bidan), None, "not shown after the sync");
    assert_eq!(
        from_server(&bidan, first, second),
        0,
        "the server's answer no longer has it"
    );
    server.stop().await;
}

/// How many times the tablet holds the pair as the server's answer (`server_duplicates`).
fn from_server(d: &Device, first: RecordId, second: RecordId) -> i64 {
    d.store
        .connection()
        .query_row(
            "SELECT COUNT(*) FROM server_duplicates WHERE first = ?1 AND second = ?2",
            [first.to_string(), second.to_string()],
            |r| r.get(0),
        )
        .unwrap()
}

fn ids(x: RecordId, y: RecordId) -> (RecordId, RecordId) {
    if x.to_string() < y.to_string() {
        (x, y)
    } else {
        (y, x)
    }
}

/// A bearer session of `username`: a device enrolled and logged in over HTTP, as a tablet
/// does (`POST /v1/enrol`, `POST /v1/login`).
async fn login(server: &Server, username: &str) -> String {
    let http = reqwest::Client::new();
    let post = async |path: &str, auth: &str, body: Value| -> Value {
        let res = http
            .post(format!("{}{path}", server.url()))
            .header("Jangkau-Protocol", "1")
            .header("Content-Type", "application/json")
            .header("Authorization", auth)
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
        serde_json::from_slice(&res.bytes().await.unwrap()).unwrap()
    };
    let e = post(
        "/v1/enrol",
        "",
        json!({"v": 1, "code": server.code(username).await, "device_name": "Dasbor",
               "app_version": "0.1.0-test"}),
    )
    .await;
    let token = e["device_token"].as_str().unwrap();
    let l = post(
        "/v1/login",
        &format!("Device {token}"),
        json!({"v": 1, "username": username, "secret": PASSWORD}),
    )
    .await;
    l["session_token"].as_str().unwrap().to_string()
}
