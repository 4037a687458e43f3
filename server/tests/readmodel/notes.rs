//! Device sync notes (`readmodel::notes`): kept in memory and written in batches, yet the
//! tablets' report shows every status and pull at once, and a note reaches the database
//! within `FLUSH_AFTER` without any read asking for it.

use crate::common::{Backend, TestServer};
use district_server::readmodel::{Cell, Param, notes::FLUSH_AFTER};
use serde_json::Value;

both_backends!(the_tablets_report_shows_every_note_and_the_database_gets_it_soon,);

fn row(v: &Value, device: sync_protocol::DeviceId) -> Value {
    v["tablets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["device_id"] == device.to_string())
        .cloned()
        .unwrap_or_else(|| panic!("no row for {device}: {v}"))
}

async fn the_tablets_report_shows_every_note_and_the_database_gets_it_soon(b: Backend) {
    let srv = TestServer::demo(b).await;
    let k = srv.session("kader.mawar").await;
    let bd = srv.session("bidan.naitimu").await;
    // Nothing pushed, 12 waiting in the outbox; a pull with nothing new.
    assert_eq!(srv.status(&k, 12, None).await.0, 200);
    let before_pull = crate::common::now_ms();
    let (got, cursor) = srv.pull_all(&k, None, 100).await;
    assert!(got.is_empty());
    // Read at once (no wait): the notes still in memory are written before the report.
    let (s, v) = srv.get("/v1/reports/tablets", Some(&bd.bearer)).await;
    assert_eq!(s, 200, "{v}");
    let r = row(&v, k.device);
    assert_eq!(r["waiting_changes"], 12, "{v}");
    let pulled = r["last_pull_at"].as_u64().expect("a pull time");
    assert!(pulled >= before_pull, "{r}");
    // A later check-in: nothing new, so the metrics count it as such.
    let (again, _) = srv.pull_all(&k, Some(cursor), 100).await;
    assert!(again.is_empty());
    let second_pull = crate::common::now_ms();
    let metrics = srv.metrics().await;
    let count = metrics
        .lines()
        .find_map(|l| l.strip_prefix("jangkau_pull_nothing_new_seconds_count "))
        .and_then(|n| n.parse::<u64>().ok())
        .expect("the nothing-new histogram");
    assert!(count >= 2, "{metrics}");
    // Without any read in this server, the note is in the database within FLUSH_AFTER: a
    // second store on the same database (another process would see the same) reads it.
    tokio::time::sleep(FLUSH_AFTER + std::time::Duration::from_millis(700)).await;
    let other = district_server::storage::open(&srv.db.url).await.unwrap();
    let rows = other
        .read_rows(
            "SELECT last_pull_at, reported_seq FROM device_sync WHERE device_id = ?1".into(),
            vec![Param::Text(k.device.to_string())],
        )
        .await
        .unwrap();
    let last_pull = rows.first().and_then(|r| r.first()).and_then(Cell::int);
    assert!(
        last_pull.is_some_and(|t| t as u64 <= second_pull && t as u64 > pulled - 1),
        "{rows:?}"
    );
    assert_eq!(rows[0][1], Cell::Int(12));
    drop(other);
    srv.finish().await;
}
