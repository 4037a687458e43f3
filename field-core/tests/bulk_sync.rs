//! A first sync in bulk (`field-core/src/store/bulk.rs`): the store it leaves equals, table by
//! table and in its name search, a store that applied the same pulled pages one by one with its
//! indexes kept; and a SIGKILL at any point of a bulk first sync leaves a store that opens with
//! every index and the name index rebuilt, from which the sync goes on to the same end.
//!
//! The crash child is this test binary run with `FIELD_CORE_BULK_CHILD` set (the
//! `bulk_crash_child` test does nothing otherwise). `FIELD_CORE_BULK_ITERATIONS` sets the
//! number of kills (default 12); `JANGKAU_CRASH_SEED=<seed>` replays the kill points.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use field_core::{ManualClock, Store};
use rusqlite::types::ValueRef;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;
use sync_protocol::{Change, DeviceId, EntityKind, Hlc, PullResponse, RecordId, UserId};

const CHILD_ENV: &str = "FIELD_CORE_BULK_CHILD";
const PAGE: usize = 150;
const FIRST: [&str; 8] = [
    "Yohanes",
    "Maria",
    "Agustinus",
    "Theresia",
    "Yosef",
    "Fransiska",
    "Petrus",
    "Anastasia",
];
const LAST: [&str; 6] = ["Bere", "Mau", "Seran", "Nahak", "Klau", "Asa"];

fn uuid7(ms: u64, n: u64) -> RecordId {
    let mut rand = [0u8; 10];
    rand[..8].copy_from_slice(&n.to_be_bytes());
    RecordId(uuid::Builder::from_unix_timestamp_millis(ms, &rand).into_uuid())
}

struct Gen {
    devices: [DeviceId; 2],
    author: UserId,
    seq: [u64; 2],
    ms: u64,
    n: u64,
}

impl Gen {
    fn new() -> Self {
        Self {
            devices: [
                "019aaaac-2600-7000-8000-00000000b001".parse().unwrap(),
                "019aaaac-2600-7000-8000-00000000b002".parse().unwrap(),
            ],
            author: "019aaaac-2600-7000-8000-00000000a0b0".parse().unwrap(),
            seq: [0, 0],
            ms: T0 - 300 * DAY,
            n: 0,
        }
    }

    fn id(&mut self) -> RecordId {
        self.n += 1;
        uuid7(self.ms, self.n)
    }

    fn change(&mut self, dev: usize, id: RecordId, kind: EntityKind, body: Value) -> Change {
        self.seq[dev] += 1;
        self.ms += 1_000;
        Change {
            id,
            kind,
            device: self.devices[dev],
            seq: self.seq[dev],
            hlc: Hlc {
                wall_ms: self.ms,
                counter: 0,
            },
            author: self.author,
            schema: sync_protocol::schema::kind_since(kind),
            tombstone: false,
            supersedes: None,
            base: Default::default(),
            body: body.as_object().cloned().unwrap(),
        }
    }
}

