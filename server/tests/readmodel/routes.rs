//! A posyandu day and a referral pushed over HTTP by real tablets; the read model then read
//! through the routes, as different roles and areas, and rebuilt by `reindex`.

use crate::common::{Backend, MAWAR, Session, TULAMALAE_P01, TestServer};
use crate::snapshot;
use district_server::auth::PasswordCost;
use district_server::readmodel;
use serde_json::{Value, json};
use sync_protocol::{EntityKind, RecordId, Role};

both_backends!(
    a_posyandu_day_is_readable_and_rebuilds_the_same,
    every_route_keeps_to_the_callers_area,
    reindex_resumes_after_an_interruption,
    quarantine_takes_a_change_out_and_release_puts_it_back,
    skdn_rolls_up_the_posyandu_of_a_place_within_the_callers_area,
    nutrition_and_followup_read_the_growth_of_the_callers_children,
    pregnancies_count_anc_contacts_kek_anaemia_and_deliveries,
    immunisation_coverage_of_a_cohort_reads_the_childrens_cards,
    concurrent_pushes_of_one_record_lose_no_edit,
    report_answers_are_kept_until_the_read_model_changes,
);

/// A bidan and a kader of desa Tulamalae (the demo's are all in desa Naitimu).
async fn add_tulamalae(srv: &TestServer) {
    for (u, role, scope) in [
        ("bidan.tulamalae", Role::Bidan, "53.04.05.2002"),
        ("kader.tulamalae", Role::Kader, TULAMALAE_P01),
    ] {
        district_server::admin::add_user(
            srv.store(),
            u,
            "Contoh (fiktif)",
            role,
            scope,
            district_server::admin::DEMO_PASSWORD,
            PasswordCost::TEST,
        )
        .await
        .unwrap();
    }
}

fn ok(push: (u16, Value)) {
    assert_eq!(push.0, 200, "{}", push.1);
    for o in push.1["outcomes"].as_array().unwrap() {
        assert_eq!(o["status"], "accepted", "{}", push.1);
    }
}

/// What a kader records at a posyandu day: a household, a mother and her child, two
/// weighings (one corrected, one deleted), a session, and a referral of the child.
struct Day {
    /// The stamp of the child's registration (what a tablet that saw it names as `base`).
    child_made: sync_protocol::Stamp,
    household: RecordId,
    mother: RecordId,
    child: RecordId,
    referral: RecordId,
    weighing: RecordId,
    correction: RecordId,
}

async fn posyandu_day(srv: &TestServer, k: &mut Session, posyandu: &str) -> Day {
    let household = RecordId::new_v7();
    let mother = RecordId::new_v7();
    let child = RecordId::new_v7();
    let referral = RecordId::new_v7();
    let weighing = RecordId::new_v7();
    let correction = RecordId::new_v7();
    let wrong = RecordId::new_v7();
    let session = RecordId::new_v7();
    let today = readmodel::reports::today(common_now())
        .format("%Y-%m-%d")
        .to_string();
    let mut batch = vec![
        k.change(
            EntityKind::Household,
            household,
            json!({"posyandu": posyandu, "head_name": "Keluarga Fiktif", "dusun": "Dusun 1", "rt": "01"}),
        ),
        k.change(
            EntityKind::Person,
            mother,
            json!({"posyandu": posyandu, "household": household.to_string(), "name": "Ibu Fiktif", "sex": "female", "birth_date": "1995-03-14"}),
        ),
        k.change(
            EntityKind::Person,
            child,
            json!({"posyandu": posyandu, "household": household.to_string(), "mother": mother.to_string(), "name": "Anak Fiktif", "sex": "male", "birth_date": "2024-06-02"}),
        ),
        k.change(
            EntityKind::PosyanduSession,
            session,
            json!({"posyandu": posyandu, "date": today}),
        ),
        k.change(
            EntityKind::Measurement,
            weighing,
            json!({"posyandu": posyandu, "person": child.to_string(), "type": "weight", "value": 8.4, "unit": "kg", "date": today}),
        ),
        k.change(
            EntityKind::Measurement,
            wrong,
            json!({"posyandu": posyandu, "person": child.to_string(), "type": "weight", "value": 84.0, "unit": "kg", "date": today}),
        ),
        k.change(
            EntityKind::Referral,
            referral,
            json!({"posyandu": posyandu, "person": child.to_string(), "reason": "berat badan tidak naik", "destination": "puskesmas", "status": "made"}),
        ),
    ];
    let mut fix = k.change(
        EntityKind::Measurement,
        correction,
        json!({"posyandu": posyandu, "person": child.to_string(), "type": "weight", "value": 8.6, "unit": "kg", "date": today}),
    );
    fix.supersedes = Some(weighing);
    batch.push(fix);
    let mut gone = k.change(EntityKind::Measurement, wrong, json!({}));
    gone.tombstone = true;
    batch.push(gone);
    let child_made = batch[2].stamp();
    ok(srv.push(k, &batch).await);
    Day {
        child_made,
        household,
        mother,
        child,
        referral,
        weighing,
        correction,
    }
}

fn common_now() -> u64 {
    crate::common::now_ms()
}

