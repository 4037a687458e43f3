//! Property: the due list's reading of only what the plan uses (the kinds and body fields of
//! `field_core::health::due_read`, field values decoded for kept persons only, merges read
//! once a list) gives exactly the answer of reading the day's roster and every fact whole
//! (`Store::due_tasks_in_scope_reference`, the code it replaced): the same persons in the
//! same order, with the same tasks, problems and field values.
//!
//! The generated stores have children and adults in two posyandu, every fact kind the plan
//! reads and some it does not (supplements, notes), bodies with extra fields, corrections,
//! retracted facts, merges (also chains), pregnancies with ANC contacts and danger-sign
//! screenings, deliveries, persons who moved or lack a birth date, persons registered days
//! ago (their registration day counts), persons in a household of another posyandu, and bad data (a dose before birth, an unknown vaccine, an unparseable
//! date).
//!
//! The due read reads the roster rows of only the persons who may have a task, and their
//! facts by the person index.
//!
//! Cases per run: 16 (each opens a store). `PROPTEST_CASES` raises it.
#![cfg(feature = "health")]
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use field_core::RuleOptions;
use proptest::prelude::*;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use sync_protocol::{Body, Change, DeviceId, EntityKind, Hlc, PlaceLevel, RecordId, Scope, UserId};

const POSYANDU2: &str = "53.04.05.2001.P02";

fn uuid7(ms: u64, n: u64) -> uuid::Uuid {
    let mut rand = [0u8; 10];
    rand[..8].copy_from_slice(&n.to_be_bytes());
    uuid::Builder::from_unix_timestamp_millis(ms, &rand).into_uuid()
}

struct Gen {
    device: DeviceId,
    author: UserId,
    seq: u64,
    n: u64,
    out: Vec<Change>,
    /// Stamp the next changes days before today, not months (a person registered lately,
    /// whose registration day the plan reads).
    recent: bool,
}

impl Gen {
    fn id(&mut self) -> RecordId {
        self.n += 1;
        RecordId(uuid7(T0 - 400 * DAY, self.n))
    }

    fn push(&mut self, id: RecordId, kind: EntityKind, body: Value) -> RecordId {
        self.seq += 1;
        self.out.push(Change {
            id,
            kind,
            device: self.device,
            seq: self.seq,
            hlc: Hlc {
                wall_ms: if self.recent {
                    T0 - 5 * DAY
                } else {
                    T0 - 300 * DAY
                } + self.seq * 60_000,
                counter: 0,
            },
            author: self.author,
            schema: 1,
            tombstone: false,
            supersedes: None,
            base: BTreeMap::new(),
            body: body.as_object().cloned().unwrap_or_default(),
        });
        id
    }
}

/// A date `days` before the fixture's today (2025-11-22).
fn ago(days: u64) -> String {
    let today = chrono::NaiveDate::from_ymd_opt(2025, 11, 22).unwrap();
    (today - chrono::Days::new(days))
        .format("%Y-%m-%d")
        .to_string()
}

const VACCINES: [&str; 8] = [
    "HB0",
    "BCG",
    "Polio tetes (OPV) 1",
    "DPT-HB-Hib 1",
    "DPT-HB-Hib 4",
    "MR1",
    "PCV 1",
    "not a vaccine",
];

/// One person: `(posyandu, adult, female, age, status, facts)`; a fact is `(what, days ago,
/// a)`.
type PersonSpec = (bool, bool, bool, u16, u8, Vec<(u8, u16, u8)>);

