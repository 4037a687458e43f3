//! The command layer without a window: a real store in a temporary data directory and a real
//! district server on 127.0.0.1, through the same `AppCore` methods the Tauri commands call.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use field_core::PersonInput;
use jangkau_app_lib::core::MemberInput;
use jangkau_app_lib::settings::{Locale, Settings};
use serde_json::{Value, json};
use std::time::{Duration, Instant};

fn member(v: Value) -> MemberInput {
    serde_json::from_value(v).unwrap()
}

fn person(v: Value) -> PersonInput {
    serde_json::from_value(v).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enrol_unlock_register_search_profile_and_mark_moved() {
    let server = Server::start().await;
    let a = app(Some(server.url()));
    let info = a.core.app_info().unwrap();
    assert!(!info.enrolled && info.users.is_empty() && info.unlocked.is_none());
    assert_eq!(info.suggested_server, Some(server.url()));
    assert_eq!(info.settings, Settings::default());

    // First run: a bad PIN is refused before the code is used up.
    let code = server.code("kader.mawar").await;
    let mut bad = enrol_input(&server, code.clone(), "kader.mawar");
    bad.pin = "123456".to_string().into();
    let e = a.core.enrol(bad).await.unwrap_err();
    assert_eq!(
        (e.key.as_str(), e.field.as_deref()),
        ("validation.pin_too_simple", Some("pin"))
    );
    let user = a
        .core
        .enrol(enrol_input(&server, code, "kader.mawar"))
        .await
        .unwrap();
    assert_eq!(
        (user.username.as_str(), user.role.as_str()),
        ("kader.mawar", "kader")
    );
    // The first sync starts at unlock and pulls the area (places, the demo family).
    let status = a.events.wait_for("sync://finished", 1).await;
    assert_eq!(status["last_error"], Value::Null, "{status}");
    assert!(status["last_success_ms"].is_u64());
    let info = a.core.app_info().unwrap();
    assert!(info.enrolled);
    assert_eq!(info.users.len(), 1);
    assert_eq!(
        info.unlocked.as_ref().map(|u| u.username.as_str()),
        Some("kader.mawar")
    );
    assert_eq!(info.server_url, Some(server.url()));
    assert_eq!(info.device_name.as_deref(), Some("Tablet uji"));

    // Beranda: the kader's posyandu by name, today, sync state, due tasks of the demo child.
    let home = serde_json::to_value(a.core.home().unwrap()).unwrap();
    assert_eq!(home["posyandu"]["code"], MAWAR);
    // The place names came with the enrolment (`GET /v1/places` after the login).
    assert_eq!(home["posyandu"]["name"], "Posyandu Mawar", "{home}");
    assert_eq!(home["today"].as_str().map(str::len), Some(10));
    assert_eq!(home["sync"]["waiting"], 0);
    assert_eq!(home["sync"]["login_required"], false);
    assert!(
        home["tasks"].as_array().is_some_and(|t| !t.is_empty()),
        "{home}"
    );
    let task = &home["tasks"][0]["tasks"][0];
    for k in ["kind", "priority", "due", "reason", "params", "form"] {
        assert!(task.get(k).is_some(), "task without {k}: {task}");
    }
    // The whole list's counts, and its later pages ("Tampilkan lagi"): one person at a time
    // they are the first page again, in its order.
    let persons = home["due"]["persons"].as_u64().unwrap();
    assert_eq!(persons, home["tasks"].as_array().unwrap().len() as u64);
    let count: usize = home["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["tasks"].as_array().unwrap().len() + p["problems"].as_array().unwrap().len())
        .sum();
    assert_eq!(home["due"]["tasks"].as_u64(), Some(count as u64));
    let mut paged = Vec::new();
    let mut offset = 0;
    while offset < persons as usize {
        let page = serde_json::to_value(a.core.home_tasks(offset, 1).unwrap()).unwrap();
        assert_eq!(page["persons"].as_u64(), Some(persons));
        paged.extend(page["tasks"].as_array().unwrap().iter().cloned());
        offset = page["next"].as_u64().unwrap() as usize;
    }
    assert_eq!(Value::Array(paged), home["tasks"]);
    let past = a.core.home_tasks(persons as usize, 30).unwrap();
    assert!(past.tasks.is_empty() && past.next == persons);

    // The places: the kader's own posyandu by name (to register households in) and the
    // places around it.
    let places = a.core.places().unwrap();
    assert!(
        places
            .iter()
            .any(|p| p.code == MAWAR && p.name == "Posyandu Mawar"),
        "{places:?}"
    );
    assert!(
        places
            .iter()
            .any(|p| p.code == "53.04" && p.name == "Kabupaten Belu"),
        "{places:?}"
    );

    // Search before register: nobody like this yet.
    let newborn = json!({"name": "Kristina Bere", "sex": "female", "birth_date": "2025-06-01",
                         "relation": "child", "nik": ""});
    assert!(
        a.core
            .check_duplicates(person(newborn.clone()))
            .unwrap()
            .is_empty()
    );

    // A refused member field is named with the member's index; nothing is saved.
    let household = || {
        serde_json::from_value(json!({"posyandu": MAWAR, "head_name": "Petrus Bere",
            "dusun": "Halilulik A", "rt": "003", "kk_number": "", "address": " "}))
        .unwrap()
    };
    let e = a
        .core
        .register_household(
            household(),
            vec![
                member(json!({"name": "Petrus Bere", "sex": "male", "birth_date": "1988-03-01", "relation": "head"})),
                member(json!({"name": "Ana Bere", "sex": "female", "birth_date": "2999-01-01"})),
            ],
        )
        .unwrap_err();
    assert_eq!(
        (e.key.as_str(), e.field.as_deref()),
        ("validation.date_in_future", Some("members.1.birth_date"))
    );
    assert!(!e.id.is_empty() && !e.en.is_empty());

    // Register a household with its members; the child's mother is member 1.
    let mut child = newborn.clone();
    child["mother_member"] = json!(1);
    let reg = serde_json::to_value(
        a.core
            .register_household(
                household(),
                vec![
                    member(json!({"name": "Petrus Bere", "sex": "male", "birth_date": "1988-03-01", "relation": "head"})),
                    member(json!({"name": "Yuliana Seran", "sex": "female", "birth_date": "1992-09-12", "relation": "spouse"})),
                    member(child),
                ],
            )
            .unwrap(),
    )
    .unwrap();
    assert_eq!(reg["persons"].as_array().map(Vec::len), Some(3));
    assert_eq!(reg["duplicates"], json!([]));
    let hh = reg["household"].as_str().unwrap().to_string();
    let child_id = reg["persons"][2].as_str().unwrap().to_string();

    // The same child again is a likely duplicate (same name, birth date and mother).
    let mut again = newborn.clone();
    again["mother"] = reg["persons"][1].clone();
    let dups = a.core.check_duplicates(person(again)).unwrap();
    assert_eq!(dups.len(), 1);
    assert_eq!(dups[0].existing.to_string(), child_id);

    // Keluarga: found by a member's name (spelling-tolerant), and by dusun/RT.
    let hits = a.core.search_households("yuliana", None, None).unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].id.to_string(), hh);
    assert_eq!(hits[0].matched_members, vec!["Yuliana Seran".to_string()]);
    assert_eq!(hits[0].members, 3);
    let by_place = a
        .core
        .search_households("", Some("halilulik a"), Some("3"))
        .unwrap();
    assert_eq!(
        by_place
            .iter()
            .map(|h| h.id.to_string())
            .collect::<Vec<_>>(),
        vec![hh.clone()]
    );
    assert!(
        a.core
            .search_households("", Some("Halilulik B"), None)
            .unwrap()
            .is_empty()
    );

    // Household detail and a person's profile.
    let view = a.core.household(&hh).unwrap();
    assert_eq!(view.members.len(), 3);
    assert_eq!(
        view.values.get("kk_number"),
        None,
        "blank optional text is not saved"
    );
    let profile = serde_json::to_value(a.core.profile(&child_id).unwrap()).unwrap();
    assert_eq!(profile["person"]["name"], "Kristina Bere");
    assert_eq!(profile["household"]["head_name"], "Petrus Bere");
    assert!(profile["entries"].is_array() && profile["tasks"].is_array());
    assert!(
        profile["tasks"].as_array().is_some_and(|t| !t.is_empty()),
        "a baby has immunisations due: {profile}"
    );

    // Mark moved; the profile shows it, and a moved person has no tasks.
    let e = a
        .core
        .mark_status(&child_id, "gone", "2025-07-01")
        .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("status"));
    a.core
        .mark_status(&child_id, "moved", "2025-07-01")
        .unwrap();
    let profile = a.core.profile(&child_id).unwrap();
    assert_eq!(profile.person.status, "moved");
    assert!(profile.tasks.is_empty());
    let e = a.core.profile("not-an-id").unwrap_err();
    assert_eq!(e.key, "validation.record_ref");

    // Settings outlive a restart; lock closes the store.
    a.core
        .save_settings(Settings {
            locale: Locale::En,
            idle_lock_minutes: 10,
        })
        .unwrap();
    a.core.lock();
    let e = a.core.home().unwrap_err();
    assert_eq!(e.key, "app.locked");
    let dir = a.dir;
    drop(a.core);
    let b = app_in(dir, None);
    let info = b.core.app_info().unwrap();
    assert_eq!(info.settings.locale, Locale::En);
    assert!(info.enrolled && info.unlocked.is_none());
    // Offline unlock (the server is not needed) shows the same data.
    drop(server);
    b.core.unlock("kader.mawar", PIN).unwrap();
    assert_eq!(b.core.household(&hh).unwrap().members.len(), 3);
    b.core.lock();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_pins_are_refused_then_delayed() {
    let server = Server::start().await;
    let a = enrolled(&server).await;
    a.core.lock();
    let e = a.core.unlock("kader.mawar", "999888").unwrap_err();
    let v = serde_json::to_value(&e).unwrap();
    assert_eq!(v["key"], "store.wrong_pin");
    assert_eq!(v["field"], "pin");
    assert!(v["id"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(v["en"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(v.get("params").is_none());
    for _ in 0..4 {
        let _ = a.core.unlock("kader.mawar", "999888");
    }
    // After five wrong PINs, even the right one waits.
    let e = a.core.unlock("kader.mawar", PIN).unwrap_err();
    assert_eq!(e.key, "store.pin_locked");
    let wait = e
        .params
        .get("wait_seconds")
        .and_then(Value::as_u64)
        .unwrap();
    assert!((1..=30).contains(&wait), "{wait}");
    let e = a.core.unlock("someone.else", PIN).unwrap_err();
    assert_eq!(e.key, "store.unknown_user");
    assert!(!a.core.is_unlocked());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_now_sends_progress_and_finished() {
    let server = Server::start().await;
    let a = enrolled(&server).await;
    a.core
        .register_household(
            serde_json::from_value(json!({"posyandu": MAWAR, "head_name": "Paulus Klau"})).unwrap(),
            vec![member(
                json!({"name": "Paulus Klau", "sex": "male", "birth_date": "1979-11-02"}),
            )],
        )
        .unwrap();
    assert_eq!(a.core.sync_status().unwrap().waiting, 2);
    // The save told the webview at once: the chip's count is current without a refresh.
    let told = a.events.named("sync://status");
    let last = told.last().expect("no sync://status after a save");
    assert_eq!(last["waiting"], 2, "{last}");
    assert_eq!(last["utc_offset_minutes"], 480, "{last}");
    // A read tells nothing.
    let n = told.len();
    a.core.search_households("Paulus", None, None).unwrap();
    assert_eq!(a.events.named("sync://status").len(), n);
    let before = a.events.named("sync://progress").len();
    a.core.sync_now(None).unwrap();
    let status = a.events.wait_for("sync://finished", 2).await;
    assert_eq!(status["waiting"], 0, "{status}");
    assert_eq!(status["running"], false);
    assert_eq!(status["last_error"], Value::Null);
    let progress = a.events.named("sync://progress");
    let phases: Vec<&str> = progress[before..]
        .iter()
        .filter_map(|p| p["phase"].as_str())
        .collect();
    assert!(
        phases.contains(&"pushing") && phases.last() == Some(&"done"),
        "{phases:?}"
    );
    let pushing = progress[before..]
        .iter()
        .find(|p| p["phase"] == "pushing")
        .unwrap();
    for k in ["waiting", "sent", "received"] {
        assert!(pushing[k].is_u64(), "{pushing}");
    }
    let s = a.core.sync_status().unwrap();
    assert_eq!((s.waiting, s.rejected, s.running), (0, 0, false));
    assert!(a.core.rejected_changes().unwrap().is_empty());

    // The server gone: the run fails, the status says why, nothing is lost.
    a.core
        .register_household(
            serde_json::from_value(json!({"posyandu": MAWAR, "head_name": "Siti Asa"})).unwrap(),
            vec![member(
                json!({"name": "Siti Asa", "sex": "female", "birth_date": "1990-01-01"}),
            )],
        )
        .unwrap();
    drop(server);
    a.core.sync_now(None).unwrap();
    let status = a.events.wait_for("sync://finished", 3).await;
    assert_eq!(status["waiting"], 2, "{status}");
    assert_eq!(
        status["last_error"]["key"], "sync.error.network",
        "{status}"
    );
    assert!(
        status["last_error"]["id"]
            .as_str()
            .is_some_and(|s| !s.is_empty())
    );
    // Locked: no sync.
    a.core.lock();
    assert_eq!(a.core.sync_now(None).unwrap_err().key, "app.locked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_user_of_a_shared_tablet() {
    let server = Server::start().await;
    let a = enrolled(&server).await;
    // Refused before any request: a weak PIN, a user already here.
    let e = a
        .core
        .add_user("kader.mawar2", PASSWORD, "111111")
        .await
        .unwrap_err();
    assert_eq!(e.key, "validation.pin_too_simple");
    let e = a
        .core
        .add_user("kader.mawar", PASSWORD, "369258")
        .await
        .unwrap_err();
    assert_eq!(e.key, "store.user_exists");
    let e = a
        .core
        .add_user("kader.mawar2", "wrong", "369258")
        .await
        .unwrap_err();
    assert_eq!(
        (e.key.as_str(), e.field.as_deref()),
        ("sync.error.login_failed", Some("password"))
    );
    let u = a
        .core
        .add_user("Kader.Mawar2", PASSWORD, "369258")
        .await
        .unwrap();
    assert_eq!(u.username, "kader.mawar2");
    let info = a.core.app_info().unwrap();
    assert_eq!(info.users.len(), 2);
    assert_eq!(
        info.unlocked.map(|u| u.username),
        Some("kader.mawar".to_string())
    );

    // The second kader unlocks with their own PIN and syncs without a password.
    a.core.lock();
    let finished = a.events.named("sync://finished").len();
    a.core.unlock("kader.mawar2", "369258").unwrap();
    let status = a.events.wait_for("sync://finished", finished + 1).await;
    assert_eq!(status["last_error"], Value::Null, "{status}");
    assert_eq!(status["login_required"], false);
    let home = a.core.home().unwrap();
    assert_eq!(home.user.username, "kader.mawar2");
    assert_eq!(home.posyandu.map(|p| p.code), Some(MAWAR.to_string()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tablet_locks_itself_when_idle() {
    let server = Server::start().await;
    let a = enrolled(&server).await;
    a.core
        .save_settings(Settings {
            locale: Locale::Id,
            idle_lock_minutes: 2,
        })
        .unwrap();
    let e = a
        .core
        .save_settings(Settings {
            locale: Locale::Id,
            idle_lock_minutes: 61,
        })
        .unwrap_err();
    assert_eq!(e.field.as_deref(), Some("idle_lock_minutes"));
    a.core.touch();
    let now = Instant::now();
    assert!(!a.core.check_idle(now + Duration::from_secs(119)));
    assert!(a.core.is_unlocked());
    assert!(a.core.check_idle(now + Duration::from_secs(121)));
    assert!(!a.core.is_unlocked());
    assert_eq!(a.events.named("app://locked").len(), 1);
    // Locked already: nothing more to do.
    assert!(!a.core.check_idle(now + Duration::from_secs(600)));
}

/// Issue #12 item 11: an admin revokes the tablet; at its next sync the app learns it, warns
/// (when, why, how many changes never reached the server) and, asked to, erases the key
/// material: the keyring, tokens and database files are gone and the app is back at first run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_tablet_warns_then_erases_its_keys() {
    let server = Server::start().await;
    let a = enrolled(&server).await;
    // Not revoked: nothing to warn about, and erasing is refused with the store left open.
    assert_eq!(a.core.revocation_notice().unwrap(), None);
    assert_eq!(a.core.erase_revoked().unwrap_err().key, "store.not_revoked");
    assert!(a.core.is_unlocked());

    // One change pushed before the revocation, one made after it (never sent).
    a.core
        .register_household(
            serde_json::from_value(json!({"posyandu": MAWAR, "head_name": "Paulus Klau"})).unwrap(),
            vec![member(
                json!({"name": "Paulus Klau", "sex": "male", "birth_date": "1979-11-02"}),
            )],
        )
        .unwrap();
    a.core.sync_now(None).unwrap();
    let status = a.events.wait_for("sync://finished", 2).await;
    assert_eq!(status["waiting"], 0, "{status}");
    let devices = server.store.list_devices().await.unwrap();
    let tablet = devices.iter().find(|d| d.name == "Tablet uji").unwrap();
    assert!(
        server
            .store
            .revoke_device(tablet.id, 1_800_000_000_000)
            .await
            .unwrap()
    );
    a.core
        .register_household(
            serde_json::from_value(json!({"posyandu": MAWAR, "head_name": "Siti Asa"})).unwrap(),
            vec![member(
                json!({"name": "Siti Asa", "sex": "female", "birth_date": "1990-01-01"}),
            )],
        )
        .unwrap();
    a.core.sync_now(None).unwrap();
    let status = a.events.wait_for("sync://finished", 3).await;
    assert_eq!(
        status["last_error"]["key"], "sync.error.device_revoked",
        "{status}"
    );
    assert!(status["revoked"].is_object(), "{status}");

    let notice = a.core.revocation_notice().unwrap().expect("revoked");
    assert_eq!(notice.unsent, 2, "{notice:?}");
    let data = a.core.data_dir().root().to_path_buf();
    let db = a.core.data_dir().db();
    let ring = field_core::keyring::Keyring::path_for(&db);
    assert!(db.exists() && ring.exists());

    let erased = a.core.erase_revoked().unwrap();
    assert_eq!((erased.unsent, erased.users), (2, 1));
    assert!(!a.core.is_unlocked());
    for p in [db.clone(), ring, field_core::keyring::attempts_path(&db)] {
        assert!(!p.exists(), "{} still there", p.display());
    }
    let left: Vec<String> = std::fs::read_dir(&data)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with("jangkau.db") && !n.ends_with(".sync.lock"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
    let info = a.core.app_info().unwrap();
    assert!(!info.enrolled && info.users.is_empty() && info.unlocked.is_none());
    assert_eq!(
        a.core.unlock("kader.mawar", PIN).unwrap_err().key,
        "app.not_enrolled"
    );
}

/// The server's count of answered pull requests and of the changes they sent.
fn pulls(server: &Server) -> (u64, u64) {
    let text = server.metrics.render();
    let requests = text
        .lines()
        .filter(|l| l.starts_with("jangkau_http_requests_total{route=\"/v1/sync/pull\""))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
        .sum();
    let changes = server
        .metrics
        .changes_pulled
        .load(std::sync::atomic::Ordering::SeqCst);
    (requests, changes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_sync_takes_up_the_page_the_enrolment_left_in_flight() {
    let server = Server::start().await;
    let a = enrolled(&server).await;
    for i in 0..150 {
        a.core
            .register_household(
                serde_json::from_value(json!({"posyandu": MAWAR, "head_name": format!("Kepala {i}")}))
                    .unwrap(),
                vec![member(
                    json!({"name": format!("Kepala {i}"), "sex": "male", "birth_date": "1980-01-01"}),
                )],
            )
            .unwrap();
    }
    a.core.sync_now(None).unwrap();
    let status = a.events.wait_for("sync://finished", 2).await;
    assert_eq!(status["waiting"], 0, "{status}");

    // What one uninterrupted pull of this area costs: a tablet enrolled without pulling
    // while its key is sealed, then synced, with the same pages of 3 changes.
    let pages = |c: &mut field_core::sync::SyncConfig| {
        c.pull_limit = 3;
        c.pull_limit_max = 3;
    };
    let mut cfg = field_core::sync::SyncConfig::default();
    pages(&mut cfg);
    cfg.pull_while_sealing = false;
    let reference = field_core::sync::SyncClient::new(cfg);
    let dir = tempfile::tempdir().unwrap();
    let e = field_core::sync::Enrolment {
        server_url: server.url(),
        code: server.code("kader.mawar").await,
        device_name: "Tablet rujukan".into(),
        username: "kader.mawar".into(),
        secret: PASSWORD.to_string().into(),
        pin: PIN.to_string().into(),
    };
    let opts =
        field_core::OpenOptions::default().with_kdf(field_core::KdfParams::INSECURE_FOR_TESTS);
    let before = pulls(&server);
    let mut store = reference
        .enrol(&dir.path().join("ref.db"), &e, opts)
        .await
        .unwrap();
    let r = reference.sync(&mut store, None).await.unwrap();
    let after = pulls(&server);
    assert!(r.received >= 300, "{r:?}");
    assert_eq!(
        (after.0 - before.0, after.1 - before.1),
        (u64::from(r.pull_requests), r.received + r.skipped),
        "{r:?}"
    );

    // The app's tablet seals its key at the tablet's real cost and pulls pages of 3 while
    // it does: the seal ends with pages left, the page then asked for ahead is handed on,
    // and the first background sync takes it up. Had the sync its own client, that page
    // would be asked for (and sent) twice.
    let b = app_configured(tempfile::tempdir().unwrap(), Some(server.url()), |cfg| {
        cfg.open = cfg.open.clone().with_kdf(field_core::KdfParams::TABLET);
        pages(&mut cfg.sync);
    });
    let before = pulls(&server);
    b.core
        .enrol(enrol_input(
            &server,
            server.code("kader.mawar2").await,
            "kader.mawar2",
        ))
        .await
        .unwrap();
    let status = b.events.wait_for("sync://finished", 1).await;
    assert_eq!(status["last_error"], Value::Null, "{status}");
    let after = pulls(&server);
    // Each change sent once: a handed-on page dropped and asked again would be sent twice.
    assert_eq!(
        after.1 - before.1,
        r.received + r.skipped,
        "the enrolment and the first sync got each page once"
    );
    // As many requests as the uninterrupted pull; one more only where the seal outlasted the
    // whole pull (a slow machine): the first sync then checks in once and finds nothing.
    let requests = after.0 - before.0;
    let once = u64::from(r.pull_requests);
    assert!(
        requests == once || requests == once + 1,
        "{requests} pull requests, {once} for one uninterrupted pull"
    );
}