/// A district's history as a server would send it: households of three named persons with
/// weighings and visits; edits of the same names on two tablets (conflicts); deleted persons
/// and facts; corrected facts; person merges, two of them contradicting (A→B and B→A); and
/// changes sent twice.
fn history(households: u64) -> Vec<Change> {
    let mut g = Gen::new();
    let mut out = Vec::new();
    let mut persons = Vec::new();
    let mut facts = Vec::new();
    for h in 0..households {
        let posyandu = format!("53.04.05.2001.P0{}", h % 3 + 1);
        let hid = g.id();
        out.push(g.change(
            0,
            hid,
            EntityKind::Household,
            json!({"posyandu": posyandu, "head_name": format!("{} {}", FIRST[(h % 8) as usize], LAST[(h % 6) as usize]), "kk_number": format!("53040{h:011}"), "rt": "01"}),
        ));
        let mut mother = None;
        for m in 0..3u64 {
            let pid = g.id();
            let name = format!(
                "{} {}",
                FIRST[((h + m) % 8) as usize],
                LAST[((h * 3 + m) % 6) as usize]
            );
            let mut body = json!({"posyandu": posyandu, "household": hid.to_string(), "name": name,
                "sex": if m == 0 { "female" } else { "male" }, "birth_date": if m == 0 { "1990-03-04" } else { "2023-05-06" },
                "nik": format!("5304{:012}", h * 3 + m)});
            if let Some(mo) = mother {
                body["mother"] = json!(RecordId::to_string(&mo));
            }
            out.push(g.change(0, pid, EntityKind::Person, body));
            if m == 0 {
                mother = Some(pid);
            }
            persons.push(pid);
            for k in 0..2u64 {
                let vid = g.id();
                out.push(g.change(
                    0,
                    vid,
                    EntityKind::Visit,
                    json!({"posyandu": posyandu, "person": pid.to_string(), "type": "posyandu", "date": format!("2025-0{}-1{}", k + 1, m)}),
                ));
                let wid = g.id();
                out.push(g.change(
                    0,
                    wid,
                    EntityKind::Measurement,
                    json!({"posyandu": posyandu, "person": pid.to_string(), "visit": vid.to_string(), "type": "weight", "value": 9.5 + k as f64, "unit": "kg", "date": format!("2025-0{}-1{}", k + 1, m)}),
                ));
                facts.push((wid, pid, posyandu.clone()));
            }
        }
    }
    // Two tablets rename the same persons without seeing each other: a conflict each.
    for (i, p) in persons.iter().enumerate().step_by(7) {
        let a = g.change(
            0,
            *p,
            EntityKind::Person,
            json!({"name": format!("Yohanis {i}")}),
        );
        let b = g.change(
            1,
            *p,
            EntityKind::Person,
            json!({"name": format!("Maria {i}"), "phone": "0812"}),
        );
        out.push(a);
        out.push(b);
    }
    // Deleted persons, one of them edited unseen afterwards (brought back, a conflict).
    for (i, p) in persons.iter().enumerate().skip(3).step_by(11) {
        let mut t = g.change(0, *p, EntityKind::Person, json!({}));
        t.tombstone = true;
        out.push(t);
        if i % 2 == 0 {
            out.push(g.change(1, *p, EntityKind::Person, json!({"rt": "07"})));
        }
    }
    // Deleted facts, and corrections of others.
    for (wid, pid, posyandu) in facts.iter().step_by(9) {
        let mut t = g.change(1, *wid, EntityKind::Measurement, json!({}));
        t.tombstone = true;
        out.push(t);
        let cid = g.id();
        let mut c = g.change(
            0,
            cid,
            EntityKind::Measurement,
            json!({"posyandu": posyandu, "person": pid.to_string(), "type": "weight", "value": 12.5, "unit": "kg", "date": "2025-03-01"}),
        );
        c.supersedes = Some(*wid);
        out.push(c);
    }
    // Merges: two ordinary ones, and a contradicting pair made on two tablets.
    for (dev, kept, merged) in [
        (0, persons[1], persons[4]),
        (0, persons[7], persons[10]),
        (0, persons[13], persons[16]),
        (1, persons[16], persons[13]),
    ] {
        let mid = g.id();
        out.push(g.change(
            dev,
            mid,
            EntityKind::PersonMerge,
            json!({"posyandu": "53.04.05.2001.P01", "kept": kept.to_string(), "merged": merged.to_string(), "date": "2025-04-01"}),
        ));
    }
    // Known persons' edits whose stamps are reused below.
    let edited: Vec<Change> = [persons[20], persons[23]]
        .into_iter()
        .map(|p| g.change(1, p, EntityKind::Person, json!({"rt": "05"})))
        .collect();
    out.extend(edited.iter().cloned());
    // Changes a server sends twice (a retried page): applied once.
    let again: Vec<Change> = out.iter().step_by(13).cloned().collect();
    out.extend(again);
    // Known persons edited again on later pages.
    for (i, p) in persons.iter().enumerate().step_by(7) {
        out.push(g.change(
            0,
            *p,
            EntityKind::Person,
            json!({"name": format!("Yohanis {i} Bria"), "rt": "03"}),
        ));
    }
    // A tablet that reused stamps (restored from a backup): a second, different edit under
    // a stamp already sent, pages later. Every replica keeps the smaller by JSON form, in
    // either order: of a person's creation (written by its page, fresh), and of a known
    // person's edit (both deferred in a bulk first sync).
    for (n, p) in [persons[5], persons[8], persons[20], persons[23]]
        .into_iter()
        .enumerate()
    {
        let mut again = if n < 2 {
            out.iter()
                .find(|c| c.id == p && c.kind == EntityKind::Person)
                .cloned()
                .unwrap()
        } else {
            edited[n - 2].clone()
        };
        let dev = usize::from(again.device != g.devices[0]);
        g.seq[dev] += 1;
        again.seq = g.seq[dev];
        let field = if n < 2 { "name" } else { "rt" };
        // Smaller than the first for even n, larger for odd n.
        let value = match (n % 2, field) {
            (0, "rt") => "00",
            (0, _) => "Aaa",
            _ => "zzz",
        };
        again.body.insert(field.into(), json!(value));
        out.push(again);
    }
    out
}

