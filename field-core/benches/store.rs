//! Benchmark on the encrypted database with 50,000 persons and 500,000 facts.
//!
//! Run: `CARGO_TARGET_DIR=/work/target-field cargo bench -p field-core --bench store`
//! Only some parts: name them after `--`, e.g. `cargo bench -p field-core --bench store -- due`
//! (parts: `open`, `save`, `search`, `household`, `apply`, `limit`, `due`, `growth`).
//!
//! The database is built once (by applying pulled pages, as a tablet receiving its area's
//! data would) and cached under `<target>/field-core-bench/`; each run works on a copy.
//! Reports p50/p95/max of: open and unlock (real Argon2id tablet parameters), saving a
//! measurement with its outbox entry, name search, a household with every member's timeline;
//! the time to apply 100,000 pulled changes, and the limit it is compared with (`limit`: plain
//! prepared INSERTs of the same kind of rows into the same database in one transaction);
//! today's due tasks of a whole scope (a kader's posyandu, a bidan's desa, a kecamatan: all
//! 50,000 persons); and the peak resident memory (VmHWM). `growth` builds databases of
//! 10,000, 50,000, 130,000 and 500,000 records and measures apply, a save, a search, a
//! household and the due lists at each size.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use field_core::keyring::KdfParams;
use field_core::store::PageHmac;
use field_core::{LocalUser, MeasurementInput, OpenOptions, Place, RuleOptions, Store};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use sync_protocol::sample::SampleRng;
use sync_protocol::{Body, Change, DeviceId, EntityKind, Hlc, PlaceLevel, RecordId, Scope, UserId};

const PERSONS: u64 = 50_000;
const FACTS_PER_PERSON: u64 = 10;
const PAGE: usize = 2_000;
const NOW_MS: u64 = 1_763_776_800_000; // 2025-11-22 10:00 WITA
const CACHE_VERSION: &str = "v2";
/// The bench's posyandu codes: `53.04.05.{2001..=2020}.P{01..=07}` (see `Gen::household`).
const DESA: u64 = 20;
const POSYANDU_PER_DESA: u64 = 7;

const FIRST: &[&str] = &[
    "Yohanes",
    "Maria",
    "Fransiskus",
    "Agustina",
    "Petrus",
    "Kristina",
    "Yosef",
    "Theresia",
    "Paulus",
    "Elisabeth",
    "Antonius",
    "Margaretha",
    "Dominikus",
    "Veronika",
    "Aloysius",
    "Yuliana",
    "Benediktus",
    "Florentina",
    "Siti",
    "Ahmad",
    "Marselina",
    "Yakobus",
    "Anastasia",
    "Gabriel",
    "Imelda",
    "Kornelis",
    "Rosalia",
    "Stefanus",
    "Wilhelmina",
    "Zakarias",
];
const LAST: &[&str] = &[
    "Bria", "Mau", "Bere", "Luruk", "Hale", "Seran", "Tae", "Klau", "Asa", "Nahak", "Atok", "Bau",
    "Leki", "Fahik", "Manek", "Taek", "Loe", "Kehi", "Besin", "Mali", "Nahak", "Tefa", "Ulu",
    "Berek", "Lelo",
];

/// The number after `key` on its line of a `/proc` file (`VmHWM:` of `/proc/self/status`,
/// `rchar:` of `/proc/self/io`); 0 where there is none.
fn proc_number(file: &str, key: &str) -> u64 {
    std::fs::read_to_string(file)
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}

/// Peak resident memory of this process, in KiB.
fn vm_hwm_kb() -> u64 {
    proc_number("/proc/self/status", "VmHWM:")
}

/// Resets the peak resident memory to the current one (`5` into `/proc/self/clear_refs`):
/// the unlock's Argon2id (`KdfParams::TABLET`, 64 MiB since 2026-12-05) sets a peak of its own
/// that says nothing of the store. Returns the peak before the reset, in KiB.
fn reset_peak_kb() -> u64 {
    let before = vm_hwm_kb();
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    before
}

/// CPU time of this process so far (user + system, from `/proc/self/stat`): on a machine
/// shared with builds, the wall clock also counts waiting for a core.
fn cpu_time() -> Duration {
    let ticks = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let rest = s.rsplit_once(')')?.1.split_whitespace().collect::<Vec<_>>();
            // Fields 14 and 15 (utime, stime) are the 12th and 13th after the name.
            Some(rest.get(11)?.parse::<u64>().ok()? + rest.get(12)?.parse::<u64>().ok()?)
        })
        .unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

/// Bytes this process has read from files so far (`rchar` of `/proc/self/io`): in a due list,
/// the pages SQLite did not find in its cache, each of which SQLCipher decrypts.
fn read_bytes() -> u64 {
    proc_number("/proc/self/io", "rchar:")
}

/// Sets the store's page cache to `FIELD_CORE_BENCH_CACHE_MIB`, if given (an experiment).
fn set_cache_mib(store: &Store) {
    if let Some(mib) = cache_mib() {
        store
            .connection()
            .execute_batch(&format!("PRAGMA cache_size = -{}", mib * 1024))
            .unwrap();
        eprintln!("page cache set to {mib} MiB");
    }
}

/// `FIELD_CORE_BENCH_CACHE_MIB`: an experiment with another page cache than the store's.
fn cache_mib() -> Option<i64> {
    std::env::var("FIELD_CORE_BENCH_CACHE_MIB")
        .ok()
        .and_then(|v| v.parse::<i64>().ok())
}

fn bench_dir() -> PathBuf {
    if let Ok(d) = std::env::var("FIELD_CORE_BENCH_DIR") {
        return PathBuf::from(d);
    }
    // <target>/release/deps/store-xxxx
    let exe = std::env::current_exe().unwrap();
    let target = exe
        .ancestors()
        .nth(3)
        .unwrap_or(Path::new("."))
        .to_path_buf();
    target.join("field-core-bench")
}

fn user() -> LocalUser {
    LocalUser {
        user_id: "019aaaac-2600-7000-8000-00000000beef".parse().unwrap(),
        username: "maria".into(),
        display_name: "Kader Maria".into(),
        role: "kader".into(),
    }
}

