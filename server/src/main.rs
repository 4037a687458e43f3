//! `jangkau-server`: the district server and its admin commands.
#![forbid(unsafe_code)]

use clap::{Parser, Subcommand};
use district_server::admin;
use district_server::config::Config;
use district_server::model::{parse_role, role_str};
use district_server::{AppState, Storage};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// mimalloc instead of glibc's malloc: the server's allocations (a push's decoded bodies,
/// payloads, the follower's rows) were a sixth of its CPU samples (docs/BENCHMARKS.md,
/// twelfth pass, helper srv); built without transparent huge pages (`no_thp` in
/// `Cargo.toml`: their faults zero 2 MiB each, a third of an ingest's CPU; thirteenth pass,
/// helper srvcpu).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "jangkau-server", version, about = "Jangkau district server")]
struct Cli {
    /// A TOML configuration file; JANGKAU_DATABASE_URL and JANGKAU_LISTEN override it.
    #[arg(long, global = true, env = "JANGKAU_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the API (migrates first).
    Serve,
    /// Apply the database migrations.
    Migrate,
    /// Create the Belu demo district (places, demo accounts, and six months of generated
    /// posyandu history pushed by demo tablets) and print how to log in.
    /// Refused on a database that already holds real (non-demo) accounts, unless forced:
    /// the demo accounts share a published password.
    Demo {
        /// Add the demo district even next to real accounts.
        #[arg(long)]
        force: bool,
        /// Only places, accounts and codes: no generated history of posyandu days.
        #[arg(long)]
        no_history: bool,
    },
    /// Places of the district.
    Places {
        #[command(subcommand)]
        command: PlacesCommand,
    },
    /// User accounts.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Devices (tablets).
    Device {
        #[command(subcommand)]
        command: DeviceCommand,
    },
    /// Changes of the log: list, quarantine (stop serving) and release.
    Change {
        #[command(subcommand)]
        command: ChangeCommand,
    },
    /// Exports for other systems (e-PPGBM), read from the read model.
    Export {
        #[command(subcommand)]
        command: ExportCommand,
    },
    /// The SATUSEHAT submission worker (configured in `[satusehat]`; docs/fhir.md).
    Satusehat {
        #[command(subcommand)]
        command: SatusehatCommand,
    },
    /// Rebuild the read model (records and reports) from the change log, with progress on
    /// stderr. An interrupted rebuild goes on from where it stopped when run again.
    Reindex {
        /// Start again from the first change even when an interrupted rebuild could resume.
        #[arg(long)]
        fresh: bool,
        /// Changes merged per transaction.
        #[arg(long, default_value_t = district_server::readmodel::STEP_CHANGES)]
        batch: usize,
    },
}

