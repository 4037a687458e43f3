//! Issue 19 (tenth pass): a bidan's desa due list of the store bench's data, as `store --bench
//! due` runs it (a kader's posyandu first), its first (cold) run and a second one in functions
//! of their own for callgrind (`--toggle-collect='*cold_run*'` or `'*warm_run*'`):
//! `due_profile DB USER PIN` on a **copy** of the bench's cached store (`maria`, `246810`).
//! `due_profile DB USER PIN K`: natively, K times a run after `PRAGMA shrink_memory` (SQLite's
//! page cache emptied) and a run after it, the minimum and median wall time of each.
use field_core::{OpenOptions, Place, RuleOptions, Store};
use sync_protocol::{PlaceLevel, Scope};
#[inline(never)]
fn cold_run(s: &Store, r: &RuleOptions) -> usize {
    s.due_tasks_in_scope(r).map_or(0, |d| d.len())
}
#[inline(never)]
fn warm_run(s: &Store, r: &RuleOptions) -> usize {
    s.due_tasks_in_scope(r).map_or(0, |d| d.len())
}
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a: Vec<String> = std::env::args().skip(1).collect();
    let opts = OpenOptions::default().with_clock(std::sync::Arc::new(
        field_core::ManualClock::new(1_763_776_800_000),
    ));
    let mut s = Store::unlock(std::path::Path::new(&a[0]), &a[1], &a[2], opts)?;
    let place = |code: String, level, parent: Option<String>| Place {
        name: code.clone(),
        code,
        level,
        parent,
    };
    let mut places = vec![
        place("53.04".into(), PlaceLevel::Kabupaten, None),
        place(
            "53.04.05".into(),
            PlaceLevel::Kecamatan,
            Some("53.04".into()),
        ),
    ];
    for d in 0..20 {
        let desa = format!("53.04.05.{:04}", 2001 + d);
        places.push(place(
            desa.clone(),
            PlaceLevel::Desa,
            Some("53.04.05".into()),
        ));
        for p in 0..7 {
            places.push(place(
                format!("{desa}.P{:02}", 1 + p),
                PlaceLevel::Posyandu,
                Some(desa.clone()),
            ));
        }
    }
    s.replace_places(&places)?;
    drop(s);
    let s = Store::unlock(
        std::path::Path::new(&a[0]),
        &a[1],
        &a[2],
        OpenOptions::default().with_clock(std::sync::Arc::new(field_core::ManualClock::new(
            1_763_776_800_000,
        ))),
    )?;
    let mut s = s;
    s.set_scope(&Scope {
        level: PlaceLevel::Posyandu,
        place: "53.04.05.2001.P01".into(),
    })?;
    let _ = s.due_tasks_in_scope(&RuleOptions::default())?;
    s.set_scope(&Scope {
        level: PlaceLevel::Desa,
        place: "53.04.05.2001".into(),
    })?;
    let r = RuleOptions::default();
    if let Some(k) = a.get(3).and_then(|k| k.parse::<usize>().ok()) {
        // Native: k times a run after the page cache is emptied, then a warm one.
        let (mut cold, mut warm) = (Vec::new(), Vec::new());
        for _ in 0..k {
            s.connection().execute_batch("PRAGMA shrink_memory")?;
            let t = std::time::Instant::now();
            cold_run(&s, &r);
            cold.push(t.elapsed().as_secs_f64() * 1e3);
            let t = std::time::Instant::now();
            warm_run(&s, &r);
            warm.push(t.elapsed().as_secs_f64() * 1e3);
        }
        cold.sort_by(f64::total_cmp);
        warm.sort_by(f64::total_cmp);
        println!(
            "cold (emptied cache) min {:.1} p50 {:.1} ms; warm min {:.1} p50 {:.1} ms",
            cold[0],
            cold[k / 2],
            warm[0],
            warm[k / 2]
        );
        return Ok(());
    }
    let t = std::time::Instant::now();
    let n = cold_run(&s, &r);
    let t1 = t.elapsed();
    let t = std::time::Instant::now();
    let m = warm_run(&s, &r);
    println!("cold {n} persons {:?}, warm {m} {:?}", t1, t.elapsed());
    Ok(())
}