/// `FIELD_CORE_BENCH_PAGE_SIZE`: the page size of the stores the bench makes (the store's
/// `NEW_STORE_PAGE_SIZE` when unset; 4096 is that of stores made before issue 19's fourth pass).
fn page_size() -> u32 {
    std::env::var("FIELD_CORE_BENCH_PAGE_SIZE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(field_core::store::NEW_STORE_PAGE_SIZE)
}

/// `FIELD_CORE_BENCH_HMAC=sha512`: the page MAC of the stores the bench makes (the store's
/// `NEW_STORE_HMAC`, HMAC-SHA256, when unset; HMAC-SHA512 is that of stores made before issue
/// 19's fifth pass).
fn page_hmac() -> PageHmac {
    match std::env::var("FIELD_CORE_BENCH_HMAC").as_deref() {
        Ok("sha512") => PageHmac::Sha512,
        Ok("sha256") => PageHmac::Sha256,
        _ => field_core::store::NEW_STORE_HMAC,
    }
}

fn opts() -> OpenOptions {
    OpenOptions::default()
        .with_clock(std::sync::Arc::new(field_core::ManualClock::new(NOW_MS)))
        .with_kdf(KdfParams::TABLET)
        .with_page_size(page_size())
        .with_page_hmac(page_hmac())
}

struct Gen {
    rng: SampleRng,
    device: DeviceId,
    author: UserId,
    seq: u64,
    ms: u64,
}

impl Gen {
    fn change(&mut self, id: RecordId, kind: EntityKind, body: serde_json::Value) -> Change {
        self.seq += 1;
        self.ms += 1 + self.rng.below(3);
        Change {
            id,
            kind,
            device: self.device,
            seq: self.seq,
            hlc: Hlc {
                wall_ms: self.ms,
                counter: 0,
            },
            author: self.author,
            schema: 1,
            tombstone: false,
            supersedes: None,
            base: Default::default(),
            body: body.as_object().cloned().unwrap_or_default(),
        }
    }

    fn id(&mut self) -> RecordId {
        let ms = self.ms;
        RecordId(self.rng.uuid7(ms))
    }

    /// A household of four: its record, the persons, and ten facts each.
    fn household(&mut self, n: u64, out: &mut Vec<Change>) -> Vec<RecordId> {
        let posyandu = format!(
            "53.04.05.{:04}.P{:02}",
            2001 + n % DESA,
            1 + n % POSYANDU_PER_DESA
        );
        let hh = self.id();
        let last = LAST[self.rng.below(LAST.len() as u64) as usize];
        let head = format!(
            "{} {last}",
            FIRST[self.rng.below(FIRST.len() as u64) as usize]
        );
        out.push(self.change(
            hh,
            EntityKind::Household,
            json!({"posyandu": posyandu, "head_name": head, "dusun": format!("Dusun {}", n % 9), "rt": format!("{:03}", n % 17)}),
        ));
        let mut persons = Vec::new();
        for k in 0..4u64 {
            let p = self.id();
            persons.push(p);
            let first = FIRST[self.rng.below(FIRST.len() as u64) as usize];
            let middle = FIRST[self.rng.below(FIRST.len() as u64) as usize];
            let child = k >= 2;
            let year = if child {
                2021 + self.rng.below(4)
            } else {
                1960 + self.rng.below(45)
            };
            let birth = format!(
                "{year}-{:02}-{:02}",
                1 + self.rng.below(12),
                1 + self.rng.below(28)
            );
            let sex = if k == 1 || (child && self.rng.below(2) == 0) {
                "female"
            } else {
                "male"
            };
            let mut body = json!({"posyandu": posyandu, "household": hh.to_string(),
                "name": format!("{first} {middle} {last}"), "sex": sex, "birth_date": birth, "status": "active"});
            if child {
                body["mother"] = json!(persons[1].to_string());
            }
            out.push(self.change(p, EntityKind::Person, body));
            for j in 0..FACTS_PER_PERSON {
                let date = format!("2024-{:02}-{:02}", 1 + (j % 12), 1 + self.rng.below(28));
                let f = self.id();
                let body = match j % 5 {
                    0 => {
                        json!({"posyandu": posyandu, "person": p.to_string(), "type": "posyandu", "date": date})
                    }
                    1 => {
                        json!({"posyandu": posyandu, "person": p.to_string(), "type": "weight", "value": if child { 8.0 + self.rng.below(80) as f64 / 10.0 } else { 45.0 + self.rng.below(300) as f64 / 10.0 }, "unit": "kg", "date": date})
                    }
                    2 => {
                        json!({"posyandu": posyandu, "person": p.to_string(), "type": "length_height", "value": if child { 70.0 + self.rng.below(300) as f64 / 10.0 } else { 150.0 + self.rng.below(300) as f64 / 10.0 }, "unit": "cm", "position": "standing", "date": date})
                    }
                    3 => {
                        json!({"posyandu": posyandu, "person": p.to_string(), "vaccine": "MR1", "date": date})
                    }
                    _ => {
                        json!({"posyandu": posyandu, "person": p.to_string(), "supplement": "vitamin_a", "date": date})
                    }
                };
                let kind = match j % 5 {
                    0 => EntityKind::Visit,
                    1 | 2 => EntityKind::Measurement,
                    3 => EntityKind::Immunisation,
                    _ => EntityKind::Supplement,
                };
                out.push(self.change(f, kind, body));
            }
        }
        persons
    }
}

fn pct(mut v: Vec<Duration>) -> String {
    v.sort();
    let at = |p: f64| v[((v.len() as f64 - 1.0) * p).round() as usize];
    format!(
        "n={} p50={:.3} ms p95={:.3} ms max={:.3} ms",
        v.len(),
        at(0.5).as_secs_f64() * 1e3,
        at(0.95).as_secs_f64() * 1e3,
        at(1.0).as_secs_f64() * 1e3
    )
}

fn build(path: &Path) -> Vec<RecordId> {
    let t = Instant::now();
    let mut store = Store::create(path, DeviceId::new_v7(), &user(), "246810", opts()).unwrap();
    let mut gn = data_gen();
    let mut households = Vec::new();
    let mut page = Vec::with_capacity(PAGE + 64);
    for n in 0..PERSONS / 4 {
        gn.household(n, &mut page);
        if let Some(Change { id, .. }) = page.iter().rev().find(|c| c.kind == EntityKind::Household)
        {
            households.push(*id);
        }
        if page.len() >= PAGE {
            store
                .apply_pulled(&page, Some(&format!("build-{n}")), None)
                .unwrap();
            page.clear();
        }
    }
    if !page.is_empty() {
        store.apply_pulled(&page, Some("build-end"), None).unwrap();
    }
    let facts: i64 = store
        .connection()
        .query_row("SELECT count(*) FROM facts", [], |r| r.get(0))
        .unwrap();
    let persons: i64 = store
        .connection()
        .query_row("SELECT count(*) FROM persons", [], |r| r.get(0))
        .unwrap();
    settle_built(&store);
    eprintln!(
        "built {persons} persons, {facts} facts in {:.1} s",
        t.elapsed().as_secs_f64()
    );
    households
}

fn copy_db(from: &Path, to: &Path) {
    for suffix in ["", ".keyring.json"] {
        let mut a = from.as_os_str().to_owned();
        a.push(suffix);
        let mut b = to.as_os_str().to_owned();
        b.push(suffix);
        std::fs::copy(a, b).unwrap();
    }
    for suffix in ["-wal", "-shm"] {
        let mut b = to.as_os_str().to_owned();
        b.push(suffix);
        let _ = std::fs::remove_file(b);
    }
}

/// The kabupaten, kecamatan, desa and posyandu of the bench's data.
fn places() -> Vec<Place> {
    let place = |code: String, level, parent: Option<String>| Place {
        name: code.clone(),
        code,
        level,
        parent,
    };
    let mut out = vec![
        place("53.04".into(), PlaceLevel::Kabupaten, None),
        place(
            "53.04.05".into(),
            PlaceLevel::Kecamatan,
            Some("53.04".into()),
        ),
    ];
    for d in 0..DESA {
        let desa = format!("53.04.05.{:04}", 2001 + d);
        out.push(place(
            desa.clone(),
            PlaceLevel::Desa,
            Some("53.04.05".into()),
        ));
        for p in 0..POSYANDU_PER_DESA {
            out.push(place(
                format!("{desa}.P{:02}", 1 + p),
                PlaceLevel::Posyandu,
                Some(desa.clone()),
            ));
        }
    }
    out
}

/// Ends the making of a cached database: its WAL folded in and its statistics gathered
/// (`ANALYZE`), so that every copy starts the same.
fn settle_built(store: &Store) {
    store
        .connection()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE); ANALYZE;")
        .unwrap();
}

