//! The simulator's scenarios. Each starts its own district server, so none sees another's
//! data, and returns a [`Report`].

mod day;
mod fresh;
mod many;
mod phases;
mod wire;

use super::device::{DeviceSpec, SimDevice};
use super::report::Report;
use super::server::{Backend, SimServer};
use super::village::Village;
use super::{Dirs, Result, SimError};
use std::time::Instant;

pub use day::posyandu_day;
pub use fresh::{FirstSync, first_sync, fresh_device};
pub use many::many_devices;
pub use wire::{profile, push_pull, wire};

/// Settings shared by the scenarios (the simulator's command line).
#[derive(Debug, Clone)]
pub struct Options {
    pub backend: Backend,
    /// Records of the `wire` and `push-pull` scenarios.
    pub records: u64,
    /// Records a fresh device receives in `fresh-device`.
    pub history: u64,
    /// Tablets of `many-devices`.
    pub devices: usize,
    /// Children at the posyandu day of `posyandu-day` (and per tablet in `many-devices`).
    pub day_children: usize,
    /// Runs of `push-pull` (the median is reported).
    pub repeat: usize,
    /// Changes per push (`None`: field-core's default).
    pub push_batch: Option<usize>,
    /// Changes per pull page (`None`: field-core's default).
    pub pull_limit: Option<u32>,
    /// The largest pull page (`None`: field-core's default).
    pub pull_limit_max: Option<u32>,
    /// Requests ahead (next pull page while one is applied, next push while an answer is
    /// recorded).
    pub ahead: bool,
    pub dirs: Dirs,
    pub seed: u64,
    /// The simulator binary, to run the fresh tablet of `fresh-device` in a process of its
    /// own (`None`: in this process).
    pub tablet_exe: Option<std::path::PathBuf>,
    /// `fresh-device`: print the fresh tablet's timeline (enrolment, every pull page).
    pub phases: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            backend: Backend::Sqlite,
            records: 10_000,
            history: 130_000,
            devices: 50,
            day_children: 60,
            repeat: 3,
            push_batch: None,
            pull_limit: None,
            pull_limit_max: None,
            ahead: true,
            dirs: Dirs::default(),
            seed: 2026,
            tablet_exe: None,
            phases: false,
        }
    }
}

impl Options {
    /// A device spec with this run's batch settings.
    pub fn spec(&self, username: &str, on_disk: bool) -> DeviceSpec {
        let mut s = DeviceSpec::new(
            username,
            if on_disk {
                &self.dirs.disk
            } else {
                &self.dirs.scratch
            },
        );
        s.push_batch = self.push_batch;
        s.pull_limit = self.pull_limit;
        s.pull_limit_max = self.pull_limit_max;
        s.ahead = self.ahead;
        s
    }
}

/// Issues a code and enrols a tablet through `url` (the server or a proxy).
pub async fn enrol(server: &SimServer, url: &str, spec: &DeviceSpec) -> Result<SimDevice> {
    let code = server.code(&spec.username).await?;
    SimDevice::enrol(url, &code, spec).await
}

/// Records a posyandu's history on `dev` until its outbox holds `budget` changes: families
/// registered for about `under_five` children under five at any time, then monthly
/// posyandu days going back as far as needed (at most ten years).
pub fn record_history(
    dev: &mut SimDevice,
    village: &mut Village,
    under_five: usize,
    budget: u64,
) -> Result<u64> {
    let today = dev.store.today()?;
    // About 4 changes a child a month (85 % come): enough months for the budget.
    let per_month = (under_five as u64 * 3).max(1);
    let months = (budget / per_month + 2).min(120) as u32;
    let span = months + 60;
    let children = under_five as u64 * u64::from(span) / 60;
    let families = (children * 2 / 3).max(1) as usize;
    let born_from = today
        .checked_sub_months(chrono::Months::new(span))
        .ok_or_else(|| SimError::Check("date out of range".into()))?;
    village.register_families(&mut dev.store, families, born_from, today)?;
    village.history(&mut dev.store, months, today, budget)?;
    dev.pending()
}