#[derive(Subcommand)]
enum ExportCommand {
    /// The e-PPGBM by-name file of a month: one row per child under five weighed at or
    /// below the place, with e-PPGBM's columns. `.xlsx` or `.csv` (`;`, decimal comma).
    Eppgbm {
        /// A place code (a posyandu, desa, puskesmas, ... or the kabupaten).
        #[arg(long)]
        place: String,
        /// YYYY-MM
        #[arg(long)]
        month: String,
        /// FILE.xlsx or FILE.csv
        #[arg(long)]
        out: PathBuf,
    },
    /// FHIR R4 (SATUSEHAT profiles) of the visits, measurements and immunisations dated
    /// FROM..=TO at or below the place: one transaction Bundle (`--out`) and/or NDJSON, one
    /// file per resource type (`--ndjson DIR`). See docs/fhir.md.
    Fhir {
        #[arg(long)]
        place: String,
        /// YYYY-MM-DD
        #[arg(long)]
        from: String,
        /// YYYY-MM-DD
        #[arg(long)]
        to: String,
        /// The Bundle as JSON.
        #[arg(long, required_unless_present = "ndjson")]
        out: Option<PathBuf>,
        /// A directory for Patient.ndjson, Encounter.ndjson, ...
        #[arg(long)]
        ndjson: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum SatusehatCommand {
    /// Send what is new or changed now (one round), print what was done, and exit. Runs even
    /// when `enabled = false` (the settings must be complete).
    Send {
        /// One round (the only mode: `serve` runs the rounds in the background).
        #[arg(long)]
        once: bool,
    },
}

#[derive(Subcommand)]
enum ChangeCommand {
    /// Stop serving a change (kept in the log; logged; reversible with `release`). ID is a
    /// server sequence number from `change list` (1204 or s1204), or a record id (all its
    /// changes).
    Quarantine {
        id: String,
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Serve a quarantined change again.
    Release {
        id: String,
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// List changes, newest first.
    List {
        /// Only quarantined changes.
        #[arg(long)]
        quarantined: bool,
        /// Only changes too large to be served (over the pull page's byte limit).
        #[arg(long)]
        over_limit: bool,
        /// Only changes of at least this many bytes.
        #[arg(long, default_value_t = 0)]
        min_bytes: u64,
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
}

#[derive(Subcommand)]
enum PlacesCommand {
    /// Import a CSV with the header `code,name,level,parent`.
    Import { file: PathBuf },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Add a user. The password or PIN is read from JANGKAU_NEW_SECRET; else asked on the
    /// terminal without echo (twice); else read as one line from stdin (a pipe, for scripts).
    Add {
        #[arg(long)]
        username: String,
        #[arg(long)]
        name: String,
        /// kader, bidan, perawat, puskesmas_admin or dinas_admin
        #[arg(long)]
        role: String,
        /// The place code of the user's area.
        #[arg(long)]
        scope: String,
        /// The health worker's NIK (16 digits): names them as the Practitioner in SATUSEHAT.
        #[arg(long)]
        nik: Option<String>,
    },
    /// Set (or, with `--clear`, remove) a health worker's NIK (16 digits).
    Nik {
        username: String,
        nik: Option<String>,
        #[arg(long, conflicts_with = "nik")]
        clear: bool,
    },
    /// Disable a user: every session is refused from the next request.
    Disable { username: String },
    /// Enable a disabled user again (the user logs in again to sync).
    Enable { username: String },
    /// List users.
    List,
}

#[derive(Subcommand)]
enum DeviceCommand {
    /// Issue a one-time enrolment code for a user's tablet.
    Code {
        #[arg(long)]
        username: String,
    },
    /// List devices with their last sync and app version.
    List,
    /// Revoke a device (a lost tablet): refused from its next request.
    Revoke { id: String },
}

/// A new secret for an admin command: `JANGKAU_NEW_SECRET`; else, on a terminal, typed
/// twice without echo; else one line of stdin (a pipe from a script or a test).
fn read_secret(prompt: &str) -> Result<String, String> {
    use std::io::IsTerminal;
    if let Ok(s) = std::env::var("JANGKAU_NEW_SECRET")
        && !s.is_empty()
    {
        return Ok(s);
    }
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!("{prompt}: "))
            .map_err(|e| format!("cannot read the secret: {e}"))?;
        let again = rpassword::prompt_password("again, to confirm: ")
            .map_err(|e| format!("cannot read the secret: {e}"))?;
        if first != again {
            return Err("the two entries differ: nothing was changed".into());
        }
        return Ok(first);
    }
    eprintln!("{prompt} (one line from stdin):");
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the secret from stdin: {e}"))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

fn init_tracing(format: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("JANGKAU_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if format == "json" {
        builder.json().init();
    } else {
        builder.init();
    }
}

fn fmt_time(ms: Option<u64>) -> String {
    ms.and_then(|m| i64::try_from(m).ok())
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map_or_else(
            || "-".into(),
            |t| t.format("%Y-%m-%d %H:%M UTC").to_string(),
        )
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}

async fn run(cli: Cli) -> Result<(), String> {
    let cfg = Config::load(cli.config.as_deref()).map_err(|e| e.to_string())?;
    init_tracing(&cfg.log_format);
    let store: Arc<dyn Storage> = district_server::storage::open(cfg.database_url.expose())
        .await
        .map_err(|e| format!("cannot open the database {}: {e}", cfg.database_url))?;
    let ran = store.migrate().await.map_err(|e| e.to_string())?;
    match cli.command {
        Command::Migrate => {
            println!(
                "{ran} migration(s) applied; schema version {}",
                store.schema_version().await.map_err(|e| e.to_string())?
            );
        }
        Command::Serve => {
            let addr: std::net::SocketAddr = cfg
                .listen
                .parse()
                .map_err(|e| format!("listen address {:?}: {e}", cfg.listen))?;
            let grace = Duration::from_secs(cfg.shutdown_grace_s);
            let tls = cfg.tls.clone();
            // A log without a read model (or a rebuild cut short) is built before any answer.
            district_server::readmodel::ensure_current(store.as_ref())
                .await
                .map_err(|e| format!("cannot build the read model: {e}"))?;
            tracing::info!(backend = store.backend(), %addr, tls = tls.is_some(), database = %cfg.database_url, "serving");
            let (stop_worker, worker_stop) = tokio::sync::watch::channel(false);
            let worker = match cfg.satusehat.clone().filter(|s| s.enabled) {
                Some(s) => {
                    let client = district_server::satusehat::client::FhirClient::new(Arc::new(s))
                        .map_err(|e| e.to_string())?;
                    tracing::info!("SATUSEHAT submission worker on");
                    Some(district_server::satusehat::worker::spawn(
                        store.clone(),
                        client,
                        worker_stop,
                    ))
                }
                None => None,
            };
            let notes_store = store.clone();
            let state = AppState::new(store, cfg).map_err(|e| e.to_string())?;
            // The titip key pair is made at the first start (kept in the database).
            district_server::relay::server_keys(&state)
                .await
                .map_err(|e| format!("titip key: {e}"))?;
            // The health reports' parts of the questions asked before this start, computed
            // in the background (a request meanwhile gets a correct answer, computed or
            // waited for): `readmodel/warm.rs`.
            let warmer =
                district_server::readmodel::warm::spawn(state.store.clone(), state.reports.clone());
            let app = district_server::router(state);
            match tls {
                Some(tls) => {
                    let listener = std::net::TcpListener::bind(addr)
                        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
                    district_server::http::serve_tls(listener, &tls, app, shutdown_signal(), grace)
                        .await
                        .map_err(|e| format!("TLS server: {e}"))?;
                }
                None => {
                    let listener = tokio::net::TcpListener::bind(addr)
                        .await
                        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
                    district_server::http::serve_listener(listener, app, shutdown_signal(), grace)
                        .await
                        .map_err(|e| e.to_string())?;
                }
            }
            warmer.abort();
            // The devices' sync notes still in memory (readmodel::notes).
            if let Err(e) =
                district_server::readmodel::ReadModel::flush_device_sync(notes_store.as_ref()).await
            {
                tracing::warn!(error = %e, "device sync notes not written at shutdown");
            }
            // The worker's round in flight ends within the grace period, else is cut (its rows
            // are written as answers come, so the next start goes on from there).
            let _ = stop_worker.send(true);
            if let Some(mut w) = worker
                && tokio::time::timeout(grace, &mut w).await.is_err()
            {
                w.abort();
            }
        }
        Command::Satusehat {
            command: SatusehatCommand::Send { once: _ },
        } => {
            let s = cfg.satusehat.clone().ok_or_else(|| {
                "SATUSEHAT is not configured: add a [satusehat] table (docs/fhir.md)".to_string()
            })?;
            s.check()?;
            district_server::readmodel::ensure_current(store.as_ref())
                .await
                .map_err(|e| format!("cannot build the read model: {e}"))?;
            let client = district_server::satusehat::client::FhirClient::new(Arc::new(s))
                .map_err(|e| e.to_string())?;
            let summary = district_server::satusehat::worker::send_once(
                store.as_ref(),
                &client,
                district_server::model::now_ms(),
            )
            .await
            .map_err(|e| e.to_string())?;
            println!("{summary}");
        }
        Command::Reindex { fresh, batch } => {
            let started = std::time::Instant::now();
            let mut shown = std::time::Instant::now();
            let mut merged = 0usize;
            let (resumed, done) = district_server::readmodel::reindex(
                store.as_ref(),
                fresh,
                batch,
                |step| {
                    merged += step.merged;
                    if step.done || shown.elapsed() >= Duration::from_secs(1) {
                        shown = std::time::Instant::now();
                        let pct = if step.log_end > 0 {
                            step.cursor as f64 * 100.0 / step.log_end as f64
                        } else {
                            100.0
                        };
                        eprintln!(
                            "reindex: {merged} change(s) merged, at sseq {} of {} ({pct:.1} %), {:.1} s",
                            step.cursor,
                            step.log_end,
                            started.elapsed().as_secs_f64()
                        );
                    }
                },
            )
            .await
            .map_err(|e| format!("reindex: {e}"))?;
            println!(
                "read model {}: {} change(s) merged, {} skipped, through sseq {} in {:.1} s",
                if resumed {
                    "rebuild resumed and finished"
                } else {
                    "rebuilt"
                },
                done.merged,
                done.skipped,
                done.cursor,
                started.elapsed().as_secs_f64()
            );
        }
        Command::Demo { force, no_history } => {
            let real = admin::real_users(store.as_ref())
                .await
                .map_err(|e| e.to_string())?;
            if !real.is_empty() && !force {
                let shown: Vec<&str> = real.iter().take(5).map(String::as_str).collect();
                return Err(format!(
                    "this database already holds {} real account(s) ({}{}): the demo would add \
                     accounts with a published password next to them. Refused; use a new \
                     database, or `demo --force` if that is really wanted",
                    real.len(),
                    shown.join(", "),
                    if real.len() > shown.len() {
                        ", ..."
                    } else {
                        ""
                    }
                ));
            }
            let s = admin::demo(
                store.as_ref(),
                cfg.password_cost,
                cfg.enrol_code_ttl_hours,
                true,
            )
            .await
            .map_err(|e| e.to_string())?;
            print!("{}", admin::demo_instructions(&s, &cfg.listen));
            if !no_history {
                let started = std::time::Instant::now();
                let h = admin::demo_history(
                    store.as_ref(),
                    cfg.password_cost,
                    district_server::model::now_ms(),
                    district_server::demodata::SEED,
                )
                .await
                .map_err(|e| e.to_string())?;
                println!(
                    "\nDemo history: {} demo tablets pushed {} changes ({} refused) in {:.1} s; \
                     {} more accounts (same password): {}.",
                    h.tablets,
                    h.changes_accepted,
                    h.changes_rejected,
                    started.elapsed().as_secs_f64(),
                    h.users_created,
                    admin::DEMO_HISTORY_USERS
                        .iter()
                        .map(|u| u.0)
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
        }
        Command::Export {
            command: ExportCommand::Eppgbm { place, month, out },
        } => {
            let month = district_server::export::eppgbm::parse_month(&month)
                .ok_or_else(|| format!("--month {month:?}: expected YYYY-MM"))?;
            if store
                .place(place.clone())
                .await
                .map_err(|e| e.to_string())?
                .is_none()
            {
                return Err(format!("no place {place}"));
            }
            district_server::readmodel::ensure_current(store.as_ref())
                .await
                .map_err(|e| format!("cannot build the read model: {e}"))?;
            let rows = district_server::export::eppgbm::rows(store.as_ref(), &place, month)
                .await
                .map_err(|e| e.to_string())?;
            district_server::export::eppgbm::write_file(&rows, &out).map_err(|e| e.to_string())?;
            println!(
                "{} row(s) (children weighed in {}-{:02} at or below {place}) written to {}",
                rows.len(),
                month.year,
                month.month,
                out.display()
            );
        }
        Command::Export {
            command:
                ExportCommand::Fhir {
                    place,
                    from,
                    to,
                    out,
                    ndjson,
                },
        } => {
            use district_server::export::fhir;
            let day = |s: &str| {
                chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d")
                    .map_err(|_| format!("{s:?}: expected YYYY-MM-DD"))
            };
            let (from, to) = (day(&from)?, day(&to)?);
            if store
                .place(place.clone())
                .await
                .map_err(|e| e.to_string())?
                .is_none()
            {
                return Err(format!("no place {place}"));
            }
            district_server::readmodel::ensure_current(store.as_ref())
                .await
                .map_err(|e| format!("cannot build the read model: {e}"))?;
            let records = fhir::load(store.as_ref(), &place, from, to)
                .await
                .map_err(|e| e.to_string())?;
            let resources = fhir::resources(&records);
            if let Some(out) = &out {
                let b = fhir::bundle(&resources);
                let text = serde_json::to_string_pretty(&b).map_err(|e| e.to_string())?;
                std::fs::write(out, text)
                    .map_err(|e| format!("cannot write {}: {e}", out.display()))?;
                println!(
                    "{} resource(s) in a transaction Bundle: {}",
                    resources.len(),
                    out.display()
                );
            }
            if let Some(dir) = &ndjson {
                std::fs::create_dir_all(dir)
                    .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
                for (name, text) in fhir::ndjson(&resources) {
                    let path = dir.join(&name);
                    std::fs::write(&path, text)
                        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                    println!("{}", path.display());
                }
            }
        }
        Command::Places {
            command: PlacesCommand::Import { file },
        } => {
            let text = std::fs::read_to_string(&file)
                .map_err(|e| format!("cannot open {}: {e}", file.display()))?;
            // The optional `ilp_since` column too (district_server::web::admin).
            let n = district_server::web::admin::import_places_csv(store.as_ref(), &text)
                .await
                .map_err(|e| format!("{}: {e}", file.display()))?;
            println!("{n} place(s) imported");
        }
        Command::User { command } => match command {
            UserCommand::Add {
                username,
                name,
                role,
                scope,
                nik,
            } => {
                let nik = nik
                    .as_deref()
                    .map(admin::check_user_nik)
                    .transpose()
                    .map_err(|e| e.to_string())?;
                let role = parse_role(&role).ok_or_else(|| {
                    format!(
                        "unknown role {role:?}: kader, bidan, perawat, puskesmas_admin, dinas_admin"
                    )
                })?;
                let secret = read_secret(&format!("password or PIN for {username}"))?;
                let u = admin::add_user(
                    store.as_ref(),
                    &username,
                    &name,
                    role,
                    &scope,
                    &secret,
                    cfg.password_cost,
                )
                .await
                .map_err(|e| e.to_string())?;
                if let Some(nik) = &nik {
                    admin::set_user_nik(store.as_ref(), &u.username, Some(nik))
                        .await
                        .map_err(|e| e.to_string())?;
                }
                println!(
                    "user {} added: {} in {}",
                    u.username,
                    role_str(u.role),
                    u.scope.place
                );
            }
            UserCommand::Nik {
                username,
                nik,
                clear,
            } => {
                let nik = match (nik, clear) {
                    (Some(n), false) => Some(admin::check_user_nik(&n).map_err(|e| e.to_string())?),
                    (None, true) => None,
                    _ => return Err("give a NIK (16 digits) or --clear".into()),
                };
                admin::set_user_nik(store.as_ref(), &username, nik.as_deref())
                    .await
                    .map_err(|e| e.to_string())?;
                match nik {
                    Some(n) => println!("user {username}: NIK {n}"),
                    None => println!("user {username}: NIK removed"),
                }
            }
            UserCommand::Disable { username } => {
                let ok = store
                    .set_user_disabled(username.clone(), true, district_server::model::now_ms())
                    .await
                    .map_err(|e| e.to_string())?;
                if !ok {
                    return Err(format!("no user {username:?}"));
                }
                println!("user {username} disabled");
            }
            UserCommand::Enable { username } => {
                let ok = store
                    .set_user_disabled(username.clone(), false, district_server::model::now_ms())
                    .await
                    .map_err(|e| e.to_string())?;
                if !ok {
                    return Err(format!("no user {username:?}"));
                }
                println!("user {username} enabled");
            }
            UserCommand::List => {
                for u in store.list_users().await.map_err(|e| e.to_string())? {
                    println!(
                        "{:<20} {:<16} {:<20} {}{}",
                        u.username,
                        role_str(u.role),
                        u.scope.place,
                        u.display_name,
                        if u.disabled { " (disabled)" } else { "" }
                    );
                }
            }
        },
        Command::Change { command } => match command {
            ChangeCommand::Quarantine { id, reason } => {
                let done = district_server::quarantine::set(store.as_ref(), &id, true, &reason)
                    .await
                    .map_err(|e| e.to_string())?;
                println!("quarantined (no longer served): {}", join_sseqs(&done));
            }
            ChangeCommand::Release { id, reason } => {
                let done = district_server::quarantine::set(store.as_ref(), &id, false, &reason)
                    .await
                    .map_err(|e| e.to_string())?;
                println!("released (served again): {}", join_sseqs(&done));
            }
            ChangeCommand::List {
                quarantined,
                over_limit,
                min_bytes,
                limit,
            } => {
                let min_bytes = if over_limit {
                    min_bytes.max(cfg.pull_page_bytes as u64 + 1)
                } else {
                    min_bytes
                };
                let filter = district_server::storage::ChangeFilter {
                    quarantined_only: quarantined,
                    min_bytes,
                    limit,
                };
                let rows = district_server::quarantine::list(store.as_ref(), filter)
                    .await
                    .map_err(|e| e.to_string())?;
                print!("{}", district_server::quarantine::format_list(&rows));
            }
        },
        Command::Device { command } => match command {
            DeviceCommand::Code { username } => {
                let code =
                    admin::issue_enrol_code(store.as_ref(), &username, cfg.enrol_code_ttl_hours)
                        .await
                        .map_err(|e| e.to_string())?;
                println!("{code}");
                eprintln!(
                    "single use, valid {} h, for a tablet of {username}",
                    cfg.enrol_code_ttl_hours
                );
            }
            DeviceCommand::List => {
                println!(
                    "{:<36}  {:<24} {:<20} {:<20} {:<20} {:<12} {:>8}  status",
                    "id", "name", "last sync", "last seen", "last titip", "app", "acked"
                );
                for d in store.list_devices().await.map_err(|e| e.to_string())? {
                    println!(
                        "{:<36}  {:<24} {:<20} {:<20} {:<20} {:<12} {:>8}  {}",
                        d.id,
                        d.name.chars().take(24).collect::<String>(),
                        fmt_time(d.last_sync_at),
                        fmt_time(d.last_seen_at),
                        fmt_time(d.last_relay_at),
                        d.app_version.chars().take(12).collect::<String>(),
                        d.acked_seq,
                        if d.revoked_at.is_some() {
                            "revoked"
                        } else {
                            "active"
                        }
                    );
                }
            }
            DeviceCommand::Revoke { id } => {
                let id: sync_protocol::DeviceId = id
                    .parse()
                    .map_err(|_| format!("{id:?} is not a device id"))?;
                let ok = store
                    .revoke_device(id, district_server::model::now_ms())
                    .await
                    .map_err(|e| e.to_string())?;
                if !ok {
                    return Err(format!("no device {id}"));
                }
                println!("device {id} revoked");
            }
        },
    }
    Ok(())
}

fn join_sseqs(sseqs: &[i64]) -> String {
    sseqs
        .iter()
        .map(|n| format!("s{n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