/// The history cut into pull pages, the last one without `has_more`.
fn pages(changes: &[Change]) -> Vec<PullResponse> {
    let chunks: Vec<&[Change]> = changes.chunks(PAGE).collect();
    chunks
        .iter()
        .enumerate()
        .map(|(i, c)| PullResponse {
            v: sync_protocol::PROTOCOL_VERSION,
            changes: c.to_vec(),
            cursor: format!("page-{}", i + 1),
            has_more: i + 1 < chunks.len(),
            server_time: T0,
        })
        .collect()
}

fn device() -> DeviceId {
    "019aaaac-2600-7000-8000-00000000dddd".parse().unwrap()
}

fn new_store(dir: &Path, clock: &ManualClock) -> Store {
    let user = field_core::LocalUser {
        user_id: "019aaaac-2600-7000-8000-00000000a001".parse().unwrap(),
        username: "maria".into(),
        display_name: "bidan maria".into(),
        role: "bidan".into(),
    };
    Store::create(
        &dir.join("jangkau.db"),
        device(),
        &user,
        "258046",
        opts(clock),
    )
    .unwrap()
}

/// Every table's rows (sorted, as text), the indexes' definitions, the name index's rows and
/// name searches: what must be equal between a bulk and a normal first sync.
fn snapshot(s: &Store) -> Vec<String> {
    let conn = s.connection();
    let mut out = Vec::new();
    let tables: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table'
             AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'person_fts%' ORDER BY name",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(tables.len() > 15, "{tables:?}");
    let dump = |sql: &str, out: &mut Vec<String>| {
        let mut stmt = conn.prepare(sql).unwrap();
        let cols = stmt.column_count();
        let mut rows: Vec<String> = Vec::new();
        let mut q = stmt.query([]).unwrap();
        while let Some(r) = q.next().unwrap() {
            let mut line = String::new();
            for c in 0..cols {
                match r.get_ref(c).unwrap() {
                    ValueRef::Null => line.push_str("NULL"),
                    ValueRef::Integer(i) => line.push_str(&i.to_string()),
                    ValueRef::Real(f) => line.push_str(&f.to_string()),
                    ValueRef::Text(t) => line.push_str(&String::from_utf8_lossy(t)),
                    ValueRef::Blob(b) => line.push_str(&format!("{b:?}")),
                }
                line.push('|');
            }
            rows.push(line);
        }
        rows.sort();
        out.push(format!("{sql}: {} rows", rows.len()));
        out.extend(rows);
    };
    for t in &tables {
        if t == "conflicts" {
            // Not the row id: a bulk first sync writes the conflicts of records known from
            // earlier pages at its end, in the order those records were first edited, where a
            // normal one numbers them page by page.
            dump(
                "SELECT record_id, kind, field, winner_hlc, loser_hlc, loser_device, conflict_json
                 FROM conflicts",
                &mut out,
            );
            continue;
        }
        dump(&format!("SELECT * FROM \"{t}\""), &mut out);
    }
    dump(
        "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'index'",
        &mut out,
    );
    dump("SELECT rowid, name, name_key FROM person_fts", &mut out);
    for q in ["yohanes", "maria bere", "yohanis", "theresia", "seran"] {
        let found = s.search_persons(q, None, 50).unwrap();
        out.push(format!("search {q}: {found:?}"));
    }
    out
}

