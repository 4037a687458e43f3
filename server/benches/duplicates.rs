//! The server's duplicate finder (issue 17) at district size, on both backends.
//!
//! ```text
//! cargo bench -p district-server --bench duplicates -- \
//!     [--backend sqlite|postgres|both] [--copies 60] [--runs 5] [--planted-every 100]
//! ```
//!
//! Data: the simulator's (`district_server::demodata::generate`, the generated history the
//! demo and the simulator push), `copies` times with seeds `SEED + k`, each copy in its own
//! three desa and six posyandu (place codes remapped), only its households and persons (what
//! the finder reads), pushed through `Storage::push` (validation and the read model's
//! merge) by one bidan per copy. Planted duplicates: every `planted-every`-th person
//! registered again in the other posyandu of the same desa with one spelling variant of
//! the name (Y→J; else e→i in a word of five letters or more; else the last letter
//! doubled) and no NIK, the same birth date and the same
//! mother: what a family that moved and was registered again looks like.
//!
//! Measured: `readmodel::duplicates::find` for the whole kabupaten (`53.04`), `runs` times
//! (p50, min): pairs, pairs per 10,000 persons, and the planted pairs found (recall).

use district_server::Storage;
use district_server::auth::{self, PasswordCost};
use district_server::demodata::{self, Actor};
use district_server::model::{NewDevice, Place, User, now_ms};
use district_server::readmodel::duplicates;
use district_server::storage::postgres::scratch;
use district_server::sync::PushContext;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Instant;
use sync_protocol::{
    Change, ClockPolicy, DeviceId, EntityKind, OutcomeStatus, PlaceLevel, RecordId, Role, Scope,
    UserId,
};

struct Args {
    backends: Vec<&'static str>,
    copies: usize,
    runs: usize,
    planted_every: usize,
}

