//! Load benchmark of the district server over real HTTP on loopback, on both backends.
//!
//! ```text
//! CARGO_TARGET_DIR=/work/target-server cargo bench -p district-server --bench sync_load -- \
//!     [--backend sqlite|postgres|both] [--devices 2000] [--day 150] \
//!     [--ingest-devices 50] [--ingest-changes 200000] [--concurrency 64] [--spread-s 0] \
//!     [--report-runs 20] [--report-persons 0] [--report-cold-runs 0] [--reports-only]
//! ```
//!
//! 0. **Fill** (`--report-persons N`, N > 0): a kabupaten's read model for step 5, pushed
//!    through the store (see [`fill`]); `ANALYZE` after it. `--reports-only` then skips steps
//!    1 to 4.
//!
//! 1. **Ingest**: `ingest-devices` devices push `ingest-changes` changes in all, in batches of
//!    1,000, zstd-compressed, all at once: accepted changes per second.
//! 2. **Posyandu day**: `devices` devices (each a kader of its own posyandu) each do what a
//!    tablet does after a posyandu day: status, one push of `day` changes, status; at most
//!    `concurrency` devices at a time. Wall time and request latency percentiles.
//!    **2b.** `[--lone-pushes N]`: N more tablets each push a posyandu day of `day` changes
//!    alone on an otherwise idle server (the read model has merged the whole log before
//!    each push): the latency a tablet sees (p50, p95, max) and the read model's lag right
//!    after each answer (changes of the log not merged yet: at most the push just answered)
//!    and how long after the answer it had merged the push ([`lone_pushes`]).
//! 3. **Pull**: a dinas admin pulls the whole district in pages of 2,000 (zstd), and a second
//!    tablet of every day kader pulls its posyandu: changes per second. (The tablet that
//!    pushed the day is not sent its own changes back; its pull is timed too, as the cost
//!    of a pull with nothing new.)
//!
//! 4. **Reindex**: the read model rebuilt from the whole log (`jangkau-server reindex`).
//!    `[--kab-persons N]` first adds, straight into the log (SQL, not HTTP: the push path
//!    is measured by steps 1 and 2), the history of a kabupaten: `N` children over 400
//!    posyandu, each created, visited, weighed and measured in three months, one in three
//!    immunised, and each renamed once by a later edit that saw the first name (about 11.3
//!    changes per child: 210,000 children give about 2.4 million changes), as the push
//!    would log them (`changes` and `records` rows). `[--reindex-batch 2000]`: changes per
//!    rebuild transaction.
//! 5. **Reports**: a dinas admin asks each `/v1/reports` route for the whole kabupaten
//!    (`place=53.04`, the month of the day's data) `report-runs` times, one at a time:
//!    p50 and p95 per route (`[--report-runs 20]`); the first computes the answer, the others
//!    may be served from the report cache. With a fill, then `report-cold-runs` times each
//!    right after a one-change push (the answer computed afresh, as after every push).
//! 6. **Dasbor**: the dinas admin opens each web dashboard page for the whole kabupaten
//!    (gzip, as a browser asks) `report-runs` times: p50 and p95 of the server's time, and the
//!    page weight (gzipped HTML + the stylesheet + the script, what a first load fetches),
//!    after an `ANALYZE` (fresh planner statistics, as autovacuum leaves them; without it the
//!    PostgreSQL report queries right after a bulk fill take seconds, see docs/BENCHMARKS.md)
//!    (`[--dash-runs 10]`). With a fill and `--report-cold-runs`: first one view of each page
//!    as before the pages used the report parts, each page's first (cold) view, and the
//!    views right after a one-change push.
//! 7. **Restart** (with a fill and `--report-cold-runs`): a server started again on the same
//!    database, not warmed (as main: the first request computes the whole kabupaten) and
//!    warmed (the questions asked before, from `report_questions`): the time to warm, the
//!    first request of each health report and dashboard page.
//!
//! Request bodies are encoded before the clock starts, so the figures are the server's.

use district_server::auth::{self, PasswordCost};
use district_server::model::{NewDevice, Place, User, now_ms};
use district_server::storage::postgres::scratch;
use district_server::{AppState, Storage};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use sync_protocol::codec::{Encoding, compress, decompress};
use sync_protocol::{
    Change, DeviceId, EntityKind, Hlc, Limits, PlaceLevel, RecordId, Role, Scope, UserId,
};
use tokio::sync::Semaphore;

/// The server binary's allocator (`src/main.rs`), so that the figures are the server's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Args {
    backends: Vec<&'static str>,
    devices: usize,
    day: usize,
    ingest_devices: usize,
    ingest_changes: usize,
    concurrency: usize,
    /// Spread the day devices' arrivals evenly over this many seconds (0: all at once).
    spread_s: u64,
    /// How many times each report route is asked (step 5).
    report_runs: usize,
    /// Children of the kabupaten history filled into the log before the reindex (0: none).
    kab_persons: usize,
    /// Changes per rebuild transaction (step 4).
    reindex_batch: usize,
    /// Step 0: a kabupaten's worth of persons pushed before everything else (0: none).
    report_persons: usize,
    /// Only steps 0 and 5 (fill, reports): no ingest, day, pull or reindex.
    reports_only: bool,
    /// Step 5 also asks each route this many times right after a one-change push (the
    /// answer computed afresh, as after every push of the day).
    report_cold_runs: usize,
    /// How many times each dashboard page is asked (step 6).
    dash_runs: usize,
    /// `--growth 10000,50000,…`: instead of steps 1 to 7, ingest and pull measured with this
    /// many changes already in the log, level after level ([`growth`]).
    growth: Vec<usize>,
    /// `--ingest-only`: step 1 alone (then the fixture is dropped).
    ingest_only: bool,
    /// Step 2b: this many posyandu days pushed one at a time on an idle server.
    lone_pushes: usize,
}

