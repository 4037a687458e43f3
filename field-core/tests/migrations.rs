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
            // The search index of version 2 was filled from the rows already there (a
            // database seeded at version 2 or later has no index rows for the seed).
            let hits: i64 = conn
                .query_row(
                    "SELECT count(*) FROM person_fts WHERE person_fts MATCH 'name_key : ioanes*'",
                    [],
                    |r| r.get(0),
                )
                .unwrap();
            assert_eq!(hits, i64::from(from < 2), "from {from}");
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

/// An encrypted database of every earlier version, holding edits, facts and conflicts, opens
/// through `Store::unlock` (which migrates it) with its data readable and writable.
#[test]
fn store_unlock_upgrades_encrypted_databases_of_every_version() {
    use field_core::{KdfParams, LocalUser, ManualClock, OpenOptions, Store};
    use std::sync::Arc;
    use sync_protocol::{DeviceId, UserId};
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(1_763_776_800_000);
    let user = LocalUser {
        user_id: UserId::new_v7(),
        username: "maria".into(),
        display_name: "Kader Maria".into(),
        role: "kader".into(),
    };
    let person = "019aaaac-2600-7000-8000-0000000000aa";
    let fact = "019aaaac-2600-7000-8000-0000000000bb";
    let dev = "019aaaac-2600-7000-8000-000000000001";
    let other = "019aaaac-2600-7000-8000-000000000002";
    for from in 1..latest() {
        let path = dir.path().join(format!("enc-v{from}.db"));
        let conn = field_core::testing::create_at_version(
            &path,
            dev.parse().unwrap(),
            &user,
            "258046",
            KdfParams::INSECURE_FOR_TESTS,
            from,
        )
        .unwrap();
        let values = r#"{"name":"Yohanes Bria","posyandu":"53.04.05.2001.P01","sex":"male","birth_date":"1990-02-03","status":"active"}"#;
        conn.execute_batch(&format!(
            "INSERT INTO records (id, kind) VALUES ('{person}', 'person'), ('{fact}', 'note');
             INSERT INTO field_edits (record_id, field, value_json, hlc, device, author) VALUES
                 ('{person}', 'name', '\"Yohanes Bria\"', '019aaaac26000000', '{dev}', '{u}'),
                 ('{person}', 'posyandu', '\"53.04.05.2001.P01\"', '019aaaac26000000', '{dev}', '{u}'),
                 ('{person}', 'sex', '\"male\"', '019aaaac26000000', '{dev}', '{u}'),
                 ('{person}', 'birth_date', '\"1990-02-03\"', '019aaaac26000000', '{dev}', '{u}'),
                 ('{person}', 'status', '\"active\"', '019aaaac26000000', '{dev}', '{u}'),
                 ('{person}', 'name', '\"Yohanes Bere\"', '019aaaac26000001', '{other}', '{u}');
             INSERT INTO persons (id, posyandu, name, name_key, sex, birth_date, values_json, updated_hlc)
                 VALUES ('{person}', '53.04.05.2001.P01', 'Yohanes Bria', 'ioanes bria', 'male',
                         '1990-02-03', '{values}', '019aaaac26000001');
             INSERT INTO facts (id, kind, posyandu, person, date, body_json, made_hlc, made_device, author)
                 VALUES ('{fact}', 'note', '53.04.05.2001.P01', '{person}', '2025-11-20',
                         '{{\"posyandu\":\"53.04.05.2001.P01\",\"person\":\"{person}\",\"text\":\"catatan\"}}',
                         '019aaaac26000002', '{dev}', '{u}');
             INSERT INTO conflicts (record_id, kind, field, winner_hlc, loser_hlc, loser_device, conflict_json)
                 VALUES ('{person}', 'person', 'name', '019aaaac26000001', '019aaaac26000000', '{dev}', '{{}}');",
            u = user.user_id,
        ))
        .unwrap();
        drop(conn);
        let opts = OpenOptions::default()
            .with_clock(Arc::new(clock.clone()))
            .with_kdf(KdfParams::INSECURE_FOR_TESTS);
        let mut s = Store::unlock(&path, "maria", "258046", opts).unwrap();
        assert_eq!(
            migrations::current_version(s.connection()).unwrap(),
            latest()
        );
        let id = person.parse().unwrap();
        let t = s.person_timeline(id).unwrap();
        assert_eq!(t.entries.len(), 1, "from {from}");
        assert_eq!(t.entries[0].body["text"], "catatan");
        // The stored edits merge: an edit now takes in both and resolves the name.
        s.update_person(
            id,
            serde_json::json!({"phone": "0812"})
                .as_object()
                .cloned()
                .unwrap(),
        )
        .unwrap();
        let p = s.person(id).unwrap();
        assert_eq!(p.name, "Yohanes Bere", "from {from}");
        assert_eq!(p.values["phone"], "0812");
        // The conflict was recomputed from the edits (the seeded row kept, now complete).
        let conflicts = s.conflicts().unwrap();
        assert_eq!(conflicts.len(), 1, "from {from}");
        assert_eq!(conflicts[0].0.field, "name");
        assert_eq!(s.pull_cursor().unwrap(), None);
        assert_eq!(s.integrity_check().unwrap(), vec!["ok".to_string()]);
        let _ = DeviceId::new_v7();
    }
}

