//! One simulated tablet: enrolled through the real API with field-core's sync client, its
//! encrypted store in a temporary directory, and sync runs timed per phase from the client's
//! progress events.

use super::server::{PASSWORD, PIN};
use super::{Result, SimError};
use field_core::sync::{Enrolment, SyncClient, SyncConfig, SyncPhase, SyncReport};
use field_core::{KdfParams, OpenOptions, Store};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Argon2id parameters cheap enough to enrol hundreds of simulated tablets. Only for the
/// simulator: a real tablet uses [`KdfParams::TABLET`].
pub const SIM_KDF: KdfParams = KdfParams {
    m_kib: 64,
    t: 1,
    p: 1,
};

/// How a tablet is set up.
#[derive(Debug, Clone)]
pub struct DeviceSpec {
    pub username: String,
    /// Where the store lives (a temporary directory is made inside).
    pub dir: PathBuf,
    /// The PIN's Argon2id cost.
    pub kdf: KdfParams,
    /// Changes per push (`None`: field-core's default).
    pub push_batch: Option<usize>,
    /// Changes per pull page asked for (`None`: field-core's default).
    pub pull_limit: Option<u32>,
    /// The largest pull page (`None`: field-core's default; `Some(0)`: pages stay at
    /// `pull_limit`).
    pub pull_limit_max: Option<u32>,
    /// Ask for the next pull page while one is applied, and send the next push while an
    /// answer is recorded (field-core's default: yes).
    pub ahead: bool,
}

impl DeviceSpec {
    pub fn new(username: &str, dir: &Path) -> Self {
        Self {
            username: username.to_string(),
            dir: dir.to_path_buf(),
            kdf: SIM_KDF,
            push_batch: None,
            pull_limit: None,
            pull_limit_max: None,
            ahead: true,
        }
    }
}

/// Where the time of one sync run went, from the client's progress events.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct SyncTiming {
    /// The whole run.
    pub total: Duration,
    /// From the first push request to the end of the last one (outcomes recorded).
    pub push: Duration,
    /// From the first pull request to the last page applied.
    pub pull: Duration,
}

/// An enrolled tablet.
pub struct SimDevice {
    _dir: tempfile::TempDir,
    pub path: PathBuf,
    pub store: Store,
    pub client: SyncClient,
    pub username: String,
    events: Arc<Mutex<Vec<(Instant, SyncPhase)>>>,
}

impl SimDevice {
    /// Enrols a tablet at `server_url` (the server or a proxy in front of it) with `code`.
    pub async fn enrol(server_url: &str, code: &str, spec: &DeviceSpec) -> Result<SimDevice> {
        // `JANGKAU_SIM_KEEP_STORE=1`: the store's directory is left behind (to look into the
        // store afterwards, e.g. with field-core's `examples/page_map.rs`).
        let keep = std::env::var("JANGKAU_SIM_KEEP_STORE").is_ok_and(|v| v == "1");
        let dir = tempfile::Builder::new()
            .prefix("jangkau-sim-")
            .disable_cleanup(keep)
            .tempdir_in(&spec.dir)?;
        let path = dir.path().join("jangkau.db");
        let defaults = SyncConfig::default();
        let cfg = SyncConfig {
            app_version: "0.1.0-sim".into(),
            push_batch: spec.push_batch.unwrap_or(defaults.push_batch),
            pull_limit: spec.pull_limit.unwrap_or(defaults.pull_limit),
            pull_limit_max: spec.pull_limit_max.unwrap_or(defaults.pull_limit_max),
            pull_ahead: spec.ahead,
            push_ahead: spec.ahead,
            // `JANGKAU_SIM_SEAL_FIRST=1`: the enrolment waits for the PIN's seal before any
            // page is pulled, as before issue 19's eleventh pass (for comparisons).
            pull_while_sealing: !std::env::var("JANGKAU_SIM_SEAL_FIRST").is_ok_and(|v| v == "1"),
            request_timeout: Duration::from_secs(300),
            ..defaults
        };
        let events: Arc<Mutex<Vec<(Instant, SyncPhase)>>> = Arc::default();
        let sink = events.clone();
        let client = SyncClient::new(cfg).on_event(move |e| {
            if let Ok(mut v) = sink.lock() {
                v.push((Instant::now(), e.phase.clone()));
            }
        });
        let e = Enrolment {
            server_url: server_url.to_string(),
            code: code.to_string(),
            device_name: format!("Tablet simulasi {}", spec.username),
            username: spec.username.clone(),
            secret: PASSWORD.to_string().into(),
            pin: PIN.to_string().into(),
        };
        let store = client
            .enrol(&path, &e, OpenOptions::default().with_kdf(spec.kdf))
            .await?;
        Ok(SimDevice {
            _dir: dir,
            path,
            store,
            client,
            username: spec.username.clone(),
            events,
        })
    }

    /// One sync run, timed per phase.
    pub async fn sync(&mut self) -> Result<(SyncReport, SyncTiming)> {
        if let Ok(mut v) = self.events.lock() {
            v.clear();
        }
        let started = Instant::now();
        let report = self.client.sync(&mut self.store, Some(PASSWORD)).await?;
        let end = Instant::now();
        let events = self
            .events
            .lock()
            .map_err(|_| SimError::Check("event log poisoned".into()))?
            .clone();
        Ok((report, timing(started, end, &events)))
    }

    /// Changes waiting in the outbox.
    pub fn pending(&self) -> Result<u64> {
        Ok(self.store.sync_counts()?.pending)
    }
}

/// Splits a run into its push and pull phases by the first `Pushing` and `Pulling` events.
fn timing(started: Instant, end: Instant, events: &[(Instant, SyncPhase)]) -> SyncTiming {
    let first = |want: fn(&SyncPhase) -> bool| events.iter().find(|(_, p)| want(p)).map(|e| e.0);
    let push_start = first(|p| matches!(p, SyncPhase::Pushing));
    let pull_start = first(|p| matches!(p, SyncPhase::Pulling));
    let push = match push_start {
        Some(s) => pull_start.unwrap_or(end).saturating_duration_since(s),
        None => Duration::ZERO,
    };
    let pull = pull_start.map_or(Duration::ZERO, |s| end.saturating_duration_since(s));
    SyncTiming {
        total: end.saturating_duration_since(started),
        push,
        pull,
    }
}
