//! The background sync task. It lives while the tablet is unlocked, on its own store handle,
//! and runs field-core's sync: at unlock, when the webview reports it is back online, on a
//! timer (every 15 minutes; after failures sooner at first, then backing off), and on the
//! "Sinkronkan" button. Progress goes to the webview as `sync://progress` events, the end of
//! each run as `sync://finished` with the new [`SyncStatus`]. Locking stops it: a run cut off
//! is finished by the next one (every step of a run is safe to repeat).

use super::{AppCore, EventSink, events, lock};
use crate::error::AppError;
use crate::views::{RejectedChange, SyncStatus};
use field_core::Store;
use field_core::sync::{Backoff, SyncClient, SyncError};
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tauri::async_runtime::JoinHandle;
use tokio::sync::mpsc;
use zeroize::Zeroizing;

/// When background runs happen.
#[derive(Debug, Clone)]
pub struct SyncSchedule {
    /// Between runs while they succeed.
    pub interval: Duration,
    /// After `n` failed runs in a row, the next one waits `after_failure.next_delay(n - 1)`
    /// (never longer than `interval`).
    pub after_failure: Backoff,
}

impl Default for SyncSchedule {
    fn default() -> Self {
        Self {
            interval: Duration::from_secs(15 * 60),
            after_failure: Backoff {
                initial: Duration::from_secs(30),
                max: Duration::from_secs(15 * 60),
                jitter: 0.5,
                max_retries: u32::MAX,
            },
        }
    }
}

impl SyncSchedule {
    fn wait(&self, failures: u32) -> Duration {
        if failures == 0 {
            self.interval
        } else {
            self.after_failure
                .next_delay(failures - 1, None)
                .min(self.interval)
        }
    }
}

/// Why a run starts.
enum Trigger {
    /// The button (with the password when the session had ended), or the unlock.
    Now(Option<Zeroizing<String>>),
    /// The webview says it is online again.
    Online,
    Timer,
}

/// Shared between the task and the commands.
#[derive(Debug)]
pub(super) struct Flags {
    running: AtomicBool,
    online: AtomicBool,
}

struct Task {
    tx: mpsc::UnboundedSender<Trigger>,
    handle: JoinHandle<()>,
}

pub(super) struct SyncControl {
    pub(super) flags: Arc<Flags>,
    task: Mutex<Option<Task>>,
}

impl Default for SyncControl {
    fn default() -> Self {
        Self {
            flags: Arc::new(Flags {
                running: AtomicBool::new(false),
                online: AtomicBool::new(true),
            }),
            task: Mutex::new(None),
        }
    }
}

impl SyncControl {
    /// Starts the task for an unlocked store (a first run at once).
    pub(super) fn start(
        &self,
        store: Store,
        client: SyncClient,
        events: EventSink,
        schedule: SyncSchedule,
    ) {
        self.stop();
        let (tx, rx) = mpsc::unbounded_channel();
        let sink = events.clone();
        let client = client.on_event(move |e| {
            if let Ok(v) = serde_json::to_value(e) {
                sink(events::SYNC_PROGRESS, v);
            }
        });
        let flags = self.flags.clone();
        let handle =
            tauri::async_runtime::spawn(run_loop(store, client, rx, flags, events, schedule));
        *lock(&self.task) = Some(Task { tx, handle });
    }

    /// Stops the task (a run in progress is cut off; its committed steps stay).
    pub(super) fn stop(&self) {
        if let Some(t) = lock(&self.task).take() {
            t.handle.abort();
        }
        self.flags.running.store(false, Ordering::SeqCst);
    }

    fn send(&self, t: Trigger) {
        if let Some(task) = lock(&self.task).as_ref() {
            let _ = task.tx.send(t);
        }
    }

    fn running(&self) -> bool {
        self.flags.running.load(Ordering::SeqCst)
    }
}