fn assert_same(a: &[String], b: &[String]) {
    assert_eq!(a.len(), b.len(), "snapshots differ in length");
    for (x, y) in a.iter().zip(b) {
        assert_eq!(x, y);
    }
}

fn deferred(s: &Store) -> i64 {
    s.connection()
        .query_row("SELECT count(*) FROM deferred_indexes", [], |r| r.get(0))
        .unwrap()
}

/// The reference: the same pages applied without bulk (`apply_pull_page` never begins one).
fn reference(changes: &[Change]) -> (tempfile::TempDir, Vec<String>) {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let mut s = new_store(dir.path(), &clock);
    for p in pages(changes) {
        s.apply_pull_page(&p).unwrap();
        assert_eq!(deferred(&s), 0);
    }
    let snap = snapshot(&s);
    (dir, snap)
}

#[test]
fn a_bulk_first_sync_leaves_the_store_a_normal_one_does() {
    let changes = history(70);
    let all = pages(&changes);
    assert!(all.len() >= 5, "{}", all.len());
    let (_r, want) = reference(&changes);

    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let mut s = new_store(dir.path(), &clock);
    let indexes: i64 = s
        .connection()
        .query_row("SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'facts' AND sql IS NOT NULL", [], |r| r.get(0))
        .unwrap();
    assert!(indexes >= 6);
    for (i, p) in all.iter().enumerate() {
        let r = s.apply_sync_page(p).unwrap();
        assert!(r.applied > 0);
        if p.has_more {
            // Under way: the dense indexes are kept aside and the name index is not written;
            // the sparse partial ones (few rows fill their columns) are written as rows come.
            assert!(s.bulk_sync_active().unwrap(), "page {i}");
            assert!(deferred(&s) >= indexes - 4);
            let mut left: Vec<String> = s
                .connection()
                .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'facts' AND sql IS NOT NULL ORDER BY name")
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            left.sort();
            assert_eq!(
                left,
                [
                    "facts_household",
                    "facts_session",
                    "facts_subject",
                    "facts_supersedes"
                ]
            );
        }
    }
    assert!(!s.bulk_sync_active().unwrap());
    assert_eq!(s.integrity_check().unwrap(), vec!["ok".to_string()]);
    let got = snapshot(&s);
    // The history holds what must show: conflicts, merges settled, names found.
    assert!(
        got.iter()
            .any(|l| l.starts_with("SELECT record_id, kind, field") && !l.ends_with(": 0 rows"))
    );
    assert!(
        got.iter()
            .any(|l| l.starts_with("search yohanes: [") && l.len() > 30)
    );
    // The reused stamps: the smaller edit kept, in either order, fresh or deferred.
    assert!(got.iter().any(|l| l.contains("\"rt\":\"00\"")));
    assert!(got.iter().any(|l| l.contains("\"name\":\"Aaa\"")));
    assert!(!got.iter().any(|l| l.contains("zzz")));
    assert_same(&got, &want);

    // A later large page into the filled store is applied normally.
    let later: Vec<Change> = changes.iter().rev().take(PAGE).cloned().collect();
    let page = PullResponse {
        v: sync_protocol::PROTOCOL_VERSION,
        changes: later,
        cursor: "later".into(),
        has_more: true,
        server_time: T0,
    };
    s.apply_sync_page(&page).unwrap();
    assert!(!s.bulk_sync_active().unwrap());
    // Those changes were all applied already: nothing moves.
    let again = snapshot(&s);
    assert_eq!(again.len(), got.len());
}

