//! The read model's follower (docs/read-model.md, "When it is updated"): a push is answered
//! at its commit and merged after it; a read waits until every push committed before it is
//! merged. On PostgreSQL the follower is a task per server process under an advisory lock.

use crate::common::{Backend, MAWAR, Session, TestDb, TestServer, body_for};
use crate::snapshot;
use district_server::readmodel;
use district_server::readmodel::{Cell, Param};
use district_server::storage::postgres::PgStore;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use sync_protocol::{EntityKind, RecordId};

both_backends!(
    a_read_right_after_each_push_sees_it,
    concurrent_pushes_of_many_tablets_equal_a_rebuild,
);

mod postgres_only {
    use crate::common::Backend;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_read_in_another_server_process_waits_for_the_pushers_follower() {
        super::a_read_in_another_server_process_waits_for_the_pushers_follower(Backend::Postgres)
            .await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failing_follower_is_tried_again_and_loses_nothing() {
        super::a_failing_follower_is_tried_again_and_loses_nothing(Backend::Postgres).await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_server_processes_merge_each_change_once_from_memory_or_the_log() {
        super::two_server_processes_merge_each_change_once_from_memory_or_the_log().await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_handed_change_quarantined_before_its_merge_is_not_merged() {
        super::a_handed_change_quarantined_before_its_merge_is_not_merged().await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_new_record_re_merged_by_a_quarantine_before_its_step_is_merged_from_the_log() {
        super::a_new_record_re_merged_by_a_quarantine_before_its_step_is_merged_from_the_log().await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_push_that_rolls_back_after_handing_its_changes_over_is_not_merged() {
        super::a_push_that_rolls_back_after_handing_its_changes_over_is_not_merged().await
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_restart_after_a_follower_step_lost_to_a_crash_merges_it() {
        super::a_restart_after_a_follower_step_lost_to_a_crash_merges_it().await
    }
}

fn ok(push: (u16, Value)) {
    assert_eq!(push.0, 200, "{}", push.1);
    for o in push.1["outcomes"].as_array().unwrap() {
        assert_eq!(o["status"], "accepted", "{}", push.1);
    }
}

/// A child of Mawar and one weighing of it.
async fn child_and_weighing(srv: &TestServer, k: &mut Session) -> RecordId {
    let child = RecordId::new_v7();
    let batch = vec![
        k.change(EntityKind::Person, child, body_for(EntityKind::Person, MAWAR)),
        k.change(
            EntityKind::Measurement,
            RecordId::new_v7(),
            json!({"posyandu": MAWAR, "person": child.to_string(), "type": "weight", "value": 9.5, "unit": "kg", "date": "2025-11-22"}),
        ),
    ];
    ok(srv.push(k, &batch).await);
    child
}

/// The merged name of a person, read from the read model as reports read it.
async fn merged_name(store: &dyn district_server::Storage, id: RecordId) -> Option<String> {
    store
        .read_rows(
            "SELECT name FROM persons WHERE id = ?1".into(),
            vec![Param::Text(id.to_string())],
        )
        .await
        .unwrap()
        .first()
        .and_then(|r| r.first())
        .and_then(Cell::text)
        .map(str::to_string)
}

/// Every push is read back at once, over HTTP and from the read tables: no stale read.
async fn a_read_right_after_each_push_sees_it(b: Backend) {
    let srv = TestServer::demo(b).await;
    let mut k = srv.session("kader.mawar").await;
    let bidan = srv.session("bidan.naitimu").await;
    let child = child_and_weighing(&srv, &mut k).await;
    for i in 0..25 {
        let name = format!("Anak {i}");
        let rename = k.change(EntityKind::Person, child, json!({"name": name}));
        ok(srv.push(&k, &[rename]).await);
        let (s, p) = srv
            .get(&format!("/v1/records/persons/{child}"), Some(&bidan.bearer))
            .await;
        assert_eq!(s, 200, "{p}");
        assert_eq!(p["values"]["name"], name.as_str(), "push {i}: {p}");
        let logged = k.change(
            EntityKind::Person,
            child,
            json!({"name": format!("{name} lagi")}),
        );
        ok(srv.push(&k, &[logged]).await);
        assert_eq!(
            merged_name(srv.store(), child).await.as_deref(),
            Some(format!("{name} lagi").as_str()),
            "push {i}, read of the table"
        );
    }
    srv.finish().await;
}

/// A tablet's five pushes: each a new child, its weighing, and a rename of `shared`.
async fn run(srv: &TestServer, mut t: Session, i: usize, shared: RecordId) {
    for j in 0..5 {
        let child = RecordId::new_v7();
        let batch = vec![
            t.change(EntityKind::Person, child, body_for(EntityKind::Person, MAWAR)),
            t.change(
                EntityKind::Measurement,
                RecordId::new_v7(),
                json!({"posyandu": MAWAR, "person": child.to_string(), "type": "weight", "value": 9.5, "unit": "kg", "date": "2025-11-22"}),
            ),
            t.change(
                EntityKind::Person,
                shared,
                json!({"name": format!("Anak {i}-{j}")}),
            ),
        ];
        ok(srv.push(&t, &batch).await);
    }
}

/// Eight tablets push at once, each several times (new children, weighings, renames of one
/// shared child): the read model the follower built equals a rebuild from the log.
async fn concurrent_pushes_of_many_tablets_equal_a_rebuild(b: Backend) {
    let srv = TestServer::demo(b).await;
    let mut first = srv.session("kader.mawar").await;
    let shared = child_and_weighing(&srv, &mut first).await;
    let mut tablets = vec![first];
    for _ in 0..7 {
        tablets.push(srv.other_tablet("kader.mawar").await);
    }
    let mut it = tablets.into_iter();
    let mut next = || it.next().unwrap();
    let (t0, t1, t2, t3, t4, t5, t6, t7) = (
        next(),
        next(),
        next(),
        next(),
        next(),
        next(),
        next(),
        next(),
    );
    tokio::join!(
        run(&srv, t0, 0, shared),
        run(&srv, t1, 1, shared),
        run(&srv, t2, 2, shared),
        run(&srv, t3, 3, shared),
        run(&srv, t4, 4, shared),
        run(&srv, t5, 5, shared),
        run(&srv, t6, 6, shared),
        run(&srv, t7, 7, shared),
    );
    let incremental = snapshot(srv.store()).await;
    let persons = &incremental["persons"];
    assert_eq!(persons.len(), 1 + 8 * 5, "every child merged");
    let state = srv.store().read_model_state().await.unwrap();
    assert!(!state.behind(), "{state:?}");
    readmodel::reindex(srv.store(), true, 7, |_| {})
        .await
        .unwrap();
    assert_eq!(snapshot(srv.store()).await, incremental);
    srv.finish().await;
}

/// Two server processes on one database: what one answered as pushed, a read in the other
/// finds merged (it waits for the first one's follower).
async fn a_read_in_another_server_process_waits_for_the_pushers_follower(b: Backend) {
    let srv = TestServer::demo(b).await;
    let other = district_server::storage::open(&srv.db.url).await.unwrap();
    let mut k = srv.session("kader.mawar").await;
    let child = child_and_weighing(&srv, &mut k).await;
    for i in 0..20 {
        let name = format!("Anak {i}");
        let rename = k.change(EntityKind::Person, child, json!({"name": name}));
        ok(srv.push(&k, &[rename]).await);
        assert_eq!(
            merged_name(other.as_ref(), child).await.as_deref(),
            Some(name.as_str()),
            "push {i}"
        );
    }
    drop(other);
    srv.finish().await;
}

async fn sql(url: &str, statements: &str) {
    let (c, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    let task = tokio::spawn(conn);
    c.batch_execute(statements).await.unwrap();
    drop(c);
    let _ = task.await;
}

async fn one_int(url: &str, query: &str) -> i64 {
    let (c, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    let task = tokio::spawn(conn);
    let n: i64 = c.query_one(query, &[]).await.unwrap().get(0);
    drop(c);
    let _ = task.await;
    n
}

/// The follower's step fails (a trigger refuses every write of `persons`): the push is still
/// answered (committed), nothing of the step is written, reads wait; once the failure is
/// gone the follower's next try merges it, and the read model equals a rebuild.
async fn a_failing_follower_is_tried_again_and_loses_nothing(b: Backend) {
    let srv = TestServer::demo(b).await;
    let url = srv.db.url.clone();
    let mut k = srv.session("kader.mawar").await;
    let bidan = srv.session("bidan.naitimu").await;
    let before = child_and_weighing(&srv, &mut k).await;
    // Merged before the failure starts (the read waits for it).
    assert!(merged_name(srv.store(), before).await.is_some());
    sql(
        &url,
        "CREATE FUNCTION jangkau_test_refuse() RETURNS trigger LANGUAGE plpgsql AS
             $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$;
         CREATE TRIGGER jangkau_test_refuse BEFORE INSERT OR UPDATE ON persons
             FOR EACH ROW EXECUTE FUNCTION jangkau_test_refuse();",
    )
    .await;
    let child = child_and_weighing(&srv, &mut k).await;
    // The follower tries and fails (more than once); nothing of its step is written.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let behind = one_int(
        &url,
        "SELECT (SELECT MAX(sseq) FROM changes) - applied_through FROM read_model_state",
    )
    .await;
    assert_eq!(behind, 2, "the failed push's two changes are left to merge");
    let half = one_int(
        &url,
        &format!("SELECT COUNT(*) FROM facts WHERE person = '{child}'"),
    )
    .await;
    assert_eq!(
        half, 0,
        "the weighing of the failed step is not written either"
    );
    // A read waits; the failure goes away meanwhile; the read then sees the push.
    let path = format!("/v1/records/persons/{child}");
    let read = srv.get(&path, Some(&bidan.bearer));
    let heal = async {
        tokio::time::sleep(Duration::from_millis(300)).await;
        sql(
            &url,
            "DROP TRIGGER jangkau_test_refuse ON persons; DROP FUNCTION jangkau_test_refuse();",
        )
        .await;
    };
    let ((s, p), ()) = tokio::join!(read, heal);
    assert_eq!(s, 200, "{p}");
    assert_eq!(p["facts"].as_array().map(Vec::len), Some(1), "{p}");
    assert!(
        merged_name(srv.store(), before).await.is_some(),
        "the earlier push stays"
    );
    let incremental = snapshot(srv.store()).await;
    readmodel::reindex(srv.store(), true, 1000, |_| {})
        .await
        .unwrap();
    assert_eq!(
        snapshot(srv.store()).await,
        incremental,
        "nothing lost or doubled"
    );
    srv.finish().await;
}

/// The read model as the followers left it equals a rebuild from the log.
async fn equals_a_rebuild(store: &dyn district_server::Storage) {
    let incremental = snapshot(store).await;
    readmodel::reindex(store, true, 7, |_| {}).await.unwrap();
    assert_eq!(snapshot(store).await, incremental);
}

/// A server process of its own over the database of `main` (PostgreSQL), and its store (to
/// look at its follower).
async fn process_on(main: &TestServer) -> (TestServer, PgStore) {
    let store = PgStore::connect(&main.db.url).await.unwrap();
    let srv = TestServer::start(
        TestDb::attach(Arc::new(store.clone()), &main.db.url),
        |_| {},
    )
    .await;
    (srv, store)
}

/// A connection of the test's own holding the read model's writer lock (`LOCK_FOLLOW`)
/// until it is dropped: every follower's step waits meanwhile.
async fn hold_follow_lock(url: &str) -> (tokio_postgres::Client, tokio::task::JoinHandle<()>) {
    let (c, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap();
    let task = tokio::spawn(async move {
        let _ = conn.await;
    });
    c.execute(
        "SELECT pg_advisory_lock($1, 0)",
        &[&readmodel::postgres::LOCK_FOLLOW],
    )
    .await
    .unwrap();
    (c, task)
}

/// The log's changes not quarantined.
async fn logged(url: &str) -> u64 {
    let n = one_int(
        url,
        "SELECT COUNT(*) FROM changes WHERE quarantined_at IS NULL",
    )
    .await;
    u64::try_from(n).unwrap()
}

/// Two server processes on one database push at once: a process's follower merges the
/// changes its own pushes handed over from memory and reads the others' from the log (made
/// sure of once: both push while every follower waits for the lock); every change is
/// merged exactly once (the steps' counts add up to the log), and the read model equals a
/// rebuild.
async fn two_server_processes_merge_each_change_once_from_memory_or_the_log() {
    let main = TestServer::demo(Backend::Postgres).await;
    let (a, store_a) = process_on(&main).await;
    let (b, store_b) = process_on(&main).await;
    let mut ka = a.session("kader.mawar").await;
    let mut kb = b.session("kader.mawar").await;
    let shared = child_and_weighing(&a, &mut ka).await;
    // Both push while the followers wait: a step then finds the other process's changes.
    let (lock, task) = hold_follow_lock(&main.db.url).await;
    child_and_weighing(&b, &mut kb).await;
    child_and_weighing(&a, &mut ka).await;
    drop(lock);
    let _ = task.await;
    tokio::join!(run(&a, ka, 0, shared), run(&b, kb, 1, shared));
    let persons = snapshot(a.store()).await["persons"].len();
    assert!(!a.store().read_model_state().await.unwrap().behind());
    let (memory_a, log_a) = store_a.follower().sources();
    let (memory_b, log_b) = store_b.follower().sources();
    // The first push had no other process's follower to race with.
    assert!(memory_a > 0, "{memory_a}");
    assert!(
        log_a + log_b > 0,
        "the other process's push read from the log"
    );
    assert_eq!(
        memory_a + log_a + memory_b + log_b,
        logged(&main.db.url).await,
        "every change merged once"
    );
    assert_eq!(persons, 3 + 2 * 5);
    equals_a_rebuild(a.store()).await;
    a.finish().await;
    b.finish().await;
    main.finish().await;
}

/// A change quarantined (by another process) after its push handed it over but before the
/// follower merged it: the follower lists the log under its lock and leaves it out.
async fn a_handed_change_quarantined_before_its_merge_is_not_merged() {
    let main = TestServer::demo(Backend::Postgres).await;
    let (a, store) = process_on(&main).await;
    let mut k = a.session("kader.mawar").await;
    let (lock, task) = hold_follow_lock(&main.db.url).await;
    let child = child_and_weighing(&a, &mut k).await;
    sql(
        &main.db.url,
        "UPDATE changes SET quarantined_at = 1 WHERE payload LIKE '%\"measurement\"%'",
    )
    .await;
    drop(lock);
    let _ = task.await;
    assert!(merged_name(a.store(), child).await.is_some());
    let facts = a
        .store()
        .read_rows("SELECT id FROM facts".into(), Vec::new())
        .await
        .unwrap();
    assert!(facts.is_empty(), "the quarantined weighing is not merged");
    assert_eq!(store.follower().sources(), (1, 0));
    equals_a_rebuild(a.store()).await;
    a.finish().await;
    main.finish().await;
}

/// A record new in a push (handed over as new: its rows are inserted, not upserted) whose
/// other change is quarantined before the follower's step runs: the quarantine's re-merge
/// writes the record's rows from the log first, so the step's insert finds the key taken;
/// the step is merged again from the log, and the read model equals a rebuild. The
/// follower's steps fail meanwhile (its state table renamed away, until it gives up for
/// now), so the re-merge comes first while the hand-off stays held.
async fn a_new_record_re_merged_by_a_quarantine_before_its_step_is_merged_from_the_log() {
    let main = TestServer::demo(Backend::Postgres).await;
    let (a, store) = process_on(&main).await;
    let mut k = a.session("kader.mawar").await;
    // The demo's changes merged first (a read waits for them): the step below lists only
    // the push's.
    a.store()
        .read_rows("SELECT id FROM persons LIMIT 1".into(), Vec::new())
        .await
        .unwrap();
    sql(
        &main.db.url,
        "ALTER TABLE read_model_state RENAME TO read_model_state_away",
    )
    .await;
    let child = RecordId::new_v7();
    let mut made = body_for(EntityKind::Person, MAWAR);
    made["name"] = json!("Anak Pertama");
    let batch = vec![
        k.change(EntityKind::Person, child, made),
        k.change(EntityKind::Person, child, json!({"name": "Anak Kedua"})),
    ];
    ok(a.push(&k, &batch).await);
    let renamed = one_int(
        &main.db.url,
        "SELECT MAX(sseq) FROM changes WHERE payload LIKE '%Anak Kedua%'",
    )
    .await;
    main.store()
        .set_quarantine(
            district_server::storage::ChangeTarget::Sseq(renamed),
            true,
            "test".into(),
            1,
        )
        .await
        .unwrap();
    // The follower tries 8 times, then waits for the next push or read.
    for _ in 0..300 {
        if store.follower().failures() >= 8 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    // At least its 8 tries, counted while the state table is away (timed: not exactly).
    assert!(
        store.follower().failures() >= 8,
        "the follower gave up for now: {} failed steps",
        store.follower().failures()
    );
    sql(
        &main.db.url,
        "ALTER TABLE read_model_state_away RENAME TO read_model_state",
    )
    .await;
    assert_eq!(
        merged_name(a.store(), child).await.as_deref(),
        Some("Anak Pertama")
    );
    // The step took the first change from the hand-off, found its rows written and read
    // it again from the log at once (`is_taken_key`: the key taken, or a statement beside
    // that insert refused because the transaction had failed).
    assert_eq!(store.follower().sources(), (1, 1));
    equals_a_rebuild(a.store()).await;
    a.finish().await;
    main.finish().await;
}

/// A push whose commit fails after it handed its changes over (a deferred trigger refuses
/// it): its changes are not in the log, so no step lists them, and they are never merged;
/// the next push is.
async fn a_push_that_rolls_back_after_handing_its_changes_over_is_not_merged() {
    let main = TestServer::demo(Backend::Postgres).await;
    let (a, store) = process_on(&main).await;
    let mut k = a.session("kader.mawar").await;
    sql(
        &main.db.url,
        "CREATE FUNCTION jangkau_test_refuse() RETURNS trigger LANGUAGE plpgsql AS
             $$ BEGIN IF NEW.payload LIKE '%Gagal%' THEN RAISE EXCEPTION 'injected failure'; END IF;
                RETURN NEW; END $$;
         CREATE CONSTRAINT TRIGGER jangkau_test_refuse AFTER INSERT ON changes
             DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION jangkau_test_refuse();",
    )
    .await;
    let lost = RecordId::new_v7();
    let refused = k.change(
        EntityKind::Person,
        lost,
        json!({"posyandu": MAWAR, "name": "Gagal", "sex": "female", "birth_date": "2024-01-02"}),
    );
    let (s, answer) = a.push(&k, &[refused]).await;
    assert_ne!(s, 200, "the push fails at its commit: {answer}");
    // The device sends its next change under a new sequence number.
    let kept = child_and_weighing(&a, &mut k).await;
    assert!(merged_name(a.store(), kept).await.is_some());
    assert_eq!(merged_name(a.store(), lost).await, None);
    assert_eq!(store.follower().sources(), (2, 0));
    equals_a_rebuild(a.store()).await;
    a.finish().await;
    main.finish().await;
}

/// A follower step's commit does not wait for the disk (`synchronous_commit = off`): a crash
/// can lose it after the push it merged was answered. What is left then is the log with the
/// push and the read tables and cursor as before the step (one transaction). Made so here
/// with a server process of its own runtime: its push is answered while its follower waits
/// for the writer lock, then the process dies (its runtime dropped: the step's transaction
/// and the changes handed over in memory go with it). The next start's catch-up
/// (`ensure_current`, in a new process) merges the push from the log, and the read model
/// equals a rebuild.
async fn a_restart_after_a_follower_step_lost_to_a_crash_merges_it() {
    let main = TestServer::demo(Backend::Postgres).await;
    let url = main.db.url.clone();
    let mut k = main.session("kader.mawar").await;
    let before = child_and_weighing(&main, &mut k).await;
    assert!(merged_name(main.store(), before).await.is_some());
    let (lock, task) = hold_follow_lock(&url).await;
    let crashed_url = url.clone();
    let child = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let child = rt.block_on(async move {
            let store = PgStore::connect(&crashed_url).await.unwrap();
            let srv =
                TestServer::start(TestDb::attach(Arc::new(store), &crashed_url), |_| {}).await;
            let mut k = srv.session("kader.mawar").await;
            child_and_weighing(&srv, &mut k).await
        });
        // The crash: every task of the process (its follower's step among them) dies.
        rt.shutdown_timeout(Duration::from_secs(5));
        child
    })
    .join()
    .unwrap();
    drop(lock);
    let _ = task.await;
    let behind = one_int(
        &url,
        "SELECT (SELECT MAX(sseq) FROM changes) - applied_through FROM read_model_state",
    )
    .await;
    assert_eq!(behind, 2, "the lost step's two changes are not merged");
    let facts = one_int(
        &url,
        &format!("SELECT COUNT(*) FROM persons WHERE id = '{child}'"),
    )
    .await;
    assert_eq!(facts, 0, "nothing of the lost step is written");
    // The restart: a new process catches up before it answers.
    let restarted = PgStore::connect(&url).await.unwrap();
    let store: &dyn district_server::Storage = &restarted;
    readmodel::ensure_current(store).await.unwrap();
    assert!(!store.read_model_state().await.unwrap().behind());
    assert_eq!(restarted.follower().sources(), (0, 2), "read from the log");
    assert!(merged_name(store, child).await.is_some());
    assert!(merged_name(store, before).await.is_some());
    equals_a_rebuild(store).await;
    drop(restarted);
    main.finish().await;
}