/// Runs `f` on a blocking thread with owned state (a tablet's SQLite work must not hold up
/// the runtime's workers, which also serve the district server).
pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| SimError::Check(format!("a blocking task failed: {e}")))?
}

/// Runs one scenario by name.
pub async fn run(name: &str, o: &Options) -> Result<Report> {
    let started = Instant::now();
    eprintln!("== {name} ({}) ==", o.backend);
    let r = match name {
        "wire" => wire(o).await,
        "push-pull" => push_pull(o).await,
        "fresh-device" => fresh_device(o).await,
        "posyandu-day" => posyandu_day(o).await,
        "many-devices" => many_devices(o).await,
        "profile" => profile(o).await,
        other => Err(SimError::Check(format!("unknown scenario {other:?}"))),
    };
    eprintln!(
        "   ({name}: {:.1} s in all)",
        started.elapsed().as_secs_f64()
    );
    r
}

/// Scenarios run on their own only (not by `all`).
pub const EXTRA: [&str; 1] = ["profile"];

/// Every scenario, in the order `all` runs them.
pub const ALL: [&str; 5] = [
    "wire",
    "push-pull",
    "posyandu-day",
    "many-devices",
    "fresh-device",
];

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Small runs of every scenario but the 2G one: the counts add up (each scenario checks
    /// that every record pushed arrived). No timing is asserted.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn the_scenarios_run_and_their_counts_add_up() {
        let o = Options {
            records: 400,
            history: 900,
            devices: 4,
            day_children: 8,
            repeat: 1,
            ..Options::default()
        };
        let r = wire(&o).await.unwrap();
        let per_record = r
            .rows
            .iter()
            .find(|x| x.measure.starts_with("push: bytes up per record"))
            .unwrap()
            .value;
        assert!(per_record > 10.0 && per_record < 400.0, "{per_record}");
        push_pull(&o).await.unwrap();
        many_devices(&o).await.unwrap();
        let r = fresh_device(&o).await.unwrap();
        assert!(
            r.rows
                .iter()
                .any(|x| x.measure == "records received" && x.value >= 900.0)
        );
    }

    /// `fresh-device --phases`: the timeline holds the enrolment's parts, one Argon2id timed
    /// alone, and a line for every pull page; the run reports the tablet's CPU.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn the_fresh_tablets_timeline_has_every_page() {
        let o = Options {
            history: 900,
            pull_limit: Some(100),
            pull_limit_max: Some(100),
            phases: true,
            ..Options::default()
        };
        let r = fresh_device(&o).await.unwrap();
        let pages = r.notes.iter().filter(|n| n.starts_with("page ")).count();
        assert!(pages >= 9, "{:?}", r.notes);
        assert!(
            r.notes
                .iter()
                .any(|n| n.starts_with("phase store creation"))
        );
        assert!(r.notes.iter().any(|n| n.contains("Argon2id seal")));
        assert!(r.notes.iter().any(|n| n.starts_with("phase pull summary")));
        assert!(
            r.rows
                .iter()
                .any(|x| x.measure.starts_with("CPU of the tablet") && x.value > 0.0)
        );
    }

    /// The day's own count of its changes (used to stop at a budget) matches the outbox.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_posyandu_day_counts_its_changes() {
        let server = SimServer::start(Backend::Sqlite).await.unwrap();
        let o = Options::default();
        let mut dev = enrol(&server, &server.url(), &o.spec("kader.mawar", false))
            .await
            .unwrap();
        let mut v = Village::new("53.04.05.2001.P01", 7);
        let today = dev.store.today().unwrap();
        let from = today.checked_sub_months(chrono::Months::new(59)).unwrap();
        v.register_children(&mut dev.store, 20, from, today)
            .unwrap();
        let which = v.under_five(today);
        assert!(which.len() >= 20);
        let before = dev.pending().unwrap();
        let day = v
            .posyandu_day(&mut dev.store, today, &which, 100, 40)
            .unwrap();
        assert_eq!(dev.pending().unwrap() - before, day.changes);
        assert!(day.changes >= 40 && day.changes < 52, "{}", day.changes);
        server.stop().await.unwrap();
    }
}