fn args() -> Args {
    let mut a = Args {
        backends: vec!["sqlite", "postgres"],
        copies: 60,
        runs: 5,
        planted_every: 100,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < argv.len() {
        let value = argv.get(i + 1).cloned().unwrap_or_default();
        let num = value.parse::<usize>().ok();
        match argv[i].as_str() {
            "--backend" => {
                a.backends = match value.as_str() {
                    "sqlite" => vec!["sqlite"],
                    "postgres" => vec!["postgres"],
                    _ => vec!["sqlite", "postgres"],
                }
            }
            "--copies" => a.copies = num.unwrap_or(a.copies),
            "--runs" => a.runs = num.unwrap_or(a.runs).max(1),
            "--planted-every" => a.planted_every = num.unwrap_or(a.planted_every).max(2),
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    a
}

/// The code of the demo posyandu `code` in copy `k`: `53.04.05.2001.P01` →
/// `53.04.K0007.2001.P01`.
fn remap(code: &str, k: usize) -> String {
    code.replacen("53.04.05.", &format!("53.04.K{k:04}."), 1)
}

/// Copy `k`'s places: a puskesmas-level area with the demo's three desa and six posyandu.
fn places(k: usize) -> Vec<Place> {
    let area = format!("53.04.K{k:04}");
    let mut out = vec![Place {
        code: area.clone(),
        name: format!("Puskesmas Bench {k}"),
        level: PlaceLevel::Puskesmas,
        parent: Some("53.04.05".into()),
    }];
    for d in 0..3 {
        let desa = format!("{area}.{}", 2001 + d);
        out.push(Place {
            code: desa.clone(),
            name: format!("Desa Bench {k}-{d}"),
            level: PlaceLevel::Desa,
            parent: Some(area.clone()),
        });
        for u in 1..=2 {
            out.push(Place {
                code: format!("{desa}.P{u:02}"),
                name: format!("Posyandu Bench {k}-{d}-{u}"),
                level: PlaceLevel::Posyandu,
                parent: Some(desa.clone()),
            });
        }
    }
    out
}

/// One spelling variant of a name: the first Y becomes J, else the first e of a word of
/// five letters or more becomes i, else the last letter is doubled.
fn variant(name: &str) -> String {
    if let Some(at) = name.find('Y') {
        let mut s = name.to_string();
        s.replace_range(at..at + 1, "J");
        return s;
    }
    let mut words: Vec<String> = name.split(' ').map(str::to_string).collect();
    for w in &mut words {
        if w.chars().count() >= 5
            && let Some(at) = w.find('e')
        {
            w.replace_range(at..at + 1, "i");
            return words.join(" ");
        }
    }
    // Else a doubled last letter (Muhamad/Muhammad).
    match name.chars().last() {
        Some(c) => format!("{name}{c}"),
        None => name.to_string(),
    }
}

/// The other posyandu of the same desa.
fn neighbour(code: &str) -> String {
    if let Some(p) = code.strip_suffix("P01") {
        format!("{p}P02")
    } else {
        format!("{}P01", &code[..code.len() - 3])
    }
}

struct Filled {
    persons: usize,
    planted: HashSet<(String, String)>,
}

async fn fill(store: &dyn Storage, a: &Args) -> Filled {
    store
        .import_places(district_server::admin::demo_places())
        .await
        .expect("demo places");
    let hash = auth::hash_password("bench-secret", PasswordCost::TEST).expect("hash");
    let now = now_ms();
    let mut persons = 0;
    let mut planted = HashSet::new();
    let started = Instant::now();
    for k in 0..a.copies {
        store.import_places(places(k)).await.expect("places");
        let area = format!("53.04.K{k:04}");
        let user = User {
            id: UserId::new_v7(),
            username: format!("bidan.bench{k}"),
            display_name: "Bidan Bench".into(),
            role: Role::Bidan,
            scope: Scope {
                level: PlaceLevel::Puskesmas,
                place: area.clone(),
            },
            secret_hash: hash.clone(),
            disabled: false,
        };
        store.create_user(user.clone()).await.expect("user");
        let device = enrol(store, user.id).await;
        let ctx = Arc::new(PushContext {
            device,
            user: user.id,
            role: Role::Bidan,
            scope_posyandu: store
                .posyandu_under(area.clone())
                .await
                .expect("under")
                .into_iter()
                .collect(),
            now_ms: now,
            today: district_server::model::today_for_validation(now),
            clock: ClockPolicy::default(),
        });
        let actors: HashMap<&str, Actor> = demodata::TABLETS
            .iter()
            .map(|t| {
                (
                    t.username,
                    Actor {
                        device: DeviceId::new_v7(),
                        user: UserId::new_v7(),
                    },
                )
            })
            .collect();
        let histories =
            demodata::generate(demodata::SEED + k as u64, now, &actors).expect("history");
        let mut changes: Vec<Change> = histories
            .into_iter()
            .flat_map(|h| h.changes)
            .filter(|c| matches!(c.kind, EntityKind::Household | EntityKind::Person))
            .collect();
        changes.sort_by_key(|c| c.hlc);
        let mut extra = Vec::new();
        let mut n_persons = 0usize;
        for c in &mut changes {
            if let Some(Value::String(p)) = c.body.get("posyandu") {
                let p = remap(p, k);
                c.body.insert("posyandu".into(), Value::String(p));
            }
            c.base.clear();
            c.device = device;
            c.author = user.id;
            let creates = c.kind == EntityKind::Person && c.body.contains_key("birth_date");
            if creates {
                n_persons += 1;
                if n_persons.is_multiple_of(a.planted_every) {
                    let mut again = c.clone();
                    again.id = RecordId::new_v7();
                    let name = c.body.get("name").and_then(Value::as_str).unwrap_or("");
                    again
                        .body
                        .insert("name".into(), Value::String(variant(name)));
                    let here = c.body.get("posyandu").and_then(Value::as_str).unwrap_or("");
                    again
                        .body
                        .insert("posyandu".into(), Value::String(neighbour(here)));
                    again.body.remove("nik");
                    again.body.remove("household");
                    again.hlc.counter = again.hlc.counter.saturating_add(1);
                    let (x, y) = (c.id.to_string(), again.id.to_string());
                    let (f, s) = records::duplicates::canonical(&x, &y);
                    planted.insert((f.to_string(), s.to_string()));
                    extra.push(again);
                }
            }
        }
        persons += n_persons + extra.len();
        changes.extend(extra);
        changes.sort_by_key(|c| c.hlc);
        for (i, c) in changes.iter_mut().enumerate() {
            c.seq = i as u64 + 1;
        }
        for batch in changes.chunks(1000) {
            let r = store.push(ctx.clone(), batch.to_vec()).await.expect("push");
            for o in &r.outcomes {
                assert_eq!(o.status, OutcomeStatus::Accepted, "{o:?}");
            }
        }
    }
    println!(
        "fill: {} copies of the simulator's district, {persons} persons ({} planted again) in {:.1} s",
        a.copies,
        planted.len(),
        started.elapsed().as_secs_f64()
    );
    let _ = store.read_rows("ANALYZE".into(), vec![]).await;
    Filled { persons, planted }
}

async fn enrol(store: &dyn Storage, user: UserId) -> DeviceId {
    let code = auth::new_enrol_code().expect("code");
    let code_hash = auth::hash_secret(&auth::normalise_code(&code).expect("normal"));
    let now = now_ms();
    store
        .create_enrol_code(code_hash.clone(), user, now, now + 3_600_000)
        .await
        .expect("code");
    store
        .enrol(
            code_hash,
            NewDevice {
                id: DeviceId::new_v7(),
                name: "Bench tablet".into(),
                token_hash: auth::hash_secret(&auth::new_token().expect("token")),
                app_version: "bench".into(),
                now,
            },
        )
        .await
        .expect("enrol")
        .expect("code accepted")
        .id
}

async fn run_backend(backend: &str, a: &Args) {
    let (url, pg_name, _dir) = if backend == "postgres" {
        let (name, url) = scratch::create().await.expect("PostgreSQL scratch");
        (url, Some(name), None)
    } else {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = dir.path().join("bench.db").to_string_lossy().to_string();
        (url, None, Some(dir))
    };
    let store = district_server::storage::open(&url).await.expect("open");
    store.migrate().await.expect("migrate");
    println!("== {backend}");
    let filled = fill(store.as_ref(), a).await;
    let mut times = Vec::new();
    let mut last = Vec::new();
    for _ in 0..a.runs {
        let started = Instant::now();
        last = duplicates::find(store.as_ref(), "53.04")
            .await
            .expect("find");
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    let found: HashSet<(String, String)> = last
        .iter()
        .map(|p| (p.first.clone(), p.second.clone()))
        .collect();
    let recalled = filled.planted.intersection(&found).count();
    let by_nik = last
        .iter()
        .filter(|p| p.reason == records::duplicates::Reason::Nik)
        .count();
    let per_10k = |n: usize| n as f64 * 10_000.0 / filled.persons.max(1) as f64;
    println!(
        "{backend}: {} persons: {} pairs ({by_nik} by NIK) = {:.1} per 10,000 persons; \
         planted {} found {recalled}; pairs not planted {} = {:.1} per 10,000; \
         find p50 {:.0} ms, min {:.0} ms over {} runs",
        filled.persons,
        last.len(),
        per_10k(last.len()),
        filled.planted.len(),
        last.len() - recalled,
        per_10k(last.len() - recalled),
        times[times.len() / 2],
        times[0],
        a.runs
    );
    drop(store);
    if let Some(name) = pg_name {
        let _ = scratch::drop(&name).await;
    }
}

fn main() {
    let a = args();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    for backend in a.backends.clone() {
        rt.block_on(run_backend(backend, &a));
    }
}