fn build(persons: &[PersonSpec], merges: &[(u8, u8)]) -> Vec<Change> {
    let mut g = Gen {
        device: DeviceId(uuid7(T0, 0xd000)),
        author: UserId(uuid7(T0, 0xe000)),
        seq: 0,
        n: 0,
        out: Vec::new(),
        recent: false,
    };
    let mut ids: Vec<(RecordId, &str)> = Vec::new();
    let mut households = Vec::new();
    for (i, pp) in [POSYANDU, POSYANDU2].into_iter().enumerate() {
        let hh = g.id();
        g.push(
            hh,
            EntityKind::Household,
            json!({"posyandu": pp, "head_name": format!("Kepala {i}"), "dusun": "Dusun 1", "rt": "001"}),
        );
        households.push(hh);
    }
    let mut facts: Vec<RecordId> = Vec::new();
    for (k, (second, adult, female, age, status, fs)) in persons.iter().enumerate() {
        let pp = if *second { POSYANDU2 } else { POSYANDU };
        // Some persons live in a household of the other posyandu (its head is read apart).
        let hh = households[usize::from(*second ^ (k % 5 == 4))];
        let p = g.id();
        let birth = if *status % 11 == 3 {
            "unknown".to_string()
        } else if *adult {
            ago(365 * 18 + u64::from(*age) * 20)
        } else {
            ago(u64::from(*age) % 1_800)
        };
        let st = match status % 7 {
            5 => "moved",
            6 => "died",
            _ => "active",
        };
        let mut body = json!({"posyandu": pp, "household": hh.to_string(),
            "name": format!("Orang {k:02}"), "sex": if *female { "female" } else { "male" },
            "birth_date": birth, "status": st, "rt": format!("{}", k % 3)});
        if status % 13 == 4 {
            body.as_object_mut().unwrap().remove("sex");
        }
        g.recent = status % 4 == 1;
        g.push(p, EntityKind::Person, body);
        g.recent = false;
        ids.push((p, pp));
        let mut pregnancy: Option<RecordId> = None;
        for &(what, days, a) in fs {
            let date = if a % 29 == 7 {
                "2025-13-45".to_string()
            } else {
                ago(u64::from(days) % 700)
            };
            let base = json!({"posyandu": pp, "person": p.to_string(), "date": date,
                "unit": "kg", "note": {"free": ["text", a]}});
            let mut b = base.as_object().cloned().unwrap();
            let kind = match what % 12 {
                0 | 1 => {
                    b.insert("type".into(), json!("weight"));
                    b.insert(
                        "value".into(),
                        json!(if *adult { 50.0 } else { 3.0 } + f64::from(a) / 10.0),
                    );
                    if a % 5 == 0 {
                        b.insert("oedema".into(), json!(true));
                    }
                    EntityKind::Measurement
                }
                2 => {
                    b.insert("type".into(), json!("length_height"));
                    b.insert("value".into(), json!(50.0 + f64::from(a) / 4.0));
                    b.insert(
                        "position".into(),
                        json!(if a % 2 == 0 { "lying" } else { "standing" }),
                    );
                    EntityKind::Measurement
                }
                3 => {
                    b.insert(
                        "type".into(),
                        json!(["head", "muac", "waist"][usize::from(a % 3)]),
                    );
                    b.insert("value".into(), json!(12.0 + f64::from(a) / 10.0));
                    EntityKind::Measurement
                }
                4 | 5 => {
                    b.insert(
                        "vaccine".into(),
                        json!(VACCINES[usize::from(a) % VACCINES.len()]),
                    );
                    EntityKind::Immunisation
                }
                6 => {
                    b.insert(
                        "type".into(),
                        json!(if a % 3 == 0 { "home" } else { "posyandu" }),
                    );
                    EntityKind::Visit
                }
                7 => {
                    b.insert("supplement".into(), json!("vitamin_a"));
                    EntityKind::Supplement
                }
                8 => {
                    b.insert("text".into(), json!("catatan"));
                    EntityKind::Note
                }
                9 => {
                    // A pregnancy (a woman's), or a delivery of the one she has.
                    match pregnancy {
                        Some(pg) if a % 2 == 0 => {
                            g.push(
                                pg,
                                EntityKind::Pregnancy,
                                json!({"status": "ended", "delivery_date": ago(u64::from(days) % 60)}),
                            );
                        }
                        _ => {
                            let pg = g.id();
                            g.push(
                                pg,
                                EntityKind::Pregnancy,
                                json!({"posyandu": pp, "person": p.to_string(),
                                    "hpht": ago(20 + u64::from(days) % 250), "status": "ongoing"}),
                            );
                            pregnancy = Some(pg);
                        }
                    }
                    continue;
                }
                10 => {
                    b.insert(
                        "pregnancy".into(),
                        json!(pregnancy.map(|x| x.to_string()).unwrap_or_default()),
                    );
                    EntityKind::AncContact
                }
                _ => {
                    b.insert(
                        "instrument".into(),
                        json!(if a % 4 == 0 { "phq" } else { "danger_signs" }),
                    );
                    b.insert(
                        "answers".into(),
                        json!({"bleeding": a % 2 == 0, "fever": a % 3 == 0, "x": "y"}),
                    );
                    EntityKind::Screening
                }
            };
            let f = g.id();
            g.push(f, kind, Value::Object(b.clone()));
            facts.push(f);
            // Some facts are corrected, some retracted.
            if a % 6 == 1 {
                let c = g.id();
                let mut cb: Body = b;
                if let Some(v) = cb.get("value").and_then(Value::as_f64) {
                    cb.insert("value".into(), json!(v + 0.5));
                }
                g.push(c, kind, Value::Object(cb));
                if let Some(last) = g.out.last_mut() {
                    last.supersedes = Some(f);
                }
            } else if a % 6 == 2 && a % 4 == 0 {
                g.seq += 1;
                let mut t = g.out.last().cloned().unwrap();
                t.seq = g.seq;
                t.hlc.wall_ms += 1_000;
                t.tombstone = true;
                t.body = Body::new();
                g.out.push(t);
            }
        }
    }
    for &(kept, merged) in merges {
        if ids.is_empty() {
            break;
        }
        let (k, pp) = ids[usize::from(kept) % ids.len()];
        let (m, _) = ids[usize::from(merged) % ids.len()];
        if k == m {
            continue;
        }
        let f = g.id();
        g.push(
            f,
            EntityKind::PersonMerge,
            json!({"posyandu": pp, "kept": k.to_string(), "merged": m.to_string(), "date": ago(3)}),
        );
    }
    g.out
}

