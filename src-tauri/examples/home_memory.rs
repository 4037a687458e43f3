//! Beranda's due list for a whole kecamatan through the shell's code (`core/due_pages.rs`) on
//! the store bench's database (`field-core/benches/store.rs`: 50,000 persons, 500,000 facts,
//! 140 posyandu; made by `cargo bench -p field-core --bench store`), with the process's peak
//! memory. One part per run, so that each peak is its own:
//!
//! ```text
//! cargo run -p jangkau-app --example home_memory -- <bench dir> paged   # Home: page 1 + counts, then page 2
//! cargo run -p jangkau-app --example home_memory -- <bench dir> whole   # the whole list, collected and sorted (before)
//! cargo run -p jangkau-app --example home_memory -- <bench dir> check   # pages of 5,000 == the whole list
//! cargo run -p jangkau-app --example home_memory -- <bench dir> upgrade # keeps the upgraded copy
//! ```
//!
//! The peak is reset after the unlock (its Argon2id takes 64 MiB at once) and after the
//! copy's upgrade. Not a test: it needs the bench's database.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use field_core::{KdfParams, ManualClock, OpenOptions, Place, RuleOptions, Store};
use jangkau_app_lib::core::due_pages;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use sync_protocol::{PlaceLevel, Scope};

const NOW_MS: u64 = 1_763_776_800_000; // the bench's clock: 2025-11-22 10:00 WITA

fn vm_hwm_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn cpu_time() -> Duration {
    let ticks = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let rest = s.rsplit_once(')')?.1.split_whitespace().collect::<Vec<_>>();
            Some(rest.get(11)?.parse::<u64>().ok()? + rest.get(12)?.parse::<u64>().ok()?)
        })
        .unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

/// The bench's places: a kecamatan of 20 desa of 7 posyandu.
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
    for d in 0..20 {
        let desa = format!("53.04.05.{:04}", 2001 + d);
        out.push(place(
            desa.clone(),
            PlaceLevel::Desa,
            Some("53.04.05".into()),
        ));
        for p in 0..7 {
            out.push(place(
                format!("{desa}.P{:02}", 1 + p),
                PlaceLevel::Posyandu,
                Some(desa.clone()),
            ));
        }
    }
    out
}

fn mib(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(dir), Some(part)) = (args.first(), args.get(1)) else {
        eprintln!("usage: home_memory <bench dir> paged|whole|check");
        std::process::exit(2);
    };
    let dir = PathBuf::from(dir);
    let cached = dir.join("cached-v2.db");
    let work = dir.join(format!("home-{part}.db"));
    for suffix in ["", ".keyring.json"] {
        let mut a = cached.as_os_str().to_owned();
        a.push(suffix);
        let mut b = work.as_os_str().to_owned();
        b.push(suffix);
        std::fs::copy(a, b)
            .expect("the bench's database (cargo bench -p field-core --bench store)");
    }
    let opts = OpenOptions::default()
        .with_clock(std::sync::Arc::new(ManualClock::new(NOW_MS)))
        .with_kdf(KdfParams::TABLET);
    let mut store = Store::unlock(&work, "maria", "246810", opts).unwrap();
    store.replace_places(&places()).unwrap();
    store
        .set_scope(&Scope {
            level: PlaceLevel::Kecamatan,
            place: "53.04.05".into(),
        })
        .unwrap();
    println!(
        "peak after the unlock and upgrade: {:.1} MiB; reset",
        mib(vm_hwm_kb())
    );
    reset_peak();
    let base = vm_hwm_kb();
    let rules = RuleOptions::default();
    match part.as_str() {
        "paged" => {
            let (cpu, t) = (cpu_time(), Instant::now());
            let (idx, first) = due_pages::index(&store, &rules, due_pages::PAGE).unwrap();
            println!(
                "Home (page 1 of {} persons, {} tasks and problems; {} sent): {:.2} s wall, {:.2} s CPU; peak {:.1} MiB (from {:.1})",
                idx.counts.persons,
                idx.counts.tasks,
                first.len(),
                t.elapsed().as_secs_f64(),
                (cpu_time() - cpu).as_secs_f64(),
                mib(vm_hwm_kb()),
                mib(base)
            );
            let (cpu, t) = (cpu_time(), Instant::now());
            let page =
                due_pages::page(&store, &rules, &idx, due_pages::PAGE, due_pages::PAGE).unwrap();
            println!(
                "page 2 ({} persons): {:.2} s wall, {:.2} s CPU; peak {:.1} MiB",
                page.len(),
                t.elapsed().as_secs_f64(),
                (cpu_time() - cpu).as_secs_f64(),
                mib(vm_hwm_kb())
            );
        }
        "whole" => {
            let (cpu, t) = (cpu_time(), Instant::now());
            let all = due_pages::whole_list(&store, &rules).unwrap();
            println!(
                "the whole list ({} persons), collected and sorted: {:.2} s wall, {:.2} s CPU; peak {:.1} MiB (from {:.1})",
                all.len(),
                t.elapsed().as_secs_f64(),
                (cpu_time() - cpu).as_secs_f64(),
                mib(vm_hwm_kb()),
                mib(base)
            );
        }
        "check" => {
            let all = due_pages::whole_list(&store, &rules).unwrap();
            let (idx, first) = due_pages::index(&store, &rules, 5_000).unwrap();
            assert_eq!(idx.counts.persons as usize, all.len());
            let mut paged = first;
            let mut offset = paged.len();
            while offset < all.len() {
                paged.extend(due_pages::page(&store, &rules, &idx, offset, 5_000).unwrap());
                offset += 5_000;
            }
            assert!(paged == all, "the pages differ from the whole list");
            println!("pages of 5,000 equal the whole list: {} persons", all.len());
        }
        "upgrade" => {
            // The copy, upgraded, is kept: a bench directory whose database needs no upgrade
            // at its unlock (for a peak memory without the migration's).
            println!("kept {}", work.display());
            return;
        }
        other => panic!("unknown part {other}"),
    }
    drop(store);
    for suffix in ["", "-wal", "-shm", ".keyring.json"] {
        let mut p = work.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
}