/// The bench's data (the same households, persons and facts as [`build`]) in the order a
/// tablet receives it from the server, which stores what tablets push in the order they push
/// it: each posyandu's registrations together, then month by month each posyandu's day (its
/// facts of that month together). [`build`] writes each household with its persons and
/// their facts in one run, consecutive households in different posyandu; this order is for
/// `FIELD_CORE_BENCH_DUE_LAYOUT=days` (the due part only).
fn build_days(path: &Path) {
    let t = Instant::now();
    let mut store = Store::create(path, DeviceId::new_v7(), &user(), "246810", opts()).unwrap();
    let mut gn = data_gen();
    let mut all = Vec::new();
    for n in 0..PERSONS / 4 {
        gn.household(n, &mut all);
    }
    let text = |c: &Change, k: &str| {
        c.body
            .get(k)
            .and_then(serde_json::Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    // Registrations (households, persons) first by posyandu; then facts by month (the
    // date's `YYYY-MM`), then posyandu; the sort is stable (a day's facts as generated).
    all.sort_by_cached_key(|c| match c.kind {
        EntityKind::Household | EntityKind::Person => (0, String::new(), text(c, "posyandu")),
        _ => (
            1,
            text(c, "date").chars().take(7).collect(),
            text(c, "posyandu"),
        ),
    });
    // Stamped in the order received, as a device's own changes are.
    for (i, c) in all.iter_mut().enumerate() {
        c.seq = i as u64 + 1;
        c.hlc.wall_ms = NOW_MS - 400 * 86_400_000 + 2 * i as u64;
    }
    for (i, page) in all.chunks(PAGE).enumerate() {
        store
            .apply_pulled(page, Some(&format!("days-{i}")), None)
            .unwrap();
    }
    settle_built(&store);
    eprintln!(
        "built {} changes in posyandu-day order in {:.1} s",
        all.len(),
        t.elapsed().as_secs_f64()
    );
}

/// Today's due tasks of the whole scope (`Store::due_tasks_in_scope`, what the Beranda
/// shows after unlock) for a kader's posyandu, a bidan's desa and a whole kecamatan, on a
/// fresh copy of the cached database. The kecamatan is first handed out person by person
/// (`Store::for_each_due_in_scope`, the answer not held) with the peak memory after it, then
/// collected. With `FIELD_CORE_BENCH_DUE_CHECK=1` each scope's answer is first checked equal
/// to the reference read (`due_tasks_in_scope_reference`) with its CPU time a run.
fn bench_due(cached: &Path, dir: &Path) {
    let path = dir.join("due.db");
    let days = cached.with_extension("days.db");
    let cached = if std::env::var("FIELD_CORE_BENCH_DUE_LAYOUT").is_ok_and(|v| v == "days") {
        if !days.exists() {
            remove_db(&days);
            build_days(&days);
        }
        eprintln!("due lists on the posyandu-day layout ({})", days.display());
        &days
    } else {
        cached
    };
    copy_db(cached, &path);
    let mut store = Store::unlock(&path, "maria", "246810", opts()).unwrap();
    store.replace_places(&places()).unwrap();
    set_cache_mib(&store);
    let rules = RuleOptions::default();
    let check = std::env::var("FIELD_CORE_BENCH_DUE_CHECK").is_ok_and(|v| v == "1");
    // The unlock of the copy may upgrade it (a migration re-creating an index of 500,000
    // facts sorts in memory): a one-time cost of its own, printed and left out.
    eprintln!(
        "  peak memory before the due lists (the copy's unlock and upgrade included): {} KiB; reset",
        reset_peak_kb()
    );
    for (level, place, runs) in [
        (PlaceLevel::Posyandu, "53.04.05.2001.P01", 10),
        (PlaceLevel::Desa, "53.04.05.2001", 10),
        (PlaceLevel::Kecamatan, "53.04.05", 5),
    ] {
        store
            .set_scope(&Scope {
                level,
                place: place.into(),
            })
            .unwrap();
        let persons: i64 = store
            .connection()
            .query_row(
                "SELECT count(*) FROM persons WHERE posyandu = ?1 OR posyandu LIKE ?1 || '.%'",
                [place],
                |r| r.get(0),
            )
            .unwrap();
        if check {
            let cpu = cpu_time();
            let reference = store.due_tasks_in_scope_reference(&rules).unwrap();
            let cpu = cpu_time() - cpu;
            assert_eq!(store.due_tasks_in_scope(&rules).unwrap(), reference);
            println!(
                "due tasks in scope {level:?} {place}: equal to the reference read ({} persons); reference CPU {:.0} ms",
                reference.len(),
                cpu.as_secs_f64() * 1e3
            );
        }
        if level == PlaceLevel::Kecamatan {
            let mut times = Vec::new();
            let mut tasks = 0;
            let cpu = cpu_time();
            let read = read_bytes();
            for _ in 0..runs {
                let t = Instant::now();
                tasks = 0;
                store
                    .for_each_due_in_scope(&rules, |p| {
                        tasks += p.tasks.len();
                        Ok(())
                    })
                    .unwrap();
                times.push(t.elapsed());
            }
            let cpu = (cpu_time() - cpu) / runs;
            let read = (read_bytes() - read) / u64::from(runs);
            println!(
                "due tasks in scope {level:?} {place}, streamed ({tasks} tasks): {}; CPU {:.0} ms a run; {:.1} MiB of pages read a run",
                pct(times),
                cpu.as_secs_f64() * 1e3,
                read as f64 / 1048576.0
            );
            eprintln!(
                "  peak memory after the streamed kecamatan: {} KiB",
                vm_hwm_kb()
            );
        }
        let mut times = Vec::new();
        let mut tasks = 0;
        let mut people = 0;
        let cpu = cpu_time();
        let read = read_bytes();
        let mut first = None;
        for _ in 0..runs {
            let t = Instant::now();
            let due = store.due_tasks_in_scope(&rules).unwrap();
            times.push(t.elapsed());
            first.get_or_insert_with(|| (cpu_time() - cpu, read_bytes() - read));
            people = due.len();
            tasks = due.iter().map(|p| p.tasks.len()).sum::<usize>();
        }
        let cpu = (cpu_time() - cpu) / runs;
        let read = (read_bytes() - read) / u64::from(runs);
        let (first_cpu, first_read) = first.unwrap_or_default();
        println!(
            "due tasks in scope {level:?} {place} ({persons} persons; {people} with {tasks} tasks): {}; CPU {:.0} ms a run, {:.0} ms the first; {:.1} MiB of pages read a run, {:.1} MiB the first",
            pct(times),
            cpu.as_secs_f64() * 1e3,
            first_cpu.as_secs_f64() * 1e3,
            read as f64 / 1048576.0,
            first_read as f64 / 1048576.0
        );
    }
    eprintln!("  peak memory so far: {} KiB", vm_hwm_kb());
    drop(store);
    remove_db(&path);
}

fn remove_db(path: &Path) {
    for suffix in ["", "-wal", "-shm", ".keyring.json"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --benches` would pass nothing useful: skip then.
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    // Parts named on the command line (after `--`); none: all.
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let run = |part: &str| only.is_empty() || only.iter().any(|o| o == part);
    let dir = bench_dir();
    std::fs::create_dir_all(&dir).unwrap();
    // The database of stores made before the page size changed keeps the old name, and that
    // of stores made before the MAC changed (HMAC-SHA512) the name it had then.
    let tag = match (page_size(), page_hmac()) {
        (4_096, PageHmac::Sha512) => String::new(),
        (n, PageHmac::Sha512) => format!("-p{n}"),
        (n, PageHmac::Sha256) => format!("-p{n}-sha256"),
    };
    let cached = dir.join(format!("cached-{CACHE_VERSION}{tag}.db"));
    let ids_path = dir.join(format!("cached-{CACHE_VERSION}{tag}.households"));
    let households: Vec<RecordId> = if cached.exists() && ids_path.exists() {
        std::fs::read_to_string(&ids_path)
            .unwrap()
            .lines()
            .filter_map(|l| l.parse().ok())
            .collect()
    } else {
        for suffix in ["", "-wal", "-shm", ".keyring.json"] {
            let mut p = cached.as_os_str().to_owned();
            p.push(suffix);
            let _ = std::fs::remove_file(p);
        }
        let h = build(&cached);
        let text: String = h.iter().map(|id| format!("{id}\n")).collect();
        std::fs::write(&ids_path, text).unwrap();
        h
    };
    let work = dir.join("work.db");
    copy_db(&cached, &work);
    eprintln!("peak memory after setup: {} KiB", vm_hwm_kb());

    // Open and unlock with the real Argon2id parameters.
    let mut opens = Vec::new();
    for _ in 0..if run("open") { 10 } else { 0 } {
        let t = Instant::now();
        let s = Store::unlock(&work, "maria", "246810", opts()).unwrap();
        let _: i64 = s
            .connection()
            .query_row("SELECT count(*) FROM device_state", [], |r| r.get(0))
            .unwrap();
        opens.push(t.elapsed());
    }
    if run("open") {
        println!("open+unlock (argon2id m=19MiB t=2 p=1): {}", pct(opens));
        eprintln!("  peak memory so far: {} KiB", vm_hwm_kb());
    }

    let mut store = Store::unlock(&work, "maria", "246810", opts()).unwrap();
    eprintln!(
        "peak memory after unlock (Argon2id 64 MiB included): {} KiB; reset",
        reset_peak_kb()
    );
    // An experiment: another page cache than the store's (`FIELD_CORE_BENCH_CACHE_MIB`).
    set_cache_mib(&store);
    let mut rng = SampleRng::new(99);

    // Save a measurement with its outbox entry.
    let persons: Vec<RecordId> = {
        let mut stmt = store
            .connection()
            .prepare("SELECT id FROM persons WHERE birth_date >= '2021-01-01' ORDER BY random() LIMIT 1000")
            .unwrap();
        stmt.query_map([], |r| r.get::<_, String>(0))
            .unwrap()
            .map(|r| r.unwrap().parse().unwrap())
            .collect()
    };
    let mut saves = Vec::new();
    for i in 0..if run("save") { 1000 } else { 0 } {
        let p = persons[i % persons.len()];
        let m = MeasurementInput {
            kind: "weight".into(),
            value: 10.0 + rng.below(50) as f64 / 10.0,
            unit: "kg".into(),
            position: None,
            measured_by: None,
            ..Default::default()
        };
        let t = Instant::now();
        store.save_measurement(p, None, "2025-11-22", &m).unwrap();
        saves.push(t.elapsed());
    }
    if run("save") {
        println!(
            "save measurement + outbox (synchronous=FULL): {}",
            pct(saves)
        );
    }

    // Name search.
    let mut searches = Vec::new();
    let mut hits = 0;
    for _ in 0..if run("search") { 1000 } else { 0 } {
        let q = search_query(&mut rng);
        let t = Instant::now();
        hits += store.search_persons(&q, None, 20).unwrap().len();
        searches.push(t.elapsed());
    }
    if run("search") {
        println!("name search (limit 20, {hits} hits): {}", pct(searches));
        eprintln!("  peak memory so far: {} KiB", vm_hwm_kb());
    }

    // The Keluarga screen's household search, the same mix of queries (the app's limit, 100;
    // its own generator, so that the other parts' samples stay as they were).
    let mut hh_rng = SampleRng::new(101);
    let mut hh_searches = Vec::new();
    let mut hh_hits = 0;
    for _ in 0..if run("search") { 300 } else { 0 } {
        let q = search_query(&mut hh_rng);
        let t = Instant::now();
        hh_hits += store.search_households(&q, None, None, 100).unwrap().len();
        hh_searches.push(t.elapsed());
    }
    if run("search") {
        println!(
            "household search (limit 100, {hh_hits} hits): {}",
            pct(hh_searches)
        );
    }

    // A household with its members' timelines.
    let mut reads = Vec::new();
    for _ in 0..if run("household") { 300 } else { 0 } {
        let h = households[rng.below(households.len() as u64) as usize];
        let t = Instant::now();
        let view = store.household(h).unwrap();
        let mut entries = 0;
        for m in &view.members {
            entries += store.person_timeline(m.id).unwrap().entries.len();
        }
        reads.push(t.elapsed());
        assert!(entries >= 40, "{entries}");
    }
    if run("household") {
        println!("household + 4 timelines: {}", pct(reads));
        eprintln!("  peak memory so far: {} KiB", vm_hwm_kb());
    }

    let apply_rate = run("apply").then(|| bench_apply(&mut store, &persons));
    println!(
        "peak memory (VmHWM) since the unlock: {:.1} MiB",
        vm_hwm_kb() as f64 / 1024.0
    );
    // The limit last: it holds its 100,000 rows in memory (not part of the peak above).
    if run("limit") {
        let limit = bench_limit(&store);
        if let Some(rate) = apply_rate {
            println!(
                "apply against the limit: {:.2}x slower ({rate:.0}/s against {limit:.0}/s)",
                limit / rate
            );
        }
    }
    drop(store);
    remove_db(&work);

    // Due tasks last, on their own copy: the peak memory above is without them.
    if run("due") {
        bench_due(&cached, &dir);
    }
    if run("growth") {
        bench_growth(&dir);
    }
}

/// Apply 100,000 pulled changes (pages of 1,000, one transaction each), then 1,000 edits of
/// existing persons, merged per field.
fn bench_apply(store: &mut Store, persons: &[RecordId]) -> f64 {
    let mut gn = Gen {
        rng: SampleRng::new(7),
        device: "019aaaac-2600-7000-8000-00000000d002".parse().unwrap(),
        author: UserId::new_v7(),
        seq: 0,
        ms: NOW_MS - 10 * 86_400_000,
    };
    let mut total = Duration::ZERO;
    let mut cpu = Duration::ZERO;
    let mut applied = 0;
    let mut n = 0u64;
    let mut page: Vec<Change> = Vec::with_capacity(1_100);
    let mut pending: Vec<Change> = Vec::new();
    while applied < 100_000 {
        while pending.len() < 1_000 {
            gn.household(1_000_000 + n, &mut pending);
            n += 1;
        }
        let take = 1_000.min(100_000 - applied);
        page.clear();
        page.extend(pending.drain(..take));
        let t = Instant::now();
        let c = cpu_time();
        let r = store
            .apply_pulled(&page, Some(&format!("c{applied}")), None)
            .unwrap();
        total += t.elapsed();
        cpu += cpu_time() - c;
        applied += r.applied;
    }
    // Plus edits to existing persons, merged per field.
    let mut edits = Vec::new();
    for (i, p) in persons.iter().take(1000).enumerate() {
        let mut body = Body::new();
        body.insert("phone".into(), json!(format!("0812{i:06}")));
        edits.push(gn.change(*p, EntityKind::Person, serde_json::Value::Object(body)));
    }
    let t = Instant::now();
    store.apply_pulled(&edits, Some("edits"), None).unwrap();
    let edit_time = t.elapsed();
    println!(
        "apply 100,000 pulled changes: {:.2} s ({:.0}/s; CPU {:.2} s); 1,000 person edits merged: {:.3} s",
        total.as_secs_f64(),
        100_000.0 / total.as_secs_f64(),
        cpu.as_secs_f64(),
        edit_time.as_secs_f64()
    );
    100_000.0 / total.as_secs_f64()
}

/// The rows applying a change of `Gen` writes, ready to insert: what the limit inserts.
enum LimitRows {
    Fact {
        id: String,
        kind: &'static str,
        cols: [Option<String>; 7],
        body: String,
        hlc: String,
        device: String,
        author: String,
    },
    Mutable {
        id: String,
        kind: EntityKind,
        edits: Vec<(String, String)>,
        hlc: String,
        device: String,
        author: String,
        /// The read table's columns (households: posyandu, kk_number, head_name, dusun, rt,
        /// rw; persons: posyandu, household, name, name_key, sex, birth_date, nik, mother,
        /// status) and the values as JSON.
        cols: Vec<Option<String>>,
        json: String,
    },
}

fn limit_rows(c: &Change) -> LimitRows {
    let s = |f: &str| c.body.get(f).and_then(|v| v.as_str()).map(str::to_string);
    let (id, hlc, device, author) = (
        c.id.to_string(),
        c.hlc.to_string(),
        c.device.to_string(),
        c.author.to_string(),
    );
    match c.kind {
        EntityKind::Household | EntityKind::Person => LimitRows::Mutable {
            id,
            kind: c.kind,
            edits: c
                .body
                .iter()
                .map(|(k, v)| (k.clone(), serde_json::to_string(v).unwrap()))
                .collect(),
            hlc,
            device,
            author,
            cols: if c.kind == EntityKind::Household {
                ["posyandu", "kk_number", "head_name", "dusun", "rt", "rw"]
                    .iter()
                    .map(|f| s(f))
                    .collect()
            } else {
                vec![
                    s("posyandu"),
                    s("household"),
                    s("name"),
                    s("name").map(|n| field_core::names::name_key(&n)),
                    s("sex"),
                    s("birth_date"),
                    s("nik"),
                    s("mother"),
                    Some(s("status").unwrap_or_else(|| "active".into())),
                ]
            },
            json: serde_json::to_string(&c.body).unwrap(),
        },
        kind => LimitRows::Fact {
            id,
            kind: kind.as_str(),
            cols: [
                Some(s("posyandu").unwrap_or_default()),
                s("person"),
                s("household"),
                s("visit"),
                s("session"),
                None,
                Some(s("date").unwrap()),
            ],
            body: serde_json::to_string(&c.body).unwrap(),
            hlc,
            device,
            author,
        },
    }
}

/// The limit: plain prepared INSERTs of the rows that applying the same kind of 100,000
/// pulled changes writes (records, facts, field edits, the read tables, the name index), into
/// the same encrypted database, in one transaction. No merge, no lookups, no JSON work (the
/// rows are made before the clock starts); the schema's indexes and foreign keys as they are.
/// Returns the rate (rows of changes per second).
fn bench_limit(store: &Store) -> f64 {
    let mut gn = Gen {
        rng: SampleRng::new(8),
        device: "019aaaac-2600-7000-8000-00000000d003".parse().unwrap(),
        author: UserId::new_v7(),
        seq: 0,
        ms: NOW_MS - 9 * 86_400_000,
    };
    let mut changes = Vec::with_capacity(100_100);
    let mut n = 0u64;
    while changes.len() < 100_000 {
        gn.household(2_000_000 + n, &mut changes);
        n += 1;
    }
    changes.truncate(100_000);
    let rows: Vec<LimitRows> = changes.iter().map(limit_rows).collect();
    drop(changes);
    let (took, cpu) = insert_limit_rows(store, &rows);
    let rate = rows.len() as f64 / took.as_secs_f64();
    println!(
        "limit: plain prepared INSERTs of the rows of 100,000 such changes, one transaction: {:.2} s ({rate:.0}/s; CPU {:.2} s)",
        took.as_secs_f64(),
        cpu.as_secs_f64()
    );
    rate
}

/// Inserts the rows with plain prepared statements in one transaction; wall and CPU time.
fn insert_limit_rows(store: &Store, rows: &[LimitRows]) -> (Duration, Duration) {
    let conn = store.connection();
    // `FIELD_CORE_BENCH_LIMIT_FK=off`: without SQLite's foreign-key checks, as pulled pages
    // are applied since issue 19's sixth pass.
    if std::env::var("FIELD_CORE_BENCH_LIMIT_FK").is_ok_and(|v| v == "off") {
        conn.execute_batch("PRAGMA foreign_keys = OFF").unwrap();
    }
    let t = Instant::now();
    let cpu = cpu_time();
    let tx = conn.unchecked_transaction().unwrap();
    {
        let mut rec = tx
            .prepare("INSERT INTO records (id, kind) VALUES (?1, ?2)")
            .unwrap();
        let mut fact = tx
            .prepare(
                "INSERT INTO facts (id, kind, posyandu, person, household, visit, session, subject,
                     date, body_json, made_hlc, made_device, author, supersedes, deleted)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, NULL, 0)",
            )
            .unwrap();
        let mut edit = tx
            .prepare(
                "INSERT INTO field_edits (record_id, field, value_json, hlc, device, author, base)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL)",
            )
            .unwrap();
        let mut household = tx
            .prepare(
                "INSERT INTO households (id, posyandu, kk_number, head_name, dusun, rt, rw,
                     deleted, values_json, updated_hlc)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8, ?9)",
            )
            .unwrap();
        let mut person = tx
            .prepare(
                "INSERT INTO persons (id, posyandu, household, name, name_key, sex, birth_date,
                     birth_date_estimated, nik, mother, status, deleted, values_json, updated_hlc)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8, ?9, ?10, 0, ?11, ?12)",
            )
            .unwrap();
        let mut fts = tx
            .prepare("INSERT INTO person_fts (rowid, name, name_key) VALUES (?1, ?2, ?3)")
            .unwrap();
        for r in rows {
            match r {
                LimitRows::Fact {
                    id,
                    kind,
                    cols,
                    body,
                    hlc,
                    device,
                    author,
                } => {
                    rec.execute(rusqlite::params![id, kind]).unwrap();
                    fact.execute(rusqlite::params![
                        id, kind, cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], cols[6],
                        body, hlc, device, author
                    ])
                    .unwrap();
                }
                LimitRows::Mutable {
                    id,
                    kind,
                    edits,
                    hlc,
                    device,
                    author,
                    cols,
                    json,
                } => {
                    rec.execute(rusqlite::params![id, kind.as_str()]).unwrap();
                    for (field, value) in edits {
                        edit.execute(rusqlite::params![id, field, value, hlc, device, author])
                            .unwrap();
                    }
                    if *kind == EntityKind::Household {
                        household
                            .execute(rusqlite::params![
                                id, cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], json, hlc
                            ])
                            .unwrap();
                    } else {
                        person
                            .execute(rusqlite::params![
                                id, cols[0], cols[1], cols[2], cols[3], cols[4], cols[5], cols[6],
                                cols[7], cols[8], json, hlc
                            ])
                            .unwrap();
                        fts.execute(rusqlite::params![tx.last_insert_rowid(), cols[2], cols[3]])
                            .unwrap();
                    }
                }
            }
        }
    }
    tx.commit().unwrap();
    (t.elapsed(), cpu_time() - cpu)
}

/// The changes [`fill`] applies, all at once (for the growth part's limit).
fn first_sync_changes(records: usize) -> Vec<Change> {
    let mut gn = data_gen();
    let mut out = Vec::with_capacity(records + 100);
    let mut n = 0;
    while out.len() < records {
        gn.household(n, &mut out);
        n += 1;
    }
    out.truncate(records);
    out
}

/// The generator of the bench's data: the same seed, device and start for every part, so
/// that every database and first sync holds the same households, persons and facts (only
/// the author's id is new each time).
fn data_gen() -> Gen {
    Gen {
        rng: SampleRng::new(1),
        device: "019aaaac-2600-7000-8000-00000000d001".parse().unwrap(),
        author: UserId::new_v7(),
        seq: 0,
        ms: NOW_MS - 400 * 86_400_000,
    }
}

/// Fills a new store with `records` pulled changes (households of `Gen`, pages of 2,000, as
/// a first sync receives them); returns the households and the time the pages took.
fn fill(store: &mut Store, records: usize) -> (Vec<RecordId>, Duration) {
    let mut gn = data_gen();
    let mut households = Vec::new();
    let mut pending = Vec::new();
    let mut page = Vec::with_capacity(PAGE);
    let mut done = 0;
    let mut took = Duration::ZERO;
    let mut n = 0;
    while done < records {
        while pending.len() < PAGE {
            let start = pending.len();
            gn.household(n, &mut pending);
            households.push(pending[start].id);
            n += 1;
        }
        let take = PAGE.min(records - done);
        page.clear();
        page.extend(pending.drain(..take));
        let t = Instant::now();
        // As the sync engine applies a pull: the page says whether more follow, so a first
        // sync may run in bulk (`store/bulk.rs`; the indexes are built with the last page).
        store
            .apply_sync_page(&sync_protocol::PullResponse {
                v: sync_protocol::PROTOCOL_VERSION,
                changes: std::mem::take(&mut page),
                cursor: format!("fill-{done}"),
                has_more: done + take < records,
                server_time: NOW_MS,
            })
            .unwrap();
        took += t.elapsed();
        done += take;
    }
    // Households whose members did not all arrive are left out of the household reads.
    let stored: std::collections::HashSet<String> = {
        let mut stmt = store
            .connection()
            .prepare("SELECT household FROM persons GROUP BY household HAVING count(*) = 4")
            .unwrap();
        stmt.query_map([], |r| r.get::<_, String>(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    households.retain(|h| stored.contains(&h.to_string()));
    (households, took)
}

/// The CPU that [`fill`] spends making its pages (the generator's households and their JSON
/// bodies, the same for the same `records`), measured by making them once without applying
/// them: the first sync's CPU less this is what applying the pages cost.
fn generate_cpu(records: usize) -> Duration {
    let cpu = cpu_time();
    let mut gn = data_gen();
    let mut pending = Vec::new();
    let (mut done, mut n) = (0, 0);
    while done < records {
        while pending.len() < PAGE {
            gn.household(n, &mut pending);
            n += 1;
        }
        let take = PAGE.min(records - done);
        let page: Vec<Change> = pending.drain(..take).collect();
        std::hint::black_box(page);
        done += take;
    }
    cpu_time() - cpu
}

/// How the cost grows with data: a new database of 10,000, 50,000, 130,000 and 500,000
/// records (pulled changes: households of four persons with ten facts each), each measured
/// for applying them (first sync) and the next 10,000, a save, a name search, a household
/// with its timelines, and the due tasks of a desa and of the whole kecamatan.
fn bench_growth(dir: &Path) {
    let path = dir.join("growth.db");
    let rules = RuleOptions::default();
    // `FIELD_CORE_BENCH_GROWTH=10000,50000`: only these sizes.
    let sizes: Vec<usize> = std::env::var("FIELD_CORE_BENCH_GROWTH")
        .ok()
        .map(|v| v.split(',').filter_map(|n| n.trim().parse().ok()).collect())
        .unwrap_or_else(|| vec![10_000, 50_000, 130_000, 500_000]);
    for records in sizes {
        remove_db(&path);
        let mut store =
            Store::create(&path, DeviceId::new_v7(), &user(), "246810", opts()).unwrap();
        store.replace_places(&places()).unwrap();
        reset_peak_kb();
        if let Some(mib) = cache_mib() {
            store
                .connection()
                .execute_batch(&format!("PRAGMA cache_size = -{}", mib * 1024))
                .unwrap();
        }
        if std::env::var("FIELD_CORE_BENCH_GROWTH_LIMIT").is_ok_and(|v| v == "1") {
            // The limit of this first sync: the rows of the same changes, plain prepared
            // INSERTs into the new store (its schema's indexes), one transaction. A run of its
            // own: the rows are held in memory, which would raise the peak measured below.
            let rows: Vec<LimitRows> = first_sync_changes(records).iter().map(limit_rows).collect();
            let (took, cpu) = insert_limit_rows(&store, &rows);
            println!(
                "growth {records}: limit (plain INSERTs of its rows into the new store, one transaction) {:.2} s (CPU {:.2} s)",
                took.as_secs_f64(),
                cpu.as_secs_f64()
            );
            drop(store);
            continue;
        }
        let cpu = cpu_time();
        let (households, fill_time) = fill(&mut store, records);
        let fill_cpu = cpu_time() - cpu;
        println!(
            "growth {records}: peak memory of the first sync (VmHWM, reset after the store's creation) {:.1} MiB",
            vm_hwm_kb() as f64 / 1024.0
        );
        let gen_cpu = generate_cpu(records);
        let apply_cpu = fill_cpu.saturating_sub(gen_cpu);
        println!(
            "growth {records}: first sync CPU {:.2} s = making the pages {:.2} s + applying them {:.2} s ({:.0} changes a second of CPU)",
            fill_cpu.as_secs_f64(),
            gen_cpu.as_secs_f64(),
            apply_cpu.as_secs_f64(),
            records as f64 / apply_cpu.as_secs_f64().max(1e-9)
        );
        let persons: Vec<RecordId> = {
            let mut stmt = store
                .connection()
                .prepare(
                    "SELECT id FROM persons WHERE birth_date >= '2021-01-01' ORDER BY id LIMIT 200",
                )
                .unwrap();
            stmt.query_map([], |r| r.get::<_, String>(0))
                .unwrap()
                .map(|r| r.unwrap().parse().unwrap())
                .collect()
        };
        let all_persons: i64 = store
            .connection()
            .query_row("SELECT count(*) FROM persons", [], |r| r.get(0))
            .unwrap();
        // The next 10,000 pulled changes on top.
        let mut gn = Gen {
            rng: SampleRng::new(7),
            device: "019aaaac-2600-7000-8000-00000000d002".parse().unwrap(),
            author: UserId::new_v7(),
            seq: 0,
            ms: NOW_MS - 10 * 86_400_000,
        };
        let mut next = Vec::new();
        let mut n = 0;
        while next.len() < 10_000 {
            gn.household(1_000_000 + n, &mut next);
            n += 1;
        }
        next.truncate(10_000);
        let t = Instant::now();
        let cpu = cpu_time();
        for (i, page) in next.chunks(1_000).enumerate() {
            store
                .apply_pulled(page, Some(&format!("next-{i}")), None)
                .unwrap();
        }
        let next_time = t.elapsed();
        let next_cpu = cpu_time() - cpu;
        let mut rng = SampleRng::new(99);
        let mut saves = Vec::new();
        for i in 0..200 {
            let m = MeasurementInput {
                kind: "weight".into(),
                value: 10.0 + rng.below(50) as f64 / 10.0,
                unit: "kg".into(),
                position: None,
                measured_by: None,
                ..Default::default()
            };
            let t = Instant::now();
            store
                .save_measurement(persons[i % persons.len()], None, "2025-11-22", &m)
                .unwrap();
            saves.push(t.elapsed());
        }
        let mut searches = Vec::new();
        for _ in 0..200 {
            let first = FIRST[rng.below(FIRST.len() as u64) as usize];
            let last = LAST[rng.below(LAST.len() as u64) as usize];
            let t = Instant::now();
            store
                .search_persons(&format!("{first} {last}"), None, 20)
                .unwrap();
            searches.push(t.elapsed());
        }
        // The Keluarga screen's household search (the app's limit, 100), on its own
        // generator so that the other figures' samples stay as they were.
        let mut hh_rng = SampleRng::new(101);
        let mut hh_searches = Vec::new();
        let mut hh_hits = 0;
        for _ in 0..200 {
            let first = FIRST[hh_rng.below(FIRST.len() as u64) as usize];
            let last = LAST[hh_rng.below(LAST.len() as u64) as usize];
            let t = Instant::now();
            hh_hits += store
                .search_households(&format!("{first} {last}"), None, None, 100)
                .unwrap()
                .len();
            hh_searches.push(t.elapsed());
        }
        println!(
            "growth {records}: household search (limit 100, {hh_hits} hits) {}",
            pct(hh_searches)
        );
        let mut reads = Vec::new();
        for _ in 0..100 {
            let h = households[rng.below(households.len() as u64) as usize];
            let t = Instant::now();
            let view = store.household(h).unwrap();
            for m in &view.members {
                store.person_timeline(m.id).unwrap();
            }
            reads.push(t.elapsed());
        }
        let mut due = Vec::new();
        for (level, place, runs) in [
            (PlaceLevel::Desa, "53.04.05.2001", 5),
            (PlaceLevel::Kecamatan, "53.04.05", 3),
        ] {
            store
                .set_scope(&Scope {
                    level,
                    place: place.into(),
                })
                .unwrap();
            let mut times = Vec::new();
            let mut people = 0;
            let cpu = cpu_time();
            for _ in 0..runs {
                let t = Instant::now();
                people = store.due_tasks_in_scope(&rules).unwrap().len();
                times.push(t.elapsed());
            }
            let cpu = (cpu_time() - cpu) / runs;
            due.push(format!(
                "{level:?} ({people} with tasks) {}, CPU {:.0} ms a run",
                pct(times),
                cpu.as_secs_f64() * 1e3
            ));
        }
        println!(
            "growth {records} records ({all_persons} persons): first sync {:.2} s ({:.0}/s; CPU {:.2} s); next 10,000 {:.3} s ({:.0}/s; CPU {:.2} s); save {}; search {}; household {}; due {}",
            fill_time.as_secs_f64(),
            records as f64 / fill_time.as_secs_f64(),
            fill_cpu.as_secs_f64(),
            next_time.as_secs_f64(),
            10_000.0 / next_time.as_secs_f64(),
            next_cpu.as_secs_f64(),
            pct(saves),
            pct(searches),
            pct(reads),
            due.join("; ")
        );
        println!(
            "growth {records}: peak memory since the store's creation, due lists included (VmHWM, its Argon2id left out) {:.1} MiB",
            vm_hwm_kb() as f64 / 1024.0
        );
        drop(store);
    }
    // `FIELD_CORE_BENCH_GROWTH_KEEP=1`: the last store is kept (for `examples/page_map.rs`).
    if !std::env::var("FIELD_CORE_BENCH_GROWTH_KEEP").is_ok_and(|v| v == "1") {
        remove_db(&path);
    }
}

/// One query of the name searches' mix: a misspelt first name with a surname's beginning, a
/// first name's beginning, or a whole name.
fn search_query(rng: &mut SampleRng) -> String {
    let first = FIRST[rng.below(FIRST.len() as u64) as usize];
    let last = LAST[rng.below(LAST.len() as u64) as usize];
    match rng.below(3) {
        0 => format!("{} {}", first.replace('Y', "J"), &last[..3]),
        1 => first[..4].to_string(),
        _ => format!("{first} {last}"),
    }
}