fn person_spec() -> impl Strategy<Value = PersonSpec> {
    (
        any::<bool>(),
        any::<bool>(),
        any::<bool>(),
        any::<u16>(),
        any::<u8>(),
        prop::collection::vec((any::<u8>(), any::<u16>(), any::<u8>()), 0..14),
    )
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(16),
        ..ProptestConfig::default()
    })]

    #[test]
    fn due_read_matches_the_full_read(
        persons in prop::collection::vec(person_spec(), 1..14),
        merges in prop::collection::vec((any::<u8>(), any::<u8>()), 0..3),
        desa in any::<bool>(),
    ) {
        let mut f = fixture_with_role("bidan");
        let changes = build(&persons, &merges);
        f.store.apply_pulled(&changes, None, None).unwrap();
        let (level, place) = if desa {
            (PlaceLevel::Desa, "53.04.05.2001")
        } else {
            (PlaceLevel::Posyandu, POSYANDU)
        };
        f.store.set_scope(&Scope { level, place: place.into() }).unwrap();
        let rules = RuleOptions::default();
        let new = f.store.due_tasks_in_scope(&rules).unwrap();
        let old = f.store.due_tasks_in_scope_reference(&rules).unwrap();
        prop_assert_eq!(&new, &old);
        // What the triggers kept is what a fill from `facts` gives.
        let kept = due_facts_rows(f.store.connection());
        field_core::testing::refill_due_facts(&f.store).unwrap();
        prop_assert_eq!(kept, due_facts_rows(f.store.connection()));
        let mut streamed = Vec::new();
        f.store.for_each_due_in_scope(&rules, |t| { streamed.push(t); Ok(()) }).unwrap();
        prop_assert_eq!(&streamed, &old);
        // The per-posyandu form agrees with its share of the scope's list.
        let one = f.store.due_tasks(POSYANDU, &rules).unwrap();
        let share: Vec<_> = old.iter().filter(|t| t.person.posyandu.as_deref() == Some(POSYANDU)).cloned().collect();
        prop_assert_eq!(one, share);
    }
}