/// Two processes (the app and a background sync worker) upgrading one file at once: each
/// migration is applied once, neither fails.
#[test]
fn concurrent_upgrades_apply_each_migration_once() {
    let dir = tempfile::tempdir().unwrap();
    for round in 0..10 {
        let path = dir.path().join(format!("c{round}.db"));
        drop(Connection::open(&path).unwrap());
        let handles: Vec<_> = (0..3)
            .map(|_| {
                let path = path.clone();
                std::thread::spawn(move || {
                    let mut conn = Connection::open(&path).unwrap();
                    conn.busy_timeout(std::time::Duration::from_secs(10))
                        .unwrap();
                    migrate(&mut conn)
                })
            })
            .collect();
        for h in handles {
            assert_eq!(h.join().unwrap().unwrap(), latest(), "round {round}");
        }
    }
}

/// The one cursor of version 2 goes to its scope when that scope is certain, else nowhere.
#[test]
fn the_old_cursor_is_kept_only_for_a_certain_scope() {
    let dir = tempfile::tempdir().unwrap();
    for (users, want) in [
        (
            vec![Some(r#"{"level":"posyandu","place":"53.04.05.2001.P01"}"#)],
            Some("posyandu:53.04.05.2001.P01"),
        ),
        (
            vec![
                Some(r#"{"level":"posyandu","place":"53.04.05.2001.P01"}"#),
                Some(r#"{"level":"desa","place":"53.04.05.2001"}"#),
            ],
            None,
        ),
        (vec![None, Some("not json")], None),
    ] {
        let path = dir
            .path()
            .join(format!("cur{}.db", users.len() + want.map_or(0, |_| 10)));
        let _ = std::fs::remove_file(&path);
        let mut conn = Connection::open(&path).unwrap();
        migrate_to(&mut conn, 2).unwrap();
        seed(&conn, 2);
        conn.execute("UPDATE device_state SET pull_cursor = 's42'", [])
            .unwrap();
        for (i, place) in users.iter().enumerate() {
            conn.execute(
                "INSERT INTO users (id, username, display_name, role, place) VALUES (?1, ?1, 'x', 'kader', ?2)",
                rusqlite::params![format!("u{i}"), place],
            )
            .unwrap();
        }
        migrate(&mut conn).unwrap();
        let rows: Vec<(String, String)> = conn
            .prepare("SELECT scope, cursor FROM pull_cursors")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        match want {
            Some(scope) => assert_eq!(rows, vec![(scope.to_string(), "s42".to_string())]),
            None => assert!(rows.is_empty(), "{rows:?}"),
        }
    }
}
