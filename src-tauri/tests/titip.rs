//! "Titip data" through the app's core, without a window: a real store per tablet and a real
//! district server on 127.0.0.1. The kader saves a bundle to a file, the bidan's app takes
//! it, hands it over with its own sync and saves the answers; the kader's app opens them.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use jangkau_app_lib::core::MemberInput;
use serde_json::{Value, json};

async fn enrolled_as(server: &Server, username: &str) -> App {
    let a = app(Some(server.url()));
    let code = server.code(username).await;
    a.core
        .enrol(enrol_input(server, code, username))
        .await
        .unwrap();
    let status = a.events.wait_for("sync://finished", 1).await;
    assert_eq!(status["last_error"], Value::Null, "{status}");
    a
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bundle_goes_by_file_through_the_bidans_app_and_its_answer_comes_back() {
    let server = Server::start().await;
    let kader = enrolled_as(&server, "kader.mawar").await;
    let bidan = enrolled_as(&server, "bidan.naitimu").await;
    let before = kader.core.sync_status().unwrap().waiting;
    kader
        .core
        .register_household(
            serde_json::from_value(json!({"posyandu": MAWAR, "head_name": "Petrus Bere"})).unwrap(),
            vec![
                serde_json::from_value::<MemberInput>(json!({"name": "Petrus Bere", "sex": "male",
                    "birth_date": "1988-03-01", "relation": "head"}))
                .unwrap(),
            ],
        )
        .unwrap();
    let waiting = kader.core.sync_status().unwrap().waiting;
    assert_eq!(waiting, before + 2);
    let usb = tempfile::tempdir().unwrap();
    let bundle = usb.path().join("titip-jangkau.titip");
    let answers = usb.path().join("titip-balasan.titip");

    // A relative path (not from a dialog) is refused.
    let e = kader.core.titip_export("titip.titip").unwrap_err();
    assert_eq!(e.key, "titip.error.bad_path");
    let w = kader.core.titip_export(bundle.to_str().unwrap()).unwrap();
    assert_eq!(w.items, waiting);
    // Taking it back into the kader's own app is refused; the bidan's app carries it.
    let e = kader
        .core
        .titip_import(bundle.to_str().unwrap())
        .unwrap_err();
    assert_eq!(e.key, "titip.error.own_bundle");
    let r = bidan.core.titip_import(bundle.to_str().unwrap()).unwrap();
    assert_eq!(r.carried, 1);
    let o = serde_json::to_value(bidan.core.titip_overview().unwrap()).unwrap();
    assert_eq!(o["carrying"][0]["waiting"], 1, "{o}");
    assert_eq!(o["carrying"][0]["changes"], waiting, "{o}");
    let st = bidan.core.sync_status().unwrap();
    assert_eq!((st.titip_carrying, st.titip_tablets), (1, 1));

    // The bidan's next sync hands it over.
    bidan.core.sync_now(None).unwrap();
    let status = bidan.events.wait_for("sync://finished", 2).await;
    assert_eq!(status["last_error"], Value::Null, "{status}");
    let o = serde_json::to_value(bidan.core.titip_overview().unwrap()).unwrap();
    assert_eq!(
        (&o["carrying"][0]["waiting"], &o["carrying"][0]["handed"]),
        (&json!(0), &json!(1)),
        "{o}"
    );
    let w = bidan.core.titip_collect(answers.to_str().unwrap()).unwrap();
    assert_eq!(w.items, 1);

    // The kader's app opens the answer: confirmed, nothing waits.
    let r = kader.core.titip_import(answers.to_str().unwrap()).unwrap();
    assert_eq!(r.carried, 0);
    let opened = r.opened.expect("an answer for this tablet");
    assert_eq!(opened.confirmed, waiting);
    assert_eq!(kader.core.sync_status().unwrap().waiting, 0);
    let o = serde_json::to_value(kader.core.titip_overview().unwrap()).unwrap();
    assert_eq!(o["sent"][0]["confirmed"], waiting, "{o}");
    assert_eq!(o["ready"], true);
}

/// The same over the local network: the kader's app offers its bundle with a code, the
/// bidan's app receives it (a wrong code first), hands it over with its sync, and offers
/// the answers back the same way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bundle_goes_over_the_network_and_its_answer_comes_back() {
    use jangkau_app_lib::core::LanWhat;
    let server = Server::start().await;
    let kader = enrolled_as(&server, "kader.mawar").await;
    let bidan = enrolled_as(&server, "bidan.naitimu").await;
    kader
        .core
        .register_household(
            serde_json::from_value(json!({"posyandu": MAWAR, "head_name": "Yosefina Taek"}))
                .unwrap(),
            vec![
                serde_json::from_value::<MemberInput>(
                    json!({"name": "Yosefina Taek", "sex": "female",
                    "birth_date": "1990-06-11", "relation": "head"}),
                )
                .unwrap(),
            ],
        )
        .unwrap();
    let waiting = kader.core.sync_status().unwrap().waiting;
    assert!(waiting >= 2);

    let offer = kader.core.titip_lan_offer(LanWhat::Bundle).unwrap();
    assert_eq!(offer.items, waiting);
    assert_eq!(offer.code.len(), 6);
    let port = offer.addresses.last().unwrap().clone();
    assert!(port.starts_with("127.0.0.1:"), "{offer:?}");
    let wrong = format!(
        "{}{}",
        (offer.code.as_bytes()[0] - b'0' + 1) % 10,
        &offer.code[1..]
    );
    let e =
        tokio::task::block_in_place(|| bidan.core.titip_lan_receive(&port, &wrong)).unwrap_err();
    assert_eq!(e.key, "titip.error.lan_wrong_code");
    let r =
        tokio::task::block_in_place(|| bidan.core.titip_lan_receive(&port, &offer.code)).unwrap();
    assert_eq!(r.carried, 1);
    let st = serde_json::to_value(kader.core.titip_lan_state()).unwrap();
    assert_eq!(st["state"], "delivered", "{st}");

    bidan.core.sync_now(None).unwrap();
    let status = bidan.events.wait_for("sync://finished", 2).await;
    assert_eq!(status["last_error"], Value::Null, "{status}");

    let back = bidan.core.titip_lan_offer(LanWhat::Answers).unwrap();
    assert_eq!(back.items, 1);
    let port = back.addresses.last().unwrap().clone();
    let r =
        tokio::task::block_in_place(|| kader.core.titip_lan_receive(&port, &back.code)).unwrap();
    let opened = r.opened.expect("an answer for this tablet");
    assert_eq!(opened.confirmed, waiting);
    assert_eq!(kader.core.sync_status().unwrap().waiting, 0);
    // A second receipt finds the offer ended.
    let e = tokio::task::block_in_place(|| kader.core.titip_lan_receive(&port, &back.code))
        .unwrap_err();
    assert_eq!(e.key, "titip.error.lan_unreachable");
    bidan.core.titip_lan_cancel();
    assert_eq!(
        serde_json::to_value(bidan.core.titip_lan_state()).unwrap(),
        Value::Null
    );
    // Locking the tablet ends an offer: a locked tablet hands nothing over.
    let open = bidan.core.titip_lan_offer(LanWhat::Answers).unwrap();
    assert!(bidan.core.titip_lan_state().is_some());
    bidan.core.lock();
    assert!(bidan.core.titip_lan_state().is_none());
    let port = open.addresses.last().unwrap().clone();
    let e = tokio::task::block_in_place(|| kader.core.titip_lan_receive(&port, &open.code))
        .unwrap_err();
    assert_eq!(e.key, "titip.error.lan_unreachable");
}