/// A local edit of a person while a bulk first sync is under way, whose pulled edits from
/// earlier pages are still deferred (`bulk_edits`): the edit merges with them (its base and
/// the read row it writes see them), and the sync ends in the store a page-by-page sync with
/// the same edit at the same point leaves.
#[test]
fn a_local_edit_during_a_bulk_merges_with_its_deferred_edits() {
    let changes = history(70);
    let all = pages(&changes);
    // The first renamed person, and the page after its renames.
    let renamed = changes
        .iter()
        .position(|c| c.body.get("name") == Some(&json!("Maria 0")))
        .unwrap();
    let person = changes[renamed].id;
    let upto = renamed / PAGE + 1;
    assert!(upto + 1 < all.len());
    let run = |bulk: bool| {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(T0);
        let mut s = new_store(dir.path(), &clock);
        for (i, p) in all.iter().enumerate() {
            if i == upto {
                if bulk {
                    let deferred: i64 = s
                        .connection()
                        .query_row(
                            "SELECT count(*) FROM bulk_edits WHERE record_id = ?1",
                            [person.to_string()],
                            |r| r.get(0),
                        )
                        .unwrap();
                    assert!(deferred >= 2, "{deferred}");
                }
                s.update_person(person, json!({"rt": "11"}).as_object().cloned().unwrap())
                    .unwrap();
                let values: String = s
                    .connection()
                    .query_row(
                        "SELECT values_json FROM persons WHERE id = ?1",
                        [person.to_string()],
                        |r| r.get(0),
                    )
                    .unwrap();
                // The later of the two renames, pulled on a page before, and the local edit.
                assert!(values.contains("\"name\":\"Maria 0\""), "{values}");
                assert!(values.contains("\"rt\":\"11\""), "{values}");
            }
            if bulk {
                s.apply_sync_page(p).unwrap();
            } else {
                s.apply_pull_page(p).unwrap();
            }
            if i + 1 < upto {
                assert_eq!(s.bulk_sync_active().unwrap(), bulk);
            }
        }
        assert!(!s.bulk_sync_active().unwrap());
        (dir, snapshot(&s))
    };
    let (_a, want) = run(false);
    let (_b, got) = run(true);
    assert_same(&got, &want);
}

fn foreign_keys(s: &Store) -> bool {
    s.connection()
        .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
        .unwrap()
}