async fn run_loop(
    mut store: Store,
    client: SyncClient,
    mut rx: mpsc::UnboundedReceiver<Trigger>,
    flags: Arc<Flags>,
    events: EventSink,
    schedule: SyncSchedule,
) {
    let mut failures: u32 = 0;
    let mut next = Some(Trigger::Now(None));
    loop {
        let trigger = match next.take() {
            Some(t) => t,
            None => tokio::select! {
                t = rx.recv() => match t {
                    Some(t) => t,
                    None => return,
                },
                () = tokio::time::sleep(schedule.wait(failures)) => Trigger::Timer,
            },
        };
        let secret = match trigger {
            Trigger::Now(s) => s,
            Trigger::Online | Trigger::Timer => None,
        };
        flags.running.store(true, Ordering::SeqCst);
        let result = client
            .sync(&mut store, secret.as_ref().map(|s| s.as_str()))
            .await;
        // The places come with every login; a tablet without those of this user's area
        // (enrolled by an older app, or the request failed at login) asks after a good run,
        // until they came.
        if result.is_ok()
            && !store.knows_scope_places().unwrap_or(true)
            && let Err(e) = client.refresh_places(&mut store).await
        {
            eprintln!("jangkau-app: places: {e}");
        }
        flags.running.store(false, Ordering::SeqCst);
        match &result {
            Ok(_) => failures = 0,
            // Another run (a background worker, the CLI) holds the lock: not a failure here.
            Err(SyncError::AlreadyRunning) => {}
            Err(e) => {
                failures = failures.saturating_add(1);
                eprintln!("jangkau-app: sync failed: {e}");
            }
        }
        // Triggers that came during the run were answered by it; a password given while a
        // run that needed one was going gets its own run.
        while let Ok(t) = rx.try_recv() {
            if let Trigger::Now(Some(s)) = t
                && matches!(result, Err(SyncError::LoginRequired))
            {
                next = Some(Trigger::Now(Some(s)));
            }
        }
        match status_of(&store, &flags) {
            Ok(status) => {
                if let Ok(v) = serde_json::to_value(&status) {
                    events(events::SYNC_FINISHED, v);
                }
            }
            Err(e) => eprintln!("jangkau-app: sync status: {e}"),
        }
    }
}

/// The sync status as the store and the task know it.
pub(super) fn status_of(store: &Store, flags: &Flags) -> Result<SyncStatus, AppError> {
    let st = store.sync_state()?;
    let counts = store.sync_counts()?;
    let last_key = st.last_error.as_ref().map(|(k, _)| k.as_str());
    let login_required = st.enrolled
        && st.revoked.is_none()
        && (st.session_expires_at.is_none()
            || last_key == Some(SyncError::LoginRequired.message_key()));
    // Titip: what this tablet carries for others until its next sync.
    let waiting_titip: Vec<_> = store
        .titip_carried()?
        .into_iter()
        .filter(|c| c.handed_ms.is_none() && c.refused.is_none())
        .collect();
    let tablets: std::collections::BTreeSet<&str> =
        waiting_titip.iter().map(|c| c.device.as_str()).collect();
    Ok(SyncStatus {
        titip_carrying: waiting_titip.len() as u64,
        titip_tablets: tablets.len() as u64,
        running: flags.running.load(Ordering::SeqCst),
        waiting: counts.pending,
        rejected: counts.rejected,
        open_conflicts: counts.open_conflicts,
        last_success_ms: st.last_success_ms,
        last_attempt_ms: st.last_attempt_ms,
        last_error: st
            .last_error
            .as_ref()
            .map(|(k, m)| AppError::from_saved(k, m)),
        revoked: st.revoked,
        login_required,
        online: flags.online.load(Ordering::SeqCst),
        utc_offset_minutes: store.utc_offset_minutes(),
    })
}

impl AppCore {
    pub fn sync_status(&self) -> Result<SyncStatus, AppError> {
        self.with_store(|s| status_of(s, &self.sync.flags))
    }

    /// Starts a run now, unless one is going. `password` lets the run log in again when the
    /// session has ended (`login_required`).
    pub fn sync_now(&self, password: Option<String>) -> Result<(), AppError> {
        if !self.is_unlocked() {
            return Err(AppError::app(crate::error::AppKey::Locked));
        }
        let password = password.filter(|p| !p.is_empty()).map(Zeroizing::new);
        if self.sync.running() && password.is_none() {
            return Ok(());
        }
        self.sync.send(Trigger::Now(password));
        Ok(())
    }

    /// The webview's connectivity hint. Back online: a run now (it confirms with the server).
    pub fn set_online(&self, online: bool) {
        let was = self.sync.flags.online.swap(online, Ordering::SeqCst);
        if online && !was {
            self.sync.send(Trigger::Online);
        }
    }

    /// Changes the server refused, kept on the tablet with the reason.
    pub fn rejected_changes(&self) -> Result<Vec<RejectedChange>, AppError> {
        self.with_store(|s| {
            Ok(s.rejected_changes()?
                .into_iter()
                .map(|(c, r)| RejectedChange {
                    record: c.id,
                    kind: c.kind,
                    reason: r.as_ref().map_or_else(
                        || AppError::from_saved("sync.error.unknown", ""),
                        AppError::rejection,
                    ),
                })
                .collect())
        })
    }
}
