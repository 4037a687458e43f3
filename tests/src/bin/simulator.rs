//! The device simulator: a real district server in this process and simulated tablets
//! recording and syncing against it. Prints what it measured as a Markdown table (or JSON).
//!
//! ```text
//! cargo run -p system-tests --release --bin simulator -- all
//! cargo run -p system-tests --release --bin simulator -- fresh-device --backend postgres --json
//! ```

use clap::Parser;
use std::process::ExitCode;
use system_tests::sim::device::DeviceSpec;
use system_tests::sim::scenarios::{self, ALL, EXTRA, Options};
use system_tests::sim::server::Backend;
use system_tests::sim::{Dirs, load_average};

#[derive(Parser, Debug)]
#[command(about = "Jangkau device simulator and sync benchmark")]
struct Args {
    /// wire, push-pull, fresh-device, posyandu-day, many-devices, all; or profile (the
    /// push and pull of push-pull, step by step).
    scenario: String,
    /// Server storage: sqlite (a temporary file) or postgres (a scratch database on
    /// JANGKAU_TEST_PG or 127.0.0.1:5432).
    #[arg(long, default_value = "sqlite")]
    backend: Backend,
    /// Records of `wire` and `push-pull`.
    #[arg(long, default_value_t = 10_000)]
    records: u64,
    /// Runs of push-pull (the median is reported).
    #[arg(long, default_value_t = 3)]
    repeat: usize,
    /// Records the fresh tablet receives in `fresh-device`.
    #[arg(long, default_value_t = 130_000)]
    history: u64,
    /// Tablets of `many-devices`.
    #[arg(long, default_value_t = 50)]
    devices: usize,
    /// Children at a posyandu day (per tablet in `many-devices`).
    #[arg(long, default_value_t = 60)]
    children: usize,
    /// Changes per push (default: field-core's).
    #[arg(long)]
    push_batch: Option<usize>,
    /// Changes per pull page (default: field-core's).
    #[arg(long)]
    pull_limit: Option<u32>,
    /// The largest pull page a run grows to (default: field-core's; at or below
    /// --pull-limit: fixed pages).
    #[arg(long)]
    pull_limit_max: Option<u32>,
    /// Requests one after the other, as before pipelining (not the next pull page while one
    /// is applied, nor the next push while an answer is recorded).
    #[arg(long)]
    sequential: bool,
    /// Runtime worker threads (server and tablets share them).
    #[arg(long, default_value_t = 8)]
    threads: usize,
    /// Where measured tablets keep their databases (default: the temporary directory, on
    /// disk). `/dev/shm` takes the disk's fsync out of the figures.
    #[arg(long)]
    tablet_dir: Option<std::path::PathBuf>,
    /// Print the figures as JSON instead of a table.
    #[arg(long)]
    json: bool,
    /// Run the fresh tablet of fresh-device inside this process (its peak memory then
    /// includes the server's).
    #[arg(long)]
    tablet_in_process: bool,
    /// fresh-device: print the fresh tablet's timeline (the enrolment's parts, every pull
    /// page asked, decoded and applied, the gaps between them) and one Argon2id timed alone.
    #[arg(long)]
    phases: bool,
    /// tablet-first-sync (run by fresh-device): the server.
    #[arg(long, hide = true)]
    url: Option<String>,
    /// tablet-first-sync: the enrolment code.
    #[arg(long, hide = true)]
    code: Option<String>,
    /// tablet-first-sync: the user.
    #[arg(long, hide = true)]
    user: Option<String>,
    /// tablet-first-sync: where the tablet's database goes.
    #[arg(long, hide = true)]
    dir: Option<std::path::PathBuf>,
}

/// The fresh tablet of `fresh-device` in a process of its own: enrols, runs its first sync
/// and prints what it did as JSON.
fn tablet_first_sync(a: &Args, rt: &tokio::runtime::Runtime) -> ExitCode {
    let (Some(url), Some(code), Some(user), Some(dir)) = (&a.url, &a.code, &a.user, &a.dir) else {
        eprintln!("tablet-first-sync needs --url, --code, --user and --dir");
        return ExitCode::from(2);
    };
    let mut spec = DeviceSpec::new(user, dir);
    spec.kdf = field_core::KdfParams::TABLET;
    spec.pull_limit = a.pull_limit;
    spec.pull_limit_max = a.pull_limit_max;
    spec.ahead = !a.sequential;
    match rt.block_on(scenarios::first_sync(url, code, &spec, a.phases)) {
        Ok(f) => {
            println!("{}", serde_json::to_string(&f).unwrap_or_default());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("tablet-first-sync: {e}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let a = Args::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(a.threads.max(2))
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    if a.scenario == "tablet-first-sync" {
        return tablet_first_sync(&a, &rt);
    }
    let names: Vec<&str> = if a.scenario == "all" {
        ALL.to_vec()
    } else if ALL.contains(&a.scenario.as_str()) || EXTRA.contains(&a.scenario.as_str()) {
        vec![a.scenario.as_str()]
    } else {
        eprintln!(
            "unknown scenario {:?}: one of {} or all",
            a.scenario,
            ALL.join(", ")
        );
        return ExitCode::from(2);
    };
    let o = Options {
        backend: a.backend,
        records: a.records,
        history: a.history,
        devices: a.devices,
        day_children: a.children,
        repeat: a.repeat,
        push_batch: a.push_batch,
        pull_limit: a.pull_limit,
        pull_limit_max: a.pull_limit_max,
        ahead: !a.sequential,
        dirs: match &a.tablet_dir {
            Some(d) => Dirs {
                disk: d.clone(),
                ..Dirs::default()
            },
            None => Dirs::default(),
        },
        tablet_exe: if a.tablet_in_process {
            None
        } else {
            std::env::current_exe().ok()
        },
        phases: a.phases,
        ..Options::default()
    };
    let load_before = load_average().unwrap_or_default();
    let mut all = system_tests::sim::report::Report::default();
    let mut failed = false;
    for name in names {
        match rt.block_on(scenarios::run(name, &o)) {
            Ok(r) => all.extend(r),
            Err(e) => {
                eprintln!("{name}: {e}");
                failed = true;
            }
        }
    }
    let load_after = load_average().unwrap_or_default();
    if a.json {
        let out = serde_json::json!({
            "backend": o.backend,
            "load_before": load_before,
            "load_after": load_after,
            "rows": all.rows,
            "notes": all.notes,
        });
        println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    } else {
        println!(
            "backend {}; load average before {load_before}, after {load_after}\n",
            o.backend
        );
        print!("{}", all.table());
        for n in &all.notes {
            println!("- {n}");
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}