/// A fixed store of the generator (persons with tasks, problems, corrections, retractions
/// and merges), its scope the desa.
fn generated_store() -> Fixture {
    let spec: Vec<PersonSpec> = (0..12u8)
        .map(|k| {
            (
                k % 2 == 0,
                k % 3 == 0,
                k % 2 == 1,
                u16::from(k) * 97,
                k,
                (0..12u8)
                    .map(|w| (w, u16::from(w) * 23 + u16::from(k), w.wrapping_mul(7) ^ k))
                    .collect(),
            )
        })
        .collect();
    let mut f = fixture_with_role("bidan");
    f.store
        .apply_pulled(&build(&spec, &[(0, 1), (1, 2)]), None, None)
        .unwrap();
    f.store
        .set_scope(&Scope {
            level: PlaceLevel::Desa,
            place: "53.04.05.2001".into(),
        })
        .unwrap();
    f
}

/// The trigger-kept `due_facts` of version 6.
fn triggers(conn: &rusqlite::Connection) -> Vec<String> {
    let mut stmt = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name")
        .unwrap();
    stmt.query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// A store of the version before `due_facts` (migration V6), holding data, is upgraded at
/// its unlock through V6 (the table filled, its triggers made) and V7 (the triggers dropped,
/// the rows kept): the table is what the code wrote, and the due lists give the same answer
/// as before the upgrade and as the reference read.
#[test]
fn upgrading_a_store_fills_due_facts() {
    let f = generated_store();
    let rules = RuleOptions::default();
    let before = f.store.due_tasks_in_scope(&rules).unwrap();
    let rows = due_facts_rows(f.store.connection());
    assert!(rows.len() > 50, "{}", rows.len());
    let latest = field_core::migrations::latest();
    assert_eq!(latest, 9);
    // The schema of version 5: V6 adds only the table (and its triggers, which V7 dropped),
    // V8 only `bulk_edits`, V9 only `device_state.sent_through`.
    f.store
        .connection()
        .execute_batch(
            "DROP TABLE due_facts; DROP TABLE bulk_edits;
                 ALTER TABLE device_state DROP COLUMN sent_through; PRAGMA user_version = 5",
        )
        .unwrap();
    let Fixture {
        dir,
        path,
        clock,
        store,
    } = f;
    drop(store);
    let store = reopen(&path, &clock);
    assert_eq!(
        field_core::migrations::current_version(store.connection()).unwrap(),
        latest
    );
    assert!(triggers(store.connection()).is_empty());
    assert_eq!(due_facts_rows(store.connection()), rows);
    let after = store.due_tasks_in_scope(&rules).unwrap();
    assert_eq!(after, before);
    assert_eq!(after, store.due_tasks_in_scope_reference(&rules).unwrap());
    drop(dir);
}

/// A store of version 6 (the rows kept by its triggers) is upgraded to V7: the triggers go,
/// the rows stay, including one only a trigger wrote; a bulk first sync cut under V6 (its
/// triggers kept in `deferred_indexes`) is finished at the unlock and no trigger comes back.
/// Writes after the upgrade keep the table equal to a fill.
#[test]
fn upgrading_from_version_6_drops_the_triggers_and_keeps_the_rows() {
    for cut in [false, true] {
        let f = generated_store();
        let c = f.store.connection();
        // Back to version 6: its triggers, as V6 made them (and no `bulk_edits`, V8's: a
        // bulk cut under V6 is finished before the migrations, without it; nor V9's mark).
        c.execute_batch(&format!(
            "DROP TABLE due_facts; DROP TABLE bulk_edits;
             ALTER TABLE device_state DROP COLUMN sent_through;
             PRAGMA user_version = 5; {} PRAGMA user_version = 6;",
            field_core::migrations::MIGRATIONS[5]
        ))
        .unwrap();
        assert_eq!(triggers(c).len(), 3);
        if cut {
            // A bulk first sync under way: its triggers dropped, kept with the indexes.
            c.execute_batch(
                "INSERT INTO deferred_indexes (name, sql)
                     SELECT name, sql FROM sqlite_master WHERE type = 'trigger';
                 DROP TRIGGER due_facts_insert; DROP TRIGGER due_facts_update;
                 DROP TRIGGER due_facts_delete;",
            )
            .unwrap();
        }
        // A fact written under version 6: its row by its trigger, none while cut.
        c.execute_batch(&format!(
            "INSERT INTO records (id, kind) VALUES ('v6-fact', 'immunisation');
             INSERT INTO facts (id, kind, posyandu, person, date, body_json, made_hlc,
                 made_device, author)
             VALUES ('v6-fact', 'immunisation', '{POSYANDU}', 'v6-person', '2025-11-01',
                 '{{\"vaccine\":\"BCG\"}}', '0000000000000001', 'd', 'a');"
        ))
        .unwrap();
        let rows = due_facts_rows(c);
        assert!(rows.iter().any(|r| r.contains("|v6-fact|")) != cut, "{cut}");
        let Fixture {
            dir,
            path,
            clock,
            store,
        } = f;
        drop(store);
        let mut store = reopen(&path, &clock);
        let c = store.connection();
        assert_eq!(
            field_core::migrations::current_version(c).unwrap(),
            field_core::migrations::latest()
        );
        assert!(triggers(c).is_empty(), "{cut}");
        let left: i64 = c
            .query_row("SELECT count(*) FROM deferred_indexes", [], |r| r.get(0))
            .unwrap();
        assert_eq!(left, 0);
        let kept = due_facts_rows(c);
        assert!(kept.iter().any(|r| r.contains("|v6-fact|")), "{cut}");
        if !cut {
            assert_eq!(kept, rows);
        }
        field_core::testing::refill_due_facts(&store).unwrap();
        assert_eq!(due_facts_rows(store.connection()), kept);
        // A write under V7: the code writes the row.
        let spec: Vec<PersonSpec> = vec![(false, false, true, 40, 1, vec![(1, 3, 2), (2, 5, 9)])];
        let mut more = build(&spec, &[]);
        for ch in &mut more {
            // Ids of their own (the generator's restart at the same numbers).
            ch.device = DeviceId(uuid7(T0, 0xd001));
        }
        let renamed: std::collections::HashMap<RecordId, RecordId> = more
            .iter()
            .map(|ch| (ch.id, RecordId(uuid7(T0 - 400 * DAY, 0x9000 + ch.seq))))
            .collect();
        let text: Vec<(String, String)> = renamed
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        for ch in &mut more {
            ch.id = renamed[&ch.id];
            ch.supersedes = ch.supersedes.map(|s| renamed.get(&s).copied().unwrap_or(s));
            for v in ch.body.values_mut() {
                if let Value::String(s) = v
                    && let Some((_, b)) = text.iter().find(|(a, _)| a == s)
                {
                    *s = b.clone();
                }
            }
        }
        store.apply_pulled(&more, None, None).unwrap();
        let now = due_facts_rows(store.connection());
        assert!(now.len() > kept.len(), "{} {}", now.len(), kept.len());
        field_core::testing::refill_due_facts(&store).unwrap();
        assert_eq!(due_facts_rows(store.connection()), now);
        drop(dir);
    }
}

/// The generator reaches what the property is about: persons with tasks, problems, and
/// bodies the due read cuts down.
#[test]
fn the_generated_store_has_tasks_and_problems() {
    let f = generated_store();
    let rules = RuleOptions::default();
    let new = f.store.due_tasks_in_scope(&rules).unwrap();
    assert_eq!(new, f.store.due_tasks_in_scope_reference(&rules).unwrap());
    assert!(new.len() >= 4, "{}", new.len());
    assert!(new.iter().any(|t| !t.problems.is_empty()));
    assert!(new.iter().any(|t| !t.person.values.is_empty()));
    let kinds: std::collections::BTreeSet<String> = new
        .iter()
        .flat_map(|t| &t.tasks)
        .map(|t| format!("{:?}", t.task.kind))
        .collect();
    assert!(kinds.len() >= 3, "{kinds:?}");
}
