//! `jangkau-cold-start`: the Rust side of a cold start on a data directory made by
//! `jangkau-seed`: what the app does from launch to an unlocked Beranda, without the window
//! (`app_info`, `unlock` with the real Argon2id cost, `home` with today's due tasks). The
//! webview's own start is measured by the end-to-end tests (ui/e2e). Built only with
//! `--features seed`.
//!
//! ```text
//! jangkau-cold-start --data /tmp/jangkau-50k [--username kader.mawar] [--pin 147258] [--runs 5]
//! ```
//! Run it right after dropping the page cache for a truly cold figure
//! (`sync; echo 3 > /proc/sys/vm/drop_caches`, as root); otherwise the file is warm.
#![forbid(unsafe_code)]

use jangkau_app_lib::core::{AppCore, CoreConfig, EventSink};
use jangkau_app_lib::settings::DataDir;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn main() -> ExitCode {
    let mut data = None;
    let (mut username, mut pin, mut runs) = ("kader.mawar".to_string(), "147258".to_string(), 5);
    let mut it = std::env::args().skip(1);
    while let (Some(flag), Some(v)) = (it.next(), it.next()) {
        match flag.as_str() {
            "--data" => data = Some(PathBuf::from(v)),
            "--username" => username = v,
            "--pin" => pin = v,
            "--runs" => runs = v.parse().unwrap_or(5),
            _ => data = None,
        }
    }
    let Some(data) = data else {
        eprintln!("usage: jangkau-cold-start --data DIR [--username U] [--pin PIN] [--runs N]");
        return ExitCode::from(2);
    };
    let mut totals = Vec::new();
    for run in 1..=runs {
        let t0 = Instant::now();
        let events: EventSink = Arc::new(|_, _| {});
        let core = AppCore::new(CoreConfig::new(DataDir::new(&data), None), events);
        let step = |t: &mut Instant| {
            let d = t.elapsed();
            *t = Instant::now();
            d
        };
        let mut t = Instant::now();
        let info = match core.app_info() {
            Ok(i) => i,
            Err(e) => return fail(&e),
        };
        let d_info = step(&mut t);
        if let Err(e) = core.unlock(&username, &pin) {
            return fail(&e);
        }
        let d_unlock = step(&mut t);
        let home = match core.home() {
            Ok(h) => h,
            Err(e) => return fail(&e),
        };
        let d_home = step(&mut t);
        let total = t0.elapsed();
        core.lock();
        println!(
            "run {run}: app_info {} ({} users), unlock {}, home {} ({} persons with tasks), total {}",
            ms(d_info),
            info.users.len(),
            ms(d_unlock),
            ms(d_home),
            home.tasks.len(),
            ms(total)
        );
        totals.push(total);
    }
    totals.sort();
    if let Some(median) = totals.get(totals.len() / 2) {
        println!("median total {}", ms(*median));
    }
    ExitCode::SUCCESS
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

fn fail(e: &jangkau_app_lib::error::AppError) -> ExitCode {
    eprintln!("jangkau-cold-start: {e}");
    ExitCode::FAILURE
}