async fn a_posyandu_day_is_readable_and_rebuilds_the_same(b: Backend) {
    let srv = TestServer::demo(b).await;
    let mut k = srv.session("kader.mawar").await;
    let mut k2 = srv.other_tablet("kader.mawar").await;
    let day = posyandu_day(&srv, &mut k, MAWAR).await;
    // Two tablets rename the child without seeing each other: a conflict.
    // Both saw the registration.
    let mut a = k.change(
        EntityKind::Person,
        day.child,
        json!({"name": "Anak Fiktif A"}),
    );
    a.base.insert("name".into(), day.child_made);
    let mut b2 = k2.change(
        EntityKind::Person,
        day.child,
        json!({"name": "Anak Fiktif B"}),
    );
    b2.base.insert("name".into(), day.child_made);
    b2.hlc.wall_ms = a.hlc.wall_ms + 5;
    ok(srv.push(&k, &[a]).await);
    ok(srv.push(&k2, &[b2]).await);
    // The bidan receives the referral.
    let mut bd = srv.session("bidan.naitimu").await;
    let recv = bd.change(
        EntityKind::Referral,
        day.referral,
        json!({"posyandu": MAWAR, "status": "received"}),
    );
    ok(srv.push(&bd, &[recv]).await);

    let (s, p) = srv
        .get(
            &format!("/v1/records/persons/{}", day.child),
            Some(&bd.bearer),
        )
        .await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(
        p["values"]["name"], "Anak Fiktif B",
        "the later edit wins: {p}"
    );
    assert_eq!(p["life_stage"], "balita");
    assert_eq!(p["conflicts"].as_array().unwrap().len(), 1, "{p}");
    let facts = p["facts"].as_array().unwrap();
    assert_eq!(facts.len(), 3, "two weighings and the deleted one: {p}");
    let weighing = facts
        .iter()
        .find(|f| f["id"] == day.weighing.to_string())
        .unwrap();
    assert_eq!(
        weighing["superseded_by"],
        json!([day.correction.to_string()])
    );
    assert_eq!(
        facts.iter().filter(|f| f["deleted"] == true).count(),
        1,
        "{p}"
    );
    assert_eq!(p["referrals"][0]["values"]["status"], "received");

    let (s, t) = srv
        .get("/v1/records/places/53.04.05.2001", Some(&bd.bearer))
        .await;
    assert_eq!(s, 200, "{t}");
    let c = &t["place"]["counts"];
    assert_eq!(c["households"], 1, "{t}");
    assert_eq!(c["persons"], 2, "{t}");
    assert_eq!(c["persons_by_life_stage"]["balita"], 1, "{t}");
    assert_eq!(c["persons_by_life_stage"]["adult"], 1, "{t}");
    assert!(c["posyandu"].as_u64().unwrap() >= 2, "{t}");
    assert_eq!(c["tablets"], 3, "two of kader.mawar, one of the bidan: {t}");
    let mawar = t["place"]["children"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| {
            std::iter::once(d.clone()).chain(d["children"].as_array().cloned().unwrap_or_default())
        })
        .find(|n| n["code"] == MAWAR);
    let mawar = mawar.expect("posyandu Mawar in the tree");
    assert_eq!(mawar["counts"]["persons"], 2);
    assert_eq!(p["values"]["household"], day.household.to_string());
    assert_eq!(p["values"]["mother"], day.mother.to_string());

    let (s, r) = srv.get("/v1/reports/referrals", Some(&bd.bearer)).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["by_status"]["received"]["count"], 1, "{r}");
    assert_eq!(r["referrals"][0]["person_name"], "Anak Fiktif B");
    assert_eq!(r["referrals"][0]["days_open"], 0);

    // A rebuild from the log gives the very same tables.
    let incremental = snapshot(srv.store()).await;
    assert!(!incremental["conflicts"].is_empty());
    let (resumed, done) = readmodel::reindex(srv.store(), false, 3, |_| {})
        .await
        .unwrap();
    assert!(!resumed);
    assert_eq!(done.merged, 12);
    assert_eq!(snapshot(srv.store()).await, incremental);
    srv.finish().await;
}

