//! Tinjauan's commands without a window, on real stores and a real district server over
//! HTTP: a child registered twice on a kader's tablet is proposed to the bidan, who compares
//! and merges; Beranda's badge counts it; a kader may not merge. (The pairs the server finds,
//! `GET /v1/records/duplicates`, fetched by the bidan's sync and dismissed:
//! `tests/tests/server_duplicates.rs`.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use jangkau_app_lib::core::MemberInput;
use serde_json::{Value, json};

async fn sync(a: &App) -> Value {
    let before = a.events.named("sync://finished").len();
    a.core.sync_now(None).unwrap();
    let status = a.events.wait_for("sync://finished", before + 1).await;
    assert_eq!(status["last_error"], Value::Null, "{status}");
    status
}

fn member(v: Value) -> MemberInput {
    serde_json::from_value(v).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_child_registered_twice_is_merged_by_the_bidan_and_the_kader_may_only_dismiss() {
    let server = Server::start().await;
    let kader = enrolled(&server).await;
    let child = json!({"name": "Yosef Tes Ganda", "sex": "male", "birth_date": "2024-05-10",
                       "nik": "5304051005240009"});
    for head in ["Keluarga Ganda Satu", "Keluarga Ganda Dua"] {
        kader
            .core
            .register_household(
                serde_json::from_value(json!({"posyandu": MAWAR, "head_name": head})).unwrap(),
                vec![member(child.clone())],
            )
            .unwrap();
    }
    let home = kader.core.home().unwrap();
    assert!(!home.review.supervisor);
    assert_eq!(home.review.conflicts, 0);
    let q = kader.core.review_queue().unwrap();
    let pair = q
        .duplicates
        .iter()
        .find(|p| p.first.person.name == "Yosef Tes Ganda")
        .expect("the pair");
    let (first, second) = (
        pair.first.person.id.to_string(),
        pair.second.person.id.to_string(),
    );
    assert_eq!(home.review.duplicates, q.duplicates.len() as u64);
    // A kader may not merge: the same refusal as the server's.
    let e = kader
        .core
        .merge_same_person(&first, &second, vec![], None)
        .unwrap_err();
    assert_eq!(e.key, "validation.supervisor_only");
    sync(&kader).await;

    let bidan = app(Some(server.url()));
    let code = server.code("bidan.naitimu").await;
    bidan
        .core
        .enrol(enrol_input(&server, code, "bidan.naitimu"))
        .await
        .unwrap();
    let status = bidan.events.wait_for("sync://finished", 1).await;
    assert_eq!(status["last_error"], Value::Null, "{status}");
    let home = bidan.core.home().unwrap();
    assert!(home.review.supervisor);
    assert!(home.review.duplicates >= 1, "{:?}", home.review);
    assert_eq!(
        home.review.total,
        home.review.conflicts + home.review.duplicates + home.review.problems
    );
    let cmp = bidan.core.compare_pair(&first, &second).unwrap();
    let heads: Vec<Option<String>> = [&cmp.first, &cmp.second]
        .iter()
        .map(|s| s.household.as_ref().and_then(|h| h.head_name.clone()))
        .collect();
    assert!(
        heads.contains(&Some("Keluarga Ganda Satu".into()))
            && heads.contains(&Some("Keluarga Ganda Dua".into())),
        "{heads:?}"
    );
    let e = bidan.core.compare_pair("bukan-id", &second).unwrap_err();
    assert_eq!(
        (e.key.as_str(), e.field.as_deref()),
        ("validation.record_ref", Some("first"))
    );
    bidan
        .core
        .merge_same_person(&first, &second, vec!["name".into()], Some("  ".into()))
        .unwrap();
    assert!(
        bidan
            .core
            .review_queue()
            .unwrap()
            .duplicates
            .iter()
            .all(|p| p.first.person.name != "Yosef Tes Ganda")
    );
    sync(&bidan).await;
    sync(&kader).await;
    let q = kader.core.review_queue().unwrap();
    assert!(
        q.duplicates
            .iter()
            .all(|p| p.first.person.name != "Yosef Tes Ganda")
    );
    let profile = kader.core.profile(&first).unwrap();
    assert_eq!(profile.person.name, "Yosef Tes Ganda");
}
