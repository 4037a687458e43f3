//! Upgrading from every earlier schema version gives the same schema as a fresh database,
//! keeps the data, and each migration is all-or-nothing.
#![allow(clippy::unwrap_used)]

use field_core::migrations::{self, MIGRATIONS, latest, migrate, migrate_to};
use rusqlite::Connection;

fn schema(conn: &Connection) -> Vec<(String, String)> {
    let mut stmt = conn
        .prepare("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<rusqlite::Result<Vec<_>>>()
        .unwrap()
}

/// Data a device could hold at version `v`.
fn seed(conn: &Connection, v: u32) {
    if v >= 1 {
        conn.execute_batch(
            "INSERT INTO device_state (id, device_id, next_seq, hlc_last) VALUES
                 (1, '019aaaac-2600-7000-8000-000000000001', 2, '019aaaac26000000');
             INSERT INTO records (id, kind) VALUES ('019aaaac-2600-7000-8000-0000000000aa', 'person');
             INSERT INTO persons (id, posyandu, name, name_key, sex, birth_date, values_json, updated_hlc)
                 VALUES ('019aaaac-2600-7000-8000-0000000000aa', '53.04.05.2001.P01', 'Yohanes Bria',
                         'ioanes bria', 'male', '1990-02-03', '{}', '019aaaac26000000');
             INSERT INTO outbox (seq, record_id, kind, hlc, change_json, created_ms) VALUES
                 (1, '019aaaac-2600-7000-8000-0000000000aa', 'person', '019aaaac26000000', '{}', 0);",
        )
        .unwrap();
    }
}

#[test]
fn upgrades_from_every_earlier_version() {
    let dir = tempfile::tempdir().unwrap();
    let fresh_path = dir.path().join("fresh.db");
    let mut fresh = Connection::open(&fresh_path).unwrap();
    assert_eq!(migrate(&mut fresh).unwrap(), latest());
    let want = schema(&fresh);
    assert!(latest() >= 2, "{}", MIGRATIONS.len());

    for from in 0..latest() {
        let path = dir.path().join(format!("v{from}.db"));
        let mut conn = Connection::open(&path).unwrap();
        assert_eq!(migrate_to(&mut conn, from).unwrap(), from);
        seed(&conn, from);
        drop(conn);
        let mut conn = Connection::open(&path).unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), latest(), "from {from}");
        assert_eq!(schema(&conn), want, "from {from}");
        if from >= 1 {
            let name: String = conn
                .query_row("SELECT name FROM persons", [], |r| r.get(0))
                .unwrap();
            assert_eq!(name, "Yohanes Bria");
            // The search index of version 2 was filled from the rows already there.
            let hits: i64 = conn
                .query_row(
                    "SELECT count(*) FROM person_fts WHERE person_fts MATCH 'name_key : ioanes*'",
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(hits, 1, "from {from}");
        }
        // Migrating again is a no-op.
        assert_eq!(migrate(&mut conn).unwrap(), latest());
    }
}

#[test]
fn a_newer_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = Connection::open(dir.path().join("new.db")).unwrap();
    conn.pragma_update(None, "user_version", latest() + 1)
        .unwrap();
    assert!(matches!(
        migrate(&mut conn),
        Err(field_core::StoreError::SchemaTooNew { .. })
    ));
}

#[test]
fn a_failing_migration_leaves_the_previous_version() {
    let dir = tempfile::tempdir().unwrap();
    let mut conn = Connection::open(dir.path().join("f.db")).unwrap();
    migrate_to(&mut conn, 1).unwrap();
    // Sabotage: an object that migration 2 wants to create already exists.
    conn.execute_batch("CREATE TABLE person_fts (x)").unwrap();
    assert!(migrate(&mut conn).is_err());
    assert_eq!(migrations::current_version(&conn).unwrap(), 1);
    // Nothing of migration 2 was left behind.
    let views: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'view'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(views, 0);
}