async fn every_route_keeps_to_the_callers_area(b: Backend) {
    let srv = TestServer::demo(b).await;
    add_tulamalae(&srv).await;
    let mut k = srv.session("kader.mawar").await;
    let mut kt = srv.session("kader.tulamalae").await;
    let ours = posyandu_day(&srv, &mut k, MAWAR).await;
    let theirs = posyandu_day(&srv, &mut kt, TULAMALAE_P01).await;
    let bd = srv.session("bidan.naitimu").await;
    let bt = srv.session("bidan.tulamalae").await;
    let dinas = srv.session("dinas").await;
    let pkm = srv.session("admin.halilulik").await;

    // A person: only within the area.
    let person = |id: RecordId| format!("/v1/records/persons/{id}");
    assert_eq!(srv.get(&person(ours.child), Some(&bd.bearer)).await.0, 200);
    let (s, v) = srv.get(&person(theirs.child), Some(&bd.bearer)).await;
    assert_eq!((s, v["code"].as_str()), (404, Some("not_found")), "{v}");
    assert_eq!(
        srv.get(&person(theirs.child), Some(&bt.bearer)).await.0,
        200
    );
    assert_eq!(srv.get(&person(ours.child), Some(&bt.bearer)).await.0, 404);
    assert_eq!(
        srv.get(&person(ours.child), Some(&dinas.bearer)).await.0,
        200
    );
    assert_eq!(
        srv.get(&person(theirs.child), Some(&pkm.bearer)).await.0,
        200
    );
    // A kader reads her tablet, not the reports; without a session nothing.
    let (s, v) = srv.get(&person(ours.child), Some(&k.bearer)).await;
    assert_eq!((s, v["code"].as_str()), (403, Some("forbidden")), "{v}");
    assert_eq!(srv.get(&person(ours.child), None).await.0, 401);
    assert_eq!(srv.get("/v1/reports/tablets", Some(&k.bearer)).await.0, 403);
    assert_eq!(srv.get("/v1/reports/referrals", None).await.0, 401);

    // Places: the own desa and below, never a neighbour or a parent.
    assert_eq!(
        srv.get("/v1/records/places/53.04.05.2002", Some(&bd.bearer))
            .await
            .0,
        404
    );
    assert_eq!(
        srv.get("/v1/records/places/53.04.05", Some(&bd.bearer))
            .await
            .0,
        404
    );
    assert_eq!(
        srv.get(&format!("/v1/records/places/{MAWAR}"), Some(&bd.bearer))
            .await
            .0,
        200
    );
    let (s, t) = srv
        .get("/v1/records/places/53.04", Some(&dinas.bearer))
        .await;
    assert_eq!(s, 200);
    assert_eq!(t["place"]["counts"]["persons"], 4, "both desa: {t}");
    assert_eq!(t["place"]["counts"]["households"], 2);
    let (_, t) = srv
        .get("/v1/records/places/53.04.05.2001", Some(&bd.bearer))
        .await;
    assert_eq!(t["place"]["counts"]["persons"], 2, "only Naitimu: {t}");

    // Referrals: each bidan sees her own desa's.
    let ids = |v: &Value| -> Vec<String> {
        v["referrals"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect()
    };
    let (_, r) = srv.get("/v1/reports/referrals", Some(&bd.bearer)).await;
    assert_eq!(ids(&r), vec![ours.referral.to_string()]);
    let (_, r) = srv.get("/v1/reports/referrals", Some(&bt.bearer)).await;
    assert_eq!(ids(&r), vec![theirs.referral.to_string()]);
    let (_, r) = srv.get("/v1/reports/referrals", Some(&dinas.bearer)).await;
    assert_eq!(ids(&r).len(), 2);
    assert_eq!(r["by_status"]["made"]["count"], 2);

    // Tablets: those of users in the area; the waiting count as last reported.
    assert_eq!(srv.status(&k, 12, None).await.0, 200);
    let (all, _) = srv.pull_all(&k, None, 100).await;
    assert!(all.is_empty(), "nothing from others in Mawar: {all:?}");
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let (s, v) = srv.get("/v1/reports/tablets", Some(&bd.bearer)).await;
    assert_eq!(s, 200, "{v}");
    let users: Vec<&str> = v["tablets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["username"].as_str().unwrap())
        .collect();
    assert!(
        users.contains(&"kader.mawar") && users.contains(&"bidan.naitimu"),
        "{v}"
    );
    assert!(!users.iter().any(|u| u.ends_with("tulamalae")), "{v}");
    assert!(!users.contains(&"dinas"), "{v}");
    let kt_row = v["tablets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["device_id"] == k.device.to_string())
        .unwrap();
    assert_eq!(kt_row["waiting_changes"], 3, "12 reported, 9 stored: {v}");
    assert_eq!(kt_row["stale"], false);
    assert!(kt_row["last_pull_at"].as_i64().is_some(), "{v}");
    // The Tulamalae bidan's tablet: last seen (its login) ten days ago, nothing since.
    let ten_days_ago = crate::common::now_ms() - 10 * 86_400_000;
    srv.store()
        .touch_device(bt.device, ten_days_ago, None)
        .await
        .unwrap();
    let row = |v: &Value, d: sync_protocol::DeviceId| {
        v["tablets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["device_id"] == d.to_string())
            .cloned()
            .unwrap()
    };
    let (_, v) = srv.get("/v1/reports/tablets", Some(&dinas.bearer)).await;
    assert_eq!(v["tablets"].as_array().unwrap().len(), 6, "{v}");
    assert_eq!(v["stale_days"], 7);
    let old = row(&v, bt.device);
    assert_eq!(old["stale"], true, "no sync for 10 days: {v}");
    assert_eq!(old["last_sync_at"].as_u64(), Some(ten_days_ago));
    assert_eq!(old["waiting_changes"], 0, "seen, nothing reported waiting");
    assert_eq!(v["stale"], 1, "{v}");
    let (s, _) = srv
        .get("/v1/reports/tablets?stale_days=abc", Some(&dinas.bearer))
        .await;
    assert_eq!(s, 400);
    let (s, v) = srv
        .get("/v1/reports/tablets?stale_days=30", Some(&dinas.bearer))
        .await;
    assert_eq!((s, v["stale_days"].as_u64()), (200, Some(30)));
    assert_eq!(row(&v, bt.device)["stale"], false, "{v}");
    assert_eq!(v["stale"], 0);
    srv.finish().await;
}

async fn reindex_resumes_after_an_interruption(b: Backend) {
    let srv = TestServer::demo(b).await;
    let mut k = srv.session("kader.mawar").await;
    for _ in 0..3 {
        posyandu_day(&srv, &mut k, MAWAR).await;
    }
    let incremental = snapshot(srv.store()).await;
    let store = srv.store();
    // A rebuild cut after two steps of five changes.
    store.read_model_reset().await.unwrap();
    for _ in 0..2 {
        let s = store.read_model_step(5).await.unwrap();
        assert!(!s.done);
    }
    let st = store.read_model_state().await.unwrap();
    assert!(st.rebuilding && st.behind());
    assert_eq!(st.applied_through, 10);
    assert_ne!(snapshot(store).await, incremental, "half built");
    // A push meanwhile is merged too (its own changes), and the rebuild does not lose it.
    let extra = posyandu_day(&srv, &mut k, MAWAR).await;
    let (resumed, done) = readmodel::reindex(store, false, 4, |_| {}).await.unwrap();
    assert!(resumed);
    assert_eq!(done.merged, 4 * 9 - 10);
    let st = store.read_model_state().await.unwrap();
    assert!(!st.behind(), "{st:?}");
    let (_, p) = srv
        .get(
            &format!("/v1/records/persons/{}", extra.child),
            Some(&srv.session("bidan.naitimu").await.bearer),
        )
        .await;
    assert_eq!(p["facts"].as_array().unwrap().len(), 3);
    // Equal to a fresh rebuild.
    let resumed_tables = snapshot(store).await;
    readmodel::reindex(store, true, 1000, |_| {}).await.unwrap();
    assert_eq!(snapshot(store).await, resumed_tables);
    assert_ne!(resumed_tables, incremental, "the fourth day is in");
    srv.finish().await;
}

async fn quarantine_takes_a_change_out_and_release_puts_it_back(b: Backend) {
    let srv = TestServer::demo(b).await;
    let mut k = srv.session("kader.mawar").await;
    let day = posyandu_day(&srv, &mut k, MAWAR).await;
    let rename = k.change(EntityKind::Person, day.child, json!({"name": "Nama Salah"}));
    ok(srv.push(&k, &[rename]).await);
    let bd = srv.session("bidan.naitimu").await;
    let path = format!("/v1/records/persons/{}", day.child);
    let name =
        async |srv: &TestServer| srv.get(&path, Some(&bd.bearer)).await.1["values"]["name"].clone();
    assert_eq!(name(&srv).await, "Nama Salah");
    let logged = srv
        .store()
        .list_changes(district_server::storage::ChangeFilter {
            limit: 1,
            ..Default::default()
        })
        .await
        .unwrap();
    let sseq = logged[0].sseq;
    district_server::quarantine::set(srv.store(), &sseq.to_string(), true, "salah ketik")
        .await
        .unwrap();
    assert_eq!(
        name(&srv).await,
        "Anak Fiktif",
        "the quarantined edit is out"
    );
    let before = snapshot(srv.store()).await;
    readmodel::reindex(srv.store(), true, 100, |_| {})
        .await
        .unwrap();
    assert_eq!(
        snapshot(srv.store()).await,
        before,
        "a rebuild leaves it out too"
    );
    district_server::quarantine::set(srv.store(), &sseq.to_string(), false, "benar")
        .await
        .unwrap();
    assert_eq!(name(&srv).await, "Nama Salah", "released: merged again");
    srv.finish().await;
}

async fn skdn_rolls_up_the_posyandu_of_a_place_within_the_callers_area(b: Backend) {
    let srv = TestServer::demo(b).await;
    add_tulamalae(&srv).await;
    let mut k = srv.session("kader.mawar").await;
    let mut kt = srv.session("kader.tulamalae").await;
    let ours = posyandu_day(&srv, &mut k, MAWAR).await;
    posyandu_day(&srv, &mut kt, TULAMALAE_P01).await;
    let bd = srv.session("bidan.naitimu").await;
    let dinas = srv.session("dinas").await;
    // The child's card carries its growth result (one day: the correction, not the typo);
    // the mother has no pregnancy.
    let (s, p) = srv
        .get(
            &format!("/v1/records/persons/{}", ours.child),
            Some(&bd.bearer),
        )
        .await;
    assert_eq!(s, 200, "{p}");
    let growth = p["growth"].as_array().unwrap();
    assert_eq!(growth.len(), 1, "{p}");
    assert_eq!(growth[0]["weight_kg"], json!(8.6), "{p}");
    assert_eq!(p["pregnancy"], Value::Null);
    let month = readmodel::reports::today(common_now())
        .format("%Y-%m")
        .to_string();
    let url = |place: &str| format!("/v1/reports/skdn?place={place}&month={month}");

    // The posyandu: the child weighed for the first time this month (B), the correction
    // counted once and the deleted weighing not at all; the mother is no under-five.
    let (s, r) = srv.get(&url(MAWAR), Some(&bd.bearer)).await;
    assert_eq!(s, 200, "{r}");
    let posyandu = r["posyandu"].as_array().unwrap();
    assert_eq!(posyandu.len(), 1, "{r}");
    let c = &posyandu[0]["skdn"]["counts"];
    assert_eq!(
        (&c["s"], &c["k"], &c["d"], &c["b"], &c["n"]),
        (&json!(1), &json!(1), &json!(1), &json!(1), &json!(0)),
        "{r}"
    );
    assert_eq!(
        posyandu[0]["f1"]["activity"]["sessions"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(r["total"], *c);
    assert_eq!(r["ratios"]["d_s"], json!(1.0));

    // The desa: Mawar and Melati, the roll-up is Mawar's; every F1 cell of the roll-up is
    // the sum of the posyandu's.
    let (s, r) = srv.get(&url("53.04.05.2001"), Some(&bd.bearer)).await;
    assert_eq!(s, 200, "{r}");
    let codes: Vec<&str> = r["posyandu"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, vec![MAWAR, "53.04.05.2001.P02"]);
    assert_eq!(r["total"]["d"], 1);
    let rows = r["rollup"].as_array().unwrap();
    assert!(!rows.is_empty());
    for row in rows {
        let sum: u64 = r["posyandu"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|p| p["f1"]["report"]["rows"].as_array().unwrap().iter())
            .filter(|x| x["band"] == row["band"] && x["sex"] == row["sex"])
            .map(|x| x["counts"]["d"].as_u64().unwrap())
            .sum();
        assert_eq!(row["counts"]["d"].as_u64(), Some(sum), "{row}");
    }

    // The kabupaten for the dinas: both desa's children.
    let (s, r) = srv.get(&url("53.04"), Some(&dinas.bearer)).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(
        (&r["total"]["d"], &r["total"]["b"]),
        (&json!(2), &json!(2)),
        "{r}"
    );
    assert!(r["posyandu"].as_array().unwrap().len() >= 3);

    // Outside the area: as an unknown place. A kader: forbidden. Bad input: malformed.
    for place in ["53.04.05.2002", "53.04.05", "53.04", "nowhere"] {
        let (s, v) = srv.get(&url(place), Some(&bd.bearer)).await;
        assert_eq!(
            (s, v["code"].as_str()),
            (404, Some("not_found")),
            "{place}: {v}"
        );
    }
    let (s, v) = srv.get(&url(MAWAR), Some(&k.bearer)).await;
    assert_eq!((s, v["code"].as_str()), (403, Some("forbidden")), "{v}");
    assert_eq!(srv.get(&url(MAWAR), None).await.0, 401);
    for bad in [
        format!("/v1/reports/skdn?place={MAWAR}"),
        format!("/v1/reports/skdn?month={month}"),
        format!("/v1/reports/skdn?place={MAWAR}&month=2026-13"),
        format!("/v1/reports/skdn?place={MAWAR}&month=juni"),
    ] {
        let (s, v) = srv.get(&bad, Some(&bd.bearer)).await;
        assert_eq!(
            (s, v["code"].as_str()),
            (400, Some("malformed_body")),
            "{bad}: {v}"
        );
    }
}

async fn nutrition_and_followup_read_the_growth_of_the_callers_children(b: Backend) {
    let srv = TestServer::demo(b).await;
    add_tulamalae(&srv).await;
    let mut k = srv.session("kader.mawar").await;
    let mut kt = srv.session("kader.tulamalae").await;
    let ours = posyandu_day(&srv, &mut k, MAWAR).await;
    posyandu_day(&srv, &mut kt, TULAMALAE_P01).await;
    let today = readmodel::reports::today(common_now());
    let day = today.format("%Y-%m-%d").to_string();
    // Our child (8.6 kg) is also measured: 90 cm standing — thin for his height.
    let height = k.change(
        EntityKind::Measurement,
        RecordId::new_v7(),
        json!({"posyandu": MAWAR, "person": ours.child.to_string(), "type": "length_height", "value": 90.0, "unit": "cm", "position": "standing", "date": day}),
    );
    ok(srv.push(&k, &[height]).await);
    let bd = srv.session("bidan.naitimu").await;
    let dinas = srv.session("dinas").await;
    let from = (today - chrono::Days::new(30))
        .format("%Y-%m-%d")
        .to_string();
    let url = |place: &str| format!("/v1/reports/nutrition?place={place}&from={from}&to={day}");

    let (s, r) = srv.get(&url("53.04.05.2001"), Some(&bd.bearer)).await;
    assert_eq!(s, 200, "{r}");
    let mawar = &r["posyandu"][0];
    assert_eq!(mawar["code"], MAWAR, "{r}");
    assert_eq!(mawar["measured"], 1, "{r}");
    // 8.6 kg at about 30 months: BB/U below -3 SD; BB/TB at 90 cm below -3 SD; TB/U normal.
    assert_eq!(mawar["weight_for_age"]["severe"], 1, "{r}");
    assert_eq!(
        mawar["weight_for_age"]["severe_prevalence"],
        json!(1.0),
        "{r}"
    );
    assert_eq!(mawar["weight_for_height"]["severe"], 1, "{r}");
    assert_eq!(mawar["height_for_age"]["problem"], 0, "{r}");
    assert_eq!(mawar["height_for_age"]["assessed"], 1, "{r}");
    assert_eq!(r["posyandu"][1]["measured"], 0, "Melati: {r}");
    assert_eq!(r["desa"].as_array().unwrap().len(), 1, "{r}");
    assert_eq!(r["desa"][0]["code"], "53.04.05.2001");
    assert_eq!(r["desa"][0]["measured"], 1);
    assert_eq!(r["total"]["measured"], 1);
    // The kabupaten: both desa's children, each desa once.
    let (s, r) = srv.get(&url("53.04"), Some(&dinas.bearer)).await;
    assert_eq!(s, 200, "{r}");
    assert_eq!(r["total"]["measured"], 2, "{r}");
    assert!(r["desa"].as_array().unwrap().len() >= 2, "{r}");
    // A period before the weighings: nobody measured.
    let (_, r) = srv
        .get(
            &format!("/v1/reports/nutrition?place={MAWAR}&from=2020-01-01&to=2020-12-31"),
            Some(&bd.bearer),
        )
        .await;
    assert_eq!(r["total"]["measured"], 0, "{r}");

    // Follow-up: our child by name (gizi buruk), not the other desa's for this bidan.
    let (s, r) = srv
        .get("/v1/reports/followup?place=53.04.05.2001", Some(&bd.bearer))
        .await;
    assert_eq!(s, 200, "{r}");
    let kids = r["children"].as_array().unwrap();
    assert_eq!(kids.len(), 1, "{r}");
    assert_eq!(kids[0]["person"], ours.child.to_string());
    assert_eq!(kids[0]["name"], "Anak Fiktif");
    assert!(
        kids[0]["reasons"]
            .as_array()
            .unwrap()
            .contains(&json!("gizi_buruk")),
        "{r}"
    );
    let (_, r) = srv
        .get("/v1/reports/followup?place=53.04", Some(&dinas.bearer))
        .await;
    assert_eq!(r["children"].as_array().unwrap().len(), 2, "{r}");

    // Scope and input, as every report.
    for path in [
        url("53.04.05.2002"),
        url("53.04"),
        "/v1/reports/followup?place=53.04.05.2002".to_string(),
    ] {
        let (s, v) = srv.get(&path, Some(&bd.bearer)).await;
        assert_eq!(
            (s, v["code"].as_str()),
            (404, Some("not_found")),
            "{path}: {v}"
        );
    }
    assert_eq!(srv.get(&url(MAWAR), Some(&k.bearer)).await.0, 403);
    assert_eq!(
        srv.get("/v1/reports/followup?place=53.04", None).await.0,
        401
    );
    for bad in [
        format!("/v1/reports/nutrition?place={MAWAR}&from={day}"),
        format!("/v1/reports/nutrition?place={MAWAR}&from=kemarin&to={day}"),
        format!("/v1/reports/nutrition?place={MAWAR}&from={day}&to={from}"),
        "/v1/reports/followup".to_string(),
    ] {
        let (s, v) = srv.get(&bad, Some(&bd.bearer)).await;
        assert_eq!(
            (s, v["code"].as_str()),
            (400, Some("malformed_body")),
            "{bad}: {v}"
        );
    }
}

async fn pregnancies_count_anc_contacts_kek_anaemia_and_deliveries(b: Backend) {
    let srv = TestServer::demo(b).await;
    add_tulamalae(&srv).await;
    let mut k = srv.session("kader.mawar").await;
    let ours = posyandu_day(&srv, &mut k, MAWAR).await;
    let today = readmodel::reports::today(common_now());
    let day = |d: chrono::NaiveDate| d.format("%Y-%m-%d").to_string();
    // The mother is 20 weeks pregnant: four ANC contacts since her HPHT, LiLA 22 cm (KEK)
    // and Hb 9.5 g/dL (anaemia) this month.
    let hpht = today - chrono::Days::new(140);
    let pregnancy = RecordId::new_v7();
    let m = ours.mother.to_string();
    let mut batch = vec![k.change(
        EntityKind::Pregnancy,
        pregnancy,
        json!({"posyandu": MAWAR, "person": m, "hpht": day(hpht), "status": "ongoing"}),
    )];
    for (i, back) in [(1, 100), (2, 70), (3, 40), (4, 0)] {
        batch.push(k.change(
            EntityKind::AncContact,
            RecordId::new_v7(),
            json!({"posyandu": MAWAR, "person": m, "pregnancy": pregnancy.to_string(), "contact": i, "date": day(today - chrono::Days::new(back))}),
        ));
    }
    for (kind, value, unit) in [("muac", 22.0, "cm"), ("hb", 9.5, "g/dL")] {
        batch.push(k.change(
            EntityKind::Measurement,
            RecordId::new_v7(),
            json!({"posyandu": MAWAR, "person": m, "type": kind, "value": value, "unit": unit, "date": day(today)}),
        ));
    }
    ok(srv.push(&k, &batch).await);
    let bd = srv.session("bidan.naitimu").await;
    let month = today.format("%Y-%m").to_string();
    let (s, r) = srv
        .get(
            &format!("/v1/reports/pregnancies?place=53.04.05.2001&month={month}"),
            Some(&bd.bearer),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    let mawar = &r["posyandu"][0];
    assert_eq!(mawar["code"], MAWAR, "{r}");
    assert_eq!(
        (
            &mawar["pregnant_women"],
            &mawar["k1"],
            &mawar["k4"],
            &mawar["k6"],
            &mawar["kek"],
            &mawar["anaemia"]
        ),
        (
            &json!(1),
            &json!(1),
            &json!(1),
            &json!(0),
            &json!(1),
            &json!(1)
        ),
        "{r}"
    );
    assert_eq!(mawar["k4_coverage"], json!(1.0));
    assert_eq!(mawar["k6_coverage"], json!(0.0));
    let hpl = (hpht + chrono::Days::new(7))
        .checked_add_months(chrono::Months::new(9))
        .unwrap()
        .format("%Y-%m")
        .to_string();
    assert_eq!(mawar["expected_deliveries"][&hpl], 1, "{r}");
    assert_eq!(r["desa"][0]["code"], "53.04.05.2001", "{r}");
    assert_eq!(r["desa"][0]["pregnant_women"], 1);
    assert_eq!(r["total"]["k1"], 1);
    // Months before her HPHT: nobody pregnant. Outside the area, a kader, bad month.
    let (_, r) = srv
        .get(
            "/v1/reports/pregnancies?place=53.04.05.2001&month=2020-01",
            Some(&bd.bearer),
        )
        .await;
    assert_eq!(r["total"]["pregnant_women"], 0, "{r}");
    let url = |place: &str| format!("/v1/reports/pregnancies?place={place}&month={month}");
    assert_eq!(
        srv.get(&url("53.04.05.2002"), Some(&bd.bearer)).await.0,
        404
    );
    assert_eq!(srv.get(&url(MAWAR), Some(&k.bearer)).await.0, 403);
    let (s, v) = srv
        .get(
            "/v1/reports/pregnancies?place=53.04.05.2001&month=13",
            Some(&bd.bearer),
        )
        .await;
    assert_eq!(
        (s, v["code"].as_str()),
        (400, Some("malformed_body")),
        "{v}"
    );
}

async fn immunisation_coverage_of_a_cohort_reads_the_childrens_cards(b: Backend) {
    let srv = TestServer::demo(b).await;
    add_tulamalae(&srv).await;
    let mut k = srv.session("kader.mawar").await;
    let mut kt = srv.session("kader.tulamalae").await;
    let ours = posyandu_day(&srv, &mut k, MAWAR).await;
    posyandu_day(&srv, &mut kt, TULAMALAE_P01).await;
    // Our child (born 2024-06-02): HB0 at birth, BCG at a month; nothing else.
    let batch: Vec<_> = [("HB0", "2024-06-02"), ("BCG", "2024-07-02")]
        .iter()
        .map(|(v, d)| {
            k.change(
                EntityKind::Immunisation,
                RecordId::new_v7(),
                json!({"posyandu": MAWAR, "person": ours.child.to_string(), "vaccine": v, "date": d}),
            )
        })
        .collect();
    ok(srv.push(&k, &batch).await);
    let bd = srv.session("bidan.naitimu").await;
    let dinas = srv.session("dinas").await;
    let (s, r) = srv
        .get(
            "/v1/reports/immunisation?place=53.04.05.2001&cohort=2024",
            Some(&bd.bearer),
        )
        .await;
    assert_eq!(s, 200, "{r}");
    let d = &r["desa"][0];
    assert_eq!(d["code"], "53.04.05.2001", "{r}");
    assert_eq!(d["children"], 1, "the mother is not of the cohort: {r}");
    assert_eq!(
        (&d["given"]["HB0"], &d["given"]["BCG"], &d["given"]["OPV1"]),
        (&json!(1), &json!(1), &json!(0)),
        "{r}"
    );
    assert_eq!(d["coverage"]["HB0"], json!(1.0));
    assert_eq!(d["coverage"]["MR1"], json!(0.0));
    assert_eq!((&d["idl"], &d["idl_coverage"]), (&json!(0), &json!(0.0)));
    assert_eq!(r["posyandu"][0]["children"], 1);
    // The same by a birth-date range; another cohort has nobody.
    let (_, r2) = srv
        .get(
            "/v1/reports/immunisation?place=53.04.05.2001&born_from=2024-01-01&born_to=2024-12-31",
            Some(&bd.bearer),
        )
        .await;
    assert_eq!(r2["total"], r["total"]);
    let (_, r) = srv
        .get(
            "/v1/reports/immunisation?place=53.04.05.2001&cohort=2023",
            Some(&bd.bearer),
        )
        .await;
    assert_eq!(r["total"]["children"], 0, "{r}");
    assert_eq!(r["total"]["idl_coverage"], Value::Null);
    // The kabupaten: both desa's children, two desa.
    let (_, r) = srv
        .get(
            "/v1/reports/immunisation?place=53.04&cohort=2024",
            Some(&dinas.bearer),
        )
        .await;
    assert_eq!(r["total"]["children"], 2, "{r}");
    assert_eq!(r["total"]["given"]["HB0"], 1, "{r}");
    // Scope and input.
    let (s, _) = srv
        .get(
            "/v1/reports/immunisation?place=53.04.05.2002&cohort=2024",
            Some(&bd.bearer),
        )
        .await;
    assert_eq!(s, 404);
    for bad in [
        "cohort=24",
        "cohort=dua",
        "born_from=2024-01-01",
        "born_from=2025-01-01&born_to=2024-01-01",
    ] {
        let path = format!("/v1/reports/immunisation?place=53.04.05.2001&{bad}");
        let (s, v) = srv.get(&path, Some(&bd.bearer)).await;
        assert_eq!(
            (s, v["code"].as_str()),
            (400, Some("malformed_body")),
            "{bad}: {v}"
        );
    }
    srv.finish().await;
}

/// Four tablets push edits of one child and weighings at the same time: no edit is lost,
/// the read model equals a rebuild from the log.
async fn concurrent_pushes_of_one_record_lose_no_edit(b: Backend) {
    let srv = TestServer::demo(b).await;
    let mut k = srv.session("kader.mawar").await;
    let day = posyandu_day(&srv, &mut k, MAWAR).await;
    let mut tablets = vec![k];
    for _ in 0..3 {
        tablets.push(srv.other_tablet("kader.mawar").await);
    }
    let today = readmodel::reports::today(common_now())
        .format("%Y-%m-%d")
        .to_string();
    let mut batches = Vec::new();
    let mut renames = Vec::new();
    for (i, t) in tablets.iter_mut().enumerate() {
        let mut pushes = Vec::new();
        for j in 0..4 {
            let rename = t.change(
                EntityKind::Person,
                day.child,
                json!({"name": format!("Anak {i}-{j}")}),
            );
            renames.push((rename.stamp(), format!("Anak {i}-{j}")));
            let weighing = t.change(
                EntityKind::Measurement,
                RecordId::new_v7(),
                json!({"posyandu": MAWAR, "person": day.child.to_string(), "type": "weight", "value": 9.5, "unit": "kg", "date": today}),
            );
            pushes.push(vec![rename, weighing]);
        }
        batches.push(pushes);
    }
    async fn run(srv: &TestServer, t: &Session, pushes: &[Vec<sync_protocol::Change>]) {
        for p in pushes {
            ok(srv.push(t, p).await);
        }
    }
    tokio::join!(
        run(&srv, &tablets[0], &batches[0]),
        run(&srv, &tablets[1], &batches[1]),
        run(&srv, &tablets[2], &batches[2]),
        run(&srv, &tablets[3], &batches[3]),
    );
    let incremental = snapshot(srv.store()).await;
    let (_, p) = srv
        .get(
            &format!("/v1/records/persons/{}", day.child),
            Some(&srv.session("bidan.naitimu").await.bearer),
        )
        .await;
    let last = renames.iter().max_by_key(|(stamp, _)| *stamp).unwrap();
    assert_eq!(
        p["values"]["name"],
        last.1.as_str(),
        "the latest rename: {p}"
    );
    assert_eq!(
        p["facts"].as_array().unwrap().len(),
        3 + 16,
        "the day's three and sixteen weighings: {p}"
    );
    // A lost update (a merge from a stale copy) would differ from the rebuild.
    readmodel::reindex(srv.store(), true, 1000, |_| {})
        .await
        .unwrap();
    assert_eq!(snapshot(srv.store()).await, incremental);
    srv.finish().await;
}

/// The dashboard asks the same report again and again: the answer is kept (`readmodel::cache`)
/// and recomputed after a push, a quarantine and its release, and a place renamed.
async fn report_answers_are_kept_until_the_read_model_changes(b: Backend) {
    let srv = TestServer::demo(b).await;
    let mut k = srv.session("kader.mawar").await;
    posyandu_day(&srv, &mut k, MAWAR).await;
    let dinas = srv.session("dinas").await;
    let today = readmodel::reports::today(common_now());
    let day = today.format("%Y-%m-%d").to_string();
    let skdn = format!(
        "/v1/reports/skdn?place=53.04&month={}",
        today.format("%Y-%m")
    );
    let nutrition = format!("/v1/reports/nutrition?place=53.04&from={day}&to={day}");
    let get = async |path: &str| {
        let (s, r) = srv.get(path, Some(&dinas.bearer)).await;
        assert_eq!(s, 200, "{path}: {r}");
        r
    };
    let first = get(&skdn).await;
    assert_eq!(first["total"]["d"], 1, "{first}");
    assert_eq!(get(&skdn).await, first, "asked again: the same answer");
    assert_eq!(get(&nutrition).await["total"]["measured"], 1);

    // A push: a second child weighed today.
    let child = RecordId::new_v7();
    let born = (today - chrono::Days::new(400))
        .format("%Y-%m-%d")
        .to_string();
    let batch = vec![
        k.change(
            EntityKind::Person,
            child,
            json!({"posyandu": MAWAR, "name": "Anak Kedua", "sex": "female", "birth_date": born}),
        ),
        k.change(
            EntityKind::Measurement,
            RecordId::new_v7(),
            json!({"posyandu": MAWAR, "person": child.to_string(), "type": "weight", "value": 9.1, "unit": "kg", "date": day}),
        ),
    ];
    ok(srv.push(&k, &batch).await);
    assert_eq!(get(&skdn).await["total"]["d"], 2, "the push is counted");
    assert_eq!(get(&nutrition).await["total"]["measured"], 2);

    // Its weighing quarantined, then released.
    let logged = srv
        .store()
        .list_changes(district_server::storage::ChangeFilter {
            limit: 1,
            ..Default::default()
        })
        .await
        .unwrap();
    let sseq = logged[0].sseq.to_string();
    district_server::quarantine::set(srv.store(), &sseq, true, "salah orang")
        .await
        .unwrap();
    assert_eq!(get(&skdn).await["total"]["d"], 1, "quarantined: out");
    assert_eq!(get(&nutrition).await["total"]["measured"], 1);
    district_server::quarantine::set(srv.store(), &sseq, false, "benar")
        .await
        .unwrap();
    assert_eq!(get(&skdn).await["total"]["d"], 2, "released: in again");

    // The posyandu renamed: the answer names it so.
    let mut mawar = srv.store().place(MAWAR.into()).await.unwrap().unwrap();
    mawar.name = "Posyandu Mawar Baru".into();
    srv.store().import_places(vec![mawar]).await.unwrap();
    let r = get(&skdn).await;
    let named = r["posyandu"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == MAWAR)
        .map(|p| p["name"].clone());
    assert_eq!(named, Some(json!("Posyandu Mawar Baru")), "{r}");
    srv.finish().await;
}