fn foreign_key_violations(s: &Store) -> Vec<String> {
    s.connection()
        .prepare("PRAGMA foreign_key_check")
        .unwrap()
        .query_map([], |r| {
            Ok(format!("{:?} {:?}", r.get::<_, String>(0)?, r.get_ref(1)?))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Pulled pages are applied without SQLite's foreign-key checks (every record is registered
/// before its rows): every row still has its record, and the checks are on again after a
/// normal page, after a bulk first sync's last page, after `finish_bulk_sync` and for a
/// local write made while a bulk sync is stopped half-way.
#[test]
fn foreign_keys_are_off_only_while_pulled_pages_are_applied() {
    let changes = history(70);
    let all = pages(&changes);
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let mut s = new_store(dir.path(), &clock);
    assert!(foreign_keys(&s));
    for p in &all {
        s.apply_sync_page(p).unwrap();
        // Off between the pages of a bulk first sync only.
        assert_eq!(foreign_keys(&s), !p.has_more);
        assert_eq!(s.bulk_sync_active().unwrap(), p.has_more);
    }
    assert!(foreign_key_violations(&s).is_empty());
    // A normal large page into the filled store: on again after it.
    s.apply_sync_page(&all[0]).unwrap();
    assert!(!s.bulk_sync_active().unwrap());
    assert!(foreign_keys(&s));

    // A bulk stopped half-way: a local write has them on, as has `finish_bulk_sync`.
    let dir = tempfile::tempdir().unwrap();
    let mut s = new_store(dir.path(), &clock);
    s.apply_sync_page(&all[0]).unwrap();
    assert!(s.bulk_sync_active().unwrap());
    assert!(!foreign_keys(&s));
    family(&mut s);
    assert!(foreign_keys(&s));
    assert!(s.finish_bulk_sync().unwrap());
    assert!(foreign_keys(&s));
    // The store still holds next to nothing: the next large page begins another bulk.
    s.apply_sync_page(&all[1]).unwrap();
    assert!(s.bulk_sync_active().unwrap());
    assert!(!foreign_keys(&s));
    for p in &all[2..] {
        s.apply_sync_page(p).unwrap();
    }
    assert!(foreign_keys(&s));
    assert!(foreign_key_violations(&s).is_empty());
}

#[test]
fn a_small_or_single_page_or_a_filled_store_is_applied_normally() {
    let changes = history(70);
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let mut s = new_store(dir.path(), &clock);
    // One page holding everything (no `has_more`): nothing to defer to.
    let whole = PullResponse {
        v: sync_protocol::PROTOCOL_VERSION,
        changes: changes[..PAGE * 2].to_vec(),
        cursor: "a".into(),
        has_more: false,
        server_time: T0,
    };
    s.apply_sync_page(&whole).unwrap();
    assert!(!s.bulk_sync_active().unwrap());
    // A small page with more to follow: applied normally too.
    let small = PullResponse {
        changes: changes[PAGE * 2..PAGE * 2 + 20].to_vec(),
        cursor: "b".into(),
        has_more: true,
        ..whole.clone()
    };
    s.apply_sync_page(&small).unwrap();
    assert!(!s.bulk_sync_active().unwrap());
}

#[test]
fn a_sync_stopped_between_pages_is_finished_by_unlock_or_by_hand() {
    let changes = history(70);
    let all = pages(&changes);
    let (_r, want) = reference(&changes);
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let mut s = new_store(dir.path(), &clock);
    s.apply_sync_page(&all[0]).unwrap();
    s.apply_sync_page(&all[1]).unwrap();
    assert!(s.bulk_sync_active().unwrap());
    // The sync engine's path when a pull stops on an error.
    assert!(s.finish_bulk_sync().unwrap());
    assert!(!s.bulk_sync_active().unwrap());
    assert!(!s.finish_bulk_sync().unwrap());
    // The rest, now into a store that is no longer empty: normal pages.
    s.apply_sync_page(&all[2]).unwrap();
    drop(s);
    // A cut between pages of a second bulk: simulated by a store left with kept indexes.
    let mut s = reopen(&dir.path().join("jangkau.db"), &clock);
    for p in &all[3..] {
        s.apply_sync_page(p).unwrap();
    }
    assert_same(&snapshot(&s), &want);
}

#[test]
fn bulk_crash_child() {
    let Ok(path) = std::env::var(CHILD_ENV) else {
        return;
    };
    let clock = ManualClock::new(T0);
    let mut store = reopen(Path::new(&path), &clock);
    let all = pages(&history(70));
    let done: usize = store
        .pull_cursor()
        .unwrap()
        .and_then(|c| c.strip_prefix("page-").and_then(|n| n.parse().ok()))
        .unwrap_or(0);
    for p in &all[done..] {
        store.apply_sync_page(p).unwrap();
        println!("P {}", p.cursor);
    }
    println!("DONE");
    // Wait to be killed (the parent kills every child).
    std::thread::sleep(Duration::from_secs(60));
}

#[test]
fn a_killed_bulk_first_sync_opens_with_its_indexes_and_goes_on_to_the_same_end() {
    let iterations: u64 = std::env::var("FIELD_CORE_BULK_ITERATIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12);
    let mut rand = crash_rand("bulk crash");
    let changes = history(70);
    let all = pages(&changes);
    let (_r, want) = reference(&changes);
    let clean_indexes = {
        let dir = tempfile::tempdir().unwrap();
        let s = new_store(dir.path(), &ManualClock::new(T0));
        let mut stmt = s
            .connection()
            .prepare("SELECT name FROM sqlite_master WHERE type = 'index' ORDER BY name")
            .unwrap();
        stmt.query_map([], |r| r.get::<_, String>(0))
            .unwrap()
            .map(Result::unwrap)
            .collect::<Vec<_>>()
    };
    let exe = std::env::current_exe().unwrap();
    let mut cut_mid_bulk = 0;
    for i in 0..iterations {
        let dir = tempfile::tempdir().unwrap();
        let clock = ManualClock::new(T0);
        drop(new_store(dir.path(), &clock));
        let path = dir.path().join("jangkau.db");
        // One or two cuts per iteration, then the sync is allowed to end.
        let mut cuts = 0;
        loop {
            let mut child = Command::new(&exe)
                .args([
                    "bulk_crash_child",
                    "--exact",
                    "--nocapture",
                    "--test-threads=1",
                    "-q",
                ])
                .env(CHILD_ENV, &path)
                .stdout(Stdio::piped())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            let stdout = child.stdout.take().unwrap();
            let (tx, rx) = std::sync::mpsc::channel::<String>();
            let reader = std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    if tx.send(line).is_err() {
                        break;
                    }
                }
            });
            let finish = cuts >= 2;
            let mut lines = Vec::new();
            if finish {
                while let Ok(l) = rx.recv_timeout(Duration::from_secs(60)) {
                    let end = l == "DONE";
                    lines.push(l);
                    if end {
                        break;
                    }
                }
            } else {
                // Kill after a random number of committed pages (the bulk begun with the
                // first), a few milliseconds into the next one (or its finishing work).
                let wait_for = 1 + rand(all.len() as u64);
                while (lines.len() as u64) < wait_for {
                    match rx.recv_timeout(Duration::from_secs(60)) {
                        Ok(l) if l == "DONE" => break,
                        Ok(l) => lines.push(l),
                        Err(_) => break,
                    }
                }
                std::thread::sleep(Duration::from_millis(rand(6)));
            }
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            reader.join().unwrap();
            lines.extend(rx.try_iter());
            let s = reopen(&path, &clock);
            assert_eq!(
                s.integrity_check().unwrap(),
                vec!["ok".to_string()],
                "iteration {i}"
            );
            assert!(
                !s.bulk_sync_active().unwrap(),
                "iteration {i}: unlock finished the bulk"
            );
            let indexes: Vec<String> = {
                let mut stmt = s
                    .connection()
                    .prepare("SELECT name FROM sqlite_master WHERE type = 'index' ORDER BY name")
                    .unwrap();
                stmt.query_map([], |r| r.get::<_, String>(0))
                    .unwrap()
                    .map(Result::unwrap)
                    .collect()
            };
            assert_eq!(indexes, clean_indexes, "iteration {i}: every index is back");
            // The name index holds exactly the live named persons.
            let (fts, named): (i64, i64) = s
                .connection()
                .query_row(
                    "SELECT (SELECT count(*) FROM person_fts),
                            (SELECT count(*) FROM persons WHERE deleted = 0 AND name IS NOT NULL)",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .unwrap();
            assert_eq!(fts, named, "iteration {i}");
            // The cursor names the last page kept whole.
            let page: usize = s
                .pull_cursor()
                .unwrap()
                .and_then(|c| c.strip_prefix("page-").and_then(|n| n.parse().ok()))
                .unwrap_or(0);
            let reported = lines.iter().filter(|l| l.starts_with("P page-")).count();
            assert!(page >= reported.min(all.len()), "iteration {i}");
            drop(s);
            if finish || page == all.len() {
                break;
            }
            if page > 0 && page < all.len() {
                cut_mid_bulk += 1;
            }
            cuts += 1;
        }
        let s = reopen(&path, &clock);
        assert_same(&snapshot(&s), &want);
    }
    assert!(cut_mid_bulk >= 1, "no kill landed inside the bulk sync");
}
