//! SQLite migration 0013: `facts` keyed by its id alone (`WITHOUT ROWID`). A database at
//! 0012 keeps every fact, its indexes and the view on it, and the read model after the
//! migration equals a rebuild from the log.

use crate::common::{Backend, MAWAR, TestServer};
use crate::routes::posyandu_day;
use crate::snapshot;
use district_server::readmodel;
use district_server::storage::sqlite::MIGRATIONS;

/// `facts`, its indexes and `posyandu_sessions` as migration 0005 made them (a rowid table).
fn facts_of_0005() -> &'static str {
    let m5 = MIGRATIONS
        .iter()
        .find(|m| m.0 == 5)
        .map(|m| m.1)
        .expect("migration 0005");
    let start = m5.find("CREATE TABLE facts (").expect("facts in 0005");
    let end = m5
        .find("-- Losing edits")
        .expect("conflicts after facts in 0005");
    &m5[start..end]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn facts_without_rowid_keep_every_row_of_0012() {
    let srv = TestServer::demo(Backend::Sqlite).await;
    let mut k = srv.session("kader.mawar").await;
    posyandu_day(&srv, &mut k, MAWAR).await;
    let before = snapshot(srv.store()).await;
    assert!(before["facts"].len() >= 4, "{:?}", before["facts"]);
    // Back to schema 0012: `facts` a rowid table again, with the same rows.
    {
        let c = rusqlite::Connection::open(&srv.db.url).unwrap();
        c.execute_batch(&format!(
            "BEGIN;
             DROP VIEW posyandu_sessions;
             CREATE TABLE facts_kept AS SELECT * FROM facts;
             DROP TABLE facts;
             {}
             INSERT INTO facts SELECT * FROM facts_kept;
             DROP TABLE facts_kept;
             DELETE FROM schema_migrations WHERE version = 13;
             COMMIT;",
            facts_of_0005()
        ))
        .unwrap();
        assert!(c.prepare("SELECT rowid FROM facts").is_ok());
    }
    assert_eq!(srv.store().migrate().await.unwrap(), 1);
    let c = rusqlite::Connection::open(&srv.db.url).unwrap();
    assert!(
        c.prepare("SELECT rowid FROM facts").is_err(),
        "facts has no rowid after 0013"
    );
    let indexes: Vec<String> = c
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'facts' AND sql IS NOT NULL ORDER BY name")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        indexes,
        [
            "facts_kind_place",
            "facts_person",
            "facts_subject",
            "facts_supersedes"
        ]
    );
    let sessions: i64 = c
        .query_row("SELECT COUNT(*) FROM posyandu_sessions", [], |r| r.get(0))
        .unwrap();
    assert_eq!(sessions, 1);
    assert_eq!(snapshot(srv.store()).await, before);
    // A push after the migration, then a rebuild from the log: the same tables.
    posyandu_day(&srv, &mut k, MAWAR).await;
    let incremental = snapshot(srv.store()).await;
    assert_eq!(
        incremental["facts"].len(),
        2 * before["facts"].len(),
        "every fact of both days"
    );
    readmodel::reindex(srv.store(), true, 5, |_| {})
        .await
        .unwrap();
    assert_eq!(snapshot(srv.store()).await, incremental);
    srv.finish().await;
}