fn parse_args() -> Args {
    let mut a = Args {
        backends: vec!["sqlite", "postgres"],
        devices: 2000,
        day: 150,
        ingest_devices: 50,
        ingest_changes: 200_000,
        concurrency: 64,
        spread_s: 0,
        report_runs: 20,
        kab_persons: 0,
        reindex_batch: district_server::readmodel::STEP_CHANGES,
        report_persons: 0,
        reports_only: false,
        report_cold_runs: 0,
        dash_runs: 10,
        growth: Vec::new(),
        ingest_only: false,
        lone_pushes: 0,
    };
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < argv.len() {
        let val = argv.get(i + 1).cloned().unwrap_or_default();
        let num = val.parse::<usize>().ok();
        match argv[i].as_str() {
            "--backend" => {
                a.backends = match val.as_str() {
                    "sqlite" => vec!["sqlite"],
                    "postgres" => vec!["postgres"],
                    _ => vec!["sqlite", "postgres"],
                };
            }
            "--devices" => a.devices = num.unwrap_or(a.devices),
            "--day" => a.day = num.unwrap_or(a.day),
            "--ingest-devices" => a.ingest_devices = num.unwrap_or(a.ingest_devices),
            "--ingest-changes" => a.ingest_changes = num.unwrap_or(a.ingest_changes),
            "--concurrency" => a.concurrency = num.unwrap_or(a.concurrency),
            "--spread-s" => a.spread_s = num.map_or(a.spread_s, |n| n as u64),
            "--report-runs" => a.report_runs = num.unwrap_or(a.report_runs),
            "--kab-persons" => a.kab_persons = num.unwrap_or(a.kab_persons),
            "--reindex-batch" => a.reindex_batch = num.unwrap_or(a.reindex_batch),
            "--report-persons" => a.report_persons = num.unwrap_or(a.report_persons),
            "--report-cold-runs" => a.report_cold_runs = num.unwrap_or(a.report_cold_runs),
            "--ingest-only" => {
                a.ingest_only = true;
                i += 1;
                continue;
            }
            "--reports-only" => {
                a.reports_only = true;
                i += 1;
                continue;
            }
            "--dash-runs" => a.dash_runs = num.unwrap_or(a.dash_runs),
            "--lone-pushes" => a.lone_pushes = num.unwrap_or(a.lone_pushes),
            "--growth" => {
                a.growth = val
                    .split(',')
                    .filter_map(|n| n.trim().parse().ok())
                    .collect();
            }
            _ => {
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    a
}

/// One simulated tablet: its identity, its posyandu and its session.
#[derive(Clone)]
struct Tablet {
    device: DeviceId,
    user: UserId,
    posyandu: String,
    bearer: String,
}

/// A posyandu day of `n` changes: for each child a person, a visit, a weight, a length or
/// height, and for one in three an immunisation.
fn posyandu_day(t: &Tablet, first_seq: u64, n: usize, seed: u64) -> Vec<Change> {
    let mut out = Vec::with_capacity(n);
    let mut seq = first_seq;
    let base_ms = now_ms() - 3_600_000;
    let mut child = 0u64;
    let mut push =
        |out: &mut Vec<Change>, id: RecordId, kind: EntityKind, body: serde_json::Value| {
            out.push(Change {
                id,
                kind,
                device: t.device,
                seq,
                hlc: Hlc {
                    wall_ms: base_ms + seq * 10,
                    counter: 0,
                },
                author: t.user,
                schema: 1,
                tombstone: false,
                supersedes: None,
                base: Default::default(),
                body: body.as_object().cloned().unwrap_or_default(),
            });
            seq += 1;
        };
    while out.len() < n {
        child += 1;
        let person = RecordId::new_v7();
        let p = person.to_string();
        let months = (seed.wrapping_mul(31).wrapping_add(child * 7)) % 59;
        push(
            &mut out,
            person,
            EntityKind::Person,
            json!({"posyandu": t.posyandu, "name": format!("Anak Contoh {child}"), "sex": if child.is_multiple_of(2) { "female" } else { "male" }, "birth_date": "2023-05-10"}),
        );
        let visit = RecordId::new_v7();
        push(
            &mut out,
            visit,
            EntityKind::Visit,
            json!({"posyandu": t.posyandu, "person": p, "type": "posyandu", "date": "2025-11-22"}),
        );
        let weight = 3.0 + months as f64 * 0.2;
        push(
            &mut out,
            RecordId::new_v7(),
            EntityKind::Measurement,
            json!({"posyandu": t.posyandu, "person": p, "visit": visit.to_string(), "type": "weight", "value": (weight * 10.0).round() / 10.0, "unit": "kg"}),
        );
        push(
            &mut out,
            RecordId::new_v7(),
            EntityKind::Measurement,
            json!({"posyandu": t.posyandu, "person": p, "visit": visit.to_string(), "type": "length_height", "value": 50.0 + months as f64, "unit": "cm", "position": if months < 24 { "lying" } else { "standing" }}),
        );
        if child.is_multiple_of(3) {
            push(
                &mut out,
                RecordId::new_v7(),
                EntityKind::Immunisation,
                json!({"posyandu": t.posyandu, "person": p, "vaccine": "MR1", "date": "2025-11-22"}),
            );
        }
    }
    out.truncate(n);
    out
}

struct Fixture {
    store: Arc<dyn Storage>,
    /// The server's report cache (the questions asked are written from it before a restart).
    reports: Arc<district_server::readmodel::cache::ReportCache>,
    cfg: district_server::Config,
    /// The database (a SQLite file or a PostgreSQL URL), for the direct fill of step 4.
    url: String,
    base: String,
    http: reqwest::Client,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<()>,
    pg_name: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

async fn fixture(backend: &str) -> Fixture {
    let (url, pg_name, dir) = if backend == "postgres" {
        let (name, url) = scratch::create()
            .await
            .expect("PostgreSQL scratch database");
        (url, Some(name), None)
    } else {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = dir.path().join("bench.db").to_string_lossy().to_string();
        (url, None, Some(dir))
    };
    let store = district_server::storage::open(&url).await.expect("open");
    store.migrate().await.expect("migrate");
    district_server::admin::demo(store.as_ref(), PasswordCost::TEST, 24, false)
        .await
        .expect("demo");
    let cfg = district_server::Config {
        database_url: district_server::config::DatabaseUrl(url.clone()),
        password_cost: PasswordCost::TEST,
        rate_limits: district_server::config::RateLimits {
            enrol_per_minute: 1_000_000,
            login_per_minute: 1_000_000,
        },
        ..district_server::Config::default()
    };
    let srv = Srv::start(store.clone(), cfg.clone()).await;
    Fixture {
        store,
        reports: srv.reports,
        cfg,
        url,
        base: srv.base,
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(512)
            .timeout(Duration::from_secs(120))
            .build()
            .expect("client"),
        stop: srv.stop,
        server: srv.server,
        pg_name,
        _dir: dir,
    }
}

/// A server on loopback with its own state (a fresh report cache: a started server).
struct Srv {
    reports: Arc<district_server::readmodel::cache::ReportCache>,
    base: String,
    stop: tokio::sync::oneshot::Sender<()>,
    server: tokio::task::JoinHandle<()>,
}

impl Srv {
    async fn start(store: Arc<dyn Storage>, cfg: district_server::Config) -> Srv {
        let state = AppState::new(store, cfg).expect("state");
        let reports = state.reports.clone();
        let app = district_server::router(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let (stop, rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(async move {
            let _ = district_server::http::serve_listener(
                listener,
                app,
                async move {
                    let _ = rx.await;
                },
                Duration::from_secs(30),
            )
            .await;
        });
        Srv {
            reports,
            base: format!("http://{addr}"),
            stop,
            server,
        }
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.server.await;
    }
}

/// Makes `n` kader, each with a posyandu of their own, an enrolled device and a session,
/// directly in storage (the benchmark is about sync, not about Argon2).
async fn tablets(store: &dyn Storage, prefix: &str, n: usize) -> Vec<Tablet> {
    let places: Vec<Place> = (0..n)
        .map(|i| Place {
            code: format!("53.04.05.2003.{prefix}{i}"),
            name: format!("Posyandu Bench {prefix}{i}"),
            level: PlaceLevel::Posyandu,
            parent: Some("53.04.05.2003".into()),
        })
        .collect();
    store.import_places(places.clone()).await.expect("places");
    let hash = auth::hash_password("bench-secret", PasswordCost::TEST).expect("hash");
    let mut out = Vec::with_capacity(n);
    for p in places {
        let user = User {
            id: UserId::new_v7(),
            username: format!("bench.{}", p.code.replace('.', "_").to_lowercase()),
            display_name: "Kader Bench".into(),
            role: Role::Kader,
            scope: Scope {
                level: PlaceLevel::Posyandu,
                place: p.code.clone(),
            },
            secret_hash: hash.clone(),
            disabled: false,
        };
        store.create_user(user.clone()).await.expect("user");
        out.push(enrol_tablet(store, user.id, p.code).await);
    }
    out
}

/// Enrols a tablet for `user` (of `posyandu`) and opens a session on it.
async fn enrol_tablet(store: &dyn Storage, user: UserId, posyandu: String) -> Tablet {
    let code = auth::new_enrol_code().expect("code");
    let code_hash = auth::hash_secret(&auth::normalise_code(&code).expect("normal"));
    let now = now_ms();
    store
        .create_enrol_code(code_hash.clone(), user, now, now + 3_600_000)
        .await
        .expect("code");
    let device = store
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
        .expect("code accepted");
    let token = auth::new_token().expect("token");
    store
        .create_session(
            auth::hash_secret(&token),
            user,
            device.id,
            now,
            now + 86_400_000,
            None,
        )
        .await
        .expect("session");
    Tablet {
        device: device.id,
        user,
        posyandu,
        bearer: format!("Bearer {token}"),
    }
}

/// A dinas admin's session (`Bearer bench-dinas-session`) on an enrolled laptop.
async fn dinas_session(f: &Fixture) {
    let dinas = district_server::admin::issue_enrol_code(f.store.as_ref(), "dinas", 1)
        .await
        .expect("code");
    let code_hash = auth::hash_secret(&auth::normalise_code(&dinas).expect("code"));
    let now = now_ms();
    let dev = f
        .store
        .enrol(
            code_hash,
            NewDevice {
                id: DeviceId::new_v7(),
                name: "Dinas laptop".into(),
                token_hash: auth::hash_secret("bench-dinas-device"),
                app_version: "bench".into(),
                now,
            },
        )
        .await
        .expect("enrol")
        .expect("code");
    let dinas_user = f
        .store
        .user_by_username("dinas".into())
        .await
        .expect("user")
        .expect("dinas");
    f.store
        .create_session(
            auth::hash_secret("bench-dinas-session"),
            dinas_user.id,
            dev.id,
            now,
            now + 3_600_000,
            None,
        )
        .await
        .expect("session");
}

async fn post(
    f: &Fixture,
    path: &str,
    bearer: &str,
    body: Vec<u8>,
    zstd: bool,
) -> (u16, Vec<u8>, Duration) {
    let started = Instant::now();
    let mut req = f
        .http
        .post(format!("{}{path}", f.base))
        .header("Jangkau-Protocol", "1")
        .header("Authorization", bearer)
        .header("Accept-Encoding", "zstd");
    if zstd {
        req = req.header("Content-Encoding", "zstd");
    }
    let resp = req.body(body).send().await.expect("request");
    let status = resp.status().as_u16();
    let enc = resp
        .headers()
        .get("content-encoding")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let bytes = resp.bytes().await.expect("body").to_vec();
    let elapsed = started.elapsed();
    let plain = match enc.as_deref() {
        Some("zstd") => decompress(&bytes, Encoding::Zstd, &Limits::default()).expect("zstd"),
        _ => bytes,
    };
    (status, plain, elapsed)
}

/// What the server's `/metrics` says of pulls: total server time and count of the pull route,
/// and (when the server has it) the histogram of pulls that sent nothing.
#[derive(Debug, Clone, Default)]
struct PullMetrics {
    sum_s: f64,
    count: f64,
    /// `(le, cumulative count)` of `jangkau_pull_nothing_new_seconds`.
    empty: Vec<(f64, f64)>,
}

async fn pull_metrics(f: &Fixture) -> PullMetrics {
    let text = f
        .http
        .get(format!("{}/metrics", f.base))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("metrics text");
    let mut m = PullMetrics::default();
    for line in text.lines() {
        let value = |l: &str| {
            l.rsplit(' ')
                .next()
                .and_then(|v| v.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        if line.starts_with("jangkau_http_request_seconds_sum{route=\"/v1/sync/pull\"}") {
            m.sum_s = value(line);
        } else if line.starts_with("jangkau_http_request_seconds_count{route=\"/v1/sync/pull\"}") {
            m.count = value(line);
        } else if let Some(rest) =
            line.strip_prefix("jangkau_pull_nothing_new_seconds_bucket{le=\"")
            && let Some((le, _)) = rest.split_once('"')
            && let Ok(le) = le.parse::<f64>()
        {
            m.empty.push((le, value(line)));
        }
    }
    m
}

/// Server time of the pulls between two scrapes: mean of every pull, and the bucket bounds
/// of the p50 and p99 of those that sent nothing (when the server keeps that histogram).
fn server_time(before: &PullMetrics, after: &PullMetrics) -> String {
    let n = after.count - before.count;
    let mean = if n > 0.0 {
        (after.sum_s - before.sum_s) / n * 1000.0
    } else {
        0.0
    };
    let mut out = format!("server time per pull mean {mean:.3} ms");
    let total = after.empty.last().map_or(0.0, |b| b.1) - before.empty.last().map_or(0.0, |b| b.1);
    if !after.empty.is_empty() && before.empty.len() == after.empty.len() {
        let delta: Vec<(f64, f64)> = after
            .empty
            .iter()
            .zip(&before.empty)
            .map(|(a, b)| (a.0, a.1 - b.1))
            .collect();
        // The +Inf bucket is not parsed (not a number): count above the last bound as such.
        let q = |p: f64| {
            let want = (total * p).ceil().max(1.0);
            delta
                .iter()
                .find(|(_, c)| *c >= want)
                .map_or("> 1000".to_string(), |(le, _)| {
                    format!("<= {:.2}", le * 1000.0)
                })
        };
        let counted: f64 = delta.last().map_or(0.0, |d| d.1);
        out.push_str(&format!(
            "; nothing-new pulls {counted:.0}: p50 {} ms, p99 {} ms",
            q(0.5),
            q(0.99)
        ));
    }
    out
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

/// Outcomes `accepted` in a push's answer, counted in its bytes (no parse: the client's CPU
/// is not the server's).
fn accepted_in(body: &[u8]) -> usize {
    let needle = b"\"status\":\"accepted\"";
    body.windows(needle.len()).filter(|w| w == needle).count()
}

fn push_body(changes: &[Change]) -> Vec<u8> {
    let json = serde_json::to_vec(&json!({"v": 1, "changes": changes})).expect("json");
    compress(&json, Encoding::Zstd).expect("zstd")
}

async fn run_backend(backend: &'static str, a: &Args) {
    println!("== {backend} ==");
    let f = Arc::new(fixture(backend).await);
    dinas_session(&f).await;
    let filler = if a.report_persons > 0 {
        Some(fill::kabupaten(f.store.as_ref(), a.report_persons).await)
    } else {
        None
    };
    if !a.growth.is_empty() || a.ingest_only {
        if a.ingest_only {
            ingest(&f, a).await;
        } else {
            growth(&f, a).await;
        }
        let Ok(f) = Arc::try_unwrap(f) else {
            return;
        };
        let _ = f.stop.send(());
        let _ = f.server.await;
        drop(f.store);
        if let Some(name) = f.pg_name {
            let _ = scratch::drop(&name).await;
        }
        return;
    }
    if !a.reports_only {
        sync_phases(&f, backend, a).await;
    }
    // 5. Each report of the whole kabupaten, as the dinas dashboard asks it.
    reports(
        &f,
        "Bearer bench-dinas-session",
        a.report_runs,
        a.report_cold_runs,
        filler.as_ref(),
    )
    .await;

    // 6. The web dashboard's pages of the whole kabupaten.
    let cookie = dash_session(&f).await;
    let fill = filler.as_ref().filter(|_| a.report_cold_runs > 0);
    dashboard(&f, &cookie, a.dash_runs, fill).await;
    // 7. A restart: the first requests, not warmed (as main) and warmed.
    if fill.is_some() {
        restart(&f, "Bearer bench-dinas-session", &cookie).await;
    }

    let Ok(f) = Arc::try_unwrap(f) else {
        println!("(fixture still shared; not cleaned up)");
        return;
    };
    let _ = f.stop.send(());
    let _ = f.server.await;
    drop(f.store);
    if let Some(name) = f.pg_name {
        let _ = scratch::drop(&name).await;
    }
}

/// Pushes prepared bodies (`(bearer, bodies)` per device, each device's pushes in order, the
/// devices at once), timed: accepted changes, seconds, CPU seconds of this process.
async fn timed_ingest(f: &Arc<Fixture>, bodies: Vec<(String, Vec<Vec<u8>>)>) -> (usize, f64, f64) {
    let cpu_before = cpu::process().as_secs_f64();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (bearer, batches) in bodies {
        let f = f.clone();
        tasks.push(tokio::spawn(async move {
            let mut accepted = 0usize;
            for b in batches {
                let (s, body, _) = post(&f, "/v1/sync/push", &bearer, b, true).await;
                assert_eq!(s, 200, "{}", String::from_utf8_lossy(&body));
                accepted += accepted_in(&body);
            }
            accepted
        }));
    }
    let mut accepted = 0;
    for t in tasks {
        accepted += t.await.expect("task");
    }
    let secs = started.elapsed().as_secs_f64();
    (accepted, secs, cpu::process().as_secs_f64() - cpu_before)
}

/// Waits until the read model has merged the whole log (at once when it is off); returns
/// the time waited.
/// PostgreSQL: the bytes of WAL the cluster has written so far (every database's: a figure
/// of this bench's only when nothing else writes to the server meanwhile).
async fn wal_written(f: &Fixture, backend: &str) -> Option<i64> {
    if backend != "postgres" {
        return None;
    }
    let (c, conn) = tokio_postgres::connect(&f.url, tokio_postgres::NoTls)
        .await
        .ok()?;
    let task = tokio::spawn(conn);
    let lsn = c
        .query_one(
            "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '0/0')::int8",
            &[],
        )
        .await
        .ok()
        .and_then(|r| r.try_get::<_, i64>(0).ok());
    drop(c);
    let _ = task.await;
    lsn
}

async fn caught_up(f: &Fixture) -> Duration {
    let started = Instant::now();
    if std::env::var("JANGKAU_BENCH_WITHOUT_READ_MODEL").as_deref() == Ok("1") {
        return Duration::ZERO;
    }
    loop {
        let st = f.store.read_model_state().await.expect("state");
        if !st.behind() {
            return started.elapsed();
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// `--growth L1,L2,…`: for each level, the log is filled (untimed, over HTTP, by devices of
/// their own) until it holds `L` changes; then `ingest-devices` new devices push
/// `ingest-changes` changes (timed as step 1), and the dinas admin pulls exactly those new
/// changes (pages of 2,000, from a cursor at the log's end before the ingest) and then the
/// whole log from the start: the cost of an ingest and of a pull as the log grows.
async fn growth(f: &Arc<Fixture>, a: &Args) {
    let dinas = f
        .store
        .user_by_username("dinas".into())
        .await
        .expect("user")
        .expect("dinas");
    let bodies_for = |tabs: &[Tablet], total: usize, seed: u64| {
        let per = total.div_ceil(tabs.len().max(1));
        tabs.iter()
            .enumerate()
            .map(|(i, t)| {
                let day = posyandu_day(t, 1, per, seed + i as u64);
                (t.bearer.clone(), day.chunks(1000).map(push_body).collect())
            })
            .collect::<Vec<(String, Vec<Vec<u8>>)>>()
    };
    let pull_from = |after: i64| {
        let cursor = district_server::sync::encode_cursor(after, &dinas.scope);
        async move {
            let started = Instant::now();
            let mut cursor = Some(cursor);
            let mut pulled = 0usize;
            loop {
                let mut req = json!({"v":1,"limit":2000});
                if let Some(c) = &cursor {
                    req["cursor"] = json!(c);
                }
                let (s, body, _) = post(
                    f,
                    "/v1/sync/pull",
                    "Bearer bench-dinas-session",
                    serde_json::to_vec(&req).expect("json"),
                    false,
                )
                .await;
                assert_eq!(s, 200);
                let page: sync_protocol::PullResponse =
                    serde_json::from_slice(&body).expect("page");
                pulled += page.changes.len();
                cursor = Some(page.cursor);
                if !page.has_more {
                    break;
                }
            }
            (pulled, started.elapsed().as_secs_f64())
        }
    };
    println!(
        "| changes in the log before | ingest of {} changes ({} devices) | CPU of this process per change | read model caught up after the last answer | pull of those changes | pull of the whole log |",
        a.ingest_changes, a.ingest_devices
    );
    println!("|---|---|---|---|---|---|");
    for (round, &level) in a.growth.iter().enumerate() {
        let in_log = f.store.read_model_state().await.expect("state").log_end as usize;
        if level > in_log {
            let fillers = tablets(f.store.as_ref(), &format!("G{round}x"), 10).await;
            let bodies = bodies_for(&fillers, level - in_log, 10_000 * (round as u64 + 1));
            let _ = timed_ingest(f, bodies).await;
        }
        caught_up(f).await;
        let head = f.store.read_model_state().await.expect("state").log_end;
        let devices = tablets(f.store.as_ref(), &format!("G{round}m"), a.ingest_devices).await;
        let bodies = bodies_for(&devices, a.ingest_changes, 20_000 * (round as u64 + 1));
        let (accepted, secs, cpu) = timed_ingest(f, bodies).await;
        let behind = caught_up(f).await;
        let (new, new_s) = pull_from(head).await;
        let (all, all_s) = pull_from(0).await;
        println!(
            "| {head} | {:.0} /s | {:.1} us | {:.0} ms | {new} in {:.2} s = {:.0} /s | {all} in {:.2} s = {:.0} /s |",
            accepted as f64 / secs,
            cpu * 1e6 / accepted.max(1) as f64,
            behind.as_secs_f64() * 1000.0,
            new_s,
            new as f64 / new_s,
            all_s,
            all as f64 / all_s
        );
    }
}

/// Steps 1 to 4: ingest, posyandu day, pull, reindex.
async fn sync_phases(f: &Arc<Fixture>, backend: &str, a: &Args) {
    ingest(f, a).await;
    sync_after_ingest(f, backend, a).await;
}

/// Step 1: ingest.
async fn ingest(f: &Arc<Fixture>, a: &Args) {
    let backend = f.store.backend();
    let per_device = a.ingest_changes.div_ceil(a.ingest_devices.max(1));
    let ingest = tablets(f.store.as_ref(), "I", a.ingest_devices).await;
    let mut bodies: Vec<(String, Vec<Vec<u8>>)> = Vec::new();
    for (i, t) in ingest.iter().enumerate() {
        let day = posyandu_day(t, 1, per_device, i as u64);
        bodies.push((t.bearer.clone(), day.chunks(1000).map(push_body).collect()));
    }
    // How far the read model's follower runs behind the log during the ingest (changes
    // logged but not merged yet; reads wait for them), sampled every 10 ms.
    let with_read_model = std::env::var("JANGKAU_BENCH_WITHOUT_READ_MODEL").as_deref() != Ok("1");
    let sampling = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let (f, sampling) = (f.clone(), sampling.clone());
        tokio::spawn(async move {
            let mut max_behind = 0i64;
            while with_read_model && sampling.load(std::sync::atomic::Ordering::Relaxed) {
                if let Ok(st) = f.store.read_model_state().await {
                    max_behind = max_behind.max(st.log_end - st.applied_through);
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            max_behind
        })
    };
    let cpu_before = cpu::process().as_secs_f64();
    let pg_before =
        (backend == "postgres").then(|| cpu::postgres(f.pg_name.as_deref()).as_secs_f64());
    let (accepted, secs, cpu) = timed_ingest(f, bodies).await;
    println!(
        "ingest: {accepted} changes from {} devices in {secs:.2} s = {:.0} changes/s",
        a.ingest_devices,
        accepted as f64 / secs
    );
    let per = |s: f64| s * 1e6 / accepted.max(1) as f64;
    match pg_before {
        Some(pg0) => {
            let pg = cpu::postgres(f.pg_name.as_deref()).as_secs_f64() - pg0;
            println!(
                "ingest: CPU {cpu:.2} s in this process (server and load generator) = {:.1} us/change; postgres processes {pg:.2} s = {:.1} us/change",
                per(cpu),
                per(pg)
            );
        }
        None => println!(
            "ingest: CPU {cpu:.2} s in this process (server and load generator) = {:.1} us/change",
            per(cpu)
        ),
    }
    sampling.store(false, std::sync::atomic::Ordering::Relaxed);
    let max_behind = sampler.await.expect("sampler");
    if with_read_model {
        // The read model catches up after the last push was answered.
        let waited = caught_up(f).await;
        let cpu = cpu::process().as_secs_f64() - cpu_before;
        println!(
            "ingest: read model at most {max_behind} changes behind the log during the ingest; caught up {:.0} ms after the last push was answered; CPU of this process until then {cpu:.2} s = {:.1} us/change",
            waited.as_secs_f64() * 1000.0,
            cpu * 1e6 / accepted.max(1) as f64
        );
    }
}

/// Steps 2 to 4: posyandu day, pull, reindex.
async fn sync_after_ingest(f: &Arc<Fixture>, backend: &str, a: &Args) {
    // 2. A posyandu day on many devices.
    let setup = Instant::now();
    let day_tablets = tablets(f.store.as_ref(), "D", a.devices).await;
    println!(
        "day: set up {} devices in {:.1} s",
        a.devices,
        setup.elapsed().as_secs_f64()
    );
    let prepared: Vec<(Tablet, Vec<u8>)> = day_tablets
        .iter()
        .enumerate()
        .map(|(i, t)| {
            (
                t.clone(),
                push_body(&posyandu_day(t, 1, a.day, 1000 + i as u64)),
            )
        })
        .collect();
    let sem = Arc::new(Semaphore::new(a.concurrency.max(1)));
    let wal_before = wal_written(f, backend).await;
    let cpu_before = (cpu::process(), cpu::postgres(f.pg_name.as_deref()));
    let started = Instant::now();
    let mut tasks = Vec::new();
    let n_devices = prepared.len().max(1) as u64;
    for (i, (t, body)) in prepared.into_iter().enumerate() {
        let f = f.clone();
        let sem = sem.clone();
        let last_seq = a.day;
        let arrive = Duration::from_millis(a.spread_s * 1000 * i as u64 / n_devices);
        tasks.push(tokio::spawn(async move {
            tokio::time::sleep_until(tokio::time::Instant::from_std(started) + arrive).await;
            let _permit = sem.acquire_owned().await.expect("semaphore");
            let status =
                serde_json::to_vec(&json!({"v":1,"last_seq":last_seq,"app_version":"bench"}))
                    .expect("json");
            let mut lat = Vec::with_capacity(3);
            let (s, _, d) = post(&f, "/v1/sync/status", &t.bearer, status.clone(), false).await;
            assert_eq!(s, 200);
            lat.push(("status", d));
            let (s, body, d) = post(&f, "/v1/sync/push", &t.bearer, body, true).await;
            assert_eq!(s, 200, "{}", String::from_utf8_lossy(&body));
            lat.push(("push", d));
            let (s, body, d) = post(&f, "/v1/sync/status", &t.bearer, status, false).await;
            assert_eq!(s, 200);
            let v: serde_json::Value = serde_json::from_slice(&body).expect("json");
            assert_eq!(v["acked_seq"], json!(last_seq), "every change settled");
            lat.push(("status", d));
            lat
        }));
    }
    let mut all = Vec::new();
    let mut pushes = Vec::new();
    for t in tasks {
        for (what, d) in t.await.expect("task") {
            all.push(d);
            if what == "push" {
                pushes.push(d);
            }
        }
    }
    let wall = started.elapsed();
    // The CPU the day cost, once the read model has merged it (the PostgreSQL follower may
    // still be merging the last push): this process (server and client; the client's part
    // is the same with and without the read model) and the PostgreSQL server processes.
    caught_up(f).await;
    let per_push = |d: Duration| d.as_secs_f64() * 1000.0 / a.devices.max(1) as f64;
    let process = cpu::process().saturating_sub(cpu_before.0);
    let pg = cpu::postgres(f.pg_name.as_deref()).saturating_sub(cpu_before.1);
    println!(
        "day: CPU per push (status, push, status; read model merged): bench process {:.2} ms, postgres processes {:.2} ms, sum {:.2} ms",
        per_push(process),
        if backend == "postgres" {
            per_push(pg)
        } else {
            0.0
        },
        per_push(process)
            + if backend == "postgres" {
                per_push(pg)
            } else {
                0.0
            },
    );
    if let (Some(w0), Some(w1)) = (wal_before, wal_written(f, backend).await) {
        println!(
            "day: WAL per push (the whole cluster's, read model merged): {:.1} KiB",
            (w1 - w0) as f64 / 1024.0 / a.devices.max(1) as f64
        );
    }
    all.sort();
    pushes.sort();
    println!(
        "day: {} devices x {} changes in {:.1} s ({:.0} changes/s), concurrency {}, arrivals over {} s",
        a.devices,
        a.day,
        wall.as_secs_f64(),
        (a.devices * a.day) as f64 / wall.as_secs_f64(),
        a.concurrency,
        a.spread_s
    );
    println!(
        "day: all requests p50 {:.1} ms, p99 {:.1} ms, max {:.0} ms; pushes p50 {:.1} ms, p99 {:.1} ms",
        percentile(&all, 0.5).as_secs_f64() * 1000.0,
        percentile(&all, 0.99).as_secs_f64() * 1000.0,
        all.last().copied().unwrap_or_default().as_secs_f64() * 1000.0,
        percentile(&pushes, 0.5).as_secs_f64() * 1000.0,
        percentile(&pushes, 0.99).as_secs_f64() * 1000.0,
    );

    if a.lone_pushes > 0 {
        lone_pushes(f, a).await;
    }

    // 3. Pull: the whole district by a dinas admin, then each day device its posyandu.
    let started = Instant::now();
    let mut cursor: Option<String> = None;
    let mut pulled = 0usize;
    loop {
        let mut req = json!({"v":1,"limit":2000});
        if let Some(c) = &cursor {
            req["cursor"] = json!(c);
        }
        let (s, body, _) = post(
            f,
            "/v1/sync/pull",
            "Bearer bench-dinas-session",
            serde_json::to_vec(&req).expect("json"),
            false,
        )
        .await;
        assert_eq!(s, 200);
        let page: sync_protocol::PullResponse = serde_json::from_slice(&body).expect("page");
        pulled += page.changes.len();
        cursor = Some(page.cursor);
        if !page.has_more {
            break;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    println!(
        "pull (district, pages of 2000, zstd, decoded): {pulled} changes in {secs:.2} s = {:.0} changes/s",
        pulled as f64 / secs
    );
    // A second tablet of each day kader receives the day; the tablet that pushed it holds it
    // already and is sent none of it.
    let mut readers = Vec::with_capacity(day_tablets.len());
    for t in &day_tablets {
        readers.push(enrol_tablet(f.store.as_ref(), t.user, t.posyandu.clone()).await);
    }
    let readers = readers.into_iter().map(|t| (t, None)).collect();
    let (n, secs, _, p99, _) = pull_each(f, &sem, readers).await;
    println!(
        "pull (another tablet of each kader, its posyandu): {n} changes to {} devices in {secs:.2} s = {:.0} changes/s; p99 {:.0} ms",
        a.devices,
        n as f64 / secs,
        p99.as_secs_f64() * 1000.0
    );
    if a.day <= 2000 {
        assert_eq!(
            n,
            a.devices * a.day,
            "every day change reaches the other tablet"
        );
    }
    let day_tablets = day_tablets.into_iter().map(|t| (t, None)).collect();
    let m0 = pull_metrics(f).await;
    let (n, secs, p50, p99, day_tablets) = pull_each(f, &sem, day_tablets).await;
    let m1 = pull_metrics(f).await;
    println!(
        "pull (each pushing tablet, nothing new to it, first pull: no cursor): {n} changes to {} devices in {secs:.2} s; p50 {:.1} ms, p99 {:.0} ms; {}",
        a.devices,
        p50.as_secs_f64() * 1000.0,
        p99.as_secs_f64() * 1000.0,
        server_time(&m0, &m1)
    );
    // The check-in of every later sync: the same tablets with the cursor they were given.
    let (n, secs, p50, p99, day_tablets) = pull_each(f, &sem, day_tablets).await;
    let m2 = pull_metrics(f).await;
    println!(
        "pull (each pushing tablet again, with its cursor, nothing new): {n} changes to {} devices in {secs:.2} s; p50 {:.1} ms, p99 {:.0} ms; {}",
        a.devices,
        p50.as_secs_f64() * 1000.0,
        p99.as_secs_f64() * 1000.0,
        server_time(&m1, &m2)
    );
    // One at a time: a check-in's own cost, without waiting for the others.
    let one = Arc::new(Semaphore::new(1));
    let sample: Vec<_> = day_tablets.into_iter().take(200).collect();
    let k = sample.len();
    let (n, secs, p50, p99, sample) = pull_each(f, &one, sample).await;
    let m3 = pull_metrics(f).await;
    println!(
        "pull (with cursor, nothing new, one at a time): {n} changes to {k} devices in {secs:.2} s; p50 {:.2} ms, p99 {:.2} ms; {}",
        p50.as_secs_f64() * 1000.0,
        p99.as_secs_f64() * 1000.0,
        server_time(&m2, &m3)
    );
    // The same tablets after another tablet of their area pushed: the check-in reads a page
    // (the change is news), as in a district where others push all day.
    let mut sample = sample;
    for (t, _) in sample.iter_mut().take(1) {
        let other = enrol_tablet(f.store.as_ref(), t.user, t.posyandu.clone()).await;
        let (s, body, _) = post(
            f,
            "/v1/sync/push",
            &other.bearer,
            push_body(&posyandu_day(&other, 1, 1, 99)),
            true,
        )
        .await;
        assert_eq!(s, 200, "{}", String::from_utf8_lossy(&body));
    }
    let (n, secs, p50, p99, _) = pull_each(f, &one, sample).await;
    let m4 = pull_metrics(f).await;
    println!(
        "pull (with cursor after one push elsewhere in the district, one at a time): {n} changes to {k} devices in {secs:.2} s; p50 {:.2} ms, p99 {:.2} ms; {}",
        p50.as_secs_f64() * 1000.0,
        p99.as_secs_f64() * 1000.0,
        server_time(&m3, &m4)
    );

    // 4. The read model rebuilt from the whole log, as `jangkau-server reindex` does.
    if a.kab_persons > 0 {
        let started = Instant::now();
        let kab = tablets(f.store.as_ref(), "K", 400).await;
        let n = fill_kabupaten(f, backend, &kab, a.kab_persons).await;
        println!(
            "reindex: filled the log with a kabupaten history: {} children, {n} changes in {:.1} s",
            a.kab_persons,
            started.elapsed().as_secs_f64()
        );
    }
    let started = Instant::now();
    let (_, done) =
        district_server::readmodel::reindex(f.store.as_ref(), true, a.reindex_batch, |_| {})
            .await
            .expect("reindex");
    let secs = started.elapsed().as_secs_f64();
    let persons = f
        .store
        .read_rows("SELECT COUNT(*) FROM persons".into(), Vec::new())
        .await
        .expect("persons")
        .first()
        .and_then(|r| r.first())
        .and_then(district_server::readmodel::Cell::int)
        .unwrap_or(0);
    println!(
        "reindex: {} changes merged in {secs:.2} s = {:.0} changes/s (batches of {}; {persons} persons in the read model)",
        done.merged,
        done.merged as f64 / secs,
        a.reindex_batch
    );
}

/// The read model's lag now, without waiting for it: `(changes of the log after its cursor,
/// the log's last sseq)`. SQLite: read on a connection of its own (a read through the store
/// waits for the follower); PostgreSQL: the store's state (it does not wait).
async fn lag_now(f: &Fixture, lite: Option<&rusqlite::Connection>) -> (i64, i64) {
    if let Some(c) = lite {
        let row = c
            .query_row(
                "SELECT (SELECT COALESCE(MAX(sseq), 0) FROM changes), applied_through
                 FROM read_model_state WHERE id = 1",
                [],
                |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)),
            )
            .expect("state");
        return (row.0 - row.1, row.0);
    }
    let st = f.store.read_model_state().await.expect("state");
    (st.log_end - st.applied_through, st.log_end)
}

/// Step 2b (`--lone-pushes N`): N tablets of their own each push a posyandu day of `day`
/// changes alone on an otherwise idle server. Before each push the read model has merged the
/// whole log and the server has rested 50 ms; the push is timed as a tablet sees it; right
/// after its answer the read model's lag is read (changes of the log not merged: 0, or the
/// push just answered while the follower merges it; more would be a follower behind by more
/// than one push), then the time until the read model has merged it.
async fn lone_pushes(f: &Arc<Fixture>, a: &Args) {
    let without = std::env::var("JANGKAU_BENCH_WITHOUT_READ_MODEL").as_deref() == Ok("1");
    let lonely = tablets(f.store.as_ref(), "L", a.lone_pushes).await;
    let lite = (f.pg_name.is_none()).then(|| {
        rusqlite::Connection::open_with_flags(&f.url, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .expect("a reader of the bench database")
    });
    let mut latency = Vec::with_capacity(lonely.len());
    let mut merged_after = Vec::with_capacity(lonely.len());
    let mut max_lag = 0i64;
    let mut over = 0usize;
    for (i, t) in lonely.iter().enumerate() {
        let body = push_body(&posyandu_day(t, 1, a.day, 5000 + i as u64));
        caught_up(f).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        let (s, resp, d) = post(f, "/v1/sync/push", &t.bearer, body, true).await;
        assert_eq!(s, 200, "{}", String::from_utf8_lossy(&resp));
        let answered = Instant::now();
        latency.push(d);
        if without {
            continue;
        }
        let (lag, _) = lag_now(f, lite.as_ref()).await;
        max_lag = max_lag.max(lag);
        if lag > a.day as i64 {
            over += 1;
        }
        loop {
            if lag_now(f, lite.as_ref()).await.0 == 0 {
                break;
            }
            tokio::time::sleep(Duration::from_micros(500)).await;
        }
        merged_after.push(answered.elapsed());
    }
    latency.sort();
    merged_after.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "lone pushes ({} of {} changes, idle server): latency p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        latency.len(),
        a.day,
        ms(percentile(&latency, 0.5)),
        ms(percentile(&latency, 0.95)),
        ms(latency.last().copied().unwrap_or_default()),
    );
    if without {
        println!("lone pushes: read model off (JANGKAU_BENCH_WITHOUT_READ_MODEL=1): no lag");
    } else {
        println!(
            "lone pushes: read model lag right after the answer max {max_lag} changes (more than one push: {over} times); merged {:.1} ms (p50) / {:.1} ms (p95) / {:.1} ms (max) after the answer",
            ms(percentile(&merged_after, 0.5)),
            ms(percentile(&merged_after, 0.95)),
            ms(merged_after.last().copied().unwrap_or_default()),
        );
    }
}

/// One child's history in the kabupaten fill: created, visited, weighed and measured in
/// each of three months (a month apart), one in three immunised, renamed once by an edit
/// that saw the first name. `seq` is the device's next sequence number.
fn child_history(t: &Tablet, seq: &mut u64, child: u64, base_ms: u64) -> Vec<Change> {
    let mut out = Vec::with_capacity(12);
    let mut push = |out: &mut Vec<Change>,
                    id: RecordId,
                    kind: EntityKind,
                    wall_ms: u64,
                    base: std::collections::BTreeMap<String, sync_protocol::stamp::Stamp>,
                    body: serde_json::Value| {
        out.push(Change {
            id,
            kind,
            device: t.device,
            seq: *seq,
            hlc: Hlc {
                wall_ms,
                counter: 0,
            },
            author: t.user,
            schema: 1,
            tombstone: false,
            supersedes: None,
            base,
            body: body.as_object().cloned().unwrap_or_default(),
        });
        *seq += 1;
    };
    const MONTH_MS: u64 = 30 * 86_400_000;
    let person = RecordId::new_v7();
    let p = person.to_string();
    let made = base_ms + child;
    push(
        &mut out,
        person,
        EntityKind::Person,
        made,
        Default::default(),
        json!({"posyandu": t.posyandu, "name": format!("Anak {child}"), "sex": if child.is_multiple_of(2) { "female" } else { "male" }, "birth_date": "2023-05-10"}),
    );
    let months = child % 59;
    for (m, date) in ["2025-09-22", "2025-10-22", "2025-11-22"]
        .iter()
        .enumerate()
    {
        let at = made + m as u64 * MONTH_MS + 1;
        let visit = RecordId::new_v7();
        push(
            &mut out,
            visit,
            EntityKind::Visit,
            at,
            Default::default(),
            json!({"posyandu": t.posyandu, "person": p, "type": "posyandu", "date": date}),
        );
        let weight = 3.0 + (months + m as u64) as f64 * 0.2;
        push(
            &mut out,
            RecordId::new_v7(),
            EntityKind::Measurement,
            at + 1,
            Default::default(),
            json!({"posyandu": t.posyandu, "person": p, "visit": visit.to_string(), "type": "weight", "value": (weight * 10.0).round() / 10.0, "unit": "kg"}),
        );
        push(
            &mut out,
            RecordId::new_v7(),
            EntityKind::Measurement,
            at + 2,
            Default::default(),
            json!({"posyandu": t.posyandu, "person": p, "visit": visit.to_string(), "type": "length_height", "value": 50.0 + (months + m as u64) as f64, "unit": "cm", "position": if months < 24 { "lying" } else { "standing" }}),
        );
        if m == 1 && child.is_multiple_of(3) {
            push(
                &mut out,
                RecordId::new_v7(),
                EntityKind::Immunisation,
                at + 3,
                Default::default(),
                json!({"posyandu": t.posyandu, "person": p, "vaccine": "MR1", "date": date}),
            );
        }
        if m == 2 {
            let saw = sync_protocol::stamp::Stamp {
                hlc: Hlc {
                    wall_ms: made,
                    counter: 0,
                },
                device: t.device,
            };
            push(
                &mut out,
                person,
                EntityKind::Person,
                at + 4,
                [("name".to_string(), saw)].into_iter().collect(),
                json!({"name": format!("Anak Contoh {child}")}),
            );
        }
    }
    out
}

/// Fills the log with the history of `persons` children spread over the `kab` posyandu, as
/// the push logs changes (a `changes` row per change, a `records` row per record), straight
/// in SQL: month by month, posyandu after posyandu. Returns the changes written.
async fn fill_kabupaten(f: &Fixture, backend: &str, kab: &[Tablet], persons: usize) -> usize {
    let per = persons.div_ceil(kab.len().max(1)) as u64;
    let base_ms = now_ms() - 120 * 86_400_000;
    let mut seqs = vec![1u64; kab.len()];
    let mut written = 0;
    // One chunk of rows per posyandu: (posyandu, device, seq, payload) and (id, kind, posyandu).
    let mut log: Vec<(String, String, i64, String)> = Vec::new();
    let mut recs: Vec<(String, String, String)> = Vec::new();
    let (pg, _conn_task) = if backend == "postgres" {
        let (c, conn) = tokio_postgres::connect(&f.url, tokio_postgres::NoTls)
            .await
            .expect("connect");
        (Some(c), Some(tokio::spawn(conn)))
    } else {
        (None, None)
    };
    let mut lite = if backend == "sqlite" {
        let c = rusqlite::Connection::open(&f.url).expect("open");
        c.busy_timeout(Duration::from_secs(30)).expect("busy");
        Some(c)
    } else {
        None
    };
    for (i, t) in kab.iter().enumerate() {
        for k in 0..per {
            let child = i as u64 * per + k;
            if child >= persons as u64 {
                break;
            }
            for c in child_history(t, &mut seqs[i], child, base_ms + i as u64 * 1000) {
                if c.base.is_empty() {
                    recs.push((
                        c.id.to_string(),
                        c.kind.as_str().to_string(),
                        t.posyandu.clone(),
                    ));
                }
                log.push((
                    t.posyandu.clone(),
                    t.device.to_string(),
                    c.seq as i64,
                    serde_json::to_string(&c).expect("json"),
                ));
            }
        }
        if log.len() >= 20_000 || i + 1 == kab.len() {
            written += log.len();
            if let Some(c) = &pg {
                let now = now_ms() as i64;
                let places: Vec<&str> = log.iter().map(|r| r.0.as_str()).collect();
                let devs: Vec<&str> = log.iter().map(|r| r.1.as_str()).collect();
                let seqs: Vec<i64> = log.iter().map(|r| r.2).collect();
                let pls: Vec<&str> = log.iter().map(|r| r.3.as_str()).collect();
                c.execute(
                    "INSERT INTO changes (posyandu, device_id, seq, received_at, payload)
                     SELECT p, d, s, $5, pl FROM UNNEST($1::text[], $2::text[], $3::int8[], $4::text[])
                         WITH ORDINALITY AS t(p, d, s, pl, o) ORDER BY o",
                    &[&places, &devs, &seqs, &pls, &now],
                )
                .await
                .expect("fill changes");
                let ids: Vec<&str> = recs.iter().map(|r| r.0.as_str()).collect();
                let kinds: Vec<&str> = recs.iter().map(|r| r.1.as_str()).collect();
                let rplaces: Vec<&str> = recs.iter().map(|r| r.2.as_str()).collect();
                c.execute(
                    "INSERT INTO records (id, kind, posyandu)
                     SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[])",
                    &[&ids, &kinds, &rplaces],
                )
                .await
                .expect("fill records");
            }
            if let Some(c) = lite.as_mut() {
                let tx = c.transaction().expect("tx");
                {
                    let mut ins = tx
                        .prepare_cached(
                            "INSERT INTO changes (posyandu, device_id, seq, received_at, payload)
                             VALUES (?1, ?2, ?3, ?4, ?5)",
                        )
                        .expect("prepare");
                    let now = now_ms() as i64;
                    for r in &log {
                        ins.execute(rusqlite::params![r.0, r.1, r.2, now, r.3])
                            .expect("fill changes");
                    }
                    let mut ins = tx
                        .prepare_cached(
                            "INSERT INTO records (id, kind, posyandu) VALUES (?1, ?2, ?3)",
                        )
                        .expect("prepare");
                    for r in &recs {
                        ins.execute(rusqlite::params![r.0, r.1, r.2])
                            .expect("fill records");
                    }
                }
                tx.commit().expect("commit");
            }
            log.clear();
            recs.clear();
        }
    }
    written
}

/// The `/v1/reports` routes for Kabupaten Belu (`53.04`), with the parameters of the data
/// (the day's: dated 2025-11-22, children born 2023; the fill's: months 2025-06 to 2025-11):
/// each asked `runs` times in turn (the first computes the answer, the others may be served
/// from the report cache), then `cold_runs` times each right after a one-change push (so
/// computed afresh): p50/p95 of each series.
async fn reports(
    f: &Fixture,
    bearer: &str,
    runs: usize,
    cold_runs: usize,
    filler: Option<&fill::Filler>,
) {
    const KAB: &str = "53.04";
    let routes = [
        format!("/v1/reports/skdn?place={KAB}&month=2025-11"),
        format!("/v1/reports/nutrition?place={KAB}&from=2025-11-01&to=2025-11-30"),
        format!("/v1/reports/immunisation?place={KAB}&cohort=2023"),
        format!("/v1/reports/pregnancies?place={KAB}&month=2025-11"),
        format!("/v1/reports/followup?place={KAB}"),
        "/v1/reports/referrals".to_string(),
        "/v1/reports/tablets".to_string(),
    ];
    let ask = |path: String| async move {
        let started = Instant::now();
        let resp = f
            .http
            .get(format!("{}{path}", f.base))
            .header("Jangkau-Protocol", "1")
            .header("Authorization", bearer)
            .send()
            .await
            .expect("request");
        let status = resp.status().as_u16();
        let body = resp.bytes().await.expect("body");
        let took = started.elapsed();
        assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
        (took, body.len())
    };
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    for path in routes {
        let mut lat = Vec::with_capacity(runs);
        let mut bytes = 0;
        for _ in 0..runs.max(1) {
            let (d, n) = ask(path.clone()).await;
            lat.push(d);
            bytes = n;
        }
        let first = lat[0];
        lat.sort();
        println!(
            "report {path}: {} runs, p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms, first {:.1} ms ({bytes} bytes)",
            lat.len(),
            ms(percentile(&lat, 0.50)),
            ms(percentile(&lat, 0.95)),
            ms(lat.last().copied().unwrap_or_default()),
            ms(first),
        );
        let Some(filler) = filler.filter(|_| cold_runs > 0) else {
            continue;
        };
        // Old vs new on the same data: first each answer computed for the whole kabupaten
        // after the push (per-posyandu parts not kept), then from the kept parts (only the
        // pushed posyandu computed again).
        for (parts, label) in [(false, "whole place"), (true, "kept parts")] {
            district_server::readmodel::parts::set_enabled(parts);
            if parts {
                // The parts are made once (the first, cold computation).
                filler.touch(f.store.as_ref()).await;
                ask(path.clone()).await;
            }
            let mut cold = Vec::with_capacity(cold_runs);
            for _ in 0..cold_runs {
                filler.touch(f.store.as_ref()).await;
                cold.push(ask(path.clone()).await.0);
            }
            cold.sort();
            println!(
                "report {path} after a push ({label}): {} runs, p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
                cold.len(),
                ms(percentile(&cold, 0.50)),
                ms(percentile(&cold, 0.95)),
                ms(cold.last().copied().unwrap_or_default()),
            );
        }
    }
}

/// A browser session of the demo dinas admin (made directly in storage), as a cookie; and an
/// `ANALYZE` (fresh planner statistics, as autovacuum leaves them).
async fn dash_session(f: &Fixture) -> String {
    let dinas = f
        .store
        .user_by_username("dinas".into())
        .await
        .expect("user")
        .expect("the demo dinas admin");
    let token = "bench-web-session-token";
    let now = now_ms();
    district_server::web::store::create_session(
        f.store.as_ref(),
        &auth::hash_secret(token),
        dinas.id,
        "bench-csrf",
        now,
        now + 3_600_000,
    )
    .await
    .expect("web session");
    let started = Instant::now();
    f.store
        .web_exec("ANALYZE".into(), vec![])
        .await
        .expect("ANALYZE");
    println!(
        "dasbor: ANALYZE took {:.1} s",
        started.elapsed().as_secs_f64()
    );
    format!("{}={token}", district_server::web::session::COOKIE)
}

/// One dashboard page from `base`: (time to the last byte, status, gzipped, bytes).
async fn dash_get(
    f: &Fixture,
    base: &str,
    cookie: &str,
    path: &str,
) -> (Duration, u16, bool, usize) {
    let req = f
        .http
        .get(format!("{base}{path}"))
        .header("Accept-Encoding", "gzip")
        .header("Cookie", cookie.to_string());
    let started = Instant::now();
    let resp = req.send().await.expect("request");
    let status = resp.status().as_u16();
    let gz = resp
        .headers()
        .get("content-encoding")
        .is_some_and(|v| v == "gzip");
    let body = resp.bytes().await.expect("body");
    (started.elapsed(), status, gz, body.len())
}

/// The dashboard's pages of the whole kabupaten (`place=53.04&month=2025-11&cohort=2023`).
fn dash_pages() -> Vec<String> {
    district_server::web::layout::NAV
        .iter()
        .map(|(page, _, _)| format!("{page}?place=53.04&month=2025-11&cohort=2023"))
        .collect()
}

/// The web dashboard's pages for Kabupaten Belu as the demo dinas admin: with a fill, first
/// one view of each page as before the pages used the report parts (`parts::set_enabled(false)`:
/// every report computed for the whole place; the status is printed, a page past the request
/// timeout answers 503); then each page's first view with the parts (its questions not asked
/// before: cold), `runs` views in turn (p50/p95, page weight gzipped), and with a fill `runs`
/// views each right after a one-change push.
async fn dashboard(f: &Fixture, cookie: &str, runs: usize, filler: Option<&fill::Filler>) {
    let mut assets = 0;
    for a in ["/dasbor/aset/dasbor.css", "/dasbor/aset/dasbor.js"] {
        let (_, status, gz, n) = dash_get(f, &f.base, cookie, a).await;
        assert!(status == 200 && gz, "{a}");
        assets += n;
    }
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    if filler.is_some() {
        district_server::readmodel::parts::set_enabled(false);
        for path in dash_pages() {
            let (t, status, _, _) = dash_get(f, &f.base, cookie, &path).await;
            println!(
                "dasbor {path} (whole place, as before): {:.1} ms, status {status}",
                ms(t)
            );
        }
        district_server::readmodel::parts::set_enabled(true);
    }
    for path in dash_pages() {
        let (first, status, _, _) = dash_get(f, &f.base, cookie, &path).await;
        println!(
            "dasbor {path} first view (parts): {:.1} ms, status {status}",
            ms(first)
        );
        // The SKDN page's trend months not kept yet are computed in the background: wait
        // for them (so that they do not run under the timings below).
        let started = Instant::now();
        let mut waited = 0;
        while started.elapsed() < Duration::from_secs(900) {
            let html = f
                .http
                .get(format!("{}{path}", f.base))
                .header("Cookie", cookie.to_string())
                .send()
                .await
                .expect("request")
                .text()
                .await
                .expect("body");
            if !html.contains("trend-pending") {
                break;
            }
            waited += 1;
            tokio::time::sleep(Duration::from_secs(2)).await;
        }
        if waited > 0 {
            println!(
                "dasbor {path}: months computed in the background in {:.1} s",
                started.elapsed().as_secs_f64()
            );
        }
        let mut lat = Vec::with_capacity(runs);
        let mut bytes = 0;
        for _ in 0..runs.max(1) {
            let (t, status, gz, n) = dash_get(f, &f.base, cookie, &path).await;
            assert!(status == 200 && gz, "{path}: {status}");
            lat.push(t);
            bytes = n;
        }
        lat.sort();
        println!(
            "dasbor {path}: {} runs, p50 {:.1} ms, p95 {:.1} ms; first load {} bytes gzipped ({bytes} page + {assets} css/js)",
            lat.len(),
            ms(percentile(&lat, 0.50)),
            ms(percentile(&lat, 0.95)),
            bytes + assets,
        );
        let Some(filler) = filler else {
            continue;
        };
        let mut after = Vec::with_capacity(runs);
        for _ in 0..runs.max(1) {
            filler.touch(f.store.as_ref()).await;
            let (t, status, _, _) = dash_get(f, &f.base, cookie, &path).await;
            assert_eq!(status, 200, "{path}");
            after.push(t);
        }
        after.sort();
        println!(
            "dasbor {path} after a push: {} runs, p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
            after.len(),
            ms(percentile(&after, 0.50)),
            ms(percentile(&after, 0.95)),
            ms(after.last().copied().unwrap_or_default()),
        );
    }
}

/// Step 7 (with a fill): the server restarted on the same database, as main's server (no
/// warming: the first request computes the whole kabupaten) and as this one (the questions
/// asked before the restart, kept in `report_questions`, computed by `readmodel::warm`
/// before the requests): the time to warm, then the first request of each health report
/// route and each dashboard page.
async fn restart(f: &Fixture, bearer: &str, cookie: &str) {
    use district_server::readmodel::warm;
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    warm::persist_now(&f.reports.parts, f.store.as_ref())
        .await
        .expect("questions written");
    let routes = [
        "/v1/reports/skdn?place=53.04&month=2025-11",
        "/v1/reports/nutrition?place=53.04&from=2025-11-01&to=2025-11-30",
        "/v1/reports/immunisation?place=53.04&cohort=2023",
        "/v1/reports/pregnancies?place=53.04&month=2025-11",
        "/v1/reports/followup?place=53.04",
    ];
    for warmed in [false, true] {
        let label = if warmed {
            "warmed at start"
        } else {
            "not warmed, as main"
        };
        let srv = Srv::start(f.store.clone(), f.cfg.clone()).await;
        if warmed {
            let started = Instant::now();
            let qs = warm::stored(f.store.as_ref()).await.expect("stored");
            let n = warm::warm(&srv.reports.parts, f.store.as_ref(), &qs).await;
            println!(
                "restart: {n} of {} stored questions warmed in {:.1} s",
                qs.len(),
                started.elapsed().as_secs_f64()
            );
        }
        for path in routes {
            let started = Instant::now();
            let resp = f
                .http
                .get(format!("{}{path}", srv.base))
                .header("Jangkau-Protocol", "1")
                .header("Authorization", bearer)
                .send()
                .await
                .expect("request");
            let status = resp.status().as_u16();
            let n = resp.bytes().await.expect("body").len();
            println!(
                "report {path} first after a restart ({label}): {:.1} ms, status {status}, {n} bytes",
                ms(started.elapsed())
            );
        }
        if warmed {
            for path in dash_pages() {
                let (t, status, _, _) = dash_get(f, &srv.base, cookie, &path).await;
                println!(
                    "dasbor {path} first after a restart ({label}): {:.1} ms, status {status}",
                    ms(t)
                );
            }
        }
        srv.stop().await;
    }
}

/// Each tablet pulls one page of up to 2,000 changes of its posyandu (after its cursor, when
/// it has one), at most `sem` at a time: the changes received, the wall time in seconds, the
/// p50 and p99 request latency, and each tablet with the cursor it was given.
async fn pull_each(
    f: &Arc<Fixture>,
    sem: &Arc<Semaphore>,
    tablets: Vec<(Tablet, Option<String>)>,
) -> (
    usize,
    f64,
    Duration,
    Duration,
    Vec<(Tablet, Option<String>)>,
) {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (t, cursor) in tablets {
        let f = f.clone();
        let sem = sem.clone();
        tasks.push(tokio::spawn(async move {
            let _permit = sem.acquire_owned().await.expect("semaphore");
            let mut req = json!({"v":1,"limit":2000});
            if let Some(c) = &cursor {
                req["cursor"] = json!(c);
            }
            let (s, body, d) = post(
                &f,
                "/v1/sync/pull",
                &t.bearer,
                serde_json::to_vec(&req).expect("json"),
                false,
            )
            .await;
            assert_eq!(s, 200);
            let page: sync_protocol::PullResponse = serde_json::from_slice(&body).expect("page");
            (page.changes.len(), d, t, Some(page.cursor))
        }));
    }
    let mut n = 0;
    let mut lat = Vec::new();
    let mut out = Vec::new();
    for t in tasks {
        let (c, d, tablet, cursor) = t.await.expect("task");
        n += c;
        lat.push(d);
        out.push((tablet, cursor));
    }
    lat.sort();
    (
        n,
        started.elapsed().as_secs_f64(),
        percentile(&lat, 0.5),
        percentile(&lat, 0.99),
        out,
    )
}

/// CPU time (user + system) from `/proc` (Linux; zero elsewhere), for the push-cost figures.
mod cpu {
    use std::time::Duration;

    /// Clock ticks per second of `/proc/*/stat` (`USER_HZ`, 100 on Linux).
    const TICKS: u64 = 100;

    /// utime + stime of one `/proc/<pid>/stat` (fields 14 and 15, after the `(comm)`).
    fn stat(path: &str) -> Option<(String, Duration)> {
        let s = std::fs::read_to_string(path).ok()?;
        let open = s.find('(')?;
        let close = s.rfind(')')?;
        let comm = s.get(open + 1..close)?.to_string();
        let rest: Vec<&str> = s.get(close + 2..)?.split_whitespace().collect();
        let ticks = rest.get(11)?.parse::<u64>().ok()? + rest.get(12)?.parse::<u64>().ok()?;
        Some((comm, Duration::from_millis(ticks * 1000 / TICKS)))
    }

    /// This process's CPU time, every thread (exited ones too).
    pub fn process() -> Duration {
        stat("/proc/self/stat").map_or(Duration::ZERO, |(_, d)| d)
    }

    /// The CPU time of every live process named `postgres` (the PostgreSQL server's
    /// backends and its own processes, the WAL writer among them), without the backends of
    /// other databases than `db` when it is given (other benchmarks' and tests' scratch
    /// databases on the same server: the process title names the database).
    pub fn postgres(db: Option<&str>) -> Duration {
        let Ok(dir) = std::fs::read_dir("/proc") else {
            return Duration::ZERO;
        };
        dir.filter_map(Result::ok)
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .bytes()
                    .all(|b| b.is_ascii_digit())
            })
            .filter(|e| db.is_none_or(|db| !of_another_database(&e.path(), db)))
            .filter_map(|e| stat(&format!("{}/stat", e.path().display())))
            .filter(|(comm, _)| comm == "postgres")
            .map(|(_, d)| d)
            .sum()
    }

    /// Whether the process is a PostgreSQL backend (or autovacuum worker) of a database other
    /// than `db`: its title, `postgres: USER DB HOST(PORT) STATE`, does not name `db`.
    fn of_another_database(proc: &std::path::Path, db: &str) -> bool {
        let Ok(cmd) = std::fs::read(proc.join("cmdline")) else {
            return false;
        };
        let title = String::from_utf8_lossy(&cmd);
        let backend =
            title.contains('(') || title.contains("[local]") || title.contains("autovacuum worker");
        backend && !title.split_whitespace().any(|w| w == db)
    }
}

fn main() {
    let args = parse_args();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    println!(
        "sync_load: {} cores; ingest {} changes / {} devices; day {} devices x {} changes",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        args.ingest_changes,
        args.ingest_devices,
        args.devices,
        args.day
    );
    for backend in args.backends.clone() {
        rt.block_on(run_backend(backend, &args));
    }
}

/// Step 0 (`--report-persons N`): a kabupaten's read model for the reports, pushed through
/// the store (`Storage::push`, the push's own validation and merge; no HTTP) in batches of
/// 1,000. Places: 200 persons per posyandu, five posyandu per desa, the desa spread over the
/// demo's puskesmas; one bidan (scope: her desa) and one tablet per desa push it. Persons:
/// one in ten an under-five (born 2020-12 to 2025-05), the others born 1950–2019. Facts: each
/// under-five a posyandu visit with weight and length/height every month 2025-06 to 2025-11
/// (weights spread around the median, some low) and an MR1 in 2025-08; each other person a
/// visit with weight every month 2025-08 to 2025-11. About 10 changes per person
/// (200,000 persons ≈ 2.0 million changes). After the fill: `ANALYZE` (PostgreSQL).
mod fill {
    use super::*;
    use chrono::NaiveDate;
    use district_server::sync::PushContext;
    use sync_protocol::ClockPolicy;

    pub const PER_POSYANDU: usize = 200;
    pub const POSYANDU_PER_DESA: usize = 5;

    /// One desa's pusher.
    pub struct Filler {
        ctx: Arc<PushContext>,
        desa: String,
        posyandu: String,
        seq: std::sync::atomic::AtomicU64,
    }

    impl Filler {
        fn change(&self, kind: EntityKind, id: RecordId, body: serde_json::Value) -> Change {
            let seq = self.seq.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            Change {
                id,
                kind,
                device: self.ctx.device,
                seq,
                hlc: Hlc {
                    wall_ms: now_ms() - 7_200_000 + seq,
                    counter: 0,
                },
                author: self.ctx.user,
                schema: 1,
                tombstone: false,
                supersedes: None,
                base: Default::default(),
                body: body.as_object().cloned().unwrap_or_default(),
            }
        }

        /// Pushes one new person (moves the read model's generation, as any push does).
        pub async fn touch(&self, store: &dyn Storage) {
            let c = self.change(
                EntityKind::Person,
                RecordId::new_v7(),
                json!({"posyandu": self.posyandu, "name": "Warga Baru", "sex": "female", "birth_date": "1990-01-01"}),
            );
            let r = store.push(self.ctx.clone(), vec![c]).await.expect("push");
            assert!(
                r.outcomes
                    .iter()
                    .all(|o| o.status == sync_protocol::OutcomeStatus::Accepted)
            );
        }
    }

    /// The changes of posyandu number `pi` (`code`).
    fn posyandu_changes(f: &Filler, code: &str, pi: usize) -> Vec<Change> {
        let mut out = Vec::with_capacity(PER_POSYANDU * 11);
        let first = NaiveDate::from_ymd_opt(2020, 12, 1).expect("date");
        let adult0 = NaiveDate::from_ymd_opt(1950, 1, 1).expect("date");
        let session_day = 5 + (pi % 20) as u32;
        for j in 0..PER_POSYANDU {
            let g = (pi * PER_POSYANDU + j) as u64;
            let person = RecordId::new_v7();
            let p = person.to_string();
            let sex = if g.is_multiple_of(2) {
                "female"
            } else {
                "male"
            };
            let child = j % 10 == 0;
            let birth = if child {
                first + chrono::Days::new((g * 7919) % 1630)
            } else {
                adult0 + chrono::Days::new((g * 104_729) % 25_550)
            };
            out.push(f.change(
                EntityKind::Person,
                person,
                json!({"posyandu": code, "name": format!("Warga {pi} {j}"), "sex": sex,
                       "birth_date": birth.format("%Y-%m-%d").to_string()}),
            ));
            let months: Vec<u32> = if child {
                (6..=11).collect()
            } else {
                (8..=11).collect()
            };
            for m in months {
                let on = NaiveDate::from_ymd_opt(2025, m, session_day).expect("date");
                let date = on.format("%Y-%m-%d").to_string();
                let visit = RecordId::new_v7();
                out.push(f.change(
                    EntityKind::Visit,
                    visit,
                    json!({"posyandu": code, "person": p, "type": "posyandu", "date": date}),
                ));
                let age = (on - birth).num_days() as f64 / 30.4375;
                // Around the median, one in seven well below it.
                let low = if g.is_multiple_of(7) { 0.75 } else { 1.0 };
                let weight = if child {
                    (3.3 + age.min(60.0) * 0.22) * low
                } else {
                    45.0 + (g % 30) as f64
                };
                out.push(f.change(
                    EntityKind::Measurement,
                    RecordId::new_v7(),
                    json!({"posyandu": code, "person": p, "visit": visit.to_string(),
                           "type": "weight", "value": (weight * 10.0).round() / 10.0,
                           "unit": "kg", "date": date}),
                ));
                if child {
                    let height = 50.0 + age.min(60.0) * 0.9;
                    out.push(f.change(
                        EntityKind::Measurement,
                        RecordId::new_v7(),
                        json!({"posyandu": code, "person": p, "visit": visit.to_string(),
                               "type": "length_height", "value": (height * 10.0).round() / 10.0,
                               "unit": "cm", "position": if age < 24.0 { "lying" } else { "standing" },
                               "date": date}),
                    ));
                    if m == 8 {
                        out.push(f.change(
                            EntityKind::Immunisation,
                            RecordId::new_v7(),
                            json!({"posyandu": code, "person": p, "visit": visit.to_string(),
                                   "vaccine": "MR1", "date": date}),
                        ));
                    }
                }
            }
        }
        out
    }

    /// Fills the kabupaten with `persons` persons; returns a pusher for [`Filler::touch`].
    pub async fn kabupaten(store: &dyn Storage, persons: usize) -> Filler {
        let started = Instant::now();
        let posyandu_n = persons.div_ceil(PER_POSYANDU).max(1);
        let desa_n = posyandu_n.div_ceil(POSYANDU_PER_DESA);
        let puskesmas: Vec<String> = store
            .all_places()
            .await
            .expect("places")
            .into_iter()
            .filter(|p| p.level == PlaceLevel::Puskesmas)
            .map(|p| p.code)
            .collect();
        let mut places = Vec::new();
        let mut desa_codes = Vec::new();
        for d in 0..desa_n {
            let desa = format!("53.04.F{d:04}");
            places.push(Place {
                code: desa.clone(),
                name: format!("Desa Bench {d}"),
                level: PlaceLevel::Desa,
                parent: Some(puskesmas[d % puskesmas.len()].clone()),
            });
            let mine: Vec<usize> = (d * POSYANDU_PER_DESA..((d + 1) * POSYANDU_PER_DESA))
                .filter(|pi| *pi < posyandu_n)
                .collect();
            for pi in &mine {
                places.push(Place {
                    code: format!("{desa}.P{pi:04}"),
                    name: format!("Posyandu Bench {pi}"),
                    level: PlaceLevel::Posyandu,
                    parent: Some(desa.clone()),
                });
            }
            desa_codes.push((desa, mine));
        }
        store.import_places(places).await.expect("places");
        let hash = auth::hash_password("bench-secret", PasswordCost::TEST).expect("hash");
        let mut fillers = Vec::new();
        for (desa, mine) in desa_codes {
            let user = User {
                id: UserId::new_v7(),
                username: format!("bidan.{}", desa.replace('.', "_").to_lowercase()),
                display_name: "Bidan Bench".into(),
                role: Role::Bidan,
                scope: Scope {
                    level: PlaceLevel::Desa,
                    place: desa.clone(),
                },
                secret_hash: hash.clone(),
                disabled: false,
            };
            store.create_user(user.clone()).await.expect("user");
            let t = enrol_tablet(store, user.id, desa.clone()).await;
            let now = now_ms();
            let ctx = Arc::new(PushContext {
                device: t.device,
                user: user.id,
                role: Role::Bidan,
                scope_posyandu: store
                    .posyandu_under(desa.clone())
                    .await
                    .expect("under")
                    .into_iter()
                    .collect(),
                now_ms: now,
                today: district_server::model::today_for_validation(now),
                clock: ClockPolicy::default(),
            });
            let filler = Filler {
                ctx,
                posyandu: format!("{desa}.P{:04}", mine[0]),
                desa: desa.clone(),
                seq: std::sync::atomic::AtomicU64::new(0),
            };
            fillers.push((filler, mine));
        }
        let mut accepted = 0usize;
        let mut pushed = 0usize;
        let mut last_print = Instant::now();
        for (filler, mine) in &fillers {
            for pi in mine {
                let code = format!("{}.P{pi:04}", filler.desa);
                let changes = posyandu_changes(filler, &code, *pi);
                for batch in changes.chunks(1000) {
                    let r = store
                        .push(filler.ctx.clone(), batch.to_vec())
                        .await
                        .expect("push");
                    accepted += r
                        .outcomes
                        .iter()
                        .filter(|o| o.status == sync_protocol::OutcomeStatus::Accepted)
                        .count();
                    pushed += batch.len();
                }
            }
            if last_print.elapsed() > Duration::from_secs(30) {
                last_print = Instant::now();
                println!(
                    "fill: {accepted} of {pushed} changes accepted, {:.0} s",
                    started.elapsed().as_secs_f64()
                );
            }
        }
        assert_eq!(accepted, pushed, "every fill change accepted");
        let secs = started.elapsed().as_secs_f64();
        println!(
            "fill: {persons} persons in {posyandu_n} posyandu, {desa_n} desa: {accepted} changes in {secs:.1} s = {:.0} changes/s",
            accepted as f64 / secs
        );
        let started = Instant::now();
        match store.read_rows("ANALYZE".into(), vec![]).await {
            Ok(_) => println!("fill: ANALYZE in {:.1} s", started.elapsed().as_secs_f64()),
            Err(e) => println!("fill: ANALYZE not run ({e})"),
        }
        fillers.into_iter().next().expect("a desa").0
    }
}
